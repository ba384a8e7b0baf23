"""RLlib: the env creator gives each env runner's sub-env its own VM, and RLlib PPO builds on the SB3 face
and samples. RLlib pins gymnasium 1.2.2, so PPO runs in .venv-rllib (``bash scripts/setup.sh --rllib``)
when this interpreter has no RLlib: arena-gym itself is tested on both gymnasiums."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arena_gym.arena import LocalArena
from arena_gym.rollout.rllib import vm_for, vm_index

pytestmark = [pytest.mark.ray]
ROOT = Path(__file__).resolve().parent.parent


def test_each_runner_and_sub_env_gets_its_own_vm_and_a_small_pool_is_refused():
    urls = [f"http://127.0.0.1:{5000 + i}" for i in range(4)]
    config = {"server_urls": urls, "num_envs_per_env_runner": 2}
    given = [vm_for(config, w, v, runners=2)["server_url"] for w in (1, 2) for v in (0, 1)]
    assert given == urls  # remote runners 1 and 2 take the pool in order, none shared
    assert vm_index(0, 0, per_runner=1, runners=0) == 0  # no remote runners: the driver's env is first
    assert vm_index(0, 1, per_runner=2, runners=2) == 5  # the driver's envs come after the runners'
    with pytest.raises(ValueError, match="needs VM #4 but the pool has 4"):
        vm_for(config, 0, 0, runners=2)
    assert vm_for({"num_envs_per_env_runner": 2}, 3, 1, runners=4) == {}  # local arenas: each starts its own


def rllib_python() -> str:
    """.venv-rllib's Python, else this one if RLlib imports here."""
    other = ROOT / ".venv-rllib/bin/python"
    if other.exists():
        return str(other)
    here = subprocess.run([sys.executable, "-c", "import ray.rllib.algorithms.ppo"], capture_output=True)
    if here.returncode == 0:
        return sys.executable
    pytest.fail("RLlib is in neither this environment nor .venv-rllib: run bash scripts/setup.sh --rllib")


def test_rllib_ppo_builds_on_the_sb3_face_and_samples_each_runner_on_its_own_arena(desktop_programs):
    with LocalArena(apps=[]) as a, LocalArena(apps=[]) as b:
        out = subprocess.run(
            [rllib_python(), "-m", "training.rllib_ppo", "--iterations", "1", "--runners", "2", "--batch", "16",
             "--tasks", "click-red", "--server-urls", a.url, b.url],
            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines[0]["iteration"] == 1 and lines[0]["env_steps"] >= 16
    assert sorted(lines[-1]["runner_vms"]) == sorted([[a.url], [b.url]])  # one arena each, none shared
