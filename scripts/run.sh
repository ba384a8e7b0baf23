#!/usr/bin/env bash
# The main job: set up (idempotent), then start a local arena and run an agent through the local
# task suite, recording every trajectory under runs/ and printing a score table.
# Extra arguments go to `arena-gym run` (e.g. --agent random, --domain spreadsheet).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/arena-gym run --agent oracle "$@"
