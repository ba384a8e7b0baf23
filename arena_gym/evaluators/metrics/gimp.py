"""Image-editing metrics of OSWorld's GIMP tasks (and the multi-app ones that export images), with its
semantics (its current code, desktop-env 1.0.2): its thresholds, its SSIM (both images as RGB, skimage's
default window, mean over the colour channels; images of different sizes are not similar), its quirks,
each noted where it is kept. A missing file scores 0, as in OSWorld.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageStat

from ..registry import metric
from .images import ssim_last_axis_channels

log = logging.getLogger(__name__)


def _similar(a: Image.Image, b: Image.Image, threshold: float = 0.9) -> bool:
    """OSWorld's structure_check_by_ssim."""
    if min(a.size) < 7 or min(b.size) < 7:
        return False
    x, y = np.array(a.convert("RGB")), np.array(b.convert("RGB"))
    if x.shape != y.shape:
        return False
    return ssim_last_axis_channels(x, y) >= threshold


def _close_by_mse(a: Image.Image, b: Image.Image, threshold: float) -> bool:
    """OSWorld's structure_check_by_mse: ``a`` resized to ``b``'s size (Lanczos), both as RGB."""
    if a.size != b.size:
        a = a.resize(b.size, Image.Resampling.LANCZOS)
    x = np.array(a.convert("RGB"), dtype=np.float32) / 255
    y = np.array(b.convert("RGB"), dtype=np.float32) / 255
    return float(np.mean((x - y) ** 2)) < threshold


def _brightness(image: Image.Image) -> float:
    return float(ImageStat.Stat(image.convert("L")).mean[0])


def _content(image: Image.Image) -> Image.Image | None:
    """The part of an image with transparency that is not transparent (None when none is)."""
    rgba = image.convert("RGBA") if image.mode != "RGBA" else image
    box = rgba.split()[-1].getbbox()
    return rgba.crop(box) if box is not None else None


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or "transparency" in image.info


@metric("compare_image_list")
def compare_image_list(result: Any, expected: Any, **_: Any) -> float:
    """Every pair of images is pixel for pixel the same, once the result is brought to the expected
    image's size (Lanczos) and mode."""
    results = result if isinstance(result, list) else [result]
    golds = expected if isinstance(expected, list) else [expected]
    for pred, gold in zip(results, golds):
        if not pred or not gold:
            return 0.0
        with Image.open(pred) as opened, Image.open(gold) as b:
            a: Image.Image = opened
            if a.size != b.size:
                a = a.resize(b.size, Image.Resampling.LANCZOS)
            if a.mode != b.mode:
                a = a.convert(b.mode)
            if ImageChops.difference(a, b).getbbox():
                return 0.0
    return 1.0


@metric("check_brightness_decrease_and_structure_sim")
def check_brightness_decrease_and_structure_sim(result: str | None, expected: str | None, threshold: float = 0.03,
                                                **_: Any) -> float:
    """Darker than the original, and the same picture once both are brought to a mean brightness of 128
    (mean squared error of the normalised values below ``threshold``)."""
    if result is None or expected is None:
        return 0.0
    with Image.open(result) as src, Image.open(expected) as tgt:
        reduced = _brightness(tgt) > _brightness(src)

        def normalised(image: Image.Image) -> Image.Image:
            factor = 128 / _brightness(image)
            return image.point(lambda x: min(255, max(0, int(x * factor))))

        return float(reduced and _close_by_mse(normalised(src), normalised(tgt), threshold))


@metric("check_saturation_increase_and_structure_sim")
def check_saturation_increase_and_structure_sim(result: str | None, expected: str | None, **_: Any) -> float:
    """More saturated than the original, hue and value bands similar (SSIM >= 0.9 each)."""
    if result is None or expected is None:
        return 0.0
    with Image.open(result) as src_file, Image.open(expected) as tgt_file:
        src, tgt = src_file.convert("HSV"), tgt_file.convert("HSV")
    increased = np.mean(np.array(tgt.split()[1])) < np.mean(np.array(src.split()[1]))
    h1, _s1, v1 = src.split()
    h2, _s2, v2 = tgt.split()
    return float(bool(increased) and _similar(h1, h2) and _similar(v1, v2))


@metric("check_file_exists_and_structure_sim")
def check_file_exists_and_structure_sim(result: str | None, expected: str | None, **_: Any) -> float:
    if result is None or expected is None or not os.path.isfile(result):
        return 0.0
    with Image.open(result) as src, Image.open(expected) as tgt:
        return float(_similar(src, tgt))


@metric("check_structure_sim")
def check_structure_sim(result: str | None, expected: str | None, **_: Any) -> float:
    if result is None or expected is None:
        return 0.0
    try:
        with Image.open(result) as src, Image.open(expected) as tgt:
            return float(src.size == tgt.size and _similar(src, tgt))
    except (OSError, ValueError) as exc:  # OSWorld scores an unreadable image 0
        log.info("check_structure_sim: %s", exc)
        return 0.0


@metric("check_structure_sim_resized")
def check_structure_sim_resized(result: str | None, expected: str | None, **_: Any) -> float:
    """Similar once the result (its non-transparent part, if it has transparency) is resized to the
    expected image's size (Pillow's default filter)."""
    if result is None or expected is None:
        return 0.0
    with Image.open(result) as opened, Image.open(expected) as tgt:
        src: Image.Image = opened
        if _has_transparency(src):
            content = _content(src)
            if content is None:
                return 0.0
            src = content.convert("RGB")
        return float(_similar(src.resize(tgt.size), tgt.convert("RGB")))


@metric("check_contrast_increase_and_structure_sim")
def check_contrast_increase_and_structure_sim(result: str | None, expected: str | None, **_: Any) -> float:
    """More contrast (standard deviation of the pixel values) than the original; SSIM >= 0.65."""
    if result is None or expected is None:
        return 0.0
    with Image.open(result) as src, Image.open(expected) as tgt:
        higher = np.std(np.asarray(tgt, dtype=np.float32)) < np.std(np.asarray(src, dtype=np.float32))
        return float(bool(higher) and _similar(src, tgt, 0.65))


@metric("check_palette_and_structure_sim")
def check_palette_and_structure_sim(result: str | None, expected: str | None, **_: Any) -> float:
    """The result is a palette image (mode P) and, as RGB, similar to the expected one; an unreadable
    file scores 0."""
    if result is None or expected is None:
        return 0.0
    try:
        with Image.open(result) as src, Image.open(expected) as tgt:
            src.load()
            return float(src.mode == "P" and _similar(src.convert("RGB"), tgt))
    except (OSError, ValueError) as exc:
        log.info("check_palette_and_structure_sim: %s", exc)
        return 0.0


@metric("check_image_mirror")
def check_image_mirror(result: str | None, expected: str | None, **_: Any) -> float:
    """The result's left-right mirror image is the expected one (SSIM >= 0.99). OSWorld passes the
    original as the first file and the agent's as the second: the order is the task's."""
    if result is None or expected is None:
        return 0.0
    with Image.open(result) as src, Image.open(expected) as tgt:
        return float(_similar(src.transpose(Image.Transpose.FLIP_LEFT_RIGHT), tgt, 0.99))


@metric("check_triangle_position")
def check_triangle_position(result: str | None, **_: Any) -> float:
    """The triangle's centroid is within 5 % of the image's centre (each axis). As in OSWorld, "the
    triangle" is the colour with the second-lowest pixel count (its comment says otherwise; its code
    picks this one, and its scores are what it computes)."""
    if result is None:
        return 0.0
    with Image.open(result) as image:
        pixels = np.array(image)
    if pixels.ndim != 3:
        return 0.0
    colors, counts = np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0, return_counts=True)
    if len(colors) < 2:
        return 0.0
    triangle = colors[np.argsort(counts)][1]
    centroid = np.argwhere(np.all(pixels == triangle, axis=2)).mean(axis=0)
    shape = np.array(pixels.shape[:2])
    return float(np.all(np.abs(centroid - shape / 2) < 0.05 * shape))


@metric("check_textbox_on_leftside")
def check_textbox_on_leftside(result: str | None, **_: Any) -> float:
    """The leftmost dark pixel (gray < 128) is within the left 5 % of the image."""
    if result is None:
        return 0.0
    with Image.open(result) as image:
        gray = np.array(image.convert("L"))
    columns = np.nonzero(gray < 128)[1]
    leftmost = int(columns.min()) if columns.size else gray.shape[1]
    return float(leftmost < gray.shape[1] * 0.05)


@metric("check_green_background")
def check_green_background(result: str | None, expected: str | None, **_: Any) -> float:
    """Where the expected image is not black, the result is green (G above R and B).

    OSWorld walks x over the width and, inside, y over the height, reading ``array[x, y]``: x picks a
    row. So it reads past the array for any image that is not square, and answers whatever it met first
    in that order: 0 at a pixel that is not green, or IndexError. Both are kept (the error as a
    ValueError that says so), because its scores are what that loop gives."""
    if result is None or expected is None:
        return 0.0
    with Image.open(result) as src, Image.open(expected) as tgt:
        width, height = tgt.size
        source, target = np.array(src), np.array(tgt)
    rows = min(target.shape[0], source.shape[0])
    cols = min(target.shape[1], source.shape[1])
    xs, ys = min(width, rows), min(height, cols)
    tgt_rgb = target[:xs, :ys, :3]
    src_rgb = source[:xs, :ys, :3].astype(int)
    r, g, b = src_rgb[..., 0], src_rgb[..., 1], src_rgb[..., 2]
    failing = np.argwhere(np.any(tgt_rgb != 0, axis=2) & ~((g > r) & (g > b)))
    first_failure = min((int(x) * height + int(y) for x, y in failing), default=None)
    # The first index the loop cannot read: (0, cols) when the height runs past the columns, else (rows, 0).
    first_out = cols if height > cols else rows * height if width > rows else None
    if first_out is not None and (first_failure is None or first_out < first_failure):
        raise ValueError(f"check_green_background reads past a {width}x{height} image (it indexes rows by x): "
                         "OSWorld raises IndexError here, so the task has no score")
    return 0.0 if first_failure is not None else 1.0


@metric("check_config_status")
def check_config_status(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """A GIMP settings file (gimprc, sessionrc, action-history) has a line ``(key ... value)``; ``key``
    may be a pair (the first two words)."""
    if result is None:
        return 0.0
    with open(result, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    key, value = rules["key"], rules["value"]
    for line in lines:
        if line.startswith("#") or line == "\n":
            continue
        items = line.strip().lstrip("(").rstrip(")\n").split()
        if not items:
            continue
        if isinstance(key, str) and items[0] == key and items[-1] == value:
            return 1.0
        if (isinstance(key, list) and len(key) == 2 and len(items) >= 2 and items[:2] == key
                and items[-1] == value):
            return 1.0
    return 0.0


@metric("check_image_size")
def check_image_size(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    """The image (or, with ``ignore_transparent``, its non-transparent part) has the given height and/or
    width. As in OSWorld, an image with a ``transparency`` entry is measured by its content whatever
    ``ignore_transparent`` says (its condition reads ``a and b or c``)."""
    if result is None:
        return 0.0
    with Image.open(result) as image:
        if (rules.get("ignore_transparent", False) and image.mode in ("RGBA", "LA")) or "transparency" in image.info:
            content = _content(image)
            width, height = content.size if content is not None else (0, 0)
        else:
            width, height = image.size
    return float((rules.get("height") is None or height == rules["height"])
                 and (rules.get("width") is None or width == rules["width"]))


@metric("check_image_file_size")
def check_image_file_size(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    if result is None:
        return 0.0
    return float(os.path.getsize(result) < rules["max_size"])
