"""The client against servers that misbehave: each fault is a typed error, raised in time, and an
action is never sent twice."""

from __future__ import annotations

import asyncio

import pytest

from arena_gym.protocol import (
    ActionFailed,
    ArenaClient,
    AsyncArenaClient,
    AuthError,
    DeliveryUncertain,
    ProtocolError,
    RetryPolicy,
    ServerError,
    TimedOut,
    Timeouts,
    Unreachable,
)

from .support.fault_server import (
    FaultServer,
    close_silently,
    png_bytes,
    refused_url,
    respond,
    server_error,
    stall,
    truncated_png,
)

FAST = Timeouts(connect=1.0, probe=0.5, screenshot=0.5, action=0.5, execute=0.5, file=0.5, setup=0.5)
RETRY = RetryPolicy(attempts=3, backoff_s=0.01)
# A fault that hung the client instead of raising would stall its test: this deadline fails it (the
# attempt counts below show the retries are bounded; no test asserts how long anything took).
pytestmark = pytest.mark.timeout(60)


def client(url: str) -> ArenaClient:
    return ArenaClient(url, dialect="waa", timeouts=FAST, retry=RETRY)


def test_refused_connection_is_unreachable():
    with client(refused_url()) as vm:
        with pytest.raises(Unreachable):
            vm.screenshot()
        with pytest.raises(Unreachable):
            vm.execute_windows("pyautogui.click(1, 1)")


def test_stalled_read_times_out_after_bounded_retries():
    with FaultServer({}) as srv:
        srv.routes[("GET", "/screenshot")] = stall(srv.release)
        with client(srv.url) as vm:
            with pytest.raises(TimedOut):
                vm.screenshot()
        assert srv.hits[("GET", "/screenshot")] == RETRY.attempts


def test_stalled_action_is_delivery_uncertain_and_never_resent():
    with FaultServer({}) as srv:
        srv.routes[("POST", "/execute_windows")] = stall(srv.release)
        with client(srv.url) as vm:
            with pytest.raises(DeliveryUncertain) as info:
                vm.execute_windows("import pyautogui; pyautogui.click(10, 10)")
            assert "not re-sent" in str(info.value)
        assert srv.hits[("POST", "/execute_windows")] == 1


def test_connection_dropped_after_action_is_delivery_uncertain():
    with FaultServer({("POST", "/execute"): close_silently}) as srv, client(srv.url) as vm:
        with pytest.raises(DeliveryUncertain):
            vm.execute(["touch", "/tmp/x"])
        assert srv.hits[("POST", "/execute")] == 1


def test_truncated_png_is_a_protocol_error():
    with FaultServer({("GET", "/screenshot"): truncated_png()}) as srv, client(srv.url) as vm:
        with pytest.raises(ProtocolError) as info:
            vm.screenshot()
        assert "screenshot" in str(info.value)
        # A read is retried, within its bound.
        assert srv.hits[("GET", "/screenshot")] == RETRY.attempts


def test_not_an_image_is_a_protocol_error():
    routes = {("GET", "/screenshot"): respond("200 OK", b"<html>oops</html>", "text/html")}
    with FaultServer(routes) as srv, client(srv.url) as vm, pytest.raises(ProtocolError, match="expected an image"):
        vm.screenshot()


def test_server_error_carries_the_servers_message():
    with FaultServer({("POST", "/setup/launch"): server_error("no such program")}) as srv, client(srv.url) as vm:
        with pytest.raises(ServerError) as info:
            vm.launch(["nope"])
        assert info.value.status_code == 500
        assert info.value.message == "no such program"
        assert srv.hits[("POST", "/setup/launch")] == 1


def test_500_on_an_action_is_the_agents_failure_not_infra():
    with FaultServer({("POST", "/execute_windows"): server_error("NameError: x")}) as srv, client(srv.url) as vm:
        with pytest.raises(ActionFailed, match="NameError"):
            vm.execute_windows("x")
        assert srv.hits[("POST", "/execute_windows")] == 1


def test_401_is_an_auth_error_and_not_retried():
    body = b'{"status": "error", "message": "missing token"}'
    with FaultServer({("GET", "/screenshot"): respond("401 UNAUTHORIZED", body, "application/json")}) as srv:
        with client(srv.url) as vm, pytest.raises(AuthError, match="missing token"):
            vm.screenshot()
        assert srv.hits[("GET", "/screenshot")] == 1


def test_good_screenshot_decodes_to_an_array():
    with FaultServer({("GET", "/screenshot"): respond("200 OK", png_bytes((64, 48)), "image/png")}) as srv:
        with client(srv.url) as vm:
            frame = vm.screenshot()
    assert frame.array.shape == (48, 64, 3)
    assert frame.array.dtype.name == "uint8"
    assert tuple(frame.array[0, 0]) == (200, 30, 30)


def test_async_client_maps_the_same_faults():
    async def scenario(srv: FaultServer) -> None:
        async with AsyncArenaClient(srv.url, dialect="waa", timeouts=FAST, retry=RETRY) as vm:
            with pytest.raises(DeliveryUncertain):
                await vm.execute_windows("pyautogui.press('a')")
            with pytest.raises(ProtocolError):
                await vm.screenshot()

    with FaultServer({}) as srv:
        srv.routes[("POST", "/execute_windows")] = stall(srv.release)
        srv.routes[("GET", "/screenshot")] = truncated_png()
        asyncio.run(scenario(srv))
        assert srv.hits[("POST", "/execute_windows")] == 1


def test_osworld_dialect_is_detected_by_probing():
    routes = {
        ("GET", "/platform"): respond("200 OK", b"Linux", "text/plain"),
        ("GET", "/screenshot"): respond("200 OK", png_bytes(), "image/png"),
    }
    with FaultServer(routes) as srv, ArenaClient(srv.url, timeouts=FAST, retry=RETRY) as vm:
        assert vm.dialect is None  # nothing was sent by the constructor
        assert srv.hits == {}
        vm.screenshot()
        assert vm.dialect == "osworld"
        assert srv.hits[("GET", "/probe")] == 1
        caps = vm.discover()
        assert not caps.step


def test_constructor_does_no_network_io():
    with FaultServer({}) as srv:
        ArenaClient(srv.url).close()
        assert sum(srv.hits.values()) == 0
