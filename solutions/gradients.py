"""Gradient tools: centred-difference checks, Jacobian-product norms, clipping.

Symbol key: N batch size, T time steps, H hidden size.

* :func:`rel_error` and :func:`numerical_gradient` check an analytic backward pass against centred
  differences, (f(x + eps) - f(x - eps)) / (2 eps), whose error is O(eps^2). In float64 with
  eps = 1e-6 a correct backward gives a relative error of about 1e-8 to 1e-10.
* :func:`rnn_step_jacobians` and :func:`jacobian_product_norms` measure how the gradient of the
  last hidden state h_T with respect to an earlier one h_{T-k} shrinks or grows with k:

      dh_T/dh_{T-k} = J_T J_{T-1} ... J_{T-k+1},   J_t = dh_t/dh_{t-1}

  For the tanh RNN h_t = tanh(x_t Wx + h_{t-1} Wh + b) (row vectors), J_t = diag(1 - h_t^2) Wh^T.
  Since |tanh'| <= 1, ||J_t|| <= sigma_max(Wh), so when the largest singular value of Wh is
  below 1 the norms vanish geometrically in k (Bengio et al. 1994; Pascanu et al. 2013).
* :func:`clip_by_global_norm` rescales all gradients together, keeping their direction;
  :func:`clip_by_value` clips each entry, which changes the direction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from solutions._checks import check_shapes


def rel_error(a, b) -> float:
    """Relative error ||a - b|| / (||a|| + ||b||) over all entries (0 when both are zero).

    A norm-wise measure: unlike an entry-wise one it is not dominated by entries that are zero up
    to rounding. Accepts arrays (or anything np.asarray takes) of the same shape.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}.")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(
    f: Callable[[], np.ndarray | Sequence[np.ndarray]],
    x: np.ndarray,
    df: np.ndarray | Sequence[np.ndarray],
    eps: float = 1e-6,
) -> np.ndarray:
    """Centred-difference gradient of sum(f() * df) with respect to ``x``, shape of ``x``.

    ``f`` takes no arguments and reads ``x``, which is perturbed in place, one entry at a time,
    and restored. ``f`` may return one array or a tuple of arrays; ``df`` is the matching
    upstream gradient (or tuple of them), so the result is the vector-Jacobian product df^T J.
    Use float64: in float32 the rounding error of f swamps the O(eps^2) truncation error.
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        raise TypeError("numerical_gradient: x must be a float64 numpy array (perturbed in place).")
    grad = np.zeros_like(x)
    dfs = df if isinstance(df, (tuple, list)) else (df,)

    def scalar() -> float:
        out = f()
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return float(sum(np.sum(o * d) for o, d in zip(outs, dfs, strict=True)))

    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = scalar()
        x[i] = old - eps
        minus = scalar()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def backward_agrees(
    forward: Callable[..., Sequence],
    backward: Callable[..., Sequence],
    args: Sequence[np.ndarray],
    douts: Sequence[np.ndarray],
    tol: float = 1e-7,
) -> bool:
    """Whether ``backward`` matches centred differences of ``forward`` on one case.

    ``forward(*args)`` returns its outputs followed by a cache, e.g. ``(h, cache)`` or
    ``(h, c, cache)``; ``backward(*douts, cache)`` takes one upstream gradient per output (each
    the shape of that output) and returns one gradient per argument, each the shape of that
    argument. ``args`` are float64 arrays, perturbed in place one entry at a time and restored.
    True when every gradient has its argument's shape and a relative error of at most ``tol``.
    """
    grads = backward(*douts, forward(*args)[-1])
    if not (isinstance(grads, (tuple, list)) and len(grads) == len(args)):
        return False
    return all(
        np.shape(g) == a.shape
        and rel_error(g, numerical_gradient(lambda: forward(*args)[:-1], a, douts)) <= tol
        for g, a in zip(grads, args, strict=True)
    )


@check_shapes(h="N T H", Wh="H H")
def rnn_step_jacobians(h, Wh):
    """Per-step Jacobians J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) Wh^T of a tanh RNN.

    Args:
        h: hidden states h_1..h_T from rnn_forward, (N, T, H).
        Wh: hidden-to-hidden weights, (H, H).

    Returns:
        J: (N, T, H, H) with J[n, t-1] = dh_t/dh_{t-1} for sample n (row i: output unit).
    """
    return (1.0 - h**2)[..., :, None] * Wh.T  # (N, T, H, 1) * (H, H) -> (N, T, H, H)


@check_shapes(J="N T H H")
def jacobian_product_norms(J: np.ndarray, ord: int | str = 2) -> np.ndarray:
    """Norms of dh_T/dh_{T-k} = J_T ... J_{T-k+1} for k = 0..T.

    Args:
        J: per-step Jacobians, (N, T, H, H), J[:, t-1] = dh_t/dh_{t-1}.
        ord: matrix norm, 2 (spectral, the default) or "fro".

    Returns:
        norms: (N, T + 1); norms[:, 0] = ||I|| and norms[:, k] = ||dh_T/dh_{T-k}||.
    """
    N, T, H, _ = J.shape
    norms = np.empty((N, T + 1))
    P = np.broadcast_to(np.eye(H), (N, H, H)).copy()  # dh_T/dh_T
    norms[:, 0] = np.linalg.norm(P, ord=ord, axis=(1, 2))
    for k in range(1, T + 1):
        P = P @ J[:, T - k]  # (N, H, H): dh_T/dh_{T-k}
        norms[:, k] = np.linalg.norm(P, ord=ord, axis=(1, 2))
    return norms


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """sqrt(sum of squares of every entry of every gradient)."""
    return float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))


def clip_by_global_norm(
    grads: Sequence[np.ndarray], max_norm: float
) -> tuple[list[np.ndarray], float]:
    """Rescale gradients so their global norm is at most ``max_norm``; direction is kept.

    g <- g * max_norm / ||g||  when ||g|| > max_norm (all arrays by the same factor), where
    ||g|| is the norm of all entries of all arrays together (Pascanu et al. 2013).

    Returns:
        The clipped gradients (new arrays) and the global norm before clipping.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be positive, got {max_norm}.")
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    scale = max_norm / total if total > max_norm else 1.0
    return [g * scale for g in grads], total


def clip_by_value(grads: Sequence[np.ndarray], clip: float) -> list[np.ndarray]:
    """Clip every entry to [-clip, clip]. Large entries are cut, small ones kept, so the
    direction of the whole gradient changes (compare :func:`clip_by_global_norm`)."""
    if not clip > 0:
        raise ValueError(f"clip_by_value: clip must be positive, got {clip}.")
    return [np.clip(g, -clip, clip) for g in grads]
