"""Does the reference trainer learn? PPO against a random policy on the pixel tasks, with seeds.

    python -m training.learnability                          # fixed layouts: ~10 minutes on 2 cores
    python -m training.learnability --variant seeded-layout  # layouts drawn per episode: harder
    python -m training.learnability --smoke                  # a minute: the pipeline runs end to end

Per task it prints the share of ``--episodes`` solved by a random policy and by the trained policy acting
greedily, and the seeds used, as JSON; it exits 1 when the trained policy solves less than ``--target`` of
some task or the random one more than ``--random-ceiling`` (not with ``--smoke``, which only runs it).

Fixed layouts: each task draws its squares from the seed in its task file, so the policy has to learn
where the target of each instruction is. ``seeded-layout``: the squares are laid out anew every episode
from a layout seed (training draws from ``--train-layouts`` seeds, evaluation uses others it never saw),
so the policy has to find the colour on the screen.
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

from arena_gym.envs.desktop_env import desktop
from arena_gym.polling import poll_until
from training.ppo_local import POINTER_TYPES, TARGETS_GRID, _Help, make_env, quiet_http_logs, train

log = logging.getLogger("training.learnability")
EVAL_SEED = 50_000


class SeededLayout(gym.Wrapper):
    """Lays the targets window out anew after each reset, from a seed drawn from ``layouts``."""

    STATE = ".local/share/arena-targets"

    def __init__(self, env: gym.Env, layouts: list[int]) -> None:
        super().__init__(env)
        self.layouts = layouts
        self.layout: int | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        if info.get("infra_error"):
            return obs, info
        inner = desktop(self.env)
        self.layout = int(self.layouts[int(inner.np_random.integers(len(self.layouts)))])
        vm = inner.coordinator.vm
        vm.execute(["sh", "-c", f'rm -f "$HOME/{self.STATE}/layout.json"'])
        vm.execute(["python", "-m", "arena_gym.apps.targets", "--seed", str(self.layout)])
        poll_until(lambda: vm.execute(["sh", "-c", f'test -s "$HOME/{self.STATE}/layout.json" && echo y']).output.strip(),
                   10, what="the new layout")
        return inner.reobserve(), {**info, "layout_seed": self.layout}


def solved_share(env: gym.Env, act: Any, task: str, episodes: int, seed: int) -> float:
    solved = 0
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i, options={"task_id": task})
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(act(obs))
            done = terminated or truncated
        if not info.get("reward_valid", True):
            raise RuntimeError(f"an evaluation episode was not scored: {info.get('infra_error') or info.get('unscorable')}")
        solved += float(reward) >= 1.0
    return solved / episodes


def build(args: argparse.Namespace, layouts: list[int] | None) -> gym.Env:
    # One step: a click (on a cell of the grid that fits the targets window) or DONE, then the score.
    relayout = None if layouts is None else (lambda env: SeededLayout(env, layouts))
    return make_env(args.tasks, (64, 40), TARGETS_GRID, max_steps=1, types=POINTER_TYPES, inner=relayout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.learnability", description=__doc__, formatter_class=_Help)
    parser.add_argument("--variant", choices=["fixed-layout", "seeded-layout"], default="fixed-layout")
    parser.add_argument("--tasks", nargs="+", default=["click-red", "click-blue"])
    parser.add_argument("--timesteps", type=int, default=768, help="PPO training steps (one action, one episode each)")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--epochs", type=int, default=10, help="PPO epochs over each rollout of 64 episodes")
    parser.add_argument("--episodes", type=int, default=20, help="evaluation episodes per task and policy")
    parser.add_argument("--train-layouts", type=int, default=50, help="seeded-layout: layout seeds to train on")
    parser.add_argument("--target", type=float, default=0.9, help="the trained policy's share to reach")
    parser.add_argument("--random-ceiling", type=float, default=0.1, help="the random policy's share to stay under")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the pipeline")
    parser.add_argument("--out", type=Path, default=Path("runs/learnability"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.timesteps, args.episodes = 64, 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_http_logs()
    from stable_baselines3.common.env_util import make_vec_env

    seeded = args.variant == "seeded-layout"
    train_layouts = list(range(args.train_layouts)) if seeded else None
    eval_layouts = list(range(EVAL_SEED, EVAL_SEED + 1000)) if seeded else None
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    env = build(args, eval_layouts)
    try:
        space = env.action_space
        space.seed(args.seed)
        random_share = {t: solved_share(env, lambda _obs: space.sample(), t, args.episodes, EVAL_SEED) for t in args.tasks}
        log.info("random policy: %s", random_share)
    finally:
        env.close()
    venv = make_vec_env(lambda: build(args, train_layouts), n_envs=1, seed=args.seed)
    model, stats, train_s = train(venv, args.timesteps, n_steps=64, seed=args.seed, out=args.out,
                                  learning_rate=args.learning_rate, n_epochs=args.epochs)
    env = build(args, eval_layouts)
    try:
        trained_share = {t: solved_share(env, lambda obs: model.predict(obs, deterministic=True)[0], t,
                                         args.episodes, EVAL_SEED) for t in args.tasks}
    finally:
        env.close()
    result = {
        "variant": args.variant, "timesteps": model.num_timesteps, "train_s": round(train_s, 1),
        "total_s": round(time.perf_counter() - t0, 1), "train_infra_episodes": stats.infra,
        "per_task": {t: {"random": random_share[t], "trained": trained_share[t]} for t in args.tasks},
        "seeds": {"ppo": args.seed, "random_actions": args.seed, "evaluation_resets": [EVAL_SEED, EVAL_SEED + args.episodes - 1],
                  **({"train_layouts": [0, args.train_layouts - 1], "eval_layouts_from": EVAL_SEED} if seeded else {})},
        "curve": str(args.out / "curve.csv"),
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if args.smoke:
        return 0
    ok = all(v["trained"] >= args.target and v["random"] <= args.random_ceiling for v in result["per_task"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
