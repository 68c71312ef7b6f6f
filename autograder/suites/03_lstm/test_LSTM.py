"""Hidden tests of the from-scratch nn.Module LSTM: torch.nn.LSTM's parameters, outputs, gradients.

The student's class runs through ``student.module_check`` (float64, PyTorch's built-in recurrent
kernels switched off, plain arrays in and out); the expected values come from torch.nn.LSTM with
the same state_dict. Output failures name the typical mistakes, computed in numpy from the same
weights: the block order of the fused weights, a tanh on a gate, c from h, o applied to c, one
bias only, hx or batch_first ignored, states without their layer dimension.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest
import torch

from autograder import shortcuts
from autograder.hidden import run_module_check

# "03_lstm" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.03_lstm._helpers")
FORWARD_MISTAKES, call, case = _h.FORWARD_MISTAKES, _h.call, _h.case
expect_close, expect_match, sequence_forward = _h.expect_close, _h.expect_match, _h.sequence_forward

NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
OUTPUTS = ("output", "h_n", "c_n")
HINT = (
    "Check: a = x_t @ weight_ih_l0.T + h @ weight_hh_l0.T + bias_ih_l0 + bias_hh_l0, "
    "a.chunk(4, dim=1) gives i, f, g, o; c = sig(f) * c + sig(i) * tanh(g), h = sig(o) * tanh(c)."
)
SHAPE_HINTS = {
    "output": "output holds h_t for every step: (T, N, H), or (N, T, H) with batch_first=True.",
    "h_n": "h_n is (1, N, H), like torch.nn.LSTM's: the leading 1 is the layer dimension.",
    "c_n": "c_n is (1, N, H), like torch.nn.LSTM's: the leading 1 is the layer dimension.",
}
STRUCTURE = "forward must return (output, (h_n, c_n)), exactly like torch.nn.LSTM."
GRAD_HINT = (
    "The outputs are right but this gradient is not: keep every computation in torch on the "
    "module's own parameters and the given tensors (no .detach(), .data, .numpy() or in-place "
    "writes into tensors autograd needs)."
)


# what reaches PyTorch's own recurrent layers (the worker also switches their kernels off at run
# time; this catches the source that tries to get round that)
BUILTIN_NAMES = {
    "LSTMCell",
    "lstm",
    "lstm_cell",
    "_VF",
    "RNNBase",
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "_pop_mode",
    "_disable_current_modes",
}


@pytest.fixture(autouse=True)
def _no_way_around_the_check(student):
    """Every test of this exercise fails if the submitted code holds a means of getting round
    the check that PyTorch's built-in LSTM is not called (see autograder/shortcuts.py)."""
    found = shortcuts.findings(student.sources())
    if found:
        raise AssertionError(
            "your code uses what could get round the check that it does not call PyTorch's "
            "built-in LSTM ("
            + "; ".join(found[:5])
            + "). Plain torch operations on the module's parameters are all this exercise "
            "needs; remove these."
        )


def _builtin(D, H, batch_first=False):
    return torch.nn.LSTM(D, H, batch_first=batch_first)


def _case_data(seed, N, T, D, H, batch_first=False, with_hx=True):
    """A random state_dict (two different biases), inputs and upstream gradients."""
    rng = np.random.default_rng(seed)
    shapes = {"weight_ih_l0": (4 * H, D), "weight_hh_l0": (4 * H, H)}
    shapes.update({"bias_ih_l0": (4 * H,), "bias_hh_l0": (4 * H,)})
    sd = {name: 0.5 * rng.standard_normal(shape) for name, shape in shapes.items()}
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    inputs = [x]
    if with_hx:
        inputs.append((rng.standard_normal((1, N, H)), rng.standard_normal((1, N, H))))
    grads = [rng.standard_normal((N, T, H) if batch_first else (T, N, H))]
    grads += [rng.standard_normal((1, N, H)), rng.standard_normal((1, N, H))]
    return sd, inputs, grads


def _numpy_outputs(sd, inputs, batch_first, mistake=None, b=None, time_major_input=None):
    """output, h_n, c_n of an LSTM (or one with a mistake) computed in numpy."""
    x = inputs[0]
    time_major = not batch_first if time_major_input is None else time_major_input
    xb = x.transpose(1, 0, 2) if time_major else x  # (N, T, D)
    N, H = xb.shape[0], sd["weight_hh_l0"].shape[1]
    if len(inputs) > 1:
        h0, c0 = inputs[1][0][0], inputs[1][1][0]
    else:
        h0 = c0 = np.zeros((N, H))
    b = sd["bias_ih_l0"] + sd["bias_hh_l0"] if b is None else b
    with np.errstate(all="ignore"):
        h, c = sequence_forward(xb, h0, c0, sd["weight_ih_l0"].T, sd["weight_hh_l0"].T, b, mistake)
    out = h.transpose(1, 0, 2) if time_major else h
    return out, h[:, -1][None], c[:, -1][None]


def _candidates(sd, inputs, batch_first):
    """{output name: [(hint, value)]}: what typical wrong modules return on this case."""
    out = {name: [] for name in OUTPUTS}

    def add(hint, values):
        for name, v in zip(OUTPUTS, values, strict=True):
            out[name].append((hint, v))

    for mistake, hint in FORWARD_MISTAKES.items():
        if mistake != "no bias":
            add(hint, _numpy_outputs(sd, inputs, batch_first, mistake))
    one = "The cell uses the sum of the two biases, bias_ih_l0 + bias_hh_l0; yours uses only {}."
    add(one.format("bias_ih_l0"), _numpy_outputs(sd, inputs, batch_first, b=sd["bias_ih_l0"]))
    add(one.format("bias_hh_l0"), _numpy_outputs(sd, inputs, batch_first, b=sd["bias_hh_l0"]))
    add(
        "No bias is added: the pre-activation includes bias_ih_l0 + bias_hh_l0.",
        _numpy_outputs(sd, inputs, batch_first, b=0.0 * sd["bias_ih_l0"]),
    )
    if len(inputs) > 1:
        add(
            "hx is ignored: when (h_0, c_0) is given, start from h_0[0] and c_0[0] (each (N, H)).",
            _numpy_outputs(sd, inputs[:1], batch_first),
        )
    good = _numpy_outputs(sd, inputs, batch_first)
    for name, value in zip(OUTPUTS[1:], good[1:], strict=True):
        out[name].append((SHAPE_HINTS[name] + " Yours has no layer dimension.", value[0]))
    if batch_first and len(inputs) == 1:  # (with hx given, ignoring batch_first crashes)
        add(
            "batch_first=True is ignored: then the input is (N, T, D); transpose it to "
            "(T, N, D) for the loop and the output back to (N, T, H).",
            _numpy_outputs(sd, inputs, batch_first, time_major_input=True),
        )
        out["output"].append(
            (
                "With batch_first=True the output is (N, T, H), not (T, N, H).",
                good[0].swapaxes(0, 1),
            )
        )
    else:
        out["output"].append(
            (
                "The output is batch-first (N, T, H) although batch_first is False: then it is "
                "(T, N, H), like the input (T, N, D).",
                good[0].swapaxes(0, 1),
            )
        )
    return out


def _run(student, init_args, sd, inputs, grads):
    def run():
        return student.module_check(
            "LSTM", init_args=init_args, state_dict=sd, inputs=inputs, grad_outputs=grads
        )

    try:
        return call(run, "LSTM")
    except AssertionError as e:
        if "grad_outputs" in str(e) or "expected tensors" in str(e):
            raise AssertionError(f"{e} {STRUCTURE}") from None
        raise


def _check(student, seed, N, T, D, H, batch_first=False, with_hx=True):
    description = f"N={N}, T={T}, D={D}, H={H}, batch_first={batch_first}" + (
        "" if with_hx else ", hx=None"
    )
    sd, inputs, grads = _case_data(seed, N, T, D, H, batch_first, with_hx)
    init_args = (D, H, True) if batch_first else (D, H)
    with case(description):
        ref = run_module_check(
            _builtin, (D, H, batch_first), sd, inputs, grads, forbid_builtin=False
        )
        try:
            got = _run(student, init_args, sd, inputs, grads)
        except AssertionError as error:
            # Perhaps the forward pass worked and only the backward failed (outputs of the
            # wrong shape, say): then the outputs alone tell what is wrong.
            try:
                alone = student.module_check(
                    "LSTM", init_args=init_args, state_dict=sd, inputs=inputs
                )
            except BaseException:
                raise error from None
            _compare_outputs(alone, ref, sd, inputs, batch_first)
            raise
        _compare_outputs(got, ref, sd, inputs, batch_first)
        leaves = ("input", "h_0", "c_0")[: len(ref["input_grads"])]
        for name, g, e in zip(leaves, got["input_grads"], ref["input_grads"], strict=True):
            if g is None:
                raise AssertionError(
                    f"no gradient reached {name}: your forward must compute with the tensors "
                    "it is given (no copies through numpy, no .detach())."
                )
            expect_close("d" + name, g, e, atol=1e-8, hint=GRAD_HINT)
        for name in NAMES:
            g = got["param_grads"].get(name)
            if g is None:
                raise AssertionError(
                    f"no gradient reached the parameter {name}: use it (through autograd) in "
                    "forward."
                )
            expect_close("d" + name, g, ref["param_grads"][name], atol=1e-8, hint=GRAD_HINT)


def _compare_outputs(got, ref, sd, inputs, batch_first):
    if len(got["outputs"]) != 3:
        raise AssertionError(f"forward returned {len(got['outputs'])} tensors in all; {STRUCTURE}")
    cands = _candidates(sd, inputs, batch_first)
    for k, name in enumerate(OUTPUTS):
        expect_match(
            name, got["outputs"][k], ref["outputs"][k], cands[name], HINT, SHAPE_HINTS[name]
        )


def test_parameters_have_pytorch_names_shapes_and_order(student):
    D, H = 3, 5
    x = np.random.default_rng(100).standard_normal((4, 2, D))
    with case(f"LSTM({D}, {H})"):
        got = call(lambda: student.module_check("LSTM", init_args=(D, H), inputs=[x]), "LSTM")
        want = [(n, tuple(p.shape)) for n, p in _builtin(D, H).state_dict().items()]
        have = [(n, tuple(np.shape(v))) for n, v in got["state_dict"].items()]
        if have != want:
            raise AssertionError(
                f"LSTM({D}, {H}).state_dict() has {have}; torch.nn.LSTM({D}, {H}) has {want}. "
                "Create the four nn.Parameters with these names and shapes, in this order, so "
                "that state_dicts load both ways."
            )


def test_initialisation_is_uniform_within_one_over_sqrt_H(student):
    D, H = 3, 16
    x = np.random.default_rng(101).standard_normal((2, 2, D))
    bound = 1 / np.sqrt(H)
    with case(f"LSTM({D}, {H}): every parameter from U(-{bound:g}, {bound:g})"):
        got = call(lambda: student.module_check("LSTM", init_args=(D, H), inputs=[x]), "LSTM")
        for name in NAMES:
            if name not in got["state_dict"]:
                raise AssertionError(f"the module has no parameter {name}.")
            v = np.asarray(got["state_dict"][name])
            if not (np.all(np.abs(v) <= bound + 1e-12) and v.std() > bound / 4):
                raise AssertionError(
                    f"{name} ranges over [{v.min():.3g}, {v.max():.3g}] with standard deviation "
                    f"{v.std():.3g}; reset_parameters must draw every parameter from "
                    f"U(-1/sqrt(H), 1/sqrt(H)) = U(-{bound:g}, {bound:g}), standard deviation "
                    f"{bound / np.sqrt(3):.3g}."
                )


def test_matches_torch_time_major(student):
    _check(student, 102, N=2, T=5, D=3, H=4)


def test_matches_torch_batch_first(student):
    _check(student, 103, N=3, T=4, D=2, H=3, batch_first=True)


def test_hx_none_means_zero_states(student):
    _check(student, 104, N=2, T=4, D=3, H=3, with_hx=False)


def test_T_equals_1_and_N_equals_1(student):
    _check(student, 105, N=1, T=1, D=2, H=3)


def test_H_equals_1(student):
    _check(student, 106, N=3, T=4, D=2, H=1, batch_first=True)


def test_D_much_larger_than_H(student):
    _check(student, 107, N=2, T=3, D=9, H=2)


def test_long_sequence_batch_first_without_hx(student):
    _check(student, 108, N=2, T=20, D=2, H=3, batch_first=True, with_hx=False)


def test_writes_the_equations_instead_of_calling_torch(student):
    # the class has to work first; then its code must not name PyTorch's own LSTM kernels
    test_matches_torch_time_major(student)
    used = student.names_used("LSTM") & BUILTIN_NAMES
    if used:
        raise AssertionError(
            f"LSTM uses {', '.join(sorted(used))}: write the gate equations yourself with torch "
            "operations on the module's parameters, not PyTorch's built-in LSTM."
        )
