"""lstm_dc_total: the total gradient into the cell state, against autograd and by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions.lstm import lstm_dc_total, lstm_step_backward, lstm_step_forward


def test_equals_autograd_through_both_uses_of_c():
    rng = np.random.default_rng(0)
    dh, dc, o, c = (rng.standard_normal((3, 4)) for _ in range(4))
    c_t = torch.tensor(c, requires_grad=True)
    h = torch.tensor(o) * torch.tanh(c_t)
    (torch.sum(torch.tensor(dh) * h) + torch.sum(torch.tensor(dc) * c_t)).backward()
    np.testing.assert_allclose(lstm_dc_total(dh, dc, o, c), c_t.grad.numpy(), rtol=0, atol=1e-14)


def test_hand_cases():
    one = np.ones((1, 1))
    assert lstm_dc_total(0 * one, 0.7 * one, one, one)[0, 0] == 0.7  # no gradient through h
    # c = 0: tanh'(0) = 1, so dc_total = dc + dh * o
    assert lstm_dc_total(2 * one, 0.5 * one, 0.25 * one, 0 * one)[0, 0] == pytest.approx(1.0)


def test_step_backward_uses_it():
    rng = np.random.default_rng(1)
    args = [rng.standard_normal(s) for s in [(2, 3), (2, 4), (2, 4), (3, 16), (4, 16), (16,)]]
    _, _, cache = lstm_step_forward(*args)
    dh, dc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    dc_prev = lstm_step_backward(dh, dc, cache)[2]
    expected = lstm_dc_total(dh, dc, cache["o"], cache["c"]) * cache["f"]
    np.testing.assert_allclose(dc_prev, expected, rtol=0, atol=1e-14)


def test_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match="o"):
        lstm_dc_total(np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2)), np.ones((2, 3)))
