"""Sample submission "correct" for 02_gru: every exercise right, by another route than solutions/.

`python course/build.py samples` puts each function below into the answer cell of the same name
(so each function may use only `np` and the other answer functions; the logistic function is
written out instead of calling the notebook's `sigmoid`),
and ANSWERS into the written-answer cells. Differences from the reference, on purpose: the paper
form is written as in Ng's course, one weight matrix acting on the concatenation [h_prev, x]
(built by stacking Wh on top of Wx), with the mix as h_prev + u * (h_tilde - h_prev); caches are
tuples; the sequence backward collects the per-step gradients in lists and adds them at the end;
the unpacking transposes the gate blocks one by one; the PyTorch-form cell uses einsum. It must
score full marks on every hidden suite.
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {}
NAMES = {}


def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    """Ng's layout: W = [Wh; Wx] acts on [h_prev, x]; the cache is a tuple."""
    H = h_prev.shape[1]
    W = np.vstack([Wh, Wx])  # (H + D, 3H): rows for h_prev, then rows for x
    hx = np.hstack([h_prev, x])  # (N, H + D)
    gates = 1.0 / (1.0 + np.exp(-(hx @ W[:, : 2 * H] + b[: 2 * H])))  # (N, 2H): r, u
    r, u = gates[:, :H], gates[:, H:]
    rhx = np.hstack([r * h_prev, x])  # what the candidate reads
    h_tilde = np.tanh(rhx @ W[:, 2 * H :] + b[2 * H :])
    h = h_prev + u * (h_tilde - h_prev)  # = (1 - u) * h_prev + u * h_tilde
    return h, (hx, rhx, W, r, u, h_tilde)


def gru_paper_forward(x, h0, Wx, Wh, b):
    """The step in a loop; the cache is the tuple of step caches."""
    states, caches = [], []
    h = h0
    for t in range(x.shape[1]):
        h, c = gru_paper_step_forward(x[:, t, :], h, Wx, Wh, b)
        states.append(h)
        caches.append(c)
    return np.stack(states, axis=1), tuple(caches)


def gru_paper_step_backward(dh, cache):
    """Gradients with respect to the concatenations, split at the end."""
    hx, rhx, W, r, u, h_tilde = cache
    H = r.shape[1]
    h_prev = hx[:, :H]
    da_c = dh * u * (1.0 - h_tilde * h_tilde)  # (N, H)
    d_rhx = da_c @ W[:, 2 * H :].T  # (N, H + D)
    dr = d_rhx[:, :H] * h_prev
    du = dh * (h_tilde - h_prev)
    da_g = np.hstack([dr * r * (1.0 - r), du * u * (1.0 - u)])  # (N, 2H)
    d_hx = da_g @ W[:, : 2 * H].T  # (N, H + D)
    dW = np.hstack([hx.T @ da_g, rhx.T @ da_c])  # (H + D, 3H)
    dh_prev = dh * (1.0 - u) + d_rhx[:, :H] * r + d_hx[:, :H]
    dx = d_rhx[:, H:] + d_hx[:, H:]
    db = np.concatenate([da_g.sum(axis=0), da_c.sum(axis=0)])
    return dx, dh_prev, dW[H:], dW[:H], db


def gru_paper_backward(dh, cache):
    """BPTT with the per-step weight gradients collected in lists and summed at the end."""
    N, T, H = dh.shape
    dxs, dWxs, dWhs, dbs = [None] * T, [], [], []
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx_t, carry, dWx_t, dWh_t, db_t = gru_paper_step_backward(dh[:, t] + carry, cache[t])
        dxs[t] = dx_t
        dWxs.append(dWx_t)
        dWhs.append(dWh_t)
        dbs.append(db_t)
    return np.stack(dxs, axis=1), carry, sum(dWxs), sum(dWhs), sum(dbs)


def unpack_gru_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    """Transpose the three gate blocks one by one and put them side by side."""
    H = weight_hh.shape[1]
    Wx = np.concatenate([weight_ih[k * H : (k + 1) * H].T for k in range(3)], axis=1)
    Wh = np.concatenate([weight_hh[k * H : (k + 1) * H].T for k in range(3)], axis=1)
    return Wx, Wh, np.array(bias_ih, copy=True), np.array(bias_hh, copy=True)


def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """PyTorch's GRUCell with einsum; the cache holds the gates."""
    H = h_prev.shape[1]
    gi = np.einsum("nd,dk->nk", x, Wx) + bx  # (N, 3H)
    gh = np.einsum("nj,jk->nk", h_prev, Wh) + bh  # (N, 3H)
    rz = 0.5 * (1.0 + np.tanh(0.5 * (gi[:, : 2 * H] + gh[:, : 2 * H])))  # logistic, via tanh
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    h = n + z * (h_prev - n)  # = (1 - z) * n + z * h_prev
    return h, {"r": r, "z": z, "n": n}


ANSWERS = {
    "q_reset": (
        "(a) Where r is near 0, the candidate does not read that unit of h_{t-1}: the new "
        "content is computed from the input as if that part of the past were gone, e.g. at the "
        "start of a new sentence. r does not decide what the state keeps; that is u. "
        "(b) The GRU with only an update gate from section 1: it can still keep its state with "
        "a small u, but its candidate always mixes in the whole old state."
    ),
    "q_update_gradient": (
        "(a) The direct term is 1 - u. With u near 0 it is about 1 and the other terms vanish, "
        "so state and gradient are copied over any number of steps; with u near 1 only the RNN "
        "path through the candidate is left and the gradient vanishes over many steps. (b) In "
        "PyTorch the direct term is z: z near 1 keeps, z near 0 overwrites. Use a negative "
        "update bias in the paper form and a positive z bias in PyTorch, in bias_ih or "
        "bias_hh but not both, since only their sum counts."
    ),
}
