"""Word-processor metrics of OSWorld's Writer tasks (.docx through python-docx), with its semantics
(desktop-env 1.0.2). A missing or unreadable file scores 0, as in OSWorld.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from PIL import Image
from rapidfuzz import fuzz

from ..registry import metric
from .docs import compare_docx_files, open_docx

log = logging.getLogger(__name__)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@metric("compare_contains_image")
def compare_contains_image(result: str | None, expected: str | None, **_: Any) -> float:
    """Paired runs (paragraph by paragraph, run by run) either both hold a picture or neither does."""
    doc1, doc2 = open_docx(result), open_docx(expected)
    if doc1 is None or doc2 is None:
        return 0.0
    for para1, para2 in zip(doc1.paragraphs, doc2.paragraphs):
        for run1, run2 in zip(para1.runs, para2.runs):
            if ("graphicData" in run1._element.xml) != ("graphicData" in run2._element.xml):
                return 0.0
    return 1.0


@metric("compare_docx_files_and_ignore_new_lines")
def compare_docx_files_and_ignore_new_lines(result: str | None, expected: str | None, **options: Any) -> float:
    """The non-empty paragraphs' text is the same: with ``ignore_blanks`` (the default) as one string
    with runs of white space as one space; else paragraph by paragraph."""
    if not result or not expected or not (result.endswith(".docx") and expected.endswith(".docx")):
        return 0.0
    doc1, doc2 = open_docx(result), open_docx(expected)
    if doc1 is None or doc2 is None:
        return 0.0
    paras1 = [p.text for p in doc1.paragraphs if p.text != ""]
    paras2 = [p.text for p in doc2.paragraphs if p.text != ""]
    if options.get("ignore_blanks", True):
        return float(re.sub(r"\s+", " ", "\n".join(paras1)).strip() == re.sub(r"\s+", " ", "\n".join(paras2)).strip())
    return float(paras1 == paras2)


def _images(doc: Any) -> list[bytes]:
    return [rel.target_part.blob for rel in doc.part.rels.values() if "image" in rel.reltype]


@metric("compare_docx_images")
def compare_docx_images(result: str | None, expected: str | None, **_: Any) -> float:
    """The same number of pictures, pairwise the same pixels (in the order of the document's relations)."""
    doc1, doc2 = open_docx(result), open_docx(expected)
    if doc1 is None or doc2 is None:
        return 0.0
    images1, images2 = _images(doc1), _images(doc2)
    if len(images1) != len(images2):
        return 0.0
    for a, b in zip(images1, images2):
        with Image.open(io.BytesIO(a)) as x, Image.open(io.BytesIO(b)) as y:
            if x.tobytes() != y.tobytes():
                return 0.0
    return 1.0


@metric("compare_docx_lines")
def compare_docx_lines(result: str | None, expected: str | None, **_: Any) -> float:
    """The same set of non-empty (stripped) paragraph texts, in any order."""
    doc1, doc2 = open_docx(result), open_docx(expected)
    if doc1 is None or doc2 is None:
        return 0.0
    lines1 = {p.text.strip() for p in doc1.paragraphs if p.text.strip()}
    lines2 = {p.text.strip() for p in doc2.paragraphs if p.text.strip()}
    return float(lines1 == lines2)


@metric("compare_references")
def compare_references(result: str | None, expected: str | None, **options: Any) -> float:
    """The references after the ``reference_indicator`` paragraph: the same count, and a mean rapidfuzz
    ratio above ``reference_base_result`` (+0.01), rescaled from that base to 1."""
    if not result or not expected or not (result.endswith(".docx") and expected.endswith(".docx")):
        return 0.0
    doc1, doc2 = open_docx(result), open_docx(expected)
    if doc1 is None or doc2 is None:
        return 0.0
    indicator = options.get("reference_indicator", "References")
    base = options.get("reference_base_result", 0.5)
    paras1, paras2 = [p.text for p in doc1.paragraphs], [p.text for p in doc2.paragraphs]
    at1 = paras1.index(indicator) if indicator in paras1 else -1
    at2 = paras2.index(indicator) if indicator in paras2 else -1
    if at1 == -1 and at2 == -1:
        return 1.0
    if at1 == -1 or at2 == -1:
        return 0.0
    refs1 = [p for p in paras1[at1 + 1:] if p.strip()]
    refs2 = [p for p in paras2[at2 + 1:] if p.strip()]
    if len(refs1) != len(refs2):
        return 0.0
    if not refs1:
        raise ValueError("compare_references: no references after the indicator (OSWorld divides by zero here)")
    mean = sum(fuzz.ratio(a, b) / 100.0 for a, b in zip(refs1, refs2)) / len(refs1)
    return (mean - base) / (1 - base) if mean >= base + 0.01 else 0.0


@metric("contains_page_break")
def contains_page_break(result: str | None, rules: dict[str, Any] | None = None, **_: Any) -> float:
    """At least one page break in the runs' text (``w:br`` of type page); exactly
    ``rules["page_break_count"]`` when given."""
    doc = open_docx(result)
    if doc is None:
        return 0.0
    count = sum(1 for para in doc.paragraphs for run in para.runs for br in run.element.iter(f"{W}br")
                if br.get(f"{W}type") == "page")
    expected = (rules or {}).get("page_break_count")
    if expected is not None and count != expected:
        return 0.0
    return float(count > 0)


@metric("evaluate_colored_words_in_tables")
def evaluate_colored_words_in_tables(result: str | None, expected: str | None, **options: Any) -> float:
    """The documents compare equal (``compare_docx_files``), and in the result's tables every word that
    starts with a vowel is red and every other word blue (CIEDE2000 distance at most ``threshold``, 3.5).
    Different, on purpose: a word with no colour of its own scores 0 (OSWorld raises on it)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    if not result or not expected or not compare_docx_files(result, expected):
        return 0.0
    doc = open_docx(result)
    if doc is None:
        return 0.0
    threshold = options.get("threshold", 3.5)

    def distance(rgb: Any, target: tuple[int, int, int]) -> float:
        a = rgb2lab([c / 255.0 for c in rgb])
        b = rgb2lab([c / 255.0 for c in target])
        return float(deltaE_ciede2000(a, b))

    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                for para in cell.paragraphs:
                    for run in para.runs:
                        if not run.text:
                            continue
                        rgb = run.font.color.rgb if run.font.color is not None else None
                        if rgb is None:
                            return 0.0
                        target = (255, 0, 0) if run.text[0].lower() in "aeiou" else (0, 0, 255)
                        if distance(rgb, target) > threshold:
                            return 0.0
    return 1.0


@metric("compare_image_text")
def compare_image_text(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """The text easyocr reads in the image (its words joined by spaces) contains ``rules["text"]``. The
    score is easyocr's reading, so no other OCR engine stands in for it: without easyocr and its English
    model (downloaded at run time) the task cannot be scored here, and says so."""
    import os

    from ..registry import Unscorable

    if not result or not os.path.exists(result):
        return 0.0
    if rules.get("type") != "text":
        raise ValueError(f"compare_image_text: unsupported rule type {rules.get('type')!r} (only 'text')")
    try:
        import easyocr  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise Unscorable("compare_image_text needs easyocr and its English model (pip install easyocr; "
                         "the model downloads on first use)") from None
    try:
        words = [entry[1] for entry in easyocr.Reader(["en"]).readtext(result)]
    except Exception as exc:  # noqa: BLE001 - OSWorld scores 0 when OCR fails on the file
        log.info("compare_image_text: OCR failed on %s: %s", result, exc)
        return 0.0
    return float(rules["text"] in " ".join(words))
