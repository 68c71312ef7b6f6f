"""The course pipeline: fresh builds, clean releases, execution, the nbgrader round trip."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.config import from_reference
from autograder.environ import run_nbgrader
from course import build
from tests.util import sample_namespace

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"

ASSIGNMENTS = [s.stem for s in build.sources()]


def _directives(src: Path) -> list[tuple[str, str]]:
    """(grade_id, solution qualname) for every answer cell of a source."""
    out, gid = [], None
    for line in src.read_text().splitlines():
        if line.startswith("# %%"):
            gid = None
        m = re.match(r"#\| nbgrader: answer id=(\w+)", line)
        if m:
            gid = m.group(1)
        m = re.match(r"#\| solution: ([\w.]+)", line)
        if m:
            out.append((gid, m.group(1)))
    return out


def _cells(path: Path) -> dict[str, nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def test_there_is_at_least_one_assignment():
    assert "01_rnn" in ASSIGNMENTS


def test_built_notebooks_are_fresh():
    assert build.stale() == [], "run `python course/build.py notebooks` and commit the result"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_regions_equal_the_reference_package(name):
    cells = _cells(COURSE / "source" / name / f"{name}.ipynb")
    pairs = _directives(build.SOURCES / f"{name}.py")
    assert pairs, "no answer cells found"
    for gid, qualname in pairs:
        expected = build.definition_source(qualname, solution=True)
        assert cells[gid].source.startswith(expected), f"{gid} differs from {qualname}"
        assert "### BEGIN SOLUTION" in cells[gid].source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_holds_only_the_student_notebook_without_solutions(name):
    folder = COURSE / "release" / name
    files = sorted(p.name for p in folder.rglob("*") if p.is_file())
    assert files == [f"{name}.ipynb"], f"only the notebook may be released, found {files}"
    text = (folder / f"{name}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "run_hidden_suite", "Rubric"):
        assert marker not in text, f"{marker!r} leaked into the student release"
    released = _cells(folder / f"{name}.ipynb")
    for gid, qualname in _directives(build.SOURCES / f"{name}.py"):
        solution = build.definition_source(qualname, solution=True)
        body = solution.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
        code_lines = [ln.strip() for ln in body.splitlines() if len(ln.strip()) > 25]
        assert code_lines, qualname
        for ln in code_lines:
            assert ln not in released[gid].source, f"{gid}: solution line leaked: {ln}"
        assert "raise NotImplementedError()" in released[gid].source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_folders_hold_only_notebooks(name):
    files = sorted(p.name for p in (COURSE / "source" / name).rglob("*") if p.is_file())
    assert files == [f"{name}.ipynb"], f"course/source/{name} must hold only the notebook: {files}"


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return run_nbgrader(course, *args, timeout=900)


@pytest.mark.slow
def test_release_is_fresh_and_validate_behaves(course_copy):
    course = course_copy
    shutil.rmtree(course / "release")
    for name in ASSIGNMENTS:
        proc = _nbgrader(course, "generate_assignment", name, "--force")
        assert proc.returncode == 0, proc.stderr
        fresh = json.loads((course / "release" / name / f"{name}.ipynb").read_text())
        committed = json.loads((COURSE / "release" / name / f"{name}.ipynb").read_text())
        assert fresh == committed, "course/release is stale: run `make course` and commit"

        ok = _nbgrader(course, "validate", f"source/{name}/{name}.ipynb")
        assert "Success! Your notebook passes all the tests." in ok.stdout, ok.stdout + ok.stderr
        student = _nbgrader(course, "validate", f"release/{name}/{name}.ipynb")
        assert "NotImplementedError" in student.stdout or "failed" in student.stdout.lower()


def _errors(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]


@pytest.mark.slow
def test_solution_notebooks_execute(executed_notebooks):
    """Every solution notebook runs top to bottom, the long experiments included (what their prose
    says about the runs is checked by tests/test_claims.py)."""
    assert set(executed_notebooks) == set(ASSIGNMENTS)
    for name, path in executed_notebooks.items():
        errors = _errors(path)
        assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"


@pytest.mark.slow
def test_solution_notebooks_execute_under_nbgrader(tmp_path):
    """Under NBGRADER_EXECUTION (nbgrader validate, autograde) they run, experiments skipped."""
    timings = build.execute(autograde_mode=True, out_dir=tmp_path)
    assert set(timings) == set(ASSIGNMENTS)
    for name in ASSIGNMENTS:
        errors = _errors(tmp_path / f"{name}.ipynb")
        assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    print("execution seconds under nbgrader:", {k: round(v, 1) for k, v in timings.items()})


@pytest.mark.slow
def test_nbgrader_autograde_scores_the_samples(course_copy):
    """nbgrader autograde (hidden regions calling the suites) gives the correct sample full marks,
    the unanswered one zero, and every sample the same scores as running the suites directly,
    except where a visible test failed first (then the cell, and so the exercise, scores 0)."""
    from autograder.gradebook import max_points, scores
    from autograder.hidden import StudentNamespace, run_suite

    course = course_copy
    for name in ASSIGNMENTS:
        samples = sorted((COURSE / "samples" / name).glob("*.py"))
        if not samples:
            continue
        build.build_samples(out_root=course / "submitted")
        proc = _nbgrader(course, "generate_assignment", name, "--force")  # registers it
        assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = _nbgrader(course, "autograde", name, "--create", "--force")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        db = f"sqlite:///{course / 'gradebook.db'}"
        got, maxima = scores(db, name), max_points(db, name)
        auto = {k: v for k, v in maxima.items() if k.startswith("test_")}
        assert set(got) == {s.stem for s in samples}
        assert all(got["correct"][k] == v for k, v in auto.items()), got["correct"]
        assert all(got["unanswered"].get(k, 0) == 0 for k in auto), got["unanswered"]
        for sample in samples:
            release = COURSE / "release" / name / f"{name}.ipynb"
            ns = sample_namespace(release, sample.read_text(), str(sample))
            for k, points in auto.items():
                exercise = k.removeprefix("test_")
                if exercise not in ns:
                    continue
                direct = run_suite(name, exercise, StudentNamespace(ns)).score(points)
                graded = course / "autograded" / sample.stem / name / f"{name}.ipynb"
                cell = _cells(graded)[k]
                visible_failed = any(o.output_type == "error" for o in cell.outputs)
                expected = 0.0 if visible_failed else direct
                assert got[sample.stem][k] == pytest.approx(expected), (sample.stem, exercise)


# --------------------------------------------------------------------------- self-contained
def _code_cells(path: Path) -> list[tuple[str, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(c.get("id", "?"), c.source) for c in nb.cells if c.cell_type == "code"]


def _without_hidden_tests(source: str) -> str:
    """The cell without its ### BEGIN/END HIDDEN TESTS region: there the instructor version calls
    the hidden suites for `nbgrader autograde`; the release never contains it."""
    return re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", source, flags=re.S)


def _python_only(source: str) -> str:
    """IPython magics and shell escapes (%, %%, !) blanked out, so that ast can parse the rest."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return ""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)


def _reference_imports(source: str) -> list[str]:
    tree = ast.parse(_python_only(source))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if from_reference(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and from_reference(node.module or ""):
                found.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and from_reference(str(arg.value)):
                found.append(arg.value)
    return found


@pytest.mark.parametrize("folder", ["source", "release"])
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_cell_imports_the_reference_package_or_the_autograder(name, folder):
    """A student has only the notebook: what it needs is inlined by the build, never imported
    from solutions/ (the answers) or autograder/. Only the hidden-test regions of the instructor
    version call the suites (nbgrader autograde needs them; the release drops them)."""
    path = COURSE / folder / name / f"{name}.ipynb"
    for cell_id, source in _code_cells(path):
        found = _reference_imports(_without_hidden_tests(source))
        assert not found, f"{path.relative_to(ROOT)}, cell {cell_id}: imports {found}"


def test_the_import_check_sees_imports():
    src = "x = 1\n%matplotlib inline\nif True:\n    from solutions.tasks import adding_problem\n"
    assert _reference_imports(src) == ["solutions.tasks"]
    assert _reference_imports("import autograder.hidden as h") == ["autograder.hidden"]
    assert _reference_imports("import numpy as np\n!ls") == []
    hidden = (
        "a = 1\n### BEGIN HIDDEN TESTS\nfrom autograder.hidden import run\n### END HIDDEN TESTS"
    )
    assert _reference_imports(_without_hidden_tests(hidden)) == []


# After a notebook's given cells: train a tiny model with whichever trainer its helpers define
# (SequenceModel and train, notebooks 01-03; ManyLSTMs and train_many, notebook 04).
HELPER_SMOKE = """
trained = []
if "SequenceModel" in globals() and "train" in globals():  # the single-model trainer
    torch.manual_seed(0)
    model = SequenceModel(torch.nn.RNN(2, 4, batch_first=True), 4, 1).float()
    hist = train(model, lambda r: adding_problem(8, 6, seed=r), torch.nn.functional.mse_loss, 3,
                 progress=False)
    assert len(hist["loss"]) == 3 and ADDING_BASELINE_MSE == 1 / 6
    trained.append("train")
if "train_many" in globals():
    model = ManyLSTMs([False, True], [0, 0], hidden_size=3)
    rng = np.random.default_rng(0)
    batch = lambda step: tuple(np.stack([a, a]) for a in timing_batch("generate", 2, 4, 6, rng))
    hist = train_many(model, batch, 3, progress=False)
    assert hist["loss"].shape == (3, 2)
    trained.append("train_many")
if "train_batched" in globals():  # the batched variant trainer (notebook 05)
    def switched_cell(f, i, g, c_prev, forget_gate, output_activation):  # the student's answer
        c = torch.where(forget_gate, f * c_prev, c_prev) + i * g
        return c, torch.where(output_activation, torch.tanh(c), c)
    names = list(VARIANTS)
    w = init_weights(range(len(names)), 2, 3, 1)
    res = train_batched(names, w, [1e-2] * len(names), [0] * len(names),
                        lambda r: adding_problem(4, 5, seed=r), 3, 1.0, progress=False)
    assert res.loss.shape == (len(names), 3) and (res.diverged_at == -1).all()
    trained.append("train_batched")
print("ok", trained)
"""


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_course_helpers_run_without_the_reference_package(name, tmp_path):
    """The given cells of the release (setup, test helpers, course helpers) run in a process where
    `solutions` and `autograder` cannot be imported, and the helpers train a tiny model."""
    nb = nbformat.read(COURSE / "release" / name / f"{name}.ipynb", as_version=4)
    given = [
        c.source
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("locked")
        and not c.metadata["nbgrader"].get("grade")
    ]  # fmt: skip
    # Course helpers: one cell "course_helpers", or several "<topic>_helpers" cells placed where
    # a notebook first needs them (06); each is shown with its code folded away.
    helpers = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("helpers")
        and c.metadata["nbgrader"]["grade_id"] != "test_helpers"
    ]
    assert helpers, "a course_helpers cell expected"
    for cell in helpers:
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "sys.modules['solutions'] = None  # any import of them now fails\n"
        "sys.modules['autograder'] = None\n" + "\n\n".join(given) + "\n\n" + HELPER_SMOKE
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "NBGRADER_EXECUTION": "autograde", "MPLBACKEND": "Agg"},
        timeout=300,
    )
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]


# --------------------------------------------------------------------------- build directives
def test_inline_brings_constants_and_the_imports_a_definition_needs():
    imports, code = build.inline_definition("solutions.tasks.ADDING_BASELINE_MSE", set(), "t")
    assert code.startswith("ADDING_BASELINE_MSE = 1.0 / 6.0") and '"""MSE of always' in code
    assert imports == ""
    deps = {"np", "_int_at_least"}
    imports, code = build.inline_definition("solutions.tasks.random_search", deps, "t")
    assert code.startswith("def random_search(")
    lines = imports.splitlines()
    assert {"import copy", "import math", "import torch", "from tqdm.auto import tqdm"} <= set(
        lines
    )
    assert "import numpy as np" not in lines  # already bound in the notebook


def test_inline_refuses_missing_helpers_and_imports_from_the_reference_package():
    with pytest.raises(build.BuildError, match=r"inline: solutions\.tasks\._int_at_least"):
        build.inline_definition("solutions.tasks.adding_problem", {"np", "_rng"}, "t")
    # gru.py imports sigmoid from solutions._common: inlining must not reproduce that import
    with pytest.raises(build.BuildError, match="may not import the reference package"):
        build.inline_definition("solutions.gru.gru_paper_step_forward", {"np"}, "t")


def test_directives_go_where_they_stand_and_collapse_hides_the_source(tmp_path):
    src = tmp_path / "99_demo.py"
    src.write_text(
        "# %%\n"
        "import numpy as np\n"
        "\n"
        "# %%\n"
        "#| nbgrader: given id=course_helpers\n"
        "#| collapse: source\n"
        "# Course helpers (given).\n"
        "#| inline: solutions.tasks._rng\n"
        "#| inline: solutions.tasks._int_at_least\n"
        "#| inline: solutions.tasks._n_examples\n"
        "#| inline: solutions.tasks.ADDING_BASELINE_MSE\n"
        "#| inline: solutions.tasks.adding_problem\n"
        "x, y = adding_problem(3, 4)\n"
    )
    nb = build.build_notebook(src)
    cell = nb.cells[1]
    assert cell.metadata["jupyter"] == {"source_hidden": True}
    assert cell.metadata["nbgrader"]["grade_id"] == "course_helpers"
    text = cell.source
    assert text.startswith(
        "# Course helpers (given).\n\nfrom typing import Any\n\n# From solutions/"
    )
    assert text.count("# From solutions/tasks.py") == 1
    assert text.index("def _rng(") < text.index("def adding_problem(") < text.index("x, y =")
    assert "import numpy" not in text  # the first cell imports it
    ns: dict = {}
    exec(nb.cells[0].source + "\n" + text, ns)
    assert ns["x"].shape == (3, 4, 2) and ns["ADDING_BASELINE_MSE"] == 1 / 6


def test_embedded_lstm_module_equals_torch_and_needs_no_decorator():
    """The LSTM class the build embeds in notebook 03 runs without solutions.modules' decorator
    and equals torch.nn.LSTM with the same state_dict."""
    import math

    import torch
    from torch import nn

    ns = {"__name__": "submission", "math": math, "torch": torch, "nn": nn}
    exec(build.definition_source("solutions.modules.LSTM", solution=True), ns)
    torch.manual_seed(0)
    builtin = nn.LSTM(3, 4, batch_first=True)
    mine = ns["LSTM"](3, 4, True)
    assert type(mine).__module__ == "submission" and not hasattr(mine, "gate_blocks")
    mine.load_state_dict(builtin.state_dict())
    mine, builtin = mine.double(), builtin.double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    for a, b in zip([mine(x)[0], *mine(x)[1]], [builtin(x)[0], *builtin(x)[1]], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
