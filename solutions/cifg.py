"""CIFG LSTM (coupled input and forget gate), in numpy: one gate decides both, i = 1 - f.

Symbol key: N batch size, T time steps, D input size, H hidden size.

Convention (row vectors, as in :mod:`solutions.lstm`; * is the element-wise product):

    f = sigmoid(x Wx_f + h_prev Wh_f + b_f)      forget gate (the only write/keep gate)
    g = tanh   (x Wx_g + h_prev Wh_g + b_g)      candidate
    o = sigmoid(x Wx_o + h_prev Wh_o + b_o)      output gate
    c = f * c_prev + (1 - f) * g                 the input gate is i = 1 - f
    h = o * tanh(c)

    x (N, D), h_prev (N, H), c_prev (N, H)
    Wx (D, 3H) = [Wx_f | Wx_g | Wx_o], Wh (H, 3H) likewise, b (3H,) = [b_f | b_g | b_o]

The blocks are the LSTM's i, f, g, o with the i block removed, so the order is f, g, o. The cell
forgets only what it overwrites: each element of c moves towards g by the fraction 1 - f. It has
a quarter fewer weights than the LSTM, and Greff et al. (2017) found it about as good.

Two parameterisations (pitfall 6). We learn the forget gate f and set i = 1 - f. Greff et al.
learn the input gate and set f = 1 - i. They are the same family of cells: since
1 - sigmoid(z) = sigmoid(-z), a cell of one form equals a cell of the other whose gate weights
and bias (that block of Wx, Wh and b) have the opposite sign. Only the meaning of the numbers
changes: this course learns f so that a forget bias of 1 (Gers et al. 2000; Jozefowicz et al.
2015) keeps its meaning, "remember by default"; in the f = 1 - i form the same choice is an
input bias of -1.

Crosswalk: as for the LSTM (see :mod:`solutions.lstm`). colah's blog draws this variant as
C_t = f_t * C_{t-1} + (1 - f_t) * C~_t, our form. Ng's GRU couples its two terms the same
way but learns the gate on the candidate (Gamma_u * c~ + (1 - Gamma_u) * c<t-1>), the other
form. PyTorch has no CIFG.

Each forward returns ``(outputs..., cache)``; each backward takes the upstream gradient of every
output and the cache, and returns one gradient per forward argument, in the forward's order.
"""

from __future__ import annotations

import numpy as np

from solutions._checks import check_cache, check_shapes
from solutions._common import sigmoid

_HINT = {
    "Wx": "Wx stacks the three gate blocks f, g, o side by side (no i block: i = 1 - f).",
    "Wh": "Wh stacks the three gate blocks f, g, o side by side (no i block: i = 1 - f).",
    "b": "b stacks the three gate biases f, g, o (no i block: i = 1 - f).",
}


_STEP_KEYS = ("x", "h_prev", "c_prev", "Wx", "Wh", "f", "g", "o", "tanh_c")


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
    _own_step_cache("cifg_step_backward", "cifg_step_forward", a["cache"])
    return dict(zip("NH", a["cache"]["c_prev"].shape, strict=True))


def _seq_dims(a):
    cache = a["cache"]
    check_cache("cifg_backward", cache, "cifg_forward", ("steps", "h", "c"))
    for step in cache["steps"]:
        _own_step_cache("cifg_backward", "cifg_forward", step)
    return dict(zip("NTH", cache["h"].shape, strict=True))


@check_shapes(x="N D", h_prev="N H", c_prev="N H", Wx="D 3H", Wh="H 3H", b="3H", hint=_HINT)
def cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One time step of a CIFG LSTM.

    a = x Wx + h_prev Wh + b, split into three column blocks of width H in the order f, g, o:
    f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o),
    c = f * c_prev + (1 - f) * g,  h = o * tanh(c).

    Args:
        x: input at this step, (N, D).
        h_prev: hidden state from the previous step, (N, H).
        c_prev: cell state from the previous step, (N, H).
        Wx: input-to-gates weights, blocks f, g, o, (D, 3H).
        Wh: hidden-to-gates weights, blocks f, g, o, (H, 3H).
        b: gate biases, blocks f, g, o, (3H,).

    Returns:
        h: the new hidden state, (N, H).
        c: the new cell state, (N, H).
        cache: a dict of what cifg_step_backward needs (its keys are yours to choose).
    """
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b  # (N, 3H)
    f = sigmoid(a[:, 0 * H : 1 * H])  # (N, H) forget gate; the input gate is 1 - f
    g = np.tanh(a[:, 1 * H : 2 * H])  # (N, H) candidate
    o = sigmoid(a[:, 2 * H : 3 * H])  # (N, H) output gate
    c = f * c_prev + (1.0 - f) * g  # (N, H)
    tanh_c = np.tanh(c)  # (N, H)
    h = o * tanh_c  # (N, H)
    cache = {
        "x": x,
        "h_prev": h_prev,
        "c_prev": c_prev,
        "Wx": Wx,
        "Wh": Wh,
        "f": f,
        "g": g,
        "o": o,
        "tanh_c": tanh_c,
    }
    return h, c, cache


@check_shapes(bind=_step_dims, dh="N H", dc="N H")
def cifg_step_backward(dh, dc, cache):
    """Backward pass of one CIFG step: the gradient of the loss with respect to every argument
    of cifg_step_forward, given the gradients dh and dc of its two outputs.

    The one gate f appears twice in the update c = f * c_prev + (1 - f) * g: its gradient
    collects both uses. The weight gradients sum over the batch; da has the blocks f, g, o.

    Args:
        dh: gradient of the loss with respect to h, (N, H).
        dc: gradient of the loss with respect to c, (N, H).
        cache: from cifg_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    x, h_prev, c_prev, Wx, Wh = (cache[k] for k in ("x", "h_prev", "c_prev", "Wx", "Wh"))
    f, g, o, tanh_c = (cache[k] for k in ("f", "g", "o", "tanh_c"))
    do = dh * tanh_c  # (N, H)
    dc_total = dc + dh * o * (1.0 - tanh_c**2)  # (N, H)
    df = dc_total * (c_prev - g)  # (N, H)
    dg = dc_total * (1.0 - f)  # (N, H)
    dc_prev = dc_total * f  # (N, H)
    da = np.concatenate(
        [
            df * f * (1.0 - f),  # (N, H) block f
            dg * (1.0 - g**2),  # (N, H) block g
            do * o * (1.0 - o),  # (N, H) block o
        ],
        axis=1,
    )  # (N, 3H)
    dx = da @ Wx.T  # (N, D)
    dh_prev = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, 3H)
    dWh = h_prev.T @ da  # (H, 3H)
    db = da.sum(axis=0)  # (3H,)
    return dx, dh_prev, dc_prev, dWx, dWh, db


@check_shapes(x="N T D", h0="N H", c0="N H", Wx="D 3H", Wh="H 3H", b="3H", hint=_HINT)
def cifg_forward(x, h0, c0, Wx, Wh, b):
    """Run a CIFG LSTM over a whole sequence; the same weights are used at every step.

    For t = 1..T, from h_0 = h0 and c_0 = c0, with a_t = x_t Wx + h_{t-1} Wh + b (blocks f, g, o):
    f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o), c_t = f * c_{t-1} + (1 - f) * g,
    h_t = o * tanh(c_t).

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        c0: initial cell state, (N, H).
        Wx (D, 3H), Wh (H, 3H), b (3H,): the weights, blocks f, g, o, shared across time.

    Returns:
        h: hidden states h_1..h_T, (N, T, H).
        c: cell states c_1..c_T, (N, T, H).
        cache: a dict of what cifg_backward needs (here one step cache per time step).
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, c0, Wx, Wh, b)
    h = np.empty((N, T, H), dtype=dtype)
    c = np.empty((N, T, H), dtype=dtype)
    steps = []
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, step_cache = cifg_step_forward(x[:, t, :], h_t, c_t, Wx, Wh, b)
        h[:, t, :] = h_t
        c[:, t, :] = c_t
        steps.append(step_cache)
    return h, c, {"steps": steps, "h": h, "c": c}


@check_shapes(bind=_seq_dims, dh="N T H", dc="N T H")
def cifg_backward(dh, dc, cache):
    """Backpropagation through time for cifg_forward.

    As for the LSTM: walking backwards in time we carry dh_next (into h_{t-1}) and dc_next
    (into c_{t-1}) to the earlier step and add up the gradients of the shared weights.
    ``dc`` may be None (no upstream gradient on the cell states).

    Args:
        dh: upstream gradients of all hidden states, (N, T, H).
        dc: upstream gradients of all cell states, (N, T, H), or None.
        cache: from cifg_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    steps = cache["steps"]
    N, T, H = dh.shape
    x0, Wx, Wh = steps[0]["x"], steps[0]["Wx"], steps[0]["Wh"]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(3 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)  # gradient reaching h_t from step t+1
    dc_next = np.zeros((N, H), dtype=dh.dtype)  # gradient reaching c_t from step t+1
    for t in reversed(range(T)):
        dc_t = dc_next if dc is None else dc[:, t, :] + dc_next
        dx_t, dh_next, dc_next, dWx_t, dWh_t, db_t = cifg_step_backward(
            dh[:, t, :] + dh_next, dc_t, steps[t]
        )
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dc_next, dWx, dWh, db


@check_shapes(Wx="D 3H", Wh="H 3H", b="3H", hint=_HINT)
def cifg_flip(Wx, Wh, b):
    """The weights of the same CIFG cell in the other parameterisation (pitfall 6).

    This course learns the forget gate, f = sigmoid(a_f), and sets i = 1 - f. The other form
    (Greff et al. 2017) learns the input gate, i = sigmoid(a_i), and sets f = 1 - i. Since
    1 - sigmoid(z) = sigmoid(-z), a cell of one form equals the cell of the other form whose
    gate block (the first H columns of Wx and Wh, and the first H entries of b) has the opposite
    sign; the candidate and output blocks stay as they are. A forget bias of +1 is an input
    bias of -1. Flipping twice gives the weights back.

    Args:
        Wx (D, 3H), Wh (H, 3H), b (3H,): blocks [gate | g | o], the gate being f in this
            course's form and i in the other.

    Returns:
        Wx, Wh, b of the same shapes (new arrays; the arguments are not changed).
    """
    H = Wh.shape[0]
    Wx, Wh, b = Wx.copy(), Wh.copy(), b.copy()
    Wx[:, :H] = -Wx[:, :H]  # (D, H) the gate block
    Wh[:, :H] = -Wh[:, :H]  # (H, H)
    b[:H] = -b[:H]  # (H,)
    return Wx, Wh, b
