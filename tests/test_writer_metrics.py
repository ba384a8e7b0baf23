"""OSWorld's Writer metrics on real .docx files made here with python-docx."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_BREAK
from docx.shared import Inches, RGBColor
from PIL import Image

from arena_gym.evaluators import get_metric


def m(name):
    return get_metric(name)


def document(path, paragraphs=(), *, picture=None, page_breaks=0, table=None):
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if picture is not None:
        buf = io.BytesIO()
        Image.new("RGB", (20, 10), picture).save(buf, "PNG")
        buf.seek(0)
        doc.add_paragraph().add_run().add_picture(buf, width=Inches(1))
    for _ in range(page_breaks):
        doc.add_paragraph("page").add_run().add_break(WD_BREAK.PAGE)
    if table is not None:
        cells = doc.add_table(rows=1, cols=len(table)).rows[0].cells
        for cell, (word, color) in zip(cells, table):
            run = cell.paragraphs[0].add_run(word)
            if color is not None:
                run.font.color.rgb = RGBColor(*color)
    doc.save(path)
    return str(path)


def test_lines_blanks_and_pictures(tmp_path):
    a = document(tmp_path / "a.docx", ["one  two", "", "three"])
    b = document(tmp_path / "b.docx", ["one two", "three"])
    assert m("compare_docx_files_and_ignore_new_lines")(a, b) == 1.0
    assert m("compare_docx_files_and_ignore_new_lines")(a, b, ignore_blanks=False) == 0.0
    assert m("compare_docx_lines")(document(tmp_path / "c.docx", ["three", "one two"]), b) == 1.0
    assert m("compare_docx_lines")(document(tmp_path / "d.docx", ["three"]), b) == 0.0

    red = document(tmp_path / "red.docx", ["x"], picture=(255, 0, 0))
    red2 = document(tmp_path / "red2.docx", ["x"], picture=(255, 0, 0))
    blue = document(tmp_path / "blue.docx", ["x"], picture=(0, 0, 255))
    plain = document(tmp_path / "plain.docx", ["x", "a word where the picture is"])
    assert m("compare_docx_images")(red, red2) == 1.0 and m("compare_docx_images")(red, blue) == 0.0
    assert m("compare_docx_images")(red, plain) == 0.0
    assert m("compare_contains_image")(red, blue) == 1.0 and m("compare_contains_image")(red, plain) == 0.0
    # Runs are paired with zip, as OSWorld does: a paragraph without runs compares with anything.
    assert m("compare_contains_image")(red, document(tmp_path / "empty.docx", ["x", ""])) == 1.0
    assert m("compare_docx_lines")(None, b) == 0.0


def test_page_breaks_and_references(tmp_path):
    two = document(tmp_path / "two.docx", ["a"], page_breaks=2)
    assert m("contains_page_break")(two) == 1.0
    assert m("contains_page_break")(two, {"page_break_count": 2}) == 1.0
    assert m("contains_page_break")(two, {"page_break_count": 1}) == 0.0
    assert m("contains_page_break")(document(tmp_path / "none.docx", ["a"])) == 0.0

    gold = document(tmp_path / "g.docx", ["Essay", "References", "Smith, J. (2020). A study. Journal 1.",
                                          "Doe, A. (2019). Another. Journal 2."])
    same = document(tmp_path / "s.docx", ["Essay!", "References", "Smith, J. (2020). A study. Journal 1.",
                                          "Doe, A. (2019). Another. Journal 2."])
    close = document(tmp_path / "c.docx", ["Essay", "References", "Smith J. 2020. A study. Journal 1",
                                           "Doe A. 2019. Another. Journal 2"])
    fewer = document(tmp_path / "f.docx", ["Essay", "References", "Smith, J. (2020). A study. Journal 1."])
    assert m("compare_references")(same, gold) == 1.0
    assert 0.0 < m("compare_references")(close, gold) < 1.0
    assert m("compare_references")(fewer, gold) == 0.0
    assert m("compare_references")(document(tmp_path / "n.docx", ["Essay"]), gold) == 0.0


def test_coloured_words_in_tables(tmp_path):
    words = [("apple", (255, 0, 0)), ("banana", (0, 0, 255)), ("orange", (250, 2, 2))]
    good = document(tmp_path / "good.docx", ["t"], table=words)
    gold = document(tmp_path / "gold.docx", ["t"], table=words)
    check = m("evaluate_colored_words_in_tables")
    assert check(good, gold) == 1.0
    wrong = document(tmp_path / "wrong.docx", ["t"], table=[("apple", (0, 0, 255)), *words[1:]])
    assert check(wrong, gold) == 0.0
    uncoloured = document(tmp_path / "u.docx", ["t"], table=[("apple", None), *words[1:]])
    assert check(uncoloured, gold) == 0.0


def test_image_text_is_easyocrs_reading_or_no_score(tmp_path):
    import importlib.util

    import pytest

    from arena_gym.evaluators.registry import Unscorable

    shot = tmp_path / "ls.png"
    Image.new("RGB", (40, 20), "white").save(shot)
    check = m("compare_image_text")
    assert check(str(tmp_path / "absent.png"), {"type": "text", "text": "Ls"}) == 0.0
    if importlib.util.find_spec("easyocr") is None:
        with pytest.raises(Unscorable, match="easyocr"):
            check(str(shot), {"type": "text", "text": "Ls"})
    else:
        assert check(str(shot), {"type": "text", "text": "Ls"}) == 0.0
