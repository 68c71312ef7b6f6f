"""Hidden tests of the from-scratch nn.Module PeepholeLSTM: parameters, outputs, gradients.

The student's class runs through ``student.module_check`` (float64, PyTorch's built-in recurrent
kernels switched off, plain arrays in and out); the expected values come from
solutions.modules.PeepholeLSTM with the same state_dict, and, with the peepholes at zero, from
torch.nn.LSTM itself. Output failures name the typical mistakes, computed in numpy from the same
weights (a peephole in the wrong place, a full-matrix reading, one bias only, hx or batch_first
ignored, ...); a parameter test names (H, H) peephole matrices.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.hidden import run_module_check
from autograder.suites.cells.peephole import FORWARD_MISTAKES, sequence_forward
from autograder.suites.kit import (
    BUILTIN_RNN_NAMES,
    Arg,
    Case,
    Mistakes,
    case,
    expect_close,
    named,
    refuse_shortcuts,
)
from autograder.suites.kit.module import Module, recurrent_data
from solutions.modules import PeepholeLSTM as Reference

_no_shortcuts = refuse_shortcuts(
    "PyTorch's built-in LSTM",
    "Plain torch operations on the module's parameters are all this exercise needs; remove these.",
    "PeepholeLSTM",
)
OUTPUTS = ("output", "h_n", "c_n")
HINT = (
    "Check: a = x_t @ weight_ih_l0.T + h @ weight_hh_l0.T + bias_ih_l0 + bias_hh_l0, chunked "
    "into i, f, g, o; i = sig(a_i + peephole_i_l0 * c_prev), f = sig(a_f + peephole_f_l0 * "
    "c_prev), c = f * c_prev + i * tanh(a_g), o = sig(a_o + peephole_o_l0 * c), h = o * tanh(c)."
)
SHAPE_HINTS = {
    "output": "output holds h_t for every step: (T, N, H), or (N, T, H) with batch_first=True.",
    "h_n": "h_n is (1, N, H), like torch.nn.LSTM's: the leading 1 is the layer dimension.",
    "c_n": "c_n is (1, N, H), like torch.nn.LSTM's: the leading 1 is the layer dimension.",
}
STRUCTURE = "forward must return (output, (h_n, c_n)), exactly like torch.nn.LSTM."
LSTM_PARAMS = [Arg("weight_ih_l0", "4H, D"), Arg("weight_hh_l0", "4H, H"),
               Arg("bias_ih_l0", "4H"), Arg("bias_hh_l0", "4H")]  # fmt: skip
PARAMS = LSTM_PARAMS + [Arg(f"peephole_{k}_l0", "H") for k in "ifo"]
PEEPHOLE_NAMES = [f"peephole_{k}_l0" for k in "ifo"]


def _numpy_outputs(sd, inputs, batch_first, mistake=None, b=None, time_major_input=None):
    """output, h_n, c_n of a peephole LSTM (or one with a mistake) computed in numpy."""
    x = inputs[0]
    time_major = not batch_first if time_major_input is None else time_major_input
    xb = x.transpose(1, 0, 2) if time_major else x  # (N, T, D)
    N, H = xb.shape[0], sd["weight_hh_l0"].shape[1]
    if len(inputs) > 1:
        h0, c0 = inputs[1][0][0], inputs[1][1][0]
    else:
        h0 = c0 = np.zeros((N, H))
    b = sd["bias_ih_l0"] + sd["bias_hh_l0"] if b is None else b
    p = [sd[n] for n in PEEPHOLE_NAMES]
    with np.errstate(all="ignore"):
        h, c = sequence_forward(
            xb, h0, c0, sd["weight_ih_l0"].T, sd["weight_hh_l0"].T, b, *p, mistake=mistake
        )
    out = h.transpose(1, 0, 2) if time_major else h
    return out, h[:, -1][None], c[:, -1][None]


def _candidates(sd, inputs, options):
    """[(hint, {output: value})]: what typical wrong modules return on this case."""
    batch_first = bool(options.get("batch_first", False))
    out = {name: [] for name in OUTPUTS}

    def add(hint, values):
        for name, v in zip(OUTPUTS, values, strict=True):
            out[name].append((hint, v))

    for mistake, hint in FORWARD_MISTAKES.items():
        add(hint, _numpy_outputs(sd, inputs, batch_first, mistake))
    one = "The cell uses the sum of the two biases, bias_ih_l0 + bias_hh_l0; yours uses only {}."
    add(one.format("bias_ih_l0"), _numpy_outputs(sd, inputs, batch_first, b=sd["bias_ih_l0"]))
    add(one.format("bias_hh_l0"), _numpy_outputs(sd, inputs, batch_first, b=sd["bias_hh_l0"]))
    if len(inputs) > 1:
        add(
            "hx is ignored: when (h_0, c_0) is given, start from h_0[0] and c_0[0] (each (N, H)).",
            _numpy_outputs(sd, inputs[:1], batch_first),
        )
    good = _numpy_outputs(sd, inputs, batch_first)
    for name, value in zip(OUTPUTS[1:], good[1:], strict=True):
        out[name].append((SHAPE_HINTS[name] + " Yours has no layer dimension.", value[0]))
    if batch_first and len(inputs) == 1:
        add(
            "batch_first=True is ignored: then the input is (N, T, D); transpose it to "
            "(T, N, D) for the loop and the output back to (N, T, H).",
            _numpy_outputs(sd, inputs, batch_first, time_major_input=True),
        )
    return [(hint, {name: v}) for name, found in out.items() for hint, v in found]


def _init_args(c):
    return (c.sizes["D"], c.sizes["H"]) + ((True,) if c.sizes.get("batch_first") else ())


MODULE = Module(
    "PeepholeLSTM",
    Reference,
    data=recurrent_data(PARAMS, states=("h_0", "c_0")),
    init_args=_init_args,
    outputs=OUTPUTS,
    input_names=("input", "h_0", "c_0"),
    mistakes=[Mistakes(_candidates)],
    hints=HINT,
    shape_hints=SHAPE_HINTS,
    structure=STRUCTURE,
)


def _case(seed, N, T, D, H, batch_first=False, with_hx=True):
    label = f"N={N}, T={T}, D={D}, H={H}, batch_first={batch_first}" + (
        "" if with_hx else ", hx=None"
    )
    return Case(seed, label=label, N=N, T=T, D=D, H=H, batch_first=batch_first, with_hx=with_hx)


@named("PeepholeLSTM, parameter names, shapes and order")
def test_parameters(student):
    """torch.nn.LSTM's four parameters, then three (H,) peephole vectors; (H, H) is named."""
    c = Case(160, label="PeepholeLSTM(3, 5)", N=2, T=4, D=3, H=5)
    _sd, inputs, _grads = MODULE.data(c)
    with case(c.label):
        got = MODULE.run(student, (3, 5), inputs=inputs)
        want = [(n, tuple(p.shape)) for n, p in Reference(3, 5).state_dict().items()]
        have = [(n, tuple(np.shape(v))) for n, v in got["state_dict"].items()]
        if have == want:
            return
        if any(n.startswith("peephole") and s == (5, 5) for n, s in have):
            raise AssertionError(
                f"Your peephole weights are (H, H) matrices ({have}): that is a full-matrix "
                "reading, every cell into every gate. The peepholes are diagonal, one weight per "
                "cell: each peephole_*_l0 is a vector of shape (H,)."
            )
        raise AssertionError(
            f"PeepholeLSTM(3, 5).state_dict() has {have}; expected {want}. Create the seven "
            "nn.Parameters with these names and shapes, in this order."
        )


test_initialisation = MODULE.uniform_init_test(
    Case(161, label="PeepholeLSTM(3, 64): every parameter from U(-0.125, 0.125)",
         N=2, T=2, D=3, H=64)
)  # fmt: skip
test_values = MODULE.tests(
    [
        _case(162, N=2, T=5, D=3, H=4),
        _case(163, N=3, T=4, D=2, H=3, batch_first=True),
        _case(164, N=2, T=4, D=3, H=3, with_hx=False),
        _case(165, N=1, T=1, D=2, H=3),
        _case(166, N=3, T=4, D=2, H=1, batch_first=True),
        _case(167, N=2, T=20, D=2, H=3, batch_first=True, with_hx=False),
    ]
)


@named("PeepholeLSTM with zero peepholes is torch.nn.LSTM (outputs and gradients)")
def test_reduces_to_lstm(student):
    """With p_i = p_f = p_o = 0 the module computes exactly what torch.nn.LSTM computes."""
    c = _case(168, N=2, T=6, D=3, H=4, batch_first=True)
    sd, inputs, grads = MODULE.data(c)
    for name in PEEPHOLE_NAMES:
        sd[name] = np.zeros_like(sd[name])
    lstm_sd = {k: v for k, v in sd.items() if k not in PEEPHOLE_NAMES}
    with case(c.label + ", peepholes 0"):
        ref = run_module_check(
            lambda D, H, bf: torch.nn.LSTM(D, H, batch_first=bf), (3, 4, True), lstm_sd, inputs,
            grads, forbid_builtin=False,
        )  # fmt: skip
        got = MODULE.run(student, (3, 4, True), sd, inputs, grads)
        hint = (
            "With zero peepholes your module must be torch.nn.LSTM: check the block order "
            "i, f, g, o, the sum of both biases, and batch_first."
        )
        for name, g, e in zip(OUTPUTS, got["outputs"], ref["outputs"], strict=False):
            expect_close(name, g, e, atol=1e-10, hint=hint)
        for name, g, e in zip(("input", "h_0", "c_0"), got["input_grads"], ref["input_grads"],
                              strict=False):  # fmt: skip
            if g is None:
                raise AssertionError(f"no gradient reached {name}.")
            expect_close("d" + name, g, e, atol=1e-10, hint=hint)
        for name, e in ref["param_grads"].items():
            g = got["param_grads"].get(name)
            if g is None:
                raise AssertionError(f"no gradient reached the parameter {name}.")
            expect_close("d" + name, g, e, atol=1e-10, hint=hint)


# the class has to work first; then its code must not name PyTorch's own LSTM kernels
test_written_by_hand = MODULE.builtin_test(
    _case(162, N=2, T=5, D=3, H=4),
    BUILTIN_RNN_NAMES,
    "write the gate equations yourself with torch operations on the module's parameters, not "
    "PyTorch's built-in LSTM.",
)
