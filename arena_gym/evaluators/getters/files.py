"""Getters that read files from the VM or the host (spec 4.1: FILE and HOST mechanisms)."""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..context import EvalContext, or_none
from ..registry import Unscorable, getter

log = logging.getLogger(__name__)


def _pick(paths: list[Any], spec: dict[str, Any]) -> Any:
    gives = spec.get("gives", [0])
    picked = [paths[i] for i in gives]
    return picked[0] if len(picked) == 1 else picked


@getter("vm_file")
def vm_file(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """Copy VM file(s) to the cache; the local path (None when missing). ``multi`` takes lists;
    ``time_suffix`` appends today's date (``time_format``) to the VM file name."""
    if not spec.get("multi", False):
        paths, dests = [spec["path"]], [spec["dest"]]
    else:
        paths, dests = list(spec["path"]), list(spec["dest"])
    if spec.get("time_suffix", False):
        stamp = datetime.now().strftime(spec.get("time_format", "%Y_%m_%d"))
        paths = [re.sub(r"(\.[^.\\/]+)$", f"_{stamp}\\1", p) for p in paths]
    local = [ctx.fetch_vm_file(p, d) for p, d in zip(paths, dests)]
    return _pick(local, spec)


@getter("cloud_file")
def cloud_file(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """Host-side download (http(s), file:// or a path relative to the task's folder), cached."""
    if not spec.get("multi", False):
        urls, dests = [spec["path"]], [spec["dest"]]
    else:
        urls, dests = list(spec["path"]), list(spec["dest"])
    local = [str(ctx.fetcher.fetch(u, d, ctx.task_dir)) for u, d in zip(urls, dests)]
    return _pick(local, spec)


@getter("cache_file")
def cache_file(ctx: EvalContext, spec: dict[str, Any]) -> str:
    """A file a set-up or postconfig step wrote to the evaluation's cache (an execute step's ``stdout``).
    None there means the step that writes it failed: no score (OSWorld's assertion fails there too)."""
    from ...tasks.setup import cache_path

    path = cache_path(ctx.cache_dir, spec["path"])
    if not path.is_file():
        raise Unscorable(f"cache_file: {spec['path']} was not written (the task's step that writes it failed)")
    return str(path)


@getter("vlc_config")
def vlc_config(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    if ctx.vm_platform() == "windows":
        path = ctx.home("AppData", "Roaming", "vlc", "vlcrc")
    else:
        path = "~/.config/vlc/vlcrc"
    return ctx.fetch_vm_file(path, spec.get("dest", "vlcrc"))


@getter("gimp_config_file", platform="linux", why="GIMP's settings live in ~/.config/GIMP/2.10 on Linux (as OSWorld reads them)")
def gimp_config_file(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    """A file of GIMP 2.10's settings folder (gimprc, sessionrc, action-history), as ``dest``."""
    return ctx.fetch_vm_file(f"~/.config/GIMP/2.10/{spec['file_name']}", spec["dest"])


def _desktop_file(ctx: EvalContext, name: str) -> bytes | None:
    return or_none(ctx.client.file, ctx.vm_path(ctx.home("Desktop", name)))


@getter("is_file_saved_desktop")
def is_file_saved_desktop(ctx: EvalContext, spec: dict[str, Any]) -> str:
    data = _desktop_file(ctx, spec["filename"])
    return "true" if data is not None and spec["textcontent"] in data.decode(errors="replace") else "false"


@getter("is_file_desktop")
def is_file_desktop(ctx: EvalContext, spec: dict[str, Any]) -> str:
    return "true" if _desktop_file(ctx, spec["filename"]) is not None else "false"


@getter("vm_file_exists_in_vm_folder")
def vm_file_exists_in_vm_folder(ctx: EvalContext, spec: dict[str, Any]) -> float:
    return float(ctx.client.file_exists(ctx.vm_path(spec["folder_name"]), spec["file_name"]))


@getter("vm_file_exists_in_desktop")
def vm_file_exists_in_desktop(ctx: EvalContext, spec: dict[str, Any]) -> bool:
    return bool(ctx.client.file_exists(ctx.client.desktop_path(), spec["file_name"]))


@getter("vm_folder_exists_in_documents")
def vm_folder_exists_in_documents(ctx: EvalContext, spec: dict[str, Any]) -> bool:
    return bool(ctx.client.folder_exists(ctx.client.documents_path(), spec["folder_name"]))


@getter("is_files_moved_downloads")
def is_files_moved_downloads(ctx: EvalContext, spec: dict[str, Any]) -> str:
    """``"true"`` iff the file left Downloads and sits in ``Downloads/OldDownloads/<folder>``."""
    tree = ctx.client.list_directory(ctx.vm_path(ctx.home("Downloads")))

    def child(node: Any, name: str) -> Any:
        return next((c for c in node.children if c.name == name), None)

    gone = child(tree, spec["file_name"]) is None
    old = child(tree, "OldDownloads")
    folder = child(old, spec["folder_name"]) if old is not None else None
    moved = folder is not None and child(folder, spec["file_name"]) is not None
    return "true" if gone and moved else "false"


def _vm_image(ctx: EvalContext, path: str) -> Image.Image | None:
    data = or_none(ctx.client.file, ctx.vm_path(path))
    if data is None:
        return None
    try:
        return Image.open(io.BytesIO(data))
    except OSError:  # not an image: the agent's file is wrong, WAA's getter answers False
        return None


@getter("image_dimension_matches_input")
def image_dimension_matches_input(ctx: EvalContext, spec: dict[str, Any]) -> bool:
    img = _vm_image(ctx, spec["filepath"])
    return img is not None and img.size == (int(spec["width"]), int(spec["height"]))


@getter("is_red_circle_present_on_canvas")
def is_red_circle_present_on_canvas(ctx: EvalContext, spec: dict[str, Any]) -> bool:
    """Red pixels form a ring (their centroid far from each, at a steady radius) with a mostly white inside."""
    img = _vm_image(ctx, spec["filepath"])
    if img is None:
        return False
    rgb = np.asarray(img.convert("RGB")).astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 100) & (rgb[..., 2] < 100)
    ys, xs = np.nonzero(red)
    if len(xs) < 20:
        return False
    cx, cy = xs.mean(), ys.mean()
    radii = np.hypot(xs - cx, ys - cy)
    radius = float(np.median(radii))
    if radius < 5 or float(np.std(radii)) > 0.25 * radius:
        return False
    yy, xx = np.ogrid[: rgb.shape[0], : rgb.shape[1]]
    inside = np.hypot(xx - cx, yy - cy) < 0.8 * radius
    white = (rgb[..., 0] > 200) & (rgb[..., 1] > 200) & (rgb[..., 2] > 200)
    return bool(inside.sum() and (white & inside).sum() / inside.sum() > 0.8)


@getter("vm_wallpaper")
def vm_wallpaper(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    data = or_none(ctx.client.wallpaper)
    if data is None:
        return None
    target = ctx.cache_dir / spec.get("dest", "wallpaper.png")
    target.write_bytes(data)
    return str(target)


def _shortcuts(ctx: EvalContext, suffix: str) -> dict[str, str]:
    desktop = ctx.client.desktop_path()
    tree = ctx.client.list_directory(desktop)
    found = {}
    sep = "\\" if ctx.vm_platform() == "windows" else "/"
    for node in tree.children:
        if node.type == "file" and node.name and node.name.endswith(suffix):
            path = f"{desktop}{sep}{node.name}"
            found[path] = ctx.client.file(path).decode(errors="replace")
    return found


@getter("shortcuts_on_desktop")
def shortcuts_on_desktop(ctx: EvalContext, spec: dict[str, Any]) -> dict[str, str]:
    return _shortcuts(ctx, ".lnk" if ctx.vm_platform() == "windows" else ".desktop")


@getter("url_shortcuts_on_desktop")
def url_shortcuts_on_desktop(ctx: EvalContext, spec: dict[str, Any]) -> dict[str, str]:
    return {Path(p.replace("\\", "/")).name: c for p, c in _shortcuts(ctx, ".url").items()}


@getter("zipped_folder_in_desktop")
def zipped_folder_in_desktop(ctx: EvalContext, spec: dict[str, Any]) -> str:
    """``"true"`` iff ``filename`` is a password-protected 7z archive that ``password`` opens and that
    holds ``OldProjects/example.txt`` (WAA's file_explorer task b0c9dac6).

    WAA asks py7zr's ``needs_password()`` after opening with the password, which is true whenever a
    password was given, so an archive without one passes there; here it must really be protected."""
    import tempfile

    import py7zr

    data = or_none(ctx.client.file, ctx.vm_path(spec["filename"]))
    if data is None:
        return "false"  # WAA: no file, its getter raises, the single-metric loop scores 0
    try:
        if not _7z_protected(py7zr, data):
            return "false"
        with py7zr.SevenZipFile(io.BytesIO(data), mode="r", password=str(spec["password"])) as archive:
            with tempfile.TemporaryDirectory() as tmp:
                archive.extractall(path=tmp)  # decrypts: a wrong password fails here
                return "true" if (Path(tmp) / "OldProjects" / "example.txt").is_file() else "false"
    except Exception as exc:  # py7zr raises many kinds (LZMAError, CrcError, ...) for a wrong password
        log.info("zipped_folder_in_desktop: %s is not a 7z archive this password opens: %s", spec["filename"], exc)
        return "false"


def _7z_protected(py7zr: Any, data: bytes) -> bool:
    """Whether the archive's content cannot be read without a password."""
    import tempfile

    try:
        with py7zr.SevenZipFile(io.BytesIO(data), mode="r") as archive, tempfile.TemporaryDirectory() as tmp:
            archive.extractall(path=tmp)
        return False
    except Exception:  # encrypted headers or content (or not an archive: the caller finds out)
        return True
