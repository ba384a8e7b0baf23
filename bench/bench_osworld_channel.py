"""An OSWorld-v0 step (a click, settle off, PNG screenshot) against an OSWorld guest server, with and
without its control channel, interleaved in one run on one desktop:

- the OSWorld-dialect double (tests/support/osworld_double.py), which answers as the real server does;
- the real OSWorld guest server (xlang-ai/osworld-server), when a checkout and its Python are given:

    .venv/bin/python bench/bench_osworld_channel.py [--n 30] \\
        [--osworld-server CHECKOUT --osworld-python VENV/bin/python]

"Without" is ``control_channel=False``: the action goes as ``python -c`` through ``/execute``, as OSWorld's
own client sends it. The step's time is the action plus the screenshot; ``action`` is the action alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import gymnasium as gym

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import arena_gym  # noqa: E402,F401
from arena_gym.arena import LocalArena  # noqa: E402
from arena_gym.processes import terminate_tree  # noqa: E402
from bench.bench_stock_exec import start_osworld  # noqa: E402
from bench.common import Figure, start_guest_server, table  # noqa: E402
from tests.support.sockets import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TASK = {"id": "bench-noop", "snapshot": "os", "instruction": "Nothing to do.",
        "config": [{"type": "execute", "parameters": {"command": ["true"]}}],
        "evaluator": {"func": "infeasible"}}


def start_double(arena: LocalArena) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, **arena.env, "PYTHONPATH": str(ROOT)}  # the arena's PATH: its python has pyautogui
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "tests.support.osworld_double", "--port", str(port)]
    return start_guest_server(argv, env, ROOT, url, "the OSWorld double"), url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--osworld-server", type=Path, help="a checkout of xlang-ai/osworld-server")
    parser.add_argument("--osworld-python", help="the Python of the OSWorld server's own virtualenv")
    args = parser.parse_args()
    if bool(args.osworld_server) != bool(args.osworld_python):
        parser.error("--osworld-server and --osworld-python go together")

    tasks = Path(tempfile.mkdtemp(prefix="bench-osworld-"))
    (tasks / "os").mkdir()
    (tasks / "os" / "bench-noop.json").write_text(json.dumps(TASK))
    servers: list[tuple[str, subprocess.Popen[bytes], str]] = []
    with LocalArena(apps=["xterm"]) as arena:
        try:
            proc, url = start_double(arena)
            servers.append(("double", proc, url))
            if args.osworld_server:
                proc, url = start_osworld(args.osworld_server, args.osworld_python, arena.display or "")
                servers.append(("OSWorld server", proc, url))
            envs = {}
            for name, _, url in servers:
                for channel in (True, False):
                    env = gym.make("OSWorld-v0", server_url=url, control_channel=channel, settle={"timeout_s": 0},
                                   tasks={"folder": str(tasks)}, close_windows_on_reset=False, max_steps=10_000,
                                   observation={"width": arena.size[0], "height": arena.size[1]})
                    env.reset(seed=0)
                    envs[f"{name}, {'control channel' if channel else 'python -c (without)'}"] = env
            steps: dict[str, list[float]] = {k: [] for k in envs}
            for i in range(args.n + 2):
                for name, env in envs.items():
                    x = 600 + (i % 2) * 40
                    _, _, _, _, info = env.step({"action_type": "CLICK", "x": x, "y": 400})
                    if "action_error" in info:
                        raise RuntimeError(f"{name}: {info['action_error']}")
                    if i >= 2:  # two warm-up rounds
                        steps[name].append(info["timings"]["step_ms"])
            for env in envs.values():
                env.close()
        finally:
            for _, proc, _ in servers:
                terminate_tree(proc)
    figures = {name: Figure(name, s) for name, s in steps.items()}
    for name, _, _ in servers:
        fast, slow = figures[f"{name}, control channel"], figures[f"{name}, python -c (without)"]
        print(table([(fast, slow.median), (slow, slow.median)], f"{name}: OSWorld-v0 click step (x = ratio to without)"))
        print(f"{name}: {slow.median:.1f} ms -> {fast.median:.1f} ms with the control channel "
              f"({slow.median / fast.median:.1f}x faster)\n")


if __name__ == "__main__":
    main()
