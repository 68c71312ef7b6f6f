"""Gated recurrent unit (GRU) in numpy, in two conventions: the lecture form and the PyTorch form.

Symbol key: N batch size, T time steps, D input size, H hidden size. Row vectors, as in
:mod:`solutions.rnn`: x (N, D), h (N, H), pre-activations ``x Wx + h_prev Wh + b``.
``sigmoid`` is the logistic function, ``*`` is the element-wise product, ``@`` or juxtaposition
(``x Wx``) the matrix product.

Both forms keep three gate blocks of width H side by side in ``Wx`` (D, 3H), ``Wh`` (H, 3H) and
the biases (3H,), in PyTorch's order, so that ``Wx = weight_ih.T`` and ``Wh = weight_hh.T``
(see :mod:`solutions.convert`). Block k is the column slice ``[:, k*H:(k+1)*H]``; below,
``Wx_r`` means the first block of ``Wx``, and so on.

1. Lecture form: the GRU as CS224n, Andrew Ng and colah teach it (the course's convention).
   Gates r (reset) and u (update), candidate h_tilde (written h̃ in the notes), and one bias
   b (3H,), because the two PyTorch biases would only ever appear as a sum here::

       r       = sigmoid(x Wx_r + h_prev Wh_r + b_r)
       u       = sigmoid(x Wx_u + h_prev Wh_u + b_u)
       h_tilde = tanh(x Wx_h + (r * h_prev) Wh_h + b_h)    reset BEFORE the matrix product
       h       = (1 - u) * h_prev + u * h_tilde            u weighs the CANDIDATE

   Blocks r, u, h_tilde, in that order.

2. PyTorch form: ``torch.nn.GRU`` and ``torch.nn.GRUCell`` (also cuDNN, and Keras with its
   default ``reset_after=True``). Cho et al. (2014)'s interpolation, where z keeps the old state,
   with the reset applied after the matrix product. Gates r (reset) and z (update), candidate n,
   two biases ``bx = bias_ih`` and ``bh = bias_hh``, each (3H,)::

       r = sigmoid(x Wx_r + bx_r + h_prev Wh_r + bh_r)
       z = sigmoid(x Wx_z + bx_z + h_prev Wh_z + bh_z)
       n = tanh(x Wx_n + bx_n + r * (h_prev Wh_n + bh_n))  reset AFTER the matrix product
       h = (1 - z) * n + z * h_prev                        z weighs the OLD STATE

   Blocks r, z, n, in that order. The two biases cannot be fused into one: ``bh_n`` is scaled
   by the reset gate, ``bx_n`` is not.

Why a lecture-form GRU cannot reproduce ``nn.GRU`` (pitfalls 1 and 2 of the course):

1. Interpolation direction. The paper's u multiplies the candidate, PyTorch's z multiplies the
   old state, so u plays the part of 1 - z. This alone could be undone by negating the update
   block of the weights and the bias, because sigmoid(-a) = 1 - sigmoid(a).
2. Reset placement. The paper resets h_prev and then multiplies by Wh_h; PyTorch multiplies by
   Wh_n first and then resets the product, bias ``bh_n`` included. ``(r * h_prev) Wh_h`` equals
   ``r * (h_prev Wh_h)`` only when Wh_h is diagonal (H = 1 included), and ``bh_n`` is reset in
   one form and not in the other. So for general weights no lecture-form weights reproduce
   ``nn.GRU`` on every input: even with the update block negated, the two agree only where
   r = 1 (or where h_prev = 0 and ``bh_n = 0``).

Notation crosswalk (Ng writes the GRU state c⟨t⟩, equal to his hidden state a⟨t⟩; CS224n writes
column vectors, ``W_u h_{t-1} + U_u x_t``, so that ``Wh_u = W_u^T`` and ``Wx_u = U_u^T``)::

    concept         lecture form   Ng              CS224n   colah   PyTorch form (= nn.GRU docs)
    reset gate      r            Γr "relevance"  r        r_t     r
    update gate     u            Γu              u        z_t     z, which plays 1 - u
    candidate       h_tilde      c̃⟨t⟩            h̃        h̃_t     n, reset after the product
    new state       h            c⟨t⟩            h        h_t     h
    update weighs   candidate    candidate       cand.    cand.   old state

Each forward returns ``(h, cache)``; each backward takes the upstream gradient of h and the cache
and returns one gradient per forward argument, in the forward's order.
"""

from __future__ import annotations

import numpy as np

from solutions._checks import check_cache, check_shapes
from solutions._common import sigmoid

_PAPER_HINT = {
    "Wx": "Wx stacks the three blocks r, u, h_tilde side by side (lecture form).",
    "Wh": "Wh stacks the three blocks r, u, h_tilde side by side (lecture form).",
    "b": "b stacks the three blocks r, u, h_tilde; it is bias_ih + bias_hh (lecture form).",
}
_PYTORCH_HINT = {
    "Wx": "Wx = weight_ih.T stacks the three blocks r, z, n side by side (PyTorch form).",
    "Wh": "Wh = weight_hh.T stacks the three blocks r, z, n side by side (PyTorch form).",
    "bx": "bx = bias_ih stacks the three blocks r, z, n (PyTorch form).",
    "bh": "bh = bias_hh stacks the three blocks r, z, n (PyTorch form).",
}

_PAPER_STEP_KEYS = ("x", "h_prev", "Wx", "Wh", "r", "u", "h_tilde", "h")
_PYTORCH_STEP_KEYS = ("x", "h_prev", "Wx", "Wh", "r", "z", "n", "gh_n", "h")


def _first_step(cache):
    """The first step cache of a sequence cache (None if there is none), to check its keys too:
    the sequence caches of the two forms have the same keys, their step caches do not."""
    steps = cache["steps"]
    return steps[0] if isinstance(steps, list) and steps else None


def _paper_step_dims(a):
    check_cache("gru_paper_step_backward", a["cache"], "gru_paper_step_forward", _PAPER_STEP_KEYS)
    return dict(zip("NH", a["cache"]["h"].shape, strict=True))


def _paper_seq_dims(a):
    check_cache("gru_paper_backward", a["cache"], "gru_paper_forward", ("steps", "h"))
    check_cache(
        "gru_paper_backward", _first_step(a["cache"]), "gru_paper_forward", _PAPER_STEP_KEYS
    )
    return dict(zip("NTH", a["cache"]["h"].shape, strict=True))


def _pytorch_step_dims(a):
    check_cache(
        "gru_pytorch_step_backward", a["cache"], "gru_pytorch_step_forward", _PYTORCH_STEP_KEYS
    )
    return dict(zip("NH", a["cache"]["h"].shape, strict=True))


def _pytorch_seq_dims(a):
    check_cache("gru_pytorch_backward", a["cache"], "gru_pytorch_forward", ("steps", "h"))
    check_cache(
        "gru_pytorch_backward", _first_step(a["cache"]), "gru_pytorch_forward", _PYTORCH_STEP_KEYS
    )
    return dict(zip("NTH", a["cache"]["h"].shape, strict=True))


# --------------------------------------------------------------------------------------------
# Lecture form: r, u, h_tilde; reset before the matrix product; u weighs the candidate.
# --------------------------------------------------------------------------------------------


@check_shapes(hint=_PAPER_HINT, x="N D", h_prev="N H", Wx="D 3H", Wh="H 3H", b="3H")
def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a GRU in the lecture form (CS224n, Ng, colah).

    r       = sigmoid(x Wx_r + h_prev Wh_r + b_r)
    u       = sigmoid(x Wx_u + h_prev Wh_u + b_u)
    h_tilde = tanh(x Wx_h + (r * h_prev) Wh_h + b_h)
    h       = (1 - u) * h_prev + u * h_tilde

    Args:
        x: input at this step, (N, D).
        h_prev: hidden state from the previous step, (N, H).
        Wx: input weights, blocks r, u, h_tilde, (D, 3H).
        Wh: recurrent weights, blocks r, u, h_tilde, (H, 3H).
        b: bias, blocks r, u, h_tilde, (3H,).

    Returns:
        h: the new hidden state, (N, H).
        cache: what your gru_paper_step_backward will need (any object you like; the
            reference uses a dict).
    """
    H = h_prev.shape[1]
    ax = x @ Wx + b  # (N, 3H): input part of all three pre-activations
    a_ru = ax[:, : 2 * H] + h_prev @ Wh[:, : 2 * H]  # (N, 2H): blocks r, u
    r = sigmoid(a_ru[:, :H])  # (N, H)
    u = sigmoid(a_ru[:, H:])  # (N, H)
    h_tilde = np.tanh(ax[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :])  # (N, H)
    h = (1.0 - u) * h_prev + u * h_tilde  # (N, H)
    cache = dict(x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, r=r, u=u, h_tilde=h_tilde, h=h)
    return h, cache


@check_shapes(bind=_paper_step_dims, dh="N H")
def gru_paper_step_backward(dh, cache):
    """Backward pass of one lecture-form GRU step: the gradients of the loss with respect to every
    argument of gru_paper_step_forward, given the gradient dh of its output. h_prev is used in
    four places (the mix, r * h_prev and both gates), so dh_prev is a sum of four parts.

    Args:
        dh: gradient of the loss with respect to h, (N, H).
        cache: from gru_paper_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    x, h_prev, Wx, Wh = (cache[k] for k in ("x", "h_prev", "Wx", "Wh"))
    r, u, h_tilde = (cache[k] for k in ("r", "u", "h_tilde"))
    H = h_prev.shape[1]

    # h = (1 - u) * h_prev + u * h_tilde
    dh_prev = dh * (1.0 - u)  # (N, H)
    du = dh * (h_tilde - h_prev)  # (N, H)
    dh_tilde = dh * u  # (N, H)

    # h_tilde = tanh(a_h), a_h = x Wx_h + (r * h_prev) Wh_h + b_h
    da_h = dh_tilde * (1.0 - h_tilde**2)  # (N, H)
    d_rh = da_h @ Wh[:, 2 * H :].T  # (N, H): gradient of r * h_prev
    dr = d_rh * h_prev  # (N, H)
    dh_prev += d_rh * r

    # r = sigmoid(a_r), u = sigmoid(a_u)
    da_r = dr * r * (1.0 - r)  # (N, H)
    da_u = du * u * (1.0 - u)  # (N, H)
    da_ru = np.concatenate([da_r, da_u], axis=1)  # (N, 2H)
    dh_prev += da_ru @ Wh[:, : 2 * H].T

    da = np.concatenate([da_ru, da_h], axis=1)  # (N, 3H): blocks r, u, h_tilde
    dx = da @ Wx.T  # (N, D)
    dWx = x.T @ da  # (D, 3H)
    dWh = np.concatenate([h_prev.T @ da_ru, (r * h_prev).T @ da_h], axis=1)  # (H, 3H)
    db = da.sum(axis=0)  # (3H,)
    return dx, dh_prev, dWx, dWh, db


@check_shapes(hint=_PAPER_HINT, x="N T D", h0="N H", Wx="D 3H", Wh="H 3H", b="3H")
def gru_paper_forward(x, h0, Wx, Wh, b):
    """Run a lecture-form GRU over a whole sequence; the same weights are used at every step.

    For t = 1..T, starting from h_0 = h0:
        r_t = sigmoid(x_t Wx_r + h_{t-1} Wh_r + b_r)
        u_t = sigmoid(x_t Wx_u + h_{t-1} Wh_u + b_u)
        h_tilde_t = tanh(x_t Wx_h + (r_t * h_{t-1}) Wh_h + b_h)
        h_t = (1 - u_t) * h_{t-1} + u_t * h_tilde_t

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        Wx (D, 3H), Wh (H, 3H), b (3H,): the weights, blocks r, u, h_tilde, shared across time.

    Returns:
        h: hidden states h_1..h_T, (N, T, H).
        cache: your choice, whatever your gru_paper_backward will need; the tests never look
            inside it. (Here: a dict with the list of step caches and h.)
    """
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx, Wh, b))
    steps = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = gru_paper_step_forward(x[:, t, :], h_t, Wx, Wh, b)
        h[:, t, :] = h_t
        steps.append(step_cache)
    return h, {"steps": steps, "h": h}


@check_shapes(bind=_paper_seq_dims, dh="N T H")
def gru_paper_backward(dh, cache):
    """Backpropagation through time for gru_paper_forward.

    Walk backwards in time; the gradient reaching h_t is ``dh[:, t]`` (from above) plus dh_next
    (from step t+1). Weight gradients of all steps are added, because the weights are shared.

    Args:
        dh: upstream gradients of all hidden states, (N, T, H).
        cache: from gru_paper_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    steps = cache["steps"]
    N, T, H = dh.shape
    x0, Wx, Wh = steps[0]["x"], steps[0]["Wx"], steps[0]["Wh"]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(3 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx_t, dh_next, dWx_t, dWh_t, db_t = gru_paper_step_backward(dh[:, t, :] + dh_next, steps[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dWx, dWh, db


# --------------------------------------------------------------------------------------------
# PyTorch form: r, z, n; reset after the matrix product; z weighs the old state.
# --------------------------------------------------------------------------------------------


@check_shapes(hint=_PYTORCH_HINT, x="N D", h_prev="N H", Wx="D 3H", Wh="H 3H", bx="3H", bh="3H")
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One time step of a GRU in the PyTorch form (equal to ``torch.nn.GRUCell``).

    r = sigmoid(x Wx_r + bx_r + h_prev Wh_r + bh_r)
    z = sigmoid(x Wx_z + bx_z + h_prev Wh_z + bh_z)
    n = tanh(x Wx_n + bx_n + r * (h_prev Wh_n + bh_n))
    h = (1 - z) * n + z * h_prev

    Args:
        x: input at this step, (N, D).
        h_prev: hidden state from the previous step, (N, H).
        Wx: input weights = weight_ih.T, blocks r, z, n, (D, 3H).
        Wh: recurrent weights = weight_hh.T, blocks r, z, n, (H, 3H).
        bx: input bias = bias_ih, blocks r, z, n, (3H,).
        bh: recurrent bias = bias_hh, blocks r, z, n, (3H,).

    Returns:
        h: the new hidden state, (N, H).
        cache: anything, None included: nothing in notebook 02 reads it, and the tests never
            look inside it. (Here: the dict that gru_pytorch_step_backward would need.)
    """
    H = h_prev.shape[1]
    gx = x @ Wx + bx  # (N, 3H): input parts, blocks r, z, n
    gh = h_prev @ Wh + bh  # (N, 3H): recurrent parts, blocks r, z, n
    r = sigmoid(gx[:, :H] + gh[:, :H])  # (N, H)
    z = sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])  # (N, H)
    gh_n = gh[:, 2 * H :]  # (N, H): h_prev Wh_n + bh_n, the part the reset gate scales
    n = np.tanh(gx[:, 2 * H :] + r * gh_n)  # (N, H)
    h = (1.0 - z) * n + z * h_prev  # (N, H)
    cache = dict(x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, r=r, z=z, n=n, gh_n=gh_n, h=h)
    return h, cache


@check_shapes(bind=_pytorch_step_dims, dh="N H")
def gru_pytorch_step_backward(dh, cache):
    """Backward pass of one PyTorch-form GRU step.

    Going back through the forward equations, last first (gx = x Wx + bx and gh = h_prev Wh + bh
    are the input and recurrent parts, blocks r, z, n; a_n = gx_n + r * gh_n):

        dn = dh * (1 - z)          dz = dh * (h_prev - n)          dh_prev = dh * z
        da_n = dn * (1 - n**2)     dr = da_n * gh_n                dgh_n = da_n * r
        da_r = dr * r * (1 - r)    da_z = dz * z * (1 - z)
        dgx = [da_r, da_z, da_n]   dgh = [da_r, da_z, dgh_n]       (blocks r, z, n)
        dx = dgx Wx^T,  dWx = x^T dgx,  dbx = sum over the batch of dgx
        dh_prev += dgh Wh^T,  dWh = h_prev^T dgh,  dbh = sum over the batch of dgh

    The n blocks of dgx and dgh differ by the factor r, which is why dbx_n != dbh_n.

    Args:
        dh: gradient of the loss with respect to h, (N, H).
        cache: from gru_pytorch_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,).
    """
    x, h_prev, Wx, Wh = (cache[k] for k in ("x", "h_prev", "Wx", "Wh"))
    r, z, n, gh_n = (cache[k] for k in ("r", "z", "n", "gh_n"))

    # h = (1 - z) * n + z * h_prev
    dh_prev = dh * z  # (N, H)
    dz = dh * (h_prev - n)  # (N, H)
    dn = dh * (1.0 - z)  # (N, H)

    # n = tanh(a_n), a_n = gx_n + r * gh_n
    da_n = dn * (1.0 - n**2)  # (N, H)
    dr = da_n * gh_n  # (N, H)
    dgh_n = da_n * r  # (N, H)

    # r = sigmoid(gx_r + gh_r), z = sigmoid(gx_z + gh_z)
    da_r = dr * r * (1.0 - r)  # (N, H)
    da_z = dz * z * (1.0 - z)  # (N, H)

    dgx = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H): blocks r, z, n
    dgh = np.concatenate([da_r, da_z, dgh_n], axis=1)  # (N, 3H): blocks r, z, n
    dx = dgx @ Wx.T  # (N, D)
    dWx = x.T @ dgx  # (D, 3H)
    dbx = dgx.sum(axis=0)  # (3H,)
    dh_prev += dgh @ Wh.T  # (N, H)
    dWh = h_prev.T @ dgh  # (H, 3H)
    dbh = dgh.sum(axis=0)  # (3H,)
    return dx, dh_prev, dWx, dWh, dbx, dbh


@check_shapes(hint=_PYTORCH_HINT, x="N T D", h0="N H", Wx="D 3H", Wh="H 3H", bx="3H", bh="3H")
def gru_pytorch_forward(x, h0, Wx, Wh, bx, bh):
    """Run a PyTorch-form GRU over a whole sequence (``torch.nn.GRU`` with batch_first=True).

    For t = 1..T, starting from h_0 = h0:
        r_t = sigmoid(x_t Wx_r + bx_r + h_{t-1} Wh_r + bh_r)
        z_t = sigmoid(x_t Wx_z + bx_z + h_{t-1} Wh_z + bh_z)
        n_t = tanh(x_t Wx_n + bx_n + r_t * (h_{t-1} Wh_n + bh_n))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,): the weights, blocks r, z, n, shared across
            time; Wx = weight_ih.T, Wh = weight_hh.T, bx = bias_ih, bh = bias_hh.

    Returns:
        h: hidden states h_1..h_T, (N, T, H).
        cache: what gru_pytorch_backward needs (a dict with one step cache per time step).
    """
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx, Wh, bx, bh))
    steps = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = gru_pytorch_step_forward(x[:, t, :], h_t, Wx, Wh, bx, bh)
        h[:, t, :] = h_t
        steps.append(step_cache)
    return h, {"steps": steps, "h": h}


@check_shapes(bind=_pytorch_seq_dims, dh="N T H")
def gru_pytorch_backward(dh, cache):
    """Backpropagation through time for gru_pytorch_forward.

    Walk backwards in time; the gradient reaching h_t is ``dh[:, t]`` (from above) plus dh_next
    (from step t+1). Weight gradients of all steps are added, because the weights are shared.

    Args:
        dh: upstream gradients of all hidden states, (N, T, H).
        cache: from gru_pytorch_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,).
    """
    steps = cache["steps"]
    N, T, H = dh.shape
    x0, Wx, Wh = steps[0]["x"], steps[0]["Wx"], steps[0]["Wh"]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    dbx, dbh = np.zeros(3 * H, dtype=dh.dtype), np.zeros(3 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx_t, dh_next, dWx_t, dWh_t, dbx_t, dbh_t = gru_pytorch_step_backward(
            dh[:, t, :] + dh_next, steps[t]
        )
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        dbx += dbx_t
        dbh += dbh_t
    return dx, dh_next, dWx, dWh, dbx, dbh


# --------------------------------------------------------------------------------------------
# PyTorch's fused layout -> the row-vector arrays of the PyTorch form.
# --------------------------------------------------------------------------------------------

_UNPACK_HINT = {
    "weight_ih": "weight_ih is PyTorch's (3H, D) input weight: blocks r, z, n stacked by rows.",
    "weight_hh": "weight_hh is PyTorch's (3H, H) recurrent weight: blocks r, z, n stacked by rows.",
    "bias_ih": "bias_ih is PyTorch's (3H,) input bias, blocks r, z, n.",
    "bias_hh": "bias_hh is PyTorch's (3H,) recurrent bias, blocks r, z, n.",
}


@check_shapes(hint=_UNPACK_HINT, weight_ih="3H D", weight_hh="3H H", bias_ih="3H", bias_hh="3H")
def unpack_gru_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    """PyTorch's four GRU arrays -> (Wx, Wh, bx, bh) for gru_pytorch_step_forward.

    PyTorch multiplies column vectors from the left, W_ih x + b_ih, and stacks the gate blocks
    r, z, n by rows: rows k*H..(k+1)*H of weight_ih belong to gate k. The course multiplies row
    vectors from the right, x Wx + bx, so Wx = weight_ih.T: the transpose turns row block k into
    column block k and keeps the order r, z, n. The two biases stay apart, because the reset gate
    multiplies the n block of bias_hh and not that of bias_ih.

    Args:
        weight_ih: (3H, D), ``weight_ih`` of torch.nn.GRUCell (``weight_ih_l0`` of torch.nn.GRU).
        weight_hh: (3H, H), ``weight_hh`` (``weight_hh_l0``).
        bias_ih: (3H,), ``bias_ih`` (``bias_ih_l0``).
        bias_hh: (3H,), ``bias_hh`` (``bias_hh_l0``).

    Returns:
        Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,), gate blocks r, z, n side by side. Copies
        here, so that writing into them can never change the module's weights; views such as
        weight_ih.T compute the same and pass the tests too (nothing in the course writes into
        these arrays).
    """
    Wx = weight_ih.T.copy()  # (D, 3H): row block k of weight_ih becomes column block k
    Wh = weight_hh.T.copy()  # (H, 3H)
    bx, bh = bias_ih.copy(), bias_hh.copy()  # (3H,) each; never add them up
    return Wx, Wh, bx, bh
