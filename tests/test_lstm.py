"""solutions.lstm against torch.nn.LSTM / LSTMCell (copied weights, float64), centred differences,
a hand-computed case and the cell-state conveyor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions import lstm, peephole
from solutions._checks import ShapeError
from solutions.convert import numpy_params_from_torch
from tests.util import SHAPES, check_backward, randn

torch.set_default_dtype(torch.float64)


def _torch_lstm(D, H, seed, cell=False):
    torch.manual_seed(seed)
    m = (torch.nn.LSTMCell if cell else torch.nn.LSTM)(D, H).double()
    return m, numpy_params_from_torch(m)


def _h_only(forward):
    """forward(*args) -> (h, cache): the sequence forward seen by a loss that ignores c."""

    def f(*args):
        h, _, cache = forward(*args)
        return h, cache

    return f


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_state", [False, True])
@pytest.mark.parametrize("grad_on_cT", [False, True])
def test_sequence_forward_and_backward_match_torch(N, T, D, H, zero_state, grad_on_cT):
    """lstm_forward/backward equal nn.LSTM's outputs and autograd gradients, dc=None or on c_T."""
    rng = np.random.default_rng(N * 1000 + T * 100 + D * 10 + H)
    m, (Wx, Wh, b) = _torch_lstm(D, H, seed=T)
    x = randn(rng, N, T, D)
    if zero_state:
        h0, c0 = np.zeros((N, H)), np.zeros((N, H))
    else:
        h0, c0 = randn(rng, N, H), randn(rng, N, H)

    h, c, cache = lstm.lstm_forward(x, h0, c0, Wx, Wh, b)

    xt = torch.tensor(x.transpose(1, 0, 2), requires_grad=True)  # (T, N, D): PyTorch's default
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    out, (hn, cn) = m(xt, (h0t, c0t))
    np.testing.assert_allclose(h, out.detach().numpy().transpose(1, 0, 2), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h[:, -1], hn[0].detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c[:, -1], cn[0].detach().numpy(), rtol=0, atol=1e-10)

    dh = randn(rng, N, T, H)
    if grad_on_cT:
        dcT = randn(rng, N, H)
        dc = np.zeros((N, T, H))
        dc[:, -1] = dcT
        torch.autograd.backward(
            [out, cn], [torch.tensor(dh.transpose(1, 0, 2)), torch.tensor(dcT[None])]
        )
    else:
        dc = None
        out.backward(torch.tensor(dh.transpose(1, 0, 2)))
    dx, dh0, dc0, dWx, dWh, db = lstm.lstm_backward(dh, dc, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(1, 0, 2), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dc0, c0t.grad[0].numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWx, m.weight_ih_l0.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWh, m.weight_hh_l0.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(db, m.bias_ih_l0.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(db, m.bias_hh_l0.grad.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_state", [False, True])
def test_step_and_all_cell_states_match_lstmcell(N, T, D, H, zero_state):
    """Every h_t and c_t of lstm_forward equals nn.LSTMCell stepped by hand; so does one step."""
    rng = np.random.default_rng(N + T + D + H)
    m, (Wx, Wh, b) = _torch_lstm(D, H, seed=1, cell=True)
    x = randn(rng, N, T, D)
    if zero_state:
        h0, c0 = np.zeros((N, H)), np.zeros((N, H))
    else:
        h0, c0 = randn(rng, N, H), randn(rng, N, H)

    h_step, c_step, _ = lstm.lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    h_ref, c_ref = m(torch.tensor(x[:, 0]), (torch.tensor(h0), torch.tensor(c0)))
    np.testing.assert_allclose(h_step, h_ref.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c_step, c_ref.detach().numpy(), rtol=0, atol=1e-10)

    h, c, _ = lstm.lstm_forward(x, h0, c0, Wx, Wh, b)
    ht, ct = torch.tensor(h0), torch.tensor(c0)
    for t in range(T):
        ht, ct = m(torch.tensor(x[:, t]), (ht, ct))
        np.testing.assert_allclose(h[:, t], ht.detach().numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(c[:, t], ct.detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("N,T,D,H", SHAPES[:4])
def test_step_backward_matches_lstmcell_autograd(N, T, D, H):
    """lstm_step_backward equals autograd through nn.LSTMCell with gradients on both h and c."""
    rng = np.random.default_rng(11)
    m, (Wx, Wh, b) = _torch_lstm(D, H, seed=2, cell=True)
    x, h_prev, c_prev = randn(rng, N, D), randn(rng, N, H), randn(rng, N, H)
    _, _, cache = lstm.lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    dh, dc = randn(rng, N, H), randn(rng, N, H)
    dx, dh_prev, dc_prev, dWx, dWh, db = lstm.lstm_step_backward(dh, dc, cache)

    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev))
    h, c = m(xt, (ht, ct))
    torch.autograd.backward([h, c], [torch.tensor(dh), torch.tensor(dc)])
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dh_prev, ht.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dc_prev, ct.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWx, m.weight_ih.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWh, m.weight_hh.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(db, m.bias_ih.grad.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_step_backward_centred_differences(N, T, D, H):
    """lstm_step_backward (gradients on h and c) agrees with centred differences."""
    rng = np.random.default_rng(3)
    args = [
        randn(rng, N, D),
        randn(rng, N, H),
        randn(rng, N, H),
        randn(rng, D, 4 * H),
        randn(rng, H, 4 * H),
        randn(rng, 4 * H),
    ]
    names = ["x", "h_prev", "c_prev", "Wx", "Wh", "b"]
    check_backward(lstm.lstm_step_forward, lstm.lstm_step_backward, args, names, rng)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("dc_given", [True, False])
def test_sequence_backward_centred_differences(N, T, D, H, dc_given):
    """lstm_backward agrees with centred differences, with dc for every step and with dc=None."""
    rng = np.random.default_rng(4)
    args = [
        randn(rng, N, T, D),
        randn(rng, N, H),
        randn(rng, N, H),
        randn(rng, D, 4 * H, scale=0.5),
        randn(rng, H, 4 * H, scale=0.5),
        randn(rng, 4 * H),
    ]
    names = ["x", "h0", "c0", "Wx", "Wh", "b"]
    if dc_given:
        check_backward(lstm.lstm_forward, lstm.lstm_backward, args, names, rng)
    else:
        backward = lambda dh, cache: lstm.lstm_backward(dh, None, cache)  # noqa: E731
        check_backward(_h_only(lstm.lstm_forward), backward, args, names, rng)


def test_tiny_hand_computed_case():
    """D = H = 1, one step: each gate computed by hand."""
    # Blocks i, f, g, o. x = 1, h_prev = 0.5, c_prev = 2.
    #   i = sigmoid(1*1   + 0.5*0  + 0)   = sigmoid(1)
    #   f = sigmoid(1*0   + 0.5*2  + 1)   = sigmoid(2)
    #   g = tanh   (1*0.5 + 0.5*0  + 0)   = tanh(0.5)
    #   o = sigmoid(1*0   + 0.5*0  - 1)   = sigmoid(-1)
    Wx = np.array([[1.0, 0.0, 0.5, 0.0]])
    Wh = np.array([[0.0, 2.0, 0.0, 0.0]])
    b = np.array([0.0, 1.0, 0.0, -1.0])
    h, c, _ = lstm.lstm_step_forward(
        np.array([[1.0]]), np.array([[0.5]]), np.array([[2.0]]), Wx, Wh, b
    )

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    c_expected = sigmoid(2.0) * 2.0 + sigmoid(1.0) * np.tanh(0.5)
    h_expected = sigmoid(-1.0) * np.tanh(c_expected)
    np.testing.assert_allclose(c, [[c_expected]], rtol=1e-14)
    np.testing.assert_allclose(h, [[h_expected]], rtol=1e-14)


def test_cell_state_is_a_conveyor():
    """f = 1 and i = 0 (biases +50 and -50): c_T = c0 for T = 200, and dc0 = dc_T exactly."""
    rng = np.random.default_rng(5)
    N, T, D, H = 3, 200, 2, 4
    Wx, Wh = randn(rng, D, 4 * H, scale=0.1), randn(rng, H, 4 * H, scale=0.1)
    b = randn(rng, 4 * H, scale=0.1)
    b[0:H] = -50.0  # input gate closed
    b[H : 2 * H] = 50.0  # forget gate open: keep everything
    x, h0, c0 = randn(rng, N, T, D), randn(rng, N, H), randn(rng, N, H)

    h, c, cache = lstm.lstm_forward(x, h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(c[:, -1], c0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c[:, T // 2], c0, rtol=0, atol=1e-12)

    dcT = randn(rng, N, H)
    dc = np.zeros((N, T, H))
    dc[:, -1] = dcT
    _, _, dc0, _, _, _ = lstm.lstm_backward(np.zeros((N, T, H)), dc, cache)
    np.testing.assert_allclose(dc0, dcT, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "shapes,match",
    [
        (
            ((2, 3), (2, 4), (2, 4), (3, 12), (4, 16), (16,)),
            r"Wx has shape \(3, 12\), expected \(D, 4H\) = \(3, 16\).*i, f, g, o",
        ),
        (
            ((2, 3), (2, 4), (2, 4), (3, 16), (4, 12), (16,)),
            r"Wh has shape \(4, 12\), expected \(H, 4H\) = \(4, 16\).*i, f, g, o",
        ),
        (
            ((2, 3), (2, 4), (2, 4), (3, 16), (4, 16), (4,)),
            r"b has shape \(4,\), expected \(4H\) = \(16,\).*i, f, g, o",
        ),
        (
            ((2, 3), (2, 4), (2, 5), (3, 16), (4, 16), (16,)),
            r"c_prev has shape \(2, 5\), expected \(N, H\) = \(2, 4\)",
        ),
        (
            ((2, 3), (2, 4), (4,), (3, 16), (4, 16), (16,)),
            r"c_prev is 1-d with shape \(4,\), expected 2-d \(N, H\)",
        ),
    ],
)
def test_wrong_shapes_name_the_argument(shapes, match):
    """A wrong shape raises ShapeError naming the argument and the expected (gate-order) shape."""
    with pytest.raises(ShapeError, match=match):
        lstm.lstm_step_forward(*[np.zeros(s) for s in shapes])


def test_sequence_shape_errors_name_the_argument():
    """lstm_forward checks c0; lstm_backward checks dh and dc against the cache."""
    N, T, D, H = 2, 3, 3, 4
    ok = [np.zeros((N, T, D)), np.zeros((N, H)), np.zeros((N, H))]
    params = [np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)]
    with pytest.raises(ShapeError, match=r"c0 has shape \(2, 5\), expected \(N, H\)"):
        lstm.lstm_forward(ok[0], ok[1], np.zeros((N, 5)), *params)
    _, _, cache = lstm.lstm_forward(*ok, *params)
    with pytest.raises(ShapeError, match=r"dc has shape \(2, 2, 4\), expected \(N, T, H\)"):
        lstm.lstm_backward(np.zeros((N, T, H)), np.zeros((N, 2, H)), cache)
    with pytest.raises(ShapeError, match=r"dh has shape \(2, 3, 5\), expected \(N, T, H\)"):
        lstm.lstm_backward(np.zeros((N, T, 5)), None, cache)


def test_wrong_dtype_and_type_are_explained():
    """Integer arrays and lists raise TypeError naming the argument."""
    ok = [np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4))]
    ok += [np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)]
    bad = list(ok)
    bad[2] = np.zeros((2, 4), dtype=np.int64)
    with pytest.raises(TypeError, match=r"c_prev has dtype int64, expected a floating-point"):
        lstm.lstm_step_forward(*bad)
    bad[2] = [[0.0] * 4] * 2
    with pytest.raises(TypeError, match=r"c_prev is a list, expected a numpy array"):
        lstm.lstm_step_forward(*bad)


def test_backward_rejects_a_foreign_cache():
    """A cache from another function is refused with a message naming the right one."""
    with pytest.raises(TypeError, match="cache must be the dict returned by lstm_forward"):
        lstm.lstm_backward(np.zeros((1, 1, 1)), None, cache=("not", "a", "cache"))
    _, _, seq_cache = lstm.lstm_forward(
        np.zeros((1, 1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), *_zero_params(1, 1)
    )
    with pytest.raises(TypeError, match="cache must be the dict returned by lstm_step_forward"):
        lstm.lstm_step_backward(np.zeros((1, 1)), np.zeros((1, 1)), seq_cache)


def _zero_params(D, H):
    return np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)


def test_backward_rejects_the_cache_of_another_lstm_family_cell():
    """A peephole cache has every key an LSTM cache has; it is still refused, step and sequence."""
    N, T, D, H = 1, 2, 1, 1
    zeros = np.zeros(H)
    _, _, step_cache = peephole.peephole_step_forward(
        np.zeros((N, D)),
        np.zeros((N, H)),
        np.zeros((N, H)),
        *_zero_params(D, H),
        zeros,
        zeros,
        zeros,
    )
    with pytest.raises(TypeError, match=r"returned by lstm_step_forward \(this one has the extra"):
        lstm.lstm_step_backward(np.zeros((N, H)), np.zeros((N, H)), step_cache)
    _, _, seq_cache = peephole.peephole_forward(
        np.zeros((N, T, D)),
        np.zeros((N, H)),
        np.zeros((N, H)),
        *_zero_params(D, H),
        zeros,
        zeros,
        zeros,
    )
    with pytest.raises(TypeError, match=r"returned by lstm_forward \(this one has the extra"):
        lstm.lstm_backward(np.zeros((N, T, H)), None, seq_cache)
