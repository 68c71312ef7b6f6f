"""Hidden tests of gru_paper_step_forward, the GRU step in the paper form, against solutions.gru.

r = sigmoid(x Wx_r + h_prev Wh_r + b_r), u = sigmoid(x Wx_u + h_prev Wh_u + b_u),
h_tilde = tanh(x Wx_h + (r * h_prev) Wh_h + b_h), h = (1 - u) * h_prev + u * h_tilde;
blocks r, u, h_tilde of width H side by side in Wx (D, 3H), Wh (H, 3H), b (3H,).
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gru import gru_paper_step_forward as reference

# "02_gru" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.02_gru._helpers")
call, case, copies, expect_match = _h.call, _h.case, _h.copies, _h.expect_match
expect_unchanged, inputs, unpack = _h.expect_unchanged, _h.inputs, _h.unpack
mistakes = _h.paper_step_mistakes

NAMES = ("x", "h_prev", "Wx", "Wh", "b")
HINT = (
    "Check the four equations: r and u are sigmoids of their blocks, "
    "h_tilde = tanh(x @ Wx_h + (r * h_prev) @ Wh_h + b_h), h = (1 - u) * h_prev + u * h_tilde."
)
SHAPE_HINT = "h is the new hidden state: one row per example, H columns, (N, H)."


def _args(seed, N, D, H, zero_h_prev=False, scale=1.0):
    x, h_prev, Wx, Wh, b = inputs(
        seed, [(N, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,)], [1, 1, scale, scale, scale]
    )
    return [x, np.zeros((N, H)) if zero_h_prev else h_prev, Wx, Wh, b]


def _check(student, args, description):
    step = student("gru_paper_step_forward")
    with case(description):
        out = call(step, "gru_paper_step_forward", *args)
        h, _cache = unpack(out, ("h", "cache"), "gru_paper_step_forward")
        expected, _ = reference(*args)
        expect_match("h", h, expected, mistakes(*args), hint=HINT, shape_hint=SHAPE_HINT)


def test_returns_new_state_and_cache(student):
    _check(student, _args(100, N=2, D=3, H=4), "N=2, D=3, H=4")


def test_matches_reference_on_random_inputs(student):
    _check(student, _args(101, N=3, D=4, H=5), "N=3, D=4, H=5, random inputs")


def test_update_gate_weighs_the_candidate(student):
    # update gates pushed towards 0 or 1 unit by unit, so the two directions differ a lot
    args = _args(102, N=3, D=2, H=4)
    args[4][4:8] = [3.0, -3.0, 2.0, -2.0]
    _check(student, args, "N=3, D=2, H=4, update gates near 0 and near 1")


def test_reset_acts_before_the_matrix_product(student):
    # a strong reset gate that differs between units: (r * h) Wh and r * (h Wh) differ
    args = _args(103, N=2, D=3, H=3, scale=1.5)
    args[4][0:3] = [3.0, -3.0, 0.0]
    _check(student, args, "N=2, D=3, H=3, reset gates near 1, near 0 and in between")


def test_closed_update_gate_copies_the_state(student):
    # u = sigmoid(-50) = 0: h must equal h_prev exactly, whatever the candidate is
    args = _args(104, N=2, D=3, H=4)
    args[4][4:8] = -50.0
    _check(student, args, "N=2, D=3, H=4, update bias -50 (u = 0)")


def test_bias_enters_every_block(student):
    # x = 0 and h_prev = 0: r, u and h_tilde are functions of their bias blocks alone
    N, D, H = 3, 2, 4
    args = _args(105, N, D, H)
    args[0], args[1] = np.zeros((N, D)), np.zeros((N, H))
    _check(student, args, "N=3, D=2, H=4, x = 0 and h_prev = 0")


def test_N_equals_1_and_D_much_larger_than_H(student):
    _check(student, _args(106, N=1, D=7, H=2), "N=1, D=7, H=2")


def test_H_equals_1(student):
    _check(student, _args(107, N=3, D=2, H=1), "N=3, D=2, H=1")


def test_zero_h_prev(student):
    _check(student, _args(108, N=2, D=3, H=3, zero_h_prev=True), "N=2, D=3, H=3, h_prev = 0")


def test_inputs_not_modified(student):
    args = _args(109, N=2, D=3, H=4)
    before = copies(args)
    step = student("gru_paper_step_forward")
    with case("N=2, D=3, H=4"):
        call(step, "gru_paper_step_forward", *args, copy=False)
        expect_unchanged("gru_paper_step_forward", NAMES, before, args)
