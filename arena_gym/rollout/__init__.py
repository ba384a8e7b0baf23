"""Rollouts: the one episode loop (CLI, trainers), and the asynchronous collector over a pool of slots."""

from .collector import Collector, CollectorError
from .groups import Group, group_advantages, run_groups
from .loop import Agent, EpisodeResult, FunctionAgent, as_agent, run_episode
from .policies import AsyncPolicy, BatchedPolicy, Decision, Policy, as_policy
from .records import EpisodeRecord, StepRecord, WorkItem, fingerprint
from .slots import EnvHandle, GymHandle, SlotSpec, SlotState, env_slot, local_slots, pool_slots, url_slots

__all__ = [
    "Agent", "AsyncPolicy", "BatchedPolicy", "Collector", "CollectorError", "Decision", "EnvHandle",
    "EpisodeRecord", "EpisodeResult", "FunctionAgent", "GymHandle", "Group", "Policy", "SlotSpec", "SlotState",
    "StepRecord", "WorkItem", "as_agent", "as_policy", "env_slot", "fingerprint", "group_advantages",
    "local_slots", "pool_slots", "run_episode", "run_groups", "url_slots",
]
