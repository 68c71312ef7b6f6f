"""solutions.peephole against a small torch re-implementation (autograd), the plain LSTM when the
peepholes are zero, centred differences and a hand-computed case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions import lstm, peephole
from solutions._checks import ShapeError
from solutions.convert import numpy_params_from_torch
from tests.util import SHAPES, check_backward, randn

torch.set_default_dtype(torch.float64)

NAMES = ["x", "h0", "c0", "Wx", "Wh", "b", "p_i", "p_f", "p_o"]


def torch_peephole(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o):
    """Reference peephole LSTM in torch, batch-first: x (N, T, D) -> h, c (N, T, H).

    Written gate by gate with separate weight slices (Gers & Schmidhuber 2000, diagonal
    peepholes; c_{t-1} into i and f, c_t into o).
    """
    H = h0.shape[1]

    def pre(gate, x_t, h_prev):  # pre-activation of one gate, without the peephole term
        j = "ifgo".index(gate)
        cols = slice(j * H, (j + 1) * H)
        return x_t @ Wx[:, cols] + h_prev @ Wh[:, cols] + b[cols]

    h, c, hs, cs = h0, c0, [], []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        i = torch.sigmoid(pre("i", x_t, h) + p_i * c)
        f = torch.sigmoid(pre("f", x_t, h) + p_f * c)
        g = torch.tanh(pre("g", x_t, h))
        c = f * c + i * g
        o = torch.sigmoid(pre("o", x_t, h) + p_o * c)
        h = o * torch.tanh(c)
        hs.append(h)
        cs.append(c)
    return torch.stack(hs, dim=1), torch.stack(cs, dim=1)


def _random_args(rng, N, T, D, H, zero_state=False, scale=0.5):
    if zero_state:
        h0, c0 = np.zeros((N, H)), np.zeros((N, H))
    else:
        h0, c0 = randn(rng, N, H), randn(rng, N, H)
    return [
        randn(rng, N, T, D),
        h0,
        c0,
        randn(rng, D, 4 * H, scale=scale),
        randn(rng, H, 4 * H, scale=scale),
        randn(rng, 4 * H),
        randn(rng, H),
        randn(rng, H),
        randn(rng, H),
    ]


def _torch_values_and_grads(args, dh, dc):
    """Outputs of torch_peephole and the autograd gradients of sum(h*dh) + sum(c*dc).

    ``dc`` may be None (the loss reads h only)."""
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    h, c = torch_peephole(*ts)
    if dc is None:
        h.backward(torch.tensor(dh))
    else:
        torch.autograd.backward([h, c], [torch.tensor(dh), torch.tensor(dc)])
    return h.detach().numpy(), c.detach().numpy(), [t.grad.numpy() for t in ts]


def _h_only(forward):
    def f(*args):
        h, _, cache = forward(*args)
        return h, cache

    return f


def test_torch_reference_with_zero_peepholes_is_nn_lstm():
    """Check of the reference itself: with p = 0 it equals torch.nn.LSTM on copied weights."""
    torch.manual_seed(0)
    m = torch.nn.LSTM(3, 4, batch_first=True).double()
    Wx, Wh, b = numpy_params_from_torch(m)
    rng = np.random.default_rng(0)
    x, h0, c0 = randn(rng, 2, 5, 3), randn(rng, 2, 4), randn(rng, 2, 4)
    zeros = [torch.zeros(4)] * 3
    h, c = torch_peephole(*map(torch.tensor, (x, h0, c0, Wx, Wh, b)), *zeros)
    out, (_, cn) = m(torch.tensor(x), (torch.tensor(h0[None]), torch.tensor(c0[None])))
    np.testing.assert_allclose(h.numpy(), out.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c[:, -1].numpy(), cn[0].detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_state", [False, True])
@pytest.mark.parametrize("dc_given", [True, False])
def test_sequence_matches_torch_autograd(N, T, D, H, zero_state, dc_given):
    """peephole_forward/backward equal the torch reference and its autograd gradients."""
    rng = np.random.default_rng(N * 1000 + T * 100 + D * 10 + H)
    args = _random_args(rng, N, T, D, H, zero_state, scale=1.0)
    dh = randn(rng, N, T, H)
    dc = randn(rng, N, T, H) if dc_given else None

    h, c, cache = peephole.peephole_forward(*args)
    grads = peephole.peephole_backward(dh, dc, cache)
    h_ref, c_ref, grads_ref = _torch_values_and_grads(args, dh, dc)

    np.testing.assert_allclose(h, h_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-10)
    assert len(grads) == len(NAMES)
    for name, g, g_ref in zip(NAMES, grads, grads_ref, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-10, err_msg=f"d{name}")


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_step_matches_torch_autograd(N, T, D, H):
    """One step (forward and backward, gradients on h and c) equals the torch reference."""
    rng = np.random.default_rng(7)
    args = _random_args(rng, N, 1, D, H, scale=1.0)
    args[0] = args[0][:, 0]  # (N, D)
    dh, dc = randn(rng, N, H), randn(rng, N, H)

    h, c, cache = peephole.peephole_step_forward(*args)
    grads = peephole.peephole_step_backward(dh, dc, cache)
    seq_args = [args[0][:, None]] + args[1:]
    h_ref, c_ref, grads_ref = _torch_values_and_grads(seq_args, dh[:, None], dc[:, None])
    grads_ref[0] = grads_ref[0][:, 0]

    np.testing.assert_allclose(h, h_ref[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(c, c_ref[:, 0], rtol=0, atol=1e-10)
    names = ["x", "h_prev", "c_prev", "Wx", "Wh", "b", "p_i", "p_f", "p_o"]
    for name, g, g_ref in zip(names, grads, grads_ref, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-10, err_msg=f"d{name}")


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_step_backward_centred_differences(N, T, D, H):
    """peephole_step_backward (gradients on h and c) agrees with centred differences."""
    rng = np.random.default_rng(3)
    args = _random_args(rng, N, 1, D, H, scale=1.0)
    args[0] = args[0][:, 0]
    names = ["x", "h_prev", "c_prev", "Wx", "Wh", "b", "p_i", "p_f", "p_o"]
    check_backward(
        peephole.peephole_step_forward, peephole.peephole_step_backward, args, names, rng
    )


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("dc_given", [True, False])
def test_sequence_backward_centred_differences(N, T, D, H, dc_given):
    """peephole_backward agrees with centred differences, with dc for every step and dc=None."""
    rng = np.random.default_rng(4)
    args = _random_args(rng, N, T, D, H)
    if dc_given:
        check_backward(peephole.peephole_forward, peephole.peephole_backward, args, NAMES, rng)
    else:
        backward = lambda dh, cache: peephole.peephole_backward(dh, None, cache)  # noqa: E731
        check_backward(_h_only(peephole.peephole_forward), backward, args, NAMES, rng)


@pytest.mark.parametrize("N,T,D,H", SHAPES[1:4])
def test_zero_peepholes_equal_the_plain_lstm(N, T, D, H):
    """With p_i = p_f = p_o = 0 the outputs and shared gradients are those of solutions.lstm."""
    rng = np.random.default_rng(8)
    args = _random_args(rng, N, T, D, H)
    args[6:] = [np.zeros(H)] * 3
    dh, dc = randn(rng, N, T, H), randn(rng, N, T, H)

    h, c, cache = peephole.peephole_forward(*args)
    h_l, c_l, cache_l = lstm.lstm_forward(*args[:6])
    np.testing.assert_allclose(h, h_l, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c, c_l, rtol=0, atol=1e-14)
    grads = peephole.peephole_backward(dh, dc, cache)
    grads_l = lstm.lstm_backward(dh, dc, cache_l)
    for name, g, g_l in zip(NAMES[:6], grads[:6], grads_l, strict=True):
        np.testing.assert_allclose(g, g_l, rtol=0, atol=1e-12, err_msg=f"d{name}")


def test_tiny_hand_computed_case():
    """D = H = 1, two steps; each gate computed by hand. o must see the new cell c_t."""

    # Blocks i, f, g, o. Peepholes p_i = 0.5, p_f = -1, p_o = 2. h0 = 0, c0 = 1.
    # Step 1, x = 1 (h0 = 0, so Wh does not matter yet):
    #   i1 = sigmoid(0.5*1 + 0.5*c0 + 0)  = sigmoid(1)
    #   f1 = sigmoid(0*1   - 1*c0   + 1)  = sigmoid(0) = 0.5
    #   g1 = tanh   (1*1             + 0)  = tanh(1)
    #   c1 = 0.5*1 + sigmoid(1)*tanh(1)
    #   o1 = sigmoid(0*1 + 2*c1 - 1)        (the NEW cell c1, not c0)
    #   h1 = o1 * tanh(c1)
    # Step 2, x = 0, Wh = [0, 0, 0, 1] (only the o block reads h):
    #   i2 = sigmoid(0.5*c1), f2 = sigmoid(-c1 + 1), g2 = tanh(0) = 0
    #   c2 = f2*c1 + i2*0,  o2 = sigmoid(h1 + 2*c2 - 1),  h2 = o2 * tanh(c2)
    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    Wx = np.array([[0.5, 0.0, 1.0, 0.0]])
    Wh = np.array([[0.0, 0.0, 0.0, 1.0]])
    b = np.array([0.0, 1.0, 0.0, -1.0])
    p_i, p_f, p_o = np.array([0.5]), np.array([-1.0]), np.array([2.0])
    x = np.array([[[1.0], [0.0]]])
    h, c, _ = peephole.peephole_forward(
        x, np.zeros((1, 1)), np.ones((1, 1)), Wx, Wh, b, p_i, p_f, p_o
    )

    c1 = 0.5 * 1.0 + sigmoid(1.0) * np.tanh(1.0)
    h1 = sigmoid(2 * c1 - 1) * np.tanh(c1)
    c2 = sigmoid(-c1 + 1) * c1
    h2 = sigmoid(h1 + 2 * c2 - 1) * np.tanh(c2)
    np.testing.assert_allclose(c[0, :, 0], [c1, c2], rtol=1e-14)
    np.testing.assert_allclose(h[0, :, 0], [h1, h2], rtol=1e-14)
    # The usual mistake, o from c_prev: o1 would be sigmoid(2*1 - 1); make sure that differs.
    assert abs(h[0, 0, 0] - sigmoid(1.0) * np.tanh(c1)) > 1e-3


def test_cell_state_is_a_conveyor():
    """f = 1 and i = 0 (biases +50 and -50): c_T = c0 for T = 200, and dc0 = dc_T."""
    rng = np.random.default_rng(5)
    N, T, D, H = 3, 200, 2, 4
    args = _random_args(rng, N, T, D, H, scale=0.1)
    args[5][0:H] = -50.0  # input gate closed
    args[5][H : 2 * H] = 50.0  # forget gate open
    h, c, cache = peephole.peephole_forward(*args)
    np.testing.assert_allclose(c[:, -1], args[2], rtol=0, atol=1e-12)

    dcT = randn(rng, N, H)
    dc = np.zeros((N, T, H))
    dc[:, -1] = dcT
    dc0 = peephole.peephole_backward(np.zeros((N, T, H)), dc, cache)[2]
    np.testing.assert_allclose(dc0, dcT, rtol=0, atol=1e-12)


def _ok_step_args(N=2, D=3, H=4):
    return [np.zeros((N, D)), np.zeros((N, H)), np.zeros((N, H))] + [
        np.zeros((D, 4 * H)),
        np.zeros((H, 4 * H)),
        np.zeros(4 * H),
        np.zeros(H),
        np.zeros(H),
        np.zeros(H),
    ]


@pytest.mark.parametrize(
    "index,shape,match",
    [
        (3, (3, 12), r"Wx has shape \(3, 12\), expected \(D, 4H\) = \(3, 16\).*i, f, g, o"),
        (5, (12,), r"b has shape \(12,\), expected \(4H\) = \(16,\).*i, f, g, o"),
        (6, (4, 4), r"p_i is 2-d with shape \(4, 4\), expected 1-d \(H\).*diagonal"),
        (7, (5,), r"p_f has shape \(5,\), expected \(H\) = \(4,\).*diagonal"),
        (8, (4, 1), r"p_o is 2-d with shape \(4, 1\), expected 1-d \(H\)"),
    ],
)
def test_wrong_shapes_name_the_argument(index, shape, match):
    """A wrong shape raises ShapeError naming the argument (peepholes must be vectors)."""
    args = _ok_step_args()
    args[index] = np.zeros(shape)
    with pytest.raises(ShapeError, match=match):
        peephole.peephole_step_forward(*args)


def test_wrong_dtype_and_foreign_cache_are_explained():
    """Integer peepholes raise TypeError; a foreign cache is refused."""
    args = _ok_step_args()
    args[8] = np.zeros(4, dtype=np.int32)
    with pytest.raises(TypeError, match=r"p_o has dtype int32, expected a floating-point"):
        peephole.peephole_step_forward(*args)
    _, _, lstm_cache = lstm.lstm_step_forward(*_ok_step_args()[:6])
    with pytest.raises(TypeError, match="cache must be the dict returned by peephole_step_forward"):
        peephole.peephole_step_backward(np.zeros((2, 4)), np.zeros((2, 4)), lstm_cache)
    with pytest.raises(TypeError, match="cache must be the dict returned by peephole_forward"):
        peephole.peephole_backward(np.zeros((1, 1, 1)), None, cache=[])
