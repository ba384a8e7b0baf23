"""Result and gold files for WAA's metrics, made here with the libraries real files come from.

For each metric a task uses, :func:`artifacts` makes what a perfect agent leaves on the VM (``good``),
what a wrong one leaves (``bad``), and the gold file the task downloads, all from the task's own
evaluator block (its rules, options and file names). The end-to-end scoring test places them on a
stock-protocol VM double and on a loopback asset server, then scores through the real getters.
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import struct
import tempfile
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .documents import odt

WORDS = ["Alpha beta gamma\t1", "Delta epsilon zeta\t2", "Eta theta iota\t3"]


@dataclass
class Artifacts:
    good: bytes | None  # the result a perfect agent leaves (None: nothing at the result path)
    bad: bytes | None  # a wrong result (None: the result file is missing)
    gold: bytes | None = None  # the expected file, when the task downloads one


def _save_docx(doc: Any) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def docx_gold(font: str = "Times New Roman") -> bytes:
    """One document with every feature a WAA Writer metric looks for: first line centred, every run in
    ``font``, italic runs at 14 pt, a subscript, highlights in the body and in a table, a table, the last
    paragraph struck through, a page number in the footer, a right tab stop after three words per line,
    double line spacing."""
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX, WD_PARAGRAPH_ALIGNMENT, WD_TAB_ALIGNMENT
    from docx.shared import Inches, Pt

    doc = Document()
    for i, text in enumerate(WORDS):
        para = doc.add_paragraph()
        para.paragraph_format.line_spacing = 2.0
        para.paragraph_format.tab_stops.add_tab_stop(Inches(4), WD_TAB_ALIGNMENT.RIGHT)
        head, tail = text.split(" ", 1)
        first = para.add_run(head + " ")
        first.italic = True
        first.font.size = Pt(14)
        rest = para.add_run(tail)
        if i == 0:
            para.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
            rest.font.highlight_color = WD_COLOR_INDEX.YELLOW
        if i == 1:
            rest.font.subscript = True
        if i == len(WORDS) - 1:
            first.font.strike = rest.font.strike = True
    table = doc.add_table(rows=2, cols=2)
    for r in range(2):
        for c in range(2):
            cell_run = table.cell(r, c).paragraphs[0].add_run(f"cell {r}{c}")
            if (r, c) == (1, 1):
                cell_run.font.highlight_color = WD_COLOR_INDEX.BRIGHT_GREEN
    doc.sections[0].footer.paragraphs[0].text = "Page 1"
    for para in [*doc.paragraphs, *(p for row in table.rows for cell in row.cells for p in cell.paragraphs)]:
        for run in para.runs:
            run.font.name = font
    return _save_docx(doc)


def docx_bad() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Something else entirely was written here")
    return _save_docx(doc)


def xcu(font: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<item oor:path="/org.openoffice.Office.Writer/DefaultFont"><prop oor:name="Standard" oor:op="fuse">'
        f"<value>{font}</value></prop></item></oor:items>"
    ).encode()


def pdf(text: str) -> bytes:
    import fitz

    doc = fitz.open()
    page = doc.new_page()
    if text:
        page.insert_text((72, 72), text)
    return doc.tobytes()


def png(colour: tuple[int, int, int], pattern: bool = True) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (160, 120), colour)
    if pattern:
        draw = ImageDraw.Draw(img)
        for i in range(0, 160, 16):
            draw.rectangle((i, 0, i + 7, 119), fill=(255 - colour[0], 255 - colour[1], 255 - colour[2]))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def wav(freq: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * t / 22050)))
                          for t in range(22050))
        out.writeframes(frames)
    return buf.getvalue()


def mp4(seed: int) -> bytes:
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "v.mp4")
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
        for _ in range(12):
            writer.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        writer.release()
        return Path(path).read_bytes()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def xlsx(rules: list[dict[str, Any]], good: bool) -> bytes:
    """A workbook for ``compare_table``'s rules: the sheets they name, cells that ``check_cell`` asks
    for (or wrong ones), data that ``sheet_data`` compares (different when not ``good``), red fills."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    from .xlsx import shared_strings

    names: list[str] = ["Sheet1"]
    for rule in rules:
        for key in ("sheet_idx", "sheet_idx0", "sheet_idx1"):
            idx = rule.get(key)
            if isinstance(idx, str) and idx[1:2] == "N" and idx[2:] not in names:
                names.append(idx[2:])
            position = idx if isinstance(idx, int) else int(idx[2:]) if isinstance(idx, str) and idx[1:2] == "I" else -1
            while len(names) <= position:
                names.append(f"Sheet{len(names) + 1}")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in names:
        ws = wb.create_sheet(name)
        ws.append(["Name", "Value"])
        for i in range(3):
            ws.append([f"row{i}", (i + 1) * (10 if good else 7)])
        ws["B3"].fill = PatternFill("solid", fgColor="FFFF0000", bgColor="FFFF0000")
    for rule in rules:
        if rule["type"] != "check_cell":
            continue
        idx = rule["sheet_idx"]
        ws = wb[idx[2:]] if isinstance(idx, str) and idx[1] == "N" else wb.worksheets[int(str(idx).lstrip("RI") or 0)]
        cell = ws[rule["coordinate"]]
        for prop, check in rule["props"].items():
            ref = check["ref"]
            if prop == "value":
                cell.value = ref if good else f"not {ref}"
            elif prop == "bgcolor":
                cell.fill = PatternFill("solid", fgColor=ref, bgColor=ref)
            elif prop == "font_color":
                cell.font = Font(color=ref, bold=cell.font.bold)
            elif prop == "font_bold":
                cell.font = Font(bold=ref, color=cell.font.color)
    if good and any(rule["type"] == "chart" for rule in rules):
        from openpyxl.chart import BarChart, Reference

        chart = BarChart()
        chart.add_data(Reference(wb.worksheets[0], min_col=2, min_row=1, max_row=4), titles_from_data=True)
        wb.worksheets[0].add_chart(chart, "D2")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.xlsx"
        wb.save(path)
        return Path(shared_strings(path)).read_bytes()


def vlcrc(settings: dict[str, str]) -> bytes:
    lines = ["# VLC media player preferences", "[qt] # Qt interface"]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return ("\n".join(lines) + "\n").encode()


_VLC_KEYS = {
    "check_qt_bgcone": ("qt-bgcone", "expected_qt_bgcone"),
    "check_qt_max_volume": ("qt-max-volume", "expected_qt_max_volume"),
    "check_qt_minimal_view": ("qt-minimal-view", "expected_qt_minimal_view"),
    "check_qt_video_resize": ("qt-video-autoresize", "qt-video-autoresize"),
    "check_one_instance_when_started_from_file": ("one-instance-when-started-from-file",
                                                  "expected_one_instance_when_started_from_file"),
}


def sqlite_bytes(create: str, rows: list[tuple[Any, ...]]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db.sqlite"
        with sqlite3.connect(path) as db:
            db.execute(create)
            marks = ",".join("?" * len(rows[0])) if rows else ""
            table = create.split()[2]
            for row in rows:
                db.execute(f"INSERT INTO {table} VALUES ({marks})", row)
        return path.read_bytes()


def artifacts(metric: str, result_path: str, rules: Any, options: dict[str, Any]) -> Artifacts:  # noqa: C901
    """Good, bad and gold bytes for ``metric`` as one task uses it (``rules``: its ``rule`` expectation)."""
    ext = result_path.rsplit(".", 1)[-1].lower() if "." in result_path else ""
    if metric in ("compare_docx_files", "check_highlighted_words") and ext == "odt":
        gold = odt(Path(tempfile.mkdtemp()) / "g.odt", ["Alpha beta gamma", [("span", ["Delta ", ("s",), "epsilon"])]])
        if metric == "check_highlighted_words":
            bad = odt(Path(tempfile.mkdtemp()) / "b.odt",
                      ["Alpha beta gamma", [("span", ["Delta ", ("s",), "epsilon"], "#ffff00")]])
        else:
            bad = odt(Path(tempfile.mkdtemp()) / "b.odt", ["Alpha beta", "Delta"])
        return Artifacts(Path(gold).read_bytes(), Path(bad).read_bytes(), Path(gold).read_bytes())
    if metric in ("compare_docx_files", "compare_line_spacing", "check_tabstops", "compare_subscript_contains",
                  "compare_highlighted_text", "evaluate_strike_through_last_paragraph", "compare_docx_tables",
                  "check_italic_font_size_14"):
        gold = docx_gold()
        return Artifacts(gold, docx_bad(), gold)
    if metric in ("has_page_numbers_in_footers", "is_first_line_centered"):
        return Artifacts(docx_gold(), docx_bad())
    if metric == "compare_font_names":
        return Artifacts(docx_gold(rules["font_name"]), docx_gold("Arial"))
    if metric == "find_default_font":
        return Artifacts(xcu(rules["font_name"]), xcu("DejaVu Sans"))
    if metric == "compare_pdfs":
        gold = pdf("Person organizational summary for the year")
        return Artifacts(gold, pdf(""), gold)
    if metric == "compare_text_file":
        gold = b"Draft: buy milk\nCall Anna at 5\n"
        return Artifacts(gold, b"Draft: buy bread\n", gold)
    if metric == "compare_images":
        gold = png((20, 40, 200))
        return Artifacts(gold, None, gold)
    if metric == "compare_audios":
        gold = wav(440.0)
        return Artifacts(gold, None, gold)
    if metric == "compare_videos":
        gold = mp4(1)
        return Artifacts(gold, mp4(2), gold)
    if metric == "compare_zip_files":
        entries = {"notes.txt": b"backup notes\n", "report.pdf": pdf("Quarterly report")}
        gold = zip_bytes(entries)
        return Artifacts(zip_bytes(entries), zip_bytes({"notes.txt": b"other\n"}), gold)
    if metric == "compare_table":
        rules_ = options["rules"]
        # Pivot tables cannot be written here: for a task that checks only those, the wrong agent saved nothing.
        checks_content = any(r["type"] not in ("pivot_table",) for r in rules_)
        bad = xlsx(rules_, False) if checks_content else None
        return Artifacts(xlsx(rules_, True), bad, xlsx(rules_, True))
    if metric == "check_json_settings":
        return Artifacts(json.dumps({"workbench.startupEditor": "none", **rules["expected"]}).encode(),
                         json.dumps({"workbench.startupEditor": "none"}).encode())
    if metric == "check_json_keybindings":
        good = "// Place your key bindings in this file\n" + json.dumps([rules["expected"]], indent=2)
        return Artifacts(good.encode(), b"// Place your key bindings in this file\n[]")
    if metric in _VLC_KEYS:
        key, rule_key = _VLC_KEYS[metric]
        want = str(rules[rule_key])
        other = "1" if want == "0" else "0" if want in ("1",) else "7"
        return Artifacts(vlcrc({key: want}), vlcrc({key: other}))
    if metric == "check_global_key_play_pause":
        want = str(rules["expected_global_key_play_pause"])
        on, off = vlcrc({"global-key-play-pause": "Play Pause"}), vlcrc({"global-key-play-pause": ""})
        return Artifacts(on if want == "1" else off, off if want == "1" else on)
    if metric == "check_qt_slider_colours":
        black = vlcrc({"qt-slider-colours": "10;10;10;20;20;20;30;30;30;40;40;40"})
        return Artifacts(black, vlcrc({"qt-slider-colours": "153;210;153;20;210;20;255;199;15;245;39;29"}))
    if metric == "is_vlc_recordings_folder":
        return Artifacts(vlcrc({"input-record-path": rules["recording_file_path"]}),
                         vlcrc({"input-record-path": "C:\\Users\\Docker\\Videos"}))
    raise KeyError(metric)
