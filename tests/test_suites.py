"""The hidden suites of every notebook against the reference, the samples and typical mistakes.

Everything is discovered by globbing, so a new notebook is tested by adding its suites and its
samples, and nothing here changes:

* notebooks: every course/notebooks/NN_*.py with hidden suites in autograder/suites/NN_*/; its
  exercises and their points come from the release notebook, the reference of each answer cell
  from the instructor notebook (course/source/), which holds the solution code the build puts
  there;
* samples: course/samples/NN_*/*.py, built into submissions by course/build.py's
  ``build_samples``. Each declares beside its code ``EXPECT = {exercise: score}`` for the
  exercises that do not earn full marks and ``NAMES = {exercise: (words, ...)}``: one failure
  message of that exercise must contain one of the words (the mistake is named). An exercise
  expected to score 0 without words must be unanswered: every message says so;
* the mistake tables the suites declare with the kit (autograder/suites/kit): a student who
  returns exactly what a listed mistake returns fails, and the failure names that mistake;
* catalogues of hand-written mistakes, tests/fixtures/mistakes/NN_*.py: ``CASES = {name:
  (exercise, code or {name: object}, words, every)}``, each put over the reference namespace.

Answer cells run as in the notebook: in a namespace holding what the notebook's given cells
define (their imports, functions and classes; nothing else of them runs here).
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import re
from functools import cache
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.hidden import SUITES, Outcome, StudentNamespace, run_suite
from autograder.suites.kit import CACHE, Backward, Case, Function, Mistake, copies, is_close
from course import build

ROOT = Path(__file__).resolve().parents[1]
MISTAKES = ROOT / "tests" / "fixtures" / "mistakes"
NOTEBOOKS = [s.stem for s in build.sources() if (SUITES / s.stem).is_dir()]
SAMPLES = {nb: sorted((build.SAMPLES / nb).glob("*.py")) for nb in NOTEBOOKS}
UNANSWERED = ("not implemented", "is not defined")


# --------------------------------------------------------------------------- discovery
def _cells(nb: str, folder: str) -> list:
    return nbformat.read(build.COURSE / folder / nb / f"{nb}.ipynb", as_version=4).cells


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@cache
def exercises(nb: str) -> dict[str, float]:
    """exercise -> points, from the test cells (grade_id test_<exercise>) of the release."""
    out = {}
    for cell in _cells(nb, "release"):
        gid = _meta(cell).get("grade_id", "")
        if cell.cell_type == "code" and _meta(cell).get("grade") and gid.startswith("test_"):
            out[gid.removeprefix("test_")] = float(_meta(cell)["points"])
    return out


@cache
def solution_modules(nb: str) -> dict[str, str]:
    """answer cell -> module of its reference (the source's ``#| solution:`` directives)."""
    text = (build.SOURCES / f"{nb}.py").read_text()
    return {
        q.rsplit(".", 1)[1]: q.rsplit(".", 1)[0]
        for q in re.findall(r"#\| solution: ([\w.]+)", text)
    }


def _declared(path: Path) -> dict:
    """The constants a sample declares (read, never run)."""
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("EXPECT", "NAMES"):
                out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def given_namespace(nb: str) -> dict:
    """What the given cells of the release define: imports, functions, classes."""
    ns: dict = {"__name__": "submission"}
    keep = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)
    for cell in _cells(nb, "release"):
        m = _meta(cell)
        if (
            cell.cell_type == "code"
            and m.get("locked")
            and not m.get("grade")
            and m.get("grade_id")
        ):
            tree = ast.parse(cell.source)
            tree.body = [n for n in tree.body if isinstance(n, keep)]
            exec(compile(tree, m["grade_id"], "exec"), ns)
    return ns


def answered(nb: str, cells) -> dict:
    """The given namespace with every answer cell of ``cells`` run in it, as the notebook would
    (a cell that fails leaves its names undefined)."""
    ns = given_namespace(nb)
    for cell in cells:
        if cell.cell_type == "code" and _meta(cell).get("solution"):
            try:
                exec(cell.source, ns)
            except Exception:
                pass
    return ns


def run(nb: str, exercise: str, namespace: dict) -> Outcome:
    """run_suite with the objects alive now frozen out of the garbage collector (pytest collects
    garbage several times per session, which is slow with this session's large heap)."""
    gc.freeze()
    try:
        return run_suite(nb, exercise, StudentNamespace(namespace))
    finally:
        gc.unfreeze()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict[str, dict[str, Outcome]]]:
    """notebook -> who (reference or sample) -> exercise -> Outcome, computed once."""
    built = build.build_samples(out_root=tmp_path_factory.mktemp("submitted"))
    out = {}
    for nb in NOTEBOOKS:
        spaces = {"reference": answered(nb, _cells(nb, "source"))}
        for path in built:
            if path.parent.name == nb:
                spaces[path.parent.parent.name] = answered(nb, nbformat.read(path, 4).cells)
        out[nb] = {who: {ex: run(nb, ex, ns) for ex in exercises(nb)} for who, ns in spaces.items()}
    return out


def _messages(outcome: Outcome) -> str:
    return "\n".join(f"{name}: {msg}" for name, msg in outcome.failed.items())


def _one_line(outcome: Outcome) -> None:
    for msg in outcome.failed.values():
        # one line for the student: no traceback, no test source, nothing from the reference
        assert msg and "\n" not in msg and "Traceback" not in msg and "solutions" not in msg, msg


def _named(outcome: Outcome, words, what: str) -> None:
    """The suite failed and one of its messages holds one of ``words``."""
    assert outcome.failed, f"{what}: the mistake was not caught"
    text = _messages(outcome).lower()
    assert any(w.lower() in text for w in words), f"{what}:\n{_messages(outcome)}"
    _one_line(outcome)


EXERCISES = [(nb, ex) for nb in NOTEBOOKS for ex in exercises(nb)]
SAMPLE_EXERCISES = [
    (nb, p.stem, ex) for nb in NOTEBOOKS for p in SAMPLES[nb] for ex in exercises(nb)
]


# --------------------------------------------------------------------------- structure
@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_every_exercise_has_a_suite_and_the_notebook_has_samples(nb):
    assert exercises(nb), nb
    for ex in exercises(nb):
        assert (SUITES / nb / f"test_{ex}.py").is_file(), f"{nb}: no hidden suite for {ex}"
    assert {"correct", "unanswered"} <= {p.stem for p in SAMPLES[nb]}, nb
    for p in SAMPLES[nb]:
        declared = _declared(p)
        assert set(declared) == {"EXPECT", "NAMES"}, f"{p}: declare EXPECT and NAMES"
        assert set(declared["EXPECT"]) | set(declared["NAMES"]) <= set(exercises(nb)), p


@pytest.mark.parametrize("nb,ex", EXERCISES)
def test_suite_has_a_sensible_number_of_tests(outcomes, nb, ex):
    assert 5 <= outcomes[nb]["reference"][ex].total <= 12


@pytest.mark.parametrize("nb,ex", EXERCISES)
def test_reference_solution_scores_full_marks(outcomes, nb, ex):
    outcome = outcomes[nb]["reference"][ex]
    assert not outcome.failed, _messages(outcome)


# --------------------------------------------------------------------------- samples
@pytest.mark.parametrize("nb,sample,ex", SAMPLE_EXERCISES)
def test_sample_scores_what_it_declares(outcomes, nb, sample, ex):
    declared = _declared(build.SAMPLES / nb / f"{sample}.py")
    points = exercises(nb)[ex]
    expected = declared["EXPECT"].get(ex, points)
    outcome = outcomes[nb][sample][ex]
    assert outcome.total == outcomes[nb]["reference"][ex].total
    assert outcome.score(points) == pytest.approx(expected, abs=1e-4), _messages(outcome)
    if ex in declared["NAMES"]:
        _named(outcome, declared["NAMES"][ex], f"{sample}/{ex}")
    elif expected == 0:
        for msg in outcome.failed.values():
            assert any(w in msg for w in UNANSWERED), msg
    _one_line(outcome)


@pytest.mark.parametrize("nb,ex", EXERCISES)
def test_function_imported_from_solutions_is_rejected(nb, ex):
    ns = {
        name: getattr(importlib.import_module(module), name)
        for name, module in solution_modules(nb).items()
    }
    outcome = run(nb, ex, ns)
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "imported from the course's solutions" in msg, msg


@pytest.mark.parametrize("nb,ex", EXERCISES)
def test_missing_function_is_reported_as_not_defined(nb, ex):
    outcome = run(nb, ex, {"np": np})
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "is not defined" in msg, msg


# --------------------------------------------------------------------------- declared mistakes
@cache
def suite_module(nb: str, ex: str):
    path = SUITES / nb / f"test_{ex}.py"
    spec = importlib.util.spec_from_file_location(f"suite_{nb}_{ex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declarations(nb: str, ex: str) -> list:
    """The kit's Function and Backward objects named ``ex`` in its suite (or imported there)."""
    found = [v for v in vars(suite_module(nb, ex)).values() if isinstance(v, (Function, Backward))]
    return [d for d in found if d.name == ex]


@pytest.mark.parametrize("nb,ex", EXERCISES)
def test_test_names_are_unique_within_a_suite(nb, ex):
    """A student reads each test by its id, and the score counts tests by name: two tests of
    one suite with the same id would count as one."""
    ids = []
    for name, fn in vars(suite_module(nb, ex)).items():
        if name.startswith("test") and callable(fn):
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
            ids += [i for m in marks for i in m.kwargs.get("ids", [])] if marks else [name]
    assert len(ids) >= 5 and len(set(ids)) == len(ids), sorted(ids)


@cache
def _listed(nb: str, ex: str) -> list[tuple[object, int]]:
    """(declaration, index) of every single Mistake of the exercise's tables that returns values
    (not only a predicate on the answer, which no student function can be made from)."""
    return [
        (d, i)
        for d in declarations(nb, ex)
        for i, m in enumerate(d.mistakes)
        if isinstance(m, Mistake) and _values(d, m) is not None
    ]


def _values(decl, mistake) -> dict | None:
    """What ``mistake`` returns on the probe case (arrays only), or None if only predicates."""
    args, up = _probe_case(decl)
    outputs = decl.grads if isinstance(decl, Backward) else decl.outputs
    try:
        with np.errstate(all="ignore"):
            v = _as_dict(mistake.fn(*copies(list(args)), *copies(list(up))), outputs)
    except Exception:
        return {}  # does not apply to the probe case; it may to the suite's cases
    v = {o: x for o, x in v.items() if x is not None and not callable(x)}
    return v or None


def _probe_case(decl):
    """Inputs on which to compare mistakes with each other: the declaration's own first case."""
    sizes = {"N": 3, "T": 4, "D": 2, "H": 3}
    forward = decl.forward if isinstance(decl, Backward) else decl
    if isinstance(decl, Backward):
        return decl.draw(Case(7, **sizes))
    return forward.arguments(Case(7, **sizes)), []


def _twins(decl, i: int) -> list[str]:
    """The messages of mistake i and of every earlier mistake that returns the same on a probe
    case (the suite names the first of them, which is the same mistake on those inputs)."""

    def values(m):
        return _values(decl, m) or {}

    mine = values(decl.mistakes[i])
    out = [decl.mistakes[i].message]
    for m in decl.mistakes[:i]:
        if isinstance(m, Mistake):
            theirs = values(m)
            if any(o in theirs and is_close(np.asarray(theirs[o]), v) for o, v in mine.items()):
                out.append(m.message)
    return out


def _as_dict(value, outputs):
    if isinstance(value, dict):
        return value
    if len(outputs) == 1:
        return {outputs[0]: value}
    return dict(zip(outputs, value, strict=True))


def _mistaken(decl, mistake: Mistake, reference_ns: dict) -> dict:
    """A namespace whose graded function returns exactly what ``mistake`` returns (the right
    values where the mistake does not apply), over the reference for everything else."""
    ns = dict(reference_ns)
    if isinstance(decl, Function):

        def wrong(*args):
            right = decl.expected(args)
            try:
                with np.errstate(all="ignore"):
                    got = _as_dict(mistake.fn(*copies(list(args))), decl.outputs)
            except Exception:
                got = {}
            values = {o: got.get(o) if got.get(o) is not None and not callable(got.get(o))
                      else right[o] for o in decl.returns}  # fmt: skip
            values[CACHE] = None
            out = tuple(values[o] for o in decl.returns)
            return out if len(out) > 1 else out[0]

        ns[decl.name] = wrong
        return ns
    forward = decl.forward

    def forward_fn(*args):
        right = forward.expected(args)
        return tuple(right[o] if o != CACHE else copies(list(args)) for o in forward.returns)

    def backward_fn(*a):
        up, args = list(a[:-1]), a[-1]
        right = decl.reference(*copies(up), forward.expected(args)[CACHE])
        try:
            with np.errstate(all="ignore"):
                got = _as_dict(mistake.fn(*copies(list(args)), *copies(up)), decl.grads)
        except Exception:
            got = {}
        return tuple(
            got[g] if got.get(g) is not None and not callable(got.get(g)) else r
            for g, r in zip(decl.grads, right, strict=True)
        )

    ns[forward.name], ns[decl.name] = forward_fn, backward_fn
    return ns


@cache
def _reference_namespace(nb: str) -> dict:
    return answered(nb, _cells(nb, "source"))


DECLARED = [(nb, ex, i) for nb, ex in EXERCISES for i in range(len(_listed(nb, ex)))]


@pytest.mark.parametrize("nb,ex,i", DECLARED)
def test_every_declared_mistake_is_named(nb, ex, i):
    decl, index = _listed(nb, ex)[i]
    mistake = decl.mistakes[index]
    outcome = run(nb, ex, _mistaken(decl, mistake, _reference_namespace(nb)))
    _named(outcome, _twins(decl, index), mistake.message[:60])


# --------------------------------------------------------------------------- catalogues
CATALOGUES = {p.stem: p for p in sorted(MISTAKES.glob("[0-9][0-9]_*.py"))}


@cache
def catalogue(nb: str) -> dict:
    spec = importlib.util.spec_from_file_location(f"mistakes_{nb}", CATALOGUES[nb])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


CATALOGUED = [(nb, name) for nb in CATALOGUES for name in catalogue(nb)]


@pytest.mark.parametrize("nb,name", CATALOGUED)
def test_catalogued_mistake_is_caught_and_named(nb, name):
    exercise, definitions, words, every = catalogue(nb)[name]
    ns = dict(_reference_namespace(nb))
    if isinstance(definitions, str):
        exec(definitions, ns)
    else:
        ns.update(definitions)
    outcome = run(nb, exercise, ns)
    if words is None:  # the catalogue's own harness, right: full marks
        assert not outcome.failed, _messages(outcome)
        return
    _named(outcome, words, name)
    if every:
        assert not outcome.passed, outcome.passed
        for msg in outcome.failed.values():
            assert any(w.lower() in msg.lower() for w in words), msg
