"""Several seeds of one experiment trained side by side as one batched model.

A claim about training holds only if it holds over several seeds, and training S small models
one after the other costs S times as long. ``StackedSeeds`` packs S copies of
``SequenceModel(torch.nn.RNN | GRU | LSTM(D, H), H, out)`` into one PyTorch layer of S*H units
whose weights are block-diagonal: copy s reads only its own inputs and its own units. Each copy
starts from exactly the weights that ``torch.manual_seed(seed); SequenceModel(...)`` would give,
and ``train_seeds`` trains it on its own batches (``np.random.default_rng(seed)``), with its own
global-norm clipping, by Adam. Adam works entry by entry and the entries outside the blocks get
a zero gradient, so they stay zero and the copies never mix: seed s follows the run that
``train(model, batch_fn, mse_loss, steps, lr, clip_norm, seed=s)`` gives, up to rounding
(tests/test_seeds.py checks it), at about the cost of one or two runs.

Usage::

    model = StackedSeeds("RNN", input_size=2, hidden_size=16, output_size=1, seeds=range(5))
    hist = train_seeds(model, lambda rng: adding_problem(64, 30, seed=rng), steps=800, lr=1e-2,
                       clip_norm=1.0)
    hist["loss"]            # (S, steps) training losses
    mse_per_seed(model, x_test, y_test)   # (S,) test MSE of every copy
    model(x)                # (S, N, out): every copy's answer to the same x (N, T, D)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

CELLS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}


def _mse_per_copy(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """pred (S, N, out), y (S, N, out) or (N, out) -> (S,) mean squared error of each copy."""
    return ((pred - y.to(pred.dtype)) ** 2).mean(dim=(1, 2))


def _cross_entropy_per_copy(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """pred (S, N, classes) logits, y (S, N) class indices -> (S,) mean cross-entropy (nats)."""
    S, N, K = pred.shape
    each = nn.functional.cross_entropy(
        pred.reshape(S * N, K), y.reshape(S * N).long(), reduction="none"
    )
    return each.reshape(S, N).mean(dim=1)


LOSSES = {"mse": _mse_per_copy, "cross_entropy": _cross_entropy_per_copy}


class StackedSeeds(nn.Module):
    """S independent ``SequenceModel(cell(D, H), H, out)`` (last-step readout) as one layer.

    Args:
        cell: "RNN" (tanh), "GRU" or "LSTM": the torch.nn layer each copy is made of.
        input_size, hidden_size, output_size: D, H and the readout size of one copy.
        seeds: one seed per copy; copy s starts from the weights that
            ``torch.manual_seed(seed); SequenceModel(cell(D, H, batch_first=True, dtype=dtype), H,
            out).to(dtype)`` makes (the readout drawn in torch's default dtype).
        dtype: torch.float32 (as the experiments) or torch.float64.

    Input: x (S, N, T, D), one batch per copy, or (N, T, D), the same batch for all.
    Output: (S, N, output_size).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        seeds: Iterable[int],
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"StackedSeeds: cell must be one of {sorted(CELLS)}, got {cell!r}.")
        self.seeds = [int(s) for s in seeds]
        if not self.seeds:
            raise ValueError("StackedSeeds: give at least one seed.")
        S, D, H, O = len(self.seeds), input_size, hidden_size, output_size
        self.S, self.D, self.H, self.O = S, D, H, O
        self.cell = cell
        self.rnn = CELLS[cell](S * D, S * H, batch_first=True, dtype=dtype)
        self.head = nn.Linear(S * H, S * O, dtype=dtype)
        G = self.rnn.weight_ih_l0.shape[0] // (S * H)  # gate blocks: 1, 3 or 4
        # seed_of[name]: which copy owns each entry (-1: outside every block, kept at zero)
        self.seed_of: dict[str, torch.Tensor] = {}
        rows = torch.arange(G * S * H) % (S * H) // H  # the copy a row of a gate block belongs to
        cols_in, cols_h = torch.arange(S * D) // D, torch.arange(S * H) // H
        own = {
            "rnn.weight_ih_l0": torch.where(rows[:, None] == cols_in, rows[:, None], -1),
            "rnn.weight_hh_l0": torch.where(rows[:, None] == cols_h, rows[:, None], -1),
            "rnn.bias_ih_l0": rows,
            "rnn.bias_hh_l0": rows,
            "head.weight": torch.where(
                (torch.arange(S * O) // O)[:, None] == cols_h,
                (torch.arange(S * O) // O)[:, None],
                -1,
            ),
            "head.bias": torch.arange(S * O) // O,
        }
        self.seed_of = own
        with torch.no_grad():
            for p in self.parameters():
                p.zero_()
            for s, seed in enumerate(self.seeds):
                torch.manual_seed(seed)
                one = CELLS[cell](D, H, batch_first=True, dtype=dtype)
                head = nn.Linear(H, O).to(dtype)  # as SequenceModel(...).to(dtype)
                for g in range(G):
                    dst = slice(g * S * H + s * H, g * S * H + (s + 1) * H)
                    src = slice(g * H, (g + 1) * H)
                    self.rnn.weight_ih_l0[dst, s * D : (s + 1) * D] = one.weight_ih_l0[src]
                    self.rnn.weight_hh_l0[dst, s * H : (s + 1) * H] = one.weight_hh_l0[src]
                    self.rnn.bias_ih_l0[dst] = one.bias_ih_l0[src]
                    self.rnn.bias_hh_l0[dst] = one.bias_hh_l0[src]
                self.head.weight[s * O : (s + 1) * O, s * H : (s + 1) * H] = head.weight
                self.head.bias[s * O : (s + 1) * O] = head.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (S, N, T, D) or (N, T, D) -> (S, N, output_size)."""
        S, D = self.S, self.D
        if x.dim() == 3:
            x = x.expand(S, *x.shape)
        if x.dim() != 4 or x.shape[0] != S or x.shape[-1] != D:
            raise ValueError(
                f"StackedSeeds: expected x of shape (S={S}, N, T, D={D}) or (N, T, D={D}), got "
                f"{tuple(x.shape)}."
            )
        _, N, T, _ = x.shape
        out, _ = self.rnn(x.permute(1, 2, 0, 3).reshape(N, T, S * D))
        return self.head(out[:, -1]).reshape(N, S, self.O).transpose(0, 1)

    def layer(self, s: int) -> nn.Module:
        """Copy s as a plain ``torch.nn.RNN/GRU/LSTM(D, H, batch_first=True)`` (its readout left
        out), with the weights it has now."""
        S, D, H = self.S, self.D, self.H
        G = self.rnn.weight_ih_l0.shape[0] // (S * H)
        one = CELLS[self.cell](D, H, batch_first=True, dtype=self.rnn.weight_ih_l0.dtype)
        with torch.no_grad():
            for g in range(G):
                src = slice(g * S * H + s * H, g * S * H + (s + 1) * H)
                dst = slice(g * H, (g + 1) * H)
                one.weight_ih_l0[dst] = self.rnn.weight_ih_l0[src, s * D : (s + 1) * D]
                one.weight_hh_l0[dst] = self.rnn.weight_hh_l0[src, s * H : (s + 1) * H]
                one.bias_ih_l0[dst] = self.rnn.bias_ih_l0[src]
                one.bias_hh_l0[dst] = self.rnn.bias_hh_l0[src]
        return one

    def readout(self, s: int) -> nn.Linear:
        """Copy s's readout as a ``torch.nn.Linear(H, out)`` with the weights it has now."""
        H, O = self.H, self.O
        head = nn.Linear(H, O, dtype=self.head.weight.dtype)
        with torch.no_grad():
            head.weight.copy_(self.head.weight[s * O : (s + 1) * O, s * H : (s + 1) * H])
            head.bias.copy_(self.head.bias[s * O : (s + 1) * O])
        return head

    def _owned(self):
        named = dict(self.named_parameters())
        return [(named[name], ids) for name, ids in self.seed_of.items()]

    def clip_per_seed(self, max_norm: float) -> torch.Tensor:
        """Zero the gradients outside the blocks; scale each copy's gradient to a global L2 norm of
        at most ``max_norm`` (as ``clip_grad_norm_`` does for one model). Returns the (S,) norms
        before clipping."""
        sq = torch.zeros(self.S, dtype=torch.float64)
        for p, ids in self._owned():
            p.grad[ids < 0] = 0.0
            sq.index_add_(0, ids[ids >= 0], p.grad[ids >= 0].double() ** 2)
        norms = sq.sqrt()
        coef = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
        for p, ids in self._owned():
            p.grad[ids >= 0] *= coef[ids[ids >= 0]].to(p.dtype)
        return norms


def train_seeds(
    model: StackedSeeds,
    batch_fn: Callable[[np.random.Generator], tuple],
    steps: int,
    lr: float = 1e-3,
    clip_norm: float = math.inf,
    progress: bool = True,
    desc: str = "seeds",
    loss: str = "mse",
) -> dict:
    """Adam on the summed losses of the copies; copy s draws its batches from default_rng(seed_s).

    ``batch_fn(rng) -> (x (N, T, D), y)`` as for ``train``: with ``loss="mse"``, y is
    (N, output_size); with ``loss="cross_entropy"``, y holds (N,) class indices and the copy's
    output_size scores are its logits. Returns ``{"loss": (S, steps) array, "seconds": float}``.
    """
    if loss not in LOSSES:
        raise ValueError(f"train_seeds: loss must be one of {sorted(LOSSES)}, got {loss!r}.")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"train_seeds: steps must be a positive int, got {steps!r}.")
    if not clip_norm > 0:
        raise ValueError(f"train_seeds: clip_norm must be positive, got {clip_norm!r}.")
    dtype = model.head.weight.dtype
    rngs = [np.random.default_rng(seed) for seed in model.seeds]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = np.zeros((model.S, steps))
    start = time.perf_counter()
    for step in tqdm(range(steps), desc=desc, disable=not progress):
        batches = [batch_fn(rng) for rng in rngs]
        x = torch.as_tensor(np.stack([b[0] for b in batches]), dtype=dtype)
        y = np.stack([b[1] for b in batches])
        per_seed = LOSSES[loss](model(x), torch.as_tensor(y))  # (S,)
        opt.zero_grad(set_to_none=False)
        per_seed.sum().backward()
        model.clip_per_seed(clip_norm)
        opt.step()
        losses[:, step] = per_seed.detach().numpy()
    return {"loss": losses, "seconds": time.perf_counter() - start}


def mse_per_seed(model: StackedSeeds, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(S,) test MSE of every copy on the same test set x (N, T, D), y (N, output_size)."""
    dtype = model.head.weight.dtype
    with torch.no_grad():
        pred = model(torch.as_tensor(x, dtype=dtype))
    return _mse_per_copy(pred, torch.as_tensor(y)).numpy()


def train_and_test(
    cell: str,
    batch_fn: Callable[[np.random.Generator], tuple],
    test_set: tuple[np.ndarray, np.ndarray],
    seeds: Iterable[int],
    hidden_size: int,
    steps: int,
    lr: float,
    clip_norm: float = math.inf,
    desc: str | None = None,
) -> tuple[np.ndarray, np.ndarray, StackedSeeds]:
    """One experiment over several seeds: ``SequenceModel(cell(D, H), H, out)`` per seed, trained
    side by side by :func:`train_seeds`, then scored on one test set.

    ``batch_fn(rng) -> (x (N, T, D), y (N, out))``; ``test_set = (x_test, y_test)`` of the same
    kind; ``desc`` labels the progress bar (the cell's name by default). Returns the training
    losses (S, steps), the test MSE of every seed (S,) and the model.
    """
    x_test, y_test = test_set
    model = StackedSeeds(cell, x_test.shape[-1], hidden_size, y_test.shape[-1], seeds)
    label = f"{desc or cell}, {len(model.seeds)} seeds"
    hist = train_seeds(model, batch_fn, steps, lr=lr, clip_norm=clip_norm, desc=label)
    return hist["loss"], mse_per_seed(model, x_test, y_test), model


def median_and_range(values) -> str:
    """'median 0.123 (range 0.100-0.150)' for a list of numbers, three significant digits."""
    v = np.asarray(values, dtype=float)
    return f"median {np.median(v):.3g} (range {v.min():.3g}–{v.max():.3g})"
