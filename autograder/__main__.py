"""Command line: ``python -m autograder grade <assignment> [submission.ipynb ...]``, then
``python -m autograder report <assignment>`` (the class report, from the result files) and
``python -m autograder similarity <assignment>`` (answers that look copied)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


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
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one of the worker's limits (autograder/config.py, Limits), e.g. "
        "cell_seconds=60 (a cell of the student's that runs longer is stopped, reported and "
        "skipped) or call_seconds=10 (one call of a student's function); repeatable",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask distributed cluster, e.g. tcp://host:8786 (default: this machine)",
    )
    g.add_argument("--scheduler-file", metavar="FILE", help="the cluster's scheduler file instead")
    r = sub.add_parser(
        "report",
        help="the class report (HTML and CSV) from the result files of `grade`, no regrading",
    )
    r.add_argument("assignment", help="assignment name, e.g. 01_rnn")
    r.add_argument("--course", default=None, help="nbgrader course folder (default: course/)")
    s = sub.add_parser(
        "similarity",
        help="pairs of submissions whose answer cells look copied (HTML and CSV), as evidence "
        "for a person to read, never a grade",
    )
    s.add_argument("assignment", help="assignment name, e.g. 01_rnn")
    s.add_argument("submissions", nargs="*", help="notebook files (default: course/submitted)")
    s.add_argument("--course", default=None, help="nbgrader course folder (default: course/)")
    s.add_argument("--top", type=int, default=5, help="pairs listed per exercise (default 5)")
    args = parser.parse_args(argv)
    if args.command == "report":
        return report(args)
    if args.command == "similarity":
        return similarity(args)

    from autograder import isolation, warm
    from autograder.batch import collect, grade_batch, ungraded
    from autograder.cluster import ClusterError
    from autograder.config import COURSE, limits_with, release_notebook
    from autograder.export import write_all
    from autograder.gradebook import GradebookError
    from autograder.release import load_release

    course = Path(args.course).resolve() if args.course else COURSE
    try:
        limits = limits_with(args.limit)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
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
            limits=limits,
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
    missing = ungraded([name for name, _ in pairs], results, problems)
    for p in problems:
        if p.split(": ", 1)[0] not in missing:
            print("note:", p)
    if not results:
        print("no submission was graded.")
    else:
        _summary(results, list(load_release(args.assignment, course).exercises))
        secs = time.perf_counter() - t0
        print(
            f"{len(results)} submissions in {secs:.1f} s (grading {graded_s:.1f} s, gradebook "
            f"and exports {secs - graded_s:.1f} s); results in {where.get('results', '-')}"
        )
    for name, why in missing.items():  # last, one line each: nobody can miss them
        print(f"NOT GRADED {name}: {why}")
    if missing:
        print(f"{len(missing)} submission(s) not graded; exit status 1")
        return 1
    return 0


def _summary(results, exercises: list[str]) -> None:
    """The grade table, exercises in the notebook's order, then each student's findings."""
    from autograder.gradebook import format_table

    table = {r.student: {f"test_{k}": e.score for k, e in r.exercises.items()} for r in results}
    # columns in the notebook's order (a result read back from its file has its keys sorted)
    first = results[0].exercises
    order = [k for k in exercises if k in first]
    maxima = {f"test_{k}": first[k].points for k in order + sorted(set(first) - set(order))}
    print(format_table(table, maxima).rsplit("\n", 1)[0])
    for r in results:
        if r.findings or r.events:
            print(f"{r.student}: " + " ".join(r.findings + r.events))


def report(args) -> int:
    from autograder.config import COURSE
    from autograder.report import ReportError, write_report

    course = Path(args.course).resolve() if args.course else COURSE
    try:
        where = write_report(course, args.assignment)
    except ReportError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"class report: {where['html']}")
    print(f"its numbers:  {where['csv']}")
    print(f"feedback pages it links to: {where['feedback']}/<student>.html")
    return 0


def similarity(args) -> int:
    from autograder.batch import collect
    from autograder.config import COURSE, release_notebook
    from autograder.similarity import FLAG_SCORE, FLAG_SHARED, write_similarity

    course = Path(args.course).resolve() if args.course else COURSE
    if not release_notebook(course, args.assignment).is_file():
        print(
            f"no released notebook at {release_notebook(course, args.assignment)}: run "
            "`make course` first (the release's starter code is left out of the comparison).",
            file=sys.stderr,
        )
        return 2
    if args.top < 1:
        print("--top must be at least 1.", file=sys.stderr)
        return 2
    pairs, problems = collect(args.assignment, course, args.submissions, None)
    for p in problems:
        print("note:", p)
    if len(pairs) < 2:
        print(
            f"{len(pairs)} submission(s) of {args.assignment} found (course/submitted/<student>/"
            f"{args.assignment}/{args.assignment}.ipynb): nothing to compare.",
            file=sys.stderr,
        )
        return 2
    comparison, where = write_similarity(course, args.assignment, dict(pairs), args.top)
    for p in comparison.problems:
        print("note:", p)
    print(
        f"{len(pairs)} submissions compared in {comparison.seconds:.1f} s; flagged (score >= "
        f"{FLAG_SCORE:g}, >= {FLAG_SHARED} shared subtrees) pairs per exercise, most similar first:"
    )
    for exercise in comparison.exercises:
        flagged = [p for p in comparison.pairs[exercise] if p.flagged]
        shown = ", ".join(f"{p.a.student}+{p.b.student} {p.score:.2f}" for p in flagged[:3])
        more = f" and {len(flagged) - 3} more" if len(flagged) > 3 else ""
        print(f"  {exercise}: {shown + more if flagged else 'none'}")
    print(f"side by side: {where['html']}")
    print(f"pairs:        {where['csv']}")
    print("Similar code is a reason to read two answers, not proof of copying; never a grade.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
