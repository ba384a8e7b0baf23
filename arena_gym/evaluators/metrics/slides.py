"""Presentation metrics (.pptx through python-pptx and its XML; LibreOffice's registry for Impress
settings), with OSWorld's semantics: the names are OSWorld's and only its tasks use them.

Kept from OSWorld's own code on purpose, because its scores are the benchmark's:
- ``compare_pptx_files`` pairs slides, shapes, paragraphs and runs with ``zip``: extra shapes or runs on
  one side are not looked at. Its background-colour check never fails (OSWorld reads the colour through
  python-pptx's ``fill.background()``, which sets "no fill" and answers None, so both sides are None);
  here it is left out, with the same outcome. Bullets are compared per slide (OSWorld reads them from the
  slide's whole XML for each pair of runs).
Different, on purpose: a result file that is missing or not a presentation scores 0 (OSWorld opens
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


def _bullets(slide: Any) -> list[tuple[Any, str, str, str]]:
    """(level, bullet char, text, bullet colour) of each paragraph in the slide's XML."""
    root = ET.fromstring(slide.part.blob)
    found = []
    for para in root.iter(f"{{{NS['a']}}}p"):
        ppr = para.find("a:pPr", NS)
        level: str | None = "No Level"
        char, color = "No Bullet", "No Color"
        if ppr is not None:
            level = ppr.get("lvl")
            bu_char = ppr.find("a:buChar", NS)
            char = bu_char.get("char", "") if bu_char is not None else "No Bullet"
            bu_color = ppr.find("a:buClr/a:srgbClr", NS)
            color = bu_color.get("val", "") if bu_color is not None else "No Color"
        text = "".join(t.text or "" for t in para.iter(f"{{{NS['a']}}}t"))
        found.append((level, char, text, color))
    return found


# Options of compare_pptx_files and their defaults, as OSWorld has them.
PPTX_OPTIONS = {
    "examine_number_of_slides": True, "examine_shape": True, "examine_text": True, "examine_indent": True,
    "examine_font_name": True, "examine_font_size": True, "examine_font_bold": True, "examine_font_italic": True,
    "examine_color_rgb": True, "examine_font_underline": True, "examine_strike_through": True,
    "examine_alignment": True, "examine_title_bottom_position": False, "examine_table_bottom_position": False,
    "examine_right_position": False, "examine_top_position": False, "examine_shape_for_shift_size": False,
    "examine_image_size": False, "examine_modify_height": False, "examine_bullets": True,
    "examine_background_color": True, "examine_note": True,
}


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
    for index, (slide1, slide2) in enumerate(zip(prs1.slides, prs2.slides), start=1):
        if opt["examine_note"] and _notes(slide1) != _notes(slide2):
            return 0.0
        bullets_checked = False
        for shape1, shape2 in zip(slide1.shapes, slide2.shapes):
            if not _shapes_match(index, shape1, shape2, opt):
                return 0.0
            if not (shape1.has_text_frame and shape2.has_text_frame):
                continue
            if opt["examine_text"] and shape1.text_frame.text.strip() != shape2.text_frame.text.strip():
                return 0.0
            for para1, para2 in zip(shape1.text_frame.paragraphs, shape2.text_frame.paragraphs):
                if opt["examine_alignment"] and para1.alignment != para2.alignment:
                    return 0.0
                if opt["examine_text"] and para1.text != para2.text:
                    return 0.0
                if opt["examine_indent"] and para1.level != para2.level:
                    return 0.0
                for run1, run2 in zip(para1.runs, para2.runs):
                    if not _runs_match(run1, run2, opt):
                        return 0.0
                    if opt["examine_bullets"] and not bullets_checked:
                        if _bullets(slide1) != _bullets(slide2):
                            return 0.0
                        bullets_checked = True
    return 1.0


def _same_box(shape1: Any, shape2: Any) -> bool:
    return _geometry(shape1) == _geometry(shape2)


def _shapes_match(index: int, shape1: Any, shape2: Any, opt: dict[str, Any]) -> bool:
    """OSWorld's position checks, each for the one task it was written for (their constants are its)."""
    text1 = shape1.text_frame.text if shape1.has_text_frame else None
    text2 = shape2.text_frame.text if shape2.has_text_frame else None
    if opt["examine_title_bottom_position"]:
        if text1 is not None and text2 is not None and text1 == text2:
            if text1 == "Product Comparison" and (shape1.top <= shape2.top or shape1.top < 3600000):
                return False
        elif not _same_box(shape1, shape2):
            return False
    if opt["examine_table_bottom_position"]:
        if index == 3 and shape1.shape_type == TABLE and shape2.shape_type == TABLE:
            if shape1.top <= shape2.top or shape1.top < 3600000:
                return False
        elif not _same_box(shape1, shape2):
            return False
    if (opt["examine_right_position"] and index == 2 and text1 is None and text2 is None
            and (shape1.left <= shape2.left or shape1.left < 4320000)):
        return False
    if opt["examine_top_position"]:
        if index == 2 and shape1.shape_type == PICTURE and shape2.shape_type == PICTURE:
            if shape1.top >= shape2.top or shape1.top > 1980000:
                return False
        elif not _same_box(shape1, shape2):
            return False
    if (opt["examine_shape_for_shift_size"] and not _same_box(shape1, shape2)
            and not (text1 is not None and text1 == text2 == "Elaborate on what you want to discuss.")):
        return False
    if opt["examine_shape"] and not _same_box(shape1, shape2):
        return False
    if opt["examine_image_size"]:
        if shape1.shape_type == PICTURE and shape2.shape_type == PICTURE:
            if (shape1.width, shape1.height) != (shape2.width, shape2.height):
                return False
        elif not _same_box(shape1, shape2):
            return False
    if opt["examine_modify_height"]:
        if (text1 is None and text2 is None) or (shape1.shape_type == 5 and shape2.shape_type == 5):
            if shape1.height != shape2.height:
                return False
        elif not _same_box(shape1, shape2):
            return False
    return True


def _rgb(font: Any) -> Any:
    """The run's RGB colour, or a marker that there is none (python-pptx raises for theme colours)."""
    try:
        return font.color.rgb
    except AttributeError:
        return "no rgb"


def _runs_match(run1: Any, run2: Any, opt: dict[str, Any]) -> bool:
    font1, font2 = run1.font, run2.font
    checks = [
        ("examine_font_name", font1.name, font2.name),
        ("examine_font_size", font1.size, font2.size),
        ("examine_font_bold", font1.bold, font2.bold),
        ("examine_font_italic", font1.italic, font2.italic),
        ("examine_font_underline", font1.underline, font2.underline),
        ("examine_strike_through", font1._element.attrib.get("strike", "noStrike"),
         font2._element.attrib.get("strike", "noStrike")),
    ]
    if any(opt[name] and a != b for name, a, b in checks):
        return False
    rgb1, rgb2 = _rgb(font1), _rgb(font2)
    # OSWorld compares colours only where both runs have an RGB one.
    return not (opt["examine_color_rgb"] and "no rgb" not in (rgb1, rgb2) and rgb1 != rgb2)


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
    """1 - the mean over slides of the background's normalised RGB distance to ``rules["rgb"]`` (a slide
    whose background, or whose master's when it follows the master, is no solid colour counts 1)."""
    from pptx.enum.dml import MSO_FILL

    prs = _presentation(result)
    if prs is None or not len(prs.slides):
        return 0.0
    target = rules["rgb"]

    def distance(slide: Any) -> float:
        fill = slide.background.fill
        if fill.type == MSO_FILL.BACKGROUND:
            fill = slide.slide_layout.slide_master.background.fill
        if fill.type != MSO_FILL.SOLID:
            return 1.0
        return math.dist(tuple(fill.fore_color.rgb), target) / math.dist((0, 0, 0), (255, 255, 255))

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
    """The accessibility tree shows the slide pane: a visible split pane at (0, 0) in a panel of the root
    pane. OSWorld's namespaces (``uri:deskat:...``) and the ones of this server are both read."""
    if not result:
        return 0.0
    try:
        root = ET.fromstring(result)
    except ET.ParseError:
        return 0.0
    for root_pane in root.iter("root-pane"):
        for panel in root_pane.iter("panel"):
            for split in panel.iter("split-pane"):
                coord = _attribute(split, "parentcoord")
                if coord is not None and coord.replace(" ", "") == "(0,0)" and _attribute(split, "visible"):
                    return 1.0
    return 0.0


def _attribute(element: ET.Element, local: str) -> str | None:
    """An attribute by its local name, whatever its namespace."""
    for key, value in element.attrib.items():
        if key == local or key.endswith("}" + local):
            return value
    return None
