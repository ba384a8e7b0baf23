"""The accessibility tree, in the XML shape WAA and OSWorld clients parse.

Linux exposes it through AT-SPI (``pyatspi``, Debian's python3-pyatspi; ``scripts/setup.sh`` makes it
importable in the virtualenv). It needs a D-Bus session with AT-SPI enabled, which the local arena
starts. Where it is not importable the tree is empty but well-formed, so clients that ask for it keep
working.
"""

from __future__ import annotations

import logging
from xml.etree import ElementTree as ET

log = logging.getLogger(__name__)

NAMESPACES = {
    "st": "uri:deskat:state.at-spi.gnome.org",
    "attr": "uri:deskat:attributes.at-spi.gnome.org",
    "cp": "uri:deskat:component.at-spi.gnome.org",
    "val": "uri:deskat:value.at-spi.gnome.org",
}
MAX_DEPTH = 50
MAX_CHILDREN = 2048
# Per AT-SPI call (ms): D-Bus's own default of 25 s lets one hung app stall the whole walk.
CALL_TIMEOUT_MS = 2000

for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)


def _tag(role: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in role.strip().lower()) or "node"
    return cleaned if cleaned[0].isalpha() else f"n-{cleaned}"


def _state_name(state) -> str:  # noqa: ANN001 - an Atspi.StateType
    """``ATSPI_STATE_MULTI_LINE`` -> ``multi_line``, the attribute names OSWorld's clients read."""
    name = getattr(state, "value_name", None) or str(state)
    return _tag(name.removeprefix("ATSPI_STATE_").lower()).replace("-", "_")


def _node(acc, depth: int) -> ET.Element:  # noqa: ANN001 - a pyatspi Accessible
    elem = ET.Element(_tag(acc.getRoleName()))
    if acc.name:
        elem.set("name", acc.name)
    states = acc.getState().getStates()
    for state in states:
        elem.set(f"{{{NAMESPACES['st']}}}{_state_name(state)}", "true")
    try:
        comp = acc.queryComponent()
        x, y = comp.getPosition(0)
        w, h = comp.getSize()
        elem.set(f"{{{NAMESPACES['cp']}}}screencoord", f"({x}, {y})")
        elem.set(f"{{{NAMESPACES['cp']}}}size", f"({w}, {h})")
    except NotImplementedError:
        pass
    try:
        text = acc.queryText().getText(0, -1)
        if text and text != acc.name:
            elem.text = text
    except NotImplementedError:
        pass
    if depth < MAX_DEPTH:
        for i in range(min(acc.childCount, MAX_CHILDREN)):
            child = acc.getChildAtIndex(i)
            if child is not None:
                elem.append(_node(child, depth + 1))
    return elem


def accessibility_tree() -> str:
    """The desktop's tree as XML; ``<desktop-frame/>`` alone when AT-SPI is not available."""
    root = ET.Element("desktop-frame")
    try:
        import pyatspi
    except ImportError:
        return ET.tostring(root, encoding="unicode")
    try:
        pyatspi.setTimeout(CALL_TIMEOUT_MS, 4 * CALL_TIMEOUT_MS)
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(min(desktop.childCount, MAX_CHILDREN)):
            app = desktop.getChildAtIndex(i)
            if app is not None:
                root.append(_node(app, 1))
    except Exception as exc:  # a dying app mid-walk must not fail the call
        log.warning("accessibility walk stopped: %s", exc)
    return ET.tostring(root, encoding="unicode")
