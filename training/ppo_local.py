"""Reference trainer: Stable-Baselines3 PPO on the local arena through the SB3 face.

    python -m training.ppo_local --timesteps 2048 --tasks click-red click-blue --envs 2

Each sub-env starts its own local arena (Xvfb, window manager, desktop server). Actions are
``MultiDiscrete`` (action type x coordinate grid x key x text), observations a dict of arrays. Episodes cut
short by infrastructure failures (``info["reward_valid"] == False``) are counted and logged: their 0 reward
says nothing about the policy. The model is saved under ``--out``, then evaluated greedily.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

import arena_gym  # noqa: F401 - registers the ids
from arena_gym.rollout import run_episode
from arena_gym.wrappers import sb3_env

log = logging.getLogger(__name__)

# Clicking tasks need only pointer actions: a smaller action space learns in minutes on a CPU.
POINTER_TYPES = ("CLICK", "DONE")


def make_env(tasks: list[str], size: tuple[int, int], grid: tuple[int, int], max_steps: int,
             types: tuple[str, ...] = POINTER_TYPES) -> gym.Env:
    env = gym.make("LocalDesktop-v0", tasks={"ids": tasks}, max_steps=max_steps,
                   observation={"width": 320, "height": 200, "image_format": "jpeg"},
                   settle={"timeout_s": 0.5, "stable_ms": 60})
    return sb3_env(env, size=size, grid=grid, types=list(types))


def _callback() -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    class EpisodeStats(BaseCallback):
        """Counts finished episodes, their scores and the ones an infrastructure failure cut short."""

        def __init__(self) -> None:
            super().__init__()
            self.scores: list[float] = []
            self.infra = 0

        def _on_step(self) -> bool:
            for done, info in zip(self.locals["dones"], self.locals["infos"]):
                if not done:
                    continue
                if info.get("reward_valid", True):
                    self.scores.append(float(info.get("score", 0.0)))
                else:
                    self.infra += 1
                    log.warning("episode cut short by infrastructure: %s", info.get("infra_error"))
            if self.scores:
                recent = self.scores[-20:]
                self.logger.record("arena/mean_score_last20", sum(recent) / len(recent))
            self.logger.record("arena/infra_episodes", self.infra)
            return True

    return EpisodeStats()


def evaluate(model: Any, env: gym.Env, episodes: int) -> dict[str, float]:
    def act(obs: Any, info: dict[str, Any]) -> Any:
        return model.predict(obs, deterministic=True)[0]

    results = [run_episode(env, act, seed=10_000 + i) for i in range(episodes)]
    scores = [r.reward for r in results if r.reward_valid]
    mean = sum(scores) / len(scores) if scores else float("nan")
    return {"episodes": episodes, "mean_score": mean, "infra_episodes": len(results) - len(scores)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.ppo_local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=2048)
    parser.add_argument("--tasks", nargs="+", default=["click-red", "click-blue"], help="local task ids")
    parser.add_argument("--envs", type=int, default=1, help="sub-envs, each with its own arena (processes)")
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--grid", default="8x5", help="coordinate bins, WxH (default 8x5)")
    parser.add_argument("--obs-size", default="64x40", help="screenshot size the policy sees, WxH")
    parser.add_argument("--n-steps", type=int, default=128, help="PPO rollout length per env")
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/ppo_local"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        grid = tuple(int(v) for v in args.grid.lower().split("x"))
        size = tuple(int(v) for v in args.obs_size.lower().split("x"))
        assert len(grid) == 2 and len(size) == 2
    except (ValueError, AssertionError):
        parser.error("--grid and --obs-size take WxH, e.g. 8x5")
    try:
        from stable_baselines3 import PPO
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.vec_env import SubprocVecEnv
    except ImportError:
        print("stable-baselines3 is missing: pip install 'arena-gym[training]'", file=sys.stderr)
        return 2

    def build() -> gym.Env:
        return make_env(args.tasks, size, grid, args.max_steps)

    vec_cls = SubprocVecEnv if args.envs > 1 else None
    venv = make_vec_env(build, n_envs=args.envs, seed=args.seed, vec_env_cls=vec_cls)
    args.out.mkdir(parents=True, exist_ok=True)
    stats = _callback()
    model = PPO("MultiInputPolicy", venv, n_steps=args.n_steps, batch_size=min(64, args.n_steps * args.envs),
                n_epochs=4, seed=args.seed, device="cpu", verbose=0)
    t0 = time.perf_counter()
    try:
        model.learn(total_timesteps=args.timesteps, callback=stats, progress_bar=_has_progress_bar())
    finally:
        venv.close()
    elapsed = time.perf_counter() - t0
    model.save(args.out / "model")
    log.info("trained %d steps in %.0f s (%.1f steps/s); saved %s", model.num_timesteps, elapsed,
             model.num_timesteps / elapsed, args.out / "model.zip")

    env = build()
    try:
        result = evaluate(model, env, args.eval_episodes)
    finally:
        env.close()
    result.update({"timesteps": model.num_timesteps, "train_s": round(elapsed, 1),
                   "train_episodes": len(stats.scores) + stats.infra, "train_infra_episodes": stats.infra})
    (args.out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


def _has_progress_bar() -> bool:
    try:
        import rich  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return sys.stderr.isatty()


if __name__ == "__main__":
    sys.exit(main())
