"""Image metrics."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..registry import metric


def ssim(a: np.ndarray, b: np.ndarray, win: int = 7, data_range: float = 255.0) -> float:
    """Mean structural similarity of two grayscale images, as skimage computes it by default
    (7x7 uniform window, sample covariance, K1=0.01, K2=0.03, borders of half a window left out)."""
    if a.shape != b.shape:
        raise ValueError(f"ssim needs images of one shape, got {a.shape} and {b.shape}")
    if min(a.shape) < win:
        raise ValueError(f"images smaller than the {win}x{win} window")
    a = a.astype(np.float64)
    b = b.astype(np.float64)

    def box(x: np.ndarray) -> np.ndarray:
        # Mean over each full win x win window (valid positions only), via summed-area tables.
        s = np.pad(x, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        return (s[win:, win:] - s[:-win, win:] - s[win:, :-win] + s[:-win, :-win]) / (win * win)

    n = win * win
    cov = n / (n - 1)
    ux, uy = box(a), box(b)
    vx = cov * (box(a * a) - ux * ux)
    vy = cov * (box(b * b) - uy * uy)
    vxy = cov * (box(a * b) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return float(s.mean())


@metric("compare_images")
def compare_images(image1: str | None, image2: str | None) -> float:
    """Grayscale SSIM after resizing both to the smaller size (WAA takes the smaller (w, h) tuple)."""
    if not image1 or not image2:
        return 0.0
    with Image.open(image1) as i1, Image.open(image2) as i2:
        g1, g2 = i1.convert("L"), i2.convert("L")
        size = min(g1.size, g2.size)
        g1 = g1.resize(size, Image.Resampling.LANCZOS)
        g2 = g2.resize(size, Image.Resampling.LANCZOS)
        return ssim(np.array(g1), np.array(g2))
