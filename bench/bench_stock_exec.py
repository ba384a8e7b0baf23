"""A stock client's action: ``POST /execute`` with ``python -c "import pyautogui; pyautogui.click(...)"``,
as WAA's and OSWorld's clients send it, on one desktop, interleaved in one run:

- our server, whose Pythons start light (pyscreeze without OpenCV, see arena_gym/server/light_python);
- our server with the light start undone (``env PYTHONPATH= python -c ...``): the before figure;
- the OSWorld guest server (xlang-ai/osworld-server) on the same display, when a checkout is given:

    .venv/bin/python bench/bench_stock_exec.py [--n 30] \\
        [--osworld-server CHECKOUT --osworld-python VENV/bin/python]

OSWorld's server needs its own virtualenv (flask, uvicorn, fastapi, websockets, pynput, pygame, lxml,
numpy, PyAutoGUI, python3-xlib) and runs ``python`` from it, as on its VMs; its screenshots need
``scrot`` (apt-get install scrot). Every server runs the same
command; pyautogui's default 0.1 s pause after a click is in every figure alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arena_gym.arena import LocalArena  # noqa: E402
from arena_gym.processes import terminate_tree  # noqa: E402
from bench.common import Figure, start_guest_server, table  # noqa: E402
from tests.support.sockets import free_port  # noqa: E402

CLICK = "import pyautogui; pyautogui.click(640, 400)"


def start_osworld(checkout: Path, python: str, display: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DISPLAY": display, "OSWORLD_SERVER_HOST": "127.0.0.1", "OSWORLD_SERVER_PORT": str(port),
           "PATH": os.pathsep.join([os.path.dirname(python), os.environ.get("PATH", "")])}
    env.pop("PYTHONPATH", None)
    url = f"http://127.0.0.1:{port}"
    return start_guest_server([python, "main.py"], env, checkout, url, "the OSWorld server"), url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--osworld-server", type=Path, help="a checkout of xlang-ai/osworld-server")
    parser.add_argument("--osworld-python", help="the Python of the OSWorld server's own virtualenv")
    args = parser.parse_args()
    if bool(args.osworld_server) != bool(args.osworld_python):
        parser.error("--osworld-server and --osworld-python go together")

    commands = {
        "ours: /execute python -c (light start)": ["python", "-c", CLICK],
        "ours: the same, light start undone (before)": ["env", "PYTHONPATH=", "python", "-c", CLICK],
    }
    with LocalArena(apps=["xterm"]) as arena:
        targets = {name: (arena.url, {"Authorization": f"Bearer {arena.token}"} if arena.token else {})
                   for name in commands}
        osworld = None
        if args.osworld_server:
            osworld, url = start_osworld(args.osworld_server, args.osworld_python, arena.display or "")
            commands["OSWorld server: /execute python -c"] = ["python", "-c", CLICK]
            targets["OSWorld server: /execute python -c"] = (url, {})
        try:
            samples: dict[str, list[float]] = {name: [] for name in commands}
            with httpx.Client(timeout=60) as http:
                for i in range(args.n + 2):
                    for name, command in commands.items():
                        url, headers = targets[name]
                        r = http.post(url + "/execute", json={"command": command, "shell": False}, headers=headers)
                        body = r.json()
                        if r.status_code != 200 or body.get("returncode") != 0:
                            raise RuntimeError(f"{name}: {r.status_code} {body}")
                        if i >= 2:  # two warm-up rounds
                            samples[name].append(r.elapsed.total_seconds() * 1000)
        finally:
            if osworld is not None:
                terminate_tree(osworld)
    figures = {name: Figure(name, s) for name, s in samples.items()}
    ours = figures["ours: /execute python -c (light start)"]
    print(table([(f, ours.median) for f in figures.values()], "a stock client's click (x = ratio to ours)"))
    before = figures["ours: the same, light start undone (before)"]
    print(f"\nlight start: {before.median:.0f} ms -> {ours.median:.0f} ms ({before.median / ours.median:.2f}x)")
    if "OSWorld server: /execute python -c" in figures:
        theirs = figures["OSWorld server: /execute python -c"]
        print(f"ours vs the OSWorld server: {ours.median:.0f} ms vs {theirs.median:.0f} ms "
              f"(ratio {ours.median / theirs.median:.2f})")


if __name__ == "__main__":
    main()
