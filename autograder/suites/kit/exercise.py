"""Declarative exercises: arguments and shapes in symbols, a reference, a mistake table; tests.

See the package docstring (``autograder/suites/kit/__init__.py``) for the API and an example.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from autograder.suites.kit.checks import (
    ATOL,
    Candidate,
    appended,
    call,
    case,
    copies,
    expect_gradient_check,
    expect_gradients,
    expect_match,
    expect_shape,
    expect_unchanged,
    is_close,
    number,
    unpack,
    upstream_note,
)
from solutions.gradients import numerical_gradient

SIZES = ("N", "T", "D", "H")  # the order sizes are written in a case's label
CACHE = "cache"  # an output of this name is opaque: never compared, only handed back


# --------------------------------------------------------------------------- declarations
class Arg:
    """One argument: its name, its shape in symbols ("N, D", "H, 4H", "4H"; sizes N, T, D, H or
    any other a Case gives), the scale of its random values, and whether it is a state (set to
    zeros by ``Case(zero_states=True)``). ``fixed`` gives its value outright (a number such as
    ``max_norm``) instead of a random array.
    """

    def __init__(self, name: str, shape: str = "", scale: float = 1.0, state: bool = False,
                 fixed: Any = None):  # fmt: skip
        self.name, self.spec, self.scale, self.state, self.fixed = name, shape, scale, state, fixed

    def shape(self, sizes: dict[str, int]) -> tuple[int, ...]:
        """The shape for these sizes: "N, 4H" with N=2, H=3 gives (2, 12)."""
        out = []
        for part in filter(None, (p.strip() for p in self.spec.split(","))):
            m = re.fullmatch(r"(\d*)\s*\*?\s*([A-Za-z_]\w*)|(\d+)", part)
            if m is None:
                raise ValueError(f"argument {self.name}: cannot read the size {part!r}")
            if m.group(3):
                out.append(int(m.group(3)))
            else:
                out.append(int(m.group(1) or 1) * sizes[m.group(2)])
        return tuple(out)


class Mistake:
    """A typical mistake: the message that names it, and what it returns on the same inputs.

    ``fn`` receives the same arguments as the exercise (for a backward exercise: the forward's
    arguments, then the upstream gradients) and returns the wrong value of the one compared
    output, or a tuple of them in the order of the outputs, or ``{output: value}`` for some of
    them. A value may be a predicate ``lambda got: ...`` instead of an array; None (or an
    exception raised while computing it) means the mistake does not apply to these inputs.
    """

    def __init__(self, message: str, fn: Callable[..., Any]):
        self.message, self.fn = message, fn


class Mistakes:
    """A family of mistakes whose number or messages depend on the inputs (one per time step,
    say): ``fn`` takes the same arguments as a :class:`Mistake`'s and returns a list of
    ``(message, value)`` pairs, each value as a Mistake's."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn


def collect(mistakes: Sequence, outputs: Sequence[str], *args: Any) -> dict[str, list[Candidate]]:
    """{output: [(message, value)]}: what each listed mistake returns on these arguments, in the
    order of the table. A mistake that raises does not apply to these inputs (e.g. a transposed
    matrix whose shape does not fit) and is left out."""
    out: dict[str, list[Candidate]] = {o: [] for o in outputs}
    for m in mistakes:
        try:
            with np.errstate(all="ignore"):
                if isinstance(m, Mistakes):
                    found = list(m.fn(*copies(list(args))))
                else:
                    found = [(m.message, m.fn(*copies(list(args))))]
                found = [(msg, _outputs_of(v, outputs)) for msg, v in found]
        except Exception:
            continue
        for msg, values in found:
            for name, value in values.items():
                out.setdefault(name, []).append((msg, value))
    return out


def put(name: str, index: Any, value: Any) -> Callable[[dict], None]:
    """An edit for :class:`Case`: ``args[name][index] = value`` (``value(old)`` if callable).

    ``index`` ``...`` is the whole array; ``put("dc", None, None)`` replaces the argument by None.
    """

    def edit(a: dict) -> None:
        if index is None:
            a[name] = value
        elif callable(value):
            a[name] = a[name].copy()
            a[name][index] = value(a[name][index])
        else:
            a[name][index] = value

    return edit


class Case:
    """One set of inputs: ``Case(seed, "note", N=2, D=3, H=4)``.

    The arguments are drawn from ``seed`` (standard normal, times each Arg's scale, or the
    ``scale`` given here by argument name), states zeroed with ``zero_states``, then ``edit``
    (one callable or several, each changing the dict of arguments by name, e.g. :func:`put`).
    ``args`` gives the arguments outright instead. The label (sizes, then the note) appears in
    the test's id and in every failure message; ``label`` replaces it.
    """

    def __init__(self, seed: int, note: str = "", *, zero_states: bool = False,
                 scale: dict[str, float] | None = None, edit: Any = (), args: list | None = None,
                 label: str | None = None, **sizes: int):  # fmt: skip
        self.seed, self.note, self.zero_states, self.sizes = seed, note, zero_states, sizes
        self.scale = scale or {}
        self.edits = list(edit) if isinstance(edit, (list, tuple)) else [edit]
        self.args = args
        text = ", ".join(
            f"{k}={sizes[k]}" for k in (*SIZES, *sorted(set(sizes) - set(SIZES))) if k in sizes
        )
        self.label = label if label is not None else ", ".join(filter(None, (text, note)))


def standard_cases(seed: int, sequence: bool = False) -> list[Case]:
    """The standard sizes of a cell exercise, seeds ``seed``, ``seed + 1``, ...: a typical
    case, N=1, H=1, D much larger than H, D = H, zero states, and for a sequence T=1."""
    sizes = [
        {"N": 2, "D": 3, "H": 4},
        {"N": 3, "D": 4, "H": 5, "note": "random inputs"},
        {"N": 1, "D": 3, "H": 4},
        {"N": 3, "D": 2, "H": 1},
        {"N": 3, "D": 7, "H": 2},
        {"N": 2, "D": 4, "H": 4},
        {"N": 2, "D": 3, "H": 3, "note": "zero states", "zero_states": True},
    ]
    if sequence:
        for i, s in enumerate(sizes):
            s["T"] = (3, 5, 4, 3, 2, 4, 3)[i]
        sizes.append({"N": 3, "T": 1, "D": 2, "H": 4})
    return [Case(seed + i, **s) for i, s in enumerate(sizes)]


def _outputs_of(value: Any, names: Sequence[str]) -> dict[str, Any]:
    """A mistake's or reference's value as {output: value} (see :class:`Mistake`)."""
    if isinstance(value, dict):
        return value
    if len(names) == 1:
        return {names[0]: value}
    return dict(zip(names, value, strict=True))


def readable(ids: Sequence[str], cases: Sequence[Any]):
    """``pytest.mark.parametrize`` over ``cases`` with the test ids ``ids`` (unique)."""
    if len(set(ids)) != len(ids):
        raise ValueError(f"two tests of a suite have the same name: {ids}")
    return pytest.mark.parametrize("case_", list(cases), ids=list(ids))


def named(name: str):
    """Decorator for a test special to one suite: its id (what a student reads) is ``name``.

    ``@named("k = 0 gives the identity")`` over ``def test_identity(student): ...``.
    """

    def wrap(fn: Callable) -> Callable:
        @readable([name], [None])
        def run(student, case_):
            fn(student)

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return run

    return wrap


# --------------------------------------------------------------------------- exercises
class Function:
    """A graded function: ``name(*args)`` returns ``returns`` (one value when it is one name).

    args: the arguments as :class:`Arg` (random arrays of those shapes), or a callable
        ``make(case) -> list`` for inputs no shape describes (integer targets, text...), whose
        names ``names`` gives (for messages such as "targets after calling f").
    reference: the reference function (``solutions``), same signature and returns.
    compare: the outputs compared, in this order (default: every output but ``cache``).
    numbers: outputs that must be numbers (compared as 0-d arrays).
    mistakes: :class:`Mistake` list, in the order they are tried.
    hints / shape_hints: per output (a dict) or one text for all: the hint given when the output
        is wrong and no listed mistake matches / when its shape is wrong.
    advice: ``advice(student, args) -> str`` appended to a wrong output's message (e.g. "your
        step function is wrong too"), computed only on failure.
    title: how the test ids name this exercise ("step forward, N=1, D=3, H=4").
    """

    def __init__(self, name: str, args: Sequence[Arg] | Callable, returns: Sequence[str],
                 reference: Callable, *, compare: Sequence[str] | None = None,
                 numbers: Sequence[str] = (), mistakes: Sequence[Mistake] = (),
                 hints: dict[str, str] | str = "", shape_hints: dict[str, str] | str = "",
                 advice: Callable | None = None, title: str | None = None,
                 atol: float = ATOL, names: Sequence[str] = ()):  # fmt: skip
        self.name, self.args, self.returns = name, args, tuple(returns)
        self.names = tuple(names)
        self.reference = reference
        self.outputs = tuple(r for r in self.returns if r != CACHE)
        self.compare = tuple(compare or self.outputs)
        self.numbers, self.mistakes, self.advice, self.atol = set(numbers), mistakes, advice, atol
        self.hints, self.shape_hints = (
            _per_output(hints, self.outputs),
            _per_output(shape_hints, self.outputs),
        )
        self.title = title or name.replace("_", " ")

    # -- inputs
    def arg_names(self) -> list[str]:
        if not callable(self.args):
            return [a.name for a in self.args]
        if self.names:
            return list(self.names)
        raise TypeError(f"{self.name}: arguments made by a function need names=(...)")

    def _named(self, values: list, extra: Sequence[Arg] = ()) -> dict[str, Any]:
        known = [*(self.arg_names() if not callable(self.args) or self.names else []),
                 *(e.name for e in extra)]  # fmt: skip
        names = known + [f"argument {i + 1}" for i in range(len(known), len(values))]
        return dict(zip(names, values, strict=False))

    def draw(self, c: Case, extra: Sequence[Arg] = ()) -> dict[str, Any]:
        """The arguments (then ``extra``, e.g. upstream gradients) of case ``c``, by name."""
        if c.args is not None:
            a = self._named(copies(list(c.args)), extra)
        elif callable(self.args):
            a = self._named(list(self.args(c)), extra)
        else:
            specs = [*self.args, *extra]
            random = [s for s in specs if s.fixed is None]
            shapes = [s.shape(c.sizes) for s in random]
            scales = [c.scale.get(s.name, s.scale) for s in random]
            rng = np.random.default_rng(c.seed)
            drawn = iter(
                sc * rng.standard_normal(sh) for sh, sc in zip(shapes, scales, strict=True)
            )
            a = {s.name: (s.fixed if s.fixed is not None else next(drawn)) for s in specs}
            if c.zero_states:
                for s in specs:
                    if s.state:
                        a[s.name] = np.zeros_like(a[s.name])
        for edit in c.edits:
            edit(a)
        return a

    def arguments(self, c: Case) -> list:
        return list(self.draw(c).values())

    # -- checking
    def candidates(self, args: Sequence) -> dict[str, list[Candidate]]:
        """{output: [(message, value)]}: what each listed mistake returns on these inputs."""
        return collect(self.mistakes, self.outputs, *args)

    def expected(self, args: Sequence) -> dict[str, Any]:
        value = self.reference(*copies(list(args)))
        return _outputs_of(value if len(self.returns) == 1 else tuple(value), self.returns)

    def run(self, student, args: Sequence, why: str = "", copy: bool = True) -> dict[str, Any]:
        """The student's outputs on ``args``, by name, after checking the structure."""
        out = call(student(self.name), self.name, *args, why=why, copy=copy)
        if len(self.returns) == 1:
            return {self.returns[0]: out}
        return dict(zip(self.returns, unpack(out, self.returns, self.name), strict=True))

    def check(self, student, args: Sequence, label: str) -> None:
        """Every compared output against the reference, naming the mistake it matches."""
        with case(label):
            got = self.run(student, args)
            expected = self.expected(args)
            cands = self.candidates(args)
            for name in self.compare:
                g, e = got[name], expected[name]
                if name in self.numbers:
                    g, e = np.array(number(name, g, self.hints[name])), np.array(float(e))
                note = ""
                if self.advice is not None and not is_close(g, e):
                    note = self.advice(student, args)
                with appended(note):
                    expect_match(
                        name, g, e, cands.get(name, ()), self.hints[name],
                        self.shape_hints[name], atol=self.atol,
                    )  # fmt: skip

    # -- tests
    def tests(self, cases: Sequence[Case]):
        """One test per case: every compared output against the reference."""

        @readable([f"{self.title}, {c.label}" for c in cases], cases)
        def test_values(student, case_):
            self.check(student, self.arguments(case_), case_.label)

        return test_values

    def unchanged_test(self, c: Case):
        """The student's function leaves its arguments (arrays at any depth) as they were."""

        @readable([f"{self.title}, inputs not modified"], [c])
        def test_inputs_not_modified(student, case_):
            a = self.draw(case_)
            names, args = list(a), list(a.values())
            before = copies(args)
            with case(case_.label):
                call(student(self.name), self.name, *args, copy=False)
                expect_unchanged(self.name, names, before, args)

        return test_inputs_not_modified

    def dtype_test(self, c: Case):
        """Given float64 arrays, every compared array output is float64 (no float32 on the way,
        from torch's default dtype or an np.float32 cast)."""

        @readable([f"{self.title}, float64 in, float64 out"], [c])
        def test_dtype(student, case_):
            with case(case_.label):
                got = self.run(student, self.arguments(case_))
                for name in self.compare:
                    g = got[name]
                    if type(g) is np.ndarray and g.dtype != np.float64:
                        raise AssertionError(
                            f"{name} has dtype {g.dtype}, but the inputs are float64: keep "
                            "float64 throughout (no float32 arrays or tensors on the way)."
                        )

        return test_dtype

    def builtin_test(self, c: Case, forbidden: set[str], what: str):
        """The case must pass, and the function's code may not name ``forbidden`` (built-in
        layers it is asked to write by hand); ``what`` says what to do instead."""

        @readable([f"{self.title}, written by hand"], [c])
        def test_writes_the_equations(student, case_):
            self.check(student, self.arguments(case_), case_.label)
            used = student.names_used(self.name) & forbidden
            if used:
                raise AssertionError(f"{self.name} uses {', '.join(sorted(used))}: {what}")

        return test_writes_the_equations


def _per_output(value: dict[str, str] | str, outputs: Sequence[str]) -> dict[str, str]:
    if isinstance(value, dict):
        return {o: value.get(o, "") for o in outputs} | value
    return {o: value for o in outputs}


class Backward:
    """The backward pass of ``forward``: ``name(*upstream, cache)`` returns one gradient per
    argument of the forward ("d" + its name), on the cache of the student's OWN forward.

    upstream: :class:`Arg` of each upstream gradient (drawn after the forward's arguments from
        the same seed), e.g. ``Arg("dh", "N, H")``.
    reference: ``reference(*upstream, cache)`` with the reference forward's cache.
    mistakes: :class:`Mistake` whose ``fn(*args, *upstream)`` returns ``{gradient: value}``.
    hints: per gradient; shape_hint: one text for all gradients.
    tol: the relative error allowed against centred differences of the student's forward.
    """

    def __init__(self, name: str, forward: Function, reference: Callable, *,
                 upstream: Sequence[Arg], mistakes: Sequence[Mistake] = (),
                 hints: dict[str, str] | None = None, shape_hint: str = "",
                 title: str | None = None, tol: float = 1e-7):  # fmt: skip
        self.name, self.forward, self.reference = name, forward, reference
        self.upstream, self.mistakes, self.tol = tuple(upstream), mistakes, tol
        self.grads = tuple("d" + n for n in forward.arg_names())
        self.hints, self.shape_hint = hints or {}, shape_hint
        self.title = title or name.replace("_", " ")
        self.why = f" (called to get the cache for {name})"
        self.fix_forward = f"Fix {forward.name} first: the gradient check differentiates it."

    def draw(self, c: Case) -> tuple[list, list]:
        a = self.forward.draw(c, self.upstream)
        n = len(self.forward.arg_names())
        values = list(a.values())
        return values[:n], values[n:]

    def candidates(self, args: Sequence, up: Sequence) -> dict[str, list[Candidate]]:
        """{gradient: [(message, value)]}: what each listed mistake returns on these inputs."""
        return collect(self.mistakes, self.grads, *args, *up)

    def run(self, student, args: Sequence, up: Sequence, copy: bool = True) -> tuple[list, str]:
        """The student's gradients on the cache of their own forward, and a note if that
        forward is already wrong on these inputs."""
        fwd = self.forward
        got = fwd.run(student, args, why=self.why, copy=copy)
        out = call(student(self.name), self.name, *up, got[CACHE], copy=copy)
        grads = list(unpack(out, self.grads, self.name))
        expected = fwd.expected(args)
        notes = [upstream_note(fwd.name, got[o], expected[o]) for o in fwd.compare]
        return grads, next((n for n in notes if n), "")

    def check(self, student, args: Sequence, up: Sequence, label: str) -> None:
        none = [u.name for u, v in zip(self.upstream, up, strict=True) if v is None]
        said = " ".join(
            f"(In this test {n} is None: no gradient reaches these outputs from above; use zeros.)"
            for n in none
        )
        with case(label), appended(said):
            grads, note = self.run(student, args, up)
            cache = self.forward.expected(args)[CACHE]
            expected = self.reference(*copies(list(up)), cache)
            with appended(note):
                expect_gradients(
                    self.grads, grads, expected, self.candidates(args, up), self.hints,
                    self.shape_hint,
                )  # fmt: skip

    # -- tests
    def shapes_test(self, c: Case):
        """One gradient per forward argument, in its order, each of that argument's shape."""

        @readable([f"{self.title}, one gradient per argument"], [c])
        def test_gradient_shapes(student, case_):
            args, up = self.draw(case_)
            with case(case_.label):
                grads, _note = self.run(student, args, up)
                for name, g, arg in zip(self.grads, grads, args, strict=True):
                    expect_shape(name, g, np.shape(arg), self.shape_hint)

        return test_gradient_shapes

    def tests(self, cases: Sequence[Case]):
        """One test per case: every gradient against the reference, naming the mistake."""

        @readable([f"{self.title}, {c.label}" for c in cases], cases)
        def test_values(student, case_):
            args, up = self.draw(case_)
            self.check(student, args, up, case_.label)

        return test_values

    def gradient_check_test(self, c: Case):
        """Every gradient against centred differences (float64) of the student's own forward:
        a backward pass right for a wrong forward earns this test."""

        @readable([f"{self.title}, centred differences of your forward"], [c])
        def test_centred_differences(student, case_):
            args, up = self.draw(case_)
            fwd = self.forward
            with case(case_.label):
                grads, _note = self.run(student, args, up)

                def outputs():
                    got = fwd.run(student, args, why=self.why)
                    for o, d in zip(fwd.outputs, up, strict=True):
                        expect_shape(f"{o} from {fwd.name}", got[o], np.shape(d), self.fix_forward)
                    values = tuple(got[o] for o in fwd.outputs)
                    return values if len(values) > 1 else values[0]

                weights = tuple(up) if len(up) > 1 else up[0]
                numerical = [numerical_gradient(outputs, a, weights) for a in args]
                expect_gradient_check(
                    self.grads, grads, numerical, self.tol, self.candidates(args, up),
                    self.hints, self.shape_hint,
                )  # fmt: skip

        return test_centred_differences

    def unchanged_test(self, c: Case):
        """Neither the forward nor the backward changes its arguments in place."""

        @readable([f"{self.title}, inputs not modified"], [c])
        def test_inputs_not_modified(student, case_):
            args, up = self.draw(case_)
            before, up_before = copies(args), copies(up)
            with case(case_.label):
                self.run(student, args, up, copy=False)
                up_names = [u.name for u in self.upstream]
                expect_unchanged(self.name, up_names, up_before, up)
                expect_unchanged(
                    f"{self.forward.name} or {self.name}", self.forward.arg_names(), before, args
                )

        return test_inputs_not_modified
