"""Sample submission "state_mistakes" for 03_lstm: the new cell state is computed from h.

`python course/build.py samples` puts each function below into the answer cell of the same
name; the other exercises stay unanswered. lstm_step_forward computes c = f * h_prev + i * g
(the previous hidden state where the previous cell state belongs); lstm_forward is a right loop
around it, so it inherits the mistake. Both hidden suites must fail and name it.

The imports and `sigmoid` stand for the notebook's setup and helper cells.
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "lstm_step_forward": 0.4,
    "lstm_forward": 0.25,
    "lstm_step_backward": 0.0,
    "lstm_backward": 0.0,
    "LSTM": 0.0,
    "init_forget_bias": 0.0,
}
NAMES = {
    "lstm_step_forward": ("computed from the previous hidden state",),
    "lstm_forward": ("computed from h_{t-1} instead of c_{t-1}",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Mistake: c = f * h_prev + i * g."""
    H = h_prev.shape[1]
    z = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
    i, f, g, o = np.split(z, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c = f * h_prev + i * g
    h = o * np.tanh(c)
    assert c.shape[1] == H
    return h, c, [x, h_prev, c_prev, i, f, g, o, c]


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """Right (but it calls the lstm_step_forward above)."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    c = np.zeros((N, T, h0.shape[1]))
    caches = []
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, cache_t = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        h[:, t], c[:, t] = h_t, c_t
        caches.append(cache_t)
    return h, c, caches


ANSWERS = {
    "q_additive_update": (
        "The cell state is updated by adding, so the derivative along it is the forget gate, "
        "not a weight matrix times tanh'. If f is close to 1 the gradient stays."
    ),
}
