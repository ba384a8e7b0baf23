"""OSWorld's presentation metrics on real .pptx files made here with python-pptx (and LibreOffice
registry files written as Impress writes them)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

pptx = pytest.importorskip("pptx", reason="python-pptx is in the evaluate extra (bash scripts/setup.sh)")
from pptx import Presentation  # noqa: E402
from pptx.dml.color import RGBColor  # noqa: E402
from pptx.util import Inches, Pt  # noqa: E402

from arena_gym.evaluators import get_metric  # noqa: E402


def deck(path, slides=(("Title", "Body text"),), *, bold=False, color=None, notes="", portrait=False,
         box_left=None, bullets=None, background=None):
    box_left = Inches(1) if box_left is None else box_left
    prs = Presentation()
    if portrait:
        prs.slide_width, prs.slide_height = prs.slide_height, prs.slide_width
    for title, body in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[5])  # title only
        slide.shapes.title.text = title
        box = slide.shapes.add_textbox(box_left, Inches(2), Inches(4), Inches(1))
        run = box.text_frame.paragraphs[0].add_run()
        run.text = body
        run.font.bold = bold
        run.font.size = Pt(18)
        if color:
            run.font.color.rgb = RGBColor(*color)
        if bullets:
            ppr = box.text_frame.paragraphs[0]._p.get_or_add_pPr()
            ppr.set("lvl", "0")
            from pptx.oxml.ns import qn

            bu = ppr.makeelement(qn("a:buChar"), {"char": bullets})
            ppr.append(bu)
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
        if background:
            slide.background.fill.solid()
            slide.background.fill.fore_color.rgb = RGBColor(*background)
    prs.save(path)
    return str(path)


def test_compare_pptx_files_scores_what_osworld_compares(tmp_path):
    compare = get_metric("compare_pptx_files")
    gold = deck(tmp_path / "gold.pptx", bold=True)
    assert compare(deck(tmp_path / "same.pptx", bold=True), gold) == 1.0
    assert compare(deck(tmp_path / "plain.pptx"), gold) == 0.0  # a run's bold differs
    assert compare(deck(tmp_path / "plain.pptx"), gold, examine_font_bold=False) == 1.0
    assert compare(deck(tmp_path / "text.pptx", (("Title", "Other"),), bold=True), gold) == 0.0
    assert compare(deck(tmp_path / "two.pptx", (("Title", "Body text"),) * 2, bold=True), gold) == 0.0
    moved = deck(tmp_path / "moved.pptx", bold=True, box_left=Inches(2))
    assert compare(moved, gold) == 0.0 and compare(moved, gold, examine_shape=False) == 1.0
    red = deck(tmp_path / "red.pptx", bold=True, color=(255, 0, 0))
    assert compare(red, deck(tmp_path / "blue.pptx", bold=True, color=(0, 0, 255))) == 0.0
    assert compare(red, gold) == 1.0  # a colour is compared only where both runs have an RGB one
    assert compare(deck(tmp_path / "noted.pptx", bold=True, notes="say this"), gold) == 0.0
    assert compare(deck(tmp_path / "b1.pptx", bold=True, bullets="•"),
                   deck(tmp_path / "b2.pptx", bold=True, bullets="-")) == 0.0
    green = deck(tmp_path / "bg.pptx", bold=True, background=(0, 128, 0))
    assert compare(green, gold) == 0.0 and compare(green, gold, examine_background_color=False) == 1.0
    # Geometry within 0.5 % is the same; more is not (or any, with the tolerance at 0).
    near = deck(tmp_path / "near.pptx", bold=True, box_left=Inches(1) + 3000)
    assert compare(near, gold) == 1.0 and compare(near, gold, approximately_tolerance=0.0) == 0.0
    # Bold unset and bold off are the same.
    assert compare(deck(tmp_path / "nb.pptx"), deck(tmp_path / "fb.pptx", bold=False)) == 1.0
    # A missing or broken result is a valid 0; an unknown option is a mistake in the task, named.
    (tmp_path / "broken.pptx").write_bytes(b"not a zip")
    assert compare(None, gold) == 0.0 and compare(str(tmp_path / "broken.pptx"), gold) == 0.0
    with pytest.raises(ValueError, match="examine_fonts"):
        compare(gold, gold, examine_fonts=False)


def test_orientation_transition_and_fill_distance(tmp_path):
    assert get_metric("check_slide_orientation_Portrait")(deck(tmp_path / "p.pptx", portrait=True)) == 1.0
    assert get_metric("check_slide_orientation_Portrait")(deck(tmp_path / "l.pptx")) == 0.0

    green = deck(tmp_path / "g.pptx", (("A", "a"), ("B", "b")), background=(0, 255, 0))
    distance = get_metric("evaluate_presentation_fill_to_rgb_distance")
    assert distance(green, {"rgb": [0, 255, 0]}) == pytest.approx(1.0)
    assert distance(green, {"rgb": [255, 0, 255]}) == pytest.approx(0.0)
    # No background fill of its own or from the master: each slide counts the full distance.
    assert distance(deck(tmp_path / "none.pptx"), {"rgb": [0, 255, 0]}) == pytest.approx(0.0)
    # Still the colour it had before the task: the full distance too.
    assert distance(green, {"rgb": [0, 255, 0], "original_rgb": [0, 255, 0]}) == pytest.approx(0.0)

    import zipfile

    path = tmp_path / "t.pptx"
    deck(path, (("A", "a"), ("B", "b")))
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    slide2 = parts["ppt/slides/slide2.xml"].decode()
    parts["ppt/slides/slide2.xml"] = slide2.replace(
        "</p:sld>", '<p:transition spd="slow"><p:dissolve/></p:transition></p:sld>').encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    check = get_metric("check_transition")
    assert check(str(path), {"slide_idx": 1, "transition_type": "dissolve"}) == 1.0
    assert check(str(path), {"slide_idx": 0, "transition_type": "dissolve"}) == 0.0
    assert check(str(path), {"slide_idx": 1, "transition_type": "wipe"}) == 0.0
    assert check(str(path), {"slide_idx": 7, "transition_type": "dissolve"}) == 0.0


def test_image_stretched_and_centred(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    original = Presentation()
    slide = original.slides.add_slide(original.slide_layouts[6])
    buf.seek(0)
    slide.shapes.add_picture(buf, Inches(1), Inches(1), Inches(2), Inches(1.5))
    original.save(tmp_path / "orig.pptx")
    pic = original.slides[0].shapes[0]
    pic.left, pic.top, pic.width, pic.height = 0, 0, original.slide_width, original.slide_height
    original.save(tmp_path / "done.pptx")
    check = get_metric("check_image_stretch_and_center")
    assert check(str(tmp_path / "done.pptx"), str(tmp_path / "orig.pptx")) == 1.0
    assert check(str(tmp_path / "orig.pptx"), str(tmp_path / "orig.pptx")) == 0.0


XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Impress/Misc/Start"><prop oor:name="EnablePresenterScreen" oor:op="fuse"><value>{presenter}</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Save/Document"><prop oor:name="AutoSaveTimeIntervall" oor:op="fuse"><value>{minutes}</value></prop></item>
</oor:items>
"""


def test_impress_settings_from_the_registry_file(tmp_path):
    path = tmp_path / "registrymodifications.xcu"
    path.write_text(XCU.format(presenter="false", minutes=3))
    assert get_metric("check_presenter_console_disable")(str(path)) == 1.0
    assert get_metric("check_auto_saving_time")(str(path), {"minutes": 3}) == 1.0
    assert get_metric("check_auto_saving_time")(str(path), {"minutes": 10}) == 0.0
    path.write_text(XCU.format(presenter="true", minutes=10))
    assert get_metric("check_presenter_console_disable")(str(path)) == 0.0
    assert get_metric("check_presenter_console_disable")(str(tmp_path / "absent.xcu")) == 0.0


def test_page_number_colour_from_the_master(tmp_path):
    import zipfile

    path = tmp_path / "n.pptx"
    deck(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    master = parts["ppt/slideMasters/slideMaster1.xml"].decode()
    fills = ('<a:solidFill><a:srgbClr val="C00000"/></a:solidFill>'
             '<a:solidFill><a:srgbClr val="000000"/></a:solidFill>')
    parts["ppt/slideMasters/slideMaster1.xml"] = master.replace("</p:sldMaster>",
                                                                f"<!--x-->{fills}</p:sldMaster>").encode()
    # Put the fills where OSWorld's search finds them: anywhere under the master, in document order.
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    check = get_metric("check_page_number_colors")
    assert check(str(path), {"color": "red"}) == 1.0
    assert check(str(path), {"color": "blue"}) == 0.0


def test_left_panel_is_the_slides_view():
    check = get_metric("check_left_panel")
    tree = ('<desktop-frame><frame name="talk.pptx - LibreOffice Impress"><panel>'
            '<document-frame name="Slides View"/></panel></frame></desktop-frame>')
    assert check(tree) == 1.0
    assert check(tree.replace("Slides View", "Outline View")) == 0.0
    assert check(None) == 0.0 and check("<not xml") == 0.0


# ---- getters that take media out of a presentation on the VM, end to end through the desktop server
def _with_parts(path, extra: dict[str, bytes], edit=None):
    """Rewrite the .pptx at ``path`` with ``extra`` members added and ``edit(name, text)`` applied."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    if edit:
        parts = {n: edit(n, d.decode()).encode() if n.endswith((".xml", ".rels")) else d for n, d in parts.items()}
    parts.update(extra)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, "PNG")
    return buf.getvalue()


IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
AUDIO_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/audio"


def _add_rel(text: str, rel_id: str, kind: str, target: str, external: bool = False) -> str:
    mode = ' TargetMode="External"' if external else ""
    return text.replace("</Relationships>",
                        f'<Relationship Id="{rel_id}" Type="{kind}" Target="{target}"{mode}/></Relationships>')


def test_background_picture_and_audio_come_out_of_a_slide_on_the_vm(arena, tmp_path):
    from arena_gym.evaluators import EvalContext, get_getter
    from arena_gym.protocol import ArenaClient

    desktop = arena.home / "Desktop"
    path = desktop / "talk.pptx"
    deck(path, (("A", "a"), ("B", "b")))
    background = ('<p:bg><p:bgPr><a:blipFill><a:blip r:embed="rIdBg"/><a:stretch><a:fillRect/></a:stretch>'
                  '</a:blipFill><a:effectLst/></p:bgPr></p:bg>')
    (desktop / "linked.wav").write_bytes(b"RIFF linked audio")

    def edit(name: str, text: str) -> str:
        if name == "ppt/slides/slide2.xml":
            return text.replace("<p:cSld>", f"<p:cSld>{background}", 1)
        if name == "ppt/slides/_rels/slide2.xml.rels":
            return _add_rel(text, "rIdBg", IMAGE_REL, "../media/bg.png")
        if name == "ppt/slides/_rels/slide1.xml.rels":
            return _add_rel(text, "rIdAu", AUDIO_REL, "../media/tune.wav")
        return text

    _with_parts(path, {"ppt/media/bg.png": _png((10, 200, 30)), "ppt/media/tune.wav": b"RIFF embedded audio"}, edit)
    linked = desktop / "linked.pptx"
    deck(linked)
    _with_parts(linked, {}, lambda n, t: _add_rel(t, "rIdAu", AUDIO_REL, f"file://{desktop}/linked.wav", True)
                if n == "ppt/slides/_rels/slide1.xml.rels" else t)

    with ArenaClient(arena.url, token=arena.token) as client:
        ctx = EvalContext(client, tmp_path / "cache", platform="linux")
        picture = get_getter("background_image_in_slide")(
            ctx, {"ppt_file_path": "~/Desktop/talk.pptx", "slide_index": 1, "dest": "bg.png"})
        gold = tmp_path / "gold.png"
        gold.write_bytes(_png((10, 200, 30)))
        assert get_metric("compare_images")(picture, str(gold)) == 1.0
        assert get_getter("background_image_in_slide")(
            ctx, {"ppt_file_path": "~/Desktop/talk.pptx", "slide_index": 0, "dest": "none.png"}) is None
        audio = get_getter("audio_in_slide")
        embedded = audio(ctx, {"ppt_file_path": "~/Desktop/talk.pptx", "slide_index": 0, "dest": "tune.wav"})
        assert Path(embedded).read_bytes() == b"RIFF embedded audio"
        outside = audio(ctx, {"ppt_file_path": "~/Desktop/linked.pptx", "slide_index": 0, "dest": "linked.wav"})
        assert Path(outside).read_bytes() == b"RIFF linked audio"
        assert audio(ctx, {"ppt_file_path": "~/Desktop/talk.pptx", "slide_index": 1, "dest": "x.wav"}) is None
        assert audio(ctx, {"ppt_file_path": "~/Desktop/absent.pptx", "slide_index": 0, "dest": "y.wav"}) is None
