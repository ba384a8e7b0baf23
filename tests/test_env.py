"""The env on real local arenas: the Gymnasium and SB3 contracts, episodes scored by the evaluators,
infrastructure faults as truncations, vector envs, and a stock-protocol server with no extension used."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import arena_gym  # noqa: F401 - registers the ids
from arena_gym.wrappers import sb3_env

from .support.fault_server import FaultServer, png_bytes, respond, stall
from .support.stock_server import StockWAAServer

FAST = {"settle": {"timeout_s": 0.5, "stable_ms": 60}, "reset_settle": {"timeout_s": 10, "stable_ms": 300}}
SMALL = {"observation": {"width": 320, "height": 200}}


@pytest.fixture
def local_env(arena):
    """Envs on the session's arena (as on an arena started with ``arena-gym up``); ``own_arena=True`` for
    a test that kills or heals the arena, which then starts one of its own."""
    envs = []

    def make(own_arena: bool = False, **kwargs):
        shared = {} if own_arena else {"server_url": arena.url, "token": arena.token}
        env = gym.make("LocalDesktop-v0", **{**FAST, **SMALL, **shared, **kwargs})
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()


def test_constructor_does_no_io_and_spaces_come_from_config():
    env = gym.make("WAA-v0", server_url="http://127.0.0.1:9", evaluate_url="http://127.0.0.1:9",
                   observation={"width": 640, "height": 400, "accessibility": True, "cursor": True})
    assert env.observation_space["screenshot"].shape == (400, 640, 3)
    assert set(env.observation_space.spaces) == {"screenshot", "instruction", "last_action_error",
                                                 "accessibility", "cursor"}
    assert env.observation_space["instruction"].contains("any string — ünïcode ✓ " * 100)
    env.close()


def test_bad_config_names_the_field():
    with pytest.raises(Exception, match="max_steps"):
        gym.make("LocalDesktop-v0", max_steps=0)
    with pytest.raises(Exception, match="observation.width|width"):
        gym.make("LocalDesktop-v0", observation={"width": "wide"})
    with pytest.raises(Exception, match="Extra inputs"):
        gym.make("LocalDesktop-v0", sever_url="http://x")
    with pytest.raises(Exception, match="arena: unknown field 'sise' \\(did you mean 'size'\\?\\)"):
        gym.make("LocalDesktop-v0", arena={"sise": [640, 400]})
    with pytest.raises(Exception, match="tunnel: unknown field 'usr' \\(did you mean 'user'\\?\\)"):
        gym.make("WAA-v0", tunnel={"host": "vm", "usr": "me"})


def test_the_local_suite_has_a_name_and_the_env_lists_what_it_draws_from(capsys):
    from arena_gym.cli import main as cli

    env = gym.make("WAA-v0", server_url="http://127.0.0.1:9", tasks={"suite": "local", "domains": ["pixels"]})
    assert env.unwrapped.task_ids == ["click-blue", "click-red"]  # no I/O: the ids come from the suite
    assert cli(["tasks", "local", "-l"]) == 0
    assert "click-blue" in capsys.readouterr().out


def test_waa_with_nothing_listening_says_what_to_start(monkeypatch):
    from .support.fault_server import refused_url

    monkeypatch.setenv("ARENA_SERVER_URL", refused_url())
    monkeypatch.setenv("ARENA_EVALUATE_URL", refused_url())
    env = gym.make("WAA-v0", tasks={"ids": ["x"]})
    with pytest.raises(Exception, match="nothing answers at .*arena-bridge tunnel"):
        env.reset()
    env.close()


def test_gymnasium_check_env(local_env):
    from gymnasium.utils.env_checker import check_env

    env = local_env(tasks={"ids": ["click-blue"]}, max_steps=3)
    check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.slow
def test_sb3_check_env_and_a_few_hundred_ppo_steps(local_env):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_checker import check_env

    env = sb3_env(local_env(tasks={"ids": ["click-blue"]}, max_steps=16,
                            settle={"timeout_s": 0.2, "stable_ms": 30}), size=(64, 48))
    check_env(env, warn=True)
    model = PPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=256)
    # Episodes ran to their end through the wrappers: each one recorded, none longer than the step limit.
    episodes = list(model.ep_info_buffer)
    assert episodes and all(1 <= e["l"] <= 16 for e in episodes)


def test_scripted_agent_solves_a_local_task(local_env):
    env = local_env(tasks={"ids": ["te-type-hello"]})
    obs, info = env.reset(seed=1)
    assert info["task_id"] == "te-type-hello" and obs["instruction"].startswith("Type 'Hello, arena!'")
    obs, reward, terminated, truncated, info = env.step({"action_type": "TYPING", "text": "Hello, arena!"})
    assert (reward, terminated, truncated) == (0.0, False, False)
    obs, reward, terminated, truncated, info = env.step({"action_type": "DONE"})
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["reward_valid"] and info["score"] == 1.0 and info["eval"]["details"][0]["metric"] == "compare_text_file"
    # The same task, answered FAIL, scores 0 (WAA's rule for feasible tasks).
    env.reset(options={"task_id": "te-type-hello"})
    _, reward, terminated, _, _ = env.step("FAIL")
    assert reward == 0.0 and terminated


def test_reset_after_unsaved_edits_gets_a_clean_editor(local_env):
    """Reset ends an editor holding unsaved text; the next episode's editor must open on the task's file,
    not behind a "restore the previous session?" dialog (which made every later reset an infra failure)."""
    env = local_env(tasks={"ids": ["te-type-hello"]})
    for episode in range(3):
        _, info = env.reset(seed=episode)
        assert "infra_error" not in info, info
        _, _, _, truncated, info = env.step({"action_type": "TYPING", "text": "unsaved"})
        assert not truncated, info


def test_pyautogui_face_with_the_oracle(local_env):
    env = local_env(tasks={"ids": ["click-red"]}, action_face="pyautogui")
    task = env.unwrapped.catalog.get("click-red")
    env.reset()
    reward = None
    for code in task.oracle:
        _, reward, terminated, truncated, info = env.step(code)
    assert reward == 1.0 and terminated


def test_invalid_actions_are_reported_not_executed(local_env):
    env = local_env(tasks={"ids": ["click-blue"]}, max_steps=4)
    env.reset()
    obs, reward, terminated, truncated, info = env.step({"action_type": "PRESS", "key": "hyperjump"})
    assert "unknown key 'hyperjump'" in info["invalid_action"] and "invalid action" in obs["last_action_error"]
    obs, *_, info = env.step('{"action_type": "CLICK", "x": "left"}')
    assert "x" in info["invalid_action"]
    _, _, _, truncated, info = env.step({"action_type": "TELEPORT"})
    assert "action types" in info["invalid_action"]
    _, _, terminated, truncated, info = env.step({"action_type": "WAIT"})
    assert truncated and not terminated and "score" in info  # the step limit ends and scores the episode


def test_random_agent_runs_50_steps(local_env):
    env = sb3_env(local_env(tasks={"domains": ["pixels", "terminal"]}, max_steps=10), size=(32, 20))
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(50):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert info.get("infra_error") is None, info
        if terminated or truncated:
            env.reset()


def test_killed_server_truncates_then_reset_recovers(local_env):
    env = local_env(own_arena=True, tasks={"ids": ["click-blue"]}, timeouts={"connect": 1, "step": 5, "probe": 2})
    obs, info = env.reset()
    good = obs["screenshot"].copy()
    arena = env.unwrapped.coordinator.arena
    arena.kill_server()
    obs, reward, terminated, truncated, info = env.step({"action_type": "CLICK", "x": 5, "y": 5})
    assert truncated and not terminated and reward == 0.0
    assert info["reward_valid"] is False and "Unreachable" in info["infra_error"]
    assert np.array_equal(obs["screenshot"], good)  # the last good observation
    arena.restart_server()
    obs, info = env.reset()
    assert "infra_error" not in info
    _, _, _, truncated, info = env.step({"action_type": "WAIT"})
    assert not truncated and info["reward_valid"]


def test_the_env_heals_its_own_arena_after_its_server_dies(local_env):
    """No hand restart: the failed reset marks the connection unhealthy, the next one reconnects, and
    reconnecting heals the arena the env started (its server is started again)."""
    env = local_env(own_arena=True, tasks={"ids": ["click-blue"]}, timeouts={"connect": 1, "step": 5, "probe": 2})
    env.reset()
    coordinator = env.unwrapped.coordinator
    dead_client = coordinator.client
    coordinator.arena.kill_server()
    _, _, _, truncated, info = env.step({"action_type": "CLICK", "x": 5, "y": 5})
    assert truncated and "Unreachable" in info["infra_error"] and coordinator.failures == 1
    _, info = env.reset()  # the probe finds the server gone: this episode is lost...
    assert info["reward_valid"] is False and coordinator.unhealthy
    _, info = env.reset()  # ...and the next reset reconnects, restarting the server
    assert "infra_error" not in info and coordinator.failures == 0 and coordinator.client is not dead_client
    _, _, _, truncated, info = env.step({"action_type": "WAIT"})
    assert not truncated and info["reward_valid"]


def test_consecutive_failures_past_the_limit_reconnect_before_the_next_episode():
    from arena_gym.envs.config import EnvConfig
    from arena_gym.envs.coordinator import Coordinator

    coordinator = Coordinator(EnvConfig(server_url="http://127.0.0.1:9", max_consecutive_failures=3))
    for _ in range(2):
        coordinator.note_failure()
    assert not coordinator.unhealthy
    coordinator.note_success()
    for _ in range(2):
        coordinator.note_failure()
    assert not coordinator.unhealthy  # a success in between starts the count again
    coordinator.note_failure()
    assert coordinator.unhealthy
    other = Coordinator(EnvConfig(server_url="http://127.0.0.1:9"))
    other.note_failure(episode_lost=True)
    assert other.unhealthy  # a lost reset reconnects at once


def test_vector_env_over_three_arenas_returns_three_screens(desktop_programs):
    envs = gym.make_vec("LocalDesktop-v0", num_envs=3, vectorization_mode="vector_entry_point",
                        tasks={"ids": ["te-type-hello"]}, **FAST, **SMALL)
    try:
        assert envs.shared_memory  # observations are not pickled through the pipes
        obs, infos = envs.reset(seed=0)
        assert obs["screenshot"].shape == (3, 200, 320, 3)
        assert list(obs["instruction"]) == [obs["instruction"][0]] * 3
        assert obs["instruction"][0].startswith("Type"), obs["instruction"]
        texts = [{"action_type": "TYPING", "text": t * 40} for t in ("a", "W", "#")]
        obs, rewards, terms, truncs, infos = envs.step(texts)
        assert not any(truncs)
        shots = obs["screenshot"]
        assert not np.array_equal(shots[0], shots[1]) and not np.array_equal(shots[1], shots[2])
        assert not np.array_equal(shots[0], shots[2])
    finally:
        envs.close()


def _stalling_vm(tmp_path):
    """A server that answers reads but never answers an action; and a task that needs no setup."""
    tasks = _noop_task_folder(tmp_path)
    srv = FaultServer({
        ("GET", "/probe"): respond("200 OK", b'{"status": "Probe successful"}', "application/json"),
        ("GET", "/screenshot"): respond("200 OK", png_bytes((320, 200)), "image/png"),
        ("POST", "/setup/close_all"): respond("200 OK", b"All windows closed successfully.", "text/html"),
    })
    srv.routes[("POST", "/execute_windows")] = stall(srv.release)
    return srv, tasks


def test_stalled_vm_does_not_hold_the_others_past_its_timeout(desktop_programs, tmp_path):
    srv, tasks = _stalling_vm(tmp_path)
    with srv:
        envs = gym.make_vec("LocalDesktop-v0", num_envs=3, vectorization_mode="vector_entry_point",
                            server_urls=[srv.url, None, None], tasks={"folder": tasks},
                            timeouts={"step": 3, "action": 3}, platform="linux", **FAST, **SMALL)
        try:
            envs.reset(seed=0)
            _, _, terms, truncs, infos = envs.step([{"action_type": "CLICK", "x": 1, "y": 1}] * 3)
            # The stalled slot was let go by its own action timeout (a read timeout, not a hang or a
            # retry), while the other slots stepped normally in the same batch.
            assert truncs[0] and "DeliveryUncertain" in infos["infra_error"][0]
            assert "ReadTimeout" in infos["infra_error"][0]
            assert not truncs[1] and not truncs[2]
        finally:
            envs.close()
        assert srv.hits[("POST", "/execute_windows")] == 1  # never re-sent


def test_stock_protocol_server_with_no_extension(tmp_path):
    task_dir = tmp_path / "examples" / "notes"
    task_dir.mkdir(parents=True)
    (task_dir / "say-hello.json").write_text(json.dumps({
        "id": "say-hello", "instruction": "Type hello", "config": [],
        "evaluator": {"func": "exact_match",
                      "result": {"type": "is_file_saved_desktop", "filename": "out.txt", "textcontent": "hello"},
                      "expected": {"type": "rule", "rules": {"expected": "true"}}}}))
    with StockWAAServer() as vm:
        env = gym.make("WAA-v0", server_url=vm.url, evaluate_url=None, dialect="waa", tasks={"folder": str(tmp_path)},
                       settle={"timeout_s": 0}, observation={"width": 512, "height": 384})
        try:
            obs, info = env.reset(seed=0)
            assert obs["screenshot"].shape == (384, 512, 3)
            before = dict(vm.hits)
            env.step({"action_type": "CLICK", "x": 256, "y": 192})
            step_calls = {k: v - before.get(k, 0) for k, v in vm.hits.items() if v - before.get(k, 0)}
            assert step_calls == {"POST /execute_windows": 1, "GET /screenshot": 1}  # two stock round trips
            env.step({"action_type": "TYPING", "text": "hello"})
            _, reward, terminated, _, info = env.step("DONE")
            assert reward == 1.0 and terminated
        finally:
            env.close()
        assert not any("/arena/step" in k for k in vm.hits)
        assert vm.hits["GET /arena/capabilities"] <= 1
        # Coordinates were scaled from the 512x384 observation to the 1024x768 screen.
        assert vm.screen.image.getpixel((512, 384)) == (255, 0, 0)


def _pool_file(tmp_path, vms):
    import yaml

    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump({"vms": vms}))
    return str(path)


def _noop_task_folder(tmp_path):
    task_dir = tmp_path / "examples" / "demo"
    task_dir.mkdir(parents=True)
    (task_dir / "noop.json").write_text(json.dumps(
        {"id": "noop", "instruction": "do nothing", "config": [], "evaluator": {"func": "infeasible"}}))
    return str(tmp_path)


def test_pool_file_gives_each_sub_env_its_own_vm(tmp_path):
    tasks = _noop_task_folder(tmp_path)
    with StockWAAServer() as vm1, StockWAAServer() as vm2:
        pool = _pool_file(tmp_path, [{"name": "a", "server_url": vm1.url}, {"name": "b", "server_url": vm2.url}])
        envs = gym.make_vec("WAA-v0", num_envs=2, vectorization_mode="vector_entry_point", pool=pool, mode="sync",
                            evaluate_url=None, dialect="waa", tasks={"folder": tasks}, settle={"timeout_s": 0},
                            observation={"width": 64, "height": 48})
        try:
            envs.reset(seed=0)
            envs.step([{"action_type": "CLICK", "x": 1, "y": 1}, {"action_type": "WAIT"}])
        finally:
            envs.close()
        # Sub-env 0 clicked on VM 1; sub-env 1 only waited on VM 2.
        assert vm1.hits["POST /execute_windows"] == 1 and vm2.hits["POST /execute_windows"] == 0
        assert vm1.hits["GET /screenshot"] >= 2 and vm2.hits["GET /screenshot"] >= 2


def test_pool_tunnels_reach_their_own_sub_env_and_bad_pools_are_named(tmp_path):
    tunnel = {"host": "vm-host-b", "user": "ops", "forwards": ["6000:localhost:5000"]}
    pool = _pool_file(tmp_path, [{"name": "a", "server_url": "http://127.0.0.1:5000"},
                                 {"name": "b", "server_url": "http://127.0.0.1:6000", "tunnel": tunnel}])
    envs = gym.make_vec("WAA-v0", num_envs=2, vectorization_mode="vector_entry_point", pool=pool, mode="sync")
    try:  # the constructor does no network I/O, so nothing connects here
        configs = [env.unwrapped.config for env in envs.envs]
        assert configs[0].tunnel is None and configs[1].tunnel == tunnel
        assert [c.server_url for c in configs] == ["http://127.0.0.1:5000", "http://127.0.0.1:6000"]
    finally:
        envs.close()
    bad = _pool_file(tmp_path, [{"name": "a", "url": "http://127.0.0.1:5000"}])
    with pytest.raises(ValueError, match=r"pool.yaml: vms.0.server_url: Field required"):
        gym.make_vec("WAA-v0", num_envs=1, vectorization_mode="vector_entry_point", pool=bad)
    from arena_gym.envs.pool import load_pool

    assert [vm.name for vm in load_pool(Path(__file__).parents[1] / "configs" / "pool.example.yaml")] == ["waa-1", "waa-2"]


def test_on_a_stock_vm_reset_waits_for_the_window_the_setup_opens(tmp_path):
    """No X11 on the other side: readiness is the expected window in WAA's window list, then the settle."""
    import threading

    task_dir = tmp_path / "examples" / "docs"
    task_dir.mkdir(parents=True)
    (task_dir / "open-report.json").write_text(json.dumps({
        "id": "open-report", "instruction": "Edit the report", "evaluator": {"func": "infeasible"},
        "config": [{"type": "activate_window", "parameters": {"window_name": "report.docx — LibreOffice Writer"}}]}))
    with StockWAAServer() as vm:
        env = gym.make("WAA-v0", server_url=vm.url, evaluate_url=None, dialect="waa", tasks={"folder": str(tmp_path)},
                       settle={"timeout_s": 0}, reset_settle={"timeout_s": 3.0, "stable_ms": 50},
                       observation={"width": 64, "height": 48})
        try:
            _, info = env.reset(seed=0)  # the window never comes
            assert info["reward_valid"] is False and "report.docx" in info["infra_error"]
            threading.Timer(0.5, lambda: vm.windows.append("report.docx - LibreOffice Writer")).start()
            _, info = env.reset(seed=0)  # it comes while the reset waits
            assert "infra_error" not in info
        finally:
            env.close()
        assert vm.hits["GET /obs_winagent"] >= 3


def test_a_task_that_cannot_be_scored_is_refused_before_the_agent_acts(tmp_path):
    from arena_gym.envs.catalog import UnscorableTask

    task_dir = tmp_path / "examples" / "chrome"
    task_dir.mkdir(parents=True)
    (task_dir / "fine.json").write_text(json.dumps(
        {"id": "fine", "instruction": "nothing", "config": [], "evaluator": {"func": "infeasible"}}))
    (task_dir / "tabs.json").write_text(json.dumps({
        "id": "tabs", "instruction": "open the page", "config": [],
        "evaluator": {"func": "exact_match", "result": {"type": "night_light_state"},
                      "expected": {"type": "rule", "rules": {"expected": "on"}}}}))
    with StockWAAServer() as vm:
        env = gym.make("WAA-v0", server_url=vm.url, evaluate_url=None, dialect="waa", tasks={"folder": str(tmp_path)},
                       settle={"timeout_s": 0}, reset_settle={"timeout_s": 0}, observation={"width": 64, "height": 48})
        try:
            assert {env.reset(seed=s)[1]["task_id"] for s in range(8)} == {"fine"}  # never drawn
            with pytest.raises(UnscorableTask, match="tabs cannot give a valid reward.*does not implement yet"):
                env.reset(options={"task_id": "tabs"})
        finally:
            env.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_vector_env_with_a_vm_down_at_the_start_runs_the_others(tmp_path, mode):
    from .support.fault_server import refused_url

    tasks = _noop_task_folder(tmp_path)
    with StockWAAServer() as vm:
        envs = gym.make_vec("WAA-v0", num_envs=2, vectorization_mode="vector_entry_point", mode=mode,
                            server_urls=[vm.url, refused_url()], evaluate_url=None, dialect="waa",
                            tasks={"folder": tasks}, settle={"timeout_s": 0}, observation={"width": 64, "height": 48})
        try:
            _, infos = envs.reset(seed=0)
            assert list(infos["_infra_error"]) == [False, True] and "nothing answers" in infos["infra_error"][1]
            _, _, _, truncated, infos = envs.step([{"action_type": "CLICK", "x": 1, "y": 1}] * 2)
            assert not truncated[0] and vm.hits["POST /execute_windows"] == 1
        finally:
            envs.close()


def test_make_vec_needs_one_vm_per_sub_env_and_their_evaluate_servers():
    with pytest.raises(ValueError, match="one VM per sub-env"):
        gym.make_vec("WAA-v0", num_envs=3, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="server_urls without evaluate_urls"):
        gym.make_vec("WAA-v0", num_envs=2, vectorization_mode="vector_entry_point",
                     server_urls=["http://127.0.0.1:5000", "http://127.0.0.1:6000"])
    envs = gym.make_vec("WAA-v0", num_envs=2, vectorization_mode="vector_entry_point", mode="sync",
                        server_urls=["http://127.0.0.1:5000", "http://127.0.0.1:6000"], evaluate_url=None)
    envs.close()


def test_a_wrong_token_is_said_at_the_first_reset_and_is_one_slots_failure_in_a_vector_env(desktop_programs, tmp_path):
    from arena_gym.arena import LocalArena
    from arena_gym.envs.coordinator import WrongToken

    tasks = _noop_task_folder(tmp_path)
    with LocalArena(apps=[], token="right-token") as arena:
        env = gym.make("WAA-v0", server_url=arena.url, evaluate_url=None, token="wrong", tasks={"folder": tasks})
        try:
            with pytest.raises(WrongToken, match="refused this env's token"):
                env.reset(seed=0)
        finally:
            env.close()
        envs = gym.make_vec("WAA-v0", num_envs=2, vectorization_mode="vector_entry_point", mode="sync",
                            server_urls=[arena.url, arena.url], evaluate_url=None, token="wrong",
                            tasks={"folder": tasks}, settle={"timeout_s": 0})
        try:
            _, infos = envs.reset(seed=0)
            assert all(infos["_infra_error"]) and "token" in infos["infra_error"][0]
        finally:
            envs.close()


def test_text_observations_cross_shared_memory_whole_in_any_script():
    import copy

    from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

    from arena_gym.envs.spaces import AnyText

    space = AnyText(12)
    memory = create_shared_memory(space, n=3)
    view = read_from_shared_memory(space, memory, n=3)  # a vector env reads once, at its start
    for i, text in enumerate(["Ünïcødé → ✓", "", "x" * 100]):
        write_to_shared_memory(space, i, text, memory)
    first, empty, long = copy.deepcopy(view)  # what each step hands out
    assert first == "Ünïcødé → ✓" and empty == ""
    assert long == "x" * 48  # cut at the slot's capacity (4 bytes a character), never spilling into the next
