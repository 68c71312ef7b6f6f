"""Hidden tests of rnn_forward: h_t = tanh(x_t Wx + h_{t-1} Wh + b) for t = 1..T from h_0 = h0."""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.rnn import rnn_forward as reference

# "01_rnn" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.01_rnn._helpers")
call, case, copies, expect_match = _h.call, _h.case, _h.copies, _h.expect_match
expect_unchanged, inputs, unpack = _h.expect_unchanged, _h.inputs, _h.unpack

NAMES = ("x", "h0", "Wx", "Wh", "b")
HINT = "Check that step t starts from the h of step t-1 (step 1 from h0), with the same weights."
SHAPE_HINT = "h holds every hidden state h_1..h_T of every example: (N, T, H), batch first."


def _args(seed, N, T, D, H, zero_h0=False, wh_scale=0.5):
    x, h0, Wx, Wh, b = inputs(seed, [(N, T, D), (N, H), (D, H), (H, H), (H,)], [1, 1, 1, wh_scale])
    return [x, np.zeros((N, H)) if zero_h0 else h0, Wx, Wh, b]


def _run(x, h_start, Wx, Wh, b, carry=True):
    """The states of the recurrence; without ``carry`` every step starts from h_start."""
    states, h = [], h_start
    for t in range(x.shape[1]):
        h_new = np.tanh(x[:, t] @ Wx + (h if carry else h_start) @ Wh + b)
        states.append(h_new)
        h = h_new
    return np.stack(states, axis=1)  # (N, T, H)


def _mistakes(x, h0, Wx, Wh, b):
    """What typical wrong sequence loops return on these inputs, with the hint naming each."""
    h = reference(x, h0, Wx, Wh, b)[0]
    out = [
        (
            "You returned only the last state h_T; rnn_forward returns every state h_1..h_T, "
            "(N, T, H).",
            h[:, -1],
        ),
        (
            "Your h does not start from h0: step 1 must use h_prev = h0, not zeros.",
            _run(x, np.zeros_like(h0), Wx, Wh, b),
        ),
        (
            "Every step starts from h0: carry the state, so step t uses the h of step t-1.",
            _run(x, h0, Wx, Wh, b, carry=False),
        ),
        (
            "You included h0 in h; return h_1..h_T only, (N, T, H).",
            np.concatenate([h0[:, None], h], axis=1),
        ),
        (
            "Your h is shifted by one step: h[:, 0] must be h_1 (after the first input) and "
            "h[:, T-1] the last state h_T.",
            np.concatenate([h0[:, None], h[:, :-1]], axis=1),
        ),
    ]
    backwards = _run(x[:, ::-1], h0, Wx, Wh, b)  # the states of a loop over t = T..1
    hint = "The sequence was read backwards: step 1 reads x[:, 0] and the last step x[:, T-1]."
    out += [(hint, backwards), (hint, backwards[:, ::-1])]
    if x.shape[0] != x.shape[1]:
        out.append(
            (
                "Your h is time-major (T, N, H); the course's sequences are batch-first, "
                "(N, T, H).",
                h.transpose(1, 0, 2),
            )
        )
    return out


def _check(student, args, description):
    fwd = student("rnn_forward")
    with case(description):
        h, _cache = unpack(call(fwd, "rnn_forward", *args), ("h", "cache"), "rnn_forward")
        expected, _ = reference(*args)
        expect_match("h", h, expected, _mistakes(*args), hint=HINT, shape_hint=SHAPE_HINT)


def test_returns_state_sequence_and_cache(student):
    _check(student, _args(20, N=2, T=3, D=4, H=5), "N=2, T=3, D=4, H=5")


def test_matches_reference_on_random_inputs(student):
    _check(student, _args(21, N=3, T=5, D=2, H=4), "N=3, T=5, D=2, H=4, random h0")


def test_starts_from_h0(student):
    # strong recurrent weights and a large h0, so that h0 changes every later state
    args = _args(22, N=2, T=4, D=3, H=3, wh_scale=1.0)
    args[1] = 2.0 * args[1]
    _check(student, args, "N=2, T=4, D=3, H=3, large h0")


def test_zero_h0(student):
    _check(student, _args(23, N=2, T=4, D=3, H=2, zero_h0=True), "N=2, T=4, D=3, H=2, h0 = 0")


def test_each_step_starts_from_the_previous_state(student):
    # zero inputs after the first step: every later state comes from the recurrence alone
    args = _args(24, N=2, T=6, D=2, H=3, wh_scale=1.0)
    args[0][:, 1:] = 0.0
    _check(student, args, "N=2, T=6, D=2, H=3, x = 0 after step 1")


def test_T_equals_1(student):
    _check(student, _args(25, N=3, T=1, D=2, H=4), "N=3, T=1, D=2, H=4")


def test_N_equals_1_and_D_equals_1(student):
    _check(student, _args(26, N=1, T=4, D=1, H=3), "N=1, T=4, D=1, H=3")


def test_H_equals_1(student):
    _check(student, _args(27, N=2, T=3, D=3, H=1), "N=2, T=3, D=3, H=1")


def test_inputs_not_modified(student):
    args = _args(28, N=2, T=3, D=3, H=4)
    before = copies(args)
    fwd = student("rnn_forward")
    with case("N=2, T=3, D=3, H=4"):
        call(fwd, "rnn_forward", *args, copy=False)
        expect_unchanged("rnn_forward", NAMES, before, args)
