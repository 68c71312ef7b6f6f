"""solutions.cifg against a small torch re-implementation (autograd), an LSTM whose input gate
is tied to 1 - f, the other parameterisation f = 1 - i, centred differences and a hand-computed
case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions import cifg, lstm
from solutions._checks import ShapeError
from tests.util import SHAPES, check_backward, randn

torch.set_default_dtype(torch.float64)

NAMES = ["x", "h0", "c0", "Wx", "Wh", "b"]


def torch_cifg(x, h0, c0, Wx, Wh, b):
    """Reference CIFG in torch, batch-first: x (N, T, D) -> h, c (N, T, H); blocks f, g, o."""
    H = h0.shape[1]
    Wx_f, Wx_g, Wx_o = Wx[:, :H], Wx[:, H : 2 * H], Wx[:, 2 * H :]
    Wh_f, Wh_g, Wh_o = Wh[:, :H], Wh[:, H : 2 * H], Wh[:, 2 * H :]
    b_f, b_g, b_o = b[:H], b[H : 2 * H], b[2 * H :]
    h, c, hs, cs = h0, c0, [], []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        f = torch.sigmoid(x_t @ Wx_f + h @ Wh_f + b_f)
        g = torch.tanh(x_t @ Wx_g + h @ Wh_g + b_g)
        o = torch.sigmoid(x_t @ Wx_o + h @ Wh_o + b_o)
        i = 1 - f
        c = f * c + i * g
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
        randn(rng, D, 3 * H, scale=scale),
        randn(rng, H, 3 * H, scale=scale),
        randn(rng, 3 * H),
    ]


def _torch_values_and_grads(args, dh, dc):
    """Outputs of torch_cifg and the autograd gradients of sum(h*dh) + sum(c*dc).

    ``dc`` may be None (the loss reads h only)."""
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    h, c = torch_cifg(*ts)
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


def _tied_lstm_params(Wx, Wh, b):
    """LSTM weights (blocks i, f, g, o) whose input gate is sigmoid(-a_f) = 1 - sigmoid(a_f)."""
    H = b.shape[0] // 3

    def tie(W):  # [W_f | W_g | W_o] -> [-W_f | W_f | W_g | W_o]
        return np.concatenate([-W[..., :H], W], axis=-1)

    return tie(Wx), tie(Wh), tie(b)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_state", [False, True])
@pytest.mark.parametrize("dc_given", [True, False])
def test_sequence_matches_torch_autograd(N, T, D, H, zero_state, dc_given):
    """cifg_forward/backward equal the torch reference and its autograd gradients."""
    rng = np.random.default_rng(N * 1000 + T * 100 + D * 10 + H)
    args = _random_args(rng, N, T, D, H, zero_state, scale=1.0)
    dh = randn(rng, N, T, H)
    dc = randn(rng, N, T, H) if dc_given else None

    h, c, cache = cifg.cifg_forward(*args)
    grads = cifg.cifg_backward(dh, dc, cache)
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

    h, c, cache = cifg.cifg_step_forward(*args)
    grads = cifg.cifg_step_backward(dh, dc, cache)
    seq_args = [args[0][:, None]] + args[1:]
    h_ref, c_ref, grads_ref = _torch_values_and_grads(seq_args, dh[:, None], dc[:, None])
    grads_ref[0] = grads_ref[0][:, 0]

    np.testing.assert_allclose(h, h_ref[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(c, c_ref[:, 0], rtol=0, atol=1e-10)
    for name, g, g_ref in zip(
        ["x", "h_prev", "c_prev", "Wx", "Wh", "b"], grads, grads_ref, strict=True
    ):
        np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-10, err_msg=f"d{name}")


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_step_backward_centred_differences(N, T, D, H):
    """cifg_step_backward (gradients on h and c) agrees with centred differences."""
    rng = np.random.default_rng(3)
    args = _random_args(rng, N, 1, D, H, scale=1.0)
    args[0] = args[0][:, 0]
    names = ["x", "h_prev", "c_prev", "Wx", "Wh", "b"]
    check_backward(cifg.cifg_step_forward, cifg.cifg_step_backward, args, names, rng)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("dc_given", [True, False])
def test_sequence_backward_centred_differences(N, T, D, H, dc_given):
    """cifg_backward agrees with centred differences, with dc for every step and dc=None."""
    rng = np.random.default_rng(4)
    args = _random_args(rng, N, T, D, H)
    if dc_given:
        check_backward(cifg.cifg_forward, cifg.cifg_backward, args, NAMES, rng)
    else:
        backward = lambda dh, cache: cifg.cifg_backward(dh, None, cache)  # noqa: E731
        check_backward(_h_only(cifg.cifg_forward), backward, args, NAMES, rng)


@pytest.mark.parametrize("N,T,D,H", SHAPES[1:4])
def test_equals_lstm_with_input_gate_tied_to_one_minus_f(N, T, D, H):
    """A CIFG is the LSTM whose i block is minus its f block, since sigmoid(-a) = 1 - sigmoid(a).

    Forward: same h and c. Backward: same dx, dh0, dc0; the CIFG's f block receives the
    gradient of both tied LSTM blocks, dW_f(cifg) = dW_f(lstm) - dW_i(lstm).
    """
    rng = np.random.default_rng(8)
    x, h0, c0, Wx, Wh, b = _random_args(rng, N, T, D, H)
    # The tie holds in exact arithmetic; check it numerically before relying on it.
    a = randn(rng, 1000, scale=5.0)
    np.testing.assert_allclose(1.0 / (1.0 + np.exp(a)), 1.0 - 1.0 / (1.0 + np.exp(-a)), atol=1e-15)

    h, c, cache = cifg.cifg_forward(x, h0, c0, Wx, Wh, b)
    h_l, c_l, cache_l = lstm.lstm_forward(x, h0, c0, *_tied_lstm_params(Wx, Wh, b))
    np.testing.assert_allclose(h, h_l, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c, c_l, rtol=0, atol=1e-14)

    dh, dc = randn(rng, N, T, H), randn(rng, N, T, H)
    dx, dh0, dc0, dWx, dWh, db = cifg.cifg_backward(dh, dc, cache)
    dx_l, dh0_l, dc0_l, dWx_l, dWh_l, db_l = lstm.lstm_backward(dh, dc, cache_l)
    np.testing.assert_allclose(dx, dx_l, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0, dh0_l, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc0, dc0_l, rtol=0, atol=1e-12)
    for d, d_l in ((dWx, dWx_l), (dWh, dWh_l), (db, db_l)):
        np.testing.assert_allclose(d[..., :H], d_l[..., H : 2 * H] - d_l[..., :H], atol=1e-12)
        np.testing.assert_allclose(d[..., H:], d_l[..., 2 * H :], rtol=0, atol=1e-12)


def test_other_parameterisation_is_the_sign_flip():
    """Pitfall 6: f = 1 - i with i = sigmoid(x Wx_i + h Wh_i + b_i) equals our i = 1 - f cell
    when the gate's weights and bias change sign (Wx_i = -Wx_f, ...), written out explicitly."""
    rng = np.random.default_rng(9)
    N, D, H = 3, 2, 4
    x, h_prev, c_prev, Wx, Wh, b = _random_args(rng, N, 1, D, H, scale=1.0)
    x = x[:, 0]
    h, c, _ = cifg.cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b)

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    i = sig(x @ -Wx[:, :H] + h_prev @ -Wh[:, :H] - b[:H])  # the input gate, learned
    g = np.tanh(x @ Wx[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H] + b[H : 2 * H])
    o = sig(x @ Wx[:, 2 * H :] + h_prev @ Wh[:, 2 * H :] + b[2 * H :])
    c_other = (1.0 - i) * c_prev + i * g  # f = 1 - i
    np.testing.assert_allclose(c, c_other, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h, o * np.tanh(c_other), rtol=0, atol=1e-14)
    # Without the sign flip the two forms are different cells.
    i_unflipped = sig(x @ Wx[:, :H] + h_prev @ Wh[:, :H] + b[:H])
    assert np.max(np.abs(c - ((1.0 - i_unflipped) * c_prev + i_unflipped * g))) > 1e-3


def test_cifg_flip_gives_the_other_parameterisation():
    """cifg_flip turns the weights of the i = 1 - f form into those of the f = 1 - i form (the
    explicit forward of that form, written here, gives the same states); twice is the identity;
    the candidate and output blocks and the arguments are left alone."""
    rng = np.random.default_rng(11)
    N, D, H = 3, 2, 4
    x, h_prev, c_prev, Wx, Wh, b = _random_args(rng, N, 1, D, H, scale=1.0)
    x = x[:, 0]
    before = [a.copy() for a in (Wx, Wh, b)]
    Wx2, Wh2, b2 = cifg.cifg_flip(Wx, Wh, b)
    for a, a0 in zip((Wx, Wh, b), before, strict=True):
        np.testing.assert_array_equal(a, a0)
    i = 1.0 / (1.0 + np.exp(-(x @ Wx2[:, :H] + h_prev @ Wh2[:, :H] + b2[:H])))  # learned i
    g = np.tanh(x @ Wx2[:, H : 2 * H] + h_prev @ Wh2[:, H : 2 * H] + b2[H : 2 * H])
    o = 1.0 / (1.0 + np.exp(-(x @ Wx2[:, 2 * H :] + h_prev @ Wh2[:, 2 * H :] + b2[2 * H :])))
    c_other = (1.0 - i) * c_prev + i * g
    h, c, _ = cifg.cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    np.testing.assert_allclose(c, c_other, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h, o * np.tanh(c_other), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(b2[:H], -b[:H])
    np.testing.assert_array_equal(Wx2[:, H:], Wx[:, H:])
    for a, a2 in zip((Wx, Wh, b), cifg.cifg_flip(Wx2, Wh2, b2), strict=True):
        np.testing.assert_array_equal(a, a2)
    with pytest.raises(ShapeError, match="Wh"):
        cifg.cifg_flip(Wx, Wh[:, :-1], b)


def test_tiny_hand_computed_case():
    """D = H = 1, one step; each gate computed by hand."""

    # Blocks f, g, o. x = 1, h_prev = 0.5, c_prev = 2.
    #   f = sigmoid(1*1  + 0.5*0 + 0.5) = sigmoid(1.5)
    #   g = tanh   (1*2  + 0.5*0 + 0)   = tanh(2)
    #   o = sigmoid(1*-1 + 0.5*4 + 0)   = sigmoid(1)
    #   c = sigmoid(1.5)*2 + (1 - sigmoid(1.5))*tanh(2),  h = sigmoid(1)*tanh(c)
    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    Wx = np.array([[1.0, 2.0, -1.0]])
    Wh = np.array([[0.0, 0.0, 4.0]])
    b = np.array([0.5, 0.0, 0.0])
    h, c, _ = cifg.cifg_step_forward(
        np.array([[1.0]]), np.array([[0.5]]), np.array([[2.0]]), Wx, Wh, b
    )
    c_expected = sigmoid(1.5) * 2.0 + (1.0 - sigmoid(1.5)) * np.tanh(2.0)
    np.testing.assert_allclose(c, [[c_expected]], rtol=1e-14)
    np.testing.assert_allclose(h, [[sigmoid(1.0) * np.tanh(c_expected)]], rtol=1e-14)

    # c_prev = g = tanh(2): whatever f is, c equals c_prev (the cell moves towards g).
    c_same = cifg.cifg_step_forward(
        np.array([[1.0]]), np.array([[0.5]]), np.tanh([[2.0]]), Wx, Wh, b
    )[1]
    np.testing.assert_allclose(c_same, np.tanh([[2.0]]), rtol=1e-15)


def test_cell_state_is_a_conveyor():
    """f = 1 (bias +50, so i = 1 - f = 0): c_T = c0 for T = 200, and dc0 = dc_T."""
    rng = np.random.default_rng(5)
    N, T, D, H = 3, 200, 2, 4
    args = _random_args(rng, N, T, D, H, scale=0.1)
    args[5][0:H] = 50.0  # forget gate open, so the coupled input gate is closed
    h, c, cache = cifg.cifg_forward(*args)
    np.testing.assert_allclose(c[:, -1], args[2], rtol=0, atol=1e-12)

    dcT = randn(rng, N, H)
    dc = np.zeros((N, T, H))
    dc[:, -1] = dcT
    dc0 = cifg.cifg_backward(np.zeros((N, T, H)), dc, cache)[2]
    np.testing.assert_allclose(dc0, dcT, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "shapes,match",
    [
        (
            ((2, 3), (2, 4), (2, 4), (3, 16), (4, 12), (12,)),
            r"Wx has shape \(3, 16\), expected \(D, 3H\) = \(3, 12\).*f, g, o",
        ),
        (
            ((2, 3), (2, 4), (2, 4), (3, 12), (4, 16), (12,)),
            r"Wh has shape \(4, 16\), expected \(H, 3H\) = \(4, 12\).*f, g, o",
        ),
        (
            ((2, 3), (2, 4), (2, 4), (3, 12), (4, 12), (16,)),
            r"b has shape \(16,\), expected \(3H\) = \(12,\).*f, g, o",
        ),
        (
            ((2, 3), (2, 4), (3, 4), (3, 12), (4, 12), (12,)),
            r"c_prev has shape \(3, 4\), expected \(N, H\) = \(2, 4\)",
        ),
    ],
)
def test_wrong_shapes_name_the_argument(shapes, match):
    """A wrong shape (e.g. LSTM-sized 4H weights) raises ShapeError naming the argument."""
    with pytest.raises(ShapeError, match=match):
        cifg.cifg_step_forward(*[np.zeros(s) for s in shapes])


def test_wrong_dtype_and_foreign_cache_are_explained():
    """Integer arrays raise TypeError; a foreign cache is refused."""
    ok = [np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4))]
    ok += [np.zeros((3, 12)), np.zeros((4, 12)), np.zeros(12)]
    bad = list(ok)
    bad[5] = np.zeros(12, dtype=np.int64)
    with pytest.raises(TypeError, match=r"b has dtype int64, expected a floating-point"):
        cifg.cifg_step_forward(*bad)
    _, _, lstm_cache = lstm.lstm_step_forward(
        *ok[:3], np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)
    )
    # An LSTM cache holds every key a CIFG cache holds (and i): refused all the same.
    with pytest.raises(TypeError, match="cache must be the dict returned by cifg_step_forward"):
        cifg.cifg_step_backward(np.zeros((2, 4)), np.zeros((2, 4)), lstm_cache)
    with pytest.raises(TypeError, match="cache must be the dict returned by cifg_forward"):
        cifg.cifg_backward(np.zeros((1, 1, 1)), None, cache={})
    _, _, lstm_seq_cache = lstm.lstm_forward(
        np.zeros((2, 3, 3)), *ok[1:3], np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)
    )
    with pytest.raises(TypeError, match=r"returned by cifg_forward \(this one has the extra keys"):
        cifg.cifg_backward(np.zeros((2, 3, 4)), None, lstm_seq_cache)


@pytest.mark.parametrize("suite", ["test_cifg_step_backward", "test_cifg_backward"])
def test_hidden_gradient_checks_leave_a_wide_margin(suite):
    """The gradient-check case of each hidden CIFG backward suite (notebook 05), redrawn with
    ten seeds at its sizes: the reference's norm-wise relative error against centred differences
    in float64 stays ten times below the suite's tolerance, so an independent correct answer,
    whose rounding differs, cannot fail the check by chance (at N = D = H = 1 it can reach 1e-7:
    such sizes must not be gradient-checked)."""
    import importlib

    from autograder.suites.kit import Backward, Case
    from solutions.gradients import numerical_gradient, rel_error

    module = importlib.import_module(f"autograder.suites.05_variants.{suite}")
    (backward,) = [v for v in vars(module).values() if isinstance(v, Backward)]
    (mark,) = module.test_centred_differences.pytestmark
    (hidden,) = mark.args[1]
    assert isinstance(hidden, Case)
    ref_forward = backward.forward.reference
    for seed in range(hidden.seed, hidden.seed + 10):
        redrawn = Case(seed, hidden.note, zero_states=hidden.zero_states, **hidden.sizes)
        assert hidden.args is None and not any(hidden.edits)  # a plain case, redrawn in full
        args, up = backward.draw(redrawn)
        up = [np.zeros_like(up[0]) if u is None else u for u in up]
        cache = ref_forward(*[a.copy() for a in args])[-1]
        grads = backward.reference(*up, cache)
        for arg, g in zip(args, grads, strict=True):
            num = numerical_gradient(lambda args=args: ref_forward(*args)[:2], arg, tuple(up))
            assert rel_error(g, num) < backward.tol / 10, (suite, seed, rel_error(g, num))
