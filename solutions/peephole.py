"""Peephole LSTM (Gers & Schmidhuber 2000), in numpy: the gates also look at the cell state.

Symbol key: N batch size, T time steps, D input size, H hidden size.

Convention (row vectors, as in :mod:`solutions.lstm`; * is the element-wise product):

    i = sigmoid(x Wx_i + h_prev Wh_i + p_i * c_prev + b_i)
    f = sigmoid(x Wx_f + h_prev Wh_f + p_f * c_prev + b_f)
    g = tanh   (x Wx_g + h_prev Wh_g + b_g)
    c = f * c_prev + i * g
    o = sigmoid(x Wx_o + h_prev Wh_o + p_o * c + b_o)     o peeks at the NEW cell c
    h = o * tanh(c)

    x (N, D), h_prev (N, H), c_prev (N, H)
    Wx (D, 4H), Wh (H, 4H), b (4H,): blocks i, f, g, o as in the plain LSTM (PyTorch's order)
    p_i, p_f, p_o (H,): the peephole weights

Which cell state feeds which gate: the input and forget gates are computed before the update,
so they can only see c_prev; the output gate is computed after it and sees c. Getting this
wrong (c_prev into o) gives a different cell that still runs without an error.

Why the peephole weights are vectors (diagonal): each memory cell's own value is fed only to
its own gates, so the 5th element of c_prev affects the 5th element of i and f and nothing
else. ``p_i * c_prev`` is c_prev times the diagonal matrix diag(p_i). Some diagrams (and some
blog posts) draw a full matrix from the cell to the gates; that is a different, larger model
(3 H^2 weights instead of 3 H), not the one of the paper. With p_i = p_f = p_o = 0 the cell is
exactly the plain LSTM of :mod:`solutions.lstm`.

Crosswalk: as for the LSTM (see :mod:`solutions.lstm`). colah's blog concatenates the cell
state into the gate input, W_f . [C_{t-1}, h_{t-1}, x_t] (and C_t for the output gate), which
read literally is a full matrix; Ng's lecture feeds c<t-1> into the gates one element to one
element, the diagonal form used here. PyTorch has no peephole LSTM.

Each forward returns ``(outputs..., cache)``; each backward takes the upstream gradient of every
output and the cache, and returns one gradient per forward argument, in the forward's order.
"""

from __future__ import annotations

import numpy as np

from solutions._checks import check_cache, check_shapes
from solutions._common import sigmoid

_HINT = {
    "Wx": "Wx stacks the four gate blocks i, f, g, o side by side (PyTorch's order).",
    "Wh": "Wh stacks the four gate blocks i, f, g, o side by side (PyTorch's order).",
    "b": "b stacks the four gate biases i, f, g, o.",
    "p_i": "Peephole weights are diagonal: one weight per cell, a vector, not an (H, H) matrix.",
    "p_f": "Peephole weights are diagonal: one weight per cell, a vector, not an (H, H) matrix.",
    "p_o": "Peephole weights are diagonal: one weight per cell, a vector, not an (H, H) matrix.",
}


_STEP_KEYS = ("x", "h_prev", "c_prev", "c", "Wx", "Wh", "p_i", "p_f", "p_o")
_STEP_KEYS += ("i", "f", "g", "o", "tanh_c")


def _own_step_cache(func, made_by, cache):
    """check_cache, and also refuse extra keys: the caches of lstm, peephole and cifg overlap."""
    check_cache(func, cache, made_by, _STEP_KEYS)
    extra = sorted(set(cache) - set(_STEP_KEYS))
    if extra:
        raise TypeError(
            f"{func}: cache must be the dict returned by {made_by} (this one has the extra "
            f"keys {extra}: it comes from another cell)."
        )


def _step_dims(a):
    _own_step_cache("peephole_step_backward", "peephole_step_forward", a["cache"])
    return dict(zip("NH", a["cache"]["c_prev"].shape, strict=True))


def _seq_dims(a):
    cache = a["cache"]
    check_cache("peephole_backward", cache, "peephole_forward", ("steps", "h", "c"))
    for step in cache["steps"]:
        _own_step_cache("peephole_backward", "peephole_forward", step)
    return dict(zip("NTH", cache["h"].shape, strict=True))


@check_shapes(
    x="N D",
    h_prev="N H",
    c_prev="N H",
    Wx="D 4H",
    Wh="H 4H",
    b="4H",
    p_i="H",
    p_f="H",
    p_o="H",
    hint=_HINT,
)
def peephole_step_forward(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    """One time step of a peephole LSTM.

    a = x Wx + h_prev Wh + b, split into four column blocks of width H in the order i, f, g, o:
    i = sigmoid(a_i + p_i * c_prev), f = sigmoid(a_f + p_f * c_prev), g = tanh(a_g),
    c = f * c_prev + i * g, o = sigmoid(a_o + p_o * c), h = o * tanh(c).

    Args:
        x: input at this step, (N, D).
        h_prev: hidden state from the previous step, (N, H).
        c_prev: cell state from the previous step, (N, H).
        Wx: input-to-gates weights, blocks i, f, g, o, (D, 4H).
        Wh: hidden-to-gates weights, blocks i, f, g, o, (H, 4H).
        b: gate biases, blocks i, f, g, o, (4H,).
        p_i: peephole weights c_prev -> input gate, (H,).
        p_f: peephole weights c_prev -> forget gate, (H,).
        p_o: peephole weights c -> output gate, (H,).

    Returns:
        h: the new hidden state, (N, H).
        c: the new cell state, (N, H).
        cache: what peephole_step_backward needs (a dict).
    """
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b  # (N, 4H)
    i = sigmoid(a[:, 0 * H : 1 * H] + p_i * c_prev)  # (N, H) + (H,) * (N, H)
    f = sigmoid(a[:, 1 * H : 2 * H] + p_f * c_prev)  # (N, H)
    g = np.tanh(a[:, 2 * H : 3 * H])  # (N, H)
    c = f * c_prev + i * g  # (N, H)
    o = sigmoid(a[:, 3 * H : 4 * H] + p_o * c)  # (N, H): peeks at the new c
    tanh_c = np.tanh(c)  # (N, H)
    h = o * tanh_c  # (N, H)
    cache = {
        "x": x,
        "h_prev": h_prev,
        "c_prev": c_prev,
        "c": c,
        "Wx": Wx,
        "Wh": Wh,
        "p_i": p_i,
        "p_f": p_f,
        "p_o": p_o,
        "i": i,
        "f": f,
        "g": g,
        "o": o,
        "tanh_c": tanh_c,
    }
    return h, c, cache


@check_shapes(bind=_step_dims, dh="N H", dc="N H")
def peephole_step_backward(dh, dc, cache):
    """Backward pass of one peephole LSTM step: the gradient of the loss with respect to every
    argument of peephole_step_forward, given the gradients dh and dc of its two outputs.

    The cell state c now reaches the loss three ways (on to the next step, into h, and into the
    output gate through its peephole); c_prev feeds the update and, through their peepholes, the
    input and forget gates. Every path adds to the gradient; weight and peephole gradients sum
    over the batch.

    Args:
        dh: gradient of the loss with respect to h, (N, H).
        dc: gradient of the loss with respect to c, (N, H).
        cache: from peephole_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,),
        dp_i (H,), dp_f (H,), dp_o (H,).
    """
    x, h_prev, c_prev, c, Wx, Wh = (cache[k] for k in ("x", "h_prev", "c_prev", "c", "Wx", "Wh"))
    p_i, p_f, p_o = cache["p_i"], cache["p_f"], cache["p_o"]
    i, f, g, o, tanh_c = (cache[k] for k in ("i", "f", "g", "o", "tanh_c"))
    da_o = dh * tanh_c * o * (1.0 - o)  # (N, H)
    dc_total = dc + dh * o * (1.0 - tanh_c**2) + da_o * p_o  # (N, H)
    da_i = dc_total * g * i * (1.0 - i)  # (N, H)
    da_f = dc_total * c_prev * f * (1.0 - f)  # (N, H)
    da_g = dc_total * i * (1.0 - g**2)  # (N, H)
    dc_prev = dc_total * f + da_i * p_i + da_f * p_f  # (N, H)
    dp_i = (da_i * c_prev).sum(axis=0)  # (H,)
    dp_f = (da_f * c_prev).sum(axis=0)  # (H,)
    dp_o = (da_o * c).sum(axis=0)  # (H,)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)  # (N, 4H), blocks i, f, g, o
    dx = da @ Wx.T  # (N, D)
    dh_prev = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, 4H)
    dWh = h_prev.T @ da  # (H, 4H)
    db = da.sum(axis=0)  # (4H,)
    return dx, dh_prev, dc_prev, dWx, dWh, db, dp_i, dp_f, dp_o


@check_shapes(
    x="N T D",
    h0="N H",
    c0="N H",
    Wx="D 4H",
    Wh="H 4H",
    b="4H",
    p_i="H",
    p_f="H",
    p_o="H",
    hint=_HINT,
)
def peephole_forward(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o):
    """Run a peephole LSTM over a whole sequence; the same weights are used at every step.

    For t = 1..T, from h_0 = h0 and c_0 = c0, with a_t = x_t Wx + h_{t-1} Wh + b split into
    the blocks i, f, g, o:
    i = sigmoid(a_i + p_i * c_{t-1}), f = sigmoid(a_f + p_f * c_{t-1}), g = tanh(a_g),
    c_t = f * c_{t-1} + i * g, o = sigmoid(a_o + p_o * c_t), h_t = o * tanh(c_t).

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        c0: initial cell state, (N, H).
        Wx (D, 4H), Wh (H, 4H), b (4H,): the weights, blocks i, f, g, o, shared across time.
        p_i, p_f, p_o: peephole weights, each (H,), shared across time.

    Returns:
        h: hidden states h_1..h_T, (N, T, H).
        c: cell states c_1..c_T, (N, T, H).
        cache: what peephole_backward needs (a dict with one step cache per time step).
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o)
    h = np.empty((N, T, H), dtype=dtype)
    c = np.empty((N, T, H), dtype=dtype)
    steps = []
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, step_cache = peephole_step_forward(x[:, t, :], h_t, c_t, Wx, Wh, b, p_i, p_f, p_o)
        h[:, t, :] = h_t
        c[:, t, :] = c_t
        steps.append(step_cache)
    return h, c, {"steps": steps, "h": h, "c": c}


@check_shapes(bind=_seq_dims, dh="N T H", dc="N T H")
def peephole_backward(dh, dc, cache):
    """Backpropagation through time for peephole_forward.

    As for the LSTM: walking backwards in time we carry dh_next (into h_{t-1}) and dc_next
    (into c_{t-1}) to the earlier step and add up the gradients of the shared weights, the
    peephole vectors included. ``dc`` may be None (no upstream gradient on the cell states).

    Args:
        dh: upstream gradients of all hidden states, (N, T, H).
        dc: upstream gradients of all cell states, (N, T, H), or None.
        cache: from peephole_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,),
        dp_i (H,), dp_f (H,), dp_o (H,).
    """
    steps = cache["steps"]
    N, T, H = dh.shape
    x0, Wx, Wh = steps[0]["x"], steps[0]["Wx"], steps[0]["Wh"]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dp_i, dp_f, dp_o = (np.zeros(H, dtype=dh.dtype) for _ in range(3))
    dh_next = np.zeros((N, H), dtype=dh.dtype)  # gradient reaching h_t from step t+1
    dc_next = np.zeros((N, H), dtype=dh.dtype)  # gradient reaching c_t from step t+1
    for t in reversed(range(T)):
        dc_t = dc_next if dc is None else dc[:, t, :] + dc_next
        grads = peephole_step_backward(dh[:, t, :] + dh_next, dc_t, steps[t])
        dx_t, dh_next, dc_next, dWx_t, dWh_t, db_t, dp_i_t, dp_f_t, dp_o_t = grads
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
        dp_i += dp_i_t
        dp_f += dp_f_t
        dp_o += dp_o_t
    return dx, dh_next, dc_next, dWx, dWh, db, dp_i, dp_f, dp_o
