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


# ---- OSWorld's: what VLC is playing (its HTTP interface's status.xml) and whether it fills the screen
_FILE_FIELDS = ("filename", "title", "uri", "location", "name")
_URL_FIELDS = [("meta", f) for f in ("url", "URI", "location", "title", "filename")] + [
    ("Stream 0", f) for f in ("Codec", "Type", "Language")]


def _first_info(tree: Any, fields: list[tuple[str, str]]) -> str | None:
    for category, name in fields:
        element = tree.find(f'information/category[@name="{category}"]/info[@name="{name}"]')
        if element is not None and element.text:
            return str(element.text)
    return None


@metric("is_vlc_playing")
def is_vlc_playing(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """VLC's state is ``playing`` and what it plays is the expected file (by base name, or the end of
    its path) or URL (contained; for HLS streams the file part; or the same host and path), reading the
    fields OSWorld reads in its order. No status (VLC not running, its HTTP interface off) scores 0;
    OSWorld raises there."""
    import os
    from urllib.parse import urlparse
    from xml.etree import ElementTree

    if result is None:
        return 0.0
    tree = ElementTree.fromstring(Path(result).read_bytes().decode("utf-8"))
    state = tree.find("state")
    if state is None or state.text != "playing":
        return 0.0
    if rules["type"] == "file_name":
        info = _first_info(tree, [("meta", f) for f in _FILE_FIELDS])
        wanted = rules["file_name"]
        return float(bool(info) and (os.path.basename(info or "") == wanted or (info or "").endswith(wanted)))
    if rules["type"] == "url":
        info = _first_info(tree, _URL_FIELDS)
        if not info:
            return 0.0
        wanted_url = rules["url"]
        if wanted_url in info or info.endswith(wanted_url):
            return 1.0
        expected = urlparse(wanted_url)
        if info == os.path.basename(expected.path):
            return 1.0
        if "://" in info:
            actual = urlparse(info)
            return float(expected.netloc == actual.netloc and expected.path in actual.path)
        return 0.0
    return 0.0


@metric("is_vlc_fullscreen")
def is_vlc_fullscreen(result: dict[str, int] | None, expected: dict[str, int] | None, **_: Any) -> float:
    """VLC's window is the size of the screen (OSWorld: the window size, then the screen size; either
    missing scores 0)."""
    if result is None or expected is None:
        return 0.0
    return float(result["width"] == expected["width"] and result["height"] == expected["height"])
