"""The similarity report (``python -m autograder similarity``).

1. Planted copies, written by hand from a sample and from the reference solution (variables
   renamed, independent statements swapped, comments added, docstring dropped, reformatted),
   rank first for their exercise and are flagged; nothing else in the class is.
2. Independent correct answers (every notebook's reference solution, its ``correct`` sample and
   06's ``correct_torch``, each written another way on purpose) never flag each other and stay
   far below the flag.
3. The normalising steps, one by one, on hand-written cells: what must compare equal does, and
   a swap of dependent statements does not.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import re
import shutil
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from autograder.__main__ import main as cli
from autograder.similarity import (
    FLAG_SCORE,
    Answer,
    Normalised,
    compare,
    distinctive,
    score_pairs,
)
from course import build
from tests.conftest import COURSE, copy_course

A = "01_rnn"

# correct.py's rnn_backward, as a copier might hand it in: every variable renamed, comments
# added, the docstring dropped, a call spread over lines, and the four independent gradient
# lines in another order.
COPY_OF_CORRECT_BACKWARD = """def rnn_backward(dh, cache):
    # backprop through time (my own derivation)
    inp, init, W1, W2, states = cache
    batch, steps, hid = states.shape
    grad_a = np.empty_like(states)
    carry = np.zeros((batch, hid))   # gradient from the future
    for k in range(steps - 1, -1, -1):
        grad_a[:, k] = (dh[:, k] + carry) * (1.0 - states[:, k] ** 2)
        carry = grad_a[:, k] @ W2.T
    prev = np.concatenate([init[:, None], states[:, :-1]], axis=1)
    gb = grad_a.sum(axis=(0, 1))
    gW2 = np.einsum("ntk,nth->kh", prev, grad_a)
    gW1 = np.einsum(
        "ntd,nth->dh",
        inp,
        grad_a,
    )
    gx = np.einsum("nth,dh->ntd", grad_a, W1)
    return gx, carry, gW1, gW2, gb
"""

# The reference solution's rnn_forward and clip_by_global_norm, copied the same way.
COPY_OF_SOLUTION_FORWARD = '''def rnn_forward(x, h0, Wx, Wh, b):
    """My forward pass."""
    caches = []
    n_batch, n_steps, _ = x.shape
    state = h0  # start
    out = np.empty((n_batch, n_steps, Wh.shape[0]), dtype=np.result_type(x, h0, Wx, Wh, b))
    for step in range(n_steps):
        state, c = rnn_step_forward(x[:, step, :], state, Wx, Wh, b)
        caches.append(c)      # keep for backward
        out[:, step, :] = state
    return out, {"steps": caches, "h": out}
'''
COPY_OF_SOLUTION_CLIP = """def clip_by_global_norm(grads, limit):
    if not limit > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be positive, got {limit}.")
    norm = float(np.sqrt(sum(np.sum(arr**2) for arr in grads)))   # global norm
    s = limit / norm if norm > limit else 1.0
    return [arr * s for arr in grads], norm
"""
PLANTED = {  # exercise -> (copier, the student copied from)
    "rnn_backward": ("copier_one", "correct"),
    "rnn_forward": ("copier_two", "solution"),
    "clip_by_global_norm": ("copier_two", "solution"),
}


def _notebook(course: Path, answers: dict[str, str]):
    nb = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and gid in answers:
            cell.source = answers[gid]
    return nb


def _submit(course: Path, student: str, nb) -> None:
    path = course / "submitted" / student / A / f"{A}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    """01's samples, the reference solution (the instructor notebook, handed in as it is) and
    two copiers in one class, compared by the command."""
    root = tmp_path_factory.mktemp("similarity")
    course = copy_course(root / "course")
    samples = root / "samples" / A
    samples.mkdir(parents=True)
    for name in ("correct", "mistakes", "unanswered"):
        shutil.copy(COURSE / "samples" / A / f"{name}.py", samples / f"{name}.py")
    build.build_samples(root / "samples", course / "submitted", course / "release")
    _submit(course, "solution", nbformat.read(COURSE / "source" / A / f"{A}.ipynb", 4))
    _submit(course, "copier_one", _notebook(course, {"rnn_backward": COPY_OF_CORRECT_BACKWARD}))
    two = {"rnn_forward": COPY_OF_SOLUTION_FORWARD, "clip_by_global_norm": COPY_OF_SOLUTION_CLIP}
    _submit(course, "copier_two", _notebook(course, two))
    hostile = (  # the solution's step, with something for the page to escape
        "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n    # </pre><script>x</script>\n"
        "    h = np.tanh(x @ Wx + h_prev @ Wh + b)  # (N, H)\n"
        '    cache = {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h": h}\n'
        "    return h, cache\n"
    )
    _submit(course, "hostile", _notebook(course, {"rnn_step_forward": hostile}))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["similarity", A, "--course", str(course), "--top", "3"]) == 0
    return course


def _pairs(course: Path) -> list[dict]:
    with open(course / "grading" / A / "similarity.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_planted_copies_rank_first_and_only_they_are_flagged(compared):
    rows = _pairs(compared)
    for exercise, pair in PLANTED.items():
        ranked = [r for r in rows if r["exercise"] == exercise]
        top = ranked[0]
        assert {top["student_a"], top["student_b"]} == set(pair), (exercise, top)
        assert float(top["score"]) >= 0.99, (exercise, top)
        assert top["flagged"] == "1"
        assert all(float(r["score"]) < FLAG_SCORE for r in ranked[1:]), (exercise, ranked)
    flagged = {(r["exercise"], r["student_a"], r["student_b"]) for r in rows if r["flagged"] == "1"}
    assert flagged == {(e, *sorted(p)) for e, p in PLANTED.items()}


def test_pairs_are_shown_side_by_side_and_escaped(compared):
    page = (compared / "grading" / A / "similarity.html").read_text()
    assert "<script" not in page and html.escape("</pre><script>x</script>") in page
    section = page.index('<h2 id="rnn_backward">')
    heading = re.compile(r"<h3>1\. (\w+) and (\w+): score ([\d.]+).*?flagged").search(page, section)
    assert heading and {heading.group(1), heading.group(2)} == {"copier_one", "correct"}
    block = page[heading.end() : page.index("<h3>", heading.end())]
    # the copier's own comment and the correct sample's own comment, side by side
    assert html.escape("# backprop through time (my own derivation)") in block
    assert html.escape("from_later = np.zeros((N, H))  # gradient reaching h_t") in block
    assert "never a grade" in page
    assert not re.search(r"https?://|<img|url\(", page)


def test_too_few_submissions_is_a_clear_error(course_copy, capsys):
    assert cli(["similarity", A, "--course", str(course_copy)]) == 2
    assert "nothing to compare" in capsys.readouterr().err


def test_independent_correct_answers_do_not_flag_each_other(tmp_path, capsys):
    """Every notebook: the reference solution, the correct sample(s), compared pairwise."""
    samples = tmp_path / "samples"
    for folder in sorted((COURSE / "samples").glob("[0-9][0-9]_*")):
        (samples / folder.name).mkdir(parents=True)
        for path in folder.glob("correct*.py"):
            shutil.copy(path, samples / folder.name / path.name)
    build.build_samples(samples, tmp_path / "submitted")
    worst = []
    for folder in sorted(samples.iterdir()):
        a = folder.name
        subs = {p.parent.parent.name: str(p) for p in tmp_path.glob(f"submitted/*/{a}/{a}.ipynb")}
        subs["solution"] = str(COURSE / "source" / a / f"{a}.ipynb")
        assert len(subs) >= 2
        c = compare(a, COURSE, subs)
        assert sum(c.answered.values()) >= len(c.exercises)  # something was compared
        for exercise, pairs in c.pairs.items():
            assert not any(p.flagged for p in pairs), (a, exercise, pairs[0])
            if pairs:
                worst.append((pairs[0].score, a, exercise, pairs[0].a.student, pairs[0].b.student))
    worst.sort(reverse=True)
    with capsys.disabled():
        print(f"\nmost similar independent correct answers: {worst[:3]}")
    assert worst[0][0] < FLAG_SCORE / 2


# --------------------------------------------------------------------------- normalising
def _same(a: str, b: str) -> bool:
    return Normalised(a).features == Normalised(b).features


def test_names_comments_docstrings_and_formatting_do_not_count():
    a = "def f(x, w):\n    y = x @ w\n    z = np.tanh(y + 1)\n    return z, y\n"
    b = (
        'def f(inputs, weights):\n    """Doc."""\n    # pre-activation\n'
        "    pre = inputs @ weights  # (N, H)\n    out = np.tanh(\n        pre + 1\n    )\n"
        "    return out, pre\n"
    )
    assert _same(a, b)
    assert not _same(a, a.replace("np.tanh", "np.sin"))  # what a name reads is kept
    assert not _same(a, a.replace("+ 1", "+ 2"))  # and constants


def test_independent_statements_may_swap_dependent_ones_may_not():
    a = "def f(x):\n    a = x + 1\n    b = x * 2\n    c = a - b\n    return c\n"
    swapped = "def f(x):\n    b = x * 2\n    a = x + 1\n    c = a - b\n    return c\n"
    assert _same(a, swapped)
    dep = "def f(x):\n    a = x + 1\n    b = a * 2\n    return b\n"
    dep_swapped = "def f(x):\n    b = a * 2\n    a = x + 1\n    return b\n"
    assert not _same(dep, dep_swapped)
    # a list method changes the list: appending before or after reading it is not the same
    m = "def f(x, h):\n    h.append(x)\n    n = len(h)\n    return n\n"
    m_swapped = "def f(x, h):\n    n = len(h)\n    h.append(x)\n    return n\n"
    assert not _same(m, m_swapped)
    # ...but reading its sum does not change it
    s = "def f(x, d):\n    db = d.sum(axis=0)\n    dx = d @ x\n    return dx, db\n"
    s_swapped = "def f(x, d):\n    dx = d @ x\n    db = d.sum(axis=0)\n    return dx, db\n"
    assert _same(s, s_swapped)
    # and nothing moves across a return
    r = "def f(x):\n    if x:\n        return 1\n    y = g(x)\n    return y\n"
    r_swapped = "def f(x):\n    y = g(x)\n    if x:\n        return 1\n    return y\n"
    assert not _same(r, r_swapped)


def test_augmented_assignment_is_the_plain_one():
    assert _same(
        "def f(a, b):\n    a += b * 2\n    return a\n",
        "def f(a, b):\n    a = a + b * 2\n    return a\n",
    )


def _answers(sources: dict[str, str]) -> list[Answer]:
    return [Answer(s, src, Normalised(src), Counter()) for s, src in sources.items()]


def test_starter_code_and_code_most_of_the_class_wrote_do_not_count():
    starter = "def f(x, w):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    common = "    y = np.tanh(x @ w + 1.5)\n"
    rest = [f"    z = y * {k} - np.exp(y / {k + 1})\n    return z\n" for k in range(12)]
    sources = {f"s{k}": "def f(x, w):\n" + common + r for k, r in enumerate(rest)}
    answers = _answers(sources)
    distinctive(answers, Normalised(starter).features)
    pairs = score_pairs("f", answers)
    # the line everyone wrote is left out: no two students share anything distinctive
    assert all(p.score < 0.5 for p in pairs)
    copied = dict(sources, s12=sources["s3"].replace("z", "result"))
    answers = _answers(copied)
    distinctive(answers, Normalised(starter).features)
    top = score_pairs("f", answers)[0]
    assert {top.a.student, top.b.student} == {"s3", "s12"} and top.score == 1.0
    # an answer that is only the starter code has nothing left to compare
    only = _answers({"a": starter, "b": starter + "\n"})
    distinctive(only, Normalised(starter).features)
    assert score_pairs("f", only) == []


def test_cells_that_do_not_parse_are_compared_by_their_tokens():
    broken = "def f(x):\n    y = x @ w +\n    return y  # oops\n"
    renamed = "def f(inp):\n    out = inp @ w +\n    return out\n"
    other = "def f(x):\n    for i in range(3): print(i\n"
    answers = _answers({"a": broken, "b": renamed, "c": other})
    assert not answers[0].norm.parsed
    distinctive(answers, Counter())
    pairs = score_pairs("f", answers)
    assert {pairs[0].a.student, pairs[0].b.student} == {"a", "b"} and pairs[0].score == 1.0
    assert all(p.score < 0.5 for p in pairs[1:])


def test_scores_are_the_jaccard_index_of_the_multisets(monkeypatch):
    """The matrix product, done a few columns at a time, gives every pair's multiset Jaccard
    index as Counter arithmetic computes it."""
    import random

    import autograder.similarity as similarity

    rng = random.Random(0)
    answers = [
        Answer(
            f"s{i}", "", None, Counter({rng.randrange(300): rng.randrange(1, 3) for _ in range(80)})
        )
        for i in range(20)
    ]
    monkeypatch.setattr(similarity, "CHUNK", 7)
    pairs = score_pairs("e", answers)
    assert len(pairs) == 20 * 19 // 2
    for p in pairs:
        a, b = p.a.features, p.b.features
        assert p.score == pytest.approx(sum((a & b).values()) / sum((a | b).values()), abs=1e-6)
        assert p.shared == sum((a & b).values())
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
