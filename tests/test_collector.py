"""The asynchronous collector on real local arenas: no barrier, quarantine and re-runs, groups, policies."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from arena_gym.arena import LocalArena
from arena_gym.rollout import BatchedPolicy, Collector, Decision, GymHandle, SlotSpec, run_groups, url_slots

from .support.sockets import free_port

FAST = {"settle": {"timeout_s": 0.5, "stable_ms": 60}, "reset_settle": {"timeout_s": 10, "stable_ms": 300},
        "observation": {"width": 320, "height": 200}}
DONE = {"action_type": "DONE"}


@pytest.fixture(scope="module")
def two_arenas(desktop_programs):
    with LocalArena(apps=[]) as a, LocalArena(apps=[]) as b:
        yield [a, b]


def slots_on(arenas, **extra):
    return url_slots("LocalDesktop-v0", [a.url for a in arenas], **FAST, **extra)


def test_episodes_are_handed_out_as_they_finish_not_in_lock_step(two_arenas):
    """The long episode's policy waits until a short episode has been handed out: with a barrier anywhere
    this would never happen (the long episode's wait would run out and the policy would raise)."""
    short_out = threading.Event()

    def policy(obs, info):
        if info["task_id"] == "te-type-hello" and not short_out.wait(timeout=120):
            raise AssertionError("no short episode came out while the long one ran")
        return DONE

    with Collector(slots_on(two_arenas), policy) as collector:
        collector.submit("te-type-hello", seed=0)
        for _ in range(3):
            collector.submit("click-red", seed=0)
        order = []
        for record in collector.episodes(timeout=300):
            order.append(record.task_id)
            if record.task_id == "click-red":
                short_out.set()
    assert order[0] == "click-red", order
    assert sorted(order) == ["click-red"] * 3 + ["te-type-hello"]


def test_a_killed_server_is_quarantined_and_its_episodes_run_elsewhere(desktop_programs, two_arenas):
    with LocalArena(apps=[]) as doomed:
        slots = url_slots("LocalDesktop-v0", [doomed.url, two_arenas[0].url], **FAST)
        with Collector(slots, lambda obs, info: DONE, quarantine_after=1, reprobe_s=600, max_retries=3) as collector:
            collector.submit("click-blue", seed=1)
            first = collector.next_episode(timeout=300)
            assert first.reward_valid
            doomed.kill_server()
            records = collector.run(["click-red"] * 4, seed=0)
            states = collector.slot_states()
    assert all(r.reward_valid and r.slot == "vm-1" for r in records), [(r.slot, r.failure) for r in records]
    assert states["vm-0"] == "quarantined"
    retried = [r for r in records if r.earlier_failures]
    assert len(retried) == 1 and retried[0].earlier_failures[0].startswith("vm-0:")  # its one lost episode


class FailsOnce(GymHandle):
    """Fault injection: this VM's first step breaks the connection."""

    def __init__(self, env):
        super().__init__(env)
        self.broken = False

    def step(self, action):
        if not self.broken:
            self.broken = True
            raise ConnectionResetError("injected: the VM dropped the connection")
        return super().step(action)


def test_a_group_reaches_its_size_in_valid_episodes_despite_an_injected_failure(two_arenas, tmp_path):
    import gymnasium as gym

    flaky_url, good_url = two_arenas[0].url, two_arenas[1].url

    def flaky():
        return FailsOnce(gym.make("LocalDesktop-v0", server_url=flaky_url, **FAST))

    slots = [SlotSpec("flaky", flaky), *url_slots("LocalDesktop-v0", [good_url], **FAST)]
    out = tmp_path / "groups.jsonl"
    typed = {}

    def typist(obs, info):  # types the answer in even episodes, a wrong one in odd ones, then DONE
        n = info["episode_id"]
        if typed.get(n):
            return DONE
        typed[n] = True
        return Decision({"action_type": "TYPING", "text": "Hello, arena!" if n % 2 == 0 else "nope"},
                        {"logprob": -0.5})

    with Collector(slots, typist, quarantine_after=5) as collector:
        (group,) = list(run_groups(collector, ["te-type-hello"], group_size=3, seed=7, out=out))
    assert len(group.valid) == 3 and all(e.seed == 7 for e in group.episodes)
    assert sum(1 for e in group.episodes if e.earlier_failures) == 1
    assert not group.starts_differ
    scored = [e for e in group.episodes if e.advantage is not None]
    if len({e.reward for e in group.episodes}) > 1:
        assert len(scored) == 3 and any(e.advantage > 0 for e in scored) and any(e.advantage < 0 for e in scored)
    line = json.loads(out.read_text())
    assert line["valid"] == 3 and len(line["episodes"]) == 3
    step = line["episodes"][0]["steps"][0]
    assert step["action"]["action_type"] == "TYPING" and step["extras"] == {"logprob": -0.5}


def test_a_batched_policy_gets_every_waiting_slot_in_one_call(two_arenas):
    calls = []

    def batched(observations, infos):
        calls.append(len(observations))
        return [{"action_type": "WAIT"} if info["step"] < 2 else DONE for info in infos]

    policy = BatchedPolicy(batched, max_batch=8, max_wait_ms=30_000)
    with Collector(slots_on(two_arenas, wait_action_s=0.01), policy) as collector:
        records = collector.run(["click-red", "click-blue"], seed=0)
    assert all(r.reward_valid and len(r.steps) == 3 for r in records)
    assert max(calls) == 2 and sum(calls) == 6


def test_an_async_policy_and_a_policy_error_that_stops_the_collection(two_arenas):
    async def done(obs, info):
        return DONE

    with Collector(slots_on(two_arenas[:1]), done) as collector:
        (record,) = collector.run(["click-red"], seed=0)
    assert record.reward_valid and record.steps[0].action == DONE

    def broken(obs, info):
        raise ValueError("the model server said no")

    from arena_gym.rollout import CollectorError

    with Collector(slots_on(two_arenas[:1]), broken) as collector:
        collector.submit("click-red")
        with pytest.raises(CollectorError, match="the model server said no"):
            collector.next_episode(timeout=300)


def test_the_evaluator_registry_is_whole_for_threads_that_look_at_once():
    """Slots look metric names up at once on first use; none may see a half-filled registry."""
    import subprocess
    import sys

    code = (
        "import threading\n"
        "from arena_gym.evaluators import registry\n"
        "errors = []\n"
        "def look():\n"
        "    try: registry.get_metric('exact_match'); registry.get_getter('vm_command_line')\n"
        "    except Exception as exc: errors.append(exc)\n"
        "threads = [threading.Thread(target=look) for _ in range(16)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(errors), errors[:1])\n"
    )
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert out.stdout.startswith("0 "), out.stdout + out.stderr


class ScriptedModelServer:
    """An OpenAI-compatible chat endpoint on loopback that answers with scripted replies."""

    def __init__(self, replies):
        import http.server

        self.replies, self.requests = list(replies), []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                reply = outer.replies.pop(0) if len(outer.replies) > 1 else outer.replies[0]
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply},
                                                "logprobs": {"content": [{"token": "x", "logprob": -0.25}]}}],
                                   "usage": {"prompt_tokens": 900, "completion_tokens": 12}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_the_openai_compatible_policy_acts_and_keeps_what_a_trainer_needs(two_arenas):
    from arena_gym.rollout.openai_policy import OpenAIChatPolicy

    replies = ['I will click.\n```json\n{"action_type": "CLICK", "x": 100, "y": 60}\n```', "DONE"]
    with ScriptedModelServer(replies) as model:
        policy = OpenAIChatPolicy(model.url, model="scripted", api_key="k")
        with Collector(slots_on(two_arenas[:1]), policy) as collector:
            (record,) = collector.run(["click-red"], seed=0)
    assert record.reward_valid and [s.action for s in record.steps] == [
        {"action_type": "CLICK", "x": 100, "y": 60}, {"action_type": "DONE"}]
    assert record.steps[0].extras["logprobs"] == {"content": [{"token": "x", "logprob": -0.25}]}
    assert record.steps[0].extras["completion"].startswith("I will click.")
    path, body = model.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "scripted" and body["logprobs"] is True
    system, user = body["messages"]
    assert "CLICK" in system["content"] and "320x200" in system["content"].replace(" ", "")
    assert user["content"][0]["text"].startswith("Task: Click the red square.")
    assert user["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_model_replies_are_read_as_actions():
    from arena_gym.rollout.openai_policy import parse_reply

    assert parse_reply('{"action_type": "PRESS", "key": "enter"} and then {"x": 1}') == {
        "action_type": "PRESS", "key": "enter"}
    assert parse_reply("DONE") == {"action_type": "DONE"}
    assert parse_reply("no idea") == "no idea"  # the env refuses it as an invalid action, costing a step


def test_the_grpo_example_writes_groups_with_advantages(two_arenas, tmp_path, capsys):
    from training import grpo_example

    out = tmp_path / "groups.jsonl"
    rc = grpo_example.main(["--server-urls", *[a.url for a in two_arenas], "--tasks", "click-red", "click-blue",
                            "--group-size", "2", "--out", str(out)])
    assert rc == 0
    groups = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(g["task_id"] for g in groups) == ["click-blue", "click-red"]
    for g in groups:
        assert len(g["episodes"]) == 2 and len({e["seed"] for e in g["episodes"]}) == 1
        assert all("logprob" in s["extras"] for e in g["episodes"] for s in e["steps"])
    printed = capsys.readouterr().out
    assert "click-red#0: rewards" in printed and "slots busy" in printed


def _free_port_url():
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def test_a_warm_spare_works_while_a_dead_vm_is_quarantined_then_declared_dead(two_arenas, tmp_path):
    from arena_gym.polling import poll_until

    slots = url_slots("LocalDesktop-v0", [_free_port_url(), *[a.url for a in two_arenas]], spares=1, **FAST)
    assert [s.spare for s in slots] == [False, False, True]
    with Collector(slots, lambda obs, info: DONE, quarantine_after=1, reprobe_s=0.2, max_probes=2,
                   screenshots=tmp_path / "shots") as collector:
        assert collector.max_in_flight == 2  # the spare adds no capacity, only a stand-in
        records = collector.run(["click-red", "click-blue"] * 3, seed=0)
        poll_until(lambda: collector.slot_states()["vm-0"] == "dead", 60, what="the dead VM to be declared dead")
    assert all(r.reward_valid for r in records) and {r.slot for r in records} == {"vm-1", "vm-2"}
    spans = sorted((r.started, r.started + r.seconds - 0.01) for r in records)  # less the rounding of seconds
    assert max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans) <= 2  # never more in flight than the cap
    shot = records[0].steps[0].screenshot
    assert shot and Path(shot).is_file() and Path(shot).parent.parent == tmp_path / "shots"


def test_a_collection_whose_every_slot_is_dead_says_so():
    from arena_gym.rollout import CollectorError

    slots = url_slots("LocalDesktop-v0", [_free_port_url()], **FAST)
    with Collector(slots, lambda obs, info: DONE, quarantine_after=1, reprobe_s=0.1, max_probes=1,
                   max_retries=0) as collector:
        collector.submit("click-red")
        # The VM is probed before it takes work: down from the start, it is declared dead without running
        # anything, and the error says why and what was not run.
        with pytest.raises(CollectorError, match=r"every slot is dead.*nothing answers.*1 episodes not run"):
            collector.next_episode(timeout=120)
