"""Loaded first by every Python that ``/execute`` starts (its folder leads ``PYTHONPATH`` there).

Stock WAA and OSWorld clients act with ``python -c "import pyautogui; ..."``: a fresh interpreter per
action, so its imports are paid on every step. pyscreeze (imported by pyautogui) loads OpenCV, and
OpenCV numpy, whenever they are installed (~70 ms of a ~125 ms ``import pyautogui``) for one optional
feature, ``locate*(confidence=...)``. Here pyscreeze is told OpenCV is absent, as on a VM without it;
code that imports ``cv2`` or numpy itself gets them as usual. Nothing here imports anything: the
point is a cheaper start.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _importing(module):
    """Whether ``module`` is being executed somewhere up the stack (its import is under way)."""
    frame = sys._getframe(2)
    while frame.f_globals.get("__name__") != module:
        if frame.f_back is None:
            return False
        frame = frame.f_back
    return True


class _PyscreezeWithoutOpenCV:
    """A meta path finder (duck-typed: importing importlib.abc would cost more than it saves)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "cv2" and _importing("pyscreeze"):
            raise ImportError("OpenCV is not offered to pyscreeze in the light interpreter")
        return None


sys.meta_path.insert(0, _PyscreezeWithoutOpenCV())


def _chain():
    """Run the sitecustomize this one shadows (a distribution's or the user's), if there is one."""
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == _HERE:
            continue
        candidate = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as source:
                exec(compile(source.read(), candidate, "exec"), {"__name__": "sitecustomize", "__file__": candidate})
            return


_chain()
