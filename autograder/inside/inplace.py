"""Has a function changed its arguments in place? Arrays and tensors at any depth, one message.

Every grader uses this one module: the sandboxed worker (each call of a student function),
the hidden suites' "inputs not modified" tests (:mod:`autograder.suites.kit.checks`), the module
checks (:mod:`.modules`) and the notebooks' visible tests, which inline it (so it needs only
numpy, and recognises PyTorch tensors without importing torch).

* :func:`snapshot` copies every array and tensor inside lists, tuples and dicts (any depth);
  anything else is kept as the same object;
* :func:`changes` compares a snapshot with the value after the call and lists what differs,
  each with its path (``grads[2]``, ``cache['x']``, ``hx[0]``);
* :func:`expect_unchanged` fails with :func:`inplace_message` for the first change found;
* :func:`mirror` writes a changed value back into the caller's objects (the grading process
  does this with what the worker reports, so both graders see the same arguments afterwards).
"""

from __future__ import annotations

import numpy as np


def _is_tensor(value) -> bool:
    """A PyTorch tensor (or Parameter), recognised without importing torch."""
    return any(
        c.__name__ == "Tensor" and c.__module__.startswith("torch") for c in type(value).mro()
    )


def _values(value) -> np.ndarray:
    """The numbers of an array or tensor, as a numpy array (a tensor's .data included)."""
    if _is_tensor(value):
        return value.detach().cpu().numpy()
    return value


def snapshot(value):
    """A copy of every array and tensor in ``value``, at any depth of lists, tuples, dicts."""
    if type(value) is np.ndarray:
        return value.copy()
    if _is_tensor(value):
        return value.detach().clone()
    if type(value) in (list, tuple):
        return type(value)(snapshot(v) for v in value)
    if type(value) is dict:
        return {k: snapshot(v) for k, v in value.items()}
    return value


def _index(key) -> str:
    return f"[{key!r}]"


def changes(name: str, before, after) -> list[tuple[str, str]]:
    """``[(path, what)]``: every place where ``after`` differs from its ``snapshot`` ``before``.

    ``what`` says how ("items were added or removed", "its shape changed to (2, 3)", "the
    largest change is 1.2e+00 at index (0, 1)"). Objects that are neither arrays, tensors nor
    lists/tuples/dicts of them (numbers, a cache the function returned) are not looked into.
    """
    found: list[tuple[str, str]] = []

    def walk(path, old, new):
        if old is new:  # the same object (e.g. a cache): nothing was copied, nothing to compare
            return
        if type(old) is np.ndarray or _is_tensor(old):
            if type(new) is not type(old):
                found.append((path, f"it was replaced by a {type(new).__name__}"))
                return
            o, n = np.asarray(_values(old)), np.asarray(_values(new))
            if o.shape != n.shape:
                found.append((path, f"its shape changed from {o.shape} to {n.shape}"))
                return
            if o.dtype != n.dtype:
                found.append((path, f"its dtype changed from {o.dtype} to {n.dtype}"))
                return
            if np.array_equal(o, n, equal_nan=o.dtype.kind in "fc"):
                return
            if o.dtype.kind not in "biuf" or o.ndim == 0:
                found.append((path, "its values changed"))
                return
            diff = np.abs(o.astype(np.float64) - n.astype(np.float64))
            diff = np.where(np.isnan(diff), np.inf, diff)
            idx = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
            found.append((path, f"the largest change is {diff[idx]:.1e} at index {idx}"))
        elif type(old) in (list, tuple):
            if type(new) is not type(old) or len(new) != len(old):
                found.append((path, "items were added, removed or replaced"))
                return
            for i, (o, n) in enumerate(zip(old, new, strict=True)):
                walk(f"{path}[{i}]", o, n)
        elif type(old) is dict:
            if type(new) is not dict or list(new) != list(old):
                found.append((path, "keys were added, removed or replaced"))
                return
            for k in old:
                walk(f"{path}{_index(k)}", old[k], new[k])

    walk(name, before, after)
    return found


def inplace_message(fname: str, name: str, path: str, what: str) -> str:
    """The one message every grader gives for an argument changed in place."""
    return (
        f"{fname} changed its argument {name} in place: {path} is not what the caller passed "
        f"({what}). The caller still needs it, so compute new arrays (a = a * s, not a *= s, "
        "a[...] = ... or a.append(...))."
    )


def expect_unchanged(fname: str, names, before, after, hint: str = "") -> None:
    """Fail if a function changed an argument in place, at any depth: ``before`` holds the
    :func:`snapshot` of the arguments ``after`` (in the order of ``names``) taken before the
    call; ``hint`` is added to the message."""
    for name, old, new in zip(names, before, after, strict=True):
        found = changes(name, old, new)
        if found:
            raise AssertionError(f"{inplace_message(fname, name, *found[0])} {hint}".rstrip())


def mirror(target, new):
    """Write ``new`` (a changed argument as the function left it) into ``target`` (the caller's
    object), at any depth: array contents, list and dict items. Returns ``target``, or ``new``
    where ``target`` cannot be changed (a number, a tuple, an array whose shape changed)."""
    if type(target) is np.ndarray and type(new) is np.ndarray:
        if target.shape == new.shape and target.flags.writeable:
            try:
                target[...] = new
                return target
            except (TypeError, ValueError):
                pass
        return new
    if type(target) is list and type(new) is list:
        if len(target) == len(new):
            for i, v in enumerate(new):
                target[i] = mirror(target[i], v)
        else:
            target[:] = new
        return target
    if type(target) is dict and type(new) is dict:
        for k in [k for k in target if k not in new]:
            del target[k]
        for k, v in new.items():
            target[k] = mirror(target[k], v) if k in target else v
        return target
    if type(target) is tuple and type(new) is tuple and len(target) == len(new):
        for t, v in zip(target, new, strict=True):
            mirror(t, v)
        return target
    return new
