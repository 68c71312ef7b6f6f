"""Hidden tests of lstm_step_forward: one LSTM step, blocks i, f, g, o, against solutions.lstm.

c = f * c_prev + i * g and h = o * tanh(c) with i, f, o sigmoid gates and the tanh candidate g
cut from a = x Wx + h_prev Wh + b. Each failure names the typical mistake the answer equals, if
any (block order, tanh on a gate, c from h, o applied to c, ...).
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.lstm import lstm_step_forward as reference

# "03_lstm" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.03_lstm._helpers")
STEP_ARGS, call, case, copies = _h.STEP_ARGS, _h.call, _h.case, _h.copies
expect_match, expect_unchanged = _h.expect_match, _h.expect_unchanged
forward_candidates, inputs, unpack = _h.forward_candidates, _h.inputs, _h.unpack

HINTS = {
    "c": "Check: a = x @ Wx + h_prev @ Wh + b cut into blocks i, f, g, o of H columns; "
    "i, f sigmoid, g tanh; c = f * c_prev + i * g.",
    "h": "Check: h = o * tanh(c) with o = sigmoid(a[:, 3H:4H]) and the new c.",
}
SHAPE_HINTS = {
    "c": "c is the new cell state: one row per example, H columns, (N, H).",
    "h": "h is the new hidden state: one row per example, H columns, (N, H).",
}


def _args(seed, N, D, H, zero_states=False):
    shapes = [(N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)]
    args = inputs(seed, shapes)
    if zero_states:
        args[1], args[2] = np.zeros((N, H)), np.zeros((N, H))
    return args


def _check(student, args, description):
    step = student("lstm_step_forward")
    with case(description):
        out = call(step, "lstm_step_forward", *args)
        h, c, _cache = unpack(out, ("h", "c", "cache"), "lstm_step_forward")
        h_ref, c_ref, _ = reference(*args)
        for name, got, expected in (("c", c, c_ref), ("h", h, h_ref)):
            expect_match(
                name,
                got,
                expected,
                forward_candidates(args, name),
                hint=HINTS[name],
                shape_hint=SHAPE_HINTS[name],
            )


def test_returns_h_c_and_cache(student):
    _check(student, _args(60, N=2, D=3, H=4), "N=2, D=3, H=4")


def test_matches_reference_on_random_inputs(student):
    _check(student, _args(61, N=3, D=4, H=5), "N=3, D=4, H=5, random inputs")


def test_D_equals_H(student):
    _check(student, _args(62, N=2, D=4, H=4), "N=2, D=4, H=4")


def test_D_much_larger_than_H(student):
    _check(student, _args(63, N=3, D=9, H=2), "N=3, D=9, H=2")


def test_N_equals_1(student):
    _check(student, _args(64, N=1, D=3, H=3), "N=1, D=3, H=3")


def test_H_equals_1(student):
    _check(student, _args(65, N=3, D=2, H=1), "N=3, D=2, H=1")


def test_zero_states(student):
    args = _args(66, N=2, D=3, H=3, zero_states=True)
    _check(student, args, "N=2, D=3, H=3, h_prev = c_prev = 0")


def test_each_block_has_its_own_bias(student):
    # x = 0 and h_prev = 0: each gate is its own bias through its nonlinearity, the blocks as
    # different from each other as possible, so that any mix-up of the blocks shows.
    N, D, H = 2, 3, 2
    args = _args(67, N, D, H)
    args[0], args[1] = np.zeros((N, D)), np.zeros((N, H))
    args[5] = np.repeat([1.5, -2.0, 0.7, -0.4], H) + 0.1 * np.tile(np.arange(H), 4)
    _check(student, args, "N=2, D=3, H=2, x = 0, h_prev = 0, distinct bias per block")


def test_large_pre_activations(student):
    # saturated gates (|a| up to about 40): the result must still be finite and right
    args = _args(68, N=2, D=3, H=3)
    args[3], args[4] = 8.0 * args[3], 8.0 * args[4]
    _check(student, args, "N=2, D=3, H=3, weights scaled by 8 (saturated gates)")


def test_inputs_not_modified(student):
    args = _args(69, N=2, D=3, H=4)
    before = copies(args)
    step = student("lstm_step_forward")
    with case("N=2, D=3, H=4"):
        call(step, "lstm_step_forward", *args, copy=False)
        expect_unchanged("lstm_step_forward", STEP_ARGS, before, args)
