"""Validation errors said in one line: each bad field by its dotted path, and what it must be."""

from __future__ import annotations

from pydantic import ValidationError


def field_errors(exc: ValidationError, skip: int = 0, empty: str = "body") -> str:
    """``settle.stable_ms: Input should be ...; x: Field required``. ``skip`` drops leading path parts
    (a tagged union's tag); ``empty`` names an error about the whole value."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'][skip:]) or empty}: {e['msg']}" for e in exc.errors())
