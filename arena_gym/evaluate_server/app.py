"""The evaluate server: runs next to a VM (in WAA's container, port 5050), sets tasks up and scores them.

It accepts the stock request bodies and answers in the stock shapes (spec section 2), and scores
as WAA's own ``DesktopEnv.evaluate`` does (options passed, infeasible handled, postconfig run).
Added fields that stock clients ignore: ``reward_valid`` and ``kind`` (``valid``, ``infra`` or
``unscorable``), ``infra_error`` (a VM fault is not a 0), ``unscorable`` (why this VM or build cannot
score the task), ``details`` (per-metric scores).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ..evaluators import EvalContext, EvaluatorError, evaluate
from ..protocol import ArenaClient, Timeouts
from ..server.auth import TokenGuard
from ..server.guard import BodyTooLarge, BodyTooSlow, RequestGuard
from ..tasks.loader import TaskFormatError, examples_dir, parse_task
from ..tasks.models import Step
from ..tasks.setup import SetupError, SetupExecutor

log = logging.getLogger(__name__)


@dataclass
class EvaluateOptions:
    vm_url: str = "http://127.0.0.1:5000"
    task_roots: list[Path] = field(default_factory=list)
    cache_dir: Path | None = None
    platform: str | None = None  # "windows" | "linux"; asked of the VM when None
    # The VM browser's DevTools port as the container reaches it (WAA's VM: http://<vm ip>:9222); None:
    # through the VM's /execute.
    cdp_url: str | None = None
    token: str | None = None
    vm_token: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()


class EvaluateServer:
    def __init__(self, options: EvaluateOptions) -> None:
        self.options = options
        self.cache_dir = Path(options.cache_dir or tempfile.mkdtemp(prefix="arena-gym-eval-"))
        self.client = ArenaClient(options.vm_url, dialect="waa", token=options.vm_token, timeouts=Timeouts())
        # One task at a time on one VM: setup and scoring must not interleave.
        self.lock = threading.Lock()

    # ---- helpers
    def _find_task_file(self, task_id: str) -> Path | None:
        if "/" in task_id or "\\" in task_id or task_id.startswith("."):
            return None  # an id, never a path
        for root in self.options.task_roots:
            for path in examples_dir(root).glob(f"*/{task_id}.json"):
                return path
        return None

    async def _body(self, request: Request) -> Any:
        raw = await request.body()  # capped as it streams by the request guard (max_body_bytes)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Reject(400, {"error": f"body is not JSON: {exc}"}) from exc

    def _context(self, task_dir: Path | None) -> EvalContext:
        return EvalContext(self.client, self.cache_dir, platform=self.options.platform, task_dir=task_dir,
                           cdp_url=self.options.cdp_url)

    # ---- routes
    async def probe(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "evaluate_server"})

    async def task(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        path = self._find_task_file(task_id)
        if path is None:
            return JSONResponse({"error": f"Task {task_id} not found"}, 404)
        return JSONResponse(json.loads(path.read_text(encoding="utf-8-sig")))

    async def setup(self, request: Request) -> Response:
        body = await self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("config"), list):
            return JSONResponse({"status": "error", "error": 'expected {"config": [<step>, ...]}'}, 400)
        try:
            steps = [Step.model_validate(s) for s in body["config"]]
        except ValueError as exc:
            return JSONResponse({"status": "error", "error": f"bad step: {exc}"}, 422)

        # Extension: {"id": <task id>} lets relative asset paths resolve against that task's folder.
        path = self._find_task_file(str(body["id"])) if body.get("id") else None
        task_dir = path.parent if path else None

        def run() -> tuple[list[dict[str, Any]], str | None]:
            ctx = self._context(task_dir)
            with self.lock:
                executor = SetupExecutor(self.client, ctx.vm_platform(), ctx.fetcher, task_dir, ctx.cache_dir,
                                         ctx.browser)
                try:
                    outcomes = executor.run(steps, strict=False)
                except SetupError as exc:  # only raised for an unreachable VM when not strict
                    return [{"type": exc.step_type, "status": "error", "error": str(exc)}], str(exc)
            results = []
            for o in outcomes:
                item: dict[str, Any] = {"type": o.type, "status": o.status}
                if o.error:
                    item["error"] = o.error
                results.append(item)
            return results, None

        results, infra = await run_in_threadpool(run)
        failed = infra is not None or any(r["status"] == "error" for r in results)
        payload: dict[str, Any] = {"status": "error" if failed else "ok", "results": results}
        if infra:
            payload["infra_error"] = infra
        return JSONResponse(payload, 422 if failed else 200)

    async def evaluate(self, request: Request) -> Response:
        body = await self._body(request)
        if not body:
            return JSONResponse({"error": "No task config"}, 400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "task config must be a JSON object"}, 400)
        if not body.get("evaluator"):
            return JSONResponse({"success": False, "score": 0.0, "reason": "No evaluator config"})
        last_action = body.pop("agent_last_action", None)
        if isinstance(last_action, dict):
            last_action = last_action.get("action_type") or last_action.get("type")
        body.setdefault("instruction", "")
        body.setdefault("id", "unnamed")
        try:
            task = parse_task(body, f"task {body['id']}")
        except TaskFormatError as exc:
            return JSONResponse({"success": False, "score": 0.0, "reason": f"Error: {exc}"}, 400)
        path = self._find_task_file(str(body["id"]))
        task_dir = path.parent if path else None

        def run() -> Any:
            with self.lock:
                return evaluate(task, self._context(task_dir), last_action)

        try:
            outcome = await run_in_threadpool(run)
        except EvaluatorError as exc:
            return JSONResponse({"success": False, "score": 0.0, "reason": f"Error: {exc}"}, 400)
        except Exception as exc:
            log.exception("evaluate failed")
            return JSONResponse({"success": False, "score": 0.0, "reason": f"Error: {exc}",
                                 "traceback": traceback.format_exc()}, 500)
        reason = f"Score: {outcome.score:.2f}" if outcome.reward_valid else (outcome.infra_error or outcome.unscorable)
        return JSONResponse({
            "success": outcome.reward_valid and outcome.score >= 1.0, "score": outcome.score, "reason": reason,
            "details": outcome.details, "infra_error": outcome.infra_error, "unscorable": outcome.unscorable,
            "reward_valid": outcome.reward_valid, "kind": outcome.kind,
        })

    def routes(self) -> list[Route]:
        return [
            Route("/probe", _guard(self.probe), methods=["GET"]),
            Route("/task/{task_id}", _guard(self.task), methods=["GET"]),
            Route("/setup", _guard(self.setup), methods=["POST"]),
            Route("/evaluate", _guard(self.evaluate), methods=["POST"]),
        ]


class _Reject(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _guard(handler: Any) -> Any:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except _Reject as exc:
            return JSONResponse(exc.body, exc.status)
        except BodyTooLarge as exc:
            return JSONResponse({"error": str(exc)}, 408 if isinstance(exc, BodyTooSlow) else 413)
        except Exception as exc:  # keep serving whatever a request did
            log.exception("%s failed", request.url.path)
            return JSONResponse({"status": "error", "error": str(exc)}, 500)

    return wrapped


def create_app(options: EvaluateOptions) -> ASGIApp:
    server = EvaluateServer(options)
    app: ASGIApp = Starlette(routes=server.routes())
    if options.token:
        app = TokenGuard(app, options.token)
    # JSON only: what a web page could send (text/plain, forms, an Origin, a rebound Host) is refused.
    return RequestGuard(app, bound=options.host, allowed_hosts=options.allowed_hosts,
                        max_body=options.max_body_bytes, error_shape="plain")
