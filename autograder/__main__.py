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
    g.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
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
    args = parser.parse_args(argv)

    from autograder import isolation, warm
    from autograder.batch import collect, grade_batch
    from autograder.config import COURSE, release_notebook
    from autograder.export import write_all
    from autograder.gradebook import GradebookError
    from autograder.release import load_release

    course = Path(args.course).resolve() if args.course else COURSE
    release = release_notebook(course, args.assignment)
    if not release.is_file():
        print(f"no released notebook at {release}: run `make course` first.", file=sys.stderr)
        return 2
    use_bwrap = isolation.bwrap_in_use(None)
    print(isolation.isolation_note(use_bwrap), flush=True)  # first, so nobody can miss it
    use_warm = warm.warm_possible(use_bwrap) and not args.cold
    if use_warm:
        print("workers: warm (forked from a sandbox that has loaded the libraries; each in its own")
        print("         namespaces, /tmp, cgroups and limits, as user nobody)", flush=True)
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
            warm=use_warm,
        )
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
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
    # columns in the notebook's order (a result read back from its file has its keys sorted)
    first = results[0].exercises
    order = [k for k in load_release(args.assignment, course).exercises if k in first]
    maxima = {f"test_{k}": first[k].points for k in order + sorted(set(first) - set(order))}
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
