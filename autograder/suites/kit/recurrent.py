"""Mistake tables every recurrent cell shares: the sequence loop and backpropagation through time.

A cell's sequence function has the arguments ``(x, *initial states, *weights)`` with x of shape
(N, T, D), and returns ``(*state sequences, cache)``, each (N, T, H), batch first, without the
initial state; its step function has the arguments ``(x_t, *previous states, *weights)`` and
returns ``(*new states, cache)``, states in the same order. The backward passes take
``(*upstream gradients, cache)`` and return one gradient per argument. From the reference step
(forward and backward) alone the functions below compute what the typical wrong loops return:
only the last state, a state not carried, the initial state included, the sequence read
backwards, time-major output; in BPTT, a gradient not carried back, weight gradients not added
up over time, and so on. Each is a :class:`~autograder.suites.kit.exercise.Mistake` (or a
family of them) ready for a mistake table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from autograder.suites.kit.checks import copies, is_close
from autograder.suites.kit.exercise import Function, Mistake, Mistakes


def run_steps(step: Callable, args: Sequence, n_states: int, carry: Sequence[bool] = ()) -> tuple:
    """The state sequences (N, T, H) of ``step`` looped over x = args[0]; state k is carried
    from step to step unless ``carry[k]`` is False (then every step starts from the initial)."""
    x, init, weights = args[0], list(args[1 : 1 + n_states]), list(args[1 + n_states :])
    carry = list(carry) or [True] * n_states
    cur, seqs = list(init), [[] for _ in range(n_states)]
    for t in range(x.shape[1]):
        ins = [cur[k] if carry[k] else init[k] for k in range(n_states)]
        new = step(x[:, t], *ins, *weights)[:n_states]
        for k in range(n_states):
            seqs[k].append(new[k])
        cur = list(new)
    return tuple(np.stack(s, axis=1) for s in seqs)


def sequence_mistakes(
    fname: str, reference: Callable, step: Callable, states: Sequence[str], outputs: Sequence[str]
) -> list[Mistake]:
    """The typical wrong loops of a sequence function, for each state sequence it returns.

    reference: the reference sequence function; step: the reference step function; states: the
    initial states' names ("h0", "c0"); outputs: the returned sequences' names ("h", "c").
    """
    n = len(states)

    out = [
        Mistakes(
            lambda *a: [
                (
                    f"You returned only the last state {o}_T; {fname} returns every state "
                    f"{o}_1..{o}_T, (N, T, H).",
                    {o: reference(*a)[k][:, -1]},
                )
                for k, o in enumerate(outputs)
            ]
        )
    ]
    for k, s in enumerate(states):

        def zero(*a, k=k):
            a = list(a)
            a[1 + k] = np.zeros_like(a[1 + k])
            return dict(zip(outputs, reference(*a)[:n], strict=True))

        prev = f"{outputs[k]}_prev" if n == 1 else "the previous state"
        out.append(
            Mistake(
                f"Your {outputs[k]} does not start from {s}: step 1 must use {prev} = {s}, "
                "not zeros.",
                zero,
            )  # fmt: skip
        )
    for k, s in enumerate(states):
        carry = [j != k for j in range(n)]
        out.append(
            Mistake(
                f"Every step starts from {s}: carry the state, so step t uses the "
                f"{outputs[k]} of step t-1.",
                lambda *a, c=carry: dict(zip(outputs, run_steps(step, a, n, c), strict=True)),
            )
        )
    out += [
        Mistakes(
            lambda *a: [
                (
                    f"You included {s} in {o}; return {o}_1..{o}_T only, (N, T, H).",
                    {o: np.concatenate([a[1 + k][:, None], reference(*a)[k]], axis=1)},
                )
                for k, (o, s) in enumerate(zip(outputs, states, strict=True))
            ]
        ),
        Mistakes(
            lambda *a: [
                (
                    f"Your {o} is shifted by one step: {o}[:, 0] must be {o}_1 (after the first "
                    f"input) and {o}[:, T-1] the last state {o}_T.",
                    {o: np.concatenate([a[1 + k][:, None], reference(*a)[k][:, :-1]], axis=1)},
                )
                for k, (o, s) in enumerate(zip(outputs, states, strict=True))
            ]
        ),
    ]
    backwards = "The sequence was read backwards: step 1 reads x[:, 0] and the last step x[:, T-1]."

    def reversed_run(*a):
        return reference(a[0][:, ::-1], *a[1:])[:n]

    out += [
        Mistake(backwards, lambda *a: dict(zip(outputs, reversed_run(*a), strict=True))),
        Mistake(
            backwards,
            lambda *a: {o: v[:, ::-1] for o, v in zip(outputs, reversed_run(*a), strict=True)},
        ),
        Mistakes(
            lambda *a: [
                (
                    f"Your {o} is time-major (T, N, H); the course's sequences are batch-first, "
                    "(N, T, H).",
                    {o: reference(*a)[k].transpose(1, 0, 2)},
                )
                for k, o in enumerate(outputs)
                if a[0].shape[0] != a[0].shape[1]
            ]
        ),
    ]
    return out


def step_advice(step: Function) -> Callable:
    """``advice`` for a sequence Function: a note when the student's own step function is
    already wrong on the first step of these inputs (then that is the thing to fix)."""

    def advice(student, args) -> str:
        step_args = [args[0][:, 0], *args[1:]]
        try:
            got = step.run(student, copies(step_args))
            expected = step.expected(step_args)
            ok = all(is_close(got[o], expected[o]) for o in step.compare)
        except BaseException:  # any failure of the step is a reason to look at it first
            ok = False
        if ok:
            return ""
        return f"(Note: your {step.name} is not right on these inputs; fix it first.)"

    return advice


def bptt(
    step_backward: Callable,
    reference: Callable,
    args: Sequence,
    upstream: Sequence,
    n_states: int,
    carry: Sequence[bool] = (),
    only_last: bool = False,
    forwards: bool = False,
) -> tuple[np.ndarray, list, list[list]]:
    """Backpropagation through time on the reference states, each step's gradients kept apart.

    step_backward(*d_states_t, x_t, *previous states, *weights) -> (dx_t, *d_previous states,
    *d_weights); reference: the sequence function (for the states). An upstream gradient may be
    None (zeros). ``carry[k]`` False: nothing flows back from step t+1 to step t through state
    k; ``only_last``: only the last step gets its gradient from above; ``forwards``: the loop
    runs from t = 1 to T, carrying what the previous iteration returned (a mistake).
    Returns (dx, [d initial state k], [[d weight j at step t] for each weight j]).
    """
    x, init, weights = args[0], list(args[1 : 1 + n_states]), list(args[1 + n_states :])
    seqs = reference(*args)[:n_states]
    T = x.shape[1]
    carry = list(carry) or [True] * n_states
    dx = np.zeros_like(x)
    per_step: list[list] = [[None] * T for _ in weights]
    d_next = [np.zeros_like(s) for s in init]
    for t in range(T) if forwards else reversed(range(T)):
        prev = [init[k] if t == 0 else seqs[k][:, t - 1] for k in range(n_states)]
        ups = []
        for k in range(n_states):
            u = upstream[k]
            from_above = 0.0 if u is None or (only_last and t < T - 1) else u[:, t]
            ups.append(from_above + (d_next[k] if carry[k] else 0.0) + np.zeros_like(init[k]))
        g = step_backward(*ups, x[:, t], *prev, *weights)
        dx[:, t] = g[0]
        d_next = list(g[1 : 1 + n_states])
        for j in range(len(weights)):
            per_step[j][t] = g[1 + n_states + j]
    return dx, d_next, per_step


def reference_step_backward(step_forward: Callable, step_backward: Callable, n_states: int):
    """``step_backward(*d_states, *step args)`` from the reference step's forward and backward
    (which takes ``(*d_states, cache)``): the form :func:`bptt` wants."""

    def fn(*a):
        ups, step_args = a[:n_states], a[n_states:]
        return step_backward(*ups, step_forward(*step_args)[-1])

    return fn


CARRY = (
    "d{o}_next is not carried: the gradient reaching {o}_t is d{o}[:, t] from above PLUS "
    "d{o}_next, the d{o}_prev that the backward of step t+1 returned; walk backwards in time "
    "adding it."
)
ONLY_LAST = (
    "Only d{o}[:, T-1] was used: every state {o}_t also gets its own upstream gradient "
    "d{o}[:, t]; add it to d{o}_next at each step."
)
ACCUMULATE = (
    "{name} is the gradient of time step t={t} alone: the weights are shared by all T steps, so "
    "accumulate (add up the gradients of every step), starting from zeros ({name} += ..., not "
    "{name} = ...)."
)
AVERAGED = (
    "{name} is averaged over time; the gradients of shared weights add up: sum them, do not "
    "divide by T."
)


FORWARDS_IN_TIME = (
    "Your loop runs forwards in time: BPTT walks from the last step down to the first "
    "(for t in reversed(range(T))), so that the gradient step t+1 sends back (dh_next) is known "
    "when step t is processed."
)


def bptt_mistakes(
    step_backward: Callable,
    reference: Callable,
    arg_names: Sequence[str],
    outputs: Sequence[str],
    carry_messages: dict[str, str] | None = None,
) -> list:
    """The typical BPTT mistakes for a backward whose forward has ``arg_names`` (x, initial
    states, weights) and returns the state sequences ``outputs``; ``step_backward`` as for
    :func:`bptt`. ``carry_messages`` replaces the message for a state not carried back (by
    output name)."""
    n = len(outputs)
    states, weights = arg_names[1 : 1 + n], arg_names[1 + n :]
    carry_text = {o: (carry_messages or {}).get(o, CARRY.format(o=o)) for o in outputs}
    only_last = " ".join(ONLY_LAST.format(o=o) for o in outputs[:1])

    def grads(dx, d0, per_step, summed=True):
        out = {"dx": dx}
        out.update({"d" + s: d for s, d in zip(states, d0, strict=True)})
        for w, steps in zip(weights, per_step, strict=True):
            out["d" + w] = sum(steps) if summed else steps
        return out

    def family(*a):
        args, up = a[: len(arg_names)], a[len(arg_names) :]
        T = args[0].shape[1]
        run = lambda **kw: bptt(step_backward, reference, args, up, n, **kw)  # noqa: E731
        good = run()
        found = []
        no_carry = {}
        for k, o in enumerate(outputs):
            no_carry[o] = run(carry=[j != k for j in range(n)])
            v = grads(*no_carry[o])
            found.append((carry_text[o], {"dx": v["dx"], **{"d" + s: v["d" + s] for s in states}}))
        if T > 1:
            found.append((FORWARDS_IN_TIME, grads(*run(forwards=True))))
        last = grads(*run(only_last=True))
        found.append((only_last, {"dx": last["dx"], **{"d" + s: last["d" + s] for s in states}}))
        for k, (o, s) in enumerate(zip(outputs, states, strict=True)):
            if up[k] is not None:
                found.append(
                    (
                        f"d{s} is the gradient flowing into {s} out of step 1 (that step's "
                        f"d{o}_prev), not d{o}[:, 0].",
                        {"d" + s: up[k][:, 0]},
                    )  # fmt: skip
                )
            found.append(
                (
                    f"d{s} is zero: return the d{o}_prev of the first step, the gradient flowing "
                    f"into {s}.",
                    {"d" + s: np.zeros_like(good[1][k])},
                )  # fmt: skip
            )
        for j, w in enumerate(weights):
            name = "d" + w
            for t in range(T):
                found.append((ACCUMULATE.format(name=name, t=t + 1), {name: good[2][j][t]}))
                for o in outputs:
                    found.append(
                        (
                            ACCUMULATE.format(name=name, t=t + 1) + " Also, " + carry_text[o],
                            {name: no_carry[o][2][j][t]},
                        )
                    )
            found += [(carry_text[o], {name: sum(no_carry[o][2][j])}) for o in outputs]
            found.append((only_last, {name: last[name]}))
            found.append((AVERAGED.format(name=name), {name: sum(good[2][j]) / T}))
        return found

    return [Mistakes(family)]
