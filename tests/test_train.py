"""solutions.train: SequenceModel around torch.nn and from-scratch modules, and train()."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from solutions import modules as M
from solutions.tasks import adding_problem
from solutions.train import SequenceModel, train

F = nn.functional


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models train much faster on one thread, most of all on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(kind=nn.LSTM, D=2, H=4, O=1, readout="last", seed=0, dtype=None):
    """A seeded SequenceModel in torch's default dtype, or in ``dtype``."""
    torch.manual_seed(seed)
    return SequenceModel(kind(D, H, batch_first=True), H, O, readout).to(dtype)


def _last_input(n, T):
    """A trivially learnable task: output the input at the last step."""

    def batch(rng):
        x = rng.uniform(-1, 1, size=(n, T, 1)).astype(np.float32)
        return x, x[:, -1, :]

    return batch


# --------------------------------------------------------------------------------------------
# SequenceModel
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [nn.RNN, nn.GRU, nn.LSTM, M.RNN, M.GRU, M.LSTM])
def test_readouts_shapes_and_values(kind):
    x = torch.randn(3, 5, 2)
    last = _model(kind, H=4, O=3, readout="last")
    every = _model(kind, H=4, O=3, readout="all")
    y_last, y_all = last(x), every(x)
    assert y_last.shape == (3, 3) and y_all.shape == (3, 5, 3)
    # same seed, same weights: the "last" readout is the last step of the "all" readout
    torch.testing.assert_close(y_last, y_all[:, -1])
    out, _ = last.rnn(x)
    torch.testing.assert_close(y_last, out[:, -1] @ last.head.weight.T + last.head.bias)


@pytest.mark.parametrize("kind", [nn.LSTM, M.LSTM, nn.GRU])
def test_state_carries_over_between_calls(kind):
    model = _model(kind, H=3, O=2, readout="all")
    x = torch.randn(2, 6, 2)
    whole = model(x)
    y1, state = model(x[:, :4], return_state=True)
    y2, _ = model(x[:, 4:], state, return_state=True)
    torch.testing.assert_close(torch.cat([y1, y2], dim=1), whole)
    if kind is not nn.GRU:
        h_n, c_n = state
        assert h_n.shape == c_n.shape == (1, 2, 3)


def test_sequence_model_rejects_bad_configurations():
    with pytest.raises(ValueError, match="construct it with batch_first=True"):
        SequenceModel(nn.LSTM(2, 4), 4, 1)
    with pytest.raises(ValueError, match="hidden_size=5 but the recurrent module outputs 4"):
        SequenceModel(nn.LSTM(2, 4, batch_first=True), 5, 1)
    with pytest.raises(ValueError, match="readout must be 'last' or 'all'"):
        SequenceModel(nn.LSTM(2, 4, batch_first=True), 4, 1, readout="mean")
    with pytest.raises(ValueError, match=r"expected batch-first input \(N, T, D\), got shape"):
        _model()(torch.zeros(5, 2))


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------


def test_history_has_one_entry_per_step():
    h = train(_model(), lambda r: adding_problem(8, 6, seed=r), F.mse_loss, 7, progress=False)
    assert len(h["loss"]) == len(h["grad_norm"]) == 7
    assert h["diverged_at"] is None and h["seconds"] > 0
    assert all(isinstance(v, float) for v in h["loss"] + h["grad_norm"])


def test_train_is_reproducible_with_a_seed():
    def run(seed):
        model = _model(seed=1)
        h = train(model, lambda r: adding_problem(16, 8, seed=r), F.mse_loss, 15, seed=seed,
                  progress=False)  # fmt: skip
        return h["loss"], [p.detach().clone() for p in model.parameters()]

    (l1, p1), (l2, p2), (l3, _) = run(0), run(0), run(1)
    assert l1 == l2 and l1 != l3
    for a, b in zip(p1, p2, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("kind", [nn.RNN, M.LSTM])
def test_train_reduces_the_loss_on_a_trivial_task(kind):
    model = _model(kind, D=1, H=4)
    h = train(model, _last_input(32, 4), F.mse_loss, 150, lr=2e-2, progress=False)
    first, last = np.mean(h["loss"][:10]), np.mean(h["loss"][-10:])
    assert last < 0.1 * first, f"loss went from {first:.4f} to {last:.4f}"


def test_clipping_bounds_the_step_and_history_keeps_the_raw_norm():
    model = _model(nn.RNN, D=1, H=3)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    h = train(model, _last_input(16, 3), lambda y, t: 100 * F.mse_loss(y, t), 1, lr=1.0,
              optimizer="sgd", clip_norm=0.01, progress=False)  # fmt: skip
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    # plain SGD with lr 1 moves the weights by exactly the clipped gradient
    assert h["grad_norm"][0] > 0.01
    assert torch.linalg.vector_norm(after - before).item() == pytest.approx(0.01, rel=1e-4)


def test_numpy_batches_become_tensors_and_extras_reach_the_loss():
    model = _model(nn.GRU, D=2, H=3, O=4, readout="all", dtype=torch.float64)
    seen = {}

    def batch(rng):
        x = rng.random((5, 6, 2)).astype(np.float32)
        y = rng.integers(0, 4, size=(5, 6))
        mask = np.ones((5, 6), dtype=bool)
        mask[:, 4:] = False
        return x, y, mask

    def loss_fn(out, y, mask):
        seen.update(out=out.dtype, y=y.dtype, mask=mask.dtype)
        return F.cross_entropy(out[mask], y[mask])

    train(model, batch, loss_fn, 2, progress=False)
    assert seen == {"out": torch.float64, "y": torch.int64, "mask": torch.bool}


def test_train_stops_when_the_loss_diverges():
    calls = []

    def loss_fn(y, t):
        calls.append(1)
        return F.mse_loss(y, t) * (float("inf") if len(calls) == 3 else 1.0)

    h = train(_model(), lambda r: adding_problem(4, 4, seed=r), loss_fn, 10, progress=False)
    assert h["diverged_at"] == 2 and len(h["loss"]) == 2


def test_threads_are_set_while_training_and_restored_after():
    torch.set_num_threads(2)
    seen = []

    def loss_fn(y, t):
        seen.append(torch.get_num_threads())
        return F.mse_loss(y, t)

    def batch(rng):
        return adding_problem(4, 4, seed=rng)

    train(_model(), batch, loss_fn, 2, progress=False)
    assert seen == [1, 1] and torch.get_num_threads() == 2
    train(_model(), batch, loss_fn, 1, progress=False, num_threads=None)
    assert seen[-1] == 2 and torch.get_num_threads() == 2


def test_progress_bar_can_be_turned_off(capsys):
    train(_model(), lambda r: adding_problem(4, 4, seed=r), F.mse_loss, 3, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    train(_model(), lambda r: adding_problem(4, 4, seed=r), F.mse_loss, 3, desc="my bar")
    assert "my bar" in capsys.readouterr().err


def test_optimizer_choices():
    model = _model()
    h = train(model, lambda r: adding_problem(4, 4, seed=r), F.mse_loss, 2, optimizer="rmsprop",
              progress=False)  # fmt: skip
    assert len(h["loss"]) == 2
    made = []

    def custom(params, lr):
        made.append(lr)
        return torch.optim.SGD(params, lr=lr, momentum=0.9)

    train(model, lambda r: adding_problem(4, 4, seed=r), F.mse_loss, 2, lr=0.5, optimizer=custom,
          progress=False)  # fmt: skip
    assert made == [0.5]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"steps": 0}, "steps must be a positive int, got 0"),
        ({"steps": 2.0}, "steps must be a positive int, got 2.0"),
        ({"optimizer": "adamw"}, "optimizer must be one of"),
        ({"clip_norm": 0}, "clip_norm must be positive or None"),
        ({"log_every": 0}, "log_every must be a positive int"),
    ],
)
def test_train_bad_arguments(kwargs, match):
    args = {"steps": 2, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        train(_model(), lambda r: adding_problem(4, 4, seed=r), F.mse_loss, **args)


def test_demo_runs_end_to_end(capsys):
    from solutions import demo

    rows = demo.main(["--steps", "3", "--seq-len", "6", "--hidden", "4", "--no-progress"])
    assert [r["model"] for r in rows] == ["constant 1.0", "RNN (tanh)", "LSTM (b_f=1)"]
    assert rows[2]["params"] == 4 * 4 * (2 + 4) + 2 * 4 * 4 + 4 + 1  # LSTM + linear readout
    out = capsys.readouterr().out
    assert "MSE / (1/6)" in out and "LSTM (b_f=1)" in out
