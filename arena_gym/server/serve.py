"""Run the desktop server: bind (loopback unless a token is given), announce the URL, serve."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path

from ..loopback import is_loopback

log = logging.getLogger(__name__)


class BindRefused(ValueError):
    """Binding a non-loopback address without a token."""


class TokenFileError(ValueError):
    """The token file cannot be read, or is empty."""


def read_token(token: str | None, token_file: Path | None) -> str | None:
    """The token from ``--token``, else ``--token-file``, else ``$ARENA_TOKEN``; None when none is given."""
    if token:
        return token
    if token_file is not None:
        try:
            text = token_file.read_text().strip()
        except OSError as exc:
            raise TokenFileError(f"cannot read the token file {token_file}: {exc.strerror}") from None
        if not text:
            raise TokenFileError(f"the token file {token_file} is empty")
        return text
    return os.environ.get("ARENA_TOKEN") or None


def bind(host: str, port: int, token: str | None) -> socket.socket:
    if not is_loopback(host) and not token:
        raise BindRefused(
            f"refusing to bind {host}: any address but loopback needs a token "
            "(--token or ARENA_TOKEN), which every request must then carry"
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that say they are TCP, and
    # without it every answer sent in two writes waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run_app(app: object, sock: socket.socket, host: str, header_timeout_s: float = 10.0) -> None:
    """Announce the URL on stdout (one JSON line ``{"url", "pid"}``, once the socket listens, so a
    parent can wait for it instead of polling a port), then serve until interrupted."""
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    print(json.dumps({"url": f"http://{shown}:{sock.getsockname()[1]}", "pid": os.getpid()}), flush=True)
    from .slow_clients import guarded_protocol

    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_keep_alive=75, lifespan="off",  # type: ignore[arg-type]
        http=guarded_protocol(header_timeout_s),
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str = "127.0.0.1", port: int = 5000, token: str | None = None, header_timeout_s: float = 10.0,
          **options: object) -> None:
    """Serve the display named by ``$DISPLAY`` until interrupted."""
    from .app import ServerOptions, create_app

    sock = bind(host, port, token)
    run_app(create_app(ServerOptions(token=token, host=host, **options)), sock, host,  # type: ignore[arg-type]
            header_timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m arena_gym.server", description="Serve the WAA VM protocol on this X display ($DISPLAY)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port (0 picks a free one; default 5000)")
    parser.add_argument("--token", default=None, help="required to bind non-loopback (prefer --token-file or "
                        "$ARENA_TOKEN: a command line is visible to every user in ps)")
    parser.add_argument("--token-file", type=Path, default=None, help="read the token from this file")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a host name clients may use besides loopback names and the bound address (repeatable)")
    parser.add_argument("--max-upload-mb", type=int, default=512)
    parser.add_argument("--no-cursor", action="store_true", help="leave the cursor out of screenshots")
    parser.add_argument("--header-timeout", type=float, default=10.0, metavar="S",
                        help="close a connection whose request headers take longer than S seconds (default 10)")
    parser.add_argument("--body-timeout", type=float, default=30.0, metavar="S",
                        help="answer 408 to a request body that stalls for S seconds (default 30)")
    parser.add_argument("--action-timeout", type=float, default=60.0, metavar="S",
                        help="stop agent code still running after S seconds; the action fails (default 60)")
    parser.add_argument("--settle-source", choices=["damage", "frames"],
                        default=os.environ.get("ARENA_SETTLE_SOURCE", "damage"),
                        help="how the settle sees the screen change: the X server's damage events (default), or "
                             "grabbing and comparing frames ($ARENA_SETTLE_SOURCE)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not os.environ.get("DISPLAY"):
        print("error: DISPLAY is not set; start an X display or use `arena-gym up`", file=sys.stderr)
        return 2
    try:
        token = read_token(args.token, args.token_file)
        serve(args.host, args.port, token, max_upload_bytes=args.max_upload_mb * 1024 * 1024,
              cursor=not args.no_cursor, action_timeout_s=args.action_timeout, header_timeout_s=args.header_timeout,
              body_idle_s=args.body_timeout, settle_source=args.settle_source,
              allowed_hosts=tuple(args.allowed_host))
    except (BindRefused, TokenFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
