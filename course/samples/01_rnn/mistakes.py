"""Sample submission "mistakes" for 01_rnn: the typical mistakes, one kind per exercise.

`python course/build.py samples` puts each function below into the answer cell of the same name.
rnn_step_forward is right, so that the exercises built on it can be checked; every other
function has a mistake students make, which its hidden suite must fail and name:

- rnn_forward returns only the last state h_T (its cache is complete);
- rnn_step_backward uses 1 - a^2 (a the pre-activation) as the tanh derivative;
- rnn_backward overwrites the weight gradients at each step instead of accumulating them;
- rnn_step_jacobians scales the rows of Wh instead of Wh^T (transpose missing);
- jacobian_product_norms multiplies each earlier Jacobian on the left (wrong order);
- clip_by_global_norm clips each entry (value clipping) and returns the norm after clipping.
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "rnn_forward": 0.2222,
    "rnn_step_backward": 0.4,
    "rnn_backward": 1.2,
    "rnn_step_jacobians": 0.2857,
    "jacobian_product_norms": 1.1111,
    "clip_by_global_norm": 1.0,
}
NAMES = {
    "rnn_forward": ("only the last state",),
    "rnn_step_backward": ("derivative", "1 - a²"),
    "rnn_backward": ("accumulate",),
    "rnn_step_jacobians": ("transpose",),
    "jacobian_product_norms": ("multiplication order",),
    "clip_by_global_norm": ("global norm", "value clipping"),
}


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """Right: keeps the pre-activation in the cache as well."""
    a = x @ Wx + h_prev @ Wh + b
    h = np.tanh(a)
    cache = {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "a": a, "h": h}
    return h, cache


def rnn_forward(x, h0, Wx, Wh, b):
    """Mistake: returns only the last hidden state instead of all of them."""
    h = h0
    steps = []
    for t in range(x.shape[1]):
        h, step_cache = rnn_step_forward(x[:, t, :], h, Wx, Wh, b)
        steps.append(step_cache)
    return h, steps


def rnn_step_backward(dh, cache):
    """Mistake: tanh'(a) taken as 1 - a**2 instead of 1 - h**2."""
    da = dh * (1 - cache["a"] ** 2)
    dx = da @ cache["Wx"].T
    dh_prev = da @ cache["Wh"].T
    dWx = cache["x"].T @ da
    dWh = cache["h_prev"].T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db


def rnn_backward(dh, cache):
    """Mistake: dWx, dWh, db are overwritten at every step (only step 1's gradient is left)."""
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0]["x"].shape[1]))
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        step = cache[t]
        da = (dh[:, t, :] + dh_next) * (1 - step["h"] ** 2)
        dx[:, t, :] = da @ step["Wx"].T
        dh_next = da @ step["Wh"].T
        dWx = step["x"].T @ da
        dWh = step["h_prev"].T @ da
        db = da.sum(axis=0)
    return dx, dh_next, dWx, dWh, db


def rnn_step_jacobians(h, Wh):
    """Mistake: diag(1 - h^2) Wh instead of diag(1 - h^2) Wh^T."""
    return (1 - h**2)[..., :, None] * Wh


def jacobian_product_norms(J, ord=2):
    """Mistake: P = J_{T-k+1} @ P, multiplying on the left, so the order is reversed."""
    N, T, H, _ = J.shape
    P = np.stack([np.eye(H)] * N)
    norms = [np.linalg.norm(P, ord=ord, axis=(1, 2))]
    for k in range(1, T + 1):
        P = J[:, T - k] @ P
        norms.append(np.linalg.norm(P, ord=ord, axis=(1, 2)))
    return np.stack(norms, axis=1)


def clip_by_global_norm(grads, max_norm):
    """Mistakes: clips each entry to [-max_norm, max_norm]; returns the norm after clipping."""
    clipped = [np.clip(g, -max_norm, max_norm) for g in grads]
    total = np.sqrt(sum(np.sum(c**2) for c in clipped))
    return clipped, total


ANSWERS = {
    "q_clipping": "Clipping each entry keeps the gradient small, so it is the same thing.",
}
