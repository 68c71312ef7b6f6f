"""Hidden tests of init_forget_bias: bias_ih + bias_hh of the forget block equals the value.

The student's function is applied (by ``student.module_function``) to fresh torch.nn.LSTM and
torch.nn.LSTMCell modules loaded with random parameters. Afterwards the forget block (entries
H..2H-1 of every bias, blocks i, f, g, o) must add up to the value in every layer, and every
other entry of every parameter must be unchanged. Failures name the typical mistakes: the value
in both biases, bias_hh not zeroed, the wrong block, only the first layer.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.suites.kit import call, case, expect_close, expect_match, is_close, named

BOTH = (
    "You put the value into both biases: the gate sees bias_ih + bias_hh, so its bias is twice "
    "the value. Put the value into the forget block of bias_ih and 0 into that of bias_hh."
)
NOT_ZEROED = (
    "bias_hh still holds its old values in the forget block, so the gate sees value + bias_hh. "
    "Set the forget block of bias_hh to 0."
)
ADDED = (
    "The value was added to the old bias (+=) instead of set: afterwards bias_ih + bias_hh must "
    "be exactly the value."
)
UNCHANGED = (
    "The forget block (entries H..2H-1 of bias_ih{s} and bias_hh{s}) did not change. The blocks "
    "are i, f, g, o: the forget gate is the second block."
)
WRONG_BLOCK = (
    "You changed the input-gate block (entries 0..H-1); the forget gate is the SECOND block, "
    "entries H..2H-1 (order i, f, g, o)."
)
ONLY_FIRST = (
    "Only the first layer was changed: set the forget bias of every layer (bias_ih_l0, "
    "bias_ih_l1, ...): loop over lstm.named_parameters()."
)
KEEP = "Only the forget block of the biases may change; every other entry must keep its value."
NO_GRAD = "Change parameters inside `with torch.no_grad():` (autograd forbids it otherwise)."


def _state_dict(module_name, init_args, seed):
    """Random parameters (the two biases different) for torch.nn.<module_name>(*init_args)."""
    module = getattr(torch.nn, module_name)(*init_args)
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(tuple(v.shape)) for k, v in module.state_dict().items()}


def _apply(student, module_name, init_args, sd, args):
    def run():
        return student.module_function(
            "init_forget_bias", module_name, init_args=init_args, state_dict=sd, args=args
        )

    try:
        return call(run, "init_forget_bias")
    except AssertionError as e:
        if "leaf Variable" in str(e) or "requires grad" in str(e):
            raise AssertionError(f"{e} {NO_GRAD}") from None
        raise


def _check(student, module_name, init_args, args, seed, description):
    value = float(args[0]) if args else 1.0
    H = init_args[1]
    f, i = slice(H, 2 * H), slice(0, H)
    sd = _state_dict(module_name, init_args, seed)
    with case(f"{description}, value={value:g}"):
        got = _apply(student, module_name, init_args, sd, args)
        suffixes = [k[len("bias_ih") :] for k in sd if k.startswith("bias_ih")]
        for s in suffixes:
            ih, hh = np.asarray(got[f"bias_ih{s}"]), np.asarray(got[f"bias_hh{s}"])
            old_ih, old_hh = sd[f"bias_ih{s}"], sd[f"bias_hh{s}"]
            old_sum = old_ih[f] + old_hh[f]
            candidates = [
                (BOTH, np.full(H, 2 * value)),
                (NOT_ZEROED, value + old_hh[f]),
                (NOT_ZEROED, value + old_ih[f]),
                (ADDED, old_sum + value),
                (BOTH + " " + ADDED, old_sum + 2 * value),
                (ONLY_FIRST if s not in ("", "_l0") else UNCHANGED.format(s=s), old_sum),
            ]
            if not is_close(ih[i] + hh[i], old_ih[i] + old_hh[i]):
                candidates.insert(0, (WRONG_BLOCK, lambda g, old=old_sum: is_close(g, old)))
            expect_match(
                f"bias_ih{s} + bias_hh{s} in the forget block",
                ih[f] + hh[f],
                np.full(H, value),
                candidates,
                hint="Set bias_ih's forget block (entries H..2H-1) to the value and bias_hh's "
                "to 0.",
            )
        _check_rest(got, sd, H)


def _check_rest(got, sd, H):
    for name, old in sd.items():
        new = np.asarray(got[name])
        keep = np.ones(old.shape[0], dtype=bool)
        if name.startswith("bias"):
            keep[H : 2 * H] = False
        expect_close(f"{name} outside the forget block", new[keep], old[keep], atol=0, hint=KEEP)


@named("forget bias, torch.nn.LSTM(3, 4)")
def test_single_layer_lstm(student):
    _check(student, "LSTM", (3, 4), (1.0,), 110, "torch.nn.LSTM(3, 4)")


@named("forget bias, the default value is 1")
def test_default_value_is_one(student):
    _check(student, "LSTM", (2, 3), (), 111, "torch.nn.LSTM(2, 3), init_forget_bias(lstm)")


@named("forget bias, other values")
def test_other_values(student):
    _check(student, "LSTM", (3, 4), (-2.5,), 112, "torch.nn.LSTM(3, 4)")
    _check(student, "LSTM", (3, 4), (3.0,), 113, "torch.nn.LSTM(3, 4)")


@named("forget bias, every layer of a two-layer LSTM")
def test_every_layer_of_a_two_layer_lstm(student):
    _check(student, "LSTM", (3, 4, 2), (1.0,), 114, "torch.nn.LSTM(3, 4, num_layers=2)")


@named("forget bias, torch.nn.LSTMCell(3, 4)")
def test_lstm_cell(student):
    _check(student, "LSTMCell", (3, 4), (1.0,), 115, "torch.nn.LSTMCell(3, 4)")


@named("forget bias, H=1")
def test_H_equals_1(student):
    _check(student, "LSTM", (2, 1), (2.0,), 116, "torch.nn.LSTM(2, 1)")


@named("forget bias, nothing else changes")
def test_nothing_else_changes(student):
    sd = _state_dict("LSTM", (4, 3), 117)
    with case("torch.nn.LSTM(4, 3), value=1"):
        got = _apply(student, "LSTM", (4, 3), sd, (1.0,))
        _check_rest(got, sd, 3)
