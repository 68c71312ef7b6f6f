"""Hidden tests of gru_paper_forward: the paper-form step applied for t = 1..T from h_0 = h0.

Returns h (N, T, H) with h[:, t] the state after reading x[:, t] (h0 left out) and a cache. A
mistake inside the step shows up here too; the messages then say which one and send the
student back to gru_paper_step_forward.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gru import gru_paper_forward as reference

# "02_gru" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.02_gru._helpers")
call, case, copies, expect_match = _h.call, _h.case, _h.copies, _h.expect_match
expect_unchanged, inputs, unpack = _h.expect_unchanged, _h.inputs, _h.unpack
paper_sequence, paper_step = _h.paper_sequence, _h.paper_step

NAMES = ("x", "h0", "Wx", "Wh", "b")
HINT = "Check that step t starts from the h of step t-1 (step 1 from h0), with the same weights."
SHAPE_HINT = "h holds every hidden state h_1..h_T of every example: (N, T, H), batch first."
STEP = "Your sequence inherits a mistake of the step: {} Fix gru_paper_step_forward first."


def _args(seed, N, T, D, H, zero_h0=False, w_scale=0.7):
    x, h0, Wx, Wh, b = inputs(
        seed, [(N, T, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,)], [1, 1, w_scale, w_scale]
    )
    return [x, np.zeros((N, H)) if zero_h0 else h0, Wx, Wh, b]


def _from_every_step(x, h0, Wx, Wh, b):
    """States when every step starts from h0 instead of the previous state."""
    return np.stack([paper_step(x[:, t], h0, Wx, Wh, b)[0] for t in range(x.shape[1])], axis=1)


def _mistakes(x, h0, Wx, Wh, b):
    """What typical wrong loops (and wrong steps inside a right loop) return, with hints."""
    h = reference(x, h0, Wx, Wh, b)[0]
    out = [
        (
            "You returned only the last state h_T; gru_paper_forward returns every state "
            "h_1..h_T, (N, T, H).",
            h[:, -1],
        ),
        (
            "Your h does not start from h0: step 1 must use h_prev = h0, not zeros.",
            paper_sequence(x, np.zeros_like(h0), Wx, Wh, b),
        ),
        (
            "Every step starts from h0: carry the state, so step t uses the h of step t-1.",
            _from_every_step(x, h0, Wx, Wh, b),
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
    backwards = paper_sequence(x[:, ::-1], h0, Wx, Wh, b)
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
    step_variants = [
        (_h.PAPER_WRONG_TERM, {"weighs": "old"}),
        (_h.PAPER_RESET_AFTER, {"reset": "after"}),
        (_h.PAPER_NO_RESET, {"reset": "none"}),
        (_h.PAPER_NO_BIAS, {"bias": "none"}),
        (_h.PAPER_NO_CANDIDATE_BIAS, {"bias": "no_candidate"}),
        (_h.PAPER_NO_KEEP, {"weighs": "no_keep"}),
    ]
    for msg, variant in step_variants:
        out.append((STEP.format(msg), paper_sequence(x, h0, Wx, Wh, b, **variant)))
    return out


def _check(student, args, description):
    fwd = student("gru_paper_forward")
    with case(description):
        out = call(fwd, "gru_paper_forward", *args)
        h, _cache = unpack(out, ("h", "cache"), "gru_paper_forward")
        expected, _ = reference(*args)
        expect_match("h", h, expected, _mistakes(*args), hint=HINT, shape_hint=SHAPE_HINT)


def test_returns_state_sequence_and_cache(student):
    _check(student, _args(110, N=2, T=3, D=4, H=5), "N=2, T=3, D=4, H=5")


def test_matches_reference_on_random_inputs(student):
    _check(student, _args(111, N=3, T=5, D=2, H=4), "N=3, T=5, D=2, H=4, random h0")


def test_starts_from_h0(student):
    # a large h0 and a mostly closed update gate: h0 shapes every later state
    args = _args(112, N=2, T=4, D=3, H=3)
    args[1] = 2.0 * args[1]
    args[4][3:6] = -1.5
    _check(student, args, "N=2, T=4, D=3, H=3, large h0")


def test_zero_h0(student):
    _check(student, _args(113, N=2, T=4, D=3, H=2, zero_h0=True), "N=2, T=4, D=3, H=2, h0 = 0")


def test_each_step_starts_from_the_previous_state(student):
    # zero inputs after the first step: every later state comes from the recurrence alone
    args = _args(114, N=2, T=6, D=2, H=3, w_scale=1.0)
    args[0][:, 1:] = 0.0
    _check(student, args, "N=2, T=6, D=2, H=3, x = 0 after step 1")


def test_closed_update_gate_keeps_h0_for_every_step(student):
    # u = 0 at every step: h_t = h0 for all t, whatever the inputs
    args = _args(115, N=2, T=5, D=3, H=4)
    args[4][4:8] = -50.0
    _check(student, args, "N=2, T=5, D=3, H=4, update bias -50 (u = 0)")


def test_T_equals_1(student):
    _check(student, _args(116, N=3, T=1, D=2, H=4), "N=3, T=1, D=2, H=4")


def test_N_equals_1_and_H_equals_1(student):
    _check(student, _args(117, N=1, T=4, D=2, H=1), "N=1, T=4, D=2, H=1")


def test_inputs_not_modified(student):
    args = _args(118, N=2, T=3, D=3, H=4)
    before = copies(args)
    fwd = student("gru_paper_forward")
    with case("N=2, T=3, D=3, H=4"):
        call(fwd, "gru_paper_forward", *args, copy=False)
        expect_unchanged("gru_paper_forward", NAMES, before, args)
