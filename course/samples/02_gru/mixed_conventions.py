"""Sample submission "mixed_conventions" for 02_gru: the paper form and PyTorch's form mixed up.

`python course/build.py samples` puts each function below into the answer cell of the same name.
This student learnt the GRU from PyTorch's documentation and Keras code:

- gru_paper_step_forward puts the update gate on the old state, h = u * h_prev + (1 - u) *
  h_tilde (PyTorch's direction): conventions mixed;
- gru_paper_forward is a right loop around that step, so it inherits the mistake;
- gru_paper_step_backward and gru_paper_backward are right for this student's own forward: the
  centred-difference tests pass, the comparisons with the reference fail with a note to fix the
  forward first (partial credit);
- unpack_gru_weights adds the two biases into bx and returns bh = 0: a missing bias;
- gru_pytorch_step_forward reads the blocks in the order z, r, n (Keras' order): gate order.
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "gru_paper_step_forward": 0.3,
    "gru_paper_forward": 0.2222,
    "gru_paper_step_backward": 0.9,
    "gru_paper_backward": 0.8182,
    "unpack_gru_weights": 0.25,
    "gru_pytorch_step_forward": 0.2,
}
NAMES = {
    "gru_paper_step_forward": ("conventions mixed",),
    "gru_paper_forward": ("conventions mixed",),
    "gru_paper_step_backward": ("fix gru_paper_step_forward first",),
    "gru_paper_backward": ("fix gru_paper_forward first",),
    "unpack_gru_weights": ("missing bias",),
    "gru_pytorch_step_forward": ("gate order",),
}


def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    """Mistake: u weighs the old state, as PyTorch's z does."""
    H = h_prev.shape[1]
    r = 1 / (1 + np.exp(-(x @ Wx[:, :H] + h_prev @ Wh[:, :H] + b[:H])))
    u = 1 / (1 + np.exp(-(x @ Wx[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H] + b[H : 2 * H])))
    h_tilde = np.tanh(x @ Wx[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :] + b[2 * H :])
    h = u * h_prev + (1 - u) * h_tilde
    return h, (x, h_prev, Wx, Wh, r, u, h_tilde)


def gru_paper_forward(x, h0, Wx, Wh, b):
    """A right loop around the wrong step."""
    states, caches, h = [], [], h0
    for t in range(x.shape[1]):
        h, c = gru_paper_step_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
        caches.append(c)
    return np.stack(states, axis=1), caches


def gru_paper_step_backward(dh, cache):
    """The exact backward of the step above (u on the old state)."""
    x, h_prev, Wx, Wh, r, u, h_tilde = cache
    H = h_prev.shape[1]
    da_h = dh * (1 - u) * (1 - h_tilde**2)
    ds = da_h @ Wh[:, 2 * H :].T
    da_r = ds * h_prev * r * (1 - r)
    da_u = dh * (h_prev - h_tilde) * u * (1 - u)
    dh_prev = dh * u + ds * r + da_r @ Wh[:, :H].T + da_u @ Wh[:, H : 2 * H].T
    da = np.concatenate([da_r, da_u, da_h], axis=1)
    dWh = np.concatenate([h_prev.T @ da_r, h_prev.T @ da_u, (r * h_prev).T @ da_h], axis=1)
    return da @ Wx.T, dh_prev, x.T @ da, dWh, da.sum(axis=0)


def gru_paper_backward(dh, cache):
    """A right BPTT loop around the step backward above."""
    N, T, H = dh.shape
    grads = None
    dx = []
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dh_next, *dw = gru_paper_step_backward(dh[:, t] + dh_next, cache[t])
        dx.insert(0, dx_t)
        grads = dw if grads is None else [g + d for g, d in zip(grads, dw, strict=True)]
    return (np.stack(dx, axis=1), dh_next, *grads)


def unpack_gru_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    """Mistake: the biases are added into one, as for the LSTM, and bh is left at zero."""
    return weight_ih.T.copy(), weight_hh.T.copy(), bias_ih + bias_hh, np.zeros_like(bias_hh)


def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """Mistake: blocks read as z, r, n (Keras' kernel order) instead of r, z, n."""
    H = h_prev.shape[1]
    gx, gh = x @ Wx + bx, h_prev @ Wh + bh
    z = 1 / (1 + np.exp(-(gx[:, :H] + gh[:, :H])))
    r = 1 / (1 + np.exp(-(gx[:, H : 2 * H] + gh[:, H : 2 * H])))
    n = np.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
    return (1 - z) * n + z * h_prev, None


ANSWERS = {
    "q_update_gradient": (
        "When u is near 1 the state is kept and the gradient passes, when u is near 0 the cell "
        "is an RNN. In PyTorch it is the same with z."
    ),
}
