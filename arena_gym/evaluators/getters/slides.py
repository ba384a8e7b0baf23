"""Getters that take a file out of a presentation on the VM: a slide's audio, a slide's background
picture (OSWorld's ``audio_in_slide`` and ``background_image_in_slide``).

As OSWorld's: the presentation is copied from the VM; a media file kept inside it is taken out of the
zip, one linked as ``file://`` is copied from the VM; None when the slide has none. Different, on
purpose: what is taken out of the zip is written to ``dest`` in the cache (OSWorld extracts it under its
zip path), so a crafted member name cannot write elsewhere.
"""

from __future__ import annotations

import logging
import posixpath
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

from ..context import EvalContext
from ..registry import getter

log = logging.getLogger(__name__)

RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _relationships(pptx: zipfile.ZipFile, slide: int) -> list[dict[str, str]]:
    name = f"ppt/slides/_rels/slide{slide + 1}.xml.rels"
    if name not in pptx.namelist():
        return []
    return [dict(rel.attrib) for rel in ET.fromstring(pptx.read(name)).findall(f"{{{RELS}}}Relationship")]


def _take(ctx: EvalContext, pptx: zipfile.ZipFile, target: str, dest: str) -> str | None:
    """The media a relationship points at, as a local file: out of the zip, or copied from the VM."""
    if target.startswith("file://"):
        return ctx.fetch_vm_file(target[len("file://"):], dest)
    member = posixpath.normpath(posixpath.join("ppt/slides", target))
    try:
        data = pptx.read(member)
    except KeyError:
        log.info("the presentation names %s but does not hold it", member)
        return None
    local = ctx.cache_dir / dest
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(data)
    return str(local)


def _open(ctx: EvalContext, spec: dict[str, Any]) -> zipfile.ZipFile | None:
    path = spec["ppt_file_path"]
    local = ctx.fetch_vm_file(path, posixpath.basename(path.replace("\\", "/")))
    if local is None:
        return None
    try:
        return zipfile.ZipFile(local)
    except zipfile.BadZipFile:
        log.info("%s is not a presentation (not a zip)", path)
        return None


@getter("audio_in_slide")
def audio_in_slide(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    """The first audio of slide ``slide_index`` (from 0) of ``ppt_file_path``, as ``dest``."""
    pptx = _open(ctx, spec)
    if pptx is None:
        return None
    with pptx:
        for rel in _relationships(pptx, int(spec["slide_index"])):
            if "audio" in rel.get("Type", ""):
                return _take(ctx, pptx, rel.get("Target", ""), spec["dest"])
    return None


@getter("background_image_in_slide")
def background_image_in_slide(ctx: EvalContext, spec: dict[str, Any]) -> str | None:
    """The picture that fills slide ``slide_index``'s background (``p:bgPr``), as ``dest``."""
    pptx = _open(ctx, spec)
    if pptx is None:
        return None
    slide = int(spec["slide_index"])
    with pptx:
        name = f"ppt/slides/slide{slide + 1}.xml"
        if name not in pptx.namelist():
            return None
        root = ET.fromstring(pptx.read(name))
        image_id = next((blip.get(f"{{{R}}}embed") for bg in root.iter(f"{{{P}}}bgPr")
                         for blip in bg.iter(f"{{{A}}}blip") if blip.get(f"{{{R}}}embed")), None)
        if image_id is None:
            return None
        for rel in _relationships(pptx, slide):
            if "image" in rel.get("Type", "") and rel.get("Id") == image_id:
                return _take(ctx, pptx, rel.get("Target", ""), spec["dest"])
    return None
