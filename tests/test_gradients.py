"""solutions.gradients: relative error, centred differences, Jacobian norms, clipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions import gradients as G
from solutions.rnn import rnn_forward
from tests.util import randn


def test_rel_error_hand_cases():
    assert G.rel_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert G.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    # ||(1, 0) - (0, 0)|| / (1 + 0) = 1
    assert G.rel_error([1.0, 0.0], [0.0, 0.0]) == 1.0
    # ||(3,4)-(3,5)|| = 1 ; ||(3,4)|| + ||(3,5)|| = 5 + sqrt(34)
    assert np.isclose(G.rel_error([3.0, 4.0], [3.0, 5.0]), 1 / (5 + np.sqrt(34)))
    with pytest.raises(ValueError, match="shapes differ"):
        G.rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_known_functions():
    rng = np.random.default_rng(0)
    x = randn(rng, 3, 4)
    df = randn(rng, 3, 4)
    num = G.numerical_gradient(lambda: x**3, x, df)  # d/dx sum(x^3 * df) = 3 x^2 df
    assert G.rel_error(num, 3 * x**2 * df) < 1e-9
    A = randn(rng, 4, 2)
    dout = randn(rng, 3, 2)
    num = G.numerical_gradient(lambda: (x @ A, np.sin(x)), x, (dout, df))
    assert G.rel_error(num, dout @ A.T + np.cos(x) * df) < 1e-9
    x_before = x.copy()
    G.numerical_gradient(lambda: x**2, x, df)
    np.testing.assert_array_equal(x, x_before)  # restored after perturbation


def test_step_jacobians_equal_autograd():
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 3, 3, 4
    x, h0, Wx, Wh, b = (
        randn(rng, N, T, D),
        randn(rng, N, H),
        randn(rng, D, H),
        randn(rng, H, H),
        randn(rng, H),
    )
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    J = G.rnn_step_jacobians(h, Wh)
    assert J.shape == (N, T, H, H)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    for n in range(N):
        for t in range(T):

            def step(hp, n=n, t=t):
                return torch.tanh(
                    torch.tensor(x[n, t]) @ torch.tensor(Wx)
                    + hp @ torch.tensor(Wh)
                    + torch.tensor(b)
                )

            ref = torch.autograd.functional.jacobian(step, torch.tensor(h_prev[n, t])).numpy()
            np.testing.assert_allclose(J[n, t], ref, atol=1e-12)


def test_jacobian_product_norms_equal_autograd_through_the_sequence():
    rng = np.random.default_rng(2)
    T, D, H = 6, 2, 3
    x, h0, Wx, Wh, b = (
        randn(rng, 1, T, D),
        randn(rng, 1, H),
        randn(rng, D, H),
        randn(rng, H, H),
        randn(rng, H),
    )
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    norms = G.jacobian_product_norms(G.rnn_step_jacobians(h, Wh))
    assert norms.shape == (1, T + 1)
    states = np.concatenate([h0[:, None], h], axis=1)[0]  # h_0..h_T
    for k in range(T + 1):
        # run the RNN from h_{T-k} as a leaf and differentiate h_T with respect to it
        def tail(start, k=k):
            s = start
            for t in range(T - k, T):
                s = torch.tanh(
                    torch.tensor(x[0, t]) @ torch.tensor(Wx)
                    + s @ torch.tensor(Wh)
                    + torch.tensor(b)
                )
            return s

        Jk = torch.autograd.functional.jacobian(tail, torch.tensor(states[T - k])).numpy()
        assert np.isclose(norms[0, k], np.linalg.norm(Jk, 2), rtol=1e-10), k


def test_norms_vanish_below_rho_to_the_k_when_sigma_max_below_one():
    # Wh = rho * Q with Q orthogonal has every singular value equal to rho, and |tanh'| <= 1, so
    # ||dh_T/dh_{T-k}|| <= rho^k (Bengio et al. 1994; Pascanu et al. 2013).
    rng = np.random.default_rng(3)
    H, T, rho = 16, 40, 0.9
    Q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    h, _ = rnn_forward(
        randn(rng, 2, T, 4), np.zeros((2, H)), randn(rng, 4, H), rho * Q, np.zeros(H)
    )
    norms = G.jacobian_product_norms(G.rnn_step_jacobians(h, rho * Q))
    assert np.all(norms <= rho ** np.arange(T + 1) * (1 + 1e-12))
    assert norms[0, -1] < 0.9**40


def test_clip_by_global_norm_keeps_direction():
    g = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]  # global norm 5
    clipped, total = G.clip_by_global_norm(g, 1.0)
    assert total == 5.0
    np.testing.assert_allclose(clipped[0], [0.6, 0.0])
    np.testing.assert_allclose(clipped[1], [[0.0, 0.8]])
    unchanged, _ = G.clip_by_global_norm(g, 10.0)
    np.testing.assert_array_equal(unchanged[0], g[0])
    with pytest.raises(ValueError, match="max_norm must be positive"):
        G.clip_by_global_norm(g, 0.0)


def test_clip_by_value_changes_direction():
    g = [np.array([3.0, 0.5])]
    (c,) = G.clip_by_value(g, 1.0)
    np.testing.assert_array_equal(c, [1.0, 0.5])
    cos = c @ g[0] / (np.linalg.norm(c) * np.linalg.norm(g[0]))
    assert cos < 0.99  # the direction moved from (3, 0.5) towards (1, 0.5)
    with pytest.raises(ValueError, match="clip must be positive"):
        G.clip_by_value(g, -1.0)


def test_backward_agrees_accepts_the_reference_and_rejects_wrong_backwards():
    from solutions.lstm import lstm_step_backward, lstm_step_forward
    from solutions.rnn import rnn_step_backward, rnn_step_forward

    rng = np.random.default_rng(4)
    rnn_args = [randn(rng, *s) for s in [(1, 2), (1, 3), (2, 3), (3, 3), (3,)]]
    lstm_args = [randn(rng, *s) for s in [(1, 2), (1, 3), (1, 3), (2, 12), (3, 12), (12,)]]
    dh, dc = randn(rng, 1, 3), randn(rng, 1, 3)
    assert G.backward_agrees(rnn_step_forward, rnn_step_backward, rnn_args, [dh])
    assert G.backward_agrees(lstm_step_forward, lstm_step_backward, lstm_args, [dh, dc])

    def scaled_dx(dh, cache):  # one gradient wrong by a factor 1.01
        dx, *rest = rnn_step_backward(dh, cache)
        return (1.01 * dx, *rest)

    assert not G.backward_agrees(rnn_step_forward, scaled_dx, rnn_args, [dh])
    assert not G.backward_agrees(  # one gradient too few
        rnn_step_forward, lambda dh, cache: rnn_step_backward(dh, cache)[:4], rnn_args, [dh]
    )
    assert not G.backward_agrees(  # db with the batch axis kept, (1, H) instead of (H,)
        rnn_step_forward,
        lambda dh, cache: (
            *rnn_step_backward(dh, cache)[:4],
            rnn_step_backward(dh, cache)[4][None],
        ),
        rnn_args,
        [dh],
    )
    before = [a.copy() for a in rnn_args]
    G.backward_agrees(rnn_step_forward, rnn_step_backward, rnn_args, [dh])
    assert all(np.array_equal(a, b) for a, b in zip(rnn_args, before, strict=True))
