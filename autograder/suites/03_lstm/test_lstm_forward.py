"""Hidden tests of lstm_forward: (h_t, c_t) = step(x_t, h_{t-1}, c_{t-1}) for t = 1..T.

Against solutions.lstm. Both states are carried from step to step; h and c hold the states
after every step, (N, T, H), batch first, without h0 and c0. Failures name the sequence-level
mistakes (only the last state, a state not carried, c0 or h0 included, time-major output) and
the step mistakes, which show up here too when the loop uses a wrong lstm_step_forward.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.lstm import lstm_forward as reference
from solutions.lstm import lstm_step_forward as reference_step

# "03_lstm" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.03_lstm._helpers")
SEQ_ARGS, appended, call, case = _h.SEQ_ARGS, _h.appended, _h.call, _h.case
copies, expect_match, expect_unchanged = _h.copies, _h.expect_match, _h.expect_unchanged
forward_candidates, inputs, is_close = _h.forward_candidates, _h.inputs, _h.is_close
sequence_forward, unpack = _h.sequence_forward, _h.unpack

HINT = (
    "Check that step t starts from the h AND the c of step t-1 (h0 and c0 for the first step) "
    "and that h[:, t], c[:, t] are the states after reading x[:, t]."
)
SHAPE_HINT = "h and c hold the states after every step of every example: (N, T, H), batch first."
C_FROM_H = (
    "c_t was computed from h_{t-1} instead of c_{t-1}: pass the c that the previous step "
    "returned as c_prev (c0 for the first step), and check that lstm_step_forward uses c_prev."
)


def _args(seed, N, T, D, H, zero_states=False, wh_scale=0.5):
    shapes = [(N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)]
    args = inputs(seed, shapes, [1, 1, 1, 1, wh_scale])
    if zero_states:
        args[1], args[2] = np.zeros((N, H)), np.zeros((N, H))
    return args


def _mistakes(args, which):
    """Typical wrong loops (and step mistakes inside a right loop) for output ``which``."""
    x, h0, c0 = args[:3]
    k = 0 if which == "h" else 1
    good = reference(*args)[k]
    first = h0 if which == "h" else c0
    out = [
        (C_FROM_H, sequence_forward(*args, mistake="c from h")[k]),
        (
            f"You returned only the last state; {which} holds the state after every step, "
            "(N, T, H).",
            good[:, -1],
        ),
        (
            "The cell state is not carried: every step starts from c0. Pass the c returned by "
            "step t-1 to step t.",
            sequence_forward(*args, mistake="no c carry")[k],
        ),
        (
            "The hidden state is not carried: every step starts from h0. Pass the h returned "
            "by step t-1 to step t.",
            sequence_forward(*args, mistake="no h carry")[k],
        ),
        (
            f"You included the initial state in {which}; return the states after steps 1..T "
            "only, (N, T, H).",
            np.concatenate([first[:, None], good], axis=1),
        ),
        (
            f"Your {which} is shifted by one step: {which}[:, 0] must be the state after the "
            "first input, not the initial state.",
            np.concatenate([first[:, None], good[:, :-1]], axis=1),
        ),
    ]
    if x.shape[0] != x.shape[1]:
        out.append(
            (
                f"Your {which} is time-major (T, N, H); the course's sequences are batch-first, "
                "(N, T, H).",
                good.transpose(1, 0, 2),
            )
        )
    return out + forward_candidates(args, which, sequence=True)


def _step_note(student, args):
    """A note when the student's lstm_step_forward is itself wrong on the first step."""
    x, h0, c0, Wx, Wh, b = args
    step_args = [x[:, 0], h0, c0, Wx, Wh, b]
    try:
        out = student("lstm_step_forward")(*copies(step_args))
        expected = reference_step(*step_args)[:2]
        ok = all(is_close(g, e) for g, e in zip(out[:2], expected, strict=True))
    except BaseException:  # any failure of the step is a reason to look at it first
        ok = False
    if ok:
        return ""
    return "(Note: your lstm_step_forward is not right on these inputs; fix it first.)"


def _check(student, args, description):
    fwd = student("lstm_forward")
    with case(description):
        out = call(fwd, "lstm_forward", *args)
        h, c, _cache = unpack(out, ("h", "c", "cache"), "lstm_forward")
        h_ref, c_ref, _ = reference(*args)
        for name, got, expected in (("c", c, c_ref), ("h", h, h_ref)):
            note = "" if is_close(got, expected) else _step_note(student, args)
            with appended(note):
                expect_match(
                    name, got, expected, _mistakes(args, name), hint=HINT, shape_hint=SHAPE_HINT
                )


def test_returns_h_c_and_cache(student):
    _check(student, _args(70, N=2, T=3, D=4, H=5), "N=2, T=3, D=4, H=5")


def test_matches_reference_on_random_inputs(student):
    _check(student, _args(71, N=3, T=4, D=2, H=3), "N=3, T=4, D=2, H=3, random inputs")


def test_T_equals_1(student):
    _check(student, _args(72, N=3, T=1, D=2, H=4), "N=3, T=1, D=2, H=4")


def test_N_equals_1_and_H_equals_1(student):
    _check(student, _args(73, N=1, T=5, D=3, H=1), "N=1, T=5, D=3, H=1")


def test_zero_initial_states(student):
    _check(student, _args(74, N=2, T=4, D=3, H=3, zero_states=True), "N=2, T=4, h0 = c0 = 0")


def test_long_sequence(student):
    _check(student, _args(75, N=2, T=25, D=2, H=3, wh_scale=1.0), "N=2, T=25, D=2, H=3")


def test_D_much_larger_than_H(student):
    _check(student, _args(76, N=2, T=3, D=8, H=2), "N=2, T=3, D=8, H=2")


def test_inputs_not_modified(student):
    args = _args(77, N=2, T=3, D=3, H=4)
    before = copies(args)
    fwd = student("lstm_forward")
    with case("N=2, T=3, D=3, H=4"):
        call(fwd, "lstm_forward", *args, copy=False)
        expect_unchanged("lstm_forward", SEQ_ARGS, before, args)
