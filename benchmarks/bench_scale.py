"""Grading at scale: the local pool against a Dask cluster, and the grading modes side by side.

Usage (from the repository root, as root with bubblewrap)::

    .venv/bin/python benchmarks/bench_scale.py [--n 100] [--n-slow 30] [--seed 0]

In one run, on copies of the course with the same submissions of notebook 01 (made by
bench_grader.make_submissions: correct, wrong, partly wrong, unanswered and broken answers;
no infinite loop, whose fixed 20 s would only add noise to a throughput):

1. ``--n`` submissions through the local pool (``--jobs 2``, warm workers), then through a
   ``dask.distributed.LocalCluster`` of 2 worker processes with 1 thread each (``--scheduler``;
   the cluster is started before and not timed, as an existing cluster would be), then the pool
   again (pool, cluster, pool: the mean of the two pool runs is the reference, so a drift of the
   machine's load shows as their difference);
2. ``--n-slow`` submissions as root with cold workers (``--cold``: a new sandbox each) and as an
   unprivileged user (user nobody through setpriv, as tests/test_scale.py runs it).

Each run is the whole command (start-up, grading, gradebook and exports); its "grading" seconds
are what the command prints. Scores are compared between all runs (any difference is printed and
makes the exit status 1). Writes ``benchmarks/scale_results.json`` and prints a table and the
projection for a course of 1,000 students x 6 notebooks.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import bench_grader  # noqa: E402

from autograder.cluster import local_cluster  # noqa: E402
from autograder.environ import run_nbgrader  # noqa: E402
from tests.test_scale import _as_nobody_command, _nobody  # noqa: E402

A = "01_rnn"
SUMMARY = re.compile(r"(\d+) submissions in ([\d.]+) s \(grading ([\d.]+) s")
# the cost of a submission of each notebook relative to 01's (single-process grading times of
# the session 2 and 3 notes: 01 0.37-0.7 s, 02 1.0-1.3 s, 03 0.5-1.1 s; 04-06 like 03)
RELATIVE_COST = {"01": 1.0, "02": 2.1, "03": 1.5, "04": 1.5, "05": 1.5, "06": 1.5}


def run(cmd: list[str], log: Path) -> dict:
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    text = log.read_text()
    m = SUMMARY.search(text)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}); see {log}:\n{text[-2000:]}")
    first = text.splitlines()[:3]
    return {
        "wall_seconds": wall,
        "submissions": int(m.group(1)),
        "grading_seconds": float(m.group(3)),
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "said": first,
    }


def scores(course: Path) -> dict:
    out = {}
    for p in sorted((course / "grading" / A / "results").glob("*.json")):
        data = json.loads(p.read_text())
        out[p.stem] = {k: v["score"] for k, v in data["exercises"].items()}
    return out


def course_copy(base: Path, name: str, submissions: list[dict]) -> Path:
    course = bench_grader.copy_course(base / name / "course", submissions)
    proc = run_nbgrader(course, "generate_assignment", A, "--force", "--log-level=WARN")
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    return course


def projection(seconds_per_submission: float, processes: int = 2) -> dict:
    """What 1,000 students x 6 notebooks cost: core-hours, and minutes on 1, 4, 16 machines."""
    core_s = seconds_per_submission * processes  # core-seconds per submission of 01
    per_course = sum(1000 * core_s * c for c in RELATIVE_COST.values())
    minutes = {
        f"{machines} x {cores} cores": per_course / (machines * cores) / 60
        for machines in (1, 4, 16)
        for cores in (2, 16)
    }
    return {"core_seconds_01": core_s, "core_hours": per_course / 3600, "minutes": minutes}


def report(runs: dict, n: int) -> dict:
    """Print the table, the cluster against each pool run, and the projections; return them."""
    for r in runs.values():
        r["seconds_per_submission"] = r["grading_seconds"] / r["submissions"]
    print(f"\n{'mode':<44}{'subs':>6}{'grading s':>11}{'s/sub':>8}{'wall s':>8}{'load':>6}")
    for name, r in runs.items():
        print(
            f"{name:<44}{r['submissions']:>6}{r['grading_seconds']:>11.1f}"
            f"{r['seconds_per_submission']:>8.3f}{r['wall_seconds']:>8.1f}{r['load_before']:>6.1f}"
        )
    before, after = runs["pool (warm, 2 jobs)"], runs["pool again"]
    dask = runs["Dask LocalCluster (2 workers x 1 thread)"]["grading_seconds"]
    mean = (before["grading_seconds"] + after["grading_seconds"]) / 2
    ratios = {
        "pool run before": dask / before["grading_seconds"],
        "pool run after": dask / after["grading_seconds"],
        "mean of both": dask / mean,
    }
    for k, v in ratios.items():
        print(f"cluster / {k}: {v:.3f}")
    warm = after["seconds_per_submission"]
    slow = {k: runs[k]["seconds_per_submission"] for k in runs if k.startswith(("root", "unpriv"))}
    for k, v in slow.items():
        print(f"{k} / pool run after: {v / warm:.2f}")
    projections = {}
    for k, r in (("pool run after", after), ("mean of both", {"seconds_per_submission": mean / n})):
        p = projections[k] = projection(r["seconds_per_submission"])
        print(f"1,000 students x 6 notebooks from the {k}: {p['core_hours']:.2f} core-hours;")
        print("  " + ", ".join(f"{m}: {v:.1f} min" for m, v in p["minutes"].items()))
    return {"cluster_over_pool": ratios, "projections": projections}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--n-slow", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", metavar="JSON", help="only print the report of a saved run")
    args = parser.parse_args(argv)
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        report(saved["runs"], saved["n"])
        return 0
    if os.getuid() != 0:
        raise SystemExit("run as root: the unprivileged run is made from root with setpriv")
    subs = bench_grader.make_submissions(args.n, args.seed, loops=0)
    base = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    os.chmod(base, 0o755)
    logs = base / "logs"
    logs.mkdir()
    grade = [sys.executable, "-m", "autograder", "grade", A, "--no-progress"]
    runs: dict[str, dict] = {}
    courses: dict[str, Path] = {}
    try:
        with local_cluster(2) as cluster:
            plan = [
                ("pool (warm, 2 jobs)", []),
                (
                    "Dask LocalCluster (2 workers x 1 thread)",
                    ["--scheduler", cluster.scheduler_address],
                ),
                ("pool again", []),
            ]
            for name, extra in plan:
                course = courses[name] = course_copy(base, f"c{len(courses)}", subs)
                print(f"{name}: {args.n} submissions ...", flush=True)
                cmd = [*grade, "--course", str(course), "--jobs", "2", *extra]
                runs[name] = run(cmd, logs / f"{len(courses)}.log")
        slow = subs[: args.n_slow]
        course = courses["root, cold (--cold)"] = course_copy(base, "cold", slow)
        print(f"root, cold: {args.n_slow} submissions ...", flush=True)
        cmd = [*grade, "--course", str(course), "--jobs", "2", "--cold"]
        runs["root, cold (--cold)"] = run(cmd, logs / "cold.log")
        name = "unprivileged (user nobody)"
        course = courses[name] = course_copy(base, "nobody", slow)
        for p in [base / "nobody", *(base / "nobody").rglob("*")]:
            os.chown(p, *_nobody(), follow_symlinks=False)
        print(f"{name}: {args.n_slow} submissions ...", flush=True)
        cmd = [*grade, "--course", str(course), "--jobs", "2"]
        runs[name] = run(_as_nobody_command(cmd, base / "nobody"), logs / "nobody.log")
        # the same scores everywhere
        reference = scores(courses["pool (warm, 2 jobs)"])
        differences = []
        for name, course in courses.items():
            got = scores(course)
            for student, row in got.items():
                if row != reference[student]:
                    differences.append((name, student, row, reference[student]))
    finally:
        shutil.rmtree(base, ignore_errors=True)

    for d in differences:
        print("SCORE DIFFERENCE", d)
    out = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "n": args.n,
        "n_slow": args.n_slow,
        "runs": runs,
        "relative_cost": RELATIVE_COST,
        "score_differences": len(differences),
    }
    out.update(report(runs, args.n))
    (ROOT / "benchmarks" / "scale_results.json").write_text(json.dumps(out, indent=1) + "\n")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
