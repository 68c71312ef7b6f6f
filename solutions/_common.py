"""Small numerical helpers shared by the numpy cells (the notebooks define the same ones)."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function sigma(z) = 1 / (1 + exp(-z)), element-wise.

    Written as 0.5 * (1 + tanh(z / 2)), which is the same function but never overflows, so large
    negative pre-activations give 0 without a warning.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * z))
