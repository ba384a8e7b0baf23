"""The env's one config: plain JSON-able values in, validated, with errors that name the field."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..protocol import SettleSpec, Timeouts
from ..suites import NAMED


def check_tunnel(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ``tunnel`` mapping whose fields are bridges.TunnelConfig's (a typo is named here, not at connect)."""
    if value is None:
        return None
    from bridges.tunnel import TunnelConfig, TunnelError

    try:
        TunnelConfig.from_dict(dict(value))
    except TunnelError as exc:
        raise ValueError(str(exc)) from None
    return value


def check_arena(value: dict[str, Any]) -> dict[str, Any]:
    """An ``arena`` mapping whose fields are LocalArena's options (a typo is named here, not at reset)."""
    import difflib
    import inspect

    from ..arena.local import LocalArena

    known = [p for p in inspect.signature(LocalArena.__init__).parameters if p != "self"]
    for key in value:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"arena: unknown field {key!r}{hint}; known fields: {', '.join(known)}")
    return value


DEFAULT_SERVER_URL = "http://127.0.0.1:5000"  # `ssh -L 5000:localhost:5000` to the VM host
DEFAULT_EVALUATE_URL = "http://127.0.0.1:5051"  # `ssh -L 5051:localhost:5051` (the bridge to the container)


class TaskSelection(BaseModel):
    """Which tasks ``reset`` draws from (seeded). ``reset(options={"task_id": ...})`` picks one."""

    model_config = ConfigDict(extra="forbid")
    source: Literal["local", "folder", "suite", "evaluate_server"] | None = Field(
        None, description="where tasks come from; None: the local suite for local arenas, else the folder/suite given")
    folder: str | None = Field(None, description="a WAA checkout's task folder (examples/<domain>/<id>.json)")
    suite: str | None = Field(None, description="a suite file such as test_all.json")
    ids: list[str] | None = Field(None, description="only these task ids")
    domains: list[str] | None = Field(None, description="only these domains")
    linux_only: bool = Field(False, description="drop tasks that need Windows (for Linux desktops)")

    @model_validator(mode="after")
    def _named_suites(self) -> TaskSelection:
        # The suites shipped with the package have names: {"suite": "local"} is the local suite.
        if self.suite is not None and self.suite in NAMED and not Path(self.suite).exists():
            self.suite, self.source = None, "local"  # the one shipped suite
        return self


class ObservationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    width: int = Field(1280, ge=16, le=7680)
    height: int = Field(800, ge=16, le=4320)
    image_format: Literal["png", "jpeg", "webp"] = Field("png", description="wire format (JPEG is ~3x faster)")
    jpeg_quality: int | None = Field(None, ge=1, le=100)
    accessibility: bool = Field(False, description="add the accessibility tree (slow on Windows: minutes)")
    cursor: bool = Field(False, description="add the pointer position")
    max_text: int = Field(65536, ge=16, description="longest text observation (instruction, a11y tree)")


class EnvConfig(BaseModel):
    """Everything ``gym.make(...)`` accepts. Constructing it does no network I/O."""

    model_config = ConfigDict(extra="forbid")
    server_url: str | None = Field(None, description="the VM server; None for a local arena started by the env")
    evaluate_url: str | None = Field(None, description="the evaluate server next to the VM (setup and scoring)")
    dialect: Literal["auto", "waa", "osworld"] = "auto"
    control_channel: bool = Field(True, description="structured actions on an OSWorld server's in-process control "
                                  "channel when it offers one (False: always python -c through /execute)")
    token: str | None = Field(None, description="token the servers want (when they bind off loopback)")
    tunnel: dict[str, Any] | None = Field(None, description="open an SSH tunnel first (see bridges.TunnelConfig)")

    @field_validator("arena")
    @classmethod
    def _arena_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_arena(value)

    @field_validator("tunnel")
    @classmethod
    def _tunnel_fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_tunnel(value)
    tasks: TaskSelection = Field(default_factory=TaskSelection)
    cdp_url: str | None = Field(
        None, description="the browser's DevTools port as this machine reaches it (an OSWorld VM's "
        "http://VM:9222, or a tunnel's end); None: through the VM's /execute (the local arena)")
    asset_mirrors: dict[str, str] = Field(
        default_factory=dict, description="URL prefix -> replacement for the task files setup downloads and scoring "
        "fetches (a local copy of a benchmark's assets, a proxy, a file:// folder)")
    observation: ObservationConfig = Field(default_factory=ObservationConfig)
    action_face: Literal["structured", "pyautogui"] = Field(
        "structured", description="structured: computer_13 JSON actions; pyautogui: Python code strings")
    code_policy: Literal["any", "pyautogui_calls"] = Field(
        "any", description="pyautogui face only. any: any Python runs (WAA's rule); pyautogui_calls: only calls "
                           "of pyautogui's input functions on literal arguments, so a policy cannot write the scored "
                           "file itself (for RL)")
    max_steps: int = Field(15, ge=1, le=10_000, description="WAA's default is 15")
    settle: SettleSpec = Field(default_factory=SettleSpec)
    reset_settle: SettleSpec = Field(
        default_factory=lambda: SettleSpec(timeout_s=20.0, stable_ms=500.0),
        description="settle after setup (apps start slowly)")
    wait_action_s: float = Field(1.0, ge=0, le=60, description="how long the WAIT action waits before observing")
    timeouts: Timeouts = Field(default_factory=Timeouts)
    reward_mode: Literal["sparse", "binary"] = Field(
        "sparse", description="sparse: the evaluator's score at the end; binary: 1 if score >= 1 else 0")
    setup_via: Literal["auto", "evaluate_server", "client"] = "auto"
    score_via: Literal["auto", "evaluate_server", "client"] = "auto"
    platform: Literal["windows", "linux"] | None = Field(None, description="the VM's OS; None: ask it")
    close_windows_on_reset: bool = Field(False, description="close every window before a task's setup")
    unreachable_at_start: Literal["raise", "truncate"] = Field(
        "raise", description="nothing answers at the first reset: raise a message saying what to start (one env), "
                             "or truncate with infra_error like any later outage (a vector env's sub-envs)")
    max_consecutive_failures: int = Field(3, ge=1, description="then the env reconnects on the next reset")
    cache_dir: str | None = None
    arena: dict[str, Any] = Field(default_factory=dict, description="LocalArena options when the env starts one")

    @model_validator(mode="after")
    def _check(self) -> EnvConfig:
        if self.evaluate_url and self.server_url is None:
            raise ValueError("evaluate_url given without server_url: give both, or neither for a local arena")
        return self

    @property
    def local(self) -> bool:
        return self.server_url is None

    def resolved_cache_dir(self) -> Path:
        return Path(self.cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "arena-gym"))


def from_environment(**overrides: Any) -> dict[str, Any]:
    """``WAA-v0`` defaults: URLs from ARENA_SERVER_URL / ARENA_EVALUATE_URL, else an SSH tunnel's ports."""
    values: dict[str, Any] = {
        "server_url": os.environ.get("ARENA_SERVER_URL", DEFAULT_SERVER_URL),
        "evaluate_url": os.environ.get("ARENA_EVALUATE_URL", DEFAULT_EVALUATE_URL),
    }
    if os.environ.get("ARENA_WAA_TASKS"):
        values["tasks"] = {"folder": os.environ["ARENA_WAA_TASKS"]}
    if os.environ.get("ARENA_TOKEN"):
        values["token"] = os.environ["ARENA_TOKEN"]
    values.update(overrides)
    return values
