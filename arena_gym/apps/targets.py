"""A window of coloured squares; clicking one records its colour. For pixel-level click tasks.

    python -m arena_gym.apps.targets --seed 3 --state ~/.local/share/arena-targets

Writes ``layout.json`` (each square's centre in screen coordinates, once the window is mapped) and
appends each clicked colour to ``clicks.txt`` in the state folder.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
from pathlib import Path

COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f77b4", "yellow": "#f5c518"}
SIZE = 60


def main(argv: list[str] | None = None) -> int:
    import tkinter as tk

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="places the squares (same seed, same layout)")
    parser.add_argument("--state", type=Path, default=Path.home() / ".local/share/arena-targets")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=420)
    args = parser.parse_args(argv)
    args.state.mkdir(parents=True, exist_ok=True)
    (args.state / "clicks.txt").write_text("")

    rng = random.Random(args.seed)
    root = tk.Tk()
    root.title("Targets")
    root.geometry(f"{args.width}x{args.height}+40+40")
    canvas = tk.Canvas(root, width=args.width, height=args.height, bg="white", highlightthickness=0)
    canvas.pack()
    places: dict[str, tuple[int, int]] = {}
    cells = [(c, r) for c in range(args.width // (SIZE + 20)) for r in range(args.height // (SIZE + 20))]
    for colour, (c, r) in zip(COLOURS, rng.sample(cells, len(COLOURS))):
        x, y = 10 + c * (SIZE + 20), 10 + r * (SIZE + 20)
        item = canvas.create_rectangle(x, y, x + SIZE, y + SIZE, fill=COLOURS[colour], outline="")
        canvas.tag_bind(item, "<Button-1>", functools.partial(lambda name, _event: record(name), colour))
        places[colour] = (x + SIZE // 2, y + SIZE // 2)

    def record(name: str) -> None:
        with open(args.state / "clicks.txt", "a") as f:
            f.write(name + "\n")

    def publish() -> None:
        ox, oy = canvas.winfo_rootx(), canvas.winfo_rooty()
        layout = {name: [ox + x, oy + y] for name, (x, y) in places.items()}
        tmp = args.state / "layout.json.part"
        tmp.write_text(json.dumps(layout))
        tmp.replace(args.state / "layout.json")

    root.after(300, publish)
    root.bind("<Configure>", lambda _e: root.after(50, publish))
    root.mainloop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
