"""PDF, audio and video metrics, as WAA computes them (PyMuPDF text; librosa MFCC + DTW; pHash frames).

They need the ``evaluate`` extra (PyMuPDF) and the ``media`` extra (librosa, fastdtw, OpenCV, ImageHash);
a missing library is a clear error that names the extra to install.
"""

from __future__ import annotations

import logging
from typing import Any

from rapidfuzz import fuzz

from ..registry import metric

log = logging.getLogger(__name__)


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(f"this metric needs {module!r}: pip install 'arena-gym[{extra}]'") from exc


@metric("compare_pdfs")
def compare_pdfs(pdf1: str | list[str] | None, pdf2: str | list[str] | None) -> float:
    """Mean fuzzy ratio of the pages' text over pairs of PDFs (a single pair is a list of one)."""
    if not pdf1 or not pdf2:
        return 0.0
    fitz = _need("fitz", "evaluate")
    firsts = pdf1 if isinstance(pdf1, list) else [pdf1]
    seconds = pdf2 if isinstance(pdf2, list) else [pdf2]

    def text(path: str) -> str:
        with fitz.open(path) as doc:
            return "".join(page.get_text() for page in doc).strip()  # WAA strips the whole text

    total = 0.0
    for a, b in zip(firsts, seconds):
        try:
            total += fuzz.ratio(text(a), text(b)) / 100.0
        except Exception:  # an unreadable PDF counts as no match, as in WAA
            log.info("compare_pdfs: cannot read %s or %s", a, b)
    return total / len(seconds)  # WAA divides by the number of expected PDFs


@metric("compare_audios")
def compare_audios(audio1: str | None, audio2: str | None) -> float:
    """MFCCs (normalised per coefficient), aligned by DTW with cosine distance d; score 1 / (1 + d)."""
    if not audio1 or not audio2:
        return 0.0
    librosa = _need("librosa", "media")
    fastdtw = _need("fastdtw", "media").fastdtw
    cosine = _need("scipy.spatial.distance", "media").cosine
    features = []
    for path in (audio1, audio2):
        y, sr = librosa.load(path)
        features.append(librosa.util.normalize(librosa.feature.mfcc(y=y, sr=sr), axis=1))
    distance, _ = fastdtw(features[0].T, features[1].T, dist=cosine)
    return 1.0 / (1.0 + distance)


@metric("compare_videos")
def compare_videos(video1: str | None, video2: str | None, max_frames_to_check: int = 100, threshold: int = 5) -> float:
    """Frame by frame pHash distance; more than ``threshold`` frames apart by more than ``threshold``
    bits fails, and so do videos of different length (within the frames checked)."""
    if not video1 or not video2:
        return 0.0
    cv2 = _need("cv2", "media")
    imagehash = _need("imagehash", "media")
    from PIL import Image

    cap1, cap2 = cv2.VideoCapture(video1), cv2.VideoCapture(video2)
    try:
        mismatches = 0
        for _ in range(max_frames_to_check):
            ok1, frame1 = cap1.read()
            ok2, frame2 = cap2.read()
            if not ok1 or not ok2:
                return float(ok1 == ok2)
            h1 = imagehash.phash(Image.fromarray(cv2.cvtColor(frame1, cv2.COLOR_BGR2RGB)))
            h2 = imagehash.phash(Image.fromarray(cv2.cvtColor(frame2, cv2.COLOR_BGR2RGB)))
            if h1 - h2 > threshold:
                mismatches += 1
                if mismatches > threshold:
                    return 0.0
        return 1.0
    finally:
        cap1.release()
        cap2.release()
