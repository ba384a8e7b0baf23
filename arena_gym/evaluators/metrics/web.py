"""OSWorld's browser-side metrics (URLs, search queries, extensions, saved pages) and its file-format
ones that its Chrome and multi-app tasks use (PDFs, archives, epubs, MP3 tags, conference cities), with
its semantics (desktop-env 1.0.2). Differences kept on purpose are noted where they are.
"""

from __future__ import annotations

import difflib
import io
import logging
import operator
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ..registry import get_metric, metric
from ..rules import match_value_to_rule

log = logging.getLogger(__name__)


@metric("is_expected_url_pattern_match")
def is_expected_url_pattern_match(result: Any, rules: dict[str, Any], **_: Any) -> float:
    """Every pattern of ``rules["expected"]`` is found (``re.search``) in the URL (a string, or a dict's
    ``url``)."""
    if not result:
        return 0.0
    url = result if isinstance(result, str) else result.get("url") if isinstance(result, dict) else None
    if not isinstance(url, str):
        return 0.0
    return float(all(re.search(pattern, url) for pattern in rules["expected"]))


@metric("is_expected_search_query")
def is_expected_search_query(result: dict[str, Any] | None, rules: dict[str, Any], **_: Any) -> float:
    if not result:
        return 0.0
    return float(re.search(rules["expect"]["pattern"], result["url"]) is not None)


@metric("is_expected_installed_extensions")
def is_expected_installed_extensions(result: Any, rules: dict[str, Any], **_: Any) -> float:
    """Every expected extension is among the installed ones."""
    if not result:
        return 0.0
    return float(set(rules["expected"]).issubset(set(result)))


@metric("compare_htmls")
def compare_htmls(result: str | None, expected: str | None, **options: Any) -> float:
    """Walking both documents in order (BeautifulSoup with lxml), paired elements have the same name,
    stripped text and attributes (``sdnum`` ignored with ``ignore_sdnum``), and paired strings are equal.
    A missing result scores 0 (OSWorld raises)."""
    from bs4 import BeautifulSoup, Tag

    if not result or not expected:
        return 0.0
    with open(result, encoding="utf-8") as a, open(expected, encoding="utf-8") as b:
        soup1, soup2 = BeautifulSoup(a, "lxml"), BeautifulSoup(b, "lxml")
    ignore_sdnum = options.get("ignore_sdnum")

    def same(e1: Any, e2: Any) -> bool:
        if not (isinstance(e1, Tag) and isinstance(e2, Tag)):
            return bool(e1 == e2)
        if e1.name != e2.name or e1.text.strip() != e2.text.strip():
            return False
        if e1.attrs != e2.attrs:
            if ignore_sdnum:
                return {k: v for k, v in e1.attrs.items() if k != "sdnum"} == \
                    {k: v for k, v in e2.attrs.items() if k != "sdnum"}
            return False
        return True

    return float(all(same(e1, e2) for e1, e2 in zip(soup1.descendants, soup2.descendants)))


def _pdf_images(path: str) -> list[Any]:
    import pymupdf as fitz
    from PIL import Image

    images = []
    with fitz.open(path) as pdf:
        for page in pdf:
            for img in page.get_images(full=True):
                data = pdf.extract_image(img[0])["image"]
                try:
                    images.append(Image.open(io.BytesIO(data)))
                except OSError:
                    continue  # OSWorld skips images Pillow cannot read
    return images


@metric("compare_pdf_images")
def compare_pdf_images(result: str | None, expected: str | None, **_: Any) -> float:
    """The share of paired pictures whose perceptual hashes differ by at most 5 (same count, else 0;
    none in either: 1)."""
    import imagehash

    if not result or not expected or not (os.path.exists(result) and os.path.exists(expected)):
        return 0.0
    try:
        images1, images2 = _pdf_images(result), _pdf_images(expected)
    except Exception as exc:  # noqa: BLE001 - PyMuPDF raises its own kinds on a broken file; OSWorld scores 0
        log.info("compare_pdf_images: %s", exc)
        return 0.0
    if len(images1) != len(images2):
        return 0.0
    if not images1:
        return 1.0
    close = sum(1 for a, b in zip(images1, images2) if imagehash.phash(a) - imagehash.phash(b) <= 5)
    return close / len(images1)


@metric("check_pdf_pages")
def check_pdf_pages(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """The page count compares to ``ref_value`` by ``relation`` (an operator name: eq, lt, ge ...)."""
    from pypdf import PdfReader

    if result is None:
        return 0.0
    pages = len(PdfReader(result).pages)
    return float(getattr(operator, rules["relation"])(pages, rules["ref_value"]))


# compare_archive: which metric compares the files of each kind, by OSWorld's names for the kinds.
ARCHIVE_KINDS = {"text": "compare_text_file", "pdf": "compare_pdfs", "docx": "compare_docx_files",
                 "ppt": "compare_pptx_files", "image": "compare_images", "csv": "compare_csv",
                 "table": "compare_table", "audio": "compare_audios", "video": "compare_videos"}


@metric("compare_archive")
def compare_archive(result: str | None, expected: str | None, **options: Any) -> float:
    """Both archives unpacked: the same file names (under ``file_path``), and the mean score of the
    ``file_type`` metric over the paired files. Unpacked into a fresh folder of their own each time
    (OSWorld unpacks next to the archives and reuses the gold one)."""
    if not result or not expected:
        return 0.0
    sub = options.pop("file_path", "")
    kind = options.pop("file_type", "text")
    if kind not in ARCHIVE_KINDS:
        raise ValueError(f"compare_archive: file_type {kind!r} is not one of {', '.join(ARCHIVE_KINDS)}")
    compare = get_metric(ARCHIVE_KINDS[kind], "osworld")
    with tempfile.TemporaryDirectory(prefix="compare-archive-") as work:
        pred, gold = Path(work, "pred"), Path(work, "gold")
        shutil.unpack_archive(result, pred)
        shutil.unpack_archive(expected, gold)
        names1, names2 = sorted(os.listdir(pred / sub)), sorted(os.listdir(gold / sub))
        if names1 != names2:
            return 0.0
        if not names1:
            raise ValueError("compare_archive: both archives are empty there (OSWorld divides by zero)")
        total = sum(float(compare(str(pred / sub / a), str(gold / sub / b), **options)) for a, b in zip(names1, names2))
    return total / len(names1)


def _epub_parts(path: str, into: Path) -> list[Path]:
    """OSWorld's reading of an epub: toc.ncx without navPoint lines, content.opf without dc:identifier
    lines, and every .html re-serialised (lxml) without line breaks; in sorted order."""
    import lxml.html

    parts: list[Path] = []
    try:
        with zipfile.ZipFile(path) as book:
            names = book.namelist()
            for name, drop in (("toc.ncx", "navPoint"), ("content.opf", "dc:identifier")):
                if name in names:
                    kept = [line for line in book.read(name).decode().splitlines() if drop not in line]
                    (into / name).write_text("".join(line + "\n" for line in kept))
                    parts.append(into / name)
            for name in names:
                if name.endswith(".html"):
                    raw = "".join(ch for ch in book.read(name).decode() if ch not in "\r\n")
                    target = into / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(lxml.html.tostring(lxml.html.fromstring(raw.encode()), pretty_print=True,
                                                         encoding="unicode"))
                    parts.append(target)
    except zipfile.BadZipFile:
        return []
    return sorted(parts)


@metric("compare_epub")
def compare_epub(result: str | None, expected: str | None, **_: Any) -> float:
    """The mean line-sequence similarity (difflib) of the paired parts of the two books."""
    if result is None or expected is None:
        return 0.0
    with tempfile.TemporaryDirectory(prefix="compare-epub-") as work:
        a, b = Path(work, "a"), Path(work, "b")
        a.mkdir()
        b.mkdir()
        parts1, parts2 = _epub_parts(result, a), _epub_parts(expected, b)
        total = sum(difflib.SequenceMatcher(a=p.read_text().splitlines(), b=q.read_text().splitlines()).ratio()
                    for p, q in zip(parts1, parts2))
    return total / len(parts1) if parts1 else 0.0


@metric("check_mp3_meta")
def check_mp3_meta(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """Every ID3 tag named in the rules (EasyID3's names: title, artist ...) matches its rule; a list of
    values is joined with commas. A file without ID3 tags scores 0 (OSWorld raises on it)."""
    from mutagen.easyid3 import EasyID3
    from mutagen.id3 import ID3NoHeaderError

    if result is None:
        return 0.0
    try:
        tags = EasyID3(result)
    except ID3NoHeaderError:
        return 0.0
    for key, rule in rules.items():
        value = tags.get(key, "")
        if isinstance(value, list):
            value = ",".join(value)
        if not match_value_to_rule(value, rule):
            return 0.0
    return 1.0


@metric("compare_conference_city_in_order")
def compare_conference_city_in_order(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """Cells C2:C22 of the active sheet, in order, contain the expected cities (a string, or one of a
    list); any error while comparing (an empty cell, fewer expectations than cells) scores 0, as in OSWorld."""
    import openpyxl

    if result is None:
        return 0.0
    expected = rules["expected"]
    sheet = openpyxl.load_workbook(result).active
    cities = [cell.value for row in sheet["C2:C22"] for cell in row]
    try:
        for i, city in enumerate(cities):
            want = expected[i]
            if isinstance(want, str):
                if want not in city:
                    return 0.0
            elif isinstance(want, list):
                if not any(option in city for option in want):
                    return 0.0
            else:
                return 0.0
    except (IndexError, TypeError):
        return 0.0
    return 1.0
