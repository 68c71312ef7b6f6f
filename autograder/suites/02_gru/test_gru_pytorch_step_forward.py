"""Hidden tests of gru_pytorch_step_forward: the GRU step in PyTorch's form (torch.nn.GRUCell).

r = sigmoid(x Wx_r + bx_r + h_prev Wh_r + bh_r), z = sigmoid(x Wx_z + bx_z + h_prev Wh_z + bh_z),
n = tanh(x Wx_n + bx_n + r * (h_prev Wh_n + bh_n)), h = (1 - z) * n + z * h_prev; blocks r, z, n
in Wx = weight_ih.T (D, 3H), Wh = weight_hh.T (H, 3H), bx = bias_ih, bh = bias_hh. Compared with
solutions.gru and, in one test, with torch.nn.GRUCell itself.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.suites.cells.gru import PYTORCH_STEP
from autograder.suites.kit import (
    BUILTIN_RNN_NAMES,
    Case,
    case,
    expect_match,
    named,
    put,
    refuse_shortcuts,
)

_no_shortcuts = refuse_shortcuts(
    "PyTorch's built-in GRU",
    "numpy is all this exercise needs; remove these.",
    "gru_pytorch_step_forward",
)
STRONG = dict.fromkeys(("Wx", "Wh", "bx", "bh"), 1.5)


def _grucell(x, h_prev, Wx, Wh, bx, bh):
    """torch.nn.GRUCell in float64 with these weights, applied to (x, h_prev)."""
    cell = torch.nn.GRUCell(x.shape[1], h_prev.shape[1]).double()
    with torch.no_grad():
        for p, value in zip((cell.weight_ih, cell.weight_hh), (Wx.T, Wh.T), strict=True):
            p.copy_(torch.from_numpy(np.ascontiguousarray(value)))
        cell.bias_ih.copy_(torch.from_numpy(bx))
        cell.bias_hh.copy_(torch.from_numpy(bh))
        return cell(torch.from_numpy(x), torch.from_numpy(h_prev)).numpy()


@named("PyTorch-form step forward, equals torch.nn.GRUCell")
def test_equals_torch_grucell(student):
    args = PYTORCH_STEP.arguments(Case(161, N=3, D=4, H=5))
    with case("N=3, D=4, H=5, against torch.nn.GRUCell"):
        h = PYTORCH_STEP.run(student, args)["h"]
        cands = PYTORCH_STEP.candidates(args)["h"]
        expect_match("h", h, _grucell(*args), cands, PYTORCH_STEP.hints["h"],
                     PYTORCH_STEP.shape_hints["h"])  # fmt: skip


test_values = PYTORCH_STEP.tests(
    [
        Case(160, N=2, D=3, H=4),
        # update gates pushed towards 0 or 1 unit by unit (in bias_ih), so the directions differ
        Case(162, "z near 0 and near 1", N=3, D=2, H=4,
             edit=put("bx", slice(4, 8), [3.0, -3.0, 2.0, -2.0])),
        # reset gates near 1, near 0 and in between, strong recurrent weights
        Case(163, "strong reset gates", N=2, D=3, H=3, scale=STRONG,
             edit=put("bx", slice(0, 3), [3.0, -3.0, 0.0])),
        # h_prev = 0: n = tanh(x Wx_n + bx_n + r * bh_n), so bh_n must sit inside the reset
        Case(164, "h_prev = 0", N=3, D=2, H=3, zero_states=True, scale=STRONG,
             edit=put("bx", slice(0, 3), [-2.0, 0.0, 2.0])),
        # reset gates mostly open, update gates mostly closed: swapping r and z changes everything
        Case(165, "r near 1 and z near 0", N=2, D=3, H=3,
             edit=[put("bx", slice(0, 3), 2.5), put("bx", slice(3, 6), -2.5)]),
        Case(166, N=1, D=3, H=1),
        Case(167, N=2, D=4, H=4),
    ]
)  # fmt: skip
test_inputs_not_modified = PYTORCH_STEP.unchanged_test(Case(168, N=2, D=3, H=4))
# it has to work first; then it must not get there through PyTorch's own GRU
test_written_by_hand = PYTORCH_STEP.builtin_test(
    Case(169, N=2, D=2, H=3),
    BUILTIN_RNN_NAMES,
    "it must compute the gates itself with numpy, not call PyTorch's built-in GRU.",
)
