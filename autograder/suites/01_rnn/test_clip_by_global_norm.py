"""Hidden tests of clip_by_global_norm: one factor for all arrays, and the norm before clipping.

total = sqrt(sum of g**2 over every entry of every array); when total > max_norm every array is
multiplied by max_norm / total (the direction is kept), otherwise nothing changes. Returns
(clipped arrays, total).
"""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import (
    call,
    case,
    copies,
    diagnose,
    expect_match,
    expect_shape,
    expect_unchanged,
    inputs,
    is_close,
    named,
    number,
    unpack,
)
from solutions.gradients import clip_by_global_norm as reference

HINT = (
    "When total > max_norm, multiply every array by the same factor max_norm / total; "
    "otherwise return them unchanged."
)
TOTAL_HINT = "total is the global norm before clipping: sqrt(sum(np.sum(g**2) for g in grads))."
VALUE_CLIPPING = (
    "You clipped each entry to [-max_norm, max_norm] (value clipping), which changes the "
    "gradient's direction. Clip by the global norm: multiply every array by the same factor "
    "max_norm / total."
)
PER_ARRAY = (
    "You clipped each array by its own norm; clip by the global norm instead, the norm of all "
    "entries of all arrays together, and scale every array by the same factor max_norm / total."
)
ALWAYS = (
    "You rescaled although the global norm was already below max_norm: clip only when "
    "total > max_norm, otherwise return the gradients unchanged."
)


def _mistakes_clipped(grads, max_norm, i):
    """Typical wrong versions of clipped[i], each with the hint that names it."""
    g = grads[i]
    total = float(np.sqrt(sum(np.sum(a**2) for a in grads)))
    own = float(np.linalg.norm(g))
    return [
        (VALUE_CLIPPING, np.clip(g, -max_norm, max_norm)),
        (PER_ARRAY, g * min(1.0, max_norm / own) if own > 0 else g),
        (ALWAYS, g * max_norm / total if total > 0 else g),
        (
            "The factor is max_norm / total (below 1 when clipping), not total / max_norm.",
            g * total / max_norm,
        ),
        (
            "You scaled by max_norm / total squared; the factor is max_norm / total.",
            g * (max_norm / total) ** 2 if total > 0 else g,
        ),
    ]


def _mistakes_total(grads, max_norm, clipped):
    """Typical wrong totals, each with the hint that names it."""
    norms = [float(np.linalg.norm(a)) for a in grads]
    total = float(np.sqrt(sum(n**2 for n in norms)))
    return [
        (
            "total is the sum of the arrays' norms; the global norm is the square root of the sum "
            "of the squares of all entries, sqrt(sum of ||g||² over the arrays).",
            np.array(sum(norms)),
        ),
        (
            "total is the largest of the arrays' norms; the global norm is the norm of all entries "
            "of all arrays together.",
            np.array(max(norms)),
        ),
        ("total is the norm of the first array only; include every array.", np.array(norms[0])),
        ("total is the sum of squares; take its square root.", np.array(total**2)),
        (
            "total is the largest entry; the global norm is sqrt of the sum of squares of all "
            "entries.",
            np.array(max(float(np.max(np.abs(a))) for a in grads)),
        ),
        (
            "You returned the norm after clipping; return the global norm of the gradients before "
            "clipping (it is what training curves log).",
            np.array(min(total, max_norm)),
        ),
        (
            "You returned the norm of your clipped gradients; return the global norm before "
            "clipping.",
            lambda got: _norm_of(clipped) is not None and is_close(got, _norm_of(clipped)),
        ),
    ]


def _norm_of(arrays):
    """Global norm of what the student returned, or None if those are not all float arrays."""
    if not all(type(a) is np.ndarray and np.issubdtype(a.dtype, np.number) for a in arrays):
        return None
    return np.array(np.sqrt(sum(np.sum(np.asarray(a, dtype=np.float64) ** 2) for a in arrays)))


def _like(arrays, grads):
    """True if ``arrays`` are numpy arrays with the shapes of ``grads``, one each."""
    return len(arrays) == len(grads) and all(
        type(a) is np.ndarray and a.shape == g.shape for a, g in zip(arrays, grads, strict=True)
    )


def _clip(student, grads, max_norm, copy=True):
    """Call the student's function (on copies of grads); check the structure of its result."""
    fn = student("clip_by_global_norm")
    out = call(fn, "clip_by_global_norm", grads, max_norm, copy=copy)
    if type(out) in (list, tuple) and _like(out, grads):
        raise AssertionError(
            "clip_by_global_norm returned only the clipped gradients; return (clipped, total), "
            "where total is the global norm before clipping."
        )
    clipped, total = unpack(out, ("clipped", "total"), "clip_by_global_norm")
    if type(clipped) not in (list, tuple) or len(clipped) != len(grads):
        got = f"a {type(clipped).__name__}"
        if type(clipped) in (list, tuple):
            got += f" of {len(clipped)} arrays"
        raise AssertionError(
            f"clipped must be a list with one array per gradient ({len(grads)}), got {got}."
        )
    for i, (c, g) in enumerate(zip(clipped, grads, strict=True)):
        expect_shape(f"clipped[{i}]", c, g.shape, "Each clipped array keeps its gradient's shape.")
    return list(clipped), total


def _which_mistake(clipped, grads, max_norm):
    """The hint of the first typical mistake one of the clipped arrays matches, or ""."""
    expected, _ = reference(grads, max_norm)
    for i, (c, e) in enumerate(zip(clipped, expected, strict=True)):
        hint = diagnose(c, e, _mistakes_clipped(grads, max_norm, i))
        if hint:
            return hint
    return ""


def _check(student, grads, max_norm, description, arrays=True, total=True):
    """Compare the clipped arrays and/or the returned total with the reference."""
    with case(description):
        clipped, got_total = _clip(student, grads, max_norm)
        expected, expected_total = reference(grads, max_norm)
        if arrays:
            for i, (c, e) in enumerate(zip(clipped, expected, strict=True)):
                expect_match(f"clipped[{i}]", c, e, _mistakes_clipped(grads, max_norm, i), HINT)
        if total:
            got_total = np.array(number("total", got_total, TOTAL_HINT))
            cands = _mistakes_total(grads, max_norm, clipped)
            expect_match("total", got_total, np.array(expected_total), cands, TOTAL_HINT)


def _grads(seed, shapes, scale=1.0):
    return inputs(seed, shapes, [scale] * len(shapes))


@named("returns (clipped, total)")
def test_returns_clipped_list_and_total_norm(student):
    grads = _grads(70, [(3, 2), (2,)])
    with case("2 arrays, global norm above max_norm"):
        _clipped, total = _clip(student, grads, 1.0)
        number("total", total, TOTAL_HINT)


@named("total, the norm of all entries together")
def test_total_is_the_norm_of_all_entries_together(student):
    # norms of the three arrays: 3, 4 and 12, so the global norm is 13 (no clipping here)
    grads = [np.array([3.0, 0.0]), np.array([[0.0, 4.0], [0.0, 0.0]]), np.array([12.0])]
    _check(student, grads, 100.0, "3 arrays of norms 3, 4, 12, max_norm = 100", arrays=False)


@named("total, the norm before clipping")
def test_total_is_the_norm_before_clipping(student):
    grads = _grads(71, [(2, 3), (3,)], scale=2.0)
    _check(student, grads, 1.0, "2 arrays, global norm above max_norm = 1", arrays=False)


@named("clipped, every array scaled by the same factor")
def test_scales_every_array_by_the_same_factor(student):
    grads = _grads(72, [(4, 3), (3,), (2, 2, 2)], scale=2.0)
    _check(student, grads, 1.5, "3 arrays, global norm above max_norm = 1.5", total=False)


@named("clipped, direction kept and norm max_norm")
def test_direction_is_kept_and_norm_becomes_max_norm(student):
    grads = _grads(73, [(5, 2), (4,)], scale=3.0)
    max_norm = 2.0
    with case("2 arrays, global norm above max_norm = 2"):
        clipped, _total = _clip(student, grads, max_norm)
        hint = _which_mistake(clipped, grads, max_norm)
        flat = np.concatenate([np.asarray(c, dtype=np.float64).ravel() for c in clipped])
        original = np.concatenate([g.ravel() for g in grads])
        cosine = flat @ original / (np.linalg.norm(flat) * np.linalg.norm(original))
        expect_match(
            "cosine between the clipped and the original gradient",
            np.array(cosine),
            np.array(1.0),
            hint=hint or "Clipping by the global norm keeps the direction: scale, do not cut.",
        )
        expect_match(
            "global norm of the clipped gradients",
            np.array(np.linalg.norm(flat)),
            np.array(max_norm),
            hint=hint or "After clipping, the global norm must equal max_norm.",
        )


@named("clipped, unchanged below max_norm")
def test_unchanged_below_max_norm(student):
    grads = _grads(74, [(3, 3), (2,)], scale=0.2)
    _check(student, grads, 5.0, "2 arrays, global norm below max_norm = 5", total=False)


@named("clipped, each array small but together large")
def test_each_array_small_but_global_norm_large(student):
    # every array has a norm below max_norm, but together they are far above it
    grads = _grads(75, [(3,)] * 8)
    grads = [0.9 * g / np.linalg.norm(g) for g in grads]  # each of norm 0.9, together 2.55
    _check(student, grads, 1.0, "8 arrays each of norm 0.9, max_norm = 1", total=False)


@named("clipped and total, a single array")
def test_single_array(student):
    _check(student, _grads(76, [(4, 5)], scale=2.0), 3.0, "one (4, 5) array, max_norm = 3")


@named("clipped and total, all gradients zero")
def test_zero_gradients(student):
    grads = [np.zeros((2, 3)), np.zeros(4)]
    _check(student, grads, 1.0, "all gradients zero (global norm 0), max_norm = 1")


@named("inputs not modified")
def test_inputs_not_modified(student):
    grads = _grads(77, [(3, 2), (4,)], scale=3.0)
    before = copies(grads)
    with case("2 arrays, global norm above max_norm = 1"):
        _clip(student, grads, 1.0, copy=False)
        expect_unchanged("clip_by_global_norm", ["grads"], [before], [grads])
