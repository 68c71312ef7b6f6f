"""Command line: ``python -m autograder grade <assignment> [submission.ipynb ...]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autograder.gradebook import format_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade submissions of one assignment")
    g.add_argument("assignment", help="assignment name, e.g. 01_rnn")
    g.add_argument("submissions", nargs="*", help="notebook files (default: course/submitted)")
    g.add_argument("--course", default=None, help="nbgrader course folder (default: course/)")
    g.add_argument("--student", help="grade only this student")
    g.add_argument("--exercise", help="regrade only this exercise (others are kept)")
    g.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="parallel workers of the local pool (default: all cores; a cluster has its own)",
    )
    g.add_argument("--force", action="store_true", help="regrade even if nothing changed")
    g.add_argument("--db", default=None, help="gradebook URL (default: the course's SQLite)")
    g.add_argument("--no-gradebook", action="store_true", help="do not write the gradebook")
    g.add_argument("--no-progress", action="store_true")
    g.add_argument(
        "--cold",
        action="store_true",
        help="start a new sandbox for every submission instead of forking a warm worker "
        "(the same isolation, slower; for comparing or debugging)",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask distributed cluster, e.g. tcp://host:8786 (default: this machine)",
    )
    g.add_argument("--scheduler-file", metavar="FILE", help="the cluster's scheduler file instead")
    args = parser.parse_args(argv)

    from autograder import isolation, warm
    from autograder.batch import collect, grade_batch
    from autograder.cluster import ClusterError
    from autograder.config import COURSE, release_notebook
    from autograder.export import write_all
    from autograder.gradebook import GradebookError

    course = Path(args.course).resolve() if args.course else COURSE
    release = release_notebook(course, args.assignment)
    if not release.is_file():
        print(f"no released notebook at {release}: run `make course` first.", file=sys.stderr)
        return 2
    use_bwrap = isolation.bwrap_in_use(None)
    executor = None
    if args.scheduler or args.scheduler_file:
        from autograder.cluster import DaskCluster

        try:
            executor = DaskCluster(args.scheduler, args.scheduler_file)
            lines = executor.describe()
        except ClusterError as e:
            print(e, file=sys.stderr)
            return 2
        print("\n".join(lines), flush=True)  # first, so nobody can miss it
    else:
        print(isolation.isolation_note(use_bwrap), flush=True)  # first, so nobody can miss it
        print(warm.worker_mode(use_bwrap, args.cold), flush=True)
    t0 = time.perf_counter()
    try:
        results, problems = grade_batch(
            args.assignment,
            args.submissions,
            course,
            args.student,
            args.exercise,
            args.jobs,
            args.force,
            progress=not args.no_progress,
            use_bwrap=use_bwrap,
            warm=False if args.cold else None,
            executor=executor,
        )
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    except ClusterError as e:  # the scheduler lost mid-batch: what was stored is kept
        print(e, file=sys.stderr)
        return 1
    finally:
        if executor is not None:
            executor.close()
    graded_s = time.perf_counter() - t0
    pairs, _ = collect(args.assignment, course, args.submissions, args.student)
    db = None if args.no_gradebook else (args.db or f"sqlite:///{course / 'gradebook.db'}")
    try:
        where = write_all(course, results, dict(pairs), db)
    except GradebookError as e:
        print(e, file=sys.stderr)
        return 2
    for p in problems:
        print("note:", p)
    if not results:
        print("no submission was graded.")
        return 0
    table = {r.student: {f"test_{k}": e.score for k, e in r.exercises.items()} for r in results}
    maxima = {f"test_{k}": e.points for k, e in results[0].exercises.items()}
    print(format_table(table, maxima).rsplit("\n", 1)[0])
    for r in results:
        if r.findings or r.events:
            print(f"{r.student}: " + " ".join(r.findings + r.events))
    secs = time.perf_counter() - t0
    print(
        f"{len(results)} submissions in {secs:.1f} s (grading {graded_s:.1f} s, gradebook and "
        f"exports {secs - graded_s:.1f} s); results in {where.get('results', '-')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
