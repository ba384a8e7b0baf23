"""OSWorld's getters of app state: VLC's playing status, the default video player, a row of a file,
and Google Drive (which needs an account this build has no way to hold).
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from typing import Any

from ..context import EvalContext
from ..registry import getter

# VLC's HTTP interface as OSWorld's VM image configures it.
VLC_PORT = 8080
VLC_PASSWORD = "password"  # noqa: S105 - VLC's web interface password on OSWorld's VMs, not a secret

# Runs on the VM (its network namespace is where VLC listens): prints status.xml or exits 1.
_FETCH_STATUS = """
import base64, sys, urllib.request
port, password = sys.argv[1], sys.argv[2]
request = urllib.request.Request(f"http://localhost:{port}/requests/status.xml")
request.add_header("Authorization", "Basic " + base64.b64encode(f":{password}".encode()).decode())
try:
    sys.stdout.write(urllib.request.urlopen(request, timeout=5).read().decode("utf-8"))
except OSError:
    sys.exit(1)
"""


@getter("vlc_playing_info", platform="linux", why="reads VLC's HTTP interface from inside the VM with python3")
def vlc_playing_info(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    """VLC's ``status.xml`` (its HTTP interface, read on the VM), saved as ``dest``; None when VLC does not
    answer (not running, or its interface off), as OSWorld's getter answers."""
    result = ctx.client.execute(["python3", "-c", _FETCH_STATUS, str(spec.get("port", VLC_PORT)),
                                 str(spec.get("password", VLC_PASSWORD))])
    if result.returncode != 0 or not result.output:
        return None
    target = ctx.cache_dir / spec["dest"]
    target.write_text(result.output, encoding="utf-8")
    return str(target)


# The video types OSWorld asks xdg-mime about (video/<type>); the most common answer is the player.
VIDEO_TYPES = ("3gp", "3gpp", "3gpp2", "avi", "divx", "dv", "fli", "flv", "mp2t", "mp4", "mp4v-es", "mpeg",
               "mpeg-system", "msvideo", "ogg", "quicktime", "vnd.divx", "vnd.mpegurl", "vnd.rn-realvideo", "webm",
               "x-anim", "x-avi", "x-flc", "x-fli", "x-flv", "x-m4v", "x-matroska", "x-mpeg", "x-mpeg-system",
               "x-mpeg2", "x-ms-asf", "x-ms-asf-plugin", "x-ms-asx", "x-ms-wm", "x-ms-wmv", "x-ms-wmx", "x-ms-wvx",
               "x-msvideo", "x-nsv", "x-ogm", "x-ogm+ogg", "x-theora", "x-theora+ogg")

_DEFAULTS = """
import subprocess, sys
for kind in sys.argv[1:]:
    try:
        out = subprocess.run(["xdg-mime", "query", "default", "video/" + kind], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    print(out.strip())
"""


@getter("default_video_player", platform="linux", why="asks xdg-mime, a freedesktop tool")
def default_video_player(ctx: EvalContext, spec: dict[str, Any]) -> str:
    """The desktop file most video types open with (``xdg-mime query default``), or ``unknown``. OSWorld
    keeps each answer with its line break; so does this, so its expected values compare alike."""
    result = ctx.client.execute(["python3", "-c", _DEFAULTS, *VIDEO_TYPES])
    apps = [line + "\n" for line in result.output.split("\n") if line.strip()]
    return Counter(apps).most_common(1)[0][0] if apps else "unknown"


@getter("content_from_vm_file")
def content_from_vm_file(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    """A part of a VM file: for ``file_type`` xlsx and ``file_content`` last_row, the last row of the first
    sheet (pandas' reading: the first row is the header) as strings."""
    if spec["file_type"] != "xlsx" or spec["file_content"] != "last_row":
        raise NotImplementedError(f"content_from_vm_file: {spec['file_type']}/{spec['file_content']} is not supported")
    path = spec["path"]
    local = ctx.fetch_vm_file(path, posixpath.basename(path.replace("\\", "/")))
    if local is None:
        return None
    import pandas as pd

    return pd.read_excel(local).iloc[-1].astype(str).tolist()


@getter("vscode_config")
def vscode_config(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    """Run a VS Code command through its palette (Ctrl+Shift+P, the command, Enter), then fetch the file
    it writes (``path``) as ``dest``. OSWorld waits one second; this polls for the file for up to ten."""
    from ...polling import PollTimeout, poll_until

    command = json.dumps(str(spec["vscode_extension_command"]))
    ctx.client.run_python("import pyautogui; pyautogui.hotkey('ctrl', 'shift', 'p'); "
                          f"pyautogui.typewrite({command}); pyautogui.press('enter')")
    try:
        return poll_until(lambda: ctx.fetch_vm_file(spec["path"], spec["dest"]), 10.0, interval=0.25,
                          what=f"the file {spec['path']}")
    except PollTimeout:
        return None


@getter("googledrive_file", needs="a Google account",
        why="reads a file from Google Drive with the task suite's own OAuth credentials (needs a Google account)")
def googledrive_file(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    raise NotImplementedError(f"googledrive_file needs a Google account: {json.dumps(spec)[:200]}")
