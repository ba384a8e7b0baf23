"""The coordinator between the env and the wire: connection, health, setup and scoring routes.

It owns the VM client, the evaluate-server client (when there is one), the local arena (when the
env started it) and an SSH tunnel (when asked), and the connection's health: it counts consecutive
infrastructure failures and, past ``max_consecutive_failures`` (or after a failed reset), reconnects
(healing a local arena) before the next episode. Errors it raises are the wire's typed errors; the env
turns them into truncations.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from ..evaluators import EvalContext, EvalOutcome, evaluate
from ..polling import PollTimeout, poll_until
from ..protocol import ArenaClient, ArenaError, AuthError, ServerError, StepResult, Unreachable
from ..protocol.evaluate import EvaluateClient
from ..tasks.models import Task
from ..tasks.setup import SetupError, SetupExecutor
from .config import EnvConfig

log = logging.getLogger(__name__)


class DesktopNotReady(ArenaError):
    """Reset's setup ran but the desktop never became ready (an infrastructure failure)."""


def _fold(title: str) -> str:
    return title.replace("\u2014", "-").replace("\u2013", "-").lower()


def expected_window(task: Task) -> str | None:
    """The window a task's setup leaves in front: its last ``activate_window``, else its last ``open``."""
    for step in reversed(task.config):
        if step.type == "activate_window":
            return str(step.parameters["window_name"])
        if step.type == "open":
            return str(step.parameters["path"]).replace("\\", "/").rsplit("/", 1)[-1]
    return None


class NotReachable(RuntimeError):
    """Nothing answered at the configured URLs on the first reset; the message says what to start."""


class WrongToken(NotReachable):
    """The server refused the env's token on the first reset; the message says how to give the right one."""


class Coordinator:
    def __init__(self, config: EnvConfig) -> None:
        self.config = config
        self.arena: Any = None
        self.tunnel: Any = None
        self.client: ArenaClient | None = None
        self.evaluator: EvaluateClient | None = None
        self.platform: str | None = config.platform
        self.ever_connected = False
        self.cache_dir = config.resolved_cache_dir()
        self.failures = 0  # consecutive infrastructure failures
        self.unhealthy = False  # reconnect before the next episode

    @property
    def vm(self) -> ArenaClient:
        """The VM's client; there is one from the first reset on."""
        if self.client is None:
            raise RuntimeError("not connected: reset() the env first")
        return self.client

    # ---- health
    def ready_for_episode(self) -> None:
        """Before a reset: connect the first time, reconnect when unhealthy, else a probe with the probe's
        short deadline (a stalled VM is found in seconds here, not by a setup call's long timeout)."""
        if self.client is None:
            self.connect()
        elif self.unhealthy:
            self.reconnect()
        else:
            self.client.probe()
        self.unhealthy = False

    def note_failure(self, episode_lost: bool = False) -> None:
        """An infrastructure failure; ``episode_lost`` (a failed reset) reconnects next time at once."""
        self.failures += 1
        if episode_lost or self.failures >= self.config.max_consecutive_failures:
            self.unhealthy = True

    def note_success(self) -> None:
        self.failures = 0

    # ---- connection
    def connect(self) -> None:
        """Open what is not open yet: tunnel, local arena, clients. Probes the VM server."""
        cfg = self.config
        server_url, evaluate_url = cfg.server_url, cfg.evaluate_url
        if cfg.tunnel and self.tunnel is None:
            from bridges.tunnel import SSHTunnel, TunnelConfig

            self.tunnel = SSHTunnel(TunnelConfig.from_dict(cfg.tunnel))
            self.tunnel.start()
        if cfg.local and self.arena is None:
            from ..arena import LocalArena

            # An arena the env starts is served with a random token that only this env knows (passed to
            # the server in its environment, never on a command line).
            options = {"apps": [], "token": secrets.token_urlsafe(18), **cfg.arena}
            self.arena = LocalArena(**options).start()
        if cfg.local:
            server_url = self.arena.url
            self.platform = "linux"
        if self.client is None:
            if server_url is None:
                raise NotReachable("no server_url: pass server_url=... (or set ARENA_SERVER_URL), "
                                   "or use gym.make('LocalDesktop-v0') for a local arena")
            token = self.arena.token if cfg.local and self.arena is not None else cfg.token
            self.client = ArenaClient(server_url, dialect=cfg.dialect, token=token, timeouts=cfg.timeouts,
                                      control_channel=cfg.control_channel)
        if evaluate_url and self.evaluator is None:
            self.evaluator = EvaluateClient(evaluate_url, token=cfg.token, timeouts=cfg.timeouts)
        try:
            self.client.probe()
            self.client.discover()
        except Unreachable as exc:
            if not self.ever_connected:
                raise NotReachable(self._guidance(server_url, exc)) from exc
            raise
        except AuthError as exc:
            if not self.ever_connected:  # the user's configuration, not the VM's health: say so at once
                raise WrongToken(
                    f"{server_url} refused this env's token ({exc.message}): pass the server's token as "
                    "token=... (or set ARENA_TOKEN)") from exc
            raise
        if self.platform is None:
            self.platform = EvalContext(self.client, self.cache_dir).vm_platform()
        self.ever_connected = True

    def _guidance(self, url: str | None, exc: Exception) -> str:
        return (
            f"nothing answers at {url} ({exc}). Start the VM's server and reach it: for a WAA VM on a remote host, "
            "`arena-bridge tunnel user@host -L 5000 -L 5051` (or ssh -N -L 5000:localhost:5000 -L 5051:localhost:5051 "
            "user@host) with `arena-bridge bridge --container <name>` on the host; or set ARENA_SERVER_URL and "
            "ARENA_EVALUATE_URL; or use gym.make('LocalDesktop-v0') for a local Linux arena."
        )

    def reconnect(self) -> None:
        """Drop the clients (and their pools) and connect again: after a VM restart, or repeated failures."""
        log.info("reconnecting to %s", self.config.server_url or "the local arena")
        self._close_clients()
        if self.arena is not None:
            from ..arena import ArenaStartError

            try:
                self.arena.heal()  # whatever of the arena died: display, window manager, server
            except ArenaStartError as exc:  # not healed this time: this reset truncates, the next tries again
                raise DesktopNotReady(f"the local arena could not restart what died: {exc}") from exc
        self.connect()

    def _close_clients(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.evaluator is not None:
            self.evaluator.close()
            self.evaluator = None

    def close(self) -> None:
        self._close_clients()
        if self.arena is not None:
            self.arena.stop()
            self.arena = None
        if self.tunnel is not None:
            self.tunnel.stop()
            self.tunnel = None

    # ---- episode pieces
    def _use_evaluate_server(self, mode: str) -> bool:
        if mode == "evaluate_server":
            if self.evaluator is None:
                raise ValueError("setup_via/score_via is evaluate_server, but no evaluate_url is configured")
            return True
        return mode == "auto" and self.evaluator is not None

    def _task_dir(self, task: Task) -> Path | None:
        return Path(task.path).parent if task.path else None

    def setup(self, task: Task) -> None:
        if self.config.close_windows_on_reset:
            self.vm.close_all()
        if self._use_evaluate_server(self.config.setup_via):
            assert self.evaluator is not None
            answer = self.evaluator.setup([s.model_dump() for s in task.config], task.task_id)
            if answer.get("status") != "ok":
                raise SetupError.from_answer(answer)
            return
        ctx = self.eval_context(task)
        SetupExecutor(self.vm, self.platform or "windows", ctx.fetcher, self._task_dir(task), ctx.cache_dir,
                      ctx.browser).run(task.config)

    def wait_for_expected_window(self, task: Task, timeout_s: float) -> None:
        """On a server without the readiness extension (a stock VM, where only the stock protocol reaches
        the desktop): wait until the window the setup opened or activated is listed. Raises
        ``DesktopNotReady`` when it never is; returns at once where the server cannot list windows."""
        caps = self.vm.capabilities
        if (caps is not None and caps.readiness) or timeout_s <= 0:
            return
        title = expected_window(task)
        if title is None:
            return
        want = _fold(title)
        seen: list[str] = []

        def listed() -> bool:
            seen[:] = self.vm.window_titles()
            return any(want in _fold(t) for t in seen)

        try:
            poll_until(listed, timeout_s, interval=0.25, what=f"window {title!r}")
        except ServerError:
            log.debug("%s lists no windows: readiness rests on the screen settle alone", self.config.server_url)
        except PollTimeout:
            raise DesktopNotReady(f"the window {title!r} that task {task.task_id}'s setup opens was not listed "
                                  f"within {timeout_s:g} s (windows: {seen[:5]})") from None

    def eval_context(self, task: Task) -> EvalContext:
        return EvalContext(self.vm, self.cache_dir, platform=self.platform, task_dir=self._task_dir(task),
                           mirrors=self.config.asset_mirrors, cdp_url=self.config.cdp_url)

    def score(self, task: Task, last_action: str | None) -> EvalOutcome:
        if self._use_evaluate_server(self.config.score_via):
            assert self.evaluator is not None
            body = task.model_dump(exclude={"task_id", "domain", "path", "oracle"}, exclude_none=True)
            return EvalOutcome.from_answer(self.evaluator.evaluate(body, last_action))
        return evaluate(task, self.eval_context(task), last_action)

    @property
    def acts_on_control_channel(self) -> bool:
        """Whether steps go to an OSWorld server that may take structured actions on its control channel
        (the env then also sends each action's OSWorld form)."""
        return self.config.control_channel and self.client is not None and self.client.dialect == "osworld"

    def step(self, code: str | None, wire: list[dict] | None = None) -> StepResult:
        obs = self.config.observation
        return self.vm.step(code, self.config.settle, obs.image_format, obs.jpeg_quality, wire)

    def observe(self, settle: Any) -> StepResult:
        obs = self.config.observation
        return self.vm.step(None, settle, obs.image_format, obs.jpeg_quality)

    def accessibility(self) -> str:
        return self.vm.accessibility()

    def cursor(self) -> tuple[int, int]:
        pos = self.vm.cursor_position()
        return int(pos[0]), int(pos[1])
