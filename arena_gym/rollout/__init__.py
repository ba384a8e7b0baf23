"""Rollouts: the one episode loop every caller uses (CLI, trainers) and the agent protocol."""

from .loop import Agent, EpisodeResult, FunctionAgent, as_agent, run_episode

__all__ = ["Agent", "EpisodeResult", "FunctionAgent", "as_agent", "run_episode"]
