"""VLC preference checks on a ``vlcrc`` file (the same INI format on Windows and Linux).

As WAA reads it: the last line containing ``key=`` wins (commented defaults included), and a key
that never appears has VLC's default value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..registry import metric


def _setting(path: str | None, key: str, default: str, needle: str | None = None) -> str | None:
    """The value of the last line containing ``needle`` (``key=`` unless given), else ``default``."""
    if not path:
        return None
    value = default
    needle = needle or f"{key}="
    for line in Path(path).read_text(encoding="utf-8", errors="replace").split("\n"):
        if needle in line:
            value = line.split("=")[-1].strip()
    return value


def _expect(rule: dict[str, Any], name: str) -> str:
    value = rule[name]
    return str(value) if isinstance(value, int) else value


def _simple(name: str, key: str, default: str, rule_key: str) -> None:
    @metric(name)
    def check(config_path: str | None, rule: dict[str, Any]) -> float:
        value = _setting(config_path, key, default)
        return float(value is not None and value == _expect(rule, rule_key))

    check.__name__ = name


_simple("check_qt_bgcone", "qt-bgcone", "1", "expected_qt_bgcone")
_simple("check_qt_max_volume", "qt-max-volume", "125", "expected_qt_max_volume")
_simple("check_qt_minimal_view", "qt-minimal-view", "0", "expected_qt_minimal_view")
_simple("check_qt_video_resize", "qt-video-autoresize", "0", "qt-video-autoresize")
_simple("check_one_instance_when_started_from_file", "one-instance-when-started-from-file", "1",
        "expected_one_instance_when_started_from_file")


@metric("is_vlc_recordings_folder")
def is_vlc_recordings_folder(config_path: str | None, rule: dict[str, Any]) -> float:
    """The first non-comment line mentioning ``input-record-path`` decides."""
    if not config_path:
        return 0.0
    for line in Path(config_path).read_text(encoding="utf-8", errors="replace").split("\n"):
        if line.startswith("#") or not line.strip():
            continue
        if "input-record-path" in line:
            return float(line.split("=")[-1].strip() == rule["recording_file_path"])
    return 0.0


@metric("check_global_key_play_pause")
def check_global_key_play_pause(config_path: str | None, rule: dict[str, Any]) -> float:
    if not config_path:
        return 0.0
    state = "0"
    for line in Path(config_path).read_text(encoding="utf-8", errors="replace").split("\n"):
        if "global-key-play-pause=" in line:
            state = "0" if line.split("=")[-1].strip() == "" else "1"
    return float(state == _expect(rule, "expected_global_key_play_pause"))


@metric("check_qt_slider_colours")
def check_qt_slider_colours(config_path: str | None, rule: dict[str, Any]) -> float:
    # WAA matches the bare key here (not ``key=``): any later line naming it, a description included, wins.
    colours = _setting(config_path, "qt-slider-colours", "153;210;153;20;210;20;255;199;15;245;39;29",
                       needle="qt-slider-colours")
    if colours is None:
        return 0.0
    if rule["type"] == "match":
        return float(colours == rule["expected_qt_slider_colours"])
    if rule["type"] == "blackish":
        try:
            values = [int(v) for v in colours.split(";")]
        except ValueError:  # WAA's int() raises: no score there; the agent's setting is not a colour list
            return 0.0
        triples = zip(values[0::3], values[1::3], values[2::3])
        return float(all(all(c < 100 for c in rgb) for rgb in triples))
    raise ValueError(f"check_qt_slider_colours: unknown rule type {rule['type']!r} (use match or blackish)")
