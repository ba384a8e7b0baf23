"""Routes OSWorld's client (desktop-env's ``PythonController``) calls that WAA's does not, in the shapes
the OSWorld guest server answers (xlang-ai/osworld-server ``src/http_routes.py``).

- ``POST /window_size`` (form or JSON ``app_class_name``): ``{"width", "height"}`` of the first client
  window whose WM_CLASS instance or class is that name (any case); 404 when there is none (OSWorld's
  server answers an empty 500 there; its client reads both as "no size").
- ``GET /terminal``: ``{"output": text, "status": "success"}``, the text of the terminal in front, read
  from the accessibility tree as OSWorld does (a ``terminal`` node of a terminal application, the
  focused one in the active frame first); ``output`` is null when there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import Xlib.error
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from Xlib import X
from Xlib import display as xdisplay

from .accessibility import NAMESPACES
from .pools import slow
from .stock import Fail

log = logging.getLogger(__name__)

# Applications OSWorld's server reads terminal text from (their accessible names, lower case).
TERMINAL_APPS = {"gnome-terminal-server", "gnome-terminal", "xfce4-terminal", "mate-terminal", "terminator",
                 "tilix", "konsole", "qterminal", "lxterminal", "kgx", "ptyxis"}


def window_size(app_class: str) -> dict[str, int] | None:
    """The geometry of the first managed window of that WM_CLASS, as the X server has it."""
    conn = xdisplay.Display()
    try:
        clients = conn.screen().root.get_full_property(conn.intern_atom("_NET_CLIENT_LIST"), X.AnyPropertyType)
        for wid in clients.value if clients is not None else []:
            try:
                window = conn.create_resource_object("window", wid)
                names = window.get_wm_class()
                if names and app_class.lower() in (n.lower() for n in names):
                    geometry = window.get_geometry()
                    return {"width": int(geometry.width), "height": int(geometry.height)}
            except (Xlib.error.BadWindow, Xlib.error.BadDrawable):
                continue  # closed while we looked
        return None
    finally:
        conn.close()


def terminal_text(tree_xml: str) -> str | None:
    """The text of the terminal in front, from an accessibility tree in OSWorld's shape."""
    if not tree_xml:
        return None
    try:
        root = ET.fromstring(tree_xml)
    except ET.ParseError:
        return None
    st = f"{{{NAMESPACES['st']}}}"
    apps = [a for a in root.iter("application") if (a.get("name") or "").lower() in TERMINAL_APPS]
    active_frames = [f for a in apps for f in a.findall("frame") if f.get(st + "active") == "true"]
    candidates = [
        [t for f in active_frames for t in f.iter("terminal") if t.get(st + "focused") == "true"],
        [t for a in apps for t in a.iter("terminal") if t.get(st + "focused") == "true"],
        [t for f in active_frames for t in f.iter("terminal")],
    ]
    for found in candidates:
        if len(found) == 1:
            return (found[0].text or "").rstrip()
    return None


def routes(read_tree: Callable[[], str]) -> list[tuple[str, Any, list[str]]]:
    """The routes, given how the server reads its accessibility tree (inside the sandbox, or here)."""

    async def window_size_route(request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            body: Any = await request.json()
        else:
            body = await request.form()
        name = body.get("app_class_name") if hasattr(body, "get") else None
        if not isinstance(name, str) or not name:
            raise Fail(400, {"error": "app_class_name is required"})
        size = await slow(window_size, name)
        if size is None:
            return JSONResponse({"error": f"no window of class {name!r}"}, 404)
        return JSONResponse(size)

    async def terminal_route(request: Request) -> Response:
        output = terminal_text(await slow(read_tree))
        return JSONResponse({"output": output, "status": "success"})

    return [("/window_size", window_size_route, ["POST"]), ("/terminal", terminal_route, ["GET"])]
