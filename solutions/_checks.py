"""Argument checks for the reference cells.

Every public numpy function in :mod:`solutions` is wrapped by :func:`check_shapes`, which turns a
wrong shape, a wrong number of dimensions or a non-floating dtype into an error that names the
function, the argument, the shape it got and the shape it expected, for example::

    ShapeError: lstm_step_forward: Wx has shape (5, 12), expected (D, 4H) = (5, 16)
    (D=5 from x, H=4 from h_prev). Wx stacks the four gate blocks i, f, g, o side by side.

The decorator is bookkeeping only: the notebooks embed the bodies of the functions without it.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

_TERM = re.compile(r"^(\d*)([A-Za-z][A-Za-z0-9_]*)$|^(\d+)$")


class ShapeError(ValueError):
    """An array argument has the wrong shape or number of dimensions."""


def _parse(spec: str) -> list[tuple[int, str | None]]:
    """'N 4H' -> [(1, 'N'), (4, 'H')]; a bare integer '3' -> (3, None)."""
    out = []
    for term in spec.split():
        m = _TERM.match(term)
        if m is None:
            raise ValueError(f"bad shape term {term!r} in {spec!r}")
        if m.group(3) is not None:
            out.append((int(m.group(3)), None))
        else:
            out.append((int(m.group(1) or 1), m.group(2)))
    return out


def _fmt(spec: str) -> str:
    return "(" + ", ".join(spec.split()) + ")"


def check_array(func: str, name: str, value: Any, ndim: int | None = None) -> np.ndarray:
    """Check that ``value`` is a floating-point numpy array (of ``ndim`` dimensions if given)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{func}: {name} is a {type(value).__name__}, expected a numpy array; "
            f"convert it with np.asarray({name}, dtype=np.float64)."
        )
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(
            f"{func}: {name} has dtype {value.dtype}, expected a floating-point array; "
            f"convert it with {name}.astype(np.float64)."
        )
    if ndim is not None and value.ndim != ndim:
        raise ShapeError(
            f"{func}: {name} is {value.ndim}-d with shape {value.shape}, expected {ndim}-d."
        )
    return value


def check_shapes(
    bind: Callable[[Mapping[str, Any]], Mapping[str, int]] | None = None,
    hint: Mapping[str, str] | None = None,
    **specs: str,
):
    """Decorator: check array arguments against shape specs written in the symbol key.

    ``@check_shapes(x="N D", h_prev="N H", Wx="D H", Wh="H H", b="H")`` checks that every
    named argument is a floating numpy array whose shape matches its spec. A symbol takes its
    value from the first argument (in signature order) that has it as a plain term; ``4H`` means
    four times ``H``. ``bind`` maps the bound arguments to extra symbol values (a backward pass
    reads them from its cache). ``hint`` adds a sentence per argument to the error message.
    Arguments that are ``None`` are skipped (optional states).
    """
    parsed = {name: _parse(spec) for name, spec in specs.items()}
    hint = dict(hint or {})

    def decorate(fn):
        sig = inspect.signature(fn)
        order = [p for p in sig.parameters if p in parsed]
        unknown = set(parsed) - set(sig.parameters)
        if unknown:
            raise TypeError(f"check_shapes on {fn.__name__}: no argument named {sorted(unknown)}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{fn.__name__}: {e}") from None
            bound.apply_defaults()
            a = bound.arguments
            dims: dict[str, int] = {}
            source: dict[str, str] = {}
            if bind is not None:
                for k, v in bind(a).items():
                    dims[k], source[k] = int(v), "cache"
            present = [n for n in order if a[n] is not None]
            for n in present:
                terms = parsed[n]
                check_array(fn.__name__, n, a[n])
                if a[n].ndim != len(terms):
                    raise ShapeError(
                        f"{fn.__name__}: {n} is {a[n].ndim}-d with shape {a[n].shape}, "
                        f"expected {len(terms)}-d {_fmt(specs[n])}. {hint.get(n, '')}".rstrip()
                    )
                for (mult, sym), size in zip(terms, a[n].shape, strict=True):
                    if sym is not None and mult == 1 and sym not in dims:
                        dims[sym], source[sym] = size, n
            for n in present:
                if 0 in a[n].shape:
                    raise ShapeError(
                        f"{fn.__name__}: {n} has shape {a[n].shape} with an empty dimension; "
                        f"every size in {_fmt(specs[n])} must be at least 1."
                    )
                for (mult, sym), size in zip(parsed[n], a[n].shape, strict=True):
                    if sym is not None and sym not in dims and size % mult == 0:
                        dims[sym], source[sym] = size // mult, n
                expected = tuple(mult * dims[sym] if sym else mult for mult, sym in parsed[n])
                if a[n].shape != expected:
                    used = sorted({s for _, s in parsed[n] if s})
                    where = ", ".join(f"{s}={dims[s]} from {source[s]}" for s in used)
                    raise ShapeError(
                        f"{fn.__name__}: {n} has shape {a[n].shape}, expected "
                        f"{_fmt(specs[n])} = {expected} ({where}). {hint.get(n, '')}".rstrip()
                    )
            return fn(*args, **kwargs)

        wrapper.shape_specs = dict(specs)
        return wrapper

    return decorate


def check_cache(func: str, cache: Any, made_by: str, keys: tuple[str, ...]) -> None:
    """Check that ``cache`` is the dict returned by the matching forward function."""
    if not isinstance(cache, dict):
        raise TypeError(
            f"{func}: cache must be the dict returned by {made_by}, got {type(cache).__name__}."
        )
    missing = [k for k in keys if k not in cache]
    if missing:
        raise TypeError(
            f"{func}: cache must be the dict returned by {made_by} (this one lacks {missing})."
        )
