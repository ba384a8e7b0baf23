"""The collector on a real two-node Ray cluster on this machine (``ray.cluster_utils.Cluster``, as Ray's own
tests do): slots land on both nodes, episodes arrive as they finish, a killed actor's arena is replaced."""

from __future__ import annotations

import logging

import pytest

from arena_gym.polling import poll_until
from arena_gym.rollout import Collector

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'arena-gym[ray]'")

pytestmark = [pytest.mark.ray]

FAST = {"settle": {"timeout_s": 0.5, "stable_ms": 60}, "reset_settle": {"timeout_s": 10, "stable_ms": 300},
        "observation": {"width": 320, "height": 200}}
DONE = {"action_type": "DONE"}


@pytest.fixture(scope="module")
def cluster(desktop_programs):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "resources": {"box_a": 2}})
    cluster.add_node(num_cpus=2, resources={"box_b": 2})
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, logging_level=logging.WARNING, log_to_driver=False)
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_slots_land_on_both_nodes_and_a_killed_actor_is_replaced(cluster):
    from arena_gym.rollout.ray_slots import ray_local_slots

    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert len(nodes) == 2
    slots = ray_local_slots(2, placement=[{"resources": {"box_a": 1}}, {"resources": {"box_b": 1}}], **FAST)
    with Collector(slots, lambda obs, info: DONE, quarantine_after=1, reprobe_s=1.0, max_retries=3) as collector:
        first = collector.run(["click-red", "click-blue", "click-red", "click-blue"], seed=0)
        assert all(r.reward_valid for r in first), [r.failure for r in first]
        assert {r.where["node_id"] for r in first} == nodes  # both nodes served episodes
        assert {r.slot for r in first} == {"ray-local-0", "ray-local-1"}

        victim = collector.handle("ray-local-0")
        old_actor, old_arena = victim.actor, victim.where()["arena_id"]
        ray.kill(old_actor, no_restart=True)
        second = collector.run(["click-red"] * 4, seed=1)
        assert all(r.reward_valid for r in second), [r.failure for r in second]
        lost = [r for r in second if r.earlier_failures]  # the episode the kill cut short, re-run elsewhere
        assert len(lost) == 1 and lost[0].earlier_failures[0].startswith("ray-local-0:")
        healed = poll_until(lambda: collector.slot_states()["ray-local-0"] == "ready"
                            and collector.handle("ray-local-0"), 300, what="the killed slot to come back")
        assert healed.actor != old_actor and healed.where()["arena_id"] != old_arena
        node_a = next(r.where["node_id"] for r in first if r.slot == "ray-local-0")
        assert healed.where()["node_id"] == node_a  # placed where its placement says
        third = collector.run(["click-red"] * 4, seed=2)
        assert all(r.reward_valid for r in third)
    from arena_gym.arena.local import _marked_pids

    assert _marked_pids(old_arena) == []  # what the killed actor's arena left was reaped
