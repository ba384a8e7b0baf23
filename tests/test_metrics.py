"""Metrics on real files made here (xlsx by openpyxl, docx by python-docx, images by Pillow), with WAA's
edge cases: sheet-index forms, options, precision, comment quirks, defaults."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import openpyxl
import pytest
from docx import Document
from openpyxl.styles import Font, PatternFill
from PIL import Image, ImageDraw

from arena_gym.evaluators import get_metric
from arena_gym.evaluators.metrics.images import ssim
from tests.support.documents import odt
from tests.support.xlsx import shared_strings


def m(name):
    return get_metric(name)


def book(path, sheets: dict[str, list[list]], fill: dict | None = None, inline: bool = False):
    """An .xlsx with text stored as shared strings, as LibreOffice saves it (``inline``: as openpyxl does)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    if fill:
        for coord, color in fill.items():
            wb.worksheets[0][coord].fill = PatternFill("solid", fgColor=color, bgColor=color)
            wb.worksheets[0][coord].font = Font(bold=True, color="FFFFFFFF")
    wb.save(path)
    return str(path) if inline else shared_strings(path)


DATA = [["Name", "Score"], ["ann", 1.23456], ["bob", 2]]


class TestCompareTable:
    def test_sheet_data_equal_and_index_forms(self, tmp_path):
        r = book(tmp_path / "r.xlsx", {"Sheet1": DATA, "Sheet2": [["x"], [1]]})
        e = book(tmp_path / "e.xlsx", {"Sheet1": DATA, "Sheet2": [["x"], [1]]})
        for i0, i1 in [(0, "EI0"), ("RI0", "EI0"), ("RNSheet1", "ENSheet1"), ("RNSheet2", "EI1"), (1, "ENSheet2")]:
            rules = [{"type": "sheet_data", "sheet_idx0": i0, "sheet_idx1": i1}]
            assert m("compare_table")(r, e, rules=rules) == 1.0, (i0, i1)
        # Comparing different sheets fails.
        assert m("compare_table")(r, e, rules=[{"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI1"}]) == 0.0

    def test_sheet_data_rounds_to_precision(self, tmp_path):
        r = book(tmp_path / "r.xlsx", {"S": [["v"], [1.000041]]})
        e = book(tmp_path / "e.xlsx", {"S": [["v"], [1.000049]]})
        rules = [{"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI0"}]
        assert m("compare_table")(r, e, rules=rules) == 1.0  # both 1.0000 at 4 digits
        assert m("compare_table")(r, e, rules=[{**rules[0], "precision": 6}]) == 0.0

    def test_sheet_data_difference_and_missing_sheet(self, tmp_path):
        r = book(tmp_path / "r.xlsx", {"Sheet1": [["Name", "Score"], ["ann", 9]]})
        e = book(tmp_path / "e.xlsx", {"Sheet1": DATA})
        assert m("compare_table")(r, e, rules=[{"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI0"}]) == 0.0
        assert m("compare_table")(r, e, rules=[{"type": "sheet_data", "sheet_idx0": "RNNope", "sheet_idx1": "EI0"}]) == 0.0
        assert m("compare_table")(None, e, rules=[]) == 0.0

    def test_sheet_name_and_bad_index(self, tmp_path):
        r = book(tmp_path / "r.xlsx", {"A": DATA, "B": DATA})
        e = book(tmp_path / "e.xlsx", {"A": DATA, "C": DATA})
        assert m("compare_table")(r, e, rules=[{"type": "sheet_name"}]) == 0.0
        assert m("compare_table")(r, r, rules=[{"type": "sheet_name"}]) == 1.0
        with pytest.raises(ValueError, match="unrecognized sheet index"):
            m("compare_table")(r, e, rules=[{"type": "sheet_data", "sheet_idx0": "X1", "sheet_idx1": 0}])
        with pytest.raises(ValueError, match="needs options.rules"):
            m("compare_table")(r, e)

    def test_check_cell_value_and_style(self, tmp_path):
        r = book(tmp_path / "r.xlsx", {"Sheet2": [["Total", 5]]}, fill={"A1": "FF0000FF"})
        rule = {"type": "check_cell", "sheet_idx": "RNSheet2", "coordinate": "A1", "props": {
            "bgcolor": {"method": "eq", "ref": "FF0000FF"}, "font_color": {"method": "eq", "ref": "FFFFFFFF"},
            "font_bold": {"method": "eq", "ref": True}, "value": {"method": "eq", "ref": "Total"}}}
        assert m("compare_table")(r, None, rules=[rule]) == 1.0
        numeric = {"type": "check_cell", "sheet_idx": 0, "coordinate": "B1",
                   "props": {"value": {"method": "approx:0.1", "ref": 5.05}}}
        assert m("compare_table")(r, None, rules=[numeric]) == 1.0
        wrong = {**rule, "props": {"value": {"method": "eq", "ref": "total"}}}
        assert m("compare_table")(r, None, rules=[wrong]) == 0.0
        regex = {**rule, "props": {"value": {"method": "re.I", "ref": "^total$"}}}
        assert m("compare_table")(r, None, rules=[regex]) == 1.0
        # WAA reads a cell's value from the sheet's XML and an inline string reads as None there.
        inline = book(tmp_path / "i.xlsx", {"Sheet2": [["Total", 5]]}, fill={"A1": "FF0000FF"}, inline=True)
        assert m("compare_table")(inline, None, rules=[rule]) == 0.0
        assert m("compare_table")(inline, None, rules=[numeric]) == 1.0

    def test_style_counts_conditional_formats_as_waa_does(self, tmp_path):
        """'Highlight the highest in green' done with a conditional-format rule scores as the static colour."""
        from openpyxl.formatting.rule import CellIsRule, FormulaRule

        def rates(path, how):
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.append(["Name", "Rate"])
            for i, v in enumerate([3, 9, 4, 1, 7]):
                ws.append([f"r{i}", v])
            green = Font(color="FF00FF00")
            if how == "static":
                ws["B3"].font = green
            elif how == "max":
                ws.conditional_formatting.add("B2:B6", FormulaRule(formula=["B2=MAX($B$2:$B$6)"], font=green))
            elif how == "min":
                ws.conditional_formatting.add("B2:B6", FormulaRule(formula=["B2=MIN($B$2:$B$6)"], font=green))
            elif how == "cellis":
                ws.conditional_formatting.add("B2:B6", CellIsRule(operator="equal", formula=["MAX($B$2:$B$6)"],
                                                                  font=green))
            wb.save(path)
            return shared_strings(path)

        gold = rates(tmp_path / "gold.xlsx", "static")
        rules = [{"type": "sheet_data", "sheet_idx0": 0, "sheet_idx1": "EI0"},
                 {"type": "style", "sheet_idx0": 0, "sheet_idx1": "EI0", "props": ["font_color"]}]
        for how, want in (("static", 1.0), ("max", 1.0), ("cellis", 1.0), ("min", 0.0), ("none", 0.0)):
            assert m("compare_table")(rates(tmp_path / f"{how}.xlsx", how), gold, rules=rules) == want, how

    def test_style_rule(self, tmp_path):
        r = book(tmp_path / "r.xlsx", {"S": DATA}, fill={"A1": "FFFFFF00"})
        e = book(tmp_path / "e.xlsx", {"S": DATA}, fill={"A1": "FFFFFF00"})
        plain = book(tmp_path / "p.xlsx", {"S": DATA})
        rule = [{"type": "style", "sheet_idx0": 0, "sheet_idx1": "EI0", "props": ["bgcolor"]}]
        assert m("compare_table")(r, e, rules=rule) == 1.0
        assert m("compare_table")(plain, e, rules=rule) == 0.0

    def test_chart_rule(self, tmp_path):
        from openpyxl.chart import BarChart, LineChart, Reference

        def with_chart(path, chart_cls):
            wb = openpyxl.Workbook()
            ws = wb.active
            for row in [["k", "v"], ["a", 1], ["b", 2]]:
                ws.append(row)
            chart = chart_cls()
            chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3), titles_from_data=True)
            ws.add_chart(chart, "D2")
            wb.save(path)
            return str(path)

        bar1, bar2 = with_chart(tmp_path / "b1.xlsx", BarChart), with_chart(tmp_path / "b2.xlsx", BarChart)
        line = with_chart(tmp_path / "l.xlsx", LineChart)
        rule = [{"type": "chart", "sheet_idx0": 0, "sheet_idx1": "EI0", "chart_props": ["type"]}]
        assert m("compare_table")(bar1, bar2, rules=rule) == 1.0
        assert m("compare_table")(line, bar2, rules=rule) == 0.0


def docx(path, paragraphs, bold_last=False):
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    doc.save(path)
    return str(path)


class TestDocs:
    def test_compare_docx_files_options(self, tmp_path):
        a = docx(tmp_path / "a.docx", ["Hello  world", "Second"])
        b = docx(tmp_path / "b.docx", ["Hello world", "Second"])
        c = docx(tmp_path / "c.docx", ["hello world", "second"])
        assert m("compare_docx_files")(a, b) == 1.0  # ignore_blanks defaults to true
        assert m("compare_docx_files")(a, b, ignore_blanks=False) == 0.0
        assert m("compare_docx_files")(b, c) == 0.0
        assert m("compare_docx_files")(b, c, ignore_case=True) == 1.0
        ratio = m("compare_docx_files")(a, c, content_only=True)
        assert 0.8 < ratio < 1.0
        assert m("compare_docx_files")(a, None) == 0.0
        assert m("compare_docx_files")(a, str(tmp_path / "x.odt")) == 0.0  # mixed types

    def test_odt_paragraphs(self, tmp_path):
        assert m("compare_docx_files")(odt(tmp_path / "a.odt", ["x", "y"]), odt(tmp_path / "b.odt", ["x", "y"])) == 1.0
        assert m("compare_docx_files")(odt(tmp_path / "c.odt", ["x"]), odt(tmp_path / "d.odt", ["y"])) == 0.0

    def test_odt_text_after_a_nested_element_in_a_span_counts(self, tmp_path):
        """``<text:span>Hello <text:s/>world</text:span>``: WAA keeps "world"."""
        nested = odt(tmp_path / "n.odt", [[("span", ["Hello ", ("s",), "world"])]])
        plain = odt(tmp_path / "p.odt", ["Hello world"])
        assert m("compare_docx_files")(nested, plain) == 1.0

    def test_odt_headers_and_footers_are_compared(self, tmp_path):
        with_footer = odt(tmp_path / "f.odt", ["Body"], footer="Page footer")
        without = odt(tmp_path / "b.odt", ["Body"])
        assert m("compare_docx_files")(with_footer, without) == 0.0
        assert m("compare_docx_files")(with_footer, odt(tmp_path / "g.odt", ["Body"], footer="Page footer")) == 1.0

    def test_check_highlighted_words(self, tmp_path):
        gold = odt(tmp_path / "gold.odt", ["one two"])
        clean = odt(tmp_path / "clean.odt", [[("span", ["one two"])]])
        marked = odt(tmp_path / "marked.odt", [[("span", ["one two"], "#ffff00")]])
        assert m("check_highlighted_words")(clean, gold) == 1.0
        assert m("check_highlighted_words")(marked, gold) == 0.0

    def test_line_spacing_and_centered(self, tmp_path):
        from docx.enum.text import WD_PARAGRAPH_ALIGNMENT

        a = docx(tmp_path / "a.docx", ["one", "two"])
        doc = Document(a)
        doc.paragraphs[0].paragraph_format.line_spacing = 2.0
        doc.paragraphs[0].alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
        b = str(tmp_path / "b.docx")
        doc.save(b)
        assert m("compare_line_spacing")(b, b) == 1.0
        assert m("compare_line_spacing")(a, b) == 0.0
        assert m("is_first_line_centered")(b) == 1.0
        assert m("is_first_line_centered")(a) == 0.0


class TestJsonAndText:
    def test_check_json_settings(self, tmp_path):
        p = tmp_path / "settings.json"
        p.write_text(json.dumps({"editor.fontSize": 14, "files.autoSave": "afterDelay"}))
        assert m("check_json_settings")(str(p), {"expected": {"editor.fontSize": 14}}) == 1.0
        assert m("check_json_settings")(str(p), {"expected": {"editor.fontSize": 12}}) == 0.0
        assert m("check_json_settings")(None, {"expected": {}}) == 0.0

    def test_check_json_keybindings_skips_a_comment_line(self, tmp_path):
        p = tmp_path / "keybindings.json"
        binding = {"key": "ctrl+j", "command": "workbench.action.togglePanel"}
        p.write_text("// Place your key bindings in this file\n" + json.dumps([binding]))
        assert m("check_json_keybindings")(str(p), {"expected": binding}) == 1.0
        assert m("check_json_keybindings")(str(p), {"expected": {**binding, "key": "ctrl+k"}}) == 0.0

    def test_text_metrics(self, tmp_path):
        a, b = tmp_path / "a.txt", tmp_path / "b.txt"
        a.write_text("Hello\n  World\n")
        b.write_text("hello world")
        assert m("compare_text_file")(str(a), str(b)) == 0.0
        assert m("compare_text_file")(str(a), str(b), ignore_blanks=True, ignore_case=True) == 1.0
        assert m("exact_match")("true", {"expected": "true"}) == 1.0
        assert m("exact_match")("True", {"expected": "true"}) == 0.0
        assert m("fuzzy_match")("kitten", {"expected": "sitting"}) == pytest.approx(0.615, abs=0.01)
        assert m("is_extension_installed")("ms-python.python\n", {"type": "contain", "expected": "ms-python.python"}) == 1.0
        assert m("is_extension_installed")("a\n", {"type": "not_contain", "expected": "a"}) == 0.0
        assert m("check_include_exclude")("abc", {"include": ["a"], "exclude": ["z"]}) == 1.0
        assert m("literal_match")("ABC", "abc", ignore_case=True) == 1.0
        assert m("is_in_list")(["a", "b"], {"expected": "b"}) == 1.0


def vlcrc(tmp_path, lines):
    p = tmp_path / "vlcrc"
    p.write_text("\n".join(lines))
    return str(p)


class TestVlc:
    def test_defaults_when_key_absent(self, tmp_path):
        p = vlcrc(tmp_path, ["[qt]", "# nothing set"])
        assert m("check_qt_max_volume")(p, {"expected_qt_max_volume": 125}) == 1.0
        assert m("check_qt_bgcone")(p, {"expected_qt_bgcone": 1}) == 1.0
        assert m("check_qt_minimal_view")(p, {"expected_qt_minimal_view": 0}) == 1.0

    def test_last_mention_wins_even_commented(self, tmp_path):
        p = vlcrc(tmp_path, ["qt-max-volume=200", "#qt-max-volume=125"])
        assert m("check_qt_max_volume")(p, {"expected_qt_max_volume": "125"}) == 1.0
        p = vlcrc(tmp_path, ["#input-record-path=", "input-record-path=/home/u/Desktop"])
        assert m("is_vlc_recordings_folder")(p, {"recording_file_path": "/home/u/Desktop"}) == 1.0
        assert m("is_vlc_recordings_folder")(p, {"recording_file_path": "/tmp"}) == 0.0

    def test_slider_colours_and_global_key(self, tmp_path):
        p = vlcrc(tmp_path, ["qt-slider-colours=0;0;0;10;10;10;20;20;20;30;30;30", "global-key-play-pause=Space"])
        assert m("check_qt_slider_colours")(p, {"type": "blackish"}) == 1.0
        assert m("check_global_key_play_pause")(p, {"expected_global_key_play_pause": 1}) == 1.0


class TestImages:
    def test_ssim_identity_and_difference(self, tmp_path):
        img = Image.new("RGB", (80, 60), "white")
        ImageDraw.Draw(img).ellipse((10, 10, 50, 50), outline="red", width=3)
        a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
        img.save(a)
        img.resize((160, 120)).save(b)
        Image.new("RGB", (80, 60), "black").save(c)
        assert m("compare_images")(str(a), str(a)) == pytest.approx(1.0)
        assert m("compare_images")(str(a), str(b)) > 0.8  # resized to the smaller, nearly the same
        assert m("compare_images")(str(a), str(c)) < 0.2
        assert m("compare_images")(None, str(c)) == 0.0

    def test_ssim_matches_skimage_the_reference_waa_calls(self):
        from skimage.metrics import structural_similarity

        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (40, 50)).astype(np.uint8)
        noisy = np.clip(x.astype(int) + rng.integers(-40, 41, x.shape), 0, 255).astype(np.uint8)
        shapes = np.zeros((60, 80), np.uint8)
        shapes[10:40, 20:60] = 200
        for a, b in [(x, x), (x, 255 - x), (x, noisy), (shapes, np.roll(shapes, 3, axis=1))]:
            assert ssim(a, b) == pytest.approx(structural_similarity(a, b, data_range=255), abs=1e-9)


class TestWaaQuirks:
    """Inputs on which arena-gym once scored differently from WAA's own metric code."""

    def test_highlights_inside_tables_count(self, tmp_path):
        from docx.enum.text import WD_COLOR_INDEX

        def doc(path, highlight_cell):
            d = Document()
            d.add_paragraph("Body text")
            cell = d.add_table(rows=1, cols=1).cell(0, 0).paragraphs[0].add_run("in a table")
            if highlight_cell:
                cell.font.highlight_color = WD_COLOR_INDEX.YELLOW
            d.save(path)
            return str(path)

        gold = doc(tmp_path / "g.docx", True)
        assert m("compare_highlighted_text")(doc(tmp_path / "r.docx", True), gold) == 1.0
        assert m("compare_highlighted_text")(doc(tmp_path / "w.docx", False), gold) == 0.0

    def test_compare_pdfs_strips_the_text(self, tmp_path):
        import fitz
        from rapidfuzz import fuzz

        def pdf(path, lines):
            doc = fitz.open()
            page = doc.new_page()
            for i, line in enumerate(lines):
                page.insert_text((72, 72 + 14 * i), line)
            doc.save(path)
            return str(path)

        a = pdf(tmp_path / "a.pdf", ["Autonomous agents", "planning memory tools"])
        b = pdf(tmp_path / "b.pdf", ["Autonomous agent", "planning and memory"])
        texts = []
        for path in (a, b):
            with fitz.open(path) as doc:
                texts.append("".join(p.get_text() for p in doc).strip())
        assert m("compare_pdfs")(a, b) == pytest.approx(fuzz.ratio(*texts) / 100)

    def test_text_that_is_not_utf8_is_not_the_expected_text(self, tmp_path):
        gold = tmp_path / "gold.txt"
        gold.write_text("caf\N{LATIN SMALL LETTER E WITH ACUTE}\n")
        latin1 = tmp_path / "latin1.txt"
        latin1.write_bytes("caf\N{LATIN SMALL LETTER E WITH ACUTE}\n".encode("latin-1"))
        assert m("compare_text_file")(str(gold), str(gold)) == 1.0
        assert m("compare_text_file")(str(latin1), str(gold)) == 0.0

    def test_keybindings_after_a_block_comment_line(self, tmp_path):
        want = {"key": "ctrl+j", "command": "workbench.action.focusActiveEditorGroup", "when": "terminalFocus"}
        path = tmp_path / "keybindings.json"
        path.write_text("/* Place your key bindings in this file */\n" + json.dumps([want]))
        assert m("check_json_keybindings")(str(path), {"expected": want}) == 1.0

    def test_default_font_takes_the_last_standard_entry(self, tmp_path):
        path = tmp_path / "registrymodifications.xcu"
        path.write_text(
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry">'
            '<item oor:path="/org.openoffice.Office.Writer/DefaultFont"><prop oor:name="Standard"><value>Arial</value>'
            '</prop></item><item oor:path="/org.openoffice.Office.Writer/DefaultFont"><prop oor:name="Standard">'
            "<value>Times New Roman</value></prop></item></oor:items>")
        assert m("find_default_font")(str(path), {"font_name": "Times New Roman"}) == 1.0
        assert m("find_default_font")(str(path), {"font_name": "Arial"}) == 0.0

    def test_zip_pdf_entries_compare_by_text(self, tmp_path):
        def pdf_bytes(title):
            import io

            import fitz

            doc = fitz.open()
            doc.new_page().insert_text((72, 72), "Quarterly report")
            doc.set_metadata({"title": title})  # different bytes, the same text
            buf = io.BytesIO()
            doc.save(buf)
            return buf.getvalue()

        def archive(path, pdf):
            with zipfile.ZipFile(path, "w") as z:
                z.writestr("notes.txt", "same")
                z.writestr("report.pdf", pdf)
            return str(path)

        assert pdf_bytes("one") != pdf_bytes("two")
        assert m("compare_zip_files")(archive(tmp_path / "a.zip", pdf_bytes("one")),
                                      archive(tmp_path / "b.zip", pdf_bytes("two"))) == 1.0

    def test_slider_colours_take_the_last_line_naming_the_key(self, tmp_path):
        path = tmp_path / "vlcrc"
        path.write_text("qt-slider-colours=10;10;10;20;20;20;30;30;30;40;40;40\n"
                        "# qt-slider-colours: colours of the volume slider = 153;210;153;20;210;20;255;199;15;245;39;29\n")
        assert m("check_qt_slider_colours")(str(path), {"type": "blackish"}) == 0.0

    def test_shortcut_description_is_read_from_json(self):
        shortcuts = {"C:\\Users\\Docker\\Desktop\\2048.lnk": json.dumps({"data": {"description": "Play 2048 now"}})}
        assert m("is_shortcut_on_desktop")(shortcuts, {"type": "description", "description": "Play 2048"}) == 1.0
        assert m("is_shortcut_on_desktop")({"x.lnk": "Play 2048"}, {"type": "description", "description": "Play 2048"}) == 0.0

    def test_tabs_in_any_order(self):
        tabs = [{"url": "https://www.b.com"}, {"url": "https://a.com/"}]
        rule = {"type": "url", "urls": ["https://a.com", "https://b.com"]}
        assert m("is_expected_tabs")(tabs, rule) == 1.0
        assert m("is_expected_tabs")(tabs[:1], rule) == 0.0
