"""Word-processor metrics on .docx (python-docx) and .odt (its content.xml) files."""

from __future__ import annotations

import logging
import re
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

from rapidfuzz import fuzz

from ..registry import metric

log = logging.getLogger(__name__)



def open_docx(path: str | None) -> Any:
    """The .docx as python-docx opens it, or None when there is no such readable file (scored 0)."""
    if not path:
        return None
    from docx import Document

    try:
        return Document(path)
    except Exception as exc:  # not a readable .docx: the metric scores 0, as WAA's do
        log.info("cannot open %s as .docx: %s", path, exc)
        return None


def _odt(path: str) -> Any:
    """An .odt as odfpy loads it (styles.xml, then content.xml), or None when it is not one."""
    from odf.opendocument import load

    try:
        return load(path)
    except Exception as exc:  # odfpy raises many kinds on a file that is not an .odt
        log.info("cannot open %s as .odt: %s", path, exc)
        return None


def _odt_paragraphs(doc: Any) -> list[str]:
    """Text of every ``text:p`` in the document, as WAA reads it: the headers' and footers' (styles.xml)
    first, then the body's; per paragraph its own text nodes and the text nodes directly inside its
    ``text:span`` children. Other elements (``text:s``, ``text:tab``, links) add nothing, their
    following text does."""
    from odf.text import P

    texts = []
    for para in doc.getElementsByType(P):
        parts = []
        for node in para.childNodes:
            if node.nodeType == node.TEXT_NODE:
                parts.append(node.data)
            elif node.nodeType == node.ELEMENT_NODE and node.tagName == "text:span":
                parts.extend(child.data for child in node.childNodes if child.nodeType == child.TEXT_NODE)
        texts.append("".join(parts))
    return texts


def _paragraphs(path: str, other: str) -> list[str] | None:
    if path.endswith(".docx") and other.endswith(".docx"):
        doc = open_docx(path)
        return None if doc is None else [p.text for p in doc.paragraphs]
    if path.endswith(".odt") and other.endswith(".odt"):
        odt = _odt(path)
        return None if odt is None else _odt_paragraphs(odt)
    return None


@metric("compare_docx_files")
def compare_docx_files(file1: str | None, file2: str | None, **options: Any) -> float:
    """Both .docx or both .odt. ``content_only``: fuzzy ratio of the whole text; ``ignore_blanks``
    (default): whitespace-normalised text equal; else paragraph by paragraph."""
    if not file1 or not file2:
        return 0.0
    paras1, paras2 = _paragraphs(file1, file2), _paragraphs(file2, file1)
    if paras1 is None or paras2 is None:
        return 0.0
    ignore_case = options.get("ignore_case", False)
    if options.get("ignore_order", False):
        paras1, paras2 = sorted(paras1), sorted(paras2)
    if options.get("content_only", False) or options.get("ignore_blanks", True):
        text1 = re.sub(r"\s+", " ", "\n".join(paras1)).strip()
        text2 = re.sub(r"\s+", " ", "\n".join(paras2)).strip()
        if ignore_case:
            text1, text2 = text1.lower(), text2.lower()
        if options.get("content_only", False):
            return fuzz.ratio(text1, text2) / 100.0
        return float(text1 == text2)
    if len(paras1) != len(paras2):
        return 0.0
    if ignore_case:
        paras1, paras2 = [p.lower() for p in paras1], [p.lower() for p in paras2]
    return float(paras1 == paras2)


@metric("compare_line_spacing")
def compare_line_spacing(file1: str | None, file2: str | None) -> float:
    if not compare_docx_files(file1, file2):
        return 0.0
    doc1, doc2 = open_docx(file1), open_docx(file2)
    if doc1 is None or doc2 is None or len(doc1.paragraphs) != len(doc2.paragraphs):
        return 0.0
    return float(all(
        p1.paragraph_format.line_spacing == p2.paragraph_format.line_spacing
        for p1, p2 in zip(doc1.paragraphs, doc2.paragraphs)
    ))


@metric("compare_docx_tables")
def compare_docx_tables(file1: str | None, file2: str | None) -> float:
    doc1, doc2 = open_docx(file1), open_docx(file2)
    if doc1 is None or doc2 is None or len(doc1.tables) != len(doc2.tables):
        return 0.0
    for t1, t2 in zip(doc1.tables, doc2.tables):
        if len(t1.rows) != len(t2.rows) or len(t1.columns) != len(t2.columns):
            return 0.0
        for i in range(len(t1.rows)):
            for j in range(len(t1.columns)):
                if t1.cell(i, j).text.strip() != t2.cell(i, j).text.strip():
                    return 0.0
    return 1.0


@metric("compare_font_names")
def compare_font_names(file: str | None, rules: dict[str, Any]) -> float:
    doc = open_docx(file)
    if doc is None:
        return 0.0
    return float(all(run.font.name == rules["font_name"] for p in doc.paragraphs for run in p.runs))


@metric("compare_subscript_contains")
def compare_subscript_contains(file1: str | None, file2: str | None) -> float:
    doc1, doc2 = open_docx(file1), open_docx(file2)
    if doc1 is None or doc2 is None:
        return 0.0
    for p1, p2 in zip(doc1.paragraphs, doc2.paragraphs):
        for r1, r2 in zip(p1.runs, p2.runs):
            if r1.font.subscript and r2.font.subscript:
                return 1.0
    return 0.0


@metric("has_page_numbers_in_footers")
def has_page_numbers_in_footers(file: str | None) -> float:
    doc = open_docx(file)
    if doc is None:
        return 0.0
    for section in doc.sections:
        footer = section.footer
        text = footer.paragraphs[0].text if footer is not None and footer.paragraphs else ""
        if not any(ch.isdigit() for ch in text):
            return 0.0
    return 1.0


@metric("is_first_line_centered")
def is_first_line_centered(file: str | None) -> float:
    from docx.enum.text import WD_PARAGRAPH_ALIGNMENT

    doc = open_docx(file)
    if doc is None or not doc.paragraphs:
        return 0.0
    return float(doc.paragraphs[0].paragraph_format.alignment == WD_PARAGRAPH_ALIGNMENT.CENTER)


@metric("compare_highlighted_text")
def compare_highlighted_text(file1: str | None, file2: str | None) -> float:
    if not file1 or not file2:
        return 0.0
    h1 = _highlighted_runs(file1)
    if h1 is None:
        return 0.0
    h2 = _highlighted_runs(file2)
    if h2 is None:
        raise ValueError(f"compare_highlighted_text: the expected file {file2!r} is not a .docx")
    return float(h1 == h2)


def _highlighted_runs(path: str) -> set[str] | None:
    """The first text of every highlighted run (``w:highlight`` not ``none``) anywhere in the body,
    tables included, as WAA reads ``word/document.xml``; None when the file is not a .docx."""
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        with zipfile.ZipFile(path) as z:
            root = ET.fromstring(z.read("word/document.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ET.ParseError):
        return None
    found = set()
    for run in root.iter(f"{w}r"):
        mark = run.find(f".//{w}highlight")
        if mark is not None and mark.get(f"{w}val") != "none":
            text = run.find(f".//{w}t")
            if text is not None:
                found.add(text.text or "")  # an empty run reads as "", as python-docx reads it
    return found


@metric("check_highlighted_words")
def check_highlighted_words(file1: str | None, file2: str | None) -> float:
    """.odt: the text matches the gold and no span's automatic style has a yellow (#ffff00) background."""
    from odf.text import Span

    if not file1 or not file2 or not compare_docx_files(file1, file2):
        return 0.0
    doc = _odt(file1)
    if doc is None:
        return 0.0
    yellow = {
        style.getAttribute("name") for style in doc.automaticstyles.childNodes
        if any(prop.getAttribute("backgroundcolor") == "#ffff00" for prop in style.childNodes)
    }
    return 0.0 if any(span.getAttribute("stylename") in yellow for span in doc.getElementsByType(Span)) else 1.0


@metric("evaluate_strike_through_last_paragraph")
def evaluate_strike_through_last_paragraph(file1: str | None, file2: str | None) -> float:
    if not compare_docx_files(file1, file2):
        return 0.0
    doc = open_docx(file1)
    if doc is None or not doc.paragraphs:
        return 0.0
    return float(all(run.font.strike for run in doc.paragraphs[-1].runs))


@metric("check_italic_font_size_14")
def check_italic_font_size_14(file1: str | None, file2: str | None) -> float:
    if not compare_docx_files(file1, file2):
        return 0.0
    doc = open_docx(file1)
    if doc is None:
        return 0.0
    for para in doc.paragraphs:
        for run in para.runs:
            if run.italic and (run.font.size is None or run.font.size.pt != 14):
                return 0.0
    return 1.0


@metric("check_tabstops")
def check_tabstops(file1: str | None, file2: str | None, **options: Any) -> float:
    from docx.enum.text import WD_TAB_ALIGNMENT

    doc1, doc2 = open_docx(file1), open_docx(file2)
    if doc1 is None or doc2 is None:
        return 0.0
    paras1 = [p for p in doc1.paragraphs if p.text.strip()]
    paras2 = [p for p in doc2.paragraphs if p.text.strip()]
    if len(paras1) != len(paras2) or not paras1:
        return 0.0
    if options.get("word_number_split_by_tabstop") is not None:
        number, index = options["word_number_split_by_tabstop"], options.get("index", 0)
        for para in paras1:
            splits = para.text.split("\t")
            if index >= len(splits) or len([w for w in re.split(r"\s", splits[index]) if w.strip()]) != number:
                return 0.0
    section = doc2.sections[0]
    width = section.page_width - section.left_margin - section.right_margin

    def kept(stop: Any) -> bool:
        return not (stop.alignment == WD_TAB_ALIGNMENT.CLEAR or
                    (stop.alignment == WD_TAB_ALIGNMENT.LEFT and stop.position == 0))

    minus = 0.0
    for p1, p2 in zip(paras1, paras2):
        tabs1 = [t for t in p1.paragraph_format.tab_stops if kept(t)]
        tabs2 = [t for t in p2.paragraph_format.tab_stops if kept(t)]
        if len(tabs1) != len(tabs2):
            return 0.0
        diff = 0.0
        for t1, t2 in zip(tabs1, tabs2):
            if t1.alignment != t2.alignment:
                return 0.0
            diff += abs(t1.position - t2.position)
        minus += diff / width
    return 1 - minus / len(paras1)


@metric("find_default_font")
def find_default_font(config_file: str | None, rules: dict[str, Any]) -> float:
    """LibreOffice's registrymodifications.xcu: Writer's default (Standard) font equals the expected one."""
    if not config_file:
        return 0.0
    oor = "http://openoffice.org/2001/registry"
    try:
        root = ET.parse(config_file).getroot()
    except (OSError, ET.ParseError):
        return 0.0
    font = None
    for item in root.iter("item"):
        if item.get(f"{{{oor}}}path") == "/org.openoffice.Office.Writer/DefaultFont":
            for prop in item.iter("prop"):
                if prop.get(f"{{{oor}}}name") == "Standard":
                    for value in prop.findall("value"):
                        font = value.text  # as WAA: the last entry wins
    return float(font == rules["font_name"])
