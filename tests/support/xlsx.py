"""Spreadsheet files for metric tests, stored the way LibreOffice and Excel store them.

openpyxl writes text cells as inline strings; LibreOffice and Excel write shared strings, and WAA's
``read_cell_value`` reads only those (an inline string reads as None). ``shared_strings`` rewrites a
workbook's inline strings into a shared-string table so tests see what a real app saves.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

_INLINE = re.compile(r'<c r="([A-Z]+\d+)"([^>]*?) t="inlineStr"([^>]*)><is><t[^>]*>(.*?)</t></is></c>', re.S)
SST_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def shared_strings(path: str | Path) -> str:
    """Rewrite ``path`` in place with its inline strings moved into ``xl/sharedStrings.xml``."""
    path = Path(path)
    strings: list[str] = []

    def share(match: re.Match[str]) -> str:
        text = match.group(4)
        strings.append(text)
        return f'<c r="{match.group(1)}"{match.group(2)} t="s"{match.group(3)}><v>{len(strings) - 1}</v></c>'

    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    for name in list(parts):
        if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
            parts[name] = _INLINE.sub(share, parts[name].decode()).encode()
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{SST_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'.encode()
    )
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    if SST_TYPE not in rels:
        rels = rels.replace("</Relationships>",
                            f'<Relationship Type="{SST_TYPE}" Target="sharedStrings.xml" Id="rIdSST"/></Relationships>')
        parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    types = parts["[Content_Types].xml"].decode()
    if "sharedStrings" not in types:
        types = types.replace("</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CT}"/></Types>')
        parts["[Content_Types].xml"] = types.encode()
    with tempfile.NamedTemporaryFile(delete=False, suffix=".xlsx") as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for name, data in parts.items():
                out.writestr(name, data)
    shutil.move(tmp.name, path)
    return str(path)


__all__ = ["escape", "shared_strings"]
