"""Hidden tests of unpack_gru_weights: PyTorch's fused GRU arrays -> (Wx, Wh, bx, bh).

PyTorch stacks the gate blocks r, z, n by rows: weight_ih (3H, D), weight_hh (3H, H). The
course's row-vector cell wants Wx = weight_ih.T (D, 3H) and Wh = weight_hh.T (H, 3H), blocks
r, z, n as columns in the same order, and the two biases apart: bx = bias_ih, bh = bias_hh.
Only values are compared: copies and views (weight_ih.T) are both accepted, as the notebook
says. (Under the course's grading command the returned arrays arrive through the worker's data
channel, where sharing memory cannot be seen, and both grading paths must give the same score.)
"""

from __future__ import annotations

import numpy as np

from autograder.suites.cells.gru import ORDERS
from autograder.suites.cells.gru import PYTORCH_GATES as GATES
from autograder.suites.kit import Arg, Case, Function, Mistakes, call, case, expect_shape, named
from autograder.suites.kit import unpack as unpack_outputs
from solutions.gru import unpack_gru_weights as reference

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
    return [(hint, {name: v}) for name, found in out.items() for hint, v in found]


UNPACK = Function(
    "unpack_gru_weights",
    [
        Arg("weight_ih", "3H, D"),
        Arg("weight_hh", "3H, H"),
        Arg("bias_ih", "3H"),
        Arg("bias_hh", "3H"),
    ],  # fmt: skip
    returns=OUT,
    reference=reference,
    title="unpack",
    hints=HINTS,
    shape_hints=SHAPE_HINTS,
    mistakes=[Mistakes(_mistakes)],
    atol=0,
)


@named("unpack, four arrays with the right shapes")
def test_returns_four_arrays_with_the_right_shapes(student):
    D, H = 3, 4
    args = UNPACK.arguments(Case(150, D=D, H=H))
    with case("D=3, H=4"):
        out = unpack_outputs(
            call(student("unpack_gru_weights"), "unpack_gru_weights", *args), OUT,
            "unpack_gru_weights",
        )  # fmt: skip
        shapes = [(D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,)]
        for name, got, shape in zip(OUT, out, shapes, strict=True):
            expect_shape(name, got, shape, SHAPE_HINTS[name])


def _levels(a):
    # every block filled with its own level (r ~ 1, z ~ 2, n ~ 3): a reordering shows at once
    level = np.repeat([1.0, 2.0, 3.0], a["bias_ih"].shape[0] // 3)
    a["weight_ih"] = level[:, None] + 0.1 * a["weight_ih"]
    a["weight_hh"] = level[:, None] + 0.1 * a["weight_hh"]
    a["bias_ih"] = level + 0.1 * a["bias_ih"]
    a["bias_hh"] = -level + 0.1 * a["bias_hh"]


def _large_bias_hh(a):
    # bias_hh large and different from bias_ih: adding them up is caught in every block
    a["bias_hh"] = 5.0 + a["bias_hh"]


test_values = UNPACK.tests(
    [
        Case(151, "random weights", D=3, H=4),
        Case(152, "blocks r, z, n at levels 1, 2, 3", D=2, H=3, edit=_levels),
        Case(153, D=4, H=4),
        Case(154, D=3, H=1),
        Case(155, D=1, H=3),
        Case(156, "large bias_hh", D=2, H=3, edit=_large_bias_hh),
    ]
)
test_inputs_not_modified = UNPACK.unchanged_test(Case(157, D=3, H=2))
