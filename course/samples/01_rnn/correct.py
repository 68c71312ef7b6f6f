"""Sample submission "correct" for 01_rnn: every exercise right, by another route than solutions/.

`python course/build.py samples` puts each function below into the answer cell of the same name
(so each function may use only `np` and the other answer functions), and ANSWERS into the
written-answer cells. Differences from the reference, on purpose: caches are tuples, products are
einsums, the sequence forward projects all inputs at once, the sequence backward first runs the
recurrence for da_t and then gets every gradient from all da_t together, the Jacobian products
come from itertools.accumulate and the spectral norm from an SVD, and clipping takes the norm of
one concatenated vector. It must score full marks on every hidden suite.
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {}
NAMES = {}


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One tanh RNN step, h = tanh(x Wx + h_prev Wh + b); the cache is a tuple."""
    a = np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b[None, :]
    h = np.tanh(a)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_forward(x, h0, Wx, Wh, b):
    """All input projections at once, then the recurrence; the cache is a tuple."""
    xw = np.einsum("ntd,dh->nth", x, Wx) + b  # (N, T, H)
    states = []
    h = h0
    for t in range(x.shape[1]):
        h = np.tanh(xw[:, t] + h @ Wh)
        states.append(h)
    hs = np.stack(states, axis=1)  # (N, T, H)
    return hs, (x, h0, Wx, Wh, hs)


def rnn_step_backward(dh, cache):
    """Gradients of one step from the tuple cache, every product written as an einsum."""
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1.0 - h * h)
    dx = np.einsum("nh,dh->nd", da, Wx)
    dh_prev = np.einsum("nh,kh->nk", da, Wh)
    dWx = np.einsum("nd,nh->dh", x, da)
    dWh = np.einsum("nk,nh->kh", h_prev, da)
    db = np.einsum("nh->h", da)
    return dx, dh_prev, dWx, dWh, db


def rnn_backward(dh, cache):
    """BPTT in two passes: the recurrence for da_t alone, then all gradients from every da_t."""
    x, h0, Wx, Wh, hs = cache
    N, T, H = hs.shape
    da = np.empty_like(hs)
    from_later = np.zeros((N, H))  # gradient reaching h_t through step t+1
    for t in range(T - 1, -1, -1):
        da[:, t] = (dh[:, t] + from_later) * (1.0 - hs[:, t] ** 2)
        from_later = da[:, t] @ Wh.T
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # h_0 .. h_{T-1}
    dx = np.einsum("nth,dh->ntd", da, Wx)
    dWx = np.einsum("ntd,nth->dh", x, da)
    dWh = np.einsum("ntk,nth->kh", h_prev, da)
    db = da.sum(axis=(0, 1))
    return dx, from_later, dWx, dWh, db


def rnn_step_jacobians(h, Wh):
    """J[n, t, i, j] = (1 - h[n, t, i]^2) Wh[j, i], in one einsum."""
    return np.einsum("nti,ji->ntij", 1.0 - h * h, Wh)


def jacobian_product_norms(J, ord=2):
    """Running products J_T, J_T J_{T-1}, ... from itertools.accumulate; 2-norm from an SVD."""
    import itertools

    N, T, H, _ = J.shape
    latest_first = [J[:, t] for t in range(T - 1, -1, -1)]
    identity = np.tile(np.eye(H), (N, 1, 1))
    products = itertools.accumulate(latest_first, np.matmul, initial=identity)

    def norm(P):
        if ord == 2:
            return np.linalg.svd(P, compute_uv=False)[:, 0]
        if ord == "fro":
            return np.sqrt(np.einsum("nij,nij->n", P, P))
        return np.linalg.norm(P, ord=ord, axis=(1, 2))

    return np.stack([norm(P) for P in products], axis=1)


def clip_by_global_norm(grads, max_norm):
    """The norm of all entries as one concatenated vector; one factor for every array."""
    flat = np.concatenate([np.ravel(g) for g in grads])
    total = float(np.linalg.norm(flat))
    factor = max_norm / total if total > max_norm else 1.0
    return [np.multiply(g, factor) for g in grads], total


ANSWERS = {
    "q_clipping": (
        "Clipping by the global norm multiplies every entry of every gradient by the same "
        "number max_norm / total, so the clipped gradient points exactly where the original "
        "did; only its length changes. Clipping each entry to [-c, c] cuts only the entries "
        "larger than c and leaves the small ones alone, so the ratios between entries change: "
        "the large components lose weight relative to the small ones and the update points in "
        "a different direction."
    ),
    "q_vanishing": (
        "dh_T/dh_{T-k} is a product of k Jacobians diag(1 - h_t^2) Wh^T. Each factor has norm "
        "at most the largest singular value of Wh, because |tanh'| <= 1, so when that value is "
        "below 1 the product shrinks geometrically in k and the gradient from distant steps "
        "vanishes. A spectral radius above 1 makes growth possible but does not guarantee it, "
        "since saturated units have tanh' close to 0."
    ),
}
