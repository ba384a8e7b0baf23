"""Malformed bodies, a few hundred per route, on both servers: each is answered (never a hang, never a
crash) and the server is still healthy and serving after each.

Bodies are made from each route's own request shape: every field dropped, every field replaced by
hostile values (wrong types, NaN and huge numbers, deep nesting, NUL bytes, long strings), unknown fields
added, and seeded random JSON; plus bytes that are not JSON at all.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from arena_gym.protocol.models import SettleSpec, StepRequest

from .support.evaluate import evaluate_server

pytestmark = pytest.mark.desktop

HOSTILE: list[Any] = [None, True, -1, 0, 2**63, -(2**63), 1e308, -1e308, math.nan, math.inf, "", "relative/path",
                      "\x00", "x" * 10_000, [], [1, [2, [3]]], {}, {"a": {"b": {"c": {}}}}, "~/fuzz/../..",
                      "import os", 3.5]

# A valid body per route (paths only under a scratch folder in the arena's home).
DESKTOP_ROUTES: dict[str, dict[str, Any]] = {
    "/execute": {"command": ["true"], "shell": False},
    "/execute_windows": {"command": "x = 1"},
    "/arena/step": StepRequest(command="", settle=SettleSpec(timeout_s=0.2, stable_ms=20)).model_dump(),
    "/list_directory": {"path": "~/fuzz"},
    "/file_exists": {"path": "~/fuzz", "file_name": "a.txt"},
    "/folder_exists": {"path": "~/fuzz", "folder_name": "d"},
    "/setup/create_folder": {"path": "~/fuzz/d"},
    "/setup/create_file": {"path": "~/fuzz/a.txt", "content": "x"},
    "/setup/activate_window": {"window_name": "no such window", "strict": False, "timeout": 0},
    "/setup/close_window": {"window_name": "no such window"},
    "/setup/open_file": {"path": "~/fuzz/missing.txt"},
    "/update_computer": {"rects": [], "window_rect": [0, 0, 10, 10], "scale": [1, 1]},
}
EVALUATE_ROUTES: dict[str, dict[str, Any]] = {
    "/setup": {"config": [{"type": "sleep", "parameters": {"seconds": 0}}]},
    "/evaluate": {"id": "x", "instruction": "i", "config": [], "evaluator": {"func": "infeasible"}},
}


def _deep(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = [value]
    return value


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([rng.randint(-10**6, 10**6), rng.random() * 1e6, -0.0])
    if kind == 2:
        return "".join(rng.choice("ab~/.\\\x00 \u2014{}") for _ in range(rng.randrange(0, 40)))
    if kind == 3:
        return rng.choice(HOSTILE)
    if kind == 4:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {rng.choice(["command", "path", "settle", "x", "config", "type", ""]): _random_json(rng, depth + 1)
            for _ in range(rng.randrange(0, 5))}


def bodies(valid: dict[str, Any], rng: random.Random, count: int = 200) -> Iterator[bytes]:
    """Malformed variants of ``valid``, as raw bytes."""
    made = 0
    for key in valid:
        variant = dict(valid)
        del variant[key]
        yield json.dumps(variant).encode()
        made += 1
        for bad in HOSTILE:
            yield json.dumps({**valid, key: bad}).encode()
            made += 1
    yield json.dumps({**valid, "unexpected": 1}).encode()
    yield json.dumps(_deep(200)).encode()
    yield b"{not json"
    yield b"\xff\xfe\x00"
    yield b"[]"
    yield b"null"
    while made < count:
        yield json.dumps(_random_json(rng)).encode()
        made += 1


def _hammer(base: str, routes: dict[str, dict[str, Any]], headers: dict[str, str], health: str) -> int:
    sent = 0
    rng = random.Random(7)
    with httpx.Client(base_url=base, timeout=30, headers=headers) as http:
        for route, valid in routes.items():
            for body in bodies(valid, rng):
                r = http.post(route, content=body, headers={"Content-Type": "application/json"})
                assert r.status_code in (200, 400, 404, 408, 413, 415, 422, 500, 503), (route, body[:200], r.status_code)
                assert r.headers.get("content-type", "").startswith(("application/json", "text/", "image/")), route
                sent += 1
                assert http.get(health).status_code == 200, (route, body[:200])
    return sent


@pytest.mark.slow
def test_the_desktop_server_survives_malformed_bodies_on_every_route(arena):
    (arena.home / "fuzz").mkdir(exist_ok=True)
    sent = _hammer(arena.url, DESKTOP_ROUTES, arena.auth_headers(), "/probe")
    assert sent >= 200 * len(DESKTOP_ROUTES)
    # Still serving real work afterwards.
    with httpx.Client(base_url=arena.url, timeout=30, headers=arena.auth_headers()) as http:
        assert http.get("/screenshot").status_code == 200
        assert http.post("/execute_windows", json={"command": "import pyautogui; pyautogui.moveTo(3, 3)"}).json() == {
            "status": "success"}


@pytest.mark.slow
def test_the_evaluate_server_survives_malformed_bodies(arena):
    with evaluate_server(arena.url, "--platform", "linux") as url:
        sent = _hammer(url, EVALUATE_ROUTES, {}, "/probe")
        assert sent >= 200 * len(EVALUATE_ROUTES)
