"""Hidden tests of rnn_step_backward, on the cache of the student's own rnn_step_forward.

With a = x Wx + h_prev Wh + b and h = tanh(a): da = dh (1 - h^2), dx = da Wx^T,
dh_prev = da Wh^T, dWx = x^T da, dWh = h_prev^T da, db = sum_n da. Each test compares with
solutions.rnn, or with centred differences of the student's own forward.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gradients import numerical_gradient
from solutions.rnn import rnn_step_backward as reference_backward
from solutions.rnn import rnn_step_forward as reference_forward

# "01_rnn" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.01_rnn._helpers")
appended, call, case, copies = _h.appended, _h.call, _h.case, _h.copies
expect_gradient_check, expect_gradients = _h.expect_gradient_check, _h.expect_gradients
expect_shape, expect_unchanged, inputs = _h.expect_shape, _h.expect_unchanged, _h.inputs
unpack, upstream_note = _h.unpack, _h.upstream_note

NAMES = ("x", "h_prev", "Wx", "Wh", "b")
GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
HINTS = {
    "dx": "Check: dx = da @ Wx.T with da = dh * (1 - h**2).",
    "dh_prev": "Check: dh_prev = da @ Wh.T with da = dh * (1 - h**2).",
    "dWx": "Check: dWx = x.T @ da, shape (D, H).",
    "dWh": "Check: dWh = h_prev.T @ da, shape (H, H).",
    "db": "Check: db = da summed over the batch (axis 0), shape (H,).",
}
SHAPE_HINT = (
    "Return (dx, dh_prev, dWx, dWh, db): one gradient per argument of rnn_step_forward, in "
    "its order, each with the shape of that argument."
)
FIX_FORWARD = "Fix rnn_step_forward first: the gradient check differentiates it."
WHY = " (called to get the cache for rnn_step_backward)"


def _args(seed, N, D, H, scale=1.0, zero_h_prev=False):
    x, h_prev, Wx, Wh, b, dh = inputs(
        seed, [(N, D), (N, H), (D, H), (H, H), (H,), (N, H)], [1, 1, scale, scale, scale]
    )
    return [x, np.zeros((N, H)) if zero_h_prev else h_prev, Wx, Wh, b], dh


def _grads(x, h_prev, Wx, Wh, da):
    """The five gradients of one step, given da."""
    return {
        "dx": da @ Wx.T,
        "dh_prev": da @ Wh.T,
        "dWx": x.T @ da,
        "dWh": h_prev.T @ da,
        "db": da.sum(axis=0),
    }


def _mistakes(args, dh):
    """Typical wrong gradients on these inputs, per gradient, each with the hint naming it."""
    x, h_prev, Wx, Wh, b = args
    a = x @ Wx + h_prev @ Wh + b
    h = np.tanh(a)
    derivatives = [
        (1 - a**2, "you used 1 - a², with a the pre-activation"),
        (1 - h, "you used 1 - h, that is 1 - tanh(a) without the square"),
        (1 - np.tanh(h) ** 2, "you used 1 - tanh(h)², applying tanh to h a second time"),
        (h * (1 - h), "you used h(1 - h), the derivative of the sigmoid"),
        ((1 - h) ** 2, "you used (1 - h)²"),
        (np.ones_like(h), "the factor tanh'(a) is missing (you used da = dh)"),
        (1 - h_prev**2, "you used 1 - h_prev², the derivative at the previous step's output"),
    ]
    out = {g: [] for g in GRADS}
    for factor, what in derivatives:
        hint = (
            f"Wrong tanh derivative: {what}. With h = tanh(a), tanh'(a) = 1 - tanh(a)² = 1 - h², "
            f"so da = dh * (1 - h**2), with h the output of this step."
        )
        for g, value in _grads(x, h_prev, Wx, Wh, dh * factor).items():
            out[g].append((hint, value))
    da = dh * (1 - h**2)
    if x.shape[1] == h.shape[1]:  # only then does da @ Wx have a shape at all
        out["dx"].append(("dx = da @ Wx.T: Wx must be transposed.", da @ Wx))
    out["dh_prev"].append(("dh_prev = da @ Wh.T: Wh must be transposed.", da @ Wh))
    out["dWx"].append(("dWx is transposed: dWx = x.T @ da, shape (D, H).", da.T @ x))
    out["dWh"] += [
        ("dWh uses the new state h, but Wh multiplies h_prev: dWh = h_prev.T @ da.", h.T @ da),
        ("dWh is transposed: dWh = h_prev.T @ da.", da.T @ h_prev),
    ]
    out["db"] += [
        (
            "db is the mean over the batch; the loss adds up the examples, so sum: "
            "db = da.sum(axis=0).",
            da.mean(axis=0),
        ),
        ("db must be summed over the batch (axis 0), shape (H,).", da),
    ]
    return out


def _backward(student, args, dh, copy=True):
    """The student's gradients on the cache of their own forward, and a note if that is wrong."""
    fwd, bwd = student("rnn_step_forward"), student("rnn_step_backward")
    out = call(fwd, "rnn_step_forward", *args, why=WHY, copy=copy)
    h, cache = unpack(out, ("h", "cache"), "rnn_step_forward")
    out = call(bwd, "rnn_step_backward", dh, cache, copy=copy)
    grads = unpack(out, GRADS, "rnn_step_backward")
    return grads, upstream_note("rnn_step_forward", h, reference_forward(*args)[0])


def _check(student, args, dh, description):
    with case(description):
        grads, note = _backward(student, args, dh)
        expected = reference_backward(dh, reference_forward(*args)[1])
        with appended(note):
            expect_gradients(GRADS, grads, expected, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_returns_five_gradients_in_argument_order(student):
    args, dh = _args(30, N=2, D=3, H=4)
    with case("N=2, D=3, H=4"):
        grads, _note = _backward(student, args, dh)
        for name, g, arg in zip(GRADS, grads, args, strict=True):
            expect_shape(name, g, arg.shape, SHAPE_HINT)


def test_matches_reference_on_random_inputs(student):
    args, dh = _args(31, N=3, D=4, H=5)
    _check(student, args, dh, "N=3, D=4, H=5, random inputs")


def test_tanh_derivative_uses_the_output_h(student):
    # large pre-activations: every wrong derivative is far from 1 - h^2
    args, dh = _args(32, N=4, D=3, H=3, scale=1.5)
    _check(student, args, dh, "N=4, D=3, H=3, large pre-activations")


def test_centred_differences_of_your_forward(student):
    args, dh = _args(33, N=2, D=3, H=4)
    fwd = student("rnn_step_forward")
    with case("N=2, D=3, H=4"):
        grads, _note = _backward(student, args, dh)

        def h_of_args():
            out = call(fwd, "rnn_step_forward", *args, why=WHY)
            h, _ = unpack(out, ("h", "cache"), "rnn_step_forward")
            expect_shape("h from rnn_step_forward", h, dh.shape, FIX_FORWARD)
            return h

        numerical = [numerical_gradient(h_of_args, a, dh) for a in args]
        expect_gradient_check(GRADS, grads, numerical, 1e-7, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_N_equals_1(student):
    args, dh = _args(34, N=1, D=2, H=3)
    _check(student, args, dh, "N=1, D=2, H=3")


def test_H_equals_1(student):
    args, dh = _args(35, N=3, D=2, H=1)
    _check(student, args, dh, "N=3, D=2, H=1")


def test_D_equals_H(student):
    args, dh = _args(36, N=2, D=3, H=3)
    _check(student, args, dh, "N=2, D=3, H=3")


def test_zero_h_prev(student):
    # h_prev = 0: dWh must be zero, because Wh only ever multiplies h_prev
    args, dh = _args(37, N=3, D=2, H=3, zero_h_prev=True)
    _check(student, args, dh, "N=3, D=2, H=3, h_prev = 0")


def test_bias_gradient_sums_over_the_batch(student):
    args, dh = _args(38, N=5, D=2, H=3)
    _check(student, args, dh, "N=5, D=2, H=3")


def test_inputs_not_modified(student):
    args, dh = _args(39, N=2, D=3, H=4)
    before, dh_before = copies(args), dh.copy()
    with case("N=2, D=3, H=4"):
        _backward(student, args, dh, copy=False)
        expect_unchanged("rnn_step_backward", ["dh"], [dh_before], [dh])
        expect_unchanged("rnn_step_forward or rnn_step_backward", NAMES, before, args)
