"""Time the batched trainer (solutions.batched) against a Python loop over the same models.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_batched.py [--steps 20] [--repeats 3] [--out FILE]

The workload is notebook 05's ablation: the nine LSTM variants of Greff et al. x 3 seeds x 3
learning rates, plus 12 forget-bias runs (93 networks), hidden size 8, the adding problem at
T = 50 with batches of 16, Adam with global-norm clipping at 1, float32, one thread. Each round
trains all 93 networks for ``--steps`` steps twice, in an order that alternates between rounds:

* **batched**: ``solutions.batched.train_batched``, every network in one stacked computation;
* **loop**: for each network, ``solutions.batched.variant_model`` (the same weights as a
  standalone ``SequenceModel(VariantLSTM)``) trained by ``solutions.train.train``.

Both start from the same weights and see the same batches, so they must end equal: the script
checks every network's final weights and loss history before it reports a time, to 1e-9 with
``--dtype float64``; in float32 (the notebook's precision, the default) Adam turns rounding noise
in near-zero gradient entries into steps of about the learning rate, so there the check is only
that no network went elsewhere (weights within 0.05, losses within 0.01). It prints the median
over the rounds and the ratio loop / batched, and writes the results of each precision to
``benchmarks/batched_results.json``.
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

import numpy as np  # noqa: E402
import torch  # noqa: E402

from solutions import batched as B  # noqa: E402
from solutions.tasks import adding_problem  # noqa: E402
from solutions.train import train  # noqa: E402
from solutions.variants import VARIANTS  # noqa: E402


def workload():
    """The 93 runs of notebook 05: (variant, seed, lr, forget bias)."""
    runs = [(v, s, lr, None) for v in VARIANTS for lr in (1e-2, 3e-2, 1e-1) for s in (0, 1, 2)]
    runs += [(v, s, 3e-2, b) for v in ("vanilla", "NP") for b in (0.0, 1.0) for s in (0, 1, 2)]
    return runs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=20, help="Adam steps per round (default 20)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds (default 3)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "batched_results.json")
    p.add_argument(
        "--dtype", choices=["float32", "float64"], default="float32",
        help="precision of the timed rounds (default float32, as notebook 05)",
    )  # fmt: skip
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    runs = workload()
    names = [r[0] for r in runs]
    seeds = [r[1] for r in runs]
    lrs = [r[2] for r in runs]
    dtype = getattr(torch, args.dtype)
    weights = B.init_weights(seeds, 2, 8, 1, forget_bias=[r[3] for r in runs], dtype=dtype)

    def batch_fn(rng):
        return adding_problem(16, 50, seed=rng, dtype=np.dtype(args.dtype))

    def run_batched():
        t0 = time.perf_counter()
        res = B.train_batched(names, weights, lrs, seeds, batch_fn, args.steps, 1.0, progress=False)
        return time.perf_counter() - t0, res

    def run_loop():
        t0 = time.perf_counter()
        models, losses = [], []
        for m, name in enumerate(names):
            model = B.variant_model(weights, name, m)
            hist = train(
                model, batch_fn, torch.nn.functional.mse_loss, args.steps, lr=lrs[m],
                clip_norm=1.0, seed=seeds[m], progress=False,
            )  # fmt: skip
            models.append(model)
            losses.append(hist["loss"])
        return time.perf_counter() - t0, (models, np.array(losses))

    times = {"batched": [], "loop": []}
    worst = {"weights": 0.0, "loss": 0.0}
    load_before = os.getloadavg()
    for r in range(args.repeats):
        order = ("batched", "loop") if r % 2 == 0 else ("loop", "batched")
        out = {}
        for kind in order:
            secs, out[kind] = run_batched() if kind == "batched" else run_loop()
            times[kind].append(secs)
            print(f"round {r + 1}: {kind:8s} {secs:7.2f} s", flush=True)
        res, (models, losses) = out["batched"], out["loop"]
        for m, name in enumerate(names):
            stacked = B.variant_model(res.weights, name, m)
            diff = max(
                (a - b).abs().max().item()
                for a, b in zip(models[m].parameters(), stacked.parameters(), strict=True)
            )
            worst["weights"] = max(worst["weights"], diff)
        worst["loss"] = max(worst["loss"], float(np.abs(losses - res.loss).max()))
    # float64: equal to rounding. float32: Adam divides each gradient entry by its own running
    # size, so an entry that is rounding noise (1e-8) moves its weight by about the learning
    # rate in a direction that rounding decides; the two computations then drift apart by a few
    # learning rates in such weights. Equality is therefore checked in float64.
    tol = {"float64": (1e-9, 1e-9), "float32": (0.05, 0.01)}[args.dtype]
    if worst["weights"] > tol[0] or worst["loss"] > tol[1]:
        print(f"RESULTS DIFFER: {worst} (tolerance {tol}); no time reported.")
        return 1
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["loop"] / med["batched"]
    M = len(runs)
    print(
        f"{M} networks x {args.steps} steps: batched {med['batched']:.2f} s, loop "
        f"{med['loop']:.2f} s (medians of {args.repeats}); loop / batched = {ratio:.1f}x; "
        f"largest difference: weights {worst['weights']:.1e}, loss {worst['loss']:.1e}"
    )
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "threads": 1,
        "dtype": args.dtype,
        "networks": M,
        "steps": args.steps,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "seconds": times,
        "median_seconds": med,
        "ratio_loop_over_batched": ratio,
        "largest_difference": worst,
    }
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    previous[args.dtype] = result
    args.out.write_text(json.dumps(previous, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
