"""Desktop server latency beside the floor measured in the same run.

Floor = what a step cannot avoid on this machine: a raw screen grab, the image encode, an XTest
click, and an empty HTTP round trip on loopback. Each server figure is printed with its ratio to
the matching floor (target: a full step within 2x). Also shown: the stock WAA client's action path
(a Python interpreter per action through /execute), measured on the same server.

    .venv/bin/python bench/bench_server.py [--n 50]
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arena_gym.arena import LocalArena  # noqa: E402
from arena_gym.protocol import ArenaClient, SettleSpec  # noqa: E402
from bench.common import EmptyHTTPServer, Figure, measure, table  # noqa: E402

CLICK = "import pyautogui; pyautogui.click(640, 400)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50, help="samples per figure")
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))

    with LocalArena(apps=["xterm"], size=size) as arena:  # type: ignore[arg-type]
        os.environ["DISPLAY"] = arena.display or ""
        import pyautogui

        from arena_gym.server.capture import Screen, encode

        pyautogui.PAUSE = 0
        screen = Screen(cursor=True)
        image = screen.grab().image()
        grab = measure("raw grab (mss, cursor)", screen.grab, args.n)
        png = measure("PNG encode (level 1)", lambda: encode(image, "png"), args.n)
        jpeg = measure("JPEG encode (q80)", lambda: encode(image, "jpeg"), args.n)
        click = measure("XTest click (in-process)", lambda: pyautogui.click(640, 400), args.n)
        with EmptyHTTPServer() as empty, httpx.Client(base_url=empty.url) as raw:
            rtt = measure("empty HTTP round trip", lambda: raw.get("/"), args.n)

        floors = {
            "png": grab.median + png.median + rtt.median,
            "jpeg": grab.median + jpeg.median + rtt.median,
            "action": click.median + rtt.median,
        }
        floors["step_png"] = floors["png"] + click.median
        floors["step_raw"] = grab.median + click.median + rtt.median
        floors["step_jpeg"] = floors["jpeg"] + click.median

        with ArenaClient(arena.url, shared_frames=False) as vm, ArenaClient(arena.url) as local, \
                httpx.Client(base_url=arena.url, timeout=60) as http:
            vm.discover()
            local.discover()
            shot_png = measure("GET /screenshot (PNG)", lambda: http.get("/screenshot"), args.n)
            shot_jpeg = measure("GET /screenshot?format=jpeg", lambda: http.get("/screenshot?format=jpeg"), args.n)
            action = measure("POST /execute_windows (click)",
                             lambda: http.post("/execute_windows", json={"command": CLICK}), args.n)
            off = SettleSpec(timeout_s=0)
            step_png = measure("client.step PNG (1 round trip)", lambda: vm.step(CLICK, off, "png"), args.n)
            step_raw = measure("client.step, frame file (this machine)", lambda: local.step(CLICK, off), args.n)
            step_jpeg = measure("client.step JPEG (1 round trip)", lambda: vm.step(CLICK, off, "jpeg"), args.n)
            settled = measure("client.step JPEG + default settle",
                              lambda: vm.step(CLICK, SettleSpec(), "jpeg"), max(10, args.n // 5))
            stock_path = measure(
                "WAA client path: /execute python -c",
                lambda: http.post("/execute", json={"command": [
                    sys.executable, "-c", "import pyautogui; import time; pyautogui.FAILSAFE = False; " + CLICK],
                    "shell": False}),
                max(5, args.n // 10), warmup=1,
            )

    print(table([(grab, None), (png, None), (jpeg, None), (click, None), (rtt, None)], "floor parts"))
    print()
    rows: list[tuple[Figure, float | None]] = [
        (shot_png, floors["png"]), (shot_jpeg, floors["jpeg"]), (action, floors["action"]),
        (step_png, floors["step_png"]), (step_raw, floors["step_raw"]), (step_jpeg, floors["step_jpeg"]),
        (settled, floors["step_jpeg"]), (stock_path, floors["action"]),
    ]
    print(table(rows, f"desktop server at {args.size} (x floor = ratio to the matching floor)"))
    print()
    print("floors (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in floors.items()))


if __name__ == "__main__":
    main()
