#!/usr/bin/env bash
# The test command: set up (idempotent), lint and type-check, then run the whole suite: the default tier,
# then the heavy tiers (stuttering apps, training loops, every task end to end, fuzzing, a two-node Ray
# cluster and RLlib, whose tests run in .venv-rllib where its gymnasium pin is installed; OSWorld's and
# WAA's tasks on a local arena with OSWorld's app set). Extra arguments go to pytest, and then only the
# default tier runs with them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --rllib --osworld
if [[ $# -eq 0 ]]; then
  # Static checks first: lint, and types (mypy with the pydantic plugin; its settings are in pyproject.toml).
  .venv/bin/ruff check arena_gym bridges training tests bench
  .venv/bin/mypy
fi
.venv/bin/python -m pytest -ra --durations=15 "$@"
if [[ $# -eq 0 ]]; then
  .venv/bin/python -m pytest -ra -m "stutter or slow or ray or osworld"
fi
