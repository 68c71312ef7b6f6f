"""Vanilla (Elman) RNN with tanh, in numpy: forward and backward through time.

Symbol key: N batch size, T time steps, D input size, H hidden size.

Convention (row vectors, as in the notebooks): a batch of inputs is a matrix whose rows are
examples, so a step is

    h_t = tanh(x_t Wx + h_{t-1} Wh + b)        x_t (N, D), h_t (N, H)
                                               Wx (D, H), Wh (H, H), b (H,)

The column-vector form of the papers, h_t = tanh(W_hh h_{t-1} + W_xh x_t + b), is the same map
with W_hh = Wh^T and W_xh = Wx^T. PyTorch's ``nn.RNN`` stores ``weight_ih`` = Wx^T (H, D),
``weight_hh`` = Wh^T (H, H) and two biases whose sum is b (see :mod:`solutions.convert`).

Each forward returns ``(outputs..., cache)``; each backward takes the upstream gradient of every
output and the cache, and returns one gradient per forward argument, in the forward's order.
"""

from __future__ import annotations

import numpy as np

from solutions._checks import check_cache, check_shapes


def _step_dims(a):
    check_cache("rnn_step_backward", a["cache"], "rnn_step_forward", ("x", "h_prev", "h"))
    return dict(zip("NH", a["cache"]["h"].shape, strict=True))


def _seq_dims(a):
    check_cache("rnn_backward", a["cache"], "rnn_forward", ("steps", "h"))
    return dict(zip("NTH", a["cache"]["h"].shape, strict=True))


@check_shapes(x="N D", h_prev="N H", Wx="D H", Wh="H H", b="H")
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a tanh RNN.

    h = tanh(x Wx + h_prev Wh + b)

    Args:
        x: input at this step, (N, D).
        h_prev: hidden state from the previous step, (N, H).
        Wx: input-to-hidden weights, (D, H).
        Wh: hidden-to-hidden weights, (H, H).
        b: bias, (H,).

    Returns:
        h: the new hidden state, (N, H).
        cache: what rnn_step_backward needs (any object you like; the reference uses a dict).
    """
    h = np.tanh(x @ Wx + h_prev @ Wh + b)  # (N, H)
    cache = {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h": h}
    return h, cache


@check_shapes(bind=_step_dims, dh="N H")
def rnn_step_backward(dh, cache):
    """Backward pass of one RNN step: the gradients of the loss with respect to every argument of
    rnn_step_forward, given the gradient dh of its output.

    Args:
        dh: gradient of the loss with respect to h, (N, H).
        cache: from rnn_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x, h_prev, Wx, Wh, h = (cache[k] for k in ("x", "h_prev", "Wx", "Wh", "h"))
    da = dh * (1.0 - h**2)  # (N, H)
    dx = da @ Wx.T  # (N, D)
    dh_prev = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, H)
    dWh = h_prev.T @ da  # (H, H)
    db = da.sum(axis=0)  # (H,)
    return dx, dh_prev, dWx, dWh, db


@check_shapes(x="N T D", h0="N H", Wx="D H", Wh="H H", b="H")
def rnn_forward(x, h0, Wx, Wh, b):
    """Run a tanh RNN over a whole sequence; the same weights are used at every step.

    h_t = tanh(x_t Wx + h_{t-1} Wh + b) for t = 1..T, starting from h_0 = h0.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        Wx (D, H), Wh (H, H), b (H,): the weights, shared across time.

    Returns:
        h: hidden states h_1..h_T, (N, T, H).
        cache: what rnn_backward needs (any object you like; the reference uses a
            dict of step caches).
    """
    N, T, _ = x.shape
    h = np.empty((N, T, Wh.shape[0]), dtype=np.result_type(x, h0, Wx, Wh, b))
    steps = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnn_step_forward(x[:, t, :], h_t, Wx, Wh, b)
        h[:, t, :] = h_t
        steps.append(step_cache)
    return h, {"steps": steps, "h": h}


@check_shapes(bind=_seq_dims, dh="N T H")
def rnn_backward(dh, cache):
    """Backpropagation through time for rnn_forward.

    ``dh[:, t]`` is the gradient of the loss with respect to h_t coming from above (an output
    layer). The gradient reaching h_t also includes what flows back from step t+1, so we walk
    backwards in time carrying dh_next, and add the weight gradients of every step, because
    the weights are shared.

    Args:
        dh: upstream gradients of all hidden states, (N, T, H).
        cache: from rnn_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    steps = cache["steps"]
    N, T, H = dh.shape
    x0, Wx, Wh = steps[0]["x"], steps[0]["Wx"], steps[0]["Wh"]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx_t, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dh_next, steps[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dWx, dWh, db
