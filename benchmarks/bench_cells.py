"""Time forward + backward of recurrent layers on the CPU: built-in, from scratch, numpy.

Usage (from the repository root)::

    make bench                                   # or:
    .venv/bin/python benchmarks/bench_cells.py [--threads 1] [--repeats 31] [--dtype float32]

One sequence of N=64 examples, T=100 steps, D=H=128 features (change with --N --T --D --H).
Each case runs the forward pass over the whole sequence and the backward pass of
``sum(output * g)`` for a fixed random ``g`` (so the gradients of the input and of every weight
are computed):

* ``torch.nn.LSTM`` and ``torch.nn.GRU``: PyTorch's fused C++ kernels;
* ``solutions.modules.LSTM`` and ``solutions.modules.GRU``: the from-scratch modules (a Python
  loop over time, autograd for the backward pass);
* ``numpy lstm``: ``solutions.lstm.lstm_forward`` + ``lstm_backward`` (skipped if missing).

All cases run in the same process, interleaved (one run of each case per round, in a rotating
order, so that a slow period of the machine hits every case alike), after warm-up rounds; the
table reports the median over the rounds, the ratio of each median to ``torch.nn.LSTM``'s, and
the GRU/LSTM ratios. The results go to ``benchmarks/results.json``.

Threads: ``--threads`` sets ``torch.set_num_threads`` and the BLAS/OpenMP thread variables for
numpy (before numpy is imported). The default, 1 thread, gives the steadiest numbers and a fair
comparison (the matrices are small, so more threads help little at this size).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--N", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--T", type=int, default=100, help="time steps (default 100)")
    p.add_argument("--D", type=int, default=128, help="input size (default 128)")
    p.add_argument("--H", type=int, default=128, help="hidden size (default 128)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    p.add_argument("--repeats", type=int, default=31, help="timed rounds (default 31)")
    p.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--no-numpy", action="store_true", help="skip the numpy LSTM (the slowest)")
    p.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results.json", help="results file"
    )
    return p.parse_args(argv)


def make_cases(args):
    """Name -> (prepare, run): ``prepare()`` resets gradients (untimed), ``run()`` is timed."""
    import numpy as np
    import torch

    from solutions import modules

    dtype = getattr(torch, args.dtype)
    N, T, D, H = args.N, args.T, args.D, args.H
    torch.manual_seed(0)
    x = torch.randn(T, N, D, dtype=dtype, requires_grad=True)  # (T, N, D): time-major
    g = torch.randn(T, N, H, dtype=dtype)  # upstream gradient of the output

    def torch_case(module):
        module = module.to(dtype)

        def prepare():
            module.zero_grad(set_to_none=True)
            x.grad = None

        def run():
            out, _ = module(x)
            out.backward(g)

        return prepare, run

    cases = {
        "torch.nn.LSTM": torch_case(torch.nn.LSTM(D, H)),
        "solutions.modules.LSTM": torch_case(modules.LSTM(D, H)),
        "torch.nn.GRU": torch_case(torch.nn.GRU(D, H)),
        "solutions.modules.GRU": torch_case(modules.GRU(D, H)),
    }

    if not args.no_numpy:
        try:
            from solutions import lstm as np_lstm
        except ImportError:
            print("solutions.lstm not found: skipping the numpy LSTM.")
        else:
            rng = np.random.default_rng(0)
            npd = np.dtype(args.dtype)
            xs = x.detach().numpy().transpose(1, 0, 2).astype(npd)  # (N, T, D): batch-first
            gs = g.numpy().transpose(1, 0, 2).astype(npd)
            h0, c0 = np.zeros((N, H), npd), np.zeros((N, H), npd)
            bound = 1 / np.sqrt(H)
            Wx = rng.uniform(-bound, bound, (D, 4 * H)).astype(npd)
            Wh = rng.uniform(-bound, bound, (H, 4 * H)).astype(npd)
            b = rng.uniform(-bound, bound, 4 * H).astype(npd)

            def run_numpy():
                _, _, cache = np_lstm.lstm_forward(xs, h0, c0, Wx, Wh, b)
                np_lstm.lstm_backward(gs, None, cache)

            cases["numpy lstm (solutions.lstm)"] = (lambda: None, run_numpy)
    return cases


def measure(cases, repeats: int, warmup: int) -> dict[str, list[float]]:
    """Interleaved rounds: each round runs every case once, starting at a different case."""
    names = list(cases)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            prepare, run = cases[name]
            prepare()
            t0 = time.perf_counter()
            run()
            elapsed = time.perf_counter() - t0
            if r >= warmup:
                times[name].append(elapsed)
        print(f"\rround {r + 1}/{warmup + repeats}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return times


def main(argv=None) -> dict:
    args = parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # numpy's BLAS reads these when it is imported
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cases = make_cases(args)
    times = measure(cases, args.repeats, args.warmup)

    median = {n: statistics.median(t) for n, t in times.items()}
    ref = median["torch.nn.LSTM"]
    rows = [(n, median[n], min(times[n]), median[n] / ref) for n in times]
    gru_ratios = {
        "torch.nn.GRU / torch.nn.LSTM": median["torch.nn.GRU"] / median["torch.nn.LSTM"],
        "solutions GRU / solutions LSTM": (
            median["solutions.modules.GRU"] / median["solutions.modules.LSTM"]
        ),
    }

    print(
        f"forward + backward, N={args.N} T={args.T} D={args.D} H={args.H}, {args.dtype}, "
        f"{args.threads} thread(s), median of {args.repeats} interleaved rounds"
    )
    width = max(len(n) for n in times)
    print(f"{'case':<{width}}  {'median s':>9}  {'min s':>9}  {'/ nn.LSTM':>9}")
    for name, med, best, ratio in rows:
        print(f"{name:<{width}}  {med:9.4f}  {best:9.4f}  {ratio:9.2f}")
    for name, ratio in gru_ratios.items():
        print(f"{name:<{width}}  {ratio:9.2f}")

    result = {
        "config": {
            "N": args.N,
            "T": args.T,
            "D": args.D,
            "H": args.H,
            "dtype": args.dtype,
            "threads": args.threads,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "statistic": "median seconds of forward + backward",
        },
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average_1min_before": load_before,
            "load_average_1min_after": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        },
        "results": {
            name: {"median_s": med, "min_s": best, "ratio_to_nn_lstm": ratio}
            for name, med, best, ratio in rows
        },
        "gru_vs_lstm": gru_ratios,
        "times_s": times,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return result


if __name__ == "__main__":
    main()
