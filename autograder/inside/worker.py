"""The sandboxed worker: runs one student's notebook code and answers requests in plain data.

Started by :mod:`autograder.sandbox` inside bubblewrap (or, where that is missing, as an
unprivileged process with resource limits), or forked by the warm zygote (:mod:`.zygote`).
Requests and replies travel on private descriptors, framed and encoded by :mod:`.channel`.
The student's own prints go to a bounded buffer, never to the channel.

Requests (``op``): ``exec`` (run a cell), ``call`` (call a function), ``describe`` (is a name
defined, callable, where from), ``value`` (a global's value, as plain data or a handle),
``names_used``, ``module_check``, ``module_function``, ``output`` (what the student printed),
``bye``.

Started as root inside bubblewrap (``--uid N --gid N``), the worker becomes that unprivileged user
before it reads the first request. Nothing it sends is trusted by the grading process: a reply is
only data, and every check that matters is made there.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import sys
import traceback

from .channel import decode, encode, read_message, write_message
from .inplace import changes
from .modules import forbid_builtin_rnns, run_module_check, run_module_function
from .privileges import drop_to, ids_from_argv
from .seccomp import restrict_syscalls

MAX_PRINTED = 20_000  # characters of student output kept for the feedback
MAX_ERROR = 2_000


def error_of(e: BaseException) -> dict:
    msg = str(e)
    if len(msg) > MAX_ERROR:
        msg = msg[:MAX_ERROR] + " ..."
    return {"type": type(e).__name__, "message": msg}


class _Bounded(io.TextIOBase):
    """A text stream that keeps the first MAX_PRINTED characters and drops the rest."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0

    def writable(self):
        return True

    def write(self, s):
        if self.size < MAX_PRINTED:
            self.parts.append(s[: MAX_PRINTED - self.size])
        self.size += len(s)
        return len(s)

    def text(self) -> str:
        extra = self.size - MAX_PRINTED
        return "".join(self.parts) + (f"\n[... {extra} more characters]" if extra > 0 else "")


def _names_used(fn) -> list[str]:
    fn = getattr(fn, "__func__", fn)
    stack = [fn.__code__] if hasattr(fn, "__code__") else []
    if isinstance(fn, type):  # a class: every method's code
        stack = [v.__code__ for v in vars(fn).values() if hasattr(v, "__code__")]
    names: set[str] = set()
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return sorted(names)


class Worker:
    def __init__(self):
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.handles: dict = {}
        self.printed = _Bounded()
        self.filter_note = ""  # why no system-call filter is in force, if none is

    def handle(self, req: dict) -> dict:
        op = req.get("op")
        if op == "exec":
            try:
                code = compile(req["code"], req.get("label", "<cell>"), "exec")
                exec(code, self.ns)
            except BaseException as e:  # a student's SystemExit ends the cell, not the worker
                tb = traceback.format_exception_only(type(e), e)[-1].strip()
                return {"ok": False, "error": error_of(e), "summary": tb[:MAX_ERROR]}
            return {"ok": True}
        if op == "describe":
            obj = self.ns.get(req["name"])
            return {
                "ok": True,
                "defined": req["name"] in self.ns,
                "callable": callable(obj),
                "type": type(obj).__name__,
                "module": str(getattr(obj, "__module__", "") or ""),
            }
        if op == "value":
            if req["name"] not in self.ns:
                return {"ok": False, "error": {"type": "NameError", "message": req["name"]}}
            return {"ok": True, "value": encode(self.ns[req["name"]], self.handles)}
        if op == "names_used":
            return {"ok": True, "value": _names_used(self.ns[req["name"]])}
        if op == "call":
            fn = self.ns[req["name"]]
            args = decode(req.get("args", []), self.handles)
            before = decode(req.get("args", []), self.handles)  # copies; handles stay the same
            guard = forbid_builtin_rnns() if req.get("forbid_builtin") else contextlib.nullcontext()
            try:
                with guard:
                    value = fn(*args)
            except BaseException as e:
                return {"ok": False, "error": error_of(e)}
            changed = {  # arguments changed in place at any depth, sent back whole
                str(i): encode(a, self.handles)
                for i, (a, b) in enumerate(zip(args, before, strict=True))
                if changes(f"argument {i}", b, a)
            }
            return {"ok": True, "value": encode(value, self.handles), "changed": changed}
        if op in ("module_check", "module_function"):
            kwargs = decode(req.get("kwargs", {}), self.handles)
            target = self.ns[req["name"]]
            try:
                if op == "module_check":
                    value = run_module_check(target, **kwargs)
                else:
                    value = run_module_function(target, req["module_name"], **kwargs)
            except BaseException as e:
                return {"ok": False, "error": error_of(e)}
            return {"ok": True, "value": encode(value, self.handles)}
        if op == "output":
            return {"ok": True, "value": self.printed.text(), "note": self.filter_note}
        return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}"}}


def serve(channel_in, channel_out, first: dict | None = None) -> None:
    """Answer requests until ``bye`` or the end of input; ``first`` is answered before reading.

    The student's fd 0/1/2 lead nowhere and their prints go to a bounded buffer: the channel
    lives on private descriptors only.
    """
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    worker = Worker()
    worker.filter_note = restrict_syscalls()
    sys.stdout = sys.stderr = worker.printed
    sys.stdin = io.StringIO("")
    req = first
    while True:
        if req is None:
            req = read_message(channel_in)
        if req is None or req.get("op") == "bye":
            break
        try:
            reply = worker.handle(req)
        except BaseException as e:  # a bug in a request must not kill the worker silently
            reply = {"ok": False, "error": error_of(e)}
        reply["id"] = req.get("id")  # the grading process skips replies without its id
        try:
            write_message(channel_out, reply)
        except (TypeError, ValueError) as e:  # e.g. a NaN in a dict key; say so instead
            write_message(channel_out, {"ok": False, "error": error_of(e), "id": req.get("id")})
        req = None
    os._exit(0)


def main() -> None:
    ids = ids_from_argv(sys.argv[1:])
    if ids is not None:  # before anything of the student's is read
        drop_to(*ids)
    if "--nproc" in sys.argv:  # set here, inside the sandbox's user namespace (see sandbox.py)
        import resource

        n = int(sys.argv[sys.argv.index("--nproc") + 1])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
    serve(os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb"))
