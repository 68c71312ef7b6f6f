"""The sandboxed worker: runs one student's notebook code and answers requests in plain data.

Started by :mod:`autograder.sandbox` inside bubblewrap (or, where that is missing, as an
unprivileged process with resource limits). It is copied into the sandbox as a standalone file,
so it imports nothing from this repository: only the standard library, numpy and (lazily) torch.

Protocol: the grading process writes requests and reads replies on the worker's stdin/stdout,
each a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. Arrays travel as
``{"__nd__": [dtype, shape, base64]}``; numpy scalars as ``{"__np__": [dtype, value]}``; tuples
as ``{"__tuple__": [...]}``; anything else a student returns becomes an opaque handle
``{"__handle__": n}`` that only this worker can resolve. Nothing is ever pickled. The student's
own prints go to a bounded buffer, never to the channel.

Requests (``op``): ``exec`` (run a cell), ``call`` (call a function), ``describe`` (is a name
defined, callable, where from), ``value`` (a global's value, as plain data or a handle),
``names_used``, ``module_check``, ``module_function``, ``output`` (what the student printed),
``bye``.

Started as root inside bubblewrap (``--uid N --gid N``), the worker becomes that unprivileged user
before it reads the first request. Nothing it sends is trusted by the grading process: a reply is
only data, and every check that matters is made there.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import io
import json
import os
import struct
import sys
import traceback

import numpy as np

MAX_PRINTED = 20_000  # characters of student output kept for the feedback
MAX_ERROR = 2_000


# torch's fused recurrent kernels: an exercise that says "implement the cell" may not reach them
FUSED_KERNELS = (
    "lstm",
    "gru",
    "rnn_tanh",
    "rnn_relu",
    "lstm_cell",
    "gru_cell",
    "rnn_tanh_cell",
    "rnn_relu_cell",
)


class BuiltinUsed(AssertionError):
    """Raised when a student's module calls one of torch's own recurrent layers or kernels."""


@contextlib.contextmanager
def forbid_builtin_rnns():
    """Make torch's fused recurrent kernels raise BuiltinUsed while the block runs.

    ``torch.nn.RNN/GRU/LSTM`` and their Cell versions all end in one of these kernels, so a
    module that delegates to them is caught whatever way it reaches them: the kernels are
    replaced in ``torch`` and ``torch._VF``, and a torch-function mode refuses them by name, which
    also catches a reference saved before the block (``f = torch._VF.lstm``) and
    ``torch.ops.aten.lstm``. (The grading process also looks for these names in the source.)
    """
    import torch
    from torch.overrides import TorchFunctionMode

    def forbidden(*args, **kwargs):
        raise BuiltinUsed(
            "your module calls one of PyTorch's built-in recurrent layers (torch.nn.LSTM, GRU, "
            "RNN or a Cell version); this exercise asks you to write the gate equations yourself."
        )

    class NoBuiltinRNNs(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = str(getattr(func, "__name__", "")).split(".")[0]
            if name in FUSED_KERNELS:
                forbidden()
            return func(*args, **(kwargs or {}))

    saved = []
    for owner in (torch._VF, torch):
        for name in FUSED_KERNELS:
            saved.append((owner, name, getattr(owner, name, None)))
            setattr(owner, name, forbidden)
    try:
        with NoBuiltinRNNs():
            yield
    finally:
        for owner, name, value in saved:
            if value is None:
                delattr(owner, name)
            else:
                setattr(owner, name, value)


def _to_torch(x, requires_grad):
    import numpy as np
    import torch

    if isinstance(x, np.ndarray):
        return torch.tensor(x, requires_grad=requires_grad and x.dtype.kind == "f")
    if isinstance(x, (tuple, list)):
        return type(x)(_to_torch(v, requires_grad) for v in x)
    return x


def _flatten(x) -> list:
    import torch

    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _flatten(v)]
    raise TypeError(f"a module returned a {type(x).__name__}; expected tensors or tuples of them")


def run_module_check(
    cls, init_args=(), state_dict=None, inputs=(), grad_outputs=None, forbid_builtin=True
) -> dict:
    """Build ``cls(*init_args)`` in float64, load ``state_dict``, run it on ``inputs`` and, with
    ``grad_outputs``, backpropagate them. Everything in and out is numpy arrays.

    Returns ``{"outputs": [...], "input_grads": [...], "param_grads": {name: ...},
    "state_dict": {name: ...}}``: outputs flattened in order (e.g. output, h_n, c_n), the
    gradients of every floating input (None where it got none) and of every parameter.
    This is the same computation the sandboxed worker performs for the grading command.
    """
    import torch

    guard = forbid_builtin_rnns() if forbid_builtin else contextlib.nullcontext()
    with guard:
        module = cls(*init_args).double()
        if state_dict is not None:
            module.load_state_dict({k: torch.tensor(v) for k, v in state_dict.items()})
        xs = _to_torch(list(inputs), requires_grad=grad_outputs is not None)
        outs = _flatten(module(*xs))
        if grad_outputs is not None:
            if len(grad_outputs) != len(outs):
                raise ValueError(f"{len(outs)} outputs but {len(grad_outputs)} grad_outputs")
            pairs = [
                (o, torch.tensor(g))
                for o, g in zip(outs, grad_outputs, strict=True)
                if g is not None
            ]
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
    leaves = _flatten_inputs(xs)
    return {
        "outputs": [o.detach().numpy().copy() for o in outs],
        "input_grads": [None if t.grad is None else t.grad.numpy().copy() for t in leaves],
        "param_grads": {
            n: None if p.grad is None else p.grad.numpy().copy()
            for n, p in module.named_parameters()
        },
        "state_dict": {k: v.detach().numpy().copy() for k, v in module.state_dict().items()},
    }


def _flatten_inputs(xs) -> list:
    import torch

    if isinstance(xs, torch.Tensor):
        return [xs] if xs.is_floating_point() else []
    if isinstance(xs, (tuple, list)):
        return [t for v in xs for t in _flatten_inputs(v)]
    return []


def run_module_function(fn, module_name: str, init_args=(), state_dict=None, args=()) -> dict:
    """Build ``torch.nn.<module_name>(*init_args)`` in float64, load ``state_dict``, call
    ``fn(module, *args)`` and return the module's state_dict afterwards (numpy arrays)."""
    import torch

    module = getattr(torch.nn, module_name)(*init_args).double()
    if state_dict is not None:
        module.load_state_dict({k: torch.tensor(v) for k, v in state_dict.items()})
    fn(module, *args)
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


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


def read_message(stream) -> dict | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    return json.loads(stream.read(size).decode())


def write_message(stream, message: dict) -> None:
    data = json.dumps(message).encode()
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


# --------------------------------------------------------------------------- the worker
def _error(e: BaseException) -> dict:
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
                return {"ok": False, "error": _error(e), "summary": tb[:MAX_ERROR]}
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
            before = [a.copy() if type(a) is np.ndarray else None for a in args]
            try:
                value = fn(*args)
            except BaseException as e:
                return {"ok": False, "error": _error(e)}
            changed = {
                str(i): encode(a)
                for i, (a, b) in enumerate(zip(args, before, strict=True))
                if b is not None
                and (a.shape != b.shape or not np.array_equal(a, b, equal_nan=True))
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
                return {"ok": False, "error": _error(e)}
            return {"ok": True, "value": encode(value, self.handles)}
        if op == "output":
            return {"ok": True, "value": self.printed.text(), "note": self.filter_note}
        return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}"}}


def _drop_to(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good (which also loses every capability), or end."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:  # never run student code with privileges
        os._exit(70)


def _ids(argv: list[str]) -> tuple[int, int] | None:
    """``--uid N [--gid N]`` from the command line, or None."""
    if "--uid" not in argv:
        return None
    uid = int(argv[argv.index("--uid") + 1])
    gid = int(argv[argv.index("--gid") + 1]) if "--gid" in argv else uid
    return uid, gid


# System calls a worker never needs and that reach state shared beyond its namespaces: the
# kernel keyrings (a user's keyring is per uid, so every worker running as nobody would share
# it, across submissions and runs), new user namespaces (much more of the kernel within reach),
# eBPF, perf events and userfaultfd. Numbers per architecture: (add_key, request_key, keyctl,
# unshare, clone, clone3, bpf, perf_event_open, userfaultfd).
_SYSCALLS = {
    0xC000003E: (248, 249, 250, 272, 56, 435, 321, 298, 323),  # x86_64
    0xC00000B7: (217, 218, 219, 97, 220, 435, 280, 241, 282),  # aarch64
}
_CLONE_NEWUSER = 0x10000000


def restrict_syscalls() -> str:
    """Install a seccomp filter refusing the calls above (EPERM; clone3 ENOSYS, so that the C
    library falls back to clone, whose flags the filter can see; unshare and clone only with
    CLONE_NEWUSER). Returns "" or why no filter could be installed (the caller reports it)."""
    import ctypes
    import platform

    arch = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}.get(platform.machine())
    if arch is None:
        return f"no system-call filter for {platform.machine()}"
    add_key, request_key, keyctl, unshare, clone, clone3, bpf, perf, ufd = _SYSCALLS[arch]
    ld, jeq, jset, jge, ret = 0x20, 0x15, 0x45, 0x35, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    kill = 0x80000000  # SECCOMP_RET_KILL_PROCESS: a foreign architecture or the x32 ABI
    prog = [
        (ld, 0, 0, 4),  # arch
        (jeq, 1, 0, arch),
        (ret, 0, 0, kill),
        (ld, 0, 0, 0),  # the system-call number
        (jge, 0, 1, 0x40000000),  # x32 system calls on x86_64
        (ret, 0, 0, kill),
    ]
    for nr in (add_key, request_key, keyctl, bpf, perf, ufd):
        prog += [(jeq, 0, 1, nr), (ret, 0, 0, eperm)]
    prog += [(jeq, 0, 1, clone3), (ret, 0, 0, enosys)]
    for nr in (unshare, clone):  # flags are the first argument of both
        prog += [
            (jeq, 0, 4, nr),
            (ld, 0, 0, 16),  # low 32 bits of args[0]
            (jset, 0, 1, _CLONE_NEWUSER),
            (ret, 0, 0, eperm),
            (ld, 0, 0, 0),  # the number again, for the next test
        ]
    prog += [(ret, 0, 0, allow)]

    class Filter(ctypes.Structure):
        _fields_ = [
            ("code", ctypes.c_ushort),
            ("jt", ctypes.c_ubyte),
            ("jf", ctypes.c_ubyte),
            ("k", ctypes.c_uint),
        ]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(prog))(*[Filter(*f) for f in prog])
    program = Program(len(prog), filters)
    libc = _libc()
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        return "no_new_privs could not be set"
    if libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(program), 0, 0) != 0:
        return f"the system-call filter was refused (errno {ctypes.get_errno()})"
    return ""


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
            reply = {"ok": False, "error": _error(e)}
        reply["id"] = req.get("id")  # the grading process skips replies without its id
        try:
            write_message(channel_out, reply)
        except (TypeError, ValueError) as e:  # e.g. a NaN in a dict key; say so instead
            write_message(channel_out, {"ok": False, "error": _error(e), "id": req.get("id")})
        req = None
    os._exit(0)


def main() -> None:
    ids = _ids(sys.argv[1:])
    if ids is not None:  # before anything of the student's is read
        _drop_to(*ids)
    serve(os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb"))


# --------------------------------------------------------------------------- the warm zygote
# Importing torch and pyplot takes most of a cold worker's start (about 2 s of 2.5). The zygote
# imports them once, inside its own bubblewrap sandbox, as root with only the capabilities it
# needs (set up namespaces and mounts, change user), and never runs student code. For each
# submission it forks a child that gets new mount, PID, network and IPC namespaces, a fresh
# private /tmp and /proc, the resource limits, and becomes nobody: the same isolation as a cold
# sandbox of its own, with the libraries already in memory (copy-on-write). The grading process
# puts the child into its own cgroups before it goes on, and kills it through them.
_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWPID, _CLONE_NEWNET = (
    0x00020000,
    0x08000000,
    0x20000000,
    0x40000000,
)
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 0x1000, 0x4000, 1 << 18


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        import ctypes

        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _loopback_up() -> None:
    """Bring up ``lo`` in a new network namespace (as bubblewrap does): localhost works, and
    reaches nothing but this worker."""
    import fcntl
    import socket

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s.fileno(), siocgifflags, req + b"\0" * 22)[:18])[
            1
        ]
        fcntl.ioctl(
            s.fileno(), siocsifflags, struct.pack("16sH", b"lo", flags | iff_up) + b"\0" * 22
        )


def _child_of_zygote(fds: list[int], ids: tuple[int, int], keep: list[str]) -> None:
    """In the forked child (still privileged): wait for ``go``, isolate, drop, serve."""
    import resource
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    channel_in = os.fdopen(fds[0], "rb")
    channel_out = os.fdopen(fds[1], "wb")
    go = read_message(channel_in)  # sent once the grading process has set up our cgroups
    if go is None or go.get("op") != "go":
        os._exit(72)
    libc = _libc()

    def pass_on(pid: int) -> None:  # wait for ``pid`` and end the same way (128 + signal)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)

    try:
        _check(
            libc.unshare(_CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC), "unshare"
        )
        pid = os.fork()  # the init of the new PID namespace, as bubblewrap has one
        if pid:
            channel_in.close()
            channel_out.close()
            pass_on(pid)
        _loopback_up()
        _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
        tmp_flags = _MS_NOSUID | _MS_NODEV
        # directories under /tmp that must stay (the Python environment): held open, then bound
        # again on top of the new /tmp, with whatever is mounted inside them (MS_REC)
        under_tmp = sorted(p for p in keep if p == "/tmp" or p.startswith("/tmp/"))
        under_tmp = [p for p in under_tmp if not any(p.startswith(q + "/") for q in under_tmp)]
        held = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in under_tmp]
        _mount(libc, "tmpfs", "/tmp", "tmpfs", tmp_flags, f"size={int(go['tmpfs'])},mode=1777")
        for path, fd in held:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
            os.close(fd)
        if os.path.isdir("/dev/shm"):
            _mount(libc, "tmpfs", "/dev/shm", "tmpfs", tmp_flags, "size=1m,mode=1777")
        _mount(libc, "proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
        pid = os.fork()  # the worker: PID 2, so that signals work on it as on any process
        if pid:
            channel_in.close()
            channel_out.close()
            while True:  # reap orphans (a student's daemons) until the worker ends
                done, status = os.waitpid(-1, 0)
                if done == pid:
                    code = os.waitstatus_to_exitcode(status)
                    os._exit(code if code >= 0 else 128 - code)
        os.setsid()
        os.chdir("/tmp")
        for name, value in go["rlimits"]:
            resource.setrlimit(getattr(resource, name), (value, value))
        _drop_to(*ids)
    except BaseException as e:
        write_message(channel_out, {"ok": False, "error": _error(e), "id": go.get("id")})
        os._exit(73)
    serve(channel_in, channel_out, first={"op": "output", "id": go.get("id")})


def zygote_main(argv: list[str]) -> None:
    """``--zygote --uid N --gid N --preload a,b``: fork a worker per ``spawn`` message.

    The control channel (stdin) is a SOCK_SEQPACKET Unix socket. A ``spawn`` message carries
    two descriptors (the new worker's request and reply pipes) and is answered with
    ``{"spawned": pid}``; every child that ends is announced as ``{"exit": pid, "code": c}``.
    """
    import importlib
    import select
    import signal
    import socket

    ids = _ids(argv)
    if ids is None:
        os._exit(74)
    control = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    preload = argv[argv.index("--preload") + 1].split(",") if "--preload" in argv else []
    keep = argv[argv.index("--keep") + 1].split(",") if "--keep" in argv else []
    loaded = []
    for name in filter(None, preload):
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # noqa: S112 - a module the sandbox cannot load is loaded by the cell
            continue
    control.send(json.dumps({"ready": loaded}).encode())
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while True:
        while True:  # announce the children that ended
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            note = {"exit": pid, "code": os.waitstatus_to_exitcode(status)}
            with contextlib.suppress(OSError):
                control.send(json.dumps(note).encode())
        ready, _, _ = select.select([control], [], [], 0.05)
        if not ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 16, 2)
        except OSError:
            os._exit(0)
        if not data:  # the grading process is gone
            os._exit(0)
        message = json.loads(data.decode())
        if message.get("op") != "spawn" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                _child_of_zygote(fds, ids, keep)
            finally:
                os._exit(71)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"spawned": pid, "id": message.get("id")}).encode())


if __name__ == "__main__":
    if "--zygote" in sys.argv:
        zygote_main(sys.argv[1:])
    else:
        main()
