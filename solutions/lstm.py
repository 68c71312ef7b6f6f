"""LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), in numpy.

Symbol key: N batch size, T time steps, D input size, H hidden size. Gates and states are
(N, H); the four gate blocks are fused into one weight matrix each.

Convention (row vectors, as in the notebooks). One step, with * the element-wise product:

    i = sigmoid(x Wx_i + h_prev Wh_i + b_i)      input gate: how much of g is written
    f = sigmoid(x Wx_f + h_prev Wh_f + b_f)      forget gate: how much of c_prev is kept
    g = tanh   (x Wx_g + h_prev Wh_g + b_g)      candidate: the new content
    o = sigmoid(x Wx_o + h_prev Wh_o + b_o)      output gate: how much of the cell is shown
    c = f * c_prev + i * g                       cell state (the "conveyor")
    h = o * tanh(c)                              hidden state

    x (N, D), h_prev (N, H), c_prev (N, H)
    Wx (D, 4H) = [Wx_i | Wx_f | Wx_g | Wx_o], Wh (H, 4H) likewise, b (4H,) = [b_i | b_f | b_g | b_o]

The blocks are in PyTorch's order i, f, g, o (CS231n uses i, f, o, g: swapping two blocks
passes every shape check, so the order is tested against ``torch.nn.LSTM``).

The same cell in the other notations of the course:

* Andrew Ng: hidden state a<t>, cell c<t>, candidate c~<t>, gates Gamma_u, Gamma_f, Gamma_o with
  weights W_u [a<t-1>, x<t>] + b_u (column vectors, concatenated input). His "update gate"
  Gamma_u is our **input gate i** here; in his GRU lecture the same name is the GRU's update gate.
  His W_u is [Wh_i; Wx_i]^T.
* CS224n: f, i, o, c~ with W h(t-1) + U x(t) + b (column vectors): W_i = Wh_i^T, U_i = Wx_i^T.
* colah's blog: f_t, i_t, o_t, candidate C~_t and cell C_t, weights W_f . [h_{t-1}, x_t] + b_f.
* Udacity: long-term memory = c, short-term memory = h, the event = x. The learn gate is
  i * g (g gated by the "ignore factor" i), the forget gate is f * c_prev, the remember gate
  adds the two to give c, and the use gate is o * tanh(c), which gives h.
* PyTorch ``nn.LSTM``: i, f, g, o with weight_ih = Wx^T (4H, D), weight_hh = Wh^T (4H, H) and
  two biases bias_ih, bias_hh that only appear as a sum, so b = bias_ih + bias_hh. A forget
  bias of 1 therefore goes into one of them, not both (see :mod:`solutions.convert`).

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
    "b": "b stacks the four gate biases i, f, g, o (b = bias_ih + bias_hh in PyTorch).",
}


_STEP_KEYS = ("x", "h_prev", "c_prev", "Wx", "Wh", "i", "f", "g", "o", "c", "tanh_c")


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
    _own_step_cache("lstm_step_backward", "lstm_step_forward", a["cache"])
    return dict(zip("NH", a["cache"]["c_prev"].shape, strict=True))


def _seq_dims(a):
    cache = a["cache"]
    check_cache("lstm_backward", cache, "lstm_forward", ("steps", "h", "c"))
    for step in cache["steps"]:
        _own_step_cache("lstm_backward", "lstm_forward", step)
    return dict(zip("NTH", cache["h"].shape, strict=True))


@check_shapes(x="N D", h_prev="N H", c_prev="N H", Wx="D 4H", Wh="H 4H", b="4H", hint=_HINT)
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One time step of an LSTM.

    a = x Wx + h_prev Wh + b, split into four column blocks of width H in the order i, f, g, o:
    i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o),
    c = f * c_prev + i * g,  h = o * tanh(c)   (* is the element-wise product).

    Args:
        x: input at this step, (N, D).
        h_prev: hidden state from the previous step, (N, H).
        c_prev: cell state from the previous step, (N, H).
        Wx: input-to-gates weights, blocks i, f, g, o, (D, 4H).
        Wh: hidden-to-gates weights, blocks i, f, g, o, (H, 4H).
        b: gate biases, blocks i, f, g, o, (4H,).

    Returns:
        h: the new hidden state, (N, H).
        c: the new cell state, (N, H).
        cache: what lstm_step_backward needs (any object you like; the reference uses a dict).
    """
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b  # (N, 4H): all four pre-activations at once
    i = sigmoid(a[:, 0 * H : 1 * H])  # (N, H) input gate
    f = sigmoid(a[:, 1 * H : 2 * H])  # (N, H) forget gate
    g = np.tanh(a[:, 2 * H : 3 * H])  # (N, H) candidate
    o = sigmoid(a[:, 3 * H : 4 * H])  # (N, H) output gate
    c = f * c_prev + i * g  # (N, H)
    tanh_c = np.tanh(c)  # (N, H)
    h = o * tanh_c  # (N, H)
    cache = {
        "x": x,
        "h_prev": h_prev,
        "c_prev": c_prev,
        "Wx": Wx,
        "Wh": Wh,
        "i": i,
        "f": f,
        "g": g,
        "o": o,
        "c": c,
        "tanh_c": tanh_c,
    }
    return h, c, cache


@check_shapes(dh="N H", dc="N H", o="N H", c="N H")
def lstm_dc_total(dh, dc, o, c):
    """Total gradient of the loss with respect to the cell state c of one LSTM step.

    c is used twice: it leaves the step as the new cell state (the gradient that comes back along
    it is ``dc``), and it makes the new hidden state h = o * tanh(c) (whose gradient is ``dh``).
    Return dL/dc counting every path.

    Args:
        dh: gradient of the loss with respect to h, (N, H).
        dc: gradient of the loss with respect to c that arrives along the cell state, (N, H).
        o: the step's output gate, (N, H).
        c: the step's cell state, (N, H).

    Returns:
        dc_total, (N, H).
    """
    return dc + dh * o * (1.0 - np.tanh(c) ** 2)


@check_shapes(bind=_step_dims, dh="N H", dc="N H")
def lstm_step_backward(dh, dc, cache):
    """Backward pass of one LSTM step: the gradients of the loss with respect to every argument
    of lstm_step_forward, given the gradients dh and dc of its two outputs. Start from
    lstm_dc_total (the cell state is reached two ways); the weight gradients sum over the batch.

    Args:
        dh: gradient of the loss with respect to h, (N, H).
        dc: gradient of the loss with respect to c, (N, H).
        cache: from lstm_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, h_prev, c_prev, Wx, Wh = (cache[k] for k in ("x", "h_prev", "c_prev", "Wx", "Wh"))
    i, f, g, o, tanh_c = (cache[k] for k in ("i", "f", "g", "o", "tanh_c"))
    do = dh * tanh_c  # (N, H)
    dc_total = lstm_dc_total(dh, dc, o, cache["c"])  # (N, H)
    di = dc_total * g  # (N, H)
    df = dc_total * c_prev  # (N, H)
    dg = dc_total * i  # (N, H)
    dc_prev = dc_total * f  # (N, H)
    da = np.concatenate(
        [
            di * i * (1.0 - i),  # (N, H) block i
            df * f * (1.0 - f),  # (N, H) block f
            dg * (1.0 - g**2),  # (N, H) block g
            do * o * (1.0 - o),  # (N, H) block o
        ],
        axis=1,
    )  # (N, 4H)
    dx = da @ Wx.T  # (N, D)
    dh_prev = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, 4H)
    dWh = h_prev.T @ da  # (H, 4H)
    db = da.sum(axis=0)  # (4H,)
    return dx, dh_prev, dc_prev, dWx, dWh, db


@check_shapes(x="N T D", h0="N H", c0="N H", Wx="D 4H", Wh="H 4H", b="4H", hint=_HINT)
def lstm_forward(x, h0, c0, Wx, Wh, b):
    """Run an LSTM over a whole sequence; the same weights are used at every step.

    (h_t, c_t) = lstm_step(x_t, h_{t-1}, c_{t-1}) for t = 1..T, from h_0 = h0 and c_0 = c0,
    where a step is i, f, g, o = gates of x_t Wx + h_{t-1} Wh + b (blocks i, f, g, o),
    c_t = f * c_{t-1} + i * g and h_t = o * tanh(c_t).

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        c0: initial cell state, (N, H).
        Wx (D, 4H), Wh (H, 4H), b (4H,): the weights, blocks i, f, g, o, shared across time.

    Returns:
        h: hidden states h_1..h_T, (N, T, H).
        c: cell states c_1..c_T, (N, T, H).
        cache: what lstm_backward needs (any object you like; the reference uses a dict
            holding the cache of every step).
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, c0, Wx, Wh, b)
    h = np.empty((N, T, H), dtype=dtype)
    c = np.empty((N, T, H), dtype=dtype)
    steps = []
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, step_cache = lstm_step_forward(x[:, t, :], h_t, c_t, Wx, Wh, b)
        h[:, t, :] = h_t
        c[:, t, :] = c_t
        steps.append(step_cache)
    return h, c, {"steps": steps, "h": h, "c": c}


@check_shapes(bind=_seq_dims, dh="N T H", dc="N T H")
def lstm_backward(dh, dc, cache):
    """Backpropagation through time for lstm_forward.

    ``dh[:, t]`` and ``dc[:, t]`` are the gradients of the loss with respect to h_t and c_t
    coming from above; ``dc`` may be None when the loss does not read the cell states (the
    usual case), which means zero. Walking backwards in time we carry two gradients into each
    earlier step, dh_next (through h_{t-1}) and dc_next (through c_{t-1}, the conveyor), and
    add the weight gradients of every step, because the weights are shared.

    Args:
        dh: upstream gradients of all hidden states, (N, T, H).
        dc: upstream gradients of all cell states, (N, T, H), or None.
        cache: from lstm_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    steps = cache["steps"]
    N, T, H = dh.shape
    x0, Wx, Wh = steps[0]["x"], steps[0]["Wx"], steps[0]["Wh"]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)  # gradient reaching h_t from step t+1
    dc_next = np.zeros((N, H), dtype=dh.dtype)  # gradient reaching c_t from step t+1
    for t in reversed(range(T)):
        dc_t = dc_next if dc is None else dc[:, t, :] + dc_next
        dx_t, dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t, :] + dh_next, dc_t, steps[t]
        )
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dc_next, dWx, dWh, db
