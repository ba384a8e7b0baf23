"""RLlib PPO on arena-gym, each env runner on its own VM (or its own local arena).

    python -m training.rllib_ppo --iterations 2                      # local arenas, one per env runner
    python -m training.rllib_ppo --server-urls http://127.0.0.1:5000 http://127.0.0.1:6000

Uses the env creator of ``arena_gym.rollout.rllib`` (registered as "arena-gym") with the SB3 face
flattened for RLlib's default models. Prints one JSON line per iteration (env steps sampled, mean episode
return) and, at the end, which VM each env runner's envs used. Needs the ``rllib`` extra, which pins
gymnasium 1.2.2: ``bash scripts/setup.sh --rllib`` installs it in ``.venv-rllib``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from training.ppo_local import FAST_RESET_SETTLE, FAST_SETTLE

FAST = {"settle": FAST_SETTLE, "reset_settle": FAST_RESET_SETTLE,
        "observation": {"width": 320, "height": 200, "image_format": "jpeg"}}


def build_config(args: argparse.Namespace) -> Any:
    from ray.rllib.algorithms.ppo import PPOConfig

    env_config: dict[str, Any] = {
        "env_id": "LocalDesktop-v0",
        "env": {**FAST, "tasks": {"ids": args.tasks}, "max_steps": args.max_steps},
        "num_envs_per_env_runner": args.envs_per_runner,
        "face": "sb3",
        "face_options": {"size": [64, 40], "grid": [8, 5], "types": ["CLICK", "DONE"]},
    }
    if args.server_urls:
        env_config["server_urls"] = args.server_urls
    return (PPOConfig()
            .environment("arena-gym", env_config=env_config)
            .env_runners(num_env_runners=args.runners, num_envs_per_env_runner=args.envs_per_runner,
                         rollout_fragment_length="auto", num_cpus_per_env_runner=0)
            .training(train_batch_size_per_learner=args.batch, minibatch_size=min(16, args.batch), num_epochs=1)
            .learners(num_learners=0)
            .debugging(seed=args.seed, log_level="WARN"))


def runner_vms(algo: Any) -> list[list[str | None]]:
    """The server URL of each sub-env, per remote env runner."""
    def urls(runner: Any) -> list[str | None]:
        env = getattr(runner, "env", None)
        if env is None:
            return []
        return [getattr(sub.unwrapped.config, "server_url", None) for sub in env.unwrapped.envs]

    return algo.env_runner_group.foreach_env_runner(urls, local_env_runner=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.rllib_ppo", description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--iterations", type=int, default=1, help="training iterations")
    parser.add_argument("--tasks", nargs="+", default=["click-red", "click-blue"], help="local task ids")
    parser.add_argument("--runners", type=int, default=1, help="remote env runners")
    parser.add_argument("--envs-per-runner", type=int, default=1)
    parser.add_argument("--server-urls", nargs="*", default=None,
                        help="one desktop per env (the driver's runner first); default: local arenas")
    parser.add_argument("--max-steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32, help="train batch size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        import ray

        from arena_gym.rollout.rllib import register_rllib_env
    except ImportError:
        print("RLlib is missing: bash scripts/setup.sh --rllib, then use .venv-rllib/bin/python", file=sys.stderr)
        return 2
    ray.init(num_cpus=max(2, args.runners + 1), include_dashboard=False, logging_level=logging.WARNING,
             log_to_driver=False)
    try:
        register_rllib_env()
        algo = build_config(args).build_algo()
        for i in range(args.iterations):
            result = algo.train()
            runners = result.get("env_runners", {})
            print(json.dumps({"iteration": i + 1,
                              "env_steps": int(runners.get("num_env_steps_sampled_lifetime", 0)),
                              "episode_return_mean": runners.get("episode_return_mean")}), flush=True)
        print(json.dumps({"runner_vms": runner_vms(algo)}), flush=True)
        algo.stop()
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
