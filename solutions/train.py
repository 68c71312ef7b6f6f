"""A small training loop for the experiments: a readout on top of any recurrent module, and train().

Usage, on the adding problem::

    torch.manual_seed(0)
    model = SequenceModel(torch.nn.LSTM(2, 8, batch_first=True), 8, 1)
    history = train(
        model,
        batch_fn=lambda rng: adding_problem(64, 100, seed=rng),
        loss_fn=torch.nn.functional.mse_loss,
        steps=2000,
        lr=1e-2,
    )
    history["loss"][-1]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}


class SequenceModel(nn.Module):
    """A recurrent module followed by a linear readout.

    ``rnn`` is any module with torch.nn's recurrent API and ``batch_first=True``:
    ``rnn(x)`` or ``rnn(x, state)`` with x (N, T, D) returns ``(output, state)``, where output is
    (N, T, hidden_size) and state is h_n, or (h_n, c_n) for an LSTM. This holds for torch.nn.RNN,
    GRU and LSTM, and for the from-scratch modules of the course.

    readout="last": y = W h_T + b, shape (N, output_size). Use it for one answer per sequence
    (adding problem, temporal order, spike delays).
    readout="all": y_t = W h_t + b at every step, shape (N, T, output_size). Use it for one
    answer per step (copy task, counting, character language model).
    """

    def __init__(self, rnn: nn.Module, hidden_size: int, output_size: int, readout: str = "last"):
        super().__init__()
        if readout not in ("last", "all"):
            raise ValueError(f"SequenceModel: readout must be 'last' or 'all', got {readout!r}.")
        if getattr(rnn, "batch_first", True) is not True:
            raise ValueError(
                "SequenceModel: the recurrent module must take batch-first input (N, T, D); "
                "construct it with batch_first=True."
            )
        rnn_hidden = getattr(rnn, "hidden_size", None)
        if isinstance(rnn_hidden, int):
            rnn_hidden *= 2 if getattr(rnn, "bidirectional", False) else 1
            if rnn_hidden != hidden_size:
                raise ValueError(
                    f"SequenceModel: hidden_size={hidden_size} but the recurrent module outputs "
                    f"{rnn_hidden} features per step."
                )
        self.rnn = rnn
        self.readout = readout
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor, state: Any = None, return_state: bool = False):
        """x (N, T, D) -> y (N, output_size) or (N, T, output_size); also the state if asked.

        ``state`` is the initial state for the recurrent module (None: zeros). It lets a
        character model generate text one step at a time, as in ``tasks.sample_text``.
        """
        if x.dim() != 3:
            raise ValueError(
                f"SequenceModel: expected batch-first input (N, T, D), got shape {tuple(x.shape)}."
            )
        out, state = self.rnn(x) if state is None else self.rnn(x, state)
        y = self.head(out[:, -1] if self.readout == "last" else out)
        return (y, state) if return_state else y


def _as_tensor(a: Any, float_dtype: torch.dtype) -> Any:
    """numpy array -> tensor (floats take the model's dtype, ints become int64); else unchanged."""
    if isinstance(a, np.ndarray):
        if np.issubdtype(a.dtype, np.floating):
            return torch.as_tensor(a, dtype=float_dtype)
        if np.issubdtype(a.dtype, np.integer):
            return torch.as_tensor(a, dtype=torch.int64)
        return torch.as_tensor(a)
    if isinstance(a, torch.Tensor) and a.is_floating_point():
        return a.to(float_dtype)
    return a


def train(
    model: nn.Module,
    batch_fn: Callable[[np.random.Generator], tuple],
    loss_fn: Callable[..., torch.Tensor],
    steps: int,
    lr: float = 1e-3,
    optimizer: str | Callable = "adam",
    clip_norm: float | None = None,
    seed: int = 0,
    progress: bool = True,
    log_every: int = 50,
    num_threads: int | None = 1,
    desc: str = "training",
) -> dict[str, Any]:
    """Train ``model`` for ``steps`` gradient steps with a fresh batch at every step.

    At each step: ``inputs, *targets = batch_fn(rng)``; ``loss = loss_fn(model(inputs),
    *targets)``; backward; optional global-norm clipping; an optimiser step. ``rng`` is one
    ``np.random.Generator`` made from ``seed``. A task generator of the course
    (``adding_problem``, ``temporal_order``, ...) can take it as its ``seed`` and draw new data
    each time. Numpy arrays from ``batch_fn`` become tensors (floats in the model's dtype, ints
    as int64). A third element, such as a mask, goes to ``loss_fn`` after the targets.

    Reproducibility: ``seed`` seeds the batches and torch's global generator (dropout etc.).
    The initial weights come from the model. Call ``torch.manual_seed`` before building it.

    Args:
        model: any nn.Module, e.g. a ``SequenceModel``.
        batch_fn: rng -> (inputs, targets) or (inputs, targets, extra...).
        loss_fn: (model output, targets, extra...) -> scalar loss tensor.
        steps: number of gradient steps (>= 1).
        lr: learning rate.
        optimizer: "adam", "sgd" or "rmsprop", or a callable (parameters, lr) -> optimiser.
        clip_norm: if given, rescale the gradient so that its global L2 norm is at most this.
        seed: seed for the batches and for torch.
        progress: show a tqdm progress bar with the recent mean loss, and print one summary
            line at the end (a saved notebook keeps it even where the bar does not render).
        log_every: update the bar's loss every this many steps (the mean over those steps).
        num_threads: torch's CPU threads while training, restored afterwards. The course's
            models are so small that one thread is fastest. Several threads that wait for each
            other on a busy machine can make a step tens of times slower. None keeps torch's
            setting.
        desc: label of the progress bar.

    Returns:
        history: dict with ``loss`` (one float per step), ``grad_norm`` (global gradient norm
        before clipping, one per step), ``seconds`` (wall time) and ``diverged_at`` (the step
        where the loss became inf or NaN, when training stopped early, else None).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"train: steps must be a positive int, got {steps!r}.")
    if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
        raise ValueError(f"train: log_every must be a positive int, got {log_every!r}.")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"train: clip_norm must be positive or None, got {clip_norm!r}.")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("train: the model has no trainable parameters.")
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"train: optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}."
            )
        opt = OPTIMIZERS[optimizer](params, lr=lr)
    else:
        opt = optimizer(params, lr)

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dtype = params[0].dtype
    history: dict[str, Any] = {"loss": [], "grad_norm": [], "seconds": 0.0, "diverged_at": None}
    threads_before = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    start = time.perf_counter()
    model.train()
    bar = tqdm(range(steps), disable=not progress, desc=desc)
    try:
        for step in bar:
            inputs, *targets = (_as_tensor(a, dtype) for a in batch_fn(rng))
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), *targets)
            value = loss.item()
            if not math.isfinite(value):
                history["diverged_at"] = step
                if progress:
                    tqdm.write(f"train: the loss became {value} at step {step}; stopped.")
                break
            loss.backward()
            max_norm = clip_norm if clip_norm is not None else math.inf
            grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
            opt.step()
            history["loss"].append(value)
            history["grad_norm"].append(float(grad_norm))
            if progress and (step + 1) % log_every == 0:
                bar.set_postfix(loss=f"{np.mean(history['loss'][-log_every:]):.4g}")
    finally:
        bar.close()
        torch.set_num_threads(threads_before)
    history["seconds"] = time.perf_counter() - start
    if progress and history["loss"]:
        recent = history["loss"][-log_every:]
        print(
            f"{desc}: {len(history['loss'])} steps in {history['seconds']:.1f} s, mean loss of "
            f"the last {len(recent)} steps {np.mean(recent):.4g}"
        )
    return history
