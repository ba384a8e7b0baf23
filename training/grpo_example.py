"""GRPO-style collection: the piece a trainer plugs into.

    python -m training.grpo_example --slots 2 --tasks click-red te-type-hello --group-size 4
    python -m training.grpo_example --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-VL-7B-Instruct

Runs the asynchronous collector over ``--slots`` local arenas (or ``--server-urls``, or a ``--pool``
file), G episodes per task from one seed at once on all slots, re-running elsewhere any episode that
infrastructure cut short, and writes each group to ``--out`` (JSONL) the moment it completes, with
group-relative advantages. The policy is a model behind an OpenAI-compatible endpoint (``--base-url``),
or, without one, a random policy that records a stand-in logprob per step.

Where your trainer goes, in your own loop:

    with Collector(slots, policy) as collector:
        for group in run_groups(collector, task_ids, group_size=8):
            loss = policy_gradient(group.valid)         # steps' extras hold token ids and logprobs
            collector.policy_version += 1               # records say which version acted
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Any

from arena_gym.agents import RandomAgent
from arena_gym.rollout import Collector, Decision, local_slots, pool_slots, run_groups, url_slots

FAST = {"settle": {"timeout_s": 0.5, "stable_ms": 60}, "observation": {"width": 640, "height": 400}}


class RandomWithLogprob:
    """The random agent, recording the log-probability a trainer would need (a stand-in for a model's)."""

    def __init__(self, seed: int) -> None:
        self.agent = RandomAgent(seed)

    def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> Decision:
        action = self.agent.act(obs, info)
        if info.get("step", 0) >= 2:
            action = {"action_type": "DONE"}
        return Decision(action, {"logprob": -math.log(len(action) + 1.0)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.grpo_example", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["click-red", "click-blue"], help="task ids, one group each")
    parser.add_argument("--group-size", type=int, default=4, help="episodes per group (G) (default 4)")
    parser.add_argument("--slots", type=int, default=2, help="local arenas to start (default 2)")
    parser.add_argument("--server-urls", nargs="*", help="desktops already running, one slot each")
    parser.add_argument("--pool", type=Path, help="a pool file of VMs (configs/pool.example.yaml)")
    parser.add_argument("--env-id", default="LocalDesktop-v0", help="for --server-urls/--pool (default LocalDesktop-v0)")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (vLLM, SGLang); default: a random policy")
    parser.add_argument("--model", default="default", help="the model name to ask for (default 'default')")
    parser.add_argument("--seed", type=int, default=0, help="the first group's seed (default 0)")
    parser.add_argument("--out", type=Path, default=Path("runs/grpo/groups.jsonl"), help="(default runs/grpo/groups.jsonl)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.group_size < 1:
        parser.error("--group-size must be at least 1")
    env_kwargs: dict[str, Any] = {**FAST, "max_steps": 5}
    if args.pool:
        slots = pool_slots(args.pool, args.env_id, **env_kwargs)
    elif args.server_urls:
        slots = url_slots(args.env_id, args.server_urls, **env_kwargs)
    else:
        slots = local_slots(args.slots, **env_kwargs)
    if args.base_url:
        from arena_gym.rollout.openai_policy import OpenAIChatPolicy

        policy: Any = OpenAIChatPolicy(args.base_url, args.model)
    else:
        policy = RandomWithLogprob(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with Collector(slots, policy) as collector:
        for group in run_groups(collector, args.tasks, group_size=args.group_size, seed=args.seed, out=args.out):
            rewards = [e.reward if e.reward_valid else None for e in group.episodes]
            advantages = [None if e.advantage is None else round(e.advantage, 3) for e in group.episodes]
            print(f"{group.group_id}: rewards {rewards} advantages {advantages}"
                  + (" (starts differ)" if group.starts_differ else ""), flush=True)
        stats = collector.stats()
    busy = ", ".join(f"{name} {s['utilisation']:.0%}" for name, s in stats["slots"].items())
    print(f"wrote {args.out}; slots busy: {busy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
