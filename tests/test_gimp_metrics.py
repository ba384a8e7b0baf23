"""OSWorld's image-editing metrics on real images made here with Pillow, edited the way the tasks ask
(darker, more saturated, mirrored, palette, resized, exported), and GIMP's settings files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from arena_gym.evaluators import get_metric


def picture(path, size=(120, 90), triangle_at=(60, 45)):
    """A scene with structure: a gradient sky, a sun, a house and a yellow triangle."""
    width, height = size
    sky = np.linspace(90, 200, height, dtype=np.uint8)[:, None].repeat(width, 1)
    image = Image.fromarray(np.dstack([sky // 2, sky // 2 + 40, sky]).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 8, 34, 32), fill=(250, 210, 40))
    draw.rectangle((70, 50, 110, 85), fill=(150, 60, 40))
    x, y = triangle_at
    draw.polygon([(x - 12, y + 10), (x + 12, y + 10), (x, y - 12)], fill=(240, 230, 20))
    image.save(path)
    return str(path)


def edited(src, path, edit):
    with Image.open(src) as image:
        edit(image.convert("RGB")).save(path)
    return str(path)


def m(name):
    return get_metric(name)


def test_brightness_saturation_contrast_edits(tmp_path):
    original = picture(tmp_path / "o.png")
    darker = edited(original, tmp_path / "d.png", lambda i: ImageEnhance.Brightness(i).enhance(0.7))
    brighter = edited(original, tmp_path / "b.png", lambda i: ImageEnhance.Brightness(i).enhance(1.3))
    assert m("check_brightness_decrease_and_structure_sim")(darker, original) == 1.0
    assert m("check_brightness_decrease_and_structure_sim")(brighter, original) == 0.0
    assert m("check_brightness_decrease_and_structure_sim")(None, original) == 0.0

    saturated = edited(original, tmp_path / "s.png", lambda i: ImageEnhance.Color(i).enhance(1.6))
    assert m("check_saturation_increase_and_structure_sim")(saturated, original) == 1.0
    assert m("check_saturation_increase_and_structure_sim")(original, saturated) == 0.0

    contrast = edited(original, tmp_path / "c.png", lambda i: ImageEnhance.Contrast(i).enhance(1.5))
    assert m("check_contrast_increase_and_structure_sim")(contrast, original) == 1.0
    assert m("check_contrast_increase_and_structure_sim")(original, contrast) == 0.0


def test_structure_mirror_palette_resize(tmp_path):
    original = picture(tmp_path / "o.png")
    other = picture(tmp_path / "x.png", triangle_at=(20, 70))
    assert m("check_structure_sim")(original, original) == 1.0
    noise = edited(original, tmp_path / "n.png", lambda i: Image.fromarray(
        np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8)))
    assert m("check_structure_sim")(noise, original) == 0.0
    mirrored = edited(original, tmp_path / "m.png", ImageOps.mirror)
    assert m("check_image_mirror")(original, mirrored) == 1.0 and m("check_image_mirror")(original, other) == 0.0
    palette = edited(original, tmp_path / "p.png", lambda i: i.convert("P", palette=Image.Palette.ADAPTIVE))
    assert m("check_palette_and_structure_sim")(palette, original) == 1.0
    assert m("check_palette_and_structure_sim")(original, original) == 0.0  # not a palette image
    big = edited(original, tmp_path / "big.png", lambda i: i.resize((240, 180)))
    assert m("check_structure_sim_resized")(big, original) == 1.0
    # Another size is not the expected image: 0.
    assert m("check_structure_sim")(big, original) == 0.0
    assert m("check_file_exists_and_structure_sim")(original, original) == 1.0
    assert m("check_file_exists_and_structure_sim")(str(tmp_path / "absent.png"), original) == 0.0


def test_positions_sizes_and_pixels(tmp_path):
    centred = picture(tmp_path / "c.png", size=(100, 100), triangle_at=(50, 50))
    blank = Image.new("RGB", (100, 100), (255, 255, 255))
    draw = ImageDraw.Draw(blank)
    draw.polygon([(40, 58), (60, 58), (50, 40)], fill=(0, 0, 255))
    draw.rectangle((0, 0, 3, 3), fill=(255, 0, 0))  # a rarer colour: OSWorld's pick is the 2nd rarest
    blank.save(tmp_path / "t.png")
    assert m("check_triangle_position")(str(tmp_path / "t.png")) == 1.0
    corner = Image.new("RGB", (100, 100), (255, 255, 255))
    draw = ImageDraw.Draw(corner)
    draw.polygon([(5, 25), (25, 25), (15, 5)], fill=(0, 0, 255))
    draw.rectangle((90, 90, 93, 93), fill=(255, 0, 0))
    corner.save(tmp_path / "corner.png")
    assert m("check_triangle_position")(str(tmp_path / "corner.png")) == 0.0

    text = Image.new("RGB", (200, 50), (255, 255, 255))
    ImageDraw.Draw(text).rectangle((4, 10, 60, 30), fill=(0, 0, 0))
    text.save(tmp_path / "left.png")
    ImageOps.mirror(text).save(tmp_path / "right.png")
    assert m("check_textbox_on_leftside")(str(tmp_path / "left.png")) == 1.0
    assert m("check_textbox_on_leftside")(str(tmp_path / "right.png")) == 0.0

    assert m("check_image_size")(centred, {"height": 100}) == 1.0
    # With ignore_transparent, a transparent margin does not count.
    framed = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    framed.paste(Image.new("RGBA", (60, 40), (200, 10, 10, 255)), (20, 30))
    framed.save(tmp_path / "framed.png")
    assert m("check_image_size")(str(tmp_path / "framed.png"), {"height": 40, "width": 60, "ignore_transparent": True}) == 1.0
    assert m("check_image_size")(str(tmp_path / "framed.png"), {"height": 100, "width": 100}) == 1.0
    assert m("check_image_size")(centred, {"height": 100, "width": 90}) == 0.0
    assert m("check_image_file_size")(centred, {"max_size": 10**6}) == 1.0
    assert m("check_image_file_size")(centred, {"max_size": 10}) == 0.0

    assert m("compare_image_list")([centred, centred], [centred, centred]) == 1.0
    assert m("compare_image_list")(centred, str(tmp_path / "t.png")) == 0.0
    assert m("compare_image_list")([centred, None], [centred, centred]) == 0.0


def test_green_background_reads_as_osworld_does(tmp_path):
    mask = Image.new("RGB", (70, 70), (255, 255, 255))
    ImageDraw.Draw(mask).rectangle((20, 20, 40, 60), fill=(0, 0, 0))  # the object, black
    mask.save(tmp_path / "mask.png")
    Image.new("RGB", (70, 70), (20, 200, 30)).save(tmp_path / "green.png")
    Image.new("RGB", (70, 70), (200, 200, 200)).save(tmp_path / "grey.png")
    check = m("check_green_background")
    assert check(str(tmp_path / "green.png"), str(tmp_path / "mask.png")) == 1.0
    assert check(str(tmp_path / "grey.png"), str(tmp_path / "mask.png")) == 0.0
    # Not square: OSWorld's loop meets a non-green pixel first (0) or reads past the array (no score).
    Image.new("RGB", (60, 80), (200, 200, 200)).save(tmp_path / "tall-grey.png")
    assert check(str(tmp_path / "tall-grey.png"), str(tmp_path / "tall-grey.png")) == 0.0
    Image.new("RGB", (60, 80), (20, 200, 30)).save(tmp_path / "tall-green.png")
    with pytest.raises(ValueError, match="reads past"):
        check(str(tmp_path / "tall-green.png"), str(tmp_path / "tall-green.png"))


def test_gimp_settings_lines(tmp_path):
    gimprc = tmp_path / "gimprc"
    gimprc.write_text('# GIMP gimprc\n\n(undo-levels 100)\n(theme "Light")\n(default-image\n    (width 1920))\n')
    history = tmp_path / "action-history"
    history.write_text('(history-item "filters-vignette" 1)\n(history-item "image-flip" 2)\n')
    check = m("check_config_status")
    assert check(str(gimprc), {"key": "undo-levels", "value": "100"}) == 1.0
    assert check(str(gimprc), {"key": "theme", "value": '"Light"'}) == 1.0
    assert check(str(gimprc), {"key": "theme", "value": '"Dark"'}) == 0.0
    assert check(str(history), {"key": ["history-item", '"filters-vignette"'], "value": "1"}) == 1.0
    assert check(str(history), {"key": ["history-item", '"image-flip"'], "value": "1"}) == 0.0
    assert check(None, {"key": "undo-levels", "value": "100"}) == 0.0
