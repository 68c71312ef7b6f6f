"""StackedSeeds beyond the MSE: cross-entropy training and one copy's readout taken out
(notebook 03's multi-seed experiments)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions.seeds import StackedSeeds, train_seeds
from solutions.tasks import temporal_order
from solutions.train import SequenceModel, train


def _single(seed, D, H, O, dtype=torch.float64):
    torch.manual_seed(seed)
    return SequenceModel(torch.nn.LSTM(D, H, batch_first=True, dtype=dtype), H, O).to(dtype)


def test_cross_entropy_side_by_side_equals_separate_runs():
    seeds, steps = (0, 2), 15

    def batch(rng):
        return temporal_order(8, 12, seed=rng, dtype=np.float64)

    stacked = StackedSeeds("LSTM", 8, 3, 4, seeds, dtype=torch.float64)
    hist = train_seeds(
        stacked, batch, steps, lr=0.05, clip_norm=0.5, progress=False, loss="cross_entropy"
    )
    for s, seed in enumerate(seeds):
        model = _single(seed, 8, 3, 4)
        ref = train(
            model,
            batch,
            torch.nn.functional.cross_entropy,
            steps,
            lr=0.05,
            clip_norm=0.5,
            seed=seed,
            progress=False,
        )
        np.testing.assert_allclose(hist["loss"][s], ref["loss"], rtol=1e-9, atol=1e-12)
        # the copy's layer and readout, taken out, are the separately trained model
        x = torch.from_numpy(batch(np.random.default_rng(5))[0])
        with torch.no_grad():
            out = stacked.readout(s)(stacked.layer(s)(x)[0][:, -1])
            torch.testing.assert_close(out, model(x), rtol=0, atol=1e-9)


def test_an_unknown_loss_is_named():
    with pytest.raises(ValueError, match="loss must be one of"):
        train_seeds(StackedSeeds("RNN", 2, 3, 1, (0,)), lambda r: None, 1, loss="bce")
