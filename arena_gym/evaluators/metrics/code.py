"""OSWorld's metrics of its VS Code and programming tasks: a settings file's text, a result file's
content (numbers within 1e-4), and a task's own test suite run on the agent's files.

Different, on purpose: OSWorld imports the task's test file into the scoring process, and that test
imports the agent's code, so agent code would run on the scoring host. Here the test runs in a child
process inside bubblewrap (no network, the system read-only, only a copy of the files writable), with a
time limit; without bubblewrap the task cannot be scored here, and says so.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..registry import Unscorable, metric

log = logging.getLogger(__name__)

TEST_TIMEOUT_S = 120


@metric("compare_config")
def compare_config(result: str | None, rules: dict[str, Any], **_: Any) -> float:
    if not result:
        return 0.0
    with open(result, encoding="utf-8") as f:
        return float(f.read() == rules["expected"])


@metric("compare_result_files")
def compare_result_files(result: str | None, expected: str | None, **_: Any) -> float:
    """The same stripped content; where the expected content is a number: the result contains it, or is
    a number within 1e-4 of it."""
    if not result or not expected:
        return 0.0
    src = Path(result).read_text(encoding="utf-8").strip()
    tgt = Path(expected).read_text(encoding="utf-8").strip()
    try:
        target = float(tgt)
    except ValueError:
        return float(src == tgt)
    if tgt in src:
        return 1.0
    try:
        return float(abs(float(src) - target) < 1e-4)
    except ValueError:
        return 0.0


# Runs in the sandbox: imports the test file from its folder, calls the test function, prints a JSON
# score. OSWorld's rules: a bool is 1/0, a number is clamped to [0, 1], anything else by its truth; any
# failure to load or run is 0.
_RUNNER = """
import importlib.util, json, os, sys
path, name = sys.argv[1], sys.argv[2]
os.chdir(os.path.dirname(path))
sys.path.insert(0, os.path.dirname(path))
try:
    spec = importlib.util.spec_from_file_location("task_test_suite", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    value = getattr(module, name)()
    if isinstance(value, bool):
        score = 1.0 if value else 0.0
    elif isinstance(value, (int, float)):
        score = max(0.0, min(1.0, float(value)))
    else:
        score = 1.0 if value else 0.0
except BaseException as exc:  # the agent's code may raise anything, exit included
    print(json.dumps({"score": 0.0, "error": repr(exc)[:500]}))
else:
    print(json.dumps({"score": score}))
"""


@metric("check_python_file_by_test_suite")
def check_python_file_by_test_suite(result: Any, expected: str | None, **options: Any) -> float:
    """The task's test file (``expected``) run beside copies of the agent's files (``result``, one path or
    a list): the score its ``test_function_name`` (default ``test``) returns."""
    if not expected or not Path(expected).is_file():
        return 0.0
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise Unscorable("check_python_file_by_test_suite runs the agent's code, which needs bubblewrap "
                         "here (apt-get install bubblewrap)")
    files = result if isinstance(result, list) else [result]
    with tempfile.TemporaryDirectory(prefix="test-suite-") as work:
        for path in files:
            if path and Path(path).is_file():
                shutil.copy(path, work)
        test = Path(work) / Path(expected).name
        shutil.copy(expected, test)
        # The whole system read-only (the interpreter may live anywhere, /tmp included), the copy writable.
        argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--bind", work, work,
                "--setenv", "TMPDIR", work, "--unshare-all", "--die-with-parent", "--new-session",
                sys.executable, "-c", _RUNNER, str(test), str(options.get("test_function_name", "test"))]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TEST_TIMEOUT_S, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            log.info("the task's test suite ran past %d s: 0", TEST_TIMEOUT_S)
            return 0.0
    last = done.stdout.strip().splitlines()[-1:] or [""]
    try:
        answer = json.loads(last[0])
    except json.JSONDecodeError:
        if "bwrap" in done.stderr or done.returncode == 1 and not done.stdout:
            raise Unscorable(f"the sandbox for the task's test suite did not start: {done.stderr.strip()[:300]}") from None
        return 0.0
    if answer.get("error"):
        log.info("the task's test suite failed: %s", answer["error"])
    return float(answer["score"])
