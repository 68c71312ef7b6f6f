"""The course in two minutes: a tanh RNN and an LSTM on the adding problem.

Run with ``python -m solutions.demo`` (or ``make demo``). Both models are the from-scratch
modules of :mod:`solutions.modules`. They are trained with the same data, optimiser and
settings. The script prints each model's test MSE beside the constant-predictor baseline,
1/6. The LSTM (forget bias 1) remembers the two marked numbers across T = 100 steps and ends far
below the baseline. The RNN stays at the baseline: it has learnt only to answer the mean.

Settings: T = 100, H = 16, Adam with lr = 1e-2, global-norm clipping at 1, batches of 64,
2000 steps, seed 0. Smaller H also works, with more steps (see COURSE.md).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch import nn

from solutions.modules import LSTM, RNN, init_forget_bias
from solutions.tasks import ADDING_BASELINE_MSE, adding_problem
from solutions.train import SequenceModel, train


def build(kind: str, hidden: int, seed: int) -> SequenceModel:
    """A SequenceModel around the from-scratch RNN or LSTM, with seeded initial weights."""
    torch.manual_seed(seed)
    if kind == "RNN (tanh)":
        rnn = RNN(2, hidden, batch_first=True)
    else:
        rnn = init_forget_bias(LSTM(2, hidden, batch_first=True), 1.0)
    return SequenceModel(rnn, hidden, 1, readout="last")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=100, help="T (default 100)")
    parser.add_argument("--hidden", type=int, default=16, help="H (default 16)")
    parser.add_argument("--steps", type=int, default=2000, help="gradient steps (default 2000)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (1e-2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)

    T, H = args.seq_len, args.hidden
    dtype = torch.get_default_dtype()  # the dtype the models are built in
    x_test, y_test = (torch.as_tensor(a, dtype=dtype) for a in adding_problem(2000, T, seed=10_000))
    constant_mse = nn.functional.mse_loss(torch.ones_like(y_test), y_test).item()

    print(f"Adding problem, T={T}: values U(0,1), one marker in each half, target = their sum.")
    print(
        f"Training: H={H}, Adam lr={args.lr:g}, clip 1.0, batch 64, {args.steps} steps, "
        f"seed {args.seed}. Test set: 2000 sequences."
    )
    rows = [{"model": "constant 1.0", "params": 0, "mse": constant_mse, "seconds": 0.0}]
    for kind in ("RNN (tanh)", "LSTM (b_f=1)"):
        model = build(kind, H, args.seed)
        history = train(
            model,
            batch_fn=lambda rng: adding_problem(64, T, seed=rng),
            loss_fn=nn.functional.mse_loss,
            steps=args.steps,
            lr=args.lr,
            clip_norm=1.0,
            seed=args.seed,
            # bars only on a terminal: in a log (CI, `make demo > file`) they would be thousands
            # of lines; the summary line after each run says the same
            progress=not args.no_progress and sys.stderr.isatty(),
            log_every=100,
            desc=kind,
        )
        with torch.no_grad():
            mse = nn.functional.mse_loss(model(x_test), y_test).item()
        params = sum(p.numel() for p in model.parameters())
        rows.append({"model": kind, "params": params, "mse": mse, "seconds": history["seconds"]})

    print()
    print(f"{'model':<14} {'params':>6} {'test MSE':>9} {'MSE / (1/6)':>11} {'train s':>8}")
    for r in rows:
        print(
            f"{r['model']:<14} {r['params']:>6d} {r['mse']:>9.5f} "
            f"{r['mse'] / ADDING_BASELINE_MSE:>11.4f} {r['seconds']:>8.1f}"
        )
    print(
        f"\nBaseline: always answering 1.0 has MSE Var(u1 + u2) = 1/6 = {ADDING_BASELINE_MSE:.5f} "
        f"in expectation ({constant_mse:.5f} on this test set)."
    )
    rnn, lstm = rows[1]["mse"], rows[2]["mse"]
    print(f"The LSTM's test MSE is {rnn / lstm:.0f} times smaller than the RNN's.")
    return rows


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"Total time: {time.perf_counter() - start:.0f} s")
