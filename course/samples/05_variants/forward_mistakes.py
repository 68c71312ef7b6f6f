"""Sample submission "forward_mistakes" for 05_variants: the coupling reversed in the forward pass.

- cifg_step_forward writes c = (1 - f) * c_prev + f * g (the gate learnt as the input gate);
- cifg_forward loops correctly over that step (its suite must say to fix the step first);
- parameter_count counts the CIFG with four blocks, as if i and f were both free gates;
- everything else is left unanswered.
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "cifg_step_forward": 0.25,
    "cifg_forward": 0.25,
    "cifg_step_backward": 0.0,
    "cifg_backward": 0.0,
    "cifg_flip": 0.0,
    "parameter_count": 1.4545,
    "switched_cell": 0.0,
}
NAMES = {
    "cifg_step_forward": ("The coupling is reversed",),
    "cifg_forward": ("your cifg_step_forward is not right",),
    "parameter_count": ("i and f were both kept as free gates",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Mistake: the coupling reversed, c = (1 - f) * c_prev + f * g."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    f, g, o = sigmoid(a[:, :H]), np.tanh(a[:, H : 2 * H]), sigmoid(a[:, 2 * H :])
    c = (1 - f) * c_prev + f * g
    return o * np.tanh(c), c, None


def cifg_forward(x, h0, c0, Wx, Wh, b):
    """Right loop over the step above."""
    h, c, hs, cs = h0, c0, [], []
    for t in range(x.shape[1]):
        h, c, _ = cifg_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, 1), np.stack(cs, 1), None


def parameter_count(cell, input_size, hidden_size, biases=2):
    """Mistake: the CIFG counted with four gate blocks (i and f both free)."""
    D, H = input_size, hidden_size
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 4}[cell]
    return G * (D * H + H * H + biases * H) + (3 * H if cell == "peephole" else 0)
