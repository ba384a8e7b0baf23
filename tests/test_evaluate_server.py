"""The evaluate server, sent stock WAA request bodies, setting up and scoring tasks on a real desktop."""

from __future__ import annotations

import httpx
import pytest

from arena_gym.arena import LocalArena

from .support.evaluate import evaluate_server
from .support.fault_server import refused_url
from .support.polling import wait_for


@pytest.fixture
def desk(desktop_programs):
    with LocalArena(apps=[]) as arena:
        yield arena


@pytest.fixture
def ev(desk):
    with evaluate_server(desk.url) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield client


def task_json(ev: httpx.Client, task_id: str) -> dict:
    r = ev.get(f"/task/{task_id}")
    assert r.status_code == 200
    return r.json()


def test_probe_and_task_lookup(ev):
    assert ev.get("/probe").json() == {"status": "ok", "service": "evaluate_server"}
    assert task_json(ev, "term-greeting")["id"] == "term-greeting"
    r = ev.get("/task/no-such-task")
    assert r.status_code == 404 and r.json() == {"error": "Task no-such-task not found"}
    assert ev.get("/task/..%2F..%2Fetc").status_code == 404


def test_stock_setup_then_evaluate_scores_the_real_state(ev, desk):
    task = task_json(ev, "term-greeting")
    r = ev.post("/setup", json={"config": task["config"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "results": [{"type": "execute", "status": "ok"},  # the task clears its file
                                                    {"type": "launch", "status": "ok"},
                                                    {"type": "activate_window", "status": "ok"}]}
    # Nothing done yet: a genuine 0.
    body = {**task, "agent_last_action": "DONE"}
    r = ev.post("/evaluate", json=body)
    assert r.status_code == 200
    assert r.json()["score"] == 0.0 and r.json()["success"] is False and r.json()["reward_valid"] is True
    # Act on the real terminal through the desktop server, then score again.
    code = ("computer.window_manager.switch_to_application('Terminal')\n"
            "import pyautogui; pyautogui.write(\"echo 'hi there' > ~/Desktop/greeting.txt\\n\")")
    assert httpx.post(desk.url + "/execute_windows", json={"command": code}, timeout=30).status_code == 200
    wait_for(lambda: (desk.home / "Desktop/greeting.txt").is_file(), what="greeting.txt written")
    r = ev.post("/evaluate", json=body)
    assert r.json()["score"] == 1.0 and r.json()["success"] is True and r.json()["reason"] == "Score: 1.00"
    # FAIL as the last action on a feasible task scores 0 (WAA's rule).
    assert ev.post("/evaluate", json={**task, "agent_last_action": "FAIL"}).json()["score"] == 0.0


def test_options_and_cloud_files_on_a_stock_body(ev, desk):
    task = task_json(ev, "term-count-lines")
    # Its download is a path relative to the task's folder: the body names the task (an added key).
    r = ev.post("/setup", json={"config": task["config"], "id": task["id"]})
    assert r.status_code == 200, r.text
    assert (desk.home / "Documents/data.csv").read_text().startswith("city,temp")
    (desk.home / "Desktop/count.txt").write_text("  5 \n")
    # options.ignore_blanks is passed to the metric, so padding does not matter.
    assert ev.post("/evaluate", json=task).json()["score"] == 1.0
    del task["evaluator"]["options"]
    assert ev.post("/evaluate", json=task).json()["score"] == 0.0


def test_infeasible_scored_by_last_action(ev):
    body = {"id": "inf", "instruction": "impossible", "config": [], "evaluator": {"func": "infeasible"}}
    assert ev.post("/evaluate", json={**body, "agent_last_action": "FAIL"}).json()["score"] == 1.0
    assert ev.post("/evaluate", json={**body, "agent_last_action": "DONE"}).json()["score"] == 0.0


def test_bad_input_gets_clear_errors_and_the_server_keeps_serving(ev):
    r = ev.post("/evaluate", content=b"")
    assert r.status_code == 400 and r.json() == {"error": "No task config"}
    r = ev.post("/evaluate", content=b"{broken", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    r = ev.post("/evaluate", json={"id": "x", "instruction": "i", "config": []})
    assert r.json() == {"success": False, "score": 0.0, "reason": "No evaluator config"}
    # An unknown metric: the task cannot be scored; the answer says so and is no valid 0.
    r = ev.post("/evaluate", json={"id": "x", "instruction": "i", "evaluator": {"func": "exact_mach"}})
    answer = r.json()
    assert r.status_code == 200 and answer["reward_valid"] is False and answer["kind"] == "unscorable"
    assert "unknown metric 'exact_mach'" in answer["unscorable"] and answer["success"] is False
    r = ev.post("/evaluate", json={"id": "x", "instruction": "i", "evaluator": {"func": 3}})
    assert r.status_code == 400 and "evaluator.func" in r.json()["reason"]
    # A getter on a missing file is a genuine 0, not an error.
    missing = {"id": "x", "instruction": "i", "evaluator": {
        "func": "compare_text_file", "result": {"type": "vm_file", "path": "~/nope.txt", "dest": "n.txt"},
        "expected": {"type": "rule", "rules": {}}}}
    r = ev.post("/evaluate", json=missing)
    assert r.status_code == 200 and r.json()["score"] == 0.0 and r.json()["reward_valid"] is True
    r = ev.post("/setup", json={"config": [{"type": "teleport", "parameters": {}}]})
    assert r.status_code == 422 and "teleport" in r.json()["error"]
    r = ev.post("/setup", json={"config": [{"type": "open", "parameters": {"path": "~/no/such/file.txt"}}]})
    assert r.status_code == 422
    assert r.json()["results"][0]["status"] == "error" and "not found" in r.json()["results"][0]["error"].lower()
    r = ev.post("/evaluate", content=b"x" * (17 * 1024 * 1024), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert ev.get("/probe").status_code == 200


def test_unreachable_vm_is_reported_as_infra_not_a_zero(desktop_programs):
    with evaluate_server(refused_url(), "--platform", "linux") as url, httpx.Client(base_url=url, timeout=60) as ev:
        task = ev.get("/task/te-type-hello").json()
        del task["evaluator"]["postconfig"]
        r = ev.post("/evaluate", json=task)
        assert r.status_code == 200
        body = r.json()
        assert body["score"] == 0.0 and body["reward_valid"] is False and "vm_file" in body["infra_error"]
        r = ev.post("/setup", json={"config": [{"type": "create_folder", "parameters": {"path": "~/x"}}]})
        assert r.status_code == 422 and r.json().get("infra_error")
