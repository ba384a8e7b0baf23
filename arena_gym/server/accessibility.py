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

# OSWorld's namespaces for an Ubuntu tree (its guest server writes them; desktop-env's
# check_accessibility_tree and its getters select with them).
_NS = "https://accessibility.ubuntu.example.org/ns/"
NAMESPACES = {
    "st": _NS + "state",
    "attr": _NS + "attributes",
    "cp": _NS + "component",
    "doc": _NS + "document",
    "docattr": _NS + "document/attributes",
    "txt": _NS + "text",
    "val": _NS + "value",
    "act": _NS + "action",
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


def _ns(prefix: str, name: str) -> str:
    return f"{{{NAMESPACES[prefix]}}}{name}"


def _node(acc, depth: int) -> ET.Element:  # noqa: ANN001 - a pyatspi Accessible
    """One node as OSWorld's guest server writes it: the role as the tag; name, states (st:),
    attributes (attr:), geometry (cp:, for what is visible and showing), values (val:), actions (act:),
    ``image``/``selection`` flags, and the text as the element's text."""
    elem = ET.Element(_tag(acc.getRoleName()))
    elem.set("name", acc.name or "")
    states = {_state_name(state) for state in acc.getState().getStates()}
    for state in sorted(states):
        elem.set(_ns("st", state), "true")
    for key, value in _attributes(acc).items():
        elem.set(_ns("attr", key), value)
    if "visible" in states and "showing" in states:
        try:
            comp = acc.queryComponent()
            x, y = comp.getPosition(0)
            w, h = comp.getSize()
            elem.set(_ns("cp", "screencoord"), f"({x}, {y})")
            elem.set(_ns("cp", "size"), f"({w}, {h})")
        except NotImplementedError:
            pass
    _interfaces(acc, elem)
    try:
        text_iface = acc.queryText()
        text = text_iface.getText(0, text_iface.characterCount).replace("\ufffc", "").replace("\ufffd", "")
        if text:
            elem.text = text
    except NotImplementedError:
        pass
    if depth < MAX_DEPTH:
        for i in range(min(acc.childCount, MAX_CHILDREN)):
            child = acc.getChildAtIndex(i)
            if child is not None:
                elem.append(_node(child, depth + 1))
    return elem


def _attributes(acc) -> dict[str, str]:  # noqa: ANN001 - a pyatspi Accessible
    """The node's object attributes (pyatspi gives ``key:value`` strings)."""
    try:
        pairs = acc.getAttributes() or []
    except (AttributeError, NotImplementedError):
        return {}
    found = {}
    for pair in pairs:
        key, sep, value = str(pair).partition(":")
        if sep and key:
            found[key] = value
    return found


def _interfaces(acc, elem: ET.Element) -> None:  # noqa: ANN001 - a pyatspi Accessible
    """Image, selection, value and action facts, where the node offers those interfaces."""
    for flag, query in (("image", "queryImage"), ("selection", "querySelection")):
        try:
            getattr(acc, query)()
            elem.set(flag, "true")
        except NotImplementedError:
            pass
    try:
        value = acc.queryValue()
        for key, read in (("value", "currentValue"), ("min", "minimumValue"), ("max", "maximumValue"),
                          ("step", "minimumIncrement")):
            try:
                elem.set(_ns("val", key), str(getattr(value, read)))
            except Exception:  # noqa: BLE001 - an app's value interface may fail on any of them
                pass
    except NotImplementedError:
        pass
    try:
        action = acc.queryAction()
        for i in range(action.nActions):
            name = action.getName(i).replace(" ", "-")
            elem.set(_ns("act", f"{name}_desc"), action.getDescription(i) or "")
            elem.set(_ns("act", f"{name}_kb"), action.getKeyBinding(i) or "")
    except NotImplementedError:
        pass


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
