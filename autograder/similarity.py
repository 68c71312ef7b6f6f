"""Which submissions look copied (``python -m autograder similarity A``): evidence for a person.

The answer cells of every pair of submissions are compared exercise by exercise, after undoing
what copying usually changes, and the most similar pairs are listed with the two cells side by
side (``similarity.html``, and ``similarity.csv``, beside the grading results). A score is a
reason to read two cells, never a grade, and never a finding by itself.

How a cell is compared (all with :mod:`ast`; the cell is parsed, never run):

* Comments, docstrings, bare strings and formatting vanish with the parse.
* Every name the cell binds (arguments, assigned variables, loop and comprehension variables,
  nested functions) becomes the same placeholder, so renaming changes nothing; names it only
  reads (``np``, ``torch``, ``range``, the notebook's helpers), attributes, keywords and
  constants are kept. ``a += b`` counts as ``a = a + b``; type annotations do not count.
* The statements of each block are put in a canonical order that keeps every dependency: a
  statement stays after any earlier one whose names it reads or writes, or that writes names it
  reads (a method call on a variable writes it if it is a known mutator, ``h.append(x)``, an
  in-place ``w.fill_(0)``, or a statement of its own); ``return``, ``raise``,
  ``break``, ``continue``, ``yield`` and calls of functions that are not variables of the cell
  (``print``) stay where they are. Independent statements swapped by a copier come out the same.
* A cell becomes the multiset of its subtrees of at least :data:`MIN_NODES` nodes, each hashed
  after the steps above. What the release's answer cell already holds (the signature,
  ``raise NotImplementedError()``, any starter code) is taken out, and so is, in a class of at
  least :data:`COMMON_MIN` answers, any subtree that more than :data:`COMMON_SHARE` of the class
  wrote (how everyone writes the formula is no sign of copying).
* The score of a pair is the Jaccard index of the two multisets: shared subtrees over all
  subtrees of either, 1.0 for cells equal up to the changes above. A pair is *flagged* when its
  score is at least :data:`FLAG_SCORE` and it shares at least :data:`FLAG_SHARED` subtrees
  (tiny answers say little: ``h = np.tanh(x @ Wx + h_prev @ Wh + b)`` and a return make about
  8 subtrees, a four-statement function about 20). Independent correct answers to the course's
  exercises (the samples and the reference solutions) stay below the flag: at most 0.27 when
  this was written; tests/test_similarity.py checks that none reaches half of FLAG_SCORE.

A cell that does not parse is compared by runs of five tokens (names that are not keywords
replaced by a placeholder, comments dropped) instead. Unanswered cells (nothing beyond the
starter code) are left out.
"""

from __future__ import annotations

import ast
import csv
import html
import io
import keyword
import time
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.config import output_dir
from autograder.results import atomic_write

MIN_NODES = 4  # smallest subtree that counts (``x @ Wx`` has 3 nodes, ``np.tanh(a)`` 4)
COMMON_SHARE = 0.5  # a subtree in more than this share of a class's answers is common code...
COMMON_MIN = 10  # ...when the class has at least this many answers to the exercise
FLAG_SCORE = 0.8  # pairs at or above this score, sharing at least FLAG_SHARED subtrees,
FLAG_SHARED = 15  # are flagged for a person to read (a one-line answer has about 8)
TOKEN_RUN = 5  # tokens per feature of a cell that does not parse
MAX_FEATURES = 20_000  # a cell is compared by its first subtrees, up to this many (a long
# answer has a few hundred; this bounds what a cell pasted full of code can cost)
CHUNK = 1 << 15  # columns of the answers-by-subtrees matrix multiplied at a time
PLACEHOLDER = "_v"
_BARRIERS = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom,
             ast.Await, ast.Global, ast.Nonlocal)  # fmt: skip
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_BLOCKS = ("body", "orelse", "finalbody")


class SimilarityError(Exception):
    pass


# --------------------------------------------------------------------------- normalising
def _is_string_statement(node: ast.AST) -> bool:
    """A docstring or any other bare string used as a statement."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def bound_names(tree: ast.AST) -> set[str]:
    """Every name the code binds: arguments, assignment/loop/with/except targets, imports'
    aliases, nested functions and classes (the caller keeps the top-level definitions' own)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _base_name(node: ast.AST) -> str | None:
    """``h`` for ``h``, ``h[0]``, ``h.data[1:]``: the variable an assignment target changes."""
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


# methods that change the object they are called on, whatever is done with their result
MUTATORS = frozenset(
    "append extend insert pop remove clear update sort reverse fill setdefault popitem add "
    "discard resize put".split()
)


def _changed_by(call: ast.Call, local: set[str], discarded: bool) -> set[str]:
    """The variable a method call changes: ``h.append(x)``, ``w.fill_(0)``, ``w.add_(1)``, or
    any method whose result is thrown away (``h.anything(...)`` as a statement). ``da.sum()``
    whose value is used changes nothing."""
    if not isinstance(call.func, ast.Attribute):
        return set()
    base, method = _base_name(call.func.value), call.func.attr
    if base in local and (discarded or method in MUTATORS or method.endswith("_")):
        return {base}
    return set()


@dataclass
class _Effects:
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    barrier: bool = False


def _effects(stmt: ast.stmt, local: set[str]) -> _Effects:
    """What a statement reads and writes (names), and whether it must keep its place."""
    e = _Effects()
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        e.writes.add(stmt.name)
    stack: list[tuple[ast.AST, bool]] = [(stmt, True)]
    while stack:
        node, own = stack.pop()  # own: not inside a nested function (its return is its own)
        if own and isinstance(node, _BARRIERS):
            e.barrier = True
        if isinstance(node, ast.Name):
            (e.reads if isinstance(node.ctx, ast.Load) else e.writes).add(node.id)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = getattr(node, "targets", None) or [node.target]
            e.writes.update(n for n in map(_base_name, targets) if n)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            e.writes.update(_changed_by(node.value, local, discarded=True))
        elif isinstance(node, ast.Call):
            e.writes.update(_changed_by(node, local, discarded=False))
        if (
            own
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and _base_name(node.value.func) not in local
        ):
            e.barrier = True  # print(...), plt.plot(...): an effect outside the cell's variables
        for child in ast.iter_child_nodes(node):
            stack.append((child, own and not isinstance(node, _SCOPES)))
    return e


def canonical_order(keys: list[int], effects: list[_Effects]) -> list[int]:
    """The order of a block's statements that keeps every dependency and otherwise puts the
    smaller key first: the same for any two orders that differ only by independent swaps."""
    n = len(keys)
    after: list[set[int]] = [set() for _ in range(n)]  # after[j]: statements j must follow
    for j in range(n):
        ej = effects[j]
        for i in range(j):
            ei = effects[i]
            if (
                ei.barrier
                or ej.barrier
                or ei.writes & (ej.reads | ej.writes)
                or ei.reads & ej.writes
            ):
                after[j].add(i)
    done: list[int] = []
    left = set(range(n))
    while left:
        ready = [j for j in left if not (after[j] & left)]
        nxt = min(ready, key=lambda j: (keys[j], j))
        done.append(nxt)
        left.remove(nxt)
    return done


class Normalised:
    """A cell's subtrees after normalising (see the module docstring), hashed and counted.

    ``features``: Counter of subtree hashes (subtrees of at least MIN_NODES nodes);
    ``statements``: (hash, first line, last line) of every simple statement, for showing which
    lines two cells share.
    """

    def __init__(self, source: str, keep: frozenset[str] = frozenset()):
        self.features: Counter = Counter()
        self.statements: list[tuple[int, int, int]] = []
        self.parsed = True
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            self.parsed = False
            self.features = token_features(source)
            return
        top = {
            n.name
            for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        self.local = bound_names(tree) - top - keep
        try:
            self._block(tree.body)
        except RecursionError:  # absurdly deep code: compare its tokens instead
            self.parsed, self.statements = False, []
            self.features = token_features(source)

    def _name(self, name: str) -> str:
        return PLACEHOLDER if name in self.local else name

    def _block(self, stmts: list[ast.stmt]) -> tuple[int, int]:
        stmts = [s for s in stmts if not _is_string_statement(s)]
        hashed = [self._hash(s) for s in stmts]
        order = canonical_order([h for h, _ in hashed], [_effects(s, self.local) for s in stmts])
        return hash(("block", *(hashed[i][0] for i in order))), sum(n for _, n in hashed)

    def _hash(self, node) -> tuple[int, int]:
        """(hash, number of nodes) of a subtree, recording it as a feature if large enough."""
        if isinstance(node, ast.AugAssign):  # a += b as a = a + b
            target = node.target
            load = ast.Name(target.id, ast.Load()) if isinstance(target, ast.Name) else target
            as_assign = ast.Assign([target], ast.BinOp(load, node.op, node.value))
            ast.copy_location(as_assign, node)
            return self._hash(as_assign)
        parts: list = [type(node).__name__]
        size = 1
        if isinstance(node, ast.AnnAssign):  # x: float = 1.0 as x = 1.0; a bare x: float is
            if node.value is None:  # only a declaration
                return 0, 0
            as_assign = ast.Assign([node.target], node.value)
            ast.copy_location(as_assign, node)
            return self._hash(as_assign)
        # type annotations do not count (kind: the u of u"..." strings)
        skip = {"ctx", "type_comment", "kind", "annotation", "returns"}
        if isinstance(node, ast.Name):
            parts.append(self._name(node.id))
            skip.add("id")
        elif isinstance(node, ast.arg):
            parts.append(self._name(node.arg))
            skip.add("arg")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                               ast.ExceptHandler)):  # fmt: skip
            parts.append(self._name(node.name or ""))
            skip.add("name")
        for name, value in ast.iter_fields(node):
            if name in skip:
                continue
            if isinstance(value, list):
                if name in _BLOCKS and value and isinstance(value[0], ast.stmt):
                    h, n = self._block(value)
                    parts.append(h)
                    size += n
                else:
                    for v in value:
                        if isinstance(v, ast.AST):
                            h, n = self._hash(v)
                            parts.append(h)
                            size += n
                        else:
                            parts.append(repr(v))
            elif isinstance(value, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop,
                                    ast.boolop)):  # fmt: skip
                parts.append(type(value).__name__)
            elif isinstance(value, ast.AST):
                h, n = self._hash(value)
                parts.append(h)
                size += n
            else:
                parts.append((name, type(value).__name__, repr(value)))
        key = hash(tuple(parts))
        if size >= MIN_NODES:
            self.features[key] += 1
        if isinstance(node, ast.stmt) and not any(
            isinstance(getattr(node, b, None), list) and getattr(node, b) for b in _BLOCKS
        ):
            self.statements.append((key, node.lineno, node.end_lineno or node.lineno))
        return key, size


def token_features(source: str) -> Counter:
    """Runs of TOKEN_RUN tokens of code that does not parse (names as a placeholder)."""
    tokens = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                            tokenize.DEDENT, tokenize.ENDMARKER):  # fmt: skip
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                tokens.append(PLACEHOLDER)
            else:
                tokens.append(tok.string)
    except (tokenize.TokenError, SyntaxError, ValueError):
        tokens = [line.strip() for line in source.splitlines() if line.strip()]
    return Counter(
        hash(("tokens", *tokens[i : i + TOKEN_RUN])) for i in range(len(tokens) - TOKEN_RUN + 1)
    )


# --------------------------------------------------------------------------- comparing
@dataclass
class Answer:
    student: str
    source: str
    norm: Normalised
    features: Counter  # after taking out the starter code and the class's common code


@dataclass
class Pair:
    exercise: str
    a: Answer
    b: Answer
    score: float
    shared: int

    @property
    def flagged(self) -> bool:
        return self.score >= FLAG_SCORE and self.shared >= FLAG_SHARED


def distinctive(answers: list[Answer], starter: Counter) -> None:
    """Take the starter's subtrees and the class's common ones out of every answer's features."""
    for ans in answers:
        ans.features = ans.norm.features - starter
    if len(answers) >= COMMON_MIN:
        df = Counter(k for ans in answers for k in ans.features)
        common = {k for k, c in df.items() if c > COMMON_SHARE * len(answers)}
        for ans in answers:
            ans.features = Counter({k: c for k, c in ans.features.items() if k not in common})


def score_pairs(exercise: str, answers: list[Answer]) -> list[Pair]:
    """Every pair of answers with at least one shared feature, most similar first.

    The multisets become sets of (feature, occurrence) so that one matrix product gives every
    pair's intersection: |A ∩ B| = sum over features of min(count in A, count in B).
    """
    answers = [a for a in answers if a.features]
    if len(answers) < 2:
        return []
    index: dict[tuple[int, int], int] = {}
    rows = []
    for ans in answers:
        tokens = [(k, i) for k, c in ans.features.items() for i in range(c)][:MAX_FEATURES]
        rows.append(np.array([index.setdefault(t, len(index)) for t in tokens], dtype=np.int64))
    n = len(answers)
    inter = np.zeros((n, n))
    for start in range(0, len(index), CHUNK):  # a block of columns at a time: bounded memory
        m = np.zeros((n, min(CHUNK, len(index) - start)), dtype=np.float32)
        for r, cols in enumerate(rows):
            m[r, cols[(cols >= start) & (cols < start + CHUNK)] - start] = 1.0
        inter += m @ m.T
    sizes = np.array([len(cols) for cols in rows], dtype=float)
    union = sizes[:, None] + sizes[None, :] - inter
    score = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    i, j = np.triu_indices(len(answers), k=1)
    keep = inter[i, j] > 0
    pairs = [
        Pair(exercise, answers[p], answers[q], float(score[p, q]), int(inter[p, q]))
        for p, q in zip(i[keep], j[keep], strict=True)
    ]
    pairs.sort(key=lambda x: (-x.score, -x.shared, x.a.student, x.b.student))
    return pairs


def answer_cells(path: str) -> dict[str, str]:
    """{grade id: source} of the code cells of a submitted notebook (first of each grade id)."""
    from autograder.submission import notebook_text, parse_notebook, read_submission

    raw, problem = read_submission(path)
    if problem:
        return {}
    text = notebook_text(raw)[0]
    cells = parse_notebook(text)[0] if text is not None else None
    out: dict[str, str] = {}
    for c in cells or []:
        if c.cell_type == "code" and c.grade_id and c.grade_id not in out:
            out[c.grade_id] = c.source
    return out


@dataclass
class Comparison:
    assignment: str
    students: list[str]
    exercises: list[str]
    pairs: dict[str, list[Pair]]  # exercise -> every pair sharing anything, most similar first
    answered: dict[str, int]  # exercise -> answers compared
    problems: list[str]
    seconds: float = 0.0


def compare(assignment: str, course: Path, submissions: dict[str, str]) -> Comparison:
    """Compare every pair of ``submissions`` ({student: notebook path}) exercise by exercise."""
    from autograder.release import load_release

    t0 = time.perf_counter()
    release = load_release(assignment, course)
    starters = {c.grade_id: c.source for c in release.cells if c.kind == "answer"}
    cells = {student: answer_cells(path) for student, path in sorted(submissions.items())}
    problems = [f"{s}: the notebook could not be read" for s, c in cells.items() if not c]
    pairs, answered = {}, {}
    for exercise, starter in starters.items():
        starter_features = Normalised(starter).features
        answers = []
        for student, got in cells.items():
            source = got.get(exercise)
            if source is None or source.strip() == starter.strip():
                continue
            answers.append(Answer(student, source, Normalised(source), Counter()))
        distinctive(answers, starter_features)
        answered[exercise] = sum(1 for a in answers if a.features)
        pairs[exercise] = score_pairs(exercise, answers)
    return Comparison(
        assignment,
        sorted(cells),
        list(starters),
        pairs,
        answered,
        problems,
        time.perf_counter() - t0,
    )


# --------------------------------------------------------------------------- output
def similarity_csv(c: Comparison, top: int) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["exercise", "rank", "student_a", "student_b", "score", "shared", "flagged"])
    for exercise in c.exercises:
        for rank, p in enumerate(c.pairs[exercise][:top], 1):
            w.writerow(
                [
                    exercise,
                    rank,
                    p.a.student,
                    p.b.student,
                    f"{p.score:.4f}",
                    p.shared,
                    int(p.flagged),
                ]  # fmt: skip
            )
    return buf.getvalue()


CSS = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 90em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1em; margin-bottom: 0.3em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td.n { text-align: right; }
.flag { color: #b2182b; font-weight: bold; }
.note { color: #555; font-size: 0.9em; }
.side { display: flex; gap: 0.8em; }
.side > div { flex: 1; min-width: 0; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.4em; font-size: 0.8em;
      overflow-x: auto; margin: 0; }
pre span { display: block; } pre span.same { background: #fde0dd; }
"""


def _shared_lines(ans: Answer, other: Answer) -> set[int]:
    """Lines of ``ans`` in a simple statement that ``other`` has too (after normalising) and that
    counts for the score (large enough, not starter or common code)."""
    theirs = {h for h, _, _ in other.norm.statements if h in other.features}
    out = set()
    for h, first, last in ans.norm.statements:
        if h in theirs and h in ans.features:
            out.update(range(first, last + 1))
    return out


def _code(ans: Answer, other: Answer) -> str:
    same = _shared_lines(ans, other)
    lines = ans.source.splitlines() or [""]
    return (
        "<pre>"
        + "".join(
            f'<span class="same">{html.escape(line) or " "}</span>'
            if i in same
            else f"<span>{html.escape(line) or ' '}</span>"
            for i, line in enumerate(lines, 1)
        )
        + "</pre>"
    )


def similarity_html(c: Comparison, top: int) -> str:
    out = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Similar answers: {html.escape(c.assignment)}</title><style>{CSS}</style>"
        "</head><body>",
        f"<h1>Similar answers: {html.escape(c.assignment)}</h1>",
        f'<p class="note">{len(c.students)} submissions, made {time.strftime("%Y-%m-%d %H:%M")}'
        f" in {c.seconds:.1f} s. For each exercise, the {top} most similar pairs of answer cells "
        "after undoing renamed variables, comments, docstrings, formatting and reordered "
        f"independent statements, without the release's starter code and code more than "
        f"{COMMON_SHARE:.0%} of the class wrote (that only when {COMMON_MIN} or more answered)."
        " Score: the share of the two cells' "
        f"code subtrees that are the same (1 = identical up to those changes). "
        f'<span class="flag">Flagged</span>: score at least {FLAG_SCORE:g} and at least '
        f"{FLAG_SHARED} shared subtrees. Shaded lines are statements both cells have. This is "
        "evidence for a person to read, not a finding and never a grade: short exercises have "
        "few ways to be written, and students may have worked together as allowed.</p>",
    ]
    if c.problems:
        out.append(f'<p class="note">{html.escape("; ".join(c.problems))}.</p>')
    out.append(
        "<table><tr><th>exercise</th><th>answers compared</th><th>flagged pairs</th>"
        "<th>most similar pair</th></tr>"
    )
    for ex in c.exercises:
        pairs = c.pairs[ex]
        first = (
            f"{html.escape(pairs[0].a.student)} and {html.escape(pairs[0].b.student)}: "
            f"{pairs[0].score:.2f}"
            if pairs
            else "-"
        )
        flagged = sum(p.flagged for p in pairs)
        out.append(
            f'<tr><td><a href="#{html.escape(ex)}">{html.escape(ex)}</a></td>'
            f"<td class=n>{c.answered[ex]}</td><td class=n>{flagged}</td><td>{first}</td></tr>"
        )
    out.append("</table>")
    for ex in c.exercises:
        out.append(f'<h2 id="{html.escape(ex)}">{html.escape(ex)}</h2>')
        pairs = c.pairs[ex][:top]
        if not pairs:
            out.append("<p>No two answers share anything beyond the starter and common code.</p>")
            continue
        for rank, p in enumerate(pairs, 1):
            flag = ' <span class="flag">flagged</span>' if p.flagged else ""
            out += [
                f"<h3>{rank}. {html.escape(p.a.student)} and {html.escape(p.b.student)}: score "
                f"{p.score:.2f}, {p.shared} shared subtrees{flag}</h3>",
                '<div class="side">',
                f"<div><b>{html.escape(p.a.student)}</b>{_code(p.a, p.b)}</div>",
                f"<div><b>{html.escape(p.b.student)}</b>{_code(p.b, p.a)}</div>",
                "</div>",
            ]
    out.append("</body></html>\n")
    return "\n".join(out)


def write_similarity(
    course: Path, assignment: str, submissions: dict[str, str], top: int = 5
) -> tuple[Comparison, dict[str, Path]]:
    c = compare(assignment, course, submissions)
    out = output_dir(course, assignment)
    atomic_write(out / "similarity.html", similarity_html(c, top))
    atomic_write(out / "similarity.csv", similarity_csv(c, top))
    return c, {"html": out / "similarity.html", "csv": out / "similarity.csv"}
