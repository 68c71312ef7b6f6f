"""Grading throughput: ``python -m autograder grade`` against ``nbgrader autograde``.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_grader.py [--n 100] [--jobs 2] [--seed 0] [--skip-nbgrader]

1. Generates ``--n`` submissions of notebook 01 from the student release
   (course/release/01_rnn/01_rnn.ipynb), seeded: each answer cell gets the code of the "correct"
   sample, of the "mistakes" sample, a partly wrong variant written here (right on the visible
   tests, wrong on some hidden ones: partial credit), or stays unanswered; some students hand
   in everything right, some hand in the release untouched, and a few are broken in one
   exercise: a syntax error, a function that raises, and (one per 100) an infinite loop.
2. Copies the course twice into a temporary folder (without gradebook, submissions or results),
   puts the same submissions into each copy's ``submitted/``, and registers the assignment with
   ``nbgrader generate_assignment 01_rnn --force`` in each (not timed).
3. Times, back to back on the same machine in the same run (ours first unless ``--order
   nbgrader-first``): ``python -m autograder grade 01_rnn --course <copy> --force --no-progress
   --jobs J`` and ``nbgrader autograde 01_rnn --create --force`` (which runs one notebook at a
   time; it has no option to run several).
4. Compares every student's score on every autograded exercise: our results files against
   nbgrader's gradebook. A difference is printed with the student's answer kinds; it is a bug
   to report, and the exit status is then 1.
5. Prints seconds per submission for each grader and the throughput ratio, and writes
   ``benchmarks/grader_results.json``.

Seconds per submission are wall-clock seconds of the whole command (start-up, every
submission, gradebook and exports) divided by the number of submissions. Core-seconds per
submission multiply that by the cores the command keeps busy (``--jobs`` for ours, 1 for
nbgrader), an upper bound of the CPU it needs. ``--command`` replaces ``python -m autograder``;
``--also NAME=COMMAND`` (repeatable) times another grader command the same way, right after
ours and on its own copy of the course, and compares its scores too: e.g. a script that patches
the grader, to measure a change before making it.
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
ASSIGNMENT = "01_rnn"
RELEASE = COURSE / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
SAMPLES = COURSE / "samples" / ASSIGNMENT
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder.environ import tools_env  # noqa: E402 (the repository is on sys.path now)

# Partly wrong answers: right on the visible tests, wrong on a few hidden tests (edge cases,
# inputs changed in place, a zero norm). Caches are tuples, as in the "correct" sample, so that
# they work with its other functions.
PARTLY_WRONG = {
    "rnn_step_forward": '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """np.squeeze drops the batch axis when N = 1 (and the hidden axis when H = 1)."""
    h = np.squeeze(np.tanh(x @ Wx + h_prev @ Wh + b))
    return h, (x, h_prev, Wx, Wh, h)
''',
    "rnn_forward": '''
def rnn_forward(x, h0, Wx, Wh, b):
    """Right, but squeezed: wrong shapes when N, T or H is 1."""
    h, states = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    hs = np.stack(states, axis=1).squeeze()
    return hs, (x, h0, Wx, Wh, hs)
''',
    "rnn_step_backward": '''
def rnn_step_backward(dh, cache):
    """Right gradients, squeezed: wrong shapes when N or H is 1."""
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h**2)
    grads = (da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0))
    return tuple(np.squeeze(g) for g in grads)
''',
    "rnn_backward": '''
def rnn_backward(dh, cache):
    """Right gradients, squeezed: wrong shapes when N, T or H is 1."""
    x, h0, Wx, Wh, hs = cache
    N, T, H = hs.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        da = (dh[:, t] + dh_next) * (1 - hs[:, t] ** 2)
        h_prev = h0 if t == 0 else hs[:, t - 1]
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return tuple(np.squeeze(g) for g in (dx, dh_next, dWx, dWh, db))
''',
    "rnn_step_jacobians": '''
def rnn_step_jacobians(h, Wh):
    """Right, squeezed: wrong shapes when N, T or H is 1."""
    return np.squeeze((1 - h**2)[..., :, None] * Wh.T)
''',
    "jacobian_product_norms": '''
def jacobian_product_norms(J, ord=2):
    """Right norms, but the running products are stored into J (the input is changed)."""
    N, T, H, _ = J.shape
    P = np.tile(np.eye(H), (N, 1, 1))
    norms = [np.linalg.norm(P, ord=ord, axis=(1, 2))]
    for k in range(1, T + 1):
        P = P @ J[:, T - k]
        J[:, T - k] = P
        norms.append(np.linalg.norm(P, ord=ord, axis=(1, 2)))
    return np.stack(norms, axis=1)
''',
    "clip_by_global_norm": '''
def clip_by_global_norm(grads, max_norm):
    """Right, except that all-zero gradients divide by zero."""
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    factor = min(1.0, max_norm / total)
    return [g * factor for g in grads], total
''',
}
# Broken answers: the first line of the function is replaced or followed by one of these.
SYNTAX_ERROR = "    return (x for x in\n"  # never closed
RAISES = "    np.zeros((2, 3)) @ np.zeros((4, 5))  # a shape bug: raises ValueError\n"
LOOPS = "    while True:  # a loop that never ends\n        pass\n"
# Only functions that no other test and no top-level cell calls may loop, or nbgrader spends
# its cell timeout (300 s) again in every cell that calls them.
MAY_LOOP = ("rnn_step_jacobians", "jacobian_product_norms")
KINDS = ("correct", "partly_wrong", "mistake", "unanswered")
WEIGHTS = (0.55, 0.15, 0.15, 0.15)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100, help="number of submissions (default 100)")
    p.add_argument("--jobs", type=int, default=2, help="--jobs of our command (default 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the submission mix (default 0)")
    p.add_argument("--skip-nbgrader", action="store_true", help="time our command only")
    p.add_argument("--order", choices=["ours-first", "nbgrader-first"], default="ours-first")
    p.add_argument(
        "--loops",
        type=int,
        default=None,
        help="submissions with an infinite loop (default: one per 100 submissions)",
    )
    p.add_argument(
        "--command",
        default=f"{shlex.quote(sys.executable)} -m autograder",
        help="our grader's command line before 'grade' (default: this Python -m autograder)",
    )
    p.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="another grader command to time the same way, on its own copy of the course "
        "(repeatable; e.g. a script that patches the grader, to measure a change)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every grader this many times, interleaved (round r starts at the r-th grader); "
        "each grader's time is the median of its rounds (default 1)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary course copies")
    p.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "grader_results.json", help="results"
    )
    return p.parse_args(argv)


# --------------------------------------------------------------------------- submissions
def sample_functions(name: str) -> tuple[dict[str, str], dict[str, str]]:
    """The top-level functions of a sample (name -> source) and its ANSWERS."""
    text = (SAMPLES / f"{name}.py").read_text()
    lines = text.splitlines()
    funcs, answers = {}, {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ANSWERS":
            answers = ast.literal_eval(node.value)
    return funcs, answers


def _after_def_line(source: str, inserted: str) -> str:
    head, _, body = source.partition("\n")
    return head + "\n" + inserted + body


def answer_code(exercise: str, kind: str, correct: dict, mistakes: dict, release: str) -> str:
    if kind == "correct":
        return correct[exercise]
    if kind == "mistake":
        return mistakes.get(exercise, correct[exercise])
    if kind == "partly_wrong":
        return PARTLY_WRONG[exercise].strip() + "\n"
    if kind == "syntax_error":
        return _after_def_line(correct[exercise], SYNTAX_ERROR)
    if kind == "raises":
        return _after_def_line(correct[exercise], RAISES)
    if kind == "infinite_loop":
        return _after_def_line(correct[exercise], LOOPS)
    return release  # unanswered


def make_submissions(n: int, seed: int, loops: int | None = None) -> list[dict]:
    """``n`` students: {"student", "kinds" (exercise -> kind), "profile", "notebook"}."""
    rng = random.Random(seed)
    release = nbformat.read(RELEASE, as_version=4)
    answer_ids = [
        c.metadata["nbgrader"]["grade_id"]
        for c in release.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    correct, right_answers = sample_functions("correct")
    mistakes, wrong_answers = sample_functions("mistakes")
    loops = n // 100 if loops is None else loops
    n_syntax, n_raises = round(0.04 * n), round(0.04 * n)
    # the first students in a shuffled order get the broken answers
    order = list(range(n))
    rng.shuffle(order)
    broken = {}
    for i, kind in enumerate(
        ["infinite_loop"] * loops + ["syntax_error"] * n_syntax + ["raises"] * n_raises
    ):
        if i < n:
            broken[order[i]] = kind
    out = []
    for i in range(n):
        roll = rng.random()
        if i in broken:
            profile = "broken"
        elif roll < 0.15:
            profile = "all correct"
        elif roll < 0.25:
            profile = "untouched"
        else:
            profile = "mixed"
        kinds = {}
        for gid in answer_ids:
            if profile == "all correct":
                kinds[gid] = "correct"
            elif profile == "untouched":
                kinds[gid] = "unanswered"
            else:
                kinds[gid] = rng.choices(KINDS, WEIGHTS)[0]
        if i in broken:
            kind = broken[i]
            candidates = MAY_LOOP if kind == "infinite_loop" else answer_ids
            kinds[rng.choice(candidates)] = kind
        nb = copy.deepcopy(release)
        written = rng.choice([right_answers, wrong_answers, {}]) if profile != "untouched" else {}
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.cell_type == "code" and gid in kinds:
                cell.source = answer_code(gid, kinds[gid], correct, mistakes, cell.source)
            elif cell.cell_type == "markdown" and gid in written:
                cell.source = written[gid]
        out.append({"student": f"s{i:03d}", "kinds": kinds, "profile": profile, "notebook": nb})
    return out


# --------------------------------------------------------------------------- course copies
def copy_course(dest: Path, submissions: list[dict]) -> Path:
    shutil.copytree(
        COURSE,
        dest,
        ignore=shutil.ignore_patterns(
            "gradebook.db",
            "executed",
            "submitted",
            "autograded",
            "feedback",
            "grading",
            "__pycache__",
        ),
    )
    for s in submissions:
        path = dest / "submitted" / s["student"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(s["notebook"], path)
    return dest


def run(cmd: list[str], cwd: Path, log: Path) -> dict:
    """Run a command, its output to ``log``; wall seconds and the exit status."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=tools_env())
    secs = time.perf_counter() - t0
    return {
        "command": " ".join(shlex.quote(c) for c in cmd),
        "returncode": proc.returncode,
        "seconds": secs,
        "load_average_1min_before": load,
        "load_average_1min_after": os.getloadavg()[0],
        "log": str(log),
    }


# --------------------------------------------------------------------------- scores
def our_scores(course: Path) -> tuple[dict, dict]:
    """{student: {exercise: score}} and {student: seconds} from our results files."""
    scores, seconds = {}, {}
    for p in sorted((course / "grading" / ASSIGNMENT / "results").glob("*.json")):
        data = json.loads(p.read_text())
        scores[data["student"]] = {k: v["score"] for k, v in data["exercises"].items()}
        seconds[data["student"]] = data.get("seconds")
    return scores, seconds


def gradebook_scores(course: Path) -> dict:
    """{student: {exercise: score}} of the autograded cells in a course's gradebook."""
    from autograder.gradebook import scores

    table = scores(f"sqlite:///{course / 'gradebook.db'}", ASSIGNMENT)
    return {
        student: {k.removeprefix("test_"): v for k, v in row.items() if k.startswith("test_")}
        for student, row in table.items()
    }


def nbgrader_seconds(course: Path, started: float) -> dict:
    """Seconds nbgrader spent on each student: the time between consecutive autograded
    notebooks being written (the first one includes nbgrader's own start-up)."""
    done = []
    for p in (course / "autograded").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"):
        done.append((p.stat().st_mtime, p.parts[-3]))
    done.sort()
    out, last = {}, started
    for mtime, student in done:
        out[student] = mtime - last
        last = mtime
    return out


def compare(ours: dict, theirs: dict, submissions: list[dict]) -> list[dict]:
    diffs = []
    for s in submissions:
        name = s["student"]
        a, b = ours.get(name), theirs.get(name)
        if a is None or b is None:
            diffs.append({"student": name, "missing_in": "ours" if a is None else "nbgrader"})
            continue
        for exercise in sorted(set(a) | set(b)):
            x, y = a.get(exercise), b.get(exercise, 0.0)
            if x is None or abs(x - y) > 1e-6:
                diffs.append(
                    {
                        "student": name,
                        "exercise": exercise,
                        "ours": x,
                        "nbgrader": y,
                        "kinds": s["kinds"],
                    }
                )
    return diffs


# --------------------------------------------------------------------------- report
def _versions() -> dict:
    import nbgrader
    import numpy
    import pytest
    import torch

    info = {
        "python": platform.python_version(),
        "nbgrader": nbgrader.__version__,
        "pytest": pytest.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "bubblewrap": shutil.which("bwrap") is not None,
    }
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        info["git_commit"] = head.stdout.decode().strip()
        info["git_modified"] = [ln[3:] for ln in dirty.stdout.splitlines()]
    except OSError:
        pass
    return info


def _per_kind(seconds: dict, submissions: list[dict]) -> dict:
    groups: dict[str, list[float]] = {}
    for s in submissions:
        t = seconds.get(s["student"])
        if t is None:
            continue
        broken = [
            k for k in s["kinds"].values() if k in ("syntax_error", "raises", "infinite_loop")
        ]
        key = broken[0] if broken else s["profile"]
        groups.setdefault(key, []).append(t)
    return {
        k: {"count": len(v), "mean_s": sum(v) / len(v), "max_s": max(v)}
        for k, v in sorted(groups.items())
    }


def _grade_command(command: str, course: Path, jobs: int) -> list[str]:
    cmd = [*shlex.split(command), "grade", ASSIGNMENT, "--course", str(course), "--force"]
    return cmd + ["--no-progress", "--jobs", str(jobs)]


def main(argv=None) -> int:
    args = parse_args(argv)
    submissions = make_submissions(args.n, args.seed, args.loops)
    n = args.n
    kinds_count: dict[str, int] = {}
    for s in submissions:
        for k in s["kinds"].values():
            kinds_count[k] = kinds_count.get(k, 0) + 1
    print(f"{n} submissions of {ASSIGNMENT} (seed {args.seed}); answer cells by kind:")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(kinds_count.items())))

    # our graders: the command, then any --also variant, each on its own copy of the course
    ours = [("ours", args.command)]
    for spec in args.also:
        name, _, command = spec.partition("=")
        if not name or not command or name in ("ours", "nbgrader"):
            print(f"--also wants NAME=COMMAND, got {spec!r}", file=sys.stderr)
            return 2
        ours.append((name, command))
    tmp = Path(tempfile.mkdtemp(prefix="bench-grader-"))
    courses = {name: copy_course(tmp / name / "course", submissions) for name, _ in ours}
    if not args.skip_nbgrader:
        courses["nbgrader"] = copy_course(tmp / "nbgrader" / "course", submissions)
    nbgrader_cmd = [sys.executable, "-m", "nbgrader"]
    setup = {}
    for name, course in courses.items():
        r = run(
            [*nbgrader_cmd, "generate_assignment", ASSIGNMENT, "--force", "--log-level=WARN"],
            course,
            course.parent / "generate_assignment.log",
        )
        if r["returncode"]:
            print(Path(r["log"]).read_text(), file=sys.stderr)
            return 2
        setup[name] = r["seconds"]

    plan = [
        (name, _grade_command(command, courses[name], args.jobs), ROOT) for name, command in ours
    ]
    if not args.skip_nbgrader:
        step = ("nbgrader", [*nbgrader_cmd, "autograde", ASSIGNMENT, "--create", "--force"])
        plan.insert(
            0 if args.order == "nbgrader-first" else len(plan), (*step, courses["nbgrader"])
        )
    timings, started, rounds = {}, {}, {name: [] for name, *_ in plan}
    for r in range(args.rounds):  # interleaved: a busy moment of the machine hits each alike
        for name, cmd, cwd in plan[r % len(plan) :] + plan[: r % len(plan)]:
            print(f"round {r + 1}, running {name}: {' '.join(cmd)}", flush=True)
            started.setdefault(name, time.time())
            t = run(cmd, cwd, courses[name].parent / f"{name}.log")
            rounds[name].append(t)
            print(f"  {t['seconds']:.1f} s, exit status {t['returncode']}", flush=True)
            if t["returncode"]:
                print(Path(t["log"]).read_text()[-3000:], file=sys.stderr)
    for name, runs in rounds.items():  # the median round (the lower one of an even count)
        timings[name] = sorted(runs, key=lambda t: t["seconds"])[(len(runs) - 1) // 2]
        timings[name]["rounds_seconds"] = [t["seconds"] for t in runs]

    result = {
        "config": {
            "assignment": ASSIGNMENT,
            "submissions": n,
            "seed": args.seed,
            "jobs": args.jobs,
            "order": "back to back: " + ", then ".join(name for name, *_ in plan),
            "rounds": args.rounds,
            "commands": {name: " ".join(map(shlex.quote, cmd)) for name, cmd, _ in plan},
            "answer_kinds": kinds_count,
            "profiles": {
                p: sum(s["profile"] == p for s in submissions)
                for p in sorted({s["profile"] for s in submissions})
            },
        },
        "environment": {**_versions(), "date": datetime.datetime.now().astimezone().isoformat()},
        "setup_seconds": setup,
        "timings": timings,
    }
    theirs = None if args.skip_nbgrader else gradebook_scores(courses["nbgrader"])
    summary, seconds_by_kind, diffs, scores = {}, {}, {}, {}
    status = 0
    for name, _ in ours:
        got, secs = our_scores(courses[name])
        scores[name] = (got, secs)
        wall = timings[name]["seconds"]
        summary[name] = {
            "s_per_submission": wall / n,
            "core_s_per_submission": wall * args.jobs / n,
            "graded": len(got),
        }
        seconds_by_kind[name] = _per_kind(secs, submissions)
        if timings[name]["returncode"] or len(got) != n:
            status = 1
        if name != "ours":  # a variant of our grader: against ours, time and scores
            summary[name]["seconds_vs_ours"] = wall / timings["ours"]["seconds"]
            ours_rounds = timings["ours"]["rounds_seconds"]
            pairs = zip(timings[name]["rounds_seconds"], ours_rounds, strict=True)
            per_round = [a / b for a, b in pairs]  # same round: the same moment of the machine
            summary[name]["seconds_vs_ours_per_round"] = per_round
            summary[name]["seconds_vs_ours_median_of_rounds"] = statistics.median(per_round)
            summary[name]["score_differences_vs_ours"] = len(
                compare(got, scores["ours"][0], submissions)
            )
        if theirs is not None:
            theirs_wall = timings["nbgrader"]["seconds"]
            summary[name]["throughput_ratio"] = theirs_wall / wall
            summary[name]["throughput_ratio_per_core"] = theirs_wall / (wall * args.jobs)
            found = compare(got, theirs, submissions)
            # our own gradebook must say what our results files say
            found += [
                {**d, "where": "our gradebook vs our results"}
                for d in compare(gradebook_scores(courses[name]), got, submissions)
            ]
            diffs[name] = found
            summary[name]["score_differences"] = len(found)
            status = status or (1 if found else 0)
    if theirs is not None:
        wall = timings["nbgrader"]["seconds"]
        summary["nbgrader"] = {
            "s_per_submission": wall / n,
            "core_s_per_submission": wall / n,
            "graded": len(theirs),
        }
        seconds_by_kind["nbgrader"] = _per_kind(
            nbgrader_seconds(courses["nbgrader"], started["nbgrader"]), submissions
        )
        status = status or (1 if timings["nbgrader"]["returncode"] or len(theirs) != n else 0)
    result["summary"] = summary
    result["seconds_by_kind"] = seconds_by_kind
    result["differences"] = diffs
    result["per_submission"] = [
        {
            "student": s["student"],
            "profile": s["profile"],
            "kinds": s["kinds"],
            "nbgrader": None if theirs is None else theirs.get(s["student"]),
            **{name: scores[name][0].get(s["student"]) for name, _ in ours},
            "seconds": {name: scores[name][1].get(s["student"]) for name, _ in ours},
        }
        for s in submissions
    ]
    args.out.write_text(json.dumps(result, indent=1) + "\n")

    print()
    print(f"{'grader':<44}{'s / submission':>16}{'core-s / subm.':>16}{'ratio':>8}")
    for name, *_ in plan:
        row = summary[name]
        label = f"nbgrader autograde ({n})" if name == "nbgrader" else f"{name} --jobs {args.jobs}"
        ratio = row.get("throughput_ratio")
        print(
            f"{label:<44}{row['s_per_submission']:>16.2f}{row['core_s_per_submission']:>16.2f}"
            + (f"{ratio:>7.1f}x" if ratio else "")
        )
    for name, row in summary.items():
        if "seconds_vs_ours" in row:
            secs = ", ".join(f"{x:.1f}" for x in timings[name]["rounds_seconds"])
            mine = ", ".join(f"{x:.1f}" for x in timings["ours"]["rounds_seconds"])
            print(
                f"{name} / ours: {row['seconds_vs_ours']:.3f} (ratio of medians), "
                f"{row['seconds_vs_ours_median_of_rounds']:.3f} (median of per-round ratios) "
                f"({name}: {secs} s; ours: {mine} s); score differences: "
                f"{row['score_differences_vs_ours']}"
            )
    if theirs is not None:
        print("ratio: nbgrader's seconds per submission / ours (throughput of ours / nbgrader's)")
        for name, found in diffs.items():
            for d in found:
                print(f"SCORE DIFFERENCE ({name}):", json.dumps(d))
            if not found:
                print(f"{name}: all {n} students x every autograded exercise equal to nbgrader's")
    print(f"results in {args.out}")
    if args.keep:
        print(f"course copies kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
