"""Hidden tests of rnn_step_forward: h = tanh(x Wx + h_prev Wh + b), against solutions.rnn."""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.rnn import rnn_step_forward as reference

# "01_rnn" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.01_rnn._helpers")
call, case, copies, expect_match = _h.call, _h.case, _h.copies, _h.expect_match
expect_unchanged, inputs, unpack = _h.expect_unchanged, _h.inputs, _h.unpack

NAMES = ("x", "h_prev", "Wx", "Wh", "b")
HINT = "Check: h = tanh(x @ Wx + h_prev @ Wh + b), tanh applied once to the whole sum."
SHAPE_HINT = "h is the new hidden state: one row per example, H columns, (N, H)."


def _args(seed, N, D, H, zero_h_prev=False):
    x, h_prev, Wx, Wh, b = inputs(seed, [(N, D), (N, H), (D, H), (H, H), (H,)])
    return [x, np.zeros((N, H)) if zero_h_prev else h_prev, Wx, Wh, b]


def _mistakes(x, h_prev, Wx, Wh, b):
    """What typical wrong steps compute on these inputs, each with the hint that names it."""
    a = x @ Wx + h_prev @ Wh + b
    out = [
        (
            "The bias b is missing: add b (one value per hidden unit) before the tanh.",
            np.tanh(x @ Wx + h_prev @ Wh),
        ),
        ("tanh is missing: h is tanh of the pre-activation, not the pre-activation itself.", a),
        ("You used the sigmoid; the vanilla RNN step uses tanh.", 1 / (1 + np.exp(-a))),
        (
            "Wh is transposed: with row vectors the recurrent term is h_prev @ Wh.",
            np.tanh(x @ Wx + h_prev @ Wh.T + b),
        ),
        (
            "tanh was applied to each term separately; apply it once, to the whole sum.",
            np.tanh(x @ Wx) + np.tanh(h_prev @ Wh) + np.tanh(b),
        ),
        (
            "h_prev is ignored: the new state depends on the previous one through h_prev @ Wh.",
            np.tanh(x @ Wx + b),
        ),
        ("x is ignored: the input enters through x @ Wx.", np.tanh(h_prev @ Wh + b)),
    ]
    if x.shape[1] == Wx.shape[1]:
        out.append(
            (
                "Wx is transposed: with row vectors the input term is x @ Wx.",
                np.tanh(x @ Wx.T + h_prev @ Wh + b),
            )
        )
    return out


def _check(student, args, description):
    step = student("rnn_step_forward")
    with case(description):
        out = call(step, "rnn_step_forward", *args)
        h, _cache = unpack(out, ("h", "cache"), "rnn_step_forward")
        expected, _ = reference(*args)
        expect_match("h", h, expected, _mistakes(*args), hint=HINT, shape_hint=SHAPE_HINT)


def test_returns_new_state_and_cache(student):
    _check(student, _args(10, N=2, D=3, H=4), "N=2, D=3, H=4")


def test_matches_reference_on_random_inputs(student):
    _check(student, _args(11, N=3, D=4, H=5), "N=3, D=4, H=5, random inputs")


def test_D_equals_H(student):
    _check(student, _args(12, N=2, D=4, H=4), "N=2, D=4, H=4")


def test_D_much_larger_than_H(student):
    _check(student, _args(13, N=3, D=7, H=2), "N=3, D=7, H=2")


def test_N_equals_1(student):
    _check(student, _args(14, N=1, D=3, H=4), "N=1, D=3, H=4")


def test_H_equals_1(student):
    _check(student, _args(15, N=3, D=2, H=1), "N=3, D=2, H=1")


def test_zero_h_prev(student):
    _check(student, _args(16, N=2, D=3, H=3, zero_h_prev=True), "N=2, D=3, H=3, h_prev = 0")


def test_bias_is_added_for_every_example(student):
    N, D, H = 3, 2, 4
    x, h_prev, Wx, Wh, b = _args(17, N, D, H)
    x, h_prev = np.zeros((N, D)), np.zeros((N, H))  # then h = tanh(b) in every row
    _check(student, [x, h_prev, Wx, Wh, b], "N=3, D=2, H=4, x = 0 and h_prev = 0")


def test_inputs_not_modified(student):
    args = _args(18, N=2, D=3, H=4)
    before = copies(args)
    step = student("rnn_step_forward")
    with case("N=2, D=3, H=4"):
        call(step, "rnn_step_forward", *args, copy=False)
        expect_unchanged("rnn_step_forward", NAMES, before, args)
