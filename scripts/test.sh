#!/usr/bin/env bash
# The test command: set up (idempotent), then run the whole suite: the default tier, then the heavy tiers
# (stuttering apps, training loops, every task end to end, fuzzing). Extra arguments go to pytest, and then
# only the default tier runs with them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -ra "$@"
if [[ $# -eq 0 ]]; then
  .venv/bin/python -m pytest -ra -m "stutter or slow"
fi
