"""Reference trainer: Stable-Baselines3 PPO on the local arena through the SB3 face.

    python -m training.ppo_local --timesteps 4096 --tasks click-red click-blue

Each sub-env starts its own local arena (Xvfb, window manager, desktop server). Actions are
``MultiDiscrete`` (action type x click grid x key x text), observations a dict of arrays. The click grid's
grid fits the pixel tasks' layout (their squares sit on a screen lattice; each cell centre is a lattice
point), so every target is reachable, and their window is redrawn, not relaunched, at each reset.

What the learner sees is only what is a score: episodes an infrastructure failure cut short are left out
of every update (``training.valid_episodes``), and an episode the step limit ended is a scored end, not
a truncation to bootstrap past. The learning curve goes to ``--out``: SB3's logger (``progress.csv``) and
``curve.csv`` (one row per finished episode). The model is saved there too, then evaluated greedily.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

import arena_gym  # noqa: F401 - registers the ids
from arena_gym.rollout import run_episode
from arena_gym.wrappers import sb3_env

log = logging.getLogger(__name__)

# Clicking tasks need only pointer actions: a smaller action space learns in minutes on a CPU.
POINTER_TYPES = ("CLICK", "DONE")
# The targets window's squares sit on a 160-pixel screen lattice, 5 x 3 cells from the top left corner of a
# 1280x800 screen (arena_gym.apps.targets): a 5x3 grid over that region puts each click on a cell centre.
TARGETS_GRID = (5, 3)
TARGETS_REGION = (0.0, 0.0, 800 / 1280, 480 / 800)
FAST_SETTLE = {"timeout_s": 0.5, "stable_ms": 60}
FAST_RESET_SETTLE = {"timeout_s": 10, "stable_ms": 100}


def make_env(tasks: list[str], size: tuple[int, int], grid: tuple[int, int], max_steps: int,
             types: tuple[str, ...] = POINTER_TYPES, region: tuple[float, float, float, float] = TARGETS_REGION,
             inner: Callable[[gym.Env], gym.Env] | None = None, **env_kwargs: Any) -> gym.Env:
    """The SB3 face over a local arena (``inner`` wraps the env under that face). Windows stay open between
    episodes: the pixel tasks' setup redraws their window for the task instead of starting it again."""
    env = gym.make("LocalDesktop-v0", tasks={"ids": tasks}, max_steps=max_steps,
                   observation={"width": 320, "height": 200, "image_format": "jpeg"},
                   settle=FAST_SETTLE, reset_settle=FAST_RESET_SETTLE, close_windows_on_reset=False, **env_kwargs)
    if inner is not None:
        env = inner(env)
    return sb3_env(env, size=size, grid=grid, types=list(types), region=region)


def _callback(curve_path: Path) -> Any:
    from training.valid_episodes import ValidEpisodes

    class EpisodeStats(ValidEpisodes):
        """ValidEpisodes, plus the learning curve: each finished episode's score (or why it has none)."""

        def __init__(self) -> None:
            super().__init__()
            self.scores: list[float] = []
            self.infra = 0
            self._file = open(curve_path, "w", newline="")  # noqa: SIM115 - open for the whole run
            self._csv = csv.writer(self._file)
            self._csv.writerow(["episode", "timesteps", "task_id", "score", "valid", "mean_score_last20"])

        def _on_step(self) -> bool:
            for done, info in zip(self.locals["dones"], self.locals["infos"]):
                if not done:
                    continue
                valid = bool(info.get("reward_valid", True))
                if valid:
                    self.scores.append(float(info.get("score", 0.0)))
                else:
                    self.infra += 1
                    log.warning("episode cut short by infrastructure: %s", info.get("infra_error"))
                recent = self.scores[-20:]
                mean = sum(recent) / len(recent) if recent else float("nan")
                self._csv.writerow([len(self.scores) + self.infra, self.num_timesteps, info.get("task_id"),
                                    info.get("score", ""), valid, round(mean, 4)])
                self._file.flush()
                self.logger.record("arena/mean_score_last20", mean)
            self.logger.record("arena/infra_episodes", self.infra)
            return super()._on_step()

        def _on_training_end(self) -> None:
            self._file.close()

    return EpisodeStats()


def evaluate(model: Any, env: gym.Env, episodes: int, seed: int = 10_000) -> dict[str, Any]:
    """Greedy episodes; the mean over those that are scores, and how many were not."""
    def act(obs: Any, info: dict[str, Any]) -> Any:
        return model.predict(obs, deterministic=True)[0]

    results = [run_episode(env, act, seed=seed + i) for i in range(episodes)]
    scores = [r.reward for r in results if r.reward_valid]
    mean = sum(scores) / len(scores) if scores else float("nan")
    return {"episodes": episodes, "mean_score": mean, "infra_episodes": len(results) - len(scores)}


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def parse_wxh(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 8x5; got {text!r}") from None
    return w, h


def quiet_http_logs() -> None:
    """httpx logs each request at INFO: thousands of lines a minute in a training loop."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.ppo_local", description=__doc__, formatter_class=_Help)
    parser.add_argument("--timesteps", type=int, default=4096, help="environment steps to train for")
    parser.add_argument("--tasks", nargs="+", default=["click-red", "click-blue"], help="local task ids")
    parser.add_argument("--envs", type=int, default=1, help="sub-envs, each with its own arena (processes)")
    parser.add_argument("--max-steps", type=int, default=2, help="steps before the episode is scored")
    parser.add_argument("--grid", type=parse_wxh, default=TARGETS_GRID,
                        help="click grid, WxH, over the targets window's region (or the screen with --whole-screen)")
    parser.add_argument("--whole-screen", action="store_true", help="the click grid covers the whole screen")
    parser.add_argument("--obs-size", type=parse_wxh, default=(64, 40), help="screenshot size the policy sees, WxH")
    parser.add_argument("--n-steps", type=int, default=128, help="PPO rollout length per env")
    parser.add_argument("--eval-episodes", type=int, default=10, help="greedy episodes after training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/ppo_local"), help="model, curve and result")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_http_logs()
    try:
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.vec_env import SubprocVecEnv
    except ImportError:
        print("stable-baselines3 is missing: pip install 'arena-gym[training]'", file=sys.stderr)
        return 2

    def build() -> gym.Env:
        region = (0.0, 0.0, 1.0, 1.0) if args.whole_screen else TARGETS_REGION
        return make_env(args.tasks, args.obs_size, args.grid, args.max_steps, region=region)

    vec_cls = SubprocVecEnv if args.envs > 1 else None
    venv = make_vec_env(build, n_envs=args.envs, seed=args.seed, vec_env_cls=vec_cls)
    args.out.mkdir(parents=True, exist_ok=True)
    model, stats, elapsed = train(venv, args.timesteps, args.n_steps, args.seed, args.out)
    env = build()
    try:
        result = evaluate(model, env, args.eval_episodes)
    finally:
        env.close()
    result.update({"timesteps": model.num_timesteps, "train_s": round(elapsed, 1),
                   "train_episodes": len(stats.scores) + stats.infra, "train_infra_episodes": stats.infra,
                   "curve": str(args.out / "curve.csv")})
    (args.out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


def train(venv: Any, timesteps: int, n_steps: int, seed: int, out: Path, learning_rate: float = 1e-3,
          n_epochs: int = 4) -> tuple[Any, Any, float]:
    """PPO on ``venv`` with invalid episodes masked; SB3's log and the curve written to ``out``."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure

    from training.valid_episodes import ValidDictRolloutBuffer

    stats = _callback(out / "curve.csv")
    model = PPO("MultiInputPolicy", venv, n_steps=n_steps, batch_size=min(64, n_steps * venv.num_envs),
                n_epochs=n_epochs, learning_rate=learning_rate, ent_coef=0.01, seed=seed, device="cpu", verbose=0,
                rollout_buffer_class=ValidDictRolloutBuffer)
    model.set_logger(configure(str(out), ["stdout", "csv"]))
    t0 = time.perf_counter()
    try:
        model.learn(total_timesteps=timesteps, callback=stats, progress_bar=_has_progress_bar())
    finally:
        venv.close()
    elapsed = time.perf_counter() - t0
    model.save(out / "model")
    log.info("trained %d steps in %.0f s (%.1f steps/s); saved %s", model.num_timesteps, elapsed,
             model.num_timesteps / elapsed, out / "model.zip")
    return model, stats, elapsed


def _has_progress_bar() -> bool:
    try:
        import rich  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return sys.stderr.isatty()


if __name__ == "__main__":
    sys.exit(main())
