"""The course pipeline: fresh builds, clean releases, execution, the nbgrader round trip."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
_spec = importlib.util.spec_from_file_location("course_build", COURSE / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

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


def _copy_course(tmp_path: Path) -> Path:
    dest = tmp_path / "course"
    shutil.copytree(
        COURSE,
        dest,
        ignore=shutil.ignore_patterns(
            "gradebook.db", "executed", "submitted", "autograded", "feedback", "__pycache__"
        ),
    )
    return dest


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.mark.slow
def test_release_is_fresh_and_validate_behaves(tmp_path):
    course = _copy_course(tmp_path)
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


@pytest.mark.slow
@pytest.mark.parametrize("autograde_mode", [False, True], ids=["full", "under-nbgrader"])
def test_solution_notebooks_execute(tmp_path, autograde_mode):
    timings = build.execute(autograde_mode=autograde_mode, out_dir=tmp_path)
    assert set(timings) == set(ASSIGNMENTS)
    for name in ASSIGNMENTS:
        nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    print("execution seconds:", {k: round(v, 1) for k, v in timings.items()})


@pytest.mark.slow
def test_nbgrader_autograde_scores_the_samples(tmp_path):
    """nbgrader autograde (hidden regions calling the suites) gives the correct sample full marks,
    the unanswered one zero, and every sample the same scores as running the suites directly,
    except where a visible test failed first (then the cell, and so the exercise, scores 0)."""
    from autograder.gradebook import max_points, scores
    from autograder.hidden import StudentNamespace, run_suite

    course = _copy_course(tmp_path)
    for name in ASSIGNMENTS:
        samples = sorted((COURSE / "samples" / name).glob("*.py"))
        if not samples:
            continue
        build.build_samples(course / "submitted")
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
            ns: dict = {"__name__": "submission"}
            exec(compile("import numpy as np\n" + sample.read_text(), str(sample), "exec"), ns)
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
