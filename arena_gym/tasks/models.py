"""The WAA / OSWorld task JSON (spec section 3) as pydantic models.

Every setup step type has a parameter model, so a typo in a task file is an error at load time
that names the field, not a surprise at setup time.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Params(BaseModel):
    # Stock tasks carry no unknown parameters; a stray key is almost always a typo.
    model_config = ConfigDict(extra="forbid")


class DownloadFile(_Params):
    url: str
    path: str


class DownloadParams(_Params):
    files: list[DownloadFile]


class UploadFileEntry(_Params):
    local_path: str
    path: str


class UploadFileParams(_Params):
    files: list[UploadFileEntry]


class CommandParams(_Params):
    """``launch``: start a program without waiting."""

    command: list[str] | str
    shell: bool | str = False


class UntilSpec(_Params):
    returncode: int | None = None
    stdout: str | None = None
    stderr: str | None = None


class ExecuteParams(_Params):
    """``execute`` / ``command``: run and wait; repeat until ``until`` matches (at most 5 failures)."""

    command: list[str] | str
    shell: bool | str = False
    stdout: str | None = None
    stderr: str | None = None
    until: UntilSpec | None = None


class PathParams(_Params):
    path: str


class CreateFileParams(_Params):
    path: str
    content: str = ""


class SleepParams(_Params):
    seconds: float = Field(1.0, ge=0)


class WindowParams(_Params):
    window_name: str
    strict: bool = False
    by_class: bool = False


class EmptyParams(_Params):
    pass


class OpenTabsParams(_Params):
    urls_to_open: list[str]


class CloseTabsParams(_Params):
    urls_to_close: list[str]


class HistoryEntry(_Params):
    url: str
    title: str
    visit_time_from_now_in_seconds: float


class HistoryParams(_Params):
    history: list[HistoryEntry]


class BrowserParams(_Params):
    browser: str


class GoogleDriveParams(_Params):
    """OSWorld's Google Drive set-up (PyDrive with the task suite's own credentials file)."""

    settings_file: str
    operation: list[str] = Field(default_factory=list)
    args: list[dict[str, Any]] = Field(default_factory=list)


class LoginParams(_Params):
    """OSWorld's sign-in to a web service in the browser (credentials from ``settings_file``)."""

    settings_file: str
    platform: str


STEP_PARAMS: dict[str, type[_Params]] = {
    "download": DownloadParams,
    "upload_file": UploadFileParams,
    "launch": CommandParams,
    "execute": ExecuteParams,
    "command": ExecuteParams,
    "open": PathParams,
    "sleep": SleepParams,
    "activate_window": WindowParams,
    "close_window": WindowParams,
    "close_all": EmptyParams,
    "create_folder": PathParams,
    "create_file": CreateFileParams,
    "recycle_file": PathParams,
    "change_wallpaper": PathParams,
    "clear_task_files": EmptyParams,
    "chrome_open_tabs": OpenTabsParams,
    "edge_open_tabs": OpenTabsParams,
    "chrome_close_tabs": CloseTabsParams,
    "update_browse_history": HistoryParams,
    "update_browse_history_edge": HistoryParams,
    "set_default_browser": BrowserParams,
    "googledrive": GoogleDriveParams,
    "login": LoginParams,
}


def _drop_comments(value: Any) -> Any:
    """Keys starting with ``_`` are comments in task files (``_comment``, ``_comments``); WAA ignores them."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))}
    return value


class Step(BaseModel):
    """One setup step: ``{"type": T, "parameters": {...}}``."""

    model_config = ConfigDict(extra="forbid")
    type: str
    parameters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _comments(cls, value: Any) -> Any:
        return _drop_comments(value)

    @model_validator(mode="after")
    def _check_parameters(self) -> Step:
        model = STEP_PARAMS.get(self.type)
        if model is None:
            raise ValueError(f"unknown setup step type {self.type!r}; known types: {', '.join(sorted(STEP_PARAMS))}")
        model.model_validate(self.parameters)
        return self

    @property
    def params(self) -> Any:
        """The parameters as their typed model."""
        return STEP_PARAMS[self.type].model_validate(self.parameters)


class GetterSpec(BaseModel):
    """``{"type": T, ...}``: which getter to call, with its own keys."""

    model_config = ConfigDict(extra="allow")
    type: str

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class EvaluatorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    func: str | list[str]
    conj: Literal["and", "or"] = "and"
    result: GetterSpec | list[GetterSpec] | None = None
    expected: GetterSpec | list[GetterSpec | None] | None = None
    options: dict[str, Any] | list[dict[str, Any]] | None = None
    postconfig: list[Step] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _comments(cls, value: Any) -> Any:
        return _drop_comments(value)

    @field_validator("result", "expected", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: Any) -> Any:
        # Two stock infeasible tasks write "result": {}, meaning "no getter".
        return None if value == {} else value

    @field_validator("func")
    @classmethod
    def _func_not_empty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("func list is empty; give at least one metric name")
        return value

    @model_validator(mode="after")
    def _lists_line_up(self) -> EvaluatorSpec:
        if isinstance(self.func, list):
            n = len(self.func)
            for name in ("result", "expected", "options"):
                value = getattr(self, name)
                if isinstance(value, list) and len(value) != n:
                    raise ValueError(f"func lists {n} metrics but {name} has {len(value)} entries; give one per metric")
            if self.result is not None and not isinstance(self.result, list):
                raise ValueError("func is a list, so result must be a list (one getter per metric)")
        return self

    @property
    def metrics(self) -> list[str]:
        return self.func if isinstance(self.func, list) else [self.func]

    @property
    def infeasible(self) -> bool:
        return self.func == "infeasible"


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class Task(BaseModel):
    """A task file. ``task_id`` is the file stem (the id WAA's suites use), not always ``id``."""

    model_config = ConfigDict(extra="allow")
    id: str
    instruction: str
    config: list[Step] = Field(default_factory=list)
    evaluator: EvaluatorSpec
    snapshot: str = ""
    source: str | list[str] | None = None  # provenance: a URL, a list of them, or null in 3 stock files
    trajectory: str = ""
    related_apps: list[str] = Field(default_factory=list)
    # Set by the loader (not in the file).
    task_id: str = ""
    domain: str = ""
    path: str | None = None
    # arena-gym extension for local tasks: a scripted solution (agent code, one string per step).
    oracle: list[str] | None = None
    # Whose semantics score it where a metric's name means different things (WAA's, OSWorld's). Task files
    # may say so; otherwise OSWorld's ids are bare UUIDs and everything else is scored as WAA scores it.
    benchmark: Literal["waa", "osworld"] | None = None

    @model_validator(mode="after")
    def _default_task_id(self) -> Task:
        if not self.task_id:
            self.task_id = self.id
        if self.benchmark is None:
            self.benchmark = "osworld" if _UUID.fullmatch(self.id) else "waa"
        return self
