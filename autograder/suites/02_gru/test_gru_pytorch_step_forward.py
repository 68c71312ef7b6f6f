"""Hidden tests of gru_pytorch_step_forward: the GRU step in PyTorch's form (torch.nn.GRUCell).

r = sigmoid(x Wx_r + bx_r + h_prev Wh_r + bh_r), z = sigmoid(x Wx_z + bx_z + h_prev Wh_z + bh_z),
n = tanh(x Wx_n + bx_n + r * (h_prev Wh_n + bh_n)), h = (1 - z) * n + z * h_prev; blocks r, z, n
in Wx = weight_ih.T (D, 3H), Wh = weight_hh.T (H, 3H), bx = bias_ih, bh = bias_hh. Compared with
solutions.gru and, in one test, with torch.nn.GRUCell itself.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest
import torch

from autograder import shortcuts
from solutions.gru import gru_pytorch_step_forward as reference

# "02_gru" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.02_gru._helpers")
call, case, copies, expect_match = _h.call, _h.case, _h.copies, _h.expect_match
expect_unchanged, inputs, unpack = _h.expect_unchanged, _h.inputs, _h.unpack
mistakes = _h.pytorch_step_mistakes

NAMES = ("x", "h_prev", "Wx", "Wh", "bx", "bh")
HINT = (
    "Check: r and z are sigmoids of x @ Wx + bx + h_prev @ Wh + bh (their blocks), "
    "n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n)), h = (1 - z) * n + z * h_prev."
)
SHAPE_HINT = "h is the new hidden state: one row per example, H columns, (N, H)."
BUILTIN_NAMES = {"GRUCell", "GRU", "gru_cell", "gru", "_VF"}


@pytest.fixture(autouse=True)
def _no_way_around_the_check(student):
    """Every test of this exercise fails if the submitted code holds a means of getting round
    the check that PyTorch's built-in GRU is not called (see autograder/shortcuts.py)."""
    found = shortcuts.findings(student.sources())
    if found:
        raise AssertionError(
            "your code uses what could get round the check that it does not call PyTorch's "
            "built-in GRU ("
            + "; ".join(found[:5])
            + "). numpy is all this exercise needs; remove these."
        )


def _args(seed, N, D, H, zero_h_prev=False, scale=1.0):
    shapes = [(N, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,)]
    x, h_prev, Wx, Wh, bx, bh = inputs(seed, shapes, [1, 1, scale, scale, scale, scale])
    return [x, np.zeros((N, H)) if zero_h_prev else h_prev, Wx, Wh, bx, bh]


def _grucell(x, h_prev, Wx, Wh, bx, bh):
    """torch.nn.GRUCell in float64 with these weights, applied to (x, h_prev)."""
    cell = torch.nn.GRUCell(x.shape[1], h_prev.shape[1]).double()
    with torch.no_grad():
        for p, value in zip((cell.weight_ih, cell.weight_hh), (Wx.T, Wh.T), strict=True):
            p.copy_(torch.from_numpy(np.ascontiguousarray(value)))
        cell.bias_ih.copy_(torch.from_numpy(bx))
        cell.bias_hh.copy_(torch.from_numpy(bh))
        return cell(torch.from_numpy(x), torch.from_numpy(h_prev)).numpy()


def _check(student, args, description, expected=None):
    step = student("gru_pytorch_step_forward")
    with case(description):
        out = call(step, "gru_pytorch_step_forward", *args)
        h, _cache = unpack(out, ("h", "cache"), "gru_pytorch_step_forward")
        expected = reference(*args)[0] if expected is None else expected
        expect_match("h", h, expected, mistakes(*args), hint=HINT, shape_hint=SHAPE_HINT)


def test_returns_new_state_and_cache(student):
    _check(student, _args(160, N=2, D=3, H=4), "N=2, D=3, H=4")


def test_equals_torch_grucell(student):
    args = _args(161, N=3, D=4, H=5)
    _check(student, args, "N=3, D=4, H=5, against torch.nn.GRUCell", expected=_grucell(*args))


def test_update_gate_weighs_the_old_state(student):
    # update gates pushed towards 0 or 1 unit by unit (in bias_ih), so the directions differ
    args = _args(162, N=3, D=2, H=4)
    args[4][4:8] = [3.0, -3.0, 2.0, -2.0]
    _check(student, args, "N=3, D=2, H=4, z near 0 and near 1")


def test_reset_acts_after_the_matrix_product(student):
    # reset gates near 1, near 0 and in between, strong recurrent weights
    args = _args(163, N=2, D=3, H=3, scale=1.5)
    args[4][0:3] = [3.0, -3.0, 0.0]
    _check(student, args, "N=2, D=3, H=3, strong reset gates")


def test_reset_scales_the_recurrent_bias(student):
    # h_prev = 0: n = tanh(x Wx_n + bx_n + r * bh_n), so bh_n must sit inside the reset
    args = _args(164, N=3, D=2, H=3, zero_h_prev=True, scale=1.5)
    args[4][0:3] = [-2.0, 0.0, 2.0]
    _check(student, args, "N=3, D=2, H=3, h_prev = 0")


def test_gate_order_r_z_n(student):
    # reset gates mostly open, update gates mostly closed: swapping r and z changes everything
    args = _args(165, N=2, D=3, H=3)
    args[4][0:3], args[4][3:6] = 2.5, -2.5
    _check(student, args, "N=2, D=3, H=3, r near 1 and z near 0")


def test_N_equals_1_and_H_equals_1(student):
    _check(student, _args(166, N=1, D=3, H=1), "N=1, D=3, H=1")


def test_D_equals_H(student):
    _check(student, _args(167, N=2, D=4, H=4), "N=2, D=4, H=4")


def test_inputs_not_modified(student):
    args = _args(168, N=2, D=3, H=4)
    before = copies(args)
    step = student("gru_pytorch_step_forward")
    with case("N=2, D=3, H=4"):
        call(step, "gru_pytorch_step_forward", *args, copy=False)
        expect_unchanged("gru_pytorch_step_forward", NAMES, before, args)


def test_writes_the_equations_instead_of_calling_torch(student):
    # it has to work first; then it must not get there through PyTorch's own GRU
    _check(student, _args(169, N=2, D=2, H=3), "N=2, D=2, H=3")
    used = student.names_used("gru_pytorch_step_forward") & BUILTIN_NAMES
    if used:
        raise AssertionError(
            f"gru_pytorch_step_forward uses {', '.join(sorted(used))}: it must compute the gates "
            "itself with numpy, not call PyTorch's built-in GRU."
        )
