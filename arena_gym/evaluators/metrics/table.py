"""``compare_table``: spreadsheet rules as WAA scores them (spec 5.2).

Sheet data is compared the way WAA does (pandas frames, first row as header, rounded to
``precision`` digits, ``DataFrame.equals``), so the same file pair gets the same score. Sheet indices:
an int or ``RI<n>``/``RN<name>`` address the result book, ``EI<n>``/``EN<name>`` the expected one.
"""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from ..registry import metric
from ..rules import match_value_to_rule

log = logging.getLogger(__name__)


class Books:
    """The result and expected workbooks, each opened once per face (pandas, openpyxl, raw path)."""

    def __init__(self, result: str, expected: str | None) -> None:
        import openpyxl
        import pandas as pd

        self.paths = {"R": result, "E": expected}
        self.frames = {"R": pd.ExcelFile(result), "E": pd.ExcelFile(expected) if expected else None}
        self.xl = {
            "R": openpyxl.load_workbook(result),
            "E": openpyxl.load_workbook(expected) if expected else None,
        }
        self.names = {k: (v.sheet_names if v is not None else []) for k, v in self.frames.items()}

    def locate(self, index: int | str) -> tuple[str, str]:
        """Which book ("R"/"E") and which sheet name an index means ("" when out of range)."""
        if isinstance(index, int):
            book, rest, by_name = "R", str(index), False
        elif isinstance(index, str) and len(index) > 2 and index[:2] in ("RI", "RN", "EI", "EN"):
            book, rest, by_name = index[0], index[2:], index[1] == "N"
        else:
            raise ValueError(f"unrecognized sheet index {index!r}: use an int, RI<n>, RN<name>, EI<n> or EN<name>")
        if by_name:
            return book, rest
        try:
            return book, self.names[book][int(rest)]
        except (IndexError, ValueError):
            return book, ""

    def frame(self, index: int | str) -> Any:
        book, name = self.locate(index)
        source = self.frames[book]
        if source is None:
            return None
        try:
            import pandas as pd

            return pd.read_excel(source, name)
        except Exception:  # a missing sheet: WAA scores 0, not an error
            return None

    def sheet(self, index: int | str) -> Any:
        book, name = self.locate(index)
        workbook = self.xl[book]
        if workbook is None or name not in workbook.sheetnames:
            return None
        return workbook[name]

    def cached_value(self, index: int | str, coordinate: str) -> Any:
        """A cell's stored value as WAA's ``read_cell_value`` reads it from the sheet's XML."""
        book, name = self.locate(index)
        path = self.paths[book]
        return read_cell_value(path, name, coordinate) if path else None

    def printed(self, index: int | str) -> list[str] | None:
        """``<book stem>-<sheet>.csv`` beside the workbook (what ``soffice --convert-to csv`` writes)."""
        book, name = self.locate(index)
        path = self.paths[book]
        if path is None:
            return None
        csv_path = Path(f"{Path(path).with_suffix('')}-{name}.csv")
        if not csv_path.is_file():
            return None
        lines = [line.strip() for line in reversed(csv_path.read_text().splitlines())]
        return list(itertools.dropwhile(lambda x: not x, lines))


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def read_cell_value(path: str, sheet_name: str, coordinate: str) -> Any:
    """A cell's value as WAA reads it from the XML: numbers (``t`` absent or ``n``) as floats, shared
    strings (``s``) and formula strings (``str``) as text; anything else (an inline string, a bool, an
    error) as None, as there. The sheet's file is found through the workbook's relationships (WAA
    assumes ``sheet<sheetId>.xml``, which holds for files LibreOffice and Excel write)."""
    import posixpath
    import zipfile
    from xml.etree import ElementTree as ET

    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            shared: list[str] = []
            if "xl/sharedStrings.xml" in names:
                sst = ET.fromstring(z.read("xl/sharedStrings.xml"))
                shared = ["".join(t.text or "" for t in si.iter(f"{_MAIN}t")) for si in sst.findall(f"{_MAIN}si")]
            workbook = ET.fromstring(z.read("xl/workbook.xml"))
            rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
            sheet_file = None
            for sheet in workbook.iter(f"{_MAIN}sheet"):
                if sheet.get("name") == sheet_name:
                    target = targets.get(sheet.get(f"{_REL}id"), "")
                    sheet_file = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            if sheet_file is None or sheet_file not in names:
                return None
            root = ET.fromstring(z.read(sheet_file))
    except (OSError, KeyError, zipfile.BadZipFile, ET.ParseError):
        return None
    cell = next((c for c in root.iter(f"{_MAIN}c") if c.get("r") == coordinate), None)
    if cell is None:
        return None
    kind = cell.get("t")
    v = cell.find(f"{_MAIN}v")
    text = v.text if v is not None else None
    try:
        if kind in (None, "n"):
            return float(text) if text is not None else None
        if kind == "s":
            return shared[int(text)] if text is not None else None
        if kind == "str":
            return text
    except (ValueError, IndexError):
        return None
    return None


def cell_style(name: str, cell: Any, diff: Any = None) -> Any:
    """One style property of a cell (WAA's names), ``None`` for empty cells where WAA does so. ``diff``:
    a conditional format's differential style that applies to the cell, read in place of the cell's."""
    filled = cell.value is not None
    source = diff if diff is not None else cell
    if name == "number_format":
        if not (filled and cell.data_type == "n"):
            return None
        return diff.numFmt.formatCode if diff is not None else cell.number_format
    if name.startswith("font_"):
        if not filled:
            return None
        font = source.font
        attr = {"font_name": "name", "font_family": "family", "font_bold": "bold", "font_italic": "italic",
                "font_underline": "underline", "font_size": "size"}.get(name)
        if name == "font_color":
            return font.color.rgb if font.color is not None else None
        if attr is None:
            raise ValueError(f"unsupported style {name!r}")
        return getattr(font, attr)
    if name == "fill_type":
        return getattr(source.fill, "tagname", None)
    if name in ("bgcolor", "fgcolor"):
        color = getattr(source.fill, "bgColor" if name == "bgcolor" else "fgColor", None)
        return getattr(color, "rgb", None)
    if name == "hyperlink":
        return (cell.hyperlink or "") if filled else None
    raise ValueError(f"unsupported style {name!r}; known: number_format, font_*, fill_type, bgcolor, fgcolor, hyperlink")


def _styles(sheet: Any, props: list[str], path: str | None) -> dict[str, list[Any]]:
    """Every cell's ``props``; where a conditional format applies, its style instead (as WAA does)."""
    if sheet is None:
        return {}
    styles = {c.coordinate: [cell_style(p, c) for p in props] for col in sheet.iter_cols() for c in col}
    for coordinate, diff in conditional_styles(sheet, path):
        styles[coordinate] = [cell_style(p, sheet[coordinate], diff) for p in props]
    return styles


_ABSOLUTE = re.compile(r"\$([A-Z]{1,3})\$(\d+)(?::\$([A-Z]{1,3})\$(\d+))?")


def conditional_styles(sheet: Any, path: str | None) -> list[tuple[str, Any]]:
    """(cell, differential style) for every cell a conditional format's rule holds for.

    ``expression`` rules are evaluated as WAA does: the formula compiled with ``formulas``, called with
    the cell's value and the values of its absolute references. ``cellIs`` rules (what LibreOffice
    writes for "cell value is ...") are an arena-gym extension: WAA raises on them, so no score exists
    there. Any other rule type raises: the sheet cannot be scored faithfully."""
    from openpyxl.utils import get_column_letter

    if path is None:
        return []
    active: list[tuple[str, Any]] = []
    for fmt in sheet.conditional_formatting:
        for rule in fmt.rules:
            if rule.type == "expression":
                check = _expression(rule.formula[0], sheet.title, path)
            elif rule.type == "cellIs":
                check = _cell_is(rule.operator, rule.formula, sheet.title, path)
            else:
                raise NotImplementedError(f"conditional format rule type {rule.type!r} is not supported (WAA: expression)")
            for rng in fmt.cells:
                for row, col in rng.cells:
                    coordinate = f"{get_column_letter(col)}{row}"
                    if check(read_cell_value(path, sheet.title, coordinate)):
                        active.append((coordinate, rule.dxf))
    return active


def _range_values(match: tuple[str, str, str, str], sheet: str, path: str) -> Any:
    from openpyxl.utils import column_index_from_string, get_column_letter

    col1, row1, col2, row2 = match
    if not col2:
        return read_cell_value(path, sheet, f"{col1}{row1}")
    c1, c2 = column_index_from_string(col1), column_index_from_string(col2)
    return [read_cell_value(path, sheet, f"{get_column_letter(c)}{r}")
            for r in range(int(row1), int(row2) + 1) for c in range(c1, c2 + 1)]


def _expression(formula: str, sheet: str, path: str) -> Any:
    import formulas

    compiled = formulas.Parser().ast("=" + formula)[1].compile()
    arguments = [_range_values(m, sheet, path) for m in _ABSOLUTE.findall(formula)]

    def check(value: Any) -> bool:
        return bool(compiled(value, *arguments))

    return check


_CELL_IS = {"equal": "eq", "notEqual": "ne", "greaterThan": "gt", "lessThan": "lt",
            "greaterThanOrEqual": "ge", "lessThanOrEqual": "le"}


def _cell_is(operator_name: str, operands: list[str], sheet: str, path: str) -> Any:
    import operator

    import formulas

    def value_of(text: str) -> Any:
        func = formulas.Parser().ast("=" + text)[1].compile()
        args = [_range_values(m, sheet, path) for m in _ABSOLUTE.findall(text)]
        result = func(*args)
        return float(result) if hasattr(result, "__float__") else result

    bounds = [value_of(t) for t in operands]

    def check(value: Any) -> bool:
        if not isinstance(value, float):
            return False
        try:
            if operator_name in _CELL_IS:
                return bool(getattr(operator, _CELL_IS[operator_name])(value, bounds[0]))
            low, high = sorted(bounds[:2])
            inside = low <= value <= high
            return inside if operator_name == "between" else not inside
        except TypeError:
            return False

    return check


def _charts(sheet: Any, props: list[str]) -> dict[str, Any]:
    if sheet is None:
        return {}

    def ref(data: Any) -> str:
        for kind in ("numRef", "strRef"):
            inner = getattr(data, kind, None)
            if inner is not None and getattr(inner, "f", None):
                return inner.f
        return ""

    def title(obj: Any) -> Any:
        try:
            return obj.title.tx.rich.p[0].r[0].t
        except (AttributeError, IndexError, TypeError):
            return None

    charts = {}
    for chart in sheet._charts:
        series = ";".join(f"{ref(s.val)},{ref(s.cat)}" for s in chart.series)
        info: dict[str, Any] = {}
        if "title" in props:
            info["title"] = title(chart)
        if "legend" in props:
            info["legend"] = chart.legend.position if chart.legend is not None else None
        if "type" in props:
            info["type"] = chart.tagname
        if "direction" in props:
            info["direction"] = getattr(chart, "barDir", None)
        for key in ("width", "height"):
            if key in props:
                info[key] = getattr(chart, key)
        for axis in ("x", "y", "z"):
            if f"{axis}title" in props:
                info[f"{axis}title"] = title(getattr(chart, f"{axis}_axis", None))
        charts[series] = info
    return charts


def _pivots(sheet: Any, props: list[str]) -> dict[str, Any]:
    from openpyxl.utils import coordinate_to_tuple

    if sheet is None:
        return {}
    pivots = {}
    for pvt in sheet._pivots:
        raw = [[(item.h, item.x) for item in f.items if item.x is not None] for f in pvt.pivotFields]
        trimmed = list(itertools.dropwhile(lambda r: not r, raw))
        left = len(raw) - len(trimmed)
        selection = list(itertools.dropwhile(lambda r: not r, reversed(trimmed)))[::-1]
        right = len(trimmed) - len(selection)
        source = pvt.cache.cacheSource
        first, last = source.worksheetSource.ref.split(":")
        r1, c1 = coordinate_to_tuple(first)
        r2, c2 = coordinate_to_tuple(last)
        key = f"{source.type};{(r1, c1 + left)}:{(r2, c2 - right)};{source.worksheetSource.sheet}"
        info: dict[str, Any] = {}
        if "name" in props:
            info["name"] = pvt.name
        for prop, attr in (("show_total", "visualTotals"), ("show_empty_row", "showEmptyRow"),
                           ("show_empty_col", "showEmptyCol"), ("show_headers", "showHeaders"),
                           ("location", "location")):
            if prop in props:
                info[prop] = getattr(pvt, attr)
        if "filter" in props or "selection" in props:
            info["selection"] = selection if "ordered" in props else [set(r) for r in selection]
        if "filter" in props:
            info["filter_fields"] = {f.fld for f in pvt.pageFields}
        if "col_fields" in props:
            info["col_fields"] = [f.x - left for f in pvt.colFields]
        if "row_fields" in props:
            info["row_fields"] = [f.x - left for f in pvt.rowFields]
        if "data_fields" in props:
            with_name = "data_fields_name" in props
            info["data_fields"] = [
                f"{f.fld - left};{f.name if with_name else ''};{f.subtotal};{f.showDataAs}" for f in pvt.dataFields
            ]
        pivots[key] = info
    return pivots


def _fuzzy_rule(books: Books, rule: dict[str, Any]) -> bool:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.cell_range import MultiCellRange

    sheet0, sheet1 = books.sheet(rule["sheet_idx0"]), books.sheet(rule["sheet_idx1"])
    if sheet0 is None or sheet1 is None:
        return False
    for sub in rule["rules"]:
        for rng in MultiCellRange(sub["range"]):
            for row, col in rng.cells:
                coord = f"{get_column_letter(col)}{row}"
                v0, v1 = str(sheet0[coord].value), str(sheet1[coord].value)
                for old, new in sub.get("normalization", []):
                    v0, v1 = v0.replace(old, new), v1.replace(old, new)
                if "trim_leadings" in sub:
                    v0, v1 = v0.lstrip(sub["trim_leadings"]), v1.lstrip(sub["trim_leadings"])
                if "trim_trailings" in sub:
                    v0, v1 = v0.rstrip(sub["trim_trailings"]), v1.rstrip(sub["trim_trailings"])
                if "ignore_chars" in sub:
                    drop = set(sub["ignore_chars"])
                    v0, v1 = "".join(c for c in v0 if c not in drop), "".join(c for c in v1 if c not in drop)
                if sub.get("ignore_case", False):
                    v0, v1 = v0.lower(), v1.lower()
                if not _fuzzy_compare(sub, v0, v1):
                    return False
    return True


def _fuzzy_compare(sub: dict[str, Any], v0: str, v1: str) -> bool:
    kind = sub["type"]
    if kind == "includes":
        return v1 in v0
    if kind == "included_by":
        return v0 in v1
    if kind == "fuzzy_match":
        return fuzz.ratio(v0, v1) >= sub.get("threshold", 85.0)
    if kind == "exact_match":
        return v0 == v1
    raise ValueError(f"sheet_fuzzy: unknown type {kind!r} (use includes, included_by, fuzzy_match or exact_match)")


def _check_rule(books: Books, rule: dict[str, Any]) -> bool | None:
    """True/False for a rule; None when a sheet the rule needs is missing (WAA then scores 0)."""
    kind = rule["type"]
    if kind == "sheet_name":
        return books.names["R"] == books.names["E"]
    if kind == "sheet_data":
        precision = rule.get("precision", 4)
        frame0 = books.frame(rule["sheet_idx0"])
        if frame0 is None:
            return None
        frame1 = books.frame(rule["sheet_idx1"])
        if frame1 is None:
            return False
        return bool(frame0.round(precision).equals(frame1.round(precision)))
    if kind == "sheet_print":
        lines0 = books.printed(rule["sheet_idx0"])
        if lines0 is None:
            return None
        lines1 = books.printed(rule["sheet_idx1"]) or []
        if rule.get("ignore_case", False):
            lines0, lines1 = [x.lower() for x in lines0], [x.lower() for x in lines1]
        return lines0 == lines1
    if kind == "sheet_fuzzy":
        return _fuzzy_rule(books, rule)
    if kind == "style":
        props = rule.get("props", [])
        styles = []
        for key in ("sheet_idx0", "sheet_idx1"):
            book, _ = books.locate(rule[key])
            styles.append(_styles(books.sheet(rule[key]), props, books.paths[book]))
        return styles[0] == styles[1]
    if kind == "chart":
        props = rule.get("chart_props", [])
        return _charts(books.sheet(rule["sheet_idx0"]), props) == _charts(books.sheet(rule["sheet_idx1"]), props)
    if kind == "pivot_table":
        props = rule.get("pivot_props", [])
        return _pivots(books.sheet(rule["sheet_idx0"]), props) == _pivots(books.sheet(rule["sheet_idx1"]), props)
    if kind == "freeze":
        sheet0 = books.sheet(rule["sheet_idx0"])
        if sheet0 is None:
            return None
        sheet1 = books.sheet(rule["sheet_idx1"])
        return sheet1 is not None and sheet0.freeze_panes == sheet1.freeze_panes
    if kind == "zoom":
        sheet = books.sheet(rule["sheet_idx"])
        if sheet is None:
            return None
        return match_value_to_rule(sheet.sheet_view.zoomScale or 100.0, rule)
    if kind in ("row_props", "col_props"):
        props = rule.get("props", [])

        def dims(sheet: Any) -> dict[Any, dict[str, Any]]:
            if sheet is None:
                return {}
            holder = sheet.row_dimensions if kind == "row_props" else sheet.column_dimensions
            return {k: {p: getattr(v, p) for p in props} for k, v in holder.items()}

        return dims(books.sheet(rule["sheet_idx0"])) == dims(books.sheet(rule["sheet_idx1"]))
    if kind == "check_cell":
        sheet = books.sheet(rule["sheet_idx"])
        if sheet is None:
            return None
        cell = sheet[rule["coordinate"]]
        for prop, sub in rule["props"].items():
            if prop == "value":
                value = books.cached_value(rule["sheet_idx"], rule["coordinate"])
            else:
                value = cell_style(prop, cell)
            if not match_value_to_rule(value, sub):
                return False
        return True
    raise ValueError(
        f"compare_table: unknown rule type {kind!r}; known: sheet_name, sheet_data, sheet_print, sheet_fuzzy, "
        "style, chart, pivot_table, freeze, zoom, row_props, col_props, check_cell"
    )


@metric("compare_table")
def compare_table(result: str | None, expected: str | None = None, **options: Any) -> float:
    if result is None:
        return 0.0
    if "rules" not in options:
        raise ValueError("compare_table needs options.rules (a list of rule objects)")
    try:
        books = Books(result, expected)
    except Exception as exc:  # an unreadable result book scores 0, as in WAA
        log.info("compare_table: cannot open %s: %s", result, exc)
        return 0.0
    for rule in options["rules"]:
        outcome = _check_rule(books, rule)
        log.debug("compare_table rule %s -> %s", rule.get("type"), outcome)
        if not outcome:
            return 0.0
    return 1.0


@metric("compare_csv")
def compare_csv(result: str | None, expected: str | None, **options: Any) -> float:
    if not result or not expected:
        return 0.0
    lines1 = Path(result).read_text().splitlines()
    lines2 = Path(expected).read_text().splitlines()
    if not options.get("strict", True):
        lines1, lines2 = [x.strip() for x in lines1], [x.strip() for x in lines2]
    if options.get("ignore_case", False):
        lines1, lines2 = [x.lower() for x in lines1], [x.lower() for x in lines2]
    return float(lines1 == lines2)
