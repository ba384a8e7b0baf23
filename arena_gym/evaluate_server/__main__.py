"""``python -m arena_gym.evaluate_server``: serve /setup and /evaluate for one VM."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ..server.serve import BindRefused, TokenFileError, bind, read_token, run_app
from .app import EvaluateOptions, create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arena_gym.evaluate_server", description=__doc__)
    parser.add_argument("--vm-url", default=os.environ.get("ARENA_VM_URL", "http://127.0.0.1:5000"),
                        help="the VM server this evaluates (default http://127.0.0.1:5000)")
    parser.add_argument("--tasks", action="append", default=[], type=Path,
                        help="task folder (examples/<domain>/<id>.json) for GET /task/<id>; repeatable")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    parser.add_argument("--token", default=None, help="required to bind off loopback (prefer --token-file or "
                        "$ARENA_TOKEN: a command line is visible to every user in ps)")
    parser.add_argument("--token-file", type=Path, default=None, help="read the token from this file")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a host name clients may use besides loopback names and the bound address (repeatable)")
    parser.add_argument("--vm-token", default=os.environ.get("ARENA_VM_TOKEN"), help="token the VM server wants")
    parser.add_argument("--platform", choices=["windows", "linux"], default=None,
                        help="the VM's platform (default: ask the VM)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--cdp-url", default=os.environ.get("ARENA_CDP_URL"),
                        help="the VM browser's DevTools port as reached from here (e.g. http://20.20.20.21:9222): "
                             "chrome_open_tabs, chrome_close_tabs and the tab getters (default: through the VM)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        token = read_token(args.token, args.token_file)
        sock = bind(args.host, args.port, token)
    except (BindRefused, TokenFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = EvaluateOptions(vm_url=args.vm_url, task_roots=args.tasks, cache_dir=args.cache_dir,
                              platform=args.platform, cdp_url=args.cdp_url, token=token, vm_token=args.vm_token,
                              host=args.host,
                              allowed_hosts=tuple(args.allowed_host))
    run_app(create_app(options), sock, args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
