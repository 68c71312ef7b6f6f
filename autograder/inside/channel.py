"""The channel between the grading process and a worker: message framing and the plain-data codec.

Each message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. Arrays
travel as ``{"__nd__": [dtype, shape, base64]}``; numpy scalars as ``{"__np__": [dtype, value]}``;
tuples as ``{"__tuple__": [...]}``; dicts with string keys as ``{"__dict__": {...}}``; anything
else a student returns becomes an opaque handle ``{"__handle__": n}`` that only the worker can
resolve. Nothing is ever pickled. Both sides import this module.
"""

from __future__ import annotations

import base64
import json
import struct

import numpy as np

HEADER = struct.Struct(">I")  # the length of the JSON that follows


def frame(message: dict) -> bytes:
    """A message as it travels: its length, then its JSON."""
    data = json.dumps(message).encode()
    return HEADER.pack(len(data)) + data


def read_message(stream) -> dict | None:
    """The next message of a blocking binary stream, or None at its end."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    return json.loads(stream.read(size).decode())


def write_message(stream, message: dict) -> None:
    stream.write(frame(message))
    stream.flush()


# --------------------------------------------------------------------------- plain-data codec
class Handle:
    """An object that stays in the worker; the grading process only sees its number.

    On the grading side :func:`decode` returns an instance of a subclass named after the
    object's type (``Tensor``, ``MaskedArray``...), so messages such as "h must be a numpy
    array, got Tensor" stay informative; the object itself never leaves the worker.
    """

    type_name = "object"

    def __init__(self, n: int):
        self.n = n

    def __repr__(self):
        return f"<opaque {self.type_name} #{self.n}>"


_HANDLE_TYPES: dict[str, type] = {}
MAX_HANDLE_TYPES = 256  # type names remembered; a reply cannot make the grader keep more


def _handle_type(name) -> type:
    """The Handle subclass for a remote type name (sanitised: an identifier of at most 40).
    At most MAX_HANDLE_TYPES names get a class of their own; the rest are plain ``object``."""
    name = str(name)[:40]
    if not name.isidentifier():
        name = "object"
    if name not in _HANDLE_TYPES:
        if len(_HANDLE_TYPES) >= MAX_HANDLE_TYPES:
            name = "object"
            if name in _HANDLE_TYPES:
                return _HANDLE_TYPES[name]
        _HANDLE_TYPES[name] = type(name, (Handle,), {"type_name": name})
    return _HANDLE_TYPES[name]


PLAIN_KINDS = "biuf"  # bool, signed and unsigned integers, floats


def encode(obj, handles: dict | None = None):
    """Turn ``obj`` into JSON-able plain data; non-plain objects become handles (worker side)
    or raise TypeError (grading side, where ``handles`` is None)."""
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is np.ndarray and obj.dtype.kind in PLAIN_KINDS:
        a = np.ascontiguousarray(obj)
        return {"__nd__": [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]}
    if isinstance(obj, np.generic) and np.dtype(type(obj)).kind in PLAIN_KINDS:
        return {"__np__": [np.dtype(type(obj)).str, obj.item()]}
    if type(obj) is tuple:
        return {"__tuple__": [encode(v, handles) for v in obj]}
    if type(obj) is list:
        return [encode(v, handles) for v in obj]
    if type(obj) is dict and all(type(k) is str for k in obj):
        return {"__dict__": {k: encode(v, handles) for k, v in obj.items()}}
    if isinstance(obj, Handle):
        return {"__handle__": obj.n}
    if handles is None:
        raise TypeError(f"cannot send a {type(obj).__name__} to the worker")
    n = len(handles) + 1
    handles[n] = obj
    return {"__handle__": n, "type": type(obj).__name__}


def decode(obj, handles: dict | None = None):
    """Inverse of :func:`encode`. On the worker side handles resolve to the stored objects."""
    if type(obj) is list:
        return [decode(v, handles) for v in obj]
    if type(obj) is not dict:
        return obj
    if "__nd__" in obj:
        dtype, shape, data = obj["__nd__"]
        dt = np.dtype(dtype)
        if dt.kind not in PLAIN_KINDS:
            raise ValueError(f"refusing array of dtype {dtype}")
        return np.frombuffer(base64.b64decode(data), dtype=dt).reshape(shape).copy()
    if "__np__" in obj:
        dtype, value = obj["__np__"]
        dt = np.dtype(dtype)
        if dt.kind not in PLAIN_KINDS:
            raise ValueError(f"refusing scalar of dtype {dtype}")
        return dt.type(value)
    if "__tuple__" in obj:
        return tuple(decode(v, handles) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {k: decode(v, handles) for k, v in obj["__dict__"].items()}
    if "__handle__" in obj:
        if handles is None:
            return _handle_type(obj.get("type", "object"))(int(obj["__handle__"]))
        n = int(obj["__handle__"])
        if n not in handles:
            raise KeyError(f"unknown object #{n} (it came from an earlier worker)")
        return handles[n]
    raise ValueError("unknown message object")
