"""The warm zygote: imports the heavy libraries once, then forks an isolated worker per submission.

Importing torch and pyplot takes most of a cold worker's start (about 2 s of 2.5). The zygote
imports them once, inside its own bubblewrap sandbox, as root with only the capabilities it
needs (set up namespaces and mounts, change user), and never runs student code. For each
submission it forks a child that gets new mount, PID, network and IPC namespaces, a fresh
private /tmp and /proc, the resource limits, and becomes nobody: the same isolation as a cold
sandbox of its own, with the libraries already in memory (copy-on-write). The grading process
(autograder/warm.py) puts the child into its own cgroups before it goes on, and kills it through
them.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct

from .channel import read_message, write_message
from .privileges import drop_to, ids_from_argv, libc
from .worker import error_of, serve

_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWPID, _CLONE_NEWNET = (
    0x00020000,
    0x08000000,
    0x20000000,
    0x40000000,
)
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 0x1000, 0x4000, 1 << 18


def _check(ret: int, what: str) -> None:
    if ret != 0:
        import ctypes

        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _mount(lib, source, target, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(lib.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


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
    lib = libc()

    def pass_on(pid: int) -> None:  # wait for ``pid`` and end the same way (128 + signal)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)

    try:
        _check(lib.unshare(_CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC), "unshare")
        pid = os.fork()  # the init of the new PID namespace, as bubblewrap has one
        if pid:
            channel_in.close()
            channel_out.close()
            pass_on(pid)
        _loopback_up()
        _mount(lib, None, "/", None, _MS_REC | _MS_PRIVATE)
        tmp_flags = _MS_NOSUID | _MS_NODEV
        # directories under /tmp that must stay (the Python environment): held open, then bound
        # again on top of the new /tmp, with whatever is mounted inside them (MS_REC)
        under_tmp = sorted(p for p in keep if p == "/tmp" or p.startswith("/tmp/"))
        under_tmp = [p for p in under_tmp if not any(p.startswith(q + "/") for q in under_tmp)]
        held = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in under_tmp]
        _mount(lib, "tmpfs", "/tmp", "tmpfs", tmp_flags, f"size={int(go['tmpfs'])},mode=1777")
        for path, fd in held:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(lib, f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
            os.close(fd)
        if os.path.isdir("/dev/shm"):
            _mount(lib, "tmpfs", "/dev/shm", "tmpfs", tmp_flags, "size=1m,mode=1777")
        _mount(lib, "proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
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
        drop_to(*ids)
    except BaseException as e:
        write_message(channel_out, {"ok": False, "error": error_of(e), "id": go.get("id")})
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

    ids = ids_from_argv(argv)
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
