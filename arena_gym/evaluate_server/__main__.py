"""``python -m arena_gym.evaluate_server``: serve /setup and /evaluate for one VM."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ..server.serve import BindRefused, bind, run_app
from .app import EvaluateOptions, create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arena_gym.evaluate_server", description=__doc__)
    parser.add_argument("--vm-url", default=os.environ.get("ARENA_VM_URL", "http://127.0.0.1:5000"),
                        help="the VM server this evaluates (default http://127.0.0.1:5000)")
    parser.add_argument("--tasks", action="append", default=[], type=Path,
                        help="task folder (examples/<domain>/<id>.json) for GET /task/<id>; repeatable")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    parser.add_argument("--token", default=os.environ.get("ARENA_TOKEN"), help="required to bind off loopback")
    parser.add_argument("--vm-token", default=os.environ.get("ARENA_VM_TOKEN"), help="token the VM server wants")
    parser.add_argument("--platform", choices=["windows", "linux"], default=None,
                        help="the VM's platform (default: ask the VM)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        sock = bind(args.host, args.port, args.token)
    except BindRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = EvaluateOptions(vm_url=args.vm_url, task_roots=args.tasks, cache_dir=args.cache_dir,
                              platform=args.platform, token=args.token, vm_token=args.vm_token)
    run_app(create_app(options), sock, args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
