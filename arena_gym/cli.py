"""``arena-gym``: start a local arena, serve a display, and (as they land) tasks, runs and views."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from . import __version__
from .commands import check_tasks, run, tasks, up, view

# Each command module offers ``add_parser(subparsers)`` and sets ``func`` on its parser.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    up.add_parser, run.add_parser, tasks.add_parser, check_tasks.add_parser, view.add_parser,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arena-gym", description=__doc__)
    parser.add_argument("--version", action="version", version=f"arena-gym {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
