"""The class report: what the class got wrong, at a glance (``python -m autograder report A``).

Built from the result files the grading command wrote (``course/grading/<A>/results/``),
nothing is regraded. Per exercise: the distribution of scores (a plot), the share of students
with full marks, the visible-test failures (not answered, or answered and failing), and the
typical mistakes the hidden suites named, ranked by the share of students who made each (the
``mistakes`` of each result, :mod:`autograder.diagnosis`), plus the share who failed hidden tests
without any listed mistake being named. Per student: scores, findings and a link to their
feedback. Writes, beside the results:

* ``report.html``: one self-contained page (plots embedded as PNG data URIs, inline CSS, no
  script, nothing fetched), readable when opened from disk;
* ``report.csv``: the same numbers, one row per (exercise, measure);
* ``feedback/<student>.html``: each student's feedback (the text of ``feedback/<student>.md``)
  as a page the report links to.

Every share is of the students with a result file for the assignment.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import statistics
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.config import output_dir, release_notebook
from autograder.diagnosis import NUMBER
from autograder.export import feedback_text
from autograder.results import SubmissionResult, atomic_write, load_result

NOT_ANSWERED = "NotImplementedError"  # how a visible test of an untouched answer cell fails
TOTAL = "(total)"  # the exercise column of the whole assignment's rows in the CSV


class ReportError(Exception):
    pass


@dataclass
class Mistake:
    key: str
    message: str  # numbers that differ between the students' messages shown as "…"
    students: list[str]


@dataclass
class Exercise:
    name: str
    points: float
    scores: dict[str, float]  # student -> score
    visible_failed: list[str] = field(default_factory=list)  # answered, visible tests failed
    not_answered: list[str] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)  # most students first
    unnamed: list[str] = field(default_factory=list)  # failed hidden tests, no mistake named

    @property
    def full(self) -> list[str]:
        return [s for s, v in self.scores.items() if v >= self.points - 1e-9]


def load_results(course: Path, assignment: str) -> tuple[list[SubmissionResult], list[str]]:
    """Every readable result of ``assignment`` (by student) and the files that could not be read."""
    folder = output_dir(course, assignment) / "results"
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not paths:
        raise ReportError(
            f"no result files in {folder}: grade the assignment first "
            f"(python -m autograder grade {assignment})."
        )
    results, damaged = [], []
    for p in paths:
        r = load_result(p)
        if r is None or r.assignment != assignment:
            damaged.append(p.name)
        else:
            results.append(r)
    if not results:
        raise ReportError(f"none of the {len(paths)} result files in {folder} could be read.")
    return sorted(results, key=lambda r: r.student), damaged


def exercise_order(course: Path, results: list[SubmissionResult]) -> list[str]:
    """The exercises in the notebook's order (from the release, if it is there), then any other
    exercise a result holds, alphabetically."""
    names = {n for r in results for n in r.exercises}
    order = []
    release = release_notebook(course, results[0].assignment)
    if release.is_file():
        from autograder.release import load_release

        order = [e for e in load_release(results[0].assignment, course).exercises if e in names]
    return order + sorted(names - set(order))


def merged_message(messages: list[str]) -> str:
    """One text for the messages of one mistake key: they differ at most in their numbers
    (a time step, say); a number that is not the same in all of them is shown as "…"."""
    first = messages[0]
    if len(set(messages)) == 1:
        return first
    numbers = [NUMBER.findall(m) for m in messages]
    if len({len(n) for n in numbers}) != 1:  # not one pattern after all: show the commonest
        return Counter(messages).most_common(1)[0][0]
    parts = NUMBER.split(first)
    out = [parts[0]]
    for i, rest in enumerate(parts[1:]):
        values = {n[i] for n in numbers}
        out += [values.pop() if len(values) == 1 else "…", rest]
    return "".join(out)


def summarise(results: list[SubmissionResult], order: list[str]) -> list[Exercise]:
    """Per exercise: scores, visible failures, the named mistakes ranked by students."""
    out = []
    for name in order:
        held = [(r, r.exercises[name]) for r in results if name in r.exercises]
        ex = Exercise(name, max(e.points for _, e in held), {r.student: e.score for r, e in held})
        students: dict[str, set[str]] = {}
        messages: dict[str, list[str]] = {}
        for r, e in held:
            if not e.visible_passed and r.readable:
                answered = not e.visible_message.startswith(NOT_ANSWERED)
                (ex.visible_failed if answered else ex.not_answered).append(r.student)
            named = set()
            for m in e.mistakes.values():
                students.setdefault(m["key"], set()).add(r.student)
                messages.setdefault(m["key"], []).append(m["message"])
                named.add(m["key"])
            if e.failures and not named and not e.visible_message.startswith(NOT_ANSWERED):
                ex.unnamed.append(r.student)
        ex.mistakes = sorted(
            (Mistake(k, merged_message(messages[k]), sorted(s)) for k, s in students.items()),
            key=lambda m: (-len(m.students), m.message),
        )
        out.append(ex)
    return out


# --------------------------------------------------------------------------- CSV
def report_csv(results: list[SubmissionResult], exercises: list[Exercise]) -> str:
    """The report's numbers: columns exercise, measure, key, description, students, of, share.

    Measures: ``graded``, ``full marks``, ``mean score``, ``score`` (one row per score value:
    how many students got it), ``not answered``, ``visible tests failed`` (answered),
    ``mistake`` (key and message), ``hidden tests failed, no mistake named``.
    """
    n = len(results)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["exercise", "measure", "key", "description", "students", "of", "share"])

    def row(exercise, measure, count, key="", description=""):
        w.writerow([exercise, measure, key, description, count, n, f"{count / n:.4f}"])

    totals = {r.student: r.score for r in results}
    best = max(r.max_score for r in results)
    row(TOTAL, "graded", n)
    row(TOTAL, "full marks", sum(v >= best - 1e-9 for v in totals.values()))
    w.writerow([TOTAL, "mean score", "", f"{statistics.fmean(totals.values()):.4g}", "", n, ""])
    for value, count in sorted(Counter(round(v, 4) for v in totals.values()).items()):
        row(TOTAL, "score", count, key=f"{value:g}")
    for ex in exercises:
        row(ex.name, "graded", len(ex.scores))
        row(ex.name, "full marks", len(ex.full))
        mean = statistics.fmean(ex.scores.values())
        w.writerow([ex.name, "mean score", "", f"{mean:.4g}", "", n, ""])
        for value, count in sorted(Counter(round(v, 4) for v in ex.scores.values()).items()):
            row(ex.name, "score", count, key=f"{value:g}")
        row(ex.name, "not answered", len(ex.not_answered))
        row(ex.name, "visible tests failed", len(ex.visible_failed))
        for m in ex.mistakes:
            row(ex.name, "mistake", len(m.students), key=m.key, description=m.message)
        row(ex.name, "hidden tests failed, no mistake named", len(ex.unnamed))
    return buf.getvalue()


# --------------------------------------------------------------------------- plots
def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def score_plot(scores: list[float], points: float, title: str) -> str:
    """A histogram of scores from 0 to ``points`` (full marks in their own colour), as a PNG
    data URI. Drawn on a Figure of its own (no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.0, 2.1))
    ax = fig.add_subplot()
    bins = 10
    width = points / bins if points > 0 else 1.0
    counts = [0] * (bins + 1)  # the last bin: full marks exactly
    for s in scores:
        counts[bins if s >= points - 1e-9 else min(int(s / width), bins - 1)] += 1
    lefts = [i * width for i in range(bins)] + [points]
    colours = ["#8da0cb"] * bins + ["#1b9e77"]
    ax.bar(lefts, counts, width=[width * 0.95] * bins + [width * 0.5], align="edge", color=colours)
    ax.set_xlim(0, points + width * 0.6)
    ax.set_xlabel(f"score (of {points:g}); green: full marks", fontsize=8)
    ax.set_ylabel("students", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


# --------------------------------------------------------------------------- HTML
CSS = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 62em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
.key { color: #777; font-size: 0.8em; font-family: monospace; }
.note { color: #555; font-size: 0.9em; }
.bar { display: inline-block; height: 0.7em; background: #e7298a; vertical-align: middle; }
img { display: block; }
.row { display: flex; gap: 1.5em; align-items: center; }
"""


def _pct(count: int, n: int) -> str:
    return f"{100 * count / n:.0f}%"


def _students(names: list[str], limit: int = 40) -> str:
    links = [f'<a href="#s-{_anchor(s)}">{html.escape(s)}</a>' for s in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(links) + more


def _anchor(student: str) -> str:
    return urllib.parse.quote(student, safe="")


def feedback_page(r: SubmissionResult) -> str:
    """A student's feedback (the grading command's text) as a small page of its own."""
    title = html.escape(f"Feedback: {r.assignment}, {r.student}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '</head><body style="max-width: 60em; margin: 1.5em auto; font-family: sans-serif">'
        f'<pre style="white-space: pre-wrap">{html.escape(feedback_text(r))}</pre></body></html>\n'
    )


def report_html(
    results: list[SubmissionResult],
    exercises: list[Exercise],
    feedback: dict[str, list[tuple[str, str]]],
    damaged: list[str],
    source: str,
) -> str:
    """The page. ``feedback``: per student, (label, relative link) of their feedback files."""
    n = len(results)
    a = results[0].assignment
    best = max(r.max_score for r in results)
    totals = [r.score for r in results]
    out = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Class report: {html.escape(a)}</title><style>{CSS}</style></head><body>",
        f"<h1>Class report: {html.escape(a)}</h1>",
        f'<p class="note">{n} students with a result in {html.escape(source)}, made '
        f"{time.strftime('%Y-%m-%d %H:%M')} from the grading command's result files (nothing "
        "regraded). Every share is of these "
        f"{n} students. Written answers are graded by hand and are not in these scores.</p>",
    ]
    if damaged:
        out.append(
            f'<p class="note">Result files that could not be read (regrade these students): '
            f"{html.escape(', '.join(damaged))}</p>"
        )
    unreadable = [r.student for r in results if not r.readable]
    if unreadable:
        out.append(f"<p>Notebooks that could not be read: {_students(unreadable)}.</p>")
    full_total = sum(t >= best - 1e-9 for t in totals)
    out += [
        "<h2>The whole assignment</h2>",
        f'<div class="row"><img alt="distribution of total scores" '
        f'src="{score_plot(totals, best, "total")}">',
        f"<p>Mean {statistics.fmean(totals):.3g} of {best:g}, median "
        f"{statistics.median(totals):.3g}; full marks: {_pct(full_total, n)} ({full_total}).</p>"
        "</div>",
        "<table><tr><th>exercise</th><th class=n>points</th><th class=n>full marks</th>"
        "<th class=n>mean</th><th class=n>not answered</th><th class=n>visible tests failed"
        "</th><th>most common named mistake</th></tr>",
    ]
    for ex in exercises:
        top = ex.mistakes[0] if ex.mistakes else None
        common = f"{_pct(len(top.students), n)} {html.escape(top.message)}" if top else "none named"
        out.append(
            f'<tr><td><a href="#e-{_anchor(ex.name)}">{html.escape(ex.name)}</a></td>'
            f"<td class=n>{ex.points:g}</td><td class=n>{_pct(len(ex.full), n)}</td>"
            f"<td class=n>{statistics.fmean(ex.scores.values()):.3g}</td>"
            f"<td class=n>{_pct(len(ex.not_answered), n)}</td>"
            f"<td class=n>{_pct(len(ex.visible_failed), n)}</td><td>{common}</td></tr>"
        )
    out.append("</table>")
    for ex in exercises:
        name = html.escape(ex.name)
        plot = score_plot(list(ex.scores.values()), ex.points, ex.name)
        out += [
            f'<h2 id="e-{_anchor(ex.name)}">{name} ({ex.points:g} points)</h2>',
            f'<div class="row"><img alt="distribution of scores of {name}" src="{plot}">',
            f"<p>Full marks: <b>{_pct(len(ex.full), n)}</b> ({len(ex.full)} of {n}).<br>"
            f"Visible tests failed (so the exercise earned nothing): "
            f"{_pct(len(ex.visible_failed), n)} answered it "
            f"({len(ex.visible_failed)}), {_pct(len(ex.not_answered), n)} did not answer "
            f"({len(ex.not_answered)}).</p></div>",
        ]
        if ex.mistakes:
            out.append(
                "<p>Typical mistakes the hidden tests named (a student is counted once per "
                "mistake, whatever the number of tests that named it):</p><table>"
                "<tr><th class=n>students</th><th>mistake</th><th>who</th></tr>"
            )
            for m in ex.mistakes:
                share = len(m.students) / n
                out.append(
                    f"<tr><td class=n><b>{_pct(len(m.students), n)}</b> ({len(m.students)}) "
                    f'<span class="bar" style="width: {4 * share:.2f}em"></span></td>'
                    f'<td>{html.escape(m.message)}<br><span class="key">{html.escape(m.key)}'
                    f"</span></td><td><details><summary>{len(m.students)}</summary>"
                    f"{_students(m.students)}</details></td></tr>"
                )
            out.append("</table>")
        else:
            out.append("<p>No typical mistake was named for this exercise.</p>")
        if ex.unnamed:
            out.append(
                f"<p>Failed hidden tests without any listed mistake being named: "
                f"{_pct(len(ex.unnamed), n)} ({_students(ex.unnamed)}).</p>"
            )
    out += [
        "<h2>Students</h2><table><tr><th>student</th><th class=n>total</th>",
        *(f"<th class=n>{html.escape(ex.name)}</th>" for ex in exercises),
        "<th>feedback</th><th>notes</th></tr>",
    ]
    for r in results:
        cells = "".join(
            f"<td class=n>{r.exercises[ex.name].score:.3g}</td>"
            if ex.name in r.exercises
            else "<td class=n>-</td>"
            for ex in exercises
        )
        links = " ".join(
            f'<a href="{html.escape(link)}">{html.escape(label)}</a>'
            for label, link in feedback.get(r.student, [])
        )
        notes = html.escape(" ".join(r.findings + r.events))
        out.append(
            f'<tr id="s-{_anchor(r.student)}"><td>{html.escape(r.student)}</td>'
            f"<td class=n>{r.score:.3g} / {r.max_score:g}</td>{cells}<td>{links}</td>"
            f"<td>{notes}</td></tr>"
        )
    out.append("</table></body></html>\n")
    return "\n".join(out)


def write_report(course: Path, assignment: str) -> dict[str, Path]:
    """Read the results, write report.html, report.csv and the feedback pages; return paths."""
    results, damaged = load_results(course, assignment)
    exercises = summarise(results, exercise_order(course, results))
    out = output_dir(course, assignment)
    feedback: dict[str, list[tuple[str, str]]] = {}
    nbgrader_feedback = course / "feedback"
    for r in results:
        page = out / "feedback" / f"{r.student}.html"
        atomic_write(page, feedback_page(r))
        links = [("feedback", f"feedback/{urllib.parse.quote(r.student)}.html")]
        theirs = nbgrader_feedback / r.student / assignment / f"{assignment}.html"
        if theirs.is_file():  # nbgrader generate_feedback's, with the hand-graded answers
            rel = Path("..", "..", "feedback", r.student, assignment, f"{assignment}.html")
            links.append(("nbgrader", urllib.parse.quote(rel.as_posix())))
        feedback[r.student] = links
    source = str(out / "results")
    atomic_write(out / "report.html", report_html(results, exercises, feedback, damaged, source))
    atomic_write(out / "report.csv", report_csv(results, exercises))
    return {"html": out / "report.html", "csv": out / "report.csv", "feedback": out / "feedback"}
