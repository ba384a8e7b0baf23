"""VM pools (configs/*.yaml): one entry per VM, so a vector env gives each sub-env its own."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..validation import field_errors
from .config import check_tunnel


class VM(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    server_url: str
    evaluate_url: str | None = None
    tunnel: dict | None = Field(None, description="an SSH tunnel to open for this VM (bridges.TunnelConfig)")

    @field_validator("tunnel")
    @classmethod
    def _tunnel_fields(cls, value: dict | None) -> dict | None:
        return check_tunnel(value)


class Pool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vms: list[VM] = Field(min_length=1)


def load_pool(path: str | Path) -> list[VM]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no pool file at {path}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    try:
        return Pool.model_validate(data).vms
    except ValidationError as exc:
        problems = field_errors(exc)
        raise ValueError(f"{path}: {problems}") from None
