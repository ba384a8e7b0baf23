"""``arena-gym view``: render a recorded episode, or every episode of a run and its index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..viewer import Episode, episode_gif, episode_page, find_episodes, index_page


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="render a recorded episode (or a whole run) as HTML pages and GIFs")
    p.add_argument("path", type=Path, help="an episode folder (with steps.jsonl) or a run folder")
    p.add_argument("--no-gif", action="store_true", help="pages only")
    p.add_argument("--gif-width", type=int, default=640, help="GIF width in pixels (default: 640)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.path
    folders = find_episodes(path)
    if not folders:
        print(f"arena-gym view: no recorded episode (steps.jsonl) in {path}; give a run folder from runs/ "
              "or one of its episode folders", file=sys.stderr)
        return 1
    episodes = [Episode.read(folder) for folder in folders]
    for episode in episodes:
        page = episode_page(episode)
        gif = None if args.no_gif else episode_gif(episode, args.gif_width)
        print(f"{episode.path.name}: {page}" + (f"  {gif}" if gif else ""))
    if path not in folders:
        print(f"index: {index_page(path, episodes)}")
    return 0
