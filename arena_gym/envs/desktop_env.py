"""``DesktopEnv``: a Gymnasium env over one desktop (a WAA VM, an OSWorld guest, or a local arena).

reset: pick a task, run its setup, settle, observe. step: act, settle, observe; on DONE, FAIL or the
step limit the task's evaluator runs once and its score is the reward. Infrastructure failures never
raise: the episode ends truncated with the last good observation, ``info["infra_error"]`` and
``info["reward_valid"] = False``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gymnasium as gym
import numpy as np
from PIL import Image

from .. import actions as A
from ..protocol import ActionFailed, ArenaError, Frame, SettleSpec, StepResult
from ..tasks.models import Task
from ..tasks.setup import SetupError
from .catalog import TaskCatalog
from .config import EnvConfig
from .coordinator import Coordinator, DesktopNotReady, NotReachable
from .spaces import AnyText, ComputerActionSpace

log = logging.getLogger(__name__)

INFRA_ERRORS = (ArenaError, SetupError, OSError)


class DesktopEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        super().__init__()
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.config = kwargs.pop("config", None) or EnvConfig.model_validate(kwargs)
        obs = self.config.observation
        spaces: dict[str, gym.Space] = {
            "screenshot": gym.spaces.Box(0, 255, (obs.height, obs.width, 3), np.uint8),
            "instruction": AnyText(obs.max_text),
            "last_action_error": AnyText(obs.max_text),
        }
        if obs.accessibility:
            spaces["accessibility"] = AnyText(obs.max_text)
        if obs.cursor:
            spaces["cursor"] = gym.spaces.Box(0, max(obs.width, obs.height), (2,), np.int32)
        self.observation_space = gym.spaces.Dict(spaces)
        # The pyautogui face takes any code string; the structured face its vocabulary's real actions.
        self.action_space = (AnyText(obs.max_text) if self.config.action_face == "pyautogui"
                             else ComputerActionSpace(obs.width, obs.height))
        self.coordinator = Coordinator(self.config)
        self.catalog = TaskCatalog(self.config.tasks, self.config.local)
        self.task: Task | None = None
        self._frame: np.ndarray | None = None  # last good screenshot at screen size
        self._obs: dict[str, Any] | None = None
        self._screen: tuple[int, int] = (obs.width, obs.height)
        self._steps = 0
        self._broken: str | None = None
        self._done = True

    # ---- gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        options = options or {}
        t0 = time.perf_counter()
        self._steps, self._broken, self._done = 0, None, False
        try:
            self.coordinator.ready_for_episode()
            platform = self.coordinator.platform
            task_id = options.get("task_id") or self.catalog.choose(self.np_random, platform, seed)
            fetch = self.coordinator.evaluator.task if self.coordinator.evaluator else None
            self.task = self.catalog.get(task_id, fetch)
            self.catalog.check(self.task, platform)
            self.coordinator.setup(self.task)
            settle = self._reset_settle()
            self.coordinator.wait_for_expected_window(self.task, settle.timeout_s)
            result = self.coordinator.observe(settle)
            if not result.stable and settle.timeout_s > 0:
                raise DesktopNotReady(
                    f"the desktop was not ready {settle.timeout_s:g} s after setting up task {self.task.task_id} "
                    "(the app in front kept busy, or the screen kept changing); raise reset_settle.timeout_s "
                    "if the VM is just slow")
        except NotReachable as exc:
            if self.config.unreachable_at_start == "raise":
                raise  # never connected: a configuration problem, said plainly
            return self._infra_reset(exc, t0)
        except INFRA_ERRORS as exc:
            return self._infra_reset(exc, t0)
        self.coordinator.note_success()
        obs = self._observe(result, error="")
        info = self._info(timings={"reset_ms": (time.perf_counter() - t0) * 1000, "settle_ms": result.settle_ms})
        return obs, info

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        if self._done:
            raise RuntimeError("step() after the episode ended: call reset() first")
        if self._broken is not None:
            self._done = True
            return self._last_obs(), 0.0, False, True, self._info(infra_error=self._broken, reward_valid=False)
        t0 = time.perf_counter()
        self._steps += 1
        try:
            kind, code, wire = self._translate(action)
        except A.InvalidAction as exc:
            # Not executed; the agent sees why. It still costs a step, so a loop of bad actions ends.
            obs = {**self._last_obs(), "last_action_error": f"invalid action: {exc}"}
            return self._after(obs, None, t0, invalid=str(exc))
        if kind in A.TERMINAL:
            return self._after(self._last_obs(), kind, t0)
        try:
            if kind == "WAIT":
                result = self.coordinator.observe(self._wait_settle())
            else:
                result = self.coordinator.step(code, wire)
        except ActionFailed as exc:
            obs = {**self._last_obs(), "last_action_error": exc.message}
            return self._after(obs, kind, t0, action_error=exc.message)
        except INFRA_ERRORS as exc:
            return self._infra_step(exc, t0)
        obs = self._observe(result, error="" if result.ok else (result.error or "action failed"))
        return self._after(obs, kind, t0, settle_ms=result.settle_ms, action_error=None if result.ok else result.error,
                           since_drawn_ms=result.timings.get("since_drawn_ms"))

    def reobserve(self) -> dict[str, Any]:
        """A fresh observation without acting, for a wrapper that changed the desktop from outside after
        reset (laid a window out anew). Infrastructure errors raise, as they do before an episode starts."""
        return self._observe(self.coordinator.observe(self._reset_settle()), error="")

    @property
    def task_ids(self) -> list[str]:
        """The ids ``reset`` draws from (its task selection, in order)."""
        return self.catalog.ids()

    @property
    def screen_size(self) -> tuple[int, int]:
        """The desktop's size in pixels (code actions are written in these; observations may be smaller)."""
        return self._screen

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._frame if self._frame is not None else np.zeros((*self._screen[::-1], 3), np.uint8)
        return None

    def close(self) -> None:
        self.coordinator.close()
        super().close()

    # ---- pieces
    def _translate(self, action: Any) -> tuple[str, str | None, list[dict] | None]:
        """(action type, pyautogui code, OSWorld action dicts or None) from either face; raises InvalidAction."""
        if self.config.action_face == "pyautogui":
            bare = A.bare_type(action)
            if bare:
                return bare, None, None
            return "CODE", A.check_code(action, self.config.code_policy), None
        parsed = A.parse_action(action)
        obs = self.config.observation
        scale = (self._screen[0] / obs.width, self._screen[1] / obs.height)
        code = A.to_code(parsed, scale)
        wire = A.to_wire(parsed, scale) if self.coordinator.acts_on_control_channel else None
        return parsed.action_type, A.with_import(code) if code else None, wire

    def _after(self, obs: dict, kind: str | None, t0: float, invalid: str | None = None,
               action_error: str | None = None, settle_ms: float = 0.0,
               since_drawn_ms: float | None = None) -> tuple[dict, float, bool, bool, dict]:
        terminated = kind in A.TERMINAL
        truncated = not terminated and self._steps >= self.config.max_steps
        reward, extra = 0.0, dict[str, Any]()
        if terminated or truncated:
            reward, extra = self._score(kind if terminated else None)
            self._done = True
        timings = {"step_ms": (time.perf_counter() - t0) * 1000, "settle_ms": settle_ms, **extra.pop("timings", {})}
        if since_drawn_ms is not None:  # how long the screen had been still when the frame was taken
            timings["since_drawn_ms"] = since_drawn_ms
        info = self._info(timings=timings, **extra)
        if invalid:
            info["invalid_action"] = invalid
        if action_error:
            info["action_error"] = action_error
        if extra.get("infra_error"):
            truncated, terminated = True, False
        self._obs = obs
        return obs, reward, terminated, truncated, info

    def _score(self, last_action: str | None) -> tuple[float, dict[str, Any]]:
        assert self.task is not None
        t0 = time.perf_counter()
        try:
            outcome = self.coordinator.score(self.task, last_action)
        except INFRA_ERRORS as exc:
            self.coordinator.note_failure()
            return 0.0, {"infra_error": f"scoring: {exc}", "reward_valid": False,
                         "timings": {"eval_ms": (time.perf_counter() - t0) * 1000}}
        score = outcome.score
        if self.config.reward_mode == "binary":
            score = 1.0 if score >= 1.0 else 0.0
        extra: dict[str, Any] = {
            "score": outcome.score, "eval": {"details": outcome.details, "reason": outcome.reason},
            "reward_valid": outcome.reward_valid, "timings": {"eval_ms": (time.perf_counter() - t0) * 1000},
        }
        if outcome.infra_error:
            extra["infra_error"] = outcome.infra_error
            self.coordinator.note_failure()
            return 0.0, extra
        if outcome.unscorable:
            extra["unscorable"] = outcome.unscorable
            return 0.0, extra
        return score, extra

    def _reset_settle(self) -> SettleSpec:
        return self.config.reset_settle

    def _wait_settle(self) -> SettleSpec:
        return self.config.settle.model_copy(update={"fixed_wait_s": self.config.wait_action_s})

    def _observe(self, result: StepResult, error: str) -> dict[str, Any]:
        frame: Frame = result.frame
        self._frame = frame.array
        self._screen = frame.size
        obs = self.config.observation
        image = frame.array
        if frame.size != (obs.width, obs.height):
            image = np.asarray(Image.fromarray(image).resize((obs.width, obs.height), Image.Resampling.BILINEAR))
        out: dict[str, Any] = {
            "screenshot": image,
            "instruction": self.task.instruction if self.task else "",
            "last_action_error": error,
        }
        if obs.accessibility:
            try:
                out["accessibility"] = self.coordinator.accessibility()[: obs.max_text]
            except ArenaError as exc:
                out["accessibility"] = ""
                log.info("accessibility tree unavailable: %s", exc)
        if obs.cursor:
            try:
                x, y = self.coordinator.cursor()
                sx, sy = obs.width / self._screen[0], obs.height / self._screen[1]
                out["cursor"] = np.array([round(x * sx), round(y * sy)], np.int32)
            except ArenaError:
                out["cursor"] = np.zeros(2, np.int32)
        self._obs = out
        return out

    def _last_obs(self) -> dict[str, Any]:
        if self._obs is not None:
            # New arrays each call: callers keep observations, and one must not alias the next.
            return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self._obs.items()}
        obs = self.config.observation
        blank: dict[str, Any] = {
            "screenshot": np.zeros((obs.height, obs.width, 3), np.uint8),
            "instruction": self.task.instruction if self.task else "",
            "last_action_error": "",
        }
        if obs.accessibility:
            blank["accessibility"] = ""
        if obs.cursor:
            blank["cursor"] = np.zeros(2, np.int32)
        return blank

    def _infra_reset(self, exc: BaseException, t0: float) -> tuple[dict, dict]:
        log.warning("reset failed (infrastructure): %s", exc)
        self.coordinator.note_failure(episode_lost=True)  # a failed reset always reconnects next time
        self._broken = f"{type(exc).__name__}: {exc}"
        obs = self._last_obs()
        return obs, self._info(infra_error=self._broken, reward_valid=False,
                               timings={"reset_ms": (time.perf_counter() - t0) * 1000})

    def _infra_step(self, exc: BaseException, t0: float) -> tuple[dict, float, bool, bool, dict]:
        log.warning("step failed (infrastructure): %s", exc)
        self.coordinator.note_failure()
        self._done = True
        info = self._info(infra_error=f"{type(exc).__name__}: {exc}", reward_valid=False,
                          timings={"step_ms": (time.perf_counter() - t0) * 1000})
        return self._last_obs(), 0.0, False, True, info

    def _info(self, **extra: Any) -> dict[str, Any]:
        info: dict[str, Any] = {
            "task_id": self.task.task_id if self.task else None,
            "domain": self.task.domain if self.task else None,
            "step": self._steps,
            "reward_valid": True,
        }
        info.update(extra)
        return info


def desktop(env: gym.Env) -> DesktopEnv:
    """The ``DesktopEnv`` under any wrappers (its catalog, backend and task), or a TypeError saying what it is."""
    inner = env.unwrapped
    if not isinstance(inner, DesktopEnv):
        raise TypeError(f"{type(inner).__name__} is not an arena-gym DesktopEnv")
    return inner
