"""What the prose says about an experiment is what the executed notebook printed.

A markdown cell of a notebook source declares its claims in its jupytext header, which the build
drops (students never see it)::

    # %% [markdown] claims=[{"says": "median cosine {}", "printed": "value ... cosine median {}"}]

(JSON on one line; write '=' as \u003d, since jupytext splits a header at ' = '.)

* ``says``: a phrase of the cell's prose; ``{}`` stands for the number the prose states.
* ``printed``: a line printed by a code cell *above* the markdown cell (the nearest match wins);
  ``{}`` is the printed number, ``...`` skips any text on the same line, a lone ``#`` skips one
  number (a column of a table). ``"from": "01_rnn"``
  reads another notebook's output instead (prose that quotes an earlier notebook).
* The two numbers must agree to within half a unit of the last digit the prose writes ("0.60"
  allows 0.595-0.605), or within ``"tol"`` (absolute) or ``"rel"`` (relative) when given: use a
  tolerance for numbers from training, which move a little from machine to machine.
* A claim without ``says`` checks a comparison the prose makes in words: ``"holds": "> 1"`` (or
  <, >=, <=) on the printed number, with ``"words"``, the phrase of the prose it backs.
* A claim with ``words`` and neither ``says`` nor ``holds`` backs a statement that is not a
  number (a name in a ranking, a variant in a list): its ``printed`` template has no ``{}`` and
  must match a printed line (``...`` and ``#`` work as above).

Every markdown cell that follows an experiment (a code cell with ``if FULL_RUN``) must declare
``claims``, if only ``claims=[]`` (it states no number about the run). The checks run on the
notebooks executed top to bottom (course/executed/ when it holds an execution of the current
build, else a fresh execution), so a number typed into the prose that the code does not print
fails `make test`.
"""

from __future__ import annotations

import operator
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from course import build

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"

# Every notebook of the course declares the claims of its prose (the course list, not a copy).
NAMES = [source.stem for source in build.sources()]
NUMBER = r"([-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
COMPARE = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


def template_regex(template: str, numbers: int = 1) -> re.Pattern:
    """'median cosine {}' -> a regex: {} a number, '...' any text on the line, spaces flexible.

    ``numbers``: how many ``{}`` the template must hold (1, or 0 for a statement in words).
    """
    if template.count("{}") != numbers:
        raise ValueError(f"a claim template needs exactly {numbers} {{}}: {template!r}")
    parts = []
    for piece in re.split(r"(\{\}|\.\.\.|(?<!\S)#(?!\S)|\s+)", template):
        if piece == "{}":
            parts.append(NUMBER)
        elif piece == "#":
            parts.append(NUMBER.replace("(", "(?:", 1))
        elif piece == "...":
            parts.append(r"[^\n]*?")
        elif piece and piece.isspace():
            parts.append(r"\s+")
        elif piece:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def prose_tolerance(text: str) -> float:
    """Half a unit of the last digit written: '0.60' -> 0.005, '220' -> 0.5, '1.2e-11' -> 5e-13."""
    mantissa, _, exponent = text.replace("−", "-").lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def claims_of(name: str) -> list[tuple[int, str, dict]]:
    """(cell index, prose, claim) for every claim of a notebook source, in order."""
    nb = jupytext.read(build.SOURCES / f"{name}.py")
    out = []
    for i, cell in enumerate(nb.cells):
        for claim in cell.metadata.get("claims", []):
            out.append((i, cell.source, claim))
    return out


def printed_text(nb, before: int | None = None) -> list[str]:
    """The stdout of every code cell (up to cell ``before``), one string per cell."""
    cells = nb.cells if before is None else nb.cells[:before]
    return [
        "".join(o.get("text", "") for o in c.get("outputs", []) if o.output_type == "stream")
        for c in cells
        if c.cell_type == "code"
    ]


def check_claim(claim: dict, prose: str, outputs: list[str]) -> str | None:
    """None when the claim holds, else a message saying what disagrees."""
    in_words = "says" not in claim and "holds" not in claim
    printed_re = template_regex(claim["printed"], numbers=0 if in_words else 1)
    found = [m for text in outputs for m in printed_re.finditer(text)]
    if in_words:
        words = claim.get("words", "")
        if not words or words not in " ".join(prose.split()):
            return f"the prose no longer says {words!r}: update or remove the claim"
        if not found:
            return f"the prose says {words!r}, but nothing printed matches {claim['printed']!r}"
        return None
    if not found:
        return f"nothing printed matches {claim['printed']!r}"
    value = _number(found[-1].group(1))
    if "says" not in claim:
        words = claim.get("words", "")
        if not words or words not in " ".join(prose.split()):
            return f"the prose no longer says {words!r}: update or remove the claim"
        op, _, bound = claim["holds"].partition(" ")
        if not COMPARE[op](value, float(bound)):
            holds = claim["holds"]
            return f"the prose says {words!r}, but the printed value is {value:g} (not {holds})"
        return None
    said = list(template_regex(claim["says"]).finditer(" ".join(prose.split())))
    if len(said) != 1:
        return f"the prose must contain {claim['says']!r} exactly once, found {len(said)}"
    stated_text = said[0].group(1)
    stated = _number(stated_text)
    if "rel" in claim:
        ok = abs(stated - value) <= claim["rel"] * abs(value)
    else:
        ok = abs(stated - value) <= claim.get("tol", prose_tolerance(stated_text)) * (1 + 1e-9)
    if not ok:
        return (
            f"the prose says {said[0].group(0)!r}, the notebook printed {found[-1].group(0)!r}: "
            "write the printed value (or print the value the prose states)"
        )
    return None


# --------------------------------------------------------------------------- structure (fast)
def _experiment_followers(name: str) -> list[int]:
    nb = jupytext.read(build.SOURCES / f"{name}.py")
    out = []
    for i in range(1, len(nb.cells)):
        prev, cell = nb.cells[i - 1], nb.cells[i]
        if (
            prev.cell_type == "code"
            and "if FULL_RUN" in prev.source
            and cell.cell_type == "markdown"
        ):
            out.append(i)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_every_discussion_of_an_experiment_declares_its_claims(name):
    nb = jupytext.read(build.SOURCES / f"{name}.py")
    unreadable = [i for i, c in enumerate(nb.cells) if "incorrectly_encoded_metadata" in c.metadata]
    assert not unreadable, (
        f"{name}: jupytext cannot read the header of cells {unreadable}; write '=' inside the "
        "claims as \\u003d (JSON), since jupytext splits the header at ' = '"
    )
    missing = [i for i in _experiment_followers(name) if "claims" not in nb.cells[i].metadata]
    assert not missing, (
        f"{name}: the markdown cells {missing} follow an experiment but declare no claims; add "
        "claims=[...] to their '# %% [markdown]' line (claims=[] if they state no result)"
    )


@pytest.mark.parametrize("name", NAMES)
def test_claims_are_well_formed_and_their_words_are_in_the_prose(name):
    for i, prose, claim in claims_of(name):
        assert set(claim) <= {"says", "printed", "tol", "rel", "from", "holds", "words"}, claim
        in_words = "says" not in claim and "holds" not in claim
        template_regex(claim["printed"], numbers=0 if in_words else 1)
        if in_words:
            assert claim.get("words") and claim["words"] in " ".join(prose.split()), (name, i)
        elif "says" in claim:
            said = template_regex(claim["says"]).findall(" ".join(prose.split()))
            assert len(said) == 1, f"{name} cell {i}: {claim['says']!r} found {len(said)} times"
        else:
            assert claim["holds"].split(" ")[0] in COMPARE, claim
            assert claim.get("words") and claim["words"] in " ".join(prose.split()), (
                name,
                i,
                claim,
            )
        if "from" in claim:
            assert claim["from"] in NAMES, claim


def test_the_checker_catches_a_changed_number():
    outputs = ["value  loss 0.265  cosine median 0.57, min 0.41\n"]
    claim = {"says": "median cosine {}", "printed": "value ... cosine median {}"}
    assert check_claim(claim, "moves away (median cosine 0.57, worst 0.41)", outputs) is None
    assert "printed" in check_claim(claim, "moves away (median cosine 0.58)", outputs)
    assert check_claim({**claim, "tol": 0.05}, "median cosine 0.6", outputs) is None
    assert check_claim({**claim, "tol": 0.05}, "median cosine 0.7", outputs) is not None
    holds = {"printed": "loss {}", "holds": "< 0.3", "words": "stays below 0.3"}
    assert check_claim(holds, "it stays below 0.3", outputs) is None
    assert check_claim({**holds, "holds": "> 0.3"}, "it stays below 0.3", outputs) is not None
    table = ["  0.9 |   1.2e-11   1.77   2.4e+12 |\n"]
    assert (
        check_claim({"says": "is {} here", "printed": "0.9 | # {}"}, "is 1.77 here", table) is None
    )
    assert (
        check_claim({"says": "at {} here", "printed": "0.9 | {}"}, "at 1.2e-11 here", table) is None
    )
    ranking = ["* ranked: CIFG (9, 0.0005), NP (4, 0.0048), NIG (0, 0.1613).\n"]
    first = {"printed": "ranked: CIFG (", "words": "CIFG heads the ranking"}
    assert check_claim(first, "so CIFG heads the ranking here", ranking) is None
    assert check_claim({**first, "printed": "ranked: NP ("}, "CIFG heads the ranking", ranking)
    assert "no longer says" in check_claim(first, "NP heads the ranking", ranking)
    assert prose_tolerance("0.60") == pytest.approx(0.005)
    assert prose_tolerance("1.2e-11") == pytest.approx(5e-13)


# --------------------------------------------------------------------------- against the run
@pytest.fixture(scope="module")
def executed(executed_notebooks) -> dict:
    """The executed notebooks (tests/conftest.py runs them once per session), read."""
    return {n: nbformat.read(p, as_version=4) for n, p in executed_notebooks.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_the_prose_states_what_the_notebook_printed(name, executed):
    failures = []
    for i, prose, claim in claims_of(name):
        other = claim.get("from")
        outputs = printed_text(executed[other]) if other else printed_text(executed[name], i)
        problem = check_claim(claim, prose, outputs)
        if problem:
            failures.append(f"cell {i}: {problem}")
    assert not failures, f"{name}:\n  " + "\n  ".join(failures)


@pytest.mark.slow
def test_a_changed_number_in_the_prose_fails(executed):
    """Take every claim with a stated number, change the number, and the check must fail."""
    changed = 0
    for name in NAMES:
        for i, prose, claim in claims_of(name):
            if "says" not in claim:
                continue
            flat = " ".join(prose.split())
            m = template_regex(claim["says"]).search(flat)
            wrong = _number(m.group(1)) * 3 + 7
            altered = flat[: m.start(1)] + f"{wrong:g}" + flat[m.end(1) :]
            other = claim.get("from")
            outputs = printed_text(executed[other]) if other else printed_text(executed[name], i)
            assert check_claim(claim, altered, outputs) is not None, (name, i, claim)
            changed += 1
    assert changed >= 5
