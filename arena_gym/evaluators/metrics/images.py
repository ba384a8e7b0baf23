"""Image metrics."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..registry import metric


def ssim(a: np.ndarray, b: np.ndarray, win: int = 7, data_range: float = 255.0) -> float:
    """Mean structural similarity of two single-channel signals (2-D images, or 1-D rows), as skimage
    computes it by default (a uniform window of ``win`` along each axis, sample covariance, K1=0.01,
    K2=0.03, borders of half a window left out)."""
    if a.shape != b.shape:
        raise ValueError(f"ssim needs images of one shape, got {a.shape} and {b.shape}")
    if min(a.shape) < win:
        raise ValueError(f"images smaller than the {win}x{win} window")
    a = a.astype(np.float64)
    b = b.astype(np.float64)

    def box(x: np.ndarray) -> np.ndarray:
        # Mean over each full window (valid positions only), via summed-area tables along every axis.
        for axis in range(x.ndim):
            pad = [(1, 0) if i == axis else (0, 0) for i in range(x.ndim)]
            s = np.pad(x, pad).cumsum(axis)
            n = s.shape[axis]
            x = np.take(s, range(win, n), axis) - np.take(s, range(0, n - win), axis)
        return x / win ** a.ndim

    n = win ** a.ndim
    cov = n / (n - 1)
    ux, uy = box(a), box(b)
    vx = cov * (box(a * a) - ux * ux)
    vy = cov * (box(b * b) - uy * uy)
    vxy = cov * (box(a * b) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return float(s.mean())


def ssim_last_axis_channels(a: np.ndarray, b: np.ndarray) -> float:
    """skimage's ``structural_similarity(a, b, channel_axis=-1)`` on uint8 arrays, as OSWorld calls it:
    the mean over the last axis of the SSIM of each slice. For an RGB image that is per colour channel;
    for a 2-D (single-band) image it is per column, each a 1-D signal down the image."""
    if a.shape != b.shape:
        raise ValueError(f"ssim needs images of one shape, got {a.shape} and {b.shape}")
    return float(np.mean([ssim(a[..., i], b[..., i]) for i in range(a.shape[-1])]))


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
