"""``arena-gym up``: a local arena that stays up until Ctrl-C, and ``arena-gym serve``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from ..arena import ArenaStartError, LocalArena
from ..arena.profiles import PROFILES
from ..server.serve import TokenFileError, read_token


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size must look like 1280x800, got {text!r}") from exc
    return width, height


def add_parser(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser("up", help="start a local arena (Xvfb, window manager, apps, desktop server)")
    up.add_argument("--size", type=parse_size, default=(1280, 800), help="screen size (default 1280x800)")
    up.add_argument("--app", dest="apps", action="append", default=None,
                    help="program to start on the desktop (repeatable; default: xterm)")
    up.add_argument("--profile", choices=sorted(PROFILES), default="minimal",
                    help="app profile: minimal (default), or osworld: OSWorld's apps (bash scripts/setup.sh "
                         "--osworld installs them) and the home at /home/user, as OSWorld's tasks expect")
    up.add_argument("--host", default="127.0.0.1", help="server address (default 127.0.0.1)")
    up.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    up.add_argument("--token", default=None,
                    help="token every request must carry (required off loopback; --token-file keeps it out of ps)")
    up.add_argument("--token-file", type=Path, default=None, help="read the token from this file")
    up.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                    help="a host name clients may use besides loopback names and the bound address (repeatable)")
    up.set_defaults(func=run_up)

    serve = sub.add_parser("serve", help="serve the WAA protocol on an existing X display ($DISPLAY)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--token", default=None)
    serve.add_argument("--token-file", type=Path, default=None, help="read the token from this file")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME")
    serve.set_defaults(func=run_serve)


def run_up(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        token = read_token(args.token, args.token_file)
    except TokenFileError as exc:
        print(f"arena-gym up: {exc}", file=sys.stderr)
        return 2
    arena = LocalArena(size=args.size, apps=args.apps or ["xterm"], host=args.host, port=args.port,
                       token=token, allowed_hosts=args.allowed_host, profile=args.profile)
    try:
        arena.start()
    except ArenaStartError as exc:
        print(f"arena-gym up: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"arena {arena.id} up: DISPLAY={arena.display} url={arena.url} home={arena.home}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        stop.wait()
    finally:
        arena.stop()
        print("arena stopped.", flush=True)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from ..server.serve import main as serve_main

    argv = ["--host", args.host, "--port", str(args.port)]
    for name in args.allowed_host:
        argv += ["--allowed-host", name]
    if args.token:
        argv += ["--token", args.token]
    if args.token_file:
        argv += ["--token-file", str(args.token_file)]
    return serve_main(argv)
