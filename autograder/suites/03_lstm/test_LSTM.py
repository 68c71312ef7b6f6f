"""Hidden tests of the from-scratch nn.Module LSTM: torch.nn.LSTM's parameters, outputs, gradients.

The student's class runs through ``student.module_check`` (float64, PyTorch's built-in recurrent
kernels switched off, plain arrays in and out); the expected values come from torch.nn.LSTM with
the same state_dict. Output failures name the typical mistakes, computed in numpy from the same
weights: the block order of the fused weights, a tanh on a gate, c from h, o applied to c, one
bias only, hx or batch_first ignored, states without their layer dimension.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.suites.cells.lstm import FORWARD_MISTAKES, sequence_forward
from autograder.suites.kit import BUILTIN_RNN_NAMES, Arg, Case, Mistakes, refuse_shortcuts
from autograder.suites.kit.module import Module, recurrent_data

_no_shortcuts = refuse_shortcuts(
    "PyTorch's built-in LSTM",
    "Plain torch operations on the module's parameters are all this exercise needs; remove these.",
    "LSTM",
)
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
PARAMS = [Arg("weight_ih_l0", "4H, D"), Arg("weight_hh_l0", "4H, H"), Arg("bias_ih_l0", "4H"),
          Arg("bias_hh_l0", "4H")]  # fmt: skip


def _builtin(D, H, batch_first=False):
    return torch.nn.LSTM(D, H, batch_first=batch_first)


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


def _candidates(sd, inputs, options):
    """[(hint, {output: value})]: what typical wrong modules return on this case."""
    batch_first = bool(options.get("batch_first", False))
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
    return [(hint, {name: v}) for name, found in out.items() for hint, v in found]


MODULE = Module(
    "LSTM",
    lambda D, H, batch_first=False: _builtin(D, H, batch_first),
    data=recurrent_data(PARAMS, states=("h_0", "c_0")),
    init_args=lambda c: (
        (c.sizes["D"], c.sizes["H"]) + ((True,) if c.sizes.get("batch_first") else ())
    ),
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


test_parameters = MODULE.parameters_test(Case(100, label="LSTM(3, 5)", N=2, T=4, D=3, H=5))
test_initialisation = MODULE.uniform_init_test(
    Case(101, label="LSTM(3, 16): every parameter from U(-0.25, 0.25)", N=2, T=2, D=3, H=16)
)
test_values = MODULE.tests(
    [
        _case(102, N=2, T=5, D=3, H=4),
        _case(103, N=3, T=4, D=2, H=3, batch_first=True),
        _case(104, N=2, T=4, D=3, H=3, with_hx=False),
        _case(105, N=1, T=1, D=2, H=3),
        _case(106, N=3, T=4, D=2, H=1, batch_first=True),
        _case(107, N=2, T=3, D=9, H=2),
        _case(108, N=2, T=20, D=2, H=3, batch_first=True, with_hx=False),
    ]
)
# the class has to work first; then its code must not name PyTorch's own LSTM kernels
test_written_by_hand = MODULE.builtin_test(
    _case(102, N=2, T=5, D=3, H=4),
    BUILTIN_RNN_NAMES,
    "write the gate equations yourself with torch operations on the module's parameters, not "
    "PyTorch's built-in LSTM.",
)
