"""The kit's generic checks: calling student code, unpacking, matching answers against mistakes.

Every failure is an AssertionError with one line a student can act on: which quantity, the
largest error and where (from :mod:`autograder.asserts`), and, when the answer matches a typical
mistake, the message naming that mistake. Student functions are called only with plain data
(float64 arrays, numbers, lists/tuples/dicts of them); anything else they return (a cache) is
handed back to their own functions untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograder import diagnosis
from autograder.asserts import expect_close, expect_rel_error, expect_shape
from autograder.inside.inplace import expect_unchanged, snapshot

# The tolerances of expect_close, used to decide whether an answer equals a known mistake.
ATOL, RTOL = 1e-8, 1e-6
MAX_MESSAGE = 300  # characters of a student's own exception message that are repeated

# A candidate is (message, value): the message is given when the student's answer equals
# ``value`` (an array) or when ``value(answer)`` (a predicate) is true.
Candidate = tuple[str, Any]


def inputs(seed: int, shapes: Sequence[tuple[int, ...]], scales: Sequence[float] = ()) -> list:
    """Standard normal float64 arrays of the given shapes, the i-th one times ``scales[i]``."""
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal(s) for s in shapes]
    for i, s in enumerate(scales):
        out[i] = s * out[i]
    return out


@contextlib.contextmanager
def appended(text: str) -> Iterator[None]:
    """Append ``text`` to the message of any failure raised inside (nothing if it is empty)."""
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"{e} {text}".rstrip()) from None


def case(description: str) -> contextlib.AbstractContextManager:
    """Add the test case (sizes, kind of inputs) to any failure raised inside."""
    return appended(f"[case: {description}]")


# A copy of every array (and tensor) in a value, at any depth of lists, tuples and dicts: the
# same snapshot the worker and the notebooks' visible tests take (autograder/inside/inplace.py).
copies = snapshot


def call(fn: Callable, name: str, *args: Any, why: str = "", copy: bool = True) -> Any:
    """Call a student's function; report an exception it raises as a failure that names it.

    Arrays in the arguments (at any depth of lists, tuples, dicts) are passed as copies
    (``copy=False`` passes the suite's own, for the tests that check nothing is modified in
    place), so a function that writes into its inputs cannot change what the suite computes its
    expected values from. Anything else (numbers, a cache the student returned) is passed as is.
    """
    if copy:
        args = tuple(copies(a) for a in args)
    try:
        return fn(*args)
    except NotImplementedError:
        raise AssertionError(
            f"{name}{why} is not implemented yet (it raised NotImplementedError): replace "
            f"`raise NotImplementedError()` in its cell with your code."
        ) from None
    except Exception as e:
        msg = str(e).strip().replace("\n", " ").rstrip(".")
        if len(msg) > MAX_MESSAGE:
            msg = msg[:MAX_MESSAGE] + " ..."
        if type(e).__name__ == "BuiltinUsed":  # the rule of the exercise, not a crash
            raise AssertionError(f"{name}{why}: {msg}.") from None
        raise AssertionError(
            f"{name}{why} raised {type(e).__name__}" + (f": {msg}." if msg else ".")
        ) from None
    except SystemExit:
        raise AssertionError(f"{name}{why} called sys.exit(); return a value instead.") from None


def unpack(out: Any, names: Sequence[str], fname: str) -> tuple:
    """Check that ``out`` is a tuple (or list) of ``len(names)`` values and return it as a tuple."""
    want = f"({', '.join(names)})"
    if type(out) not in (tuple, list):
        raise AssertionError(
            f"{fname} must return {want}, a tuple of {len(names)} values; "
            f"it returned a {type(out).__name__}."
        )
    if len(out) != len(names):
        raise AssertionError(
            f"{fname} must return {want}, a tuple of {len(names)} values; "
            f"it returned {len(out)} values."
        )
    return tuple(out)


def number(name: str, value: Any, hint: str = "") -> float:
    """``value`` as a float if it is a real number (Python or numpy scalar, or a 0-d array)."""
    ok = type(value) in (float, int) or isinstance(value, (np.floating, np.integer))
    if type(value) is np.ndarray and value.shape == () and np.issubdtype(value.dtype, np.number):
        ok = not np.issubdtype(value.dtype, np.complexfloating)
    if not ok or isinstance(value, (bool, np.bool_)):
        raise AssertionError(
            f"{name} must be a number (a float), got {type(value).__name__}. {hint}".rstrip()
        )
    return float(value)


def is_close(got: Any, expected: Any) -> bool:
    """True if ``got`` is a finite numpy array equal to ``expected`` within the tolerances."""
    expected = np.asarray(expected, dtype=np.float64)
    if type(got) is not np.ndarray or got.shape != expected.shape:
        return False
    if not (np.issubdtype(got.dtype, np.floating) or np.issubdtype(got.dtype, np.integer)):
        return False
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got - expected) <= ATOL + RTOL * np.abs(expected)))


def diagnose(got: Any, expected: Any, candidates: Sequence[Candidate]) -> str:
    """The message of the first candidate mistake that ``got`` matches, or "".

    Array candidates equal to ``expected`` are skipped: on these inputs that mistake makes no
    difference, so it cannot be told apart from a correct answer. A candidate value of None
    (a mistake that does not apply to these inputs) is skipped too. The mistake found is also
    noted as data (:func:`autograder.diagnosis.note`) for the result file and the class report.
    """
    if type(got) is not np.ndarray:  # nothing else is compared, or even looked into
        return ""
    for hint, value in candidates:
        if value is None:
            continue
        if callable(value):
            try:
                matched = bool(value(got))
            except Exception:  # a predicate that cannot even be evaluated does not match
                continue
        else:
            matched = not is_close(value, expected) and is_close(got, value)
        if matched:
            diagnosis.note(hint)
            return hint
    return ""


def expect_match(
    name: str,
    got: Any,
    expected: np.ndarray,
    candidates: Sequence[Candidate] = (),
    hint: str = "",
    shape_hint: str = "",
    atol: float = ATOL,
) -> None:
    """expect_shape then expect_close, naming the typical mistake ``got`` matches, if any."""
    specific = "" if is_close(got, expected) else diagnose(got, expected, candidates)
    expect_shape(name, got, np.shape(expected), specific or shape_hint or hint)
    expect_close(name, got, expected, atol=atol, rtol=RTOL, hint=specific or hint)


def upstream_note(fname: str, got: Any, expected: np.ndarray) -> str:
    """A note for a backward failure when the student's forward is already wrong."""
    if is_close(got, expected):
        return ""
    return (
        f"(Note: your {fname} does not return the right result on these inputs either; the "
        f"backward pass works from its cache, so if that is wrong too, fix {fname} first.)"
    )


def expect_gradients(
    names: Sequence[str],
    got: Sequence[Any],
    expected: Sequence[np.ndarray],
    candidates: dict[str, list[Candidate]] | None = None,
    hints: dict[str, str] | None = None,
    shape_hint: str = "",
) -> None:
    """expect_match for each gradient, in order, with its own candidates and hint."""
    candidates, hints = candidates or {}, hints or {}
    for name, g, e in zip(names, got, expected, strict=True):
        expect_match(name, g, e, candidates.get(name, ()), hints.get(name, ""), shape_hint)


def expect_gradient_check(
    names: Sequence[str],
    got: Sequence[Any],
    numerical: Sequence[np.ndarray],
    tol: float,
    candidates: dict[str, list[Candidate]] | None = None,
    hints: dict[str, str] | None = None,
    shape_hint: str = "",
) -> None:
    """Each gradient against centred differences (norm-wise relative error below ``tol``)."""
    candidates, hints = candidates or {}, hints or {}
    for name, g, num in zip(names, got, numerical, strict=True):
        expect_shape(name, g, num.shape, shape_hint)
        denom = np.linalg.norm(g) + np.linalg.norm(num)
        bad = denom > 0 and not np.linalg.norm(g - num) / denom <= tol
        specific = diagnose(g, num, candidates.get(name, ())) if bad else ""
        expect_rel_error(
            f"{name} (against centred differences of your forward pass)",
            g,
            num,
            tol=tol,
            hint=specific or hints.get(name, ""),
        )


__all__ = [
    "ATOL",
    "RTOL",
    "Candidate",
    "appended",
    "call",
    "case",
    "copies",
    "diagnose",
    "expect_close",
    "expect_gradient_check",
    "expect_gradients",
    "expect_match",
    "expect_rel_error",
    "expect_shape",
    "expect_unchanged",
    "inputs",
    "is_close",
    "number",
    "unpack",
    "upstream_note",
]
