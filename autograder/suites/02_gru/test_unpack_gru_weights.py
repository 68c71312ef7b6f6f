"""Hidden tests of unpack_gru_weights: PyTorch's fused GRU arrays -> (Wx, Wh, bx, bh).

PyTorch stacks the gate blocks r, z, n by rows: weight_ih (3H, D), weight_hh (3H, H). The
course's row-vector cell wants Wx = weight_ih.T (D, 3H) and Wh = weight_hh.T (H, 3H), blocks
r, z, n as columns in the same order, and the two biases apart: bx = bias_ih, bh = bias_hh.
Only values are compared: copies and views (weight_ih.T) are both accepted, as the notebook
says. (Under the course's grading command the returned arrays arrive through the worker's data
channel, where sharing memory cannot be seen, and both grading paths must give the same score.)
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gru import unpack_gru_weights as reference

# "02_gru" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.02_gru._helpers")
call, case, copies, expect_match = _h.call, _h.case, _h.copies, _h.expect_match
expect_unchanged, inputs, unpack = _h.expect_unchanged, _h.inputs, _h.unpack
ORDERS, GATES = _h.ORDERS, _h.PYTORCH_GATES

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
OUT = ("Wx", "Wh", "bx", "bh")
HINTS = {
    "Wx": "Wx = weight_ih.T: column block k of Wx is row block k of weight_ih, transposed.",
    "Wh": "Wh = weight_hh.T: column block k of Wh is row block k of weight_hh, transposed.",
    "bx": "bx is bias_ih as it is, blocks r, z, n.",
    "bh": "bh is bias_hh as it is, blocks r, z, n.",
}
SHAPE_HINTS = {
    "Wx": "Wx has shape (D, 3H): transpose weight_ih, which is (3H, D).",
    "Wh": "Wh has shape (H, 3H): transpose weight_hh, which is (3H, H).",
    "bx": "bx has shape (3H,), like bias_ih.",
    "bh": "bh has shape (3H,), like bias_hh.",
}
RESHAPED = (
    "You reshaped {src} instead of transposing it: reshape keeps the order of the numbers in "
    "memory, so the shape is right but the weights of different gates and inputs get mixed. "
    "Use {src}.T."
)
ORDER = (
    "Gate order: your blocks come out as {got}. Keep PyTorch's order r, z, n; the transpose "
    "alone already turns row block k into column block k."
)
INTERLEAVED = (
    "The gate blocks are interleaved (gate k of unit j in column 3j + k); keep them "
    "contiguous: columns k*H:(k+1)*H hold gate k, which is what {src}.T gives."
)
FUSED = (
    "Missing bias: keep the two biases apart, bx = bias_ih and bh = bias_hh. They cannot be "
    "added up: the reset gate multiplies the n block of bias_hh but not that of bias_ih."
)
SWAPPED_BIAS = "bx and bh are swapped: bx is bias_ih (input side), bh is bias_hh (recurrent side)."
SWAPPED_W = "Wx and Wh are swapped: Wx comes from weight_ih (input side), Wh from weight_hh."


def _args(seed, D, H):
    return inputs(seed, [(3 * H, D), (3 * H, H), (3 * H,), (3 * H,)])


def _reorder(A, H, order, axis):
    """A with its three blocks of width H along ``axis`` taken in ``order``."""
    parts = [np.take(A, np.arange(k * H, (k + 1) * H), axis=axis) for k in order]
    return np.concatenate(parts, axis=axis)


def _mistakes(weight_ih, weight_hh, bias_ih, bias_hh):
    """Typical wrong unpackings, per output, each with the hint that names it."""
    H, D = weight_hh.shape[1], weight_ih.shape[1]
    out = {name: [] for name in OUT}
    for name, src, W in (("Wx", "weight_ih", weight_ih), ("Wh", "weight_hh", weight_hh)):
        rows = W.shape[1]
        out[name].append((RESHAPED.format(src=src), W.reshape(rows, 3 * H)))
        interleaved = W.reshape(3, H, rows).transpose(2, 1, 0).reshape(rows, 3 * H)
        out[name].append((INTERLEAVED.format(src=src), interleaved))
        for order in ORDERS:
            got = ", ".join(GATES[k] for k in order)
            out[name].append((ORDER.format(got=got), _reorder(W.T, H, order, axis=1)))
    if D == H:
        out["Wx"].append((SWAPPED_W, weight_hh.T))
        out["Wh"].append((SWAPPED_W, weight_ih.T))
    fused = bias_ih + bias_hh
    out["bx"] += [(FUSED, fused), (SWAPPED_BIAS, bias_hh)]
    out["bh"] += [(FUSED, np.zeros_like(bias_hh)), (FUSED, fused), (SWAPPED_BIAS, bias_ih)]
    for name, b in (("bx", bias_ih), ("bh", bias_hh)):
        for order in ORDERS:
            got = ", ".join(GATES[k] for k in order)
            out[name].append((ORDER.format(got=got), _reorder(b, H, order, axis=0)))
    return out


def _check(student, args, description):
    fn = student("unpack_gru_weights")
    with case(description):
        out = unpack(call(fn, "unpack_gru_weights", *args), OUT, "unpack_gru_weights")
        expected = reference(*args)
        cands = _mistakes(*args)
        for name, got, exp in zip(OUT, out, expected, strict=True):
            expect_match(name, got, exp, cands[name], HINTS[name], SHAPE_HINTS[name], atol=0)


def test_returns_four_arrays_with_the_right_shapes(student):
    D, H = 3, 4
    args = _args(150, D, H)
    fn = student("unpack_gru_weights")
    with case("D=3, H=4"):
        out = unpack(call(fn, "unpack_gru_weights", *args), OUT, "unpack_gru_weights")
        shapes = [(D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,)]
        for name, got, shape in zip(OUT, out, shapes, strict=True):
            _h.expect_shape(name, got, shape, SHAPE_HINTS[name])


def test_matches_reference_on_random_weights(student):
    _check(student, _args(151, D=3, H=4), "D=3, H=4, random weights")


def test_keeps_the_gate_order(student):
    # every block filled with its own level (r ~ 1, z ~ 2, n ~ 3): a reordering shows at once
    D, H = 2, 3
    weight_ih, weight_hh, bias_ih, bias_hh = _args(152, D, H)
    level = np.repeat([1.0, 2.0, 3.0], H)
    args = [
        level[:, None] + 0.1 * weight_ih,
        level[:, None] + 0.1 * weight_hh,
        level + 0.1 * bias_ih,
        -level + 0.1 * bias_hh,
    ]
    _check(student, args, "D=2, H=3, blocks r, z, n at levels 1, 2, 3")


def test_D_equals_H(student):
    _check(student, _args(153, D=4, H=4), "D=4, H=4")


def test_H_equals_1(student):
    _check(student, _args(154, D=3, H=1), "D=3, H=1")


def test_D_equals_1(student):
    _check(student, _args(155, D=1, H=3), "D=1, H=3")


def test_biases_stay_apart(student):
    # bias_hh large and different from bias_ih: adding them up is caught in every block
    weight_ih, weight_hh, bias_ih, bias_hh = _args(156, D=2, H=3)
    _check(student, [weight_ih, weight_hh, bias_ih, 5.0 + bias_hh], "D=2, H=3, large bias_hh")


def test_inputs_not_modified(student):
    args = _args(157, D=3, H=2)
    before = copies(args)
    fn = student("unpack_gru_weights")
    with case("D=3, H=2"):
        call(fn, "unpack_gru_weights", *args, copy=False)
        expect_unchanged("unpack_gru_weights", NAMES, before, args)
