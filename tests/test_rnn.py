"""solutions.rnn vs torch.nn.RNN and RNNCell (copied weights, float64) and centred differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions import rnn
from solutions._checks import ShapeError
from solutions.convert import numpy_params_from_torch
from tests.util import SHAPES, check_backward, randn

torch.set_default_dtype(torch.float64)


def _torch_rnn(D, H, seed, cell=False):
    torch.manual_seed(seed)
    m = (torch.nn.RNNCell if cell else torch.nn.RNN)(D, H, nonlinearity="tanh").double()
    return m, numpy_params_from_torch(m)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_h0", [False, True])
def test_sequence_forward_and_backward_match_torch(N, T, D, H, zero_h0):
    rng = np.random.default_rng(N * 1000 + T * 100 + D * 10 + H)
    m, (Wx, Wh, b) = _torch_rnn(D, H, seed=T)
    x = randn(rng, N, T, D)
    h0 = np.zeros((N, H)) if zero_h0 else randn(rng, N, H)

    h, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)

    xt = torch.tensor(x.transpose(1, 0, 2), requires_grad=True)  # (T, N, D): PyTorch's default
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, hn = m(xt, h0t)
    np.testing.assert_allclose(h, out.detach().numpy().transpose(1, 0, 2), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h[:, -1], hn[0].detach().numpy(), rtol=0, atol=1e-10)

    dh = randn(rng, N, T, H)
    dx, dh0, dWx, dWh, db = rnn.rnn_backward(dh, cache)
    out.backward(torch.tensor(dh.transpose(1, 0, 2)))
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(1, 0, 2), atol=1e-10)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), atol=1e-10)
    np.testing.assert_allclose(dWx, m.weight_ih_l0.grad.numpy().T, atol=1e-10)
    np.testing.assert_allclose(dWh, m.weight_hh_l0.grad.numpy().T, atol=1e-10)
    np.testing.assert_allclose(db, m.bias_ih_l0.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(db, m.bias_hh_l0.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("N,T,D,H", SHAPES[:4])
def test_step_matches_rnncell(N, T, D, H):
    rng = np.random.default_rng(7)
    m, (Wx, Wh, b) = _torch_rnn(D, H, seed=1, cell=True)
    x, h_prev = randn(rng, N, D), randn(rng, N, H)
    h, _ = rnn.rnn_step_forward(x, h_prev, Wx, Wh, b)
    ref = m(torch.tensor(x), torch.tensor(h_prev)).detach().numpy()
    np.testing.assert_allclose(h, ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_step_backward_centred_differences(N, T, D, H):
    rng = np.random.default_rng(3)
    args = [randn(rng, N, D), randn(rng, N, H), randn(rng, D, H), randn(rng, H, H), randn(rng, H)]
    check_backward(
        rnn.rnn_step_forward, rnn.rnn_step_backward, args, ["x", "h_prev", "Wx", "Wh", "b"], rng
    )


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_sequence_backward_centred_differences(N, T, D, H):
    rng = np.random.default_rng(4)
    args = [
        randn(rng, N, T, D),
        randn(rng, N, H),
        randn(rng, D, H, scale=0.5),
        randn(rng, H, H, scale=0.5),
        randn(rng, H),
    ]
    check_backward(rnn.rnn_forward, rnn.rnn_backward, args, ["x", "h0", "Wx", "Wh", "b"], rng)


def test_tiny_hand_computed_case():
    # D = H = 1: h1 = tanh(1*0.5 + 0*2 + 0) = tanh(0.5); h2 = tanh(-1*0.5 + h1*2 + 0)
    x = np.array([[[1.0], [-1.0]]])
    h, _ = rnn.rnn_forward(x, np.zeros((1, 1)), np.array([[0.5]]), np.array([[2.0]]), np.zeros(1))
    h1 = np.tanh(0.5)
    np.testing.assert_allclose(h[0, :, 0], [h1, np.tanh(-0.5 + 2 * h1)], rtol=1e-15)


@pytest.mark.parametrize(
    "args,match",
    [
        (((2, 3), (2, 4), (3, 4), (4, 4), (5,)), r"b has shape \(5,\), expected \(H\) = \(4,\)"),
        (((2, 3), (2, 4), (4, 4), (4, 4), (4,)), r"Wx has shape \(4, 4\), expected \(D, H\)"),
        (((2, 3), (3, 4), (3, 4), (4, 4), (4,)), r"h_prev has shape \(3, 4\), expected \(N, H\)"),
        (
            ((3,), (2, 4), (3, 4), (4, 4), (4,)),
            r"x is 1-d with shape \(3,\), expected 2-d \(N, D\)",
        ),
    ],
)
def test_wrong_shapes_name_the_argument(args, match):
    arrays = [np.zeros(s) for s in args]
    with pytest.raises(ShapeError, match=match):
        rnn.rnn_step_forward(*arrays)


def test_wrong_dtype_and_type_are_explained():
    ok = [np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4)]
    bad = list(ok)
    bad[0] = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(TypeError, match=r"x has dtype int64, expected a floating-point array"):
        rnn.rnn_step_forward(*bad)
    bad[0] = [[0.0] * 3] * 2
    with pytest.raises(TypeError, match=r"x is a list, expected a numpy array"):
        rnn.rnn_step_forward(*bad)
    with pytest.raises(ShapeError, match=r"x has shape \(2, 0, 3\) with an empty dimension"):
        rnn.rnn_forward(np.zeros((2, 0, 3)), *ok[1:])


def test_backward_rejects_a_foreign_cache():
    with pytest.raises(TypeError, match="cache must be the dict returned by rnn_forward"):
        rnn.rnn_backward(np.zeros((1, 1, 1)), cache=("not", "a", "cache"))
