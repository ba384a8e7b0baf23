"""A window of coloured squares; clicking one records its colour. For pixel-level click tasks.

    python -m arena_gym.apps.targets --seed 3 --state ~/.local/share/arena-targets

Writes ``layout.json`` (each square's centre in screen coordinates, once the window is mapped) and
appends each clicked colour to ``clicks.txt`` in the state folder.

Squares sit on a screen lattice of ``--pitch`` pixels (centres at ``pitch/2 + k * pitch``), ``--size``
wide: with the defaults (160 and 100) every square holds a cell centre of the 8x5, 16x10 and 32x20 click
grids over a 1280x800 screen, so a discrete policy can reach every target.

Launched again while a window of it runs (same state folder), it does not start a second one: it clears
the clicks, asks the running window to lay itself out for the new seed, and exits. A task's reset then
costs a redraw, not an interpreter and a window.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
from pathlib import Path
from typing import Any

COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f77b4", "yellow": "#f5c518"}


def _running(state: Path) -> int | None:
    """The pid of a targets window serving ``state``, if one runs."""
    try:
        pid = int((state / "app.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if b"arena_gym.apps.targets" not in cmdline or pid == os.getpid():
        return None
    return pid


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    tmp.replace(path)


def lattice_cells(origin: tuple[int, int], extent: tuple[int, int], pitch: int, size: int) -> list[tuple[int, int]]:
    """Screen points ``pitch/2 + k * pitch`` where a ``size`` square fits inside the canvas."""
    (ox, oy), (w, h), half = origin, extent, size // 2

    def axis(start: int, length: int) -> list[int]:
        return [c for c in range(pitch // 2, start + length, pitch) if c - half >= start and c + half <= start + length]

    return [(x, y) for x in axis(ox, w) for y in axis(oy, h)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="places the squares (same seed, same layout)")
    parser.add_argument("--state", type=Path, default=Path.home() / ".local/share/arena-targets")
    parser.add_argument("--width", type=int, default=820)
    parser.add_argument("--height", type=int, default=520)
    parser.add_argument("--pitch", type=int, default=160, help="the screen lattice the squares sit on")
    parser.add_argument("--size", type=int, default=100, help="a square's side in pixels")
    args = parser.parse_args(argv)
    args.state.mkdir(parents=True, exist_ok=True)
    (args.state / "clicks.txt").write_text("")
    if _running(args.state) is not None:
        with contextlib.suppress(FileNotFoundError):
            (args.state / "layout.json").unlink()  # ready again only once the window has redrawn
        _replace(args.state / "request.json", json.dumps({"seed": args.seed}))
        return 0
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    import tkinter as tk

    (args.state / "app.pid").write_text(str(os.getpid()))
    root = tk.Tk()
    root.title("Targets")
    root.geometry(f"{args.width}x{args.height}+0+0")
    canvas = tk.Canvas(root, width=args.width, height=args.height, bg="white", highlightthickness=0)
    canvas.pack()
    layout: dict[str, Any] = {"seed": args.seed, "drawn": None}

    def record(name: str, _event: Any) -> None:
        with open(args.state / "clicks.txt", "a") as f:
            f.write(name + "\n")

    def draw() -> None:
        """Lay the squares out for the current seed on the screen lattice, then publish where they are."""
        canvas.delete("all")
        ox, oy = canvas.winfo_rootx(), canvas.winfo_rooty()
        cells = lattice_cells((ox, oy), (args.width, args.height), args.pitch, args.size)
        rng = random.Random(layout["seed"])
        places = {}
        half = args.size // 2
        for colour, (cx, cy) in zip(COLOURS, rng.sample(cells, min(len(COLOURS), len(cells)))):
            x, y = cx - ox - half, cy - oy - half
            item = canvas.create_rectangle(x, y, x + args.size, y + args.size, fill=COLOURS[colour], outline="")
            canvas.tag_bind(item, "<Button-1>", functools.partial(record, colour))
            places[colour] = [cx, cy]
        layout["drawn"] = (ox, oy, layout["seed"])
        root.update_idletasks()
        _replace(args.state / "layout.json", json.dumps(places))

    def watch() -> None:
        request = args.state / "request.json"
        try:
            layout["seed"] = json.loads(request.read_text())["seed"]
            request.unlink()
            layout["drawn"] = None  # redraw for the new seed (and publish) as soon as the window shows
            root.deiconify()
            root.lift()
        except (OSError, ValueError, KeyError):
            pass
        if root.winfo_ismapped() and layout["drawn"] != (canvas.winfo_rootx(), canvas.winfo_rooty(), layout["seed"]):
            draw()  # first shown, moved by the window manager, or a new seed: squares back on the lattice
        root.after(50, watch)

    root.after(100, watch)
    root.mainloop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
