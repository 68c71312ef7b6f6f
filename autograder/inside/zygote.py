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


_CLONE_NEWUSER = 0x10000000


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _no_capabilities(lib, bounding: bool = True) -> None:
    """Drop every capability for good: the bounding set (``bounding``: it needs CAP_SETPCAP,
    and only matters to a process that will exec), the ambient set, then capset(0)."""
    import ctypes

    pr_capbset_drop, pr_cap_ambient, pr_cap_ambient_clear_all = 24, 47, 4
    lib.prctl(pr_cap_ambient, pr_cap_ambient_clear_all, 0, 0, 0)
    for cap in range(64) if bounding else ():
        lib.prctl(pr_capbset_drop, cap, 0, 0, 0)  # EINVAL past the last one: ignored

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    _check(lib.capset(ctypes.byref(header), ctypes.byref(data)), "capset")
    with open("/proc/self/status") as f:
        which = ("CapEff", "CapPrm", "CapBnd") if bounding else ("CapEff", "CapPrm")
        held = [line.split()[1] for line in f if line.startswith(which)]
    if any(int(x, 16) for x in held):  # never run student code with a capability
        os._exit(70)


def _become_in_user_namespace(lib, ids: tuple[int, int]) -> None:
    """The unprivileged zygote's way to become nobody: it is root only inside the user
    namespace bubblewrap made (mapped to the instructor outside), where no other user exists.
    A nested user namespace maps ``ids`` to that root (so to the instructor outside, as a cold
    unprivileged sandbox's user is), then every capability is dropped."""
    # a process that changed its credentials is not dumpable, and its /proc/self files then
    # belong to a root this new namespace does not map: its own maps could not be written (a
    # cold worker is dumpable too: it was started by exec)
    _check(lib.prctl(4, 1, 0, 0, 0), "prctl PR_SET_DUMPABLE")
    _check(lib.unshare(_CLONE_NEWUSER), "unshare user")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{ids[0]} 0 1")
    _write("/proc/self/gid_map", f"{ids[1]} 0 1")
    os.setresgid(ids[1], ids[1], ids[1])
    os.setresuid(ids[0], ids[0], ids[0])
    _no_capabilities(lib)
    if os.getuid() != ids[0] or os.geteuid() != ids[0]:
        os._exit(70)


def _child_of_zygote(
    fds: list[int], ids: tuple[int, int], keep: list[str], userns: bool = False
) -> None:
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
        # killing the forked child (pass_on) kills this init, and with it the whole namespace:
        # how a grading process without cgroups ends a warm worker
        lib.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
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
        init_ready, init_done = os.pipe()
        pid = os.fork()  # the worker: PID 2, so that signals work on it as on any process
        if pid:
            channel_in.close()
            channel_out.close()
            # nothing is left to mount: this init keeps no capability, and may not be traced
            # (a plain user's worker has the same user outside as this init; ptrace would
            # otherwise reach it); the worker goes on once this is done
            if userns:
                _no_capabilities(lib, bounding=False)  # it never execs
            _check(lib.prctl(4, 0, 0, 0, 0), "prctl PR_SET_DUMPABLE")
            os.close(init_ready)
            os.close(init_done)
            while True:  # reap orphans (a student's daemons) until the worker ends
                done, status = os.waitpid(-1, 0)
                if done == pid:
                    code = os.waitstatus_to_exitcode(status)
                    os._exit(code if code >= 0 else 128 - code)
        os.close(init_done)
        os.read(init_ready, 1)  # end of file: the init has dropped what it held
        os.close(init_ready)
        os.setsid()
        os.chdir("/tmp")
        if userns:  # first: RLIMIT_NPROC then counts this namespace's processes only
            _become_in_user_namespace(lib, ids)
        for name, value in go["rlimits"]:
            resource.setrlimit(getattr(resource, name), (value, value))
        if not userns:
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
    With ``--userns`` (started by a plain user) each child becomes ``--uid`` in a user namespace
    of its own instead of changing user (see :func:`_become_in_user_namespace`).
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
    userns = "--userns" in argv  # started by a plain user: root only in bubblewrap's namespace
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
                _child_of_zygote(fds, ids, keep, userns)
            finally:
                os._exit(71)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"spawned": pid, "id": message.get("id")}).encode())
