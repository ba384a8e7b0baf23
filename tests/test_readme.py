"""Every Python snippet in the README runs, as a script, the way a reader would run it; every command line
it shows is a real command. What a reader would change is changed here the same way: the VM addresses
(stock-protocol VMs with their evaluate servers on free loopback ports) and the WAA task folder."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from .support.evaluate import evaluate_server
from .support.stock_server import StockWAAServer

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
COMMANDS = [line for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S) for line in block.splitlines()]
WAA_TASKS = ROOT.parent / "shared" / "waa_tasks" / "examples"
WAA_FOLDER = "/path/to/WindowsAgentArena/evaluation_examples_windows/examples"
VMS = [("http://127.0.0.1:5000", "http://127.0.0.1:5051"), ("http://127.0.0.1:6000", "http://127.0.0.1:6051")]


def _run(script: str, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"README snippet {name} failed:\n{script}\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_readme_has_the_snippets_this_test_knows():
    assert len(SNIPPETS) == 7, "a snippet was added or removed: run it here too"


@pytest.mark.desktop
@pytest.mark.parametrize("index", [0, 2, 4], ids=["local-desktop", "sb3", "collector"])
def test_local_snippets_run_as_scripts(index, tmp_path, desktop_programs):
    out = _run(SNIPPETS[index], tmp_path, f"snippet{index}")
    if index == 2:
        assert "(80, 128, 3)" in out  # the observation is the size asked for, not silently another
    if index == 4:
        finished = [line.split() for line in out.splitlines()]
        assert sorted(f[0] for f in finished) == ["calc-label-cell", "click-blue", "click-red"]
        assert all(f[3] == "True" for f in finished)  # DONE at once: valid 0s


@pytest.mark.ray
def test_the_ray_snippet_runs_as_a_script(tmp_path, desktop_programs):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'arena-gym[ray]'")
    out = _run(SNIPPETS[6], tmp_path, "snippet6")
    assert sorted(line.split()[0] for line in out.splitlines()) == ["click-blue", "click-red"]
    assert all(line.split()[2] == "True" for line in out.splitlines())


@pytest.mark.skipif(not WAA_TASKS.is_dir(), reason=f"WAA's task files are not at {WAA_TASKS}")
def test_the_pool_snippet_runs_against_stock_vms(tmp_path):
    with ExitStack() as stack:
        lines = ["vms:"]
        for i in range(2):
            vm = stack.enter_context(StockWAAServer())
            evaluator = stack.enter_context(evaluate_server(vm.url, "--platform", "windows", tasks=str(WAA_TASKS)))
            lines += [f"  - name: waa-{i}", f"    server_url: {vm.url}", f"    evaluate_url: {evaluator}"]
        pool = tmp_path / "pool.yaml"
        pool.write_text("\n".join(lines) + "\n")
        out = _run(SNIPPETS[5].replace("configs/pool.example.yaml", str(pool)), tmp_path, "snippet5")
    episodes = ast.literal_eval(out.strip())
    assert len(episodes) == 2 and all(valid for _, valid in episodes)
    assert {slot for slot, _ in episodes} <= {"waa-0", "waa-1"}


@pytest.mark.skipif(not WAA_TASKS.is_dir(), reason=f"WAA's task files are not at {WAA_TASKS}")
@pytest.mark.parametrize("index", [1, 3], ids=["waa-vm", "vector-over-vms"])
def test_vm_snippets_run_as_scripts_against_stock_vms(index, tmp_path):
    script = SNIPPETS[index].replace(WAA_FOLDER, str(WAA_TASKS))
    with ExitStack() as stack:
        for server_url, evaluate_url in VMS:
            vm = stack.enter_context(StockWAAServer())
            evaluator = stack.enter_context(evaluate_server(vm.url, "--platform", "windows", tasks=str(WAA_TASKS)))
            script = script.replace(server_url, vm.url).replace(evaluate_url, evaluator)
        assert "127.0.0.1:5000" not in script and "127.0.0.1:5051" not in script
        out = _run(script, tmp_path, f"snippet{index}")
    if index == 1:
        assert "1876fe7f-6fdc-5dd6-c9e0-237d4c8411f0-WOS 0.0 a score" in out  # DONE at once: a valid 0
    else:
        assert "[0. 0.] [ True  True]" in out


@pytest.mark.parametrize("line", [c for c in COMMANDS if c.split()[:1] in (["arena-gym"], ["arena-bridge"])])
def test_every_command_line_in_the_readme_parses(line):
    """The README's arena-gym and arena-bridge lines name real subcommands and options (their --help
    answers with what the line uses)."""
    words = shlex.split(line.split("#", 1)[0].split(";", 1)[0])
    program, sub, rest = words[0], words[1], words[2:]
    passed_on: list[str] = []
    if "--" in rest:  # install-unit -- <bridge options>: those are the bridge command's
        rest, passed_on = rest[:rest.index("--")], rest[rest.index("--") + 1:]
    for command, options in ((sub, rest), ("bridge", passed_on)):
        if command != sub and not options:
            continue
        helped = subprocess.run([str(Path(sys.executable).parent / program), command, "--help"],
                                capture_output=True, text=True, timeout=60)
        assert helped.returncode == 0, helped.stderr
        for word in options:
            if word.startswith("--"):
                assert word.split("=")[0] in helped.stdout, f"{line!r}: {command} has no {word}"


def test_every_script_the_readme_names_exists():
    for script in re.findall(r"(?:bash |python )((?:scripts|bench)/[\w./-]+\w)", README):
        assert (ROOT / script).is_file(), script
