"""File routes of the stock protocol: download, upload, listing and existence checks."""

from __future__ import annotations

import mimetypes
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from ..arena.sandbox import Sandbox
from .desktop import expand_path, sandboxed
from .pools import slow
from .stock import Fail, json_body, ok

_SANDBOX = Sandbox.from_env()


def hand_over(path: Path) -> None:
    """In a sandboxed arena, give what this server wrote to the sandbox's account, so its apps can change it."""
    if _SANDBOX is not None:
        _SANDBOX.hand_over(path)


def checked_path(raw: Any, what: str = "file_path", missing: str | None = None) -> Path:
    """A path from a request: a non-empty string, no NUL byte, absolute once ``~`` and ``$VARS`` expand.
    ``missing`` is the stock server's own error text when the field is absent."""
    if not isinstance(raw, str) or not raw.strip():
        raise Fail(400, {"error": missing or f"{what} is required"})
    if "\x00" in raw:
        raise Fail(400, {"error": f"{what} contains a NUL byte"})
    path = Path(expand_path(raw))
    if not path.is_absolute():
        raise Fail(400, {"error": f"{what} must be absolute (or start with ~): {raw!r}"})
    return path


async def get_file(request: Request) -> Response:
    form = await request.form()
    path = checked_path(form.get("file_path"))
    if not path.is_file():
        raise Fail(404, {"error": "File not found"})
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=path.name)


async def upload(request: Request) -> Response:
    """Store a multipart upload. Its size is capped as it streams in, by the request guard."""
    form = await request.form(max_part_size=1024 * 1024)
    both = "file_path and file_data are required"
    path = checked_path(form.get("file_path"), missing=both)
    data = form.get("file_data")
    if not isinstance(data, UploadFile):
        raise Fail(400, {"error": both})
    if path.is_dir():
        raise Fail(400, {"error": f"{str(path)!r} is a directory; give the path of a file in it"})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # as OSWorld's server does (WAA's would refuse)
    except OSError as exc:
        raise Fail(500, {"status": "error", "message": f"cannot make {str(path.parent)!r}: {exc}"}) from exc
    tmp = path.with_name(f".{path.name}.part")
    try:
        with open(tmp, "wb") as out:
            while chunk := await data.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, path)
        hand_over(path)
    finally:
        tmp.unlink(missing_ok=True)  # nothing half-written stays behind, whatever failed
    return PlainTextResponse("File Uploaded", media_type="text/html")


MAX_TREE_NODES = 200_000


def _tree(path: Path, budget: list[int]) -> dict[str, Any]:
    """WAA's recursive listing; an entry that cannot be read is reported in place, not a failure of all."""
    node: dict[str, Any] = {"type": "directory", "name": path.name, "children": []}
    try:
        entries = sorted(os.listdir(path))
    except OSError as exc:
        return {"error": str(exc)}
    for name in entries:
        budget[0] -= 1
        if budget[0] < 0:
            node["truncated"] = True  # past MAX_TREE_NODES: a listing that size is no one's answer
            break
        child = path / name
        try:
            is_dir = child.is_dir() and not child.is_symlink()
        except OSError as exc:
            node["children"].append({"type": "file", "name": name, "error": str(exc)})
            continue
        node["children"].append(_tree(child, budget) if is_dir else {"type": "file", "name": name})
    return node


async def list_directory(request: Request) -> Response:
    body = await json_body(request)
    path = checked_path(body.get("path"), "path", missing="Missing 'path' parameter")
    if not path.is_dir():
        raise Fail(400, {"error": "The provided path is not a directory"})
    # A big tree takes seconds: off the event loop, in the pool for slow work.
    return JSONResponse({"directory_tree": await slow(_tree, path, [MAX_TREE_NODES])})


def _exists(kind: str):  # noqa: ANN202 - returns a route
    """``/file_exists`` and ``/folder_exists``: the status code is the answer (200 yes, 400 no)."""

    async def route(request: Request) -> Response:
        body = await json_body(request)
        name_key = "file_name" if kind == "file" else "folder_name"
        for key in (name_key, "path"):  # the stock server's order and words
            if not body.get(key):
                return JSONResponse({"error": f"{key} required"}, 400)
        name, where = str(body[name_key]), str(body["path"])
        target = checked_path(where, "path") / name
        exists = target.is_file() if kind == "file" else target.is_dir()
        if exists:
            return ok(f"{kind.capitalize()} {name} exists in {where}.")
        return JSONResponse({"status": "error", "message": f"{kind.capitalize()} {name} does not exist in {where}."},
                            400)

    return route


file_exists = _exists("file")
folder_exists = _exists("folder")


def _home_dir(name: str, key: str):  # noqa: ANN202 - returns a route
    async def route(request: Request) -> Response:
        path = Path.home() / name
        if not path.is_dir():
            raise Fail(404, {"error": f"{name} folder not found: {path}"})
        return JSONResponse({key: str(path)})

    return route


desktop_path = _home_dir("Desktop", "desktop_path")
documents_path = _home_dir("Documents", "documents_path")


async def create_folder(request: Request) -> Response:
    path = checked_path((await json_body(request)).get("path"), "path", missing="path required")
    if path.is_dir():
        return ok(f"{path} already exists.")
    path.mkdir(parents=True)
    hand_over(path)
    return ok(f"{path} created.")


async def create_file(request: Request) -> Response:
    body = await json_body(request)
    path = checked_path(body.get("path"), "path", missing="path required")
    content = body.get("content", "")
    if not isinstance(content, str):
        raise Fail(400, {"status": "error", "message": "content must be a string"})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    hand_over(path)
    return ok(f"{path} created.")


async def recycle(request: Request) -> Response:
    """Move to the freedesktop trash (what ``send2trash`` does on Linux)."""
    path = checked_path((await json_body(request)).get("path"), "path", missing="Missing 'path' parameter")
    if not path.exists():
        raise Fail(400, {"status": "error", "message": f"Path not found: {path}"})
    trash = Path.home() / ".local/share/Trash"
    (trash / "files").mkdir(parents=True, exist_ok=True)
    (trash / "info").mkdir(parents=True, exist_ok=True)
    # The freedesktop trash keeps both of two files of one name: "a.txt", then "a.2.txt", ...
    stem, suffix = (path.stem, path.suffix) if path.is_file() else (path.name, "")
    name, n = path.name, 1
    while (trash / "files" / name).exists() or (trash / "info" / f"{name}.trashinfo").exists():
        n += 1
        name = f"{stem}.{n}{suffix}"
    from datetime import datetime
    from urllib.parse import quote

    (trash / "info" / f"{name}.trashinfo").write_text(
        f"[Trash Info]\nPath={quote(str(path))}\nDeletionDate={datetime.now().strftime('%Y-%m-%dT%H:%M:%S')}\n")
    shutil.move(str(path), str(trash / "files" / name))
    return ok(f"Moved {path} to the trash as {name}")


async def clear_task_files(request: Request) -> Response:
    downloads = Path.home() / "Downloads"
    removed = 0
    if downloads.is_dir():
        for entry in downloads.iterdir():
            if entry.is_file() and entry.name != "desktop.ini":
                entry.unlink()
                removed += 1
    return PlainTextResponse(f"Removed {removed} files from {downloads}", media_type="text/html")


# Where the desktop keeps its wallpaper: GNOME's setting, as OSWorld's server reads and writes it (in the
# arena's own settings file, written by its sandboxed gsettings).
WALLPAPER_SETTING = ["org.gnome.desktop.background", "picture-uri"]


def _gsettings(*args: str) -> subprocess.CompletedProcess[str]:
    command = sandboxed(["gsettings", *args])
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False,  # noqa: S603 - a list
                          stdin=subprocess.DEVNULL)


def current_wallpaper() -> Path | None:
    done = _gsettings("get", *WALLPAPER_SETTING)
    uri = done.stdout.strip().strip("'") if done.returncode == 0 else ""
    if not uri:
        return None
    path = Path(expand_path(unquote(urlparse(uri).path) if uri.startswith("file://") else uri))
    return path if path.is_file() else None


async def wallpaper(request: Request) -> Response:
    path = await slow(current_wallpaper)
    if path is None:
        raise Fail(404, {"error": "No wallpaper is set on this desktop"})
    return FileResponse(path, media_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream")


async def change_wallpaper(request: Request) -> Response:
    """OSWorld's ``/setup/change_wallpaper``: GNOME's wallpaper setting names ``path``."""
    raw = (await json_body(request)).get("path")
    if not raw or not isinstance(raw, str):
        return PlainTextResponse("Path not supplied!", 400, media_type="text/html")
    target = Path(expand_path(raw))
    if not target.exists():
        return PlainTextResponse(f"File not found: {target}", 404, media_type="text/html")
    # The path as the desktop's apps see it (a home alias stays an alias), made absolute.
    seen = raw if raw.startswith("/") else str(target)
    done = await slow(_gsettings, "set", *WALLPAPER_SETTING, f"file://{seen}")
    if done.returncode != 0:
        return PlainTextResponse(f"Failed to change wallpaper. Error: {done.stderr.strip()}", 500,
                                 media_type="text/html")
    return PlainTextResponse("Wallpaper changed successfully", media_type="text/html")
