"""StackedSeeds: S copies trained side by side follow the single-seed runs of train()."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions.seeds import StackedSeeds, mse_per_seed, train_and_test, train_seeds
from solutions.tasks import adding_problem
from solutions.train import SequenceModel, train

CELLS = {"RNN": torch.nn.RNN, "GRU": torch.nn.GRU, "LSTM": torch.nn.LSTM}


def _single(cell, seed, D=2, H=3, dtype=torch.float64):
    torch.manual_seed(seed)
    return SequenceModel(CELLS[cell](D, H, batch_first=True, dtype=dtype), H, 1).to(dtype)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_each_copy_starts_as_its_single_seed_model(cell):
    seeds = (3, 0, 7)
    stacked = StackedSeeds(cell, 2, 3, 1, seeds, dtype=torch.float64)
    x = torch.randn(4, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = stacked(x)
    assert out.shape == (3, 4, 1)
    for s, seed in enumerate(seeds):
        single = _single(cell, seed)
        torch.testing.assert_close(out[s], single(x), rtol=0, atol=1e-12)
        torch.testing.assert_close(stacked.layer(s)(x)[0], single.rnn(x)[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", ["RNN", "GRU"])
def test_training_side_by_side_equals_separate_runs(cell):
    """Adam, per-seed data and per-seed clipping (clip 0.5 bites): the loss curves of the copies
    are those of train() run once per seed."""
    seeds, steps = (0, 1), 25

    def batch(rng):
        return adding_problem(8, 6, seed=rng, dtype=np.float64)

    stacked = StackedSeeds(cell, 2, 3, 1, seeds, dtype=torch.float64)
    hist = train_seeds(stacked, batch, steps, lr=0.05, clip_norm=0.5, progress=False)
    x, y = adding_problem(50, 6, seed=99, dtype=np.float64)
    mses = mse_per_seed(stacked, x, y)
    for s, seed in enumerate(seeds):
        model = _single(cell, seed)
        ref = train(
            model,
            batch,
            torch.nn.functional.mse_loss,
            steps,
            lr=0.05,
            clip_norm=0.5,
            seed=seed,
            progress=False,
        )
        np.testing.assert_allclose(hist["loss"][s], ref["loss"], rtol=1e-9, atol=1e-12)
        assert max(ref["grad_norm"]) > 0.5  # the clip was active
        with torch.no_grad():
            ref_mse = torch.mean((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).item()
        assert mses[s] == pytest.approx(ref_mse, rel=1e-9)


def test_entries_outside_the_blocks_stay_zero():
    stacked = StackedSeeds("GRU", 2, 3, 1, (0, 1), dtype=torch.float64)
    train_seeds(stacked, lambda r: adding_problem(4, 5, seed=r), 5, lr=0.1, progress=False)
    named = dict(stacked.named_parameters())
    for name, ids in stacked.seed_of.items():
        assert torch.all(named[name][ids < 0] == 0), name


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="cell must be one of"):
        StackedSeeds("rnn", 2, 3, 1, (0,))
    with pytest.raises(ValueError, match=r"expected x of shape \(S=2"):
        StackedSeeds("RNN", 2, 3, 1, (0, 1))(torch.zeros(3, 4, 5, 2))
    with pytest.raises(ValueError, match="steps must be a positive int"):
        train_seeds(StackedSeeds("RNN", 2, 3, 1, (0,)), lambda r: None, 0)


def test_train_and_test_scores_every_seed_on_the_test_set():
    test_set = adding_problem(30, 5, seed=7, dtype=np.float64)
    loss, mse, model = train_and_test(
        "GRU", lambda r: adding_problem(4, 5, seed=r), test_set, (0, 3), 3, 4, lr=0.01
    )
    assert loss.shape == (2, 4) and mse.shape == (2,)
    np.testing.assert_allclose(mse, mse_per_seed(model, *test_set), rtol=0, atol=0)
    single = _single("GRU", 3, dtype=torch.float32)
    train(single, lambda r: adding_problem(4, 5, seed=r), torch.nn.functional.mse_loss, 4,
          lr=0.01, seed=3, progress=False)  # fmt: skip
    with torch.no_grad():
        x, y = (torch.tensor(a, dtype=torch.float32) for a in test_set)
        ref = torch.mean((single(x) - y) ** 2)
    assert mse[1] == pytest.approx(ref.item(), rel=1e-4)
