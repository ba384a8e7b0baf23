"""Presentation metrics (.pptx through python-pptx and its XML; LibreOffice's registry for Impress
settings), with OSWorld's semantics: the names are OSWorld's and only its tasks use them.

The reference is OSWorld's current code (desktop-env 1.0.2): geometry within 0.5 %, None and False
the same for bold and italic, unset alignment as left, tables cell by cell, text inside groups, bullets
read from each run's whole slide XML (texts, characters and levels; colours not compared), each as it
does. Different, on purpose: a result file that is missing or not a presentation scores 0 (OSWorld opens
python-pptx's default template for None and fails later, or raises).
"""

from __future__ import annotations

import logging
import math
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

from ..registry import metric

log = logging.getLogger(__name__)

NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
}
OOR = "http://openoffice.org/2001/registry"
PICTURE, PLACEHOLDER, TABLE = 13, 14, 19  # MSO_SHAPE_TYPE values OSWorld compares with
AUTO_SHAPE = 1


def _presentation(path: str | None) -> Any:
    if not path:
        return None
    from pptx import Presentation

    try:
        return Presentation(path)
    except Exception as exc:  # not a readable .pptx: scores 0
        log.info("cannot open %s as .pptx: %s", path, exc)
        return None


def _geometry(shape: Any) -> tuple[Any, Any, Any, Any]:
    return shape.left, shape.top, shape.width, shape.height


def _notes(slide: Any) -> str:
    return slide.notes_slide.notes_text_frame.text.strip() if slide.has_notes_slide else ""


def _bullets(xml: bytes) -> list[tuple[Any, Any, str, Any]]:
    """(level, bullet char, text, bullet colour) of each paragraph with text in a slide's XML."""
    root = ET.fromstring(xml)
    found = []
    for para in root.iter(f"{{{NS['a']}}}p"):
        ppr = para.find("a:pPr", NS)
        level: str | None = "No Level"
        char: str | None = "No Bullet"
        color: str | None = "No Color"
        if ppr is not None:
            level = ppr.get("lvl")
            bu_char = ppr.find("a:buChar", NS)
            char = bu_char.get("char") if bu_char is not None else "No Bullet"
            bu_color = ppr.find("a:buClr/a:srgbClr", NS)
            color = bu_color.get("val") if bu_color is not None else "No Color"
        text = "".join(t.text or "" for t in para.iter(f"{{{NS['a']}}}t"))
        if text.strip():
            found.append((level, char, text, color))
    return found


def _bullets_match(xml1: bytes, xml2: bytes) -> bool:
    """Same texts, bullet characters and levels (None is level 0); colours are not compared."""
    try:
        b1, b2 = _bullets(xml1), _bullets(xml2)
    except ET.ParseError:
        return True  # OSWorld skips the comparison when the XML cannot be read
    if len(b1) != len(b2):
        return False
    return all(t1 == t2 and c1 == c2 and (l1 or "0") == (l2 or "0")
               for (l1, c1, t1, _), (l2, c2, t2, _) in zip(b1, b2))


# Options of compare_pptx_files and their defaults, as OSWorld has them.
PPTX_OPTIONS: dict[str, Any] = {
    "examine_number_of_slides": True, "examine_shape": True, "examine_text": True, "examine_indent": True,
    "examine_font_name": True, "examine_font_size": True, "examine_font_bold": True, "examine_font_italic": True,
    "examine_color_rgb": True, "examine_font_underline": True, "examine_strike_through": True,
    "examine_alignment": True, "examine_title_bottom_position": False, "examine_table_bottom_position": False,
    "examine_right_position": False, "examine_top_position": False, "examine_shape_for_shift_size": False,
    "examine_image_size": False, "examine_modify_height": False, "examine_bullets": True,
    "examine_background_color": True, "examine_note": True, "approximately_tolerance": 0.005,
    "enable_debug": True,  # OSWorld's logging switch; accepted, it changes no score
}


def _has_text(shape: Any) -> bool:
    return hasattr(shape, "text")


def _text_shapes(shapes: Any) -> list[Any]:
    """Every shape with text, those inside groups included, in document order."""
    found = []
    for shape in shapes:
        if _has_text(shape) and hasattr(shape, "text_frame"):
            found.append(shape)
        if hasattr(shape, "shapes"):
            found.extend(_text_shapes(shape.shapes))
    return found


def _background(slide: Any) -> Any:
    """The slide's solid background colour (its master's when it follows the master), else None."""
    fill = slide.background.fill
    if fill.type == 5:
        fill = slide.slide_layout.slide_master.background.fill
    return fill.fore_color.rgb if fill.type == 1 else None


def _not_set(value: Any) -> bool:
    return value is None or value is False


@metric("compare_pptx_files")
def compare_pptx_files(result: str | None, expected: str | None, **options: Any) -> float:
    unknown = set(options) - set(PPTX_OPTIONS)
    if unknown:
        raise ValueError(f"compare_pptx_files: unknown options {sorted(unknown)}; known: {sorted(PPTX_OPTIONS)}")
    opt = {**PPTX_OPTIONS, **options}
    prs1, prs2 = _presentation(result), _presentation(expected)
    if prs1 is None or prs2 is None:
        return 0.0
    if opt["examine_number_of_slides"] and len(prs1.slides) != len(prs2.slides):
        return 0.0
    close = _closeness(float(opt["approximately_tolerance"]))
    for index, (slide1, slide2) in enumerate(zip(prs1.slides, prs2.slides), start=1):
        if opt["examine_background_color"] and _background(slide1) != _background(slide2):
            return 0.0
        if opt["examine_note"] and _notes(slide1) != _notes(slide2):
            return 0.0
        if len(slide1.shapes) != len(slide2.shapes):
            return 0.0
        for shape1, shape2 in zip(slide1.shapes, slide2.shapes):
            if not _shapes_match(index, shape1, shape2, opt, close):
                return 0.0
            if shape1.shape_type == TABLE and not _tables_match(shape1.table, shape2.table, opt):
                return 0.0
            if _has_text(shape1) and _has_text(shape2) and not _texts_match(shape1, shape2, opt):
                return 0.0
        texts1, texts2 = _text_shapes(slide1.shapes), _text_shapes(slide2.shapes)
        if len(texts1) != len(texts2):
            return 0.0
        if opt["examine_alignment"]:
            for shape1, shape2 in zip(texts1, texts2):
                if opt["examine_text"] and shape1.text.strip() != shape2.text.strip():
                    return 0.0
                paras1, paras2 = shape1.text_frame.paragraphs, shape2.text_frame.paragraphs
                if len(paras1) != len(paras2):
                    return 0.0
                if any(_alignment(p1) != _alignment(p2) for p1, p2 in zip(paras1, paras2)):
                    return 0.0
    return 1.0


def _closeness(tolerance: float) -> Any:
    def close(a: Any, b: Any) -> bool:
        """Equal within ``tolerance`` of the larger (OSWorld's 0.5 % by default)."""
        if a == b:
            return True
        if not a or not b:
            return False
        return abs(a - b) / max(abs(a), abs(b)) <= tolerance

    return close


def _alignment(paragraph: Any) -> Any:
    from pptx.enum.text import PP_ALIGN

    return PP_ALIGN.LEFT if paragraph.alignment is None else paragraph.alignment


def _tables_match(table1: Any, table2: Any, opt: dict[str, Any]) -> bool:
    if len(table1.rows) != len(table2.rows) or len(table1.columns) != len(table2.columns):
        return False
    for row in range(len(table1.rows)):
        for col in range(len(table1.columns)):
            paras1 = table1.cell(row, col).text_frame.paragraphs
            paras2 = table2.cell(row, col).text_frame.paragraphs
            if len(paras1) != len(paras2):
                return False
            for para1, para2 in zip(paras1, paras2):
                if len(para1.runs) != len(para2.runs):
                    return False
                for run1, run2 in zip(para1.runs, para2.runs):
                    f1, f2 = run1.font, run2.font
                    rgb1, rgb2 = _rgb(f1), _rgb(f2)
                    if opt["examine_color_rgb"] and "no rgb" not in (rgb1, rgb2) and rgb1 != rgb2:
                        return False
                    if f1.bold != f2.bold and not (_not_set(f1.bold) and _not_set(f2.bold)):
                        return False
                    if f1.italic != f2.italic and not (_not_set(f1.italic) and _not_set(f2.italic)):
                        return False
                    if not _underlines_match(f1.underline, f2.underline):
                        return False
    return True


def _underlines_match(u1: Any, u2: Any) -> bool:
    """OSWorld's rule: two set underlines must be equal; unset matches anything but True."""
    if u1 == u2:
        return True
    if u1 is not None and u2 is not None:
        return False
    return not ((u1 is None and u2 is True) or (u1 is True and u2 is None))


def _texts_match(shape1: Any, shape2: Any, opt: dict[str, Any]) -> bool:
    if opt["examine_text"] and shape1.text.strip() != shape2.text.strip():
        return False
    paras1, paras2 = shape1.text_frame.paragraphs, shape2.text_frame.paragraphs
    if len(paras1) != len(paras2):
        return False
    for para1, para2 in zip(paras1, paras2):
        if opt["examine_alignment"] and _alignment(para1) != _alignment(para2):
            return False
        if opt["examine_text"] and para1.text != para2.text:
            return False
        if opt["examine_indent"] and para1.level != para2.level:
            return False
        if len(para1.runs) != len(para2.runs):
            return False
        for run1, run2 in zip(para1.runs, para2.runs):
            if not _runs_match(run1, run2, opt):
                return False
            if opt["examine_bullets"] and not _bullets_match(run1.part.blob, run2.part.blob):
                return False
    return True


def _same_box(shape1: Any, shape2: Any, close: Any) -> bool:
    return all(close(a, b) for a, b in zip(_geometry(shape1), _geometry(shape2)))


def _shapes_match(index: int, shape1: Any, shape2: Any, opt: dict[str, Any], close: Any) -> bool:
    """OSWorld's position checks, each for the one task it was written for (their constants are its)."""
    text1 = shape1.text if _has_text(shape1) else None
    text2 = shape2.text if _has_text(shape2) else None
    if opt["examine_title_bottom_position"]:
        if text1 is not None and text2 is not None and text1 == text2:
            if text1 == "Product Comparison" and (shape1.top <= shape2.top or shape1.top < 3600000):
                return False
        elif not _same_box(shape1, shape2, close):
            return False
    if opt["examine_table_bottom_position"]:
        if index == 3 and shape1.shape_type == TABLE and shape2.shape_type == TABLE:
            if shape1.top <= shape2.top or shape1.top < 3600000:
                return False
        elif not _same_box(shape1, shape2, close):
            return False
    if (opt["examine_right_position"] and index == 2 and text1 is None and text2 is None
            and (shape1.left <= shape2.left or shape1.left < 4320000)):
        return False
    if (opt["examine_top_position"] and index == 2 and shape1.shape_type == PICTURE
            and shape2.shape_type == PICTURE and (shape1.top >= shape2.top or shape1.top > 1980000)):
        return False
    if (opt["examine_shape_for_shift_size"] and not _same_box(shape1, shape2, close)
            and not (text1 is not None and text1 == text2 == "Elaborate on what you want to discuss.")):
        return False
    if opt["examine_shape"] and not _same_box(shape1, shape2, close):
        return False
    if opt["examine_image_size"]:
        if shape1.shape_type == PICTURE and shape2.shape_type == PICTURE:
            if not (close(shape1.width, shape2.width) and close(shape1.height, shape2.height)):
                return False
        elif not _same_box(shape1, shape2, close):
            return False
    if opt["examine_modify_height"]:
        if (text1 is None and text2 is None) or (shape1.shape_type == 5 and shape2.shape_type == 5):
            if not close(shape1.height, shape2.height):
                return False
        elif not _same_box(shape1, shape2, close):
            return False
    return True


def _rgb(font: Any) -> Any:
    """The run's RGB colour, or a marker that there is none (python-pptx raises for theme colours)."""
    try:
        return font.color.rgb
    except AttributeError:
        return "no rgb"


def _runs_match(run1: Any, run2: Any, opt: dict[str, Any]) -> bool:
    f1, f2 = run1.font, run2.font
    if opt["examine_font_name"] and f1.name != f2.name:
        return False
    if opt["examine_font_size"] and f1.size != f2.size:
        return False
    if opt["examine_font_bold"] and f1.bold != f2.bold and not (_not_set(f1.bold) and _not_set(f2.bold)):
        return False
    if opt["examine_font_italic"] and f1.italic != f2.italic and not (_not_set(f1.italic) and _not_set(f2.italic)):
        return False
    rgb1, rgb2 = _rgb(f1), _rgb(f2)
    # OSWorld compares colours only where both runs have an RGB one.
    if opt["examine_color_rgb"] and "no rgb" not in (rgb1, rgb2) and rgb1 != rgb2:
        return False
    if opt["examine_font_underline"] and not _underlines_match(f1.underline, f2.underline):
        return False
    strike1 = f1._element.attrib.get("strike", "noStrike")
    strike2 = f2._element.attrib.get("strike", "noStrike")
    return not (opt["examine_strike_through"] and strike1 != strike2)


@metric("check_slide_orientation_Portrait")
def check_slide_orientation_portrait(result: str | None, **_: Any) -> float:
    prs = _presentation(result)
    return float(prs is not None and prs.slide_width < prs.slide_height)


@metric("check_image_stretch_and_center")
def check_image_stretch_and_center(result: str | None, original: str | None, **_: Any) -> float:
    """The picture of the original's first slide fills the modified first slide (within half an inch
    each way) and is centred."""
    from pptx.util import Inches

    modified, before = _presentation(result), _presentation(original)
    if modified is None or before is None or not len(before.slides) or not len(modified.slides):
        return 0.0
    pictures = [s for s in before.slides[0].shapes if s.shape_type == PICTURE]
    if not pictures:
        return 0.0
    blob = pictures[0].image.blob
    same = [s for s in modified.slides[0].shapes if s.shape_type == PICTURE and s.image.blob == blob]
    if not same:
        return 0.0
    image = same[-1]  # OSWorld keeps the last match
    width, height, tolerance = before.slide_width, before.slide_height, Inches(0.5)
    centred = (abs(image.width - width) <= tolerance and abs(image.height - height) <= tolerance
               and abs(image.left - (width - image.width) / 2) <= tolerance
               and abs(image.top - (height - image.height) / 2) <= tolerance)
    return float(centred)


@metric("evaluate_presentation_fill_to_rgb_distance")
def evaluate_presentation_fill_to_rgb_distance(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """1 - the mean over slides of the background's normalised RGB distance to ``rules["rgb"]``. A slide
    counts the full distance (1) when its background (or its master's, when it follows the master) is
    no solid RGB colour, or when it is still ``rules["original_rgb"]`` (the colour before the task)."""
    prs = _presentation(result)
    if prs is None or not len(prs.slides):
        return 0.0
    target, original = rules["rgb"], rules.get("original_rgb")

    def distance(slide: Any) -> float:
        fill = slide.background.fill
        if fill.type == 5:
            fill = slide.slide_layout.slide_master.background.fill
        if fill.type != 1:
            return 1.0
        try:
            rgb = tuple(fill.fore_color.rgb)
        except AttributeError:  # a theme colour: no RGB
            return 1.0
        if original is not None and rgb == tuple(original):
            return 1.0
        return math.dist(rgb, target) / math.dist((0, 0, 0), (255, 255, 255))

    return 1 - sum(distance(slide) for slide in prs.slides) / len(prs.slides)


@metric("check_transition")
def check_transition(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """Slide ``slide_idx`` (from 0) has a transition of ``transition_type`` (an element name in p:)."""
    try:
        with zipfile.ZipFile(result or "") as pptx:
            root = ET.fromstring(pptx.read(f"ppt/slides/slide{int(rules['slide_idx']) + 1}.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ET.ParseError):
        return 0.0
    transition = root.find(".//p:transition", NS)
    return float(transition is not None and transition.find(f".//p:{rules['transition_type']}", NS) is not None)


def _channels(hex_color: str) -> tuple[int, int, int]:
    value = hex_color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@metric("check_page_number_colors")
def check_page_number_colors(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """The slide number colour, as OSWorld reads it: the second-to-last solid RGB fill in the first
    slide master, is clearly ``rules["color"]`` (red, green, blue: 50 above the other channels; black:
    all below 50)."""
    try:
        with zipfile.ZipFile(result or "") as pptx:
            root = ET.fromstring(pptx.read("ppt/slideMasters/slideMaster1.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ET.ParseError):
        return 0.0
    colors = root.findall(".//a:solidFill//a:srgbClr", NS)
    if len(colors) < 2 or not colors[-2].get("val"):
        return 0.0
    r, g, b = _channels(colors[-2].get("val", ""))
    tests = {"red": r > g + 50 and r > b + 50, "green": g > r + 50 and g > b + 50,
             "blue": b > g + 50 and b > r + 50, "black": r < 50 and g < 50 and b < 50}
    return float(tests.get(rules["color"], True))


def _registry_items(path: str | None) -> list[ET.Element]:
    """The ``item`` elements of a LibreOffice registry file (registrymodifications.xcu)."""
    if not path:
        return []
    try:
        return ET.parse(path).getroot().findall(".//item")
    except (OSError, ET.ParseError) as exc:
        log.info("cannot read %s as LibreOffice settings: %s", path, exc)
        return []


def _setting(path: str | None, item_path: str, name: str) -> str | None:
    for item in _registry_items(path):
        if item.get(f"{{{OOR}}}path") != item_path:
            continue
        for prop in item.iter("prop"):
            if prop.get(f"{{{OOR}}}name") == name:
                value = prop.find(".//value")
                return value.text if value is not None else None
    return None


@metric("check_presenter_console_disable")
def check_presenter_console_disable(result: str | None, **_: Any) -> float:
    value = _setting(result, "/org.openoffice.Office.Impress/Misc/Start", "EnablePresenterScreen")
    return float(value is not None and value.lower() == "false")


@metric("check_auto_saving_time")
def check_auto_saving_time(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    value = _setting(result, "/org.openoffice.Office.Common/Save/Document", "AutoSaveTimeIntervall")
    try:
        return float(value is not None and int(value) == int(rules["minutes"]))
    except ValueError:
        return 0.0


@metric("check_left_panel")
def check_left_panel(result: str | None, **_: Any) -> float:
    """The accessibility tree shows Impress's slide pane: a ``document-frame`` named "Slides View"."""
    if not result:
        return 0.0
    try:
        root = ET.fromstring(result)
    except ET.ParseError:
        return 0.0
    return float(any(frame.get("name") == "Slides View" for frame in root.iter("document-frame")))
