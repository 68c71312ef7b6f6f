"""Start and talk to a sandboxed worker (see autograder/worker.py for the protocol).

Isolation, outermost first:
1. bubblewrap (Debian package ``bubblewrap``): new PID, network, IPC, UTS and cgroup namespaces
   (so no network at all, and no other process to see or signal); a file system made only of the
   system directories, a few files of /etc, the Python installation and a private tmpfs. The
   repository, the hidden suites, the reference solutions, other submissions and the gradebook
   are simply not there, and a copy of the reference package inside the Python installation (a
   non-editable install) is covered by an empty directory.
2. An unprivileged user. Run by root, bubblewrap sets up the sandbox without a user namespace and
   the worker becomes ``nobody`` before it reads any student code, so files are checked against
   nobody's rights (in a user namespace the sandbox user would be root outside, able to read
   /etc/shadow). Run by anyone else, bubblewrap maps the sandbox user to that user.
3. Limits: per-process rlimits (address space, CPU seconds, file size, open files, no core
   dumps) and, where the cgroup file system is writable, a cgroup per worker for the number of
   processes, the memory of all of them together, and one CPU core; the cgroup is also how every
   process of a worker is found and killed at the end, even ones that left its process group.
4. A wall-clock limit on every request, enforced here: a worker that does not answer in time is
   killed with all its processes.
Where bubblewrap is missing the worker runs with 2 to 4 only (as nobody if nobody can run this
Python, otherwise as the current user, without network when the kernel allows), and
:func:`isolation_note` says so.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import json
import os
import pwd
import resource
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import worker as worker_module


@dataclass(frozen=True)
class Limits:
    """Resource and time limits for one worker."""

    memory_bytes: int = 3 << 30  # address space per process, and memory of all of them (cgroup)
    cpu_seconds: int = 300  # CPU time of the worker process over its whole life
    processes: int = 256  # processes and threads of one worker (cgroup)
    cpu_cores: float = 1.0  # CPU share of one worker, all its processes together (cgroup)
    file_bytes: int = 16 << 20  # largest file the student may write (on the private tmpfs)
    open_files: int = 256
    # wall time for one call of a student's function: the suites call with tiny inputs, on which
    # the reference takes milliseconds; a call that runs this long is a loop, not a slow answer
    call_seconds: float = 20.0
    cell_seconds: float = 120.0  # wall time for one cell of the student's notebook
    setup_seconds: float = 180.0  # wall time for one read-only cell (imports torch, ...)
    # wall time of all calls of one exercise (visible + hidden): nbgrader's cell timeout
    exercise_seconds: float = 300.0
    submission_seconds: float = 1200.0  # wall time of all requests for one submission
    max_starts: int = 8  # worker starts per submission (the first, then restarts after a death)
    tmpfs_bytes: int = 64 << 20  # size of the private /tmp
    max_reply_bytes: int = 16 << 20  # a larger reply is refused and the worker killed
    max_reply_objects: int = 10_000  # opaque objects (handles) in one reply, likewise


BWRAP = shutil.which("bwrap")
SANDBOX_IDS = (65534, 65534)  # nobody:nogroup (the ids inside and, run by root, outside)
# Only these parts of /etc are visible in the sandbox (the dynamic loader, names, fonts).
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "passwd",
    "group",
    "nsswitch.conf",
    "fonts",
    "alternatives",
)
REFERENCE_PACKAGES = ("solutions", "autograder")


def _use_bwrap(use_bwrap: bool | None) -> bool:
    return bool(BWRAP) if use_bwrap is None else bool(use_bwrap and BWRAP)


def isolation_note(use_bwrap: bool | None = None) -> str:
    """One line for the top of the grading output: which isolation is in force."""
    if _use_bwrap(use_bwrap):
        return (
            "sandbox: bubblewrap (no network, private file system, user nobody) + resource limits"
        )
    ids = _fallback_ids()
    who = (
        "as user nobody"
        if ids is not None
        else f"as user {pwd.getpwuid(os.getuid()).pw_name} (nobody cannot run this Python)"
    )
    return (
        "WARNING: bubblewrap is not installed (apt-get install bubblewrap): student code runs "
        f"WITHOUT file-system isolation, {who}, isolated only as a separate process with "
        "resource limits. Install bubblewrap before grading real submissions."
    )


class WorkerDied(Exception):
    """The worker ended or was killed (time, memory, os._exit, signal), or broke the protocol."""


class RemoteError(Exception):
    """An exception raised by student code in the worker (type name and message)."""


class _TooManyObjects(Exception):
    """A reply holds more opaque objects than any honest answer (a memory attack on us)."""


class _ProcessLimit(Exception):
    """The worker's processes have filled its pids cgroup for a while."""


# --------------------------------------------------------------------------- cgroups
CGROUP_V1 = "/sys/fs/cgroup"
_CGROUP_PREFIX = "grader-"


def _cgroup_specs(limits: Limits) -> list[tuple[str, list[tuple[str, str]]]]:
    """(controller folder, [(file, value)]) for cgroup v1: pids, memory, cpu."""
    period = 100_000
    return [
        ("pids", [("pids.max", str(limits.processes))]),
        (
            "memory",
            [
                ("memory.limit_in_bytes", str(limits.memory_bytes)),
                ("memory.memsw.limit_in_bytes", str(limits.memory_bytes)),
            ],
        ),
        (
            "cpu",
            [
                ("cpu.cfs_period_us", str(period)),
                ("cpu.cfs_quota_us", str(max(1000, int(period * limits.cpu_cores)))),
            ],
        ),
    ]


@functools.cache
def _sweep_stale_cgroups() -> None:
    """Remove empty cgroups left by grading processes that were killed (their creator is gone)."""
    for controller in ("pids", "memory", "cpu"):
        root = Path(CGROUP_V1, controller)
        with contextlib.suppress(OSError):
            for d in root.glob(_CGROUP_PREFIX + "*"):
                try:
                    pid = int(d.name.split("-")[1])
                    os.kill(pid, 0)
                    continue  # its grading process is alive
                except (ValueError, IndexError, PermissionError):
                    continue
                except ProcessLookupError:
                    pass
                with contextlib.suppress(OSError):
                    if not (d / "cgroup.procs").read_text().strip():
                        d.rmdir()


def _make_cgroups(limits: Limits) -> list[str]:
    """Fresh v1 cgroups for one worker (those that can be made); [] where none is writable."""
    _sweep_stale_cgroups()
    name = f"{_CGROUP_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
    made = []
    for controller, settings in _cgroup_specs(limits):
        root = os.path.join(CGROUP_V1, controller)
        if not os.path.isdir(root) or not os.access(root, os.W_OK):
            continue
        path = os.path.join(root, name)
        try:
            os.mkdir(path)
        except OSError:
            continue
        ok = True
        for file, value in settings:
            target = os.path.join(path, file)
            if not os.path.exists(target):
                continue  # e.g. memsw without swap accounting
            try:
                with open(target, "w") as f:
                    f.write(value)
            except OSError:
                ok = controller == "memory" and file.startswith("memory.memsw")
                if not ok:
                    break
        if ok:
            made.append(path)
        else:
            with contextlib.suppress(OSError):
                os.rmdir(path)
    return made


def _kill_cgroup(path: str) -> None:
    """SIGKILL every process in the cgroup until it is empty (new forks are caught next round)."""
    procs = os.path.join(path, "cgroup.procs")
    for _ in range(200):
        try:
            with open(procs) as f:
                pids = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def _remove_cgroup(path: str) -> None:
    for _ in range(100):  # the kernel needs a moment to reap the killed processes
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            _kill_cgroup(path)
            time.sleep(0.02)


# --------------------------------------------------------------------------- without bubblewrap
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_CLONE_NEWNET = 0x40000000


def _set_parent_death_signal() -> None:
    """Die with the parent (works in a child after fork, and survives exec)."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _drop_to(ids: tuple[int, int]) -> None:
    os.setgroups([])
    os.setgid(ids[1])
    os.setuid(ids[0])


@functools.cache
def _fallback_ids() -> tuple[int, int] | None:
    """Without bubblewrap: the ids to run the worker as (nobody), or None to stay as we are
    (we are not root, or nobody cannot run this Python, e.g. a pyenv under /root)."""
    if os.getuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
        ids = (pw.pw_uid, pw.pw_gid)
    except KeyError:
        ids = SANDBOX_IDS
    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-c", "import numpy"],
            preexec_fn=lambda: _drop_to(ids),
            capture_output=True,
            timeout=120,
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return ids if probe.returncode == 0 else None


# --------------------------------------------------------------------------- bubblewrap
def _python_paths() -> list[str]:
    """Directories the worker's Python needs: the environment and the installation it uses."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    paths.add(Path(os.path.realpath(sys.executable)).parent.parent)
    return sorted(str(p) for p in paths)


def _hidden_packages(bound: list[str]) -> list[str]:
    """Folders of the reference packages that lie inside a bound directory (a non-editable
    install puts solutions/ and autograder/ into site-packages): they get covered."""
    import importlib.util

    out = []
    for name in REFERENCE_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec else []:
            real = os.path.realpath(loc)
            if any(real == b or real.startswith(b.rstrip("/") + "/") for b in bound):
                out.append(real)
    return sorted(set(out))


def _mkdirs(paths: list[str]) -> list[str]:
    """bwrap options creating the missing parents of ``paths`` world-traversable (0755): as
    root bubblewrap would otherwise copy modes like /root's 0700 and lock nobody out."""
    cmd, made = [], {"/"}
    for p in paths:
        parents = list(Path(p).parents)[::-1][1:]  # without "/"
        for d in parents:
            if str(d) not in made:
                made.add(str(d))
                cmd += ["--perms", "0755", "--dir", str(d)]
    return cmd


def _bwrap_command(workdir: str, limits: Limits, as_root: bool) -> list[str]:
    cmd = [BWRAP]
    if as_root:
        # no user namespace (its user would be root outside); the worker drops to nobody
        cmd += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        cmd += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-all", "--unshare-user", "--uid", str(SANDBOX_IDS[0])]
        cmd += ["--gid", str(SANDBOX_IDS[1]), "--cap-drop", "ALL"]
    cmd += ["--die-with-parent", "--new-session"]
    for d in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.lexists(d):
            if os.path.islink(d):  # merged /usr: /bin -> usr/bin
                cmd += ["--symlink", os.readlink(d), d]
            else:
                cmd += ["--ro-bind", d, d]
    cmd += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        p = os.path.join("/etc", name)
        if os.path.exists(p):
            cmd += ["--ro-bind", p, p]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    # the private /tmp comes before the Python binds: the environment may live under /tmp
    # (a fresh clone in CI), and a later tmpfs would hide it
    cmd += ["--perms", "1777", "--size", str(limits.tmpfs_bytes), "--tmpfs", "/tmp"]
    pythons = _python_paths()
    cmd += _mkdirs(pythons)
    for p in pythons:
        cmd += ["--ro-bind", p, p]
    for p in _hidden_packages(pythons):
        cmd += ["--perms", "0000", "--tmpfs", p]
    cmd += ["--ro-bind", workdir, "/worker", "--chdir", "/tmp"]
    return cmd


def _rlimits(limits: Limits) -> list[tuple[str, int]]:
    """The per-process limits of every worker, cold or warm: (resource.RLIMIT_* name, value)."""
    return [
        ("RLIMIT_AS", limits.memory_bytes),
        ("RLIMIT_CPU", limits.cpu_seconds),
        ("RLIMIT_FSIZE", limits.file_bytes),
        ("RLIMIT_NOFILE", limits.open_files),
        ("RLIMIT_CORE", 0),
    ]


def _worker_env() -> dict[str, str]:
    """The environment of every worker (and zygote)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "NBGRADER_EXECUTION": "autograde",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


class SandboxedWorker:
    """One worker process; ``request`` sends a message and waits (with a deadline) for the reply."""

    def __init__(self, limits: Limits | None = None, use_bwrap: bool | None = None):
        self.limits = limits or Limits()
        self.use_bwrap = _use_bwrap(use_bwrap)
        self.proc: subprocess.Popen | None = None
        self.workdir: str | None = None
        self.cgroups: list[str] = []
        self.deaths = 0
        self.sent = (
            0  # the id of the last request (random: a reply for a future one cannot be forged)
        )
        self.baseline: int | None = None  # processes of the worker after its first reply

    # -- lifecycle
    def start(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="grader-worker-")
        os.chmod(self.workdir, 0o755)
        target = Path(self.workdir) / "worker.py"
        target.write_text(Path(worker_module.__file__).read_text())
        target.chmod(0o644)
        as_root = os.getuid() == 0
        env = _worker_env()
        if self.use_bwrap:
            drop = SANDBOX_IDS if as_root else None  # the worker drops to nobody itself
            cmd = _bwrap_command(self.workdir, self.limits, as_root)
            cmd += [sys.executable, "-I", "/worker/worker.py"]
            ids, cwd = None, "/"
        else:
            ids = _fallback_ids()  # dropped to before exec
            drop, cwd = None, self.workdir
            home = Path(self.workdir) / "home"  # a private HOME and TMPDIR
            home.mkdir(mode=0o700)
            if ids is not None:
                os.chown(home, *ids)
            env["HOME"] = env["TMPDIR"] = env["MPLCONFIGDIR"] = str(home)
            cmd = [sys.executable, "-I", str(target)]
        if drop is not None:
            cmd += ["--uid", str(drop[0]), "--gid", str(drop[1])]
        limits = self.limits
        self.cgroups = _make_cgroups(limits)
        procs_files = [os.path.join(c, "cgroup.procs") for c in self.cgroups]
        has_pids_cgroup = any("/pids/" in c for c in self.cgroups)
        cut_network = not self.use_bwrap and as_root

        def before_exec():  # runs in the child, before bwrap/python starts
            os.setsid()
            _set_parent_death_signal()
            for procs in procs_files:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            lim = _rlimits(limits)
            if not has_pids_cgroup:  # a per-user limit: the fallback when cgroups are missing
                lim.append(("RLIMIT_NPROC", limits.processes))
            for which, value in lim:
                resource.setrlimit(getattr(resource, which), (value, value))
            if cut_network:
                _LIBC.unshare(_CLONE_NEWNET)  # best effort: no network for the worker
            if ids is not None:
                _drop_to(ids)

        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            preexec_fn=before_exec,
        )
        os.set_blocking(self.proc.stdin.fileno(), False)  # see _write_all

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            for c in self.cgroups:  # processes that left the group (setsid, double fork)
                _kill_cgroup(c)
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        for c in self.cgroups:
            _remove_cgroup(c)
        self.cgroups = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- requests
    def _pids_cgroup(self) -> str | None:
        return next((c for c in self.cgroups if "/pids/" in c), None)

    def _at_process_limit(self) -> bool:
        """Whether the worker's processes fill its pids cgroup (what a fork bomb does)."""
        c = self._pids_cgroup()
        if c is None:
            return False
        try:
            with open(os.path.join(c, "pids.current")) as f:
                current = int(f.read())
            with open(os.path.join(c, "pids.max")) as f:
                limit = int(f.read())
        except (OSError, ValueError):
            return False
        return current >= limit - 2

    def _write_all(self, data: bytes, deadline: float) -> None:
        """Write a request, but never wait past the deadline for a worker that does not read."""
        fd, view = self.proc.stdin.fileno(), memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [fd], [], left)
            if not ready:
                raise TimeoutError
            try:
                n = os.write(fd, view[: 1 << 16])  # the descriptor is non-blocking
            except BlockingIOError:
                continue
            view = view[n:]

    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks, got, full = [], 0, 0
        fd = self.proc.stdout.fileno()
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if not ready:
                full = full + 1 if self._at_process_limit() else 0
                if full >= 5:  # a second at the limit: no honest notebook does that
                    raise _ProcessLimit
                continue
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _processes(self) -> int | None:
        """How many processes the worker has (from its pids cgroup), or None without one."""
        c = self._pids_cgroup()
        if c is None:
            return None
        try:
            with open(os.path.join(c, "cgroup.procs")) as f:
                return len(f.read().split())
        except OSError:
            return None

    def request(self, message: dict, timeout: float | None = None) -> dict:
        """Send one request; return the reply (a dict with a bool ``ok``) or raise WorkerDied.

        Whatever the worker sends is untrusted: anything but a well-formed reply within the
        deadline and the size limit ends the worker. Replies that do not carry this request's
        id (written by the student's code, or by a forked copy of the worker) are skipped, and a
        worker that has more processes after a request than after its first one (a fork bomb, a
        child left running) is ended.
        """
        if self.proc is None:
            raise WorkerDied("the worker is not running")
        self.sent = secrets.randbits(62)
        data = json.dumps({**message, "id": self.sent}).encode()
        timeout = self.limits.call_seconds if timeout is None else timeout
        try:
            deadline = time.monotonic() + timeout
            self._write_all(struct.pack(">I", len(data)) + data, deadline)
            for _ in range(1000):
                (size,) = struct.unpack(">I", self._read_exact(4, deadline))
                if size > self.limits.max_reply_bytes:
                    raise OverflowError
                raw = self._read_exact(size, deadline)
                if raw.count(b'"__handle__"') > self.limits.max_reply_objects:
                    raise _TooManyObjects
                reply = json.loads(raw.decode())
                if type(reply) is not dict or type(reply.get("ok")) is not bool:
                    raise ValueError("malformed reply")
                if reply.get("id") == self.sent:
                    break
            else:
                raise ValueError("too many replies")
            n = self._processes()
            if self.baseline is None:
                self.baseline = n
            elif n is not None and n > self.baseline:
                self._died()
                raise WorkerDied(
                    f"your code left {n - self.baseline} more process(es) running (fork); "
                    "the worker was stopped"
                )
        except WorkerDied:
            raise
        except _ProcessLimit:
            self._died()
            raise WorkerDied(
                f"your code started processes up to the limit ({self.limits.processes}; a fork "
                "bomb?); the worker was stopped"
            ) from None
        except TimeoutError:
            self._died()
            raise WorkerDied(
                f"no answer within {timeout:g} s (an infinite loop, or far too slow); "
                "the worker was stopped"
            ) from None
        except _TooManyObjects:
            self._died()
            raise WorkerDied(
                f"the reply held more than {self.limits.max_reply_objects} objects that are not "
                "arrays or numbers; return arrays, numbers, tuples and dicts of them; the worker "
                "was stopped"
            ) from None
        except OverflowError:
            self._died()
            raise WorkerDied(
                "the reply was larger than the limit; the worker was stopped"
            ) from None
        except (EOFError, OSError):
            code = self.proc.poll() if self.proc else None
            if code is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = self.proc.wait(0.5)
            self._died()
            raise WorkerDied(_death_reason(code)) from None
        except Exception:  # bad JSON, deep nesting, bad UTF-8: the protocol was broken
            self._died()
            raise WorkerDied(
                "the worker sent something that is not a reply (did your code write to the "
                "grading channel?); the worker was stopped"
            ) from None
        return reply

    def _died(self) -> None:
        self.deaths += 1
        self.stop()


# --------------------------------------------------------------------------- warm workers
# change user; namespaces and mounts; bring up the loopback of each child's network namespace
ZYGOTE_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN", "CAP_NET_ADMIN")


def warm_possible(use_bwrap: bool | None = None) -> bool:
    """Whether warm workers can be used here: bubblewrap, root, writable cgroups (the grading
    process must be able to put each child into cgroups of its own and kill it through them),
    and not switched off with ``GRADER_WARM=0``."""
    if os.environ.get("GRADER_WARM", "1") == "0":
        return False
    if not _use_bwrap(use_bwrap) or os.getuid() != 0:
        return False
    return all(os.access(os.path.join(CGROUP_V1, c), os.W_OK) for c in ("pids", "memory", "cpu"))


def _ns_pid(host_pid: int) -> int | None:
    """The innermost PID of a process (its PID inside the sandbox), from /proc."""
    try:
        with open(f"/proc/{host_pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


class Zygote:
    """A sandbox that has imported the heavy libraries once and forks a worker per submission.

    It runs ``worker.py --zygote`` in bubblewrap like a cold worker, but as root inside with the
    capabilities in ZYGOTE_CAPS, and never runs student code; every child it forks isolates
    itself (new mount, PID, network and IPC namespaces, its own /tmp and /proc, rlimits) and
    becomes nobody before it reads a request (see ``worker.zygote_main``). One zygote serves
    one grading process, one submission at a time.
    """

    def __init__(self, preload: tuple[str, ...], limits: Limits | None = None):
        self.preload = preload
        self.limits = limits or Limits()
        self.proc: subprocess.Popen | None = None
        self.control = None
        self.cgroup: str | None = None
        self.workdir: str | None = None
        self.exits: dict[int, int] = {}

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 120.0) -> None:
        import socket

        self.workdir = tempfile.mkdtemp(prefix="grader-zygote-")
        os.chmod(self.workdir, 0o755)
        target = Path(self.workdir) / "worker.py"
        target.write_text(Path(worker_module.__file__).read_text())
        target.chmod(0o644)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = _bwrap_command(self.workdir, self.limits, as_root=True)
        for cap in ZYGOTE_CAPS[2:]:
            cmd[cmd.index("--cap-drop") + 2 : cmd.index("--cap-drop") + 2] = ["--cap-add", cap]
        cmd += [sys.executable, "-I", "/worker/worker.py", "--zygote"]
        cmd += ["--uid", str(SANDBOX_IDS[0]), "--gid", str(SANDBOX_IDS[1])]
        cmd += ["--preload", ",".join(self.preload)]
        # the Python environment may lie under /tmp (a clone in CI): each child keeps it visible
        # when it mounts its own /tmp
        cmd += ["--keep", ",".join(_python_paths())]
        # a pids cgroup of its own, only to find the zygote's children by their host PIDs
        name = f"{_CGROUP_PREFIX}{os.getpid()}-zygote-{time.monotonic_ns()}"
        self.cgroup = os.path.join(CGROUP_V1, "pids", name)
        os.mkdir(self.cgroup)
        procs = os.path.join(self.cgroup, "cgroup.procs")

        def before_exec():
            os.setsid()
            _set_parent_death_signal()
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        self.proc = subprocess.Popen(
            cmd,
            stdin=theirs.fileno(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_worker_env(),
            cwd="/",
            preexec_fn=before_exec,
        )
        theirs.close()
        self.control = ours
        reply = self._receive(lambda m: "ready" in m, timeout)
        if reply is None:
            self.stop()
            raise WorkerDied("the warm worker did not start")

    def _receive(self, want, timeout: float) -> dict | None:
        """Read control messages until one satisfies ``want`` (exit notes are recorded)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.alive():
                return None
            ready, _, _ = select.select([self.control], [], [], min(left, 0.2))
            if not ready:
                continue
            data = self.control.recv(1 << 16)
            if not data:
                return None
            message = json.loads(data.decode())
            if "exit" in message:
                self.exits[int(message["exit"])] = int(message["code"])
            if want(message):
                return message

    def poll_exit(self, ns_pid: int) -> int | None:
        """The exit code of a child, if the zygote has announced it."""
        if ns_pid not in self.exits and self.alive():
            self._receive(lambda m: m.get("exit") == ns_pid, 0.01)
        return self.exits.get(ns_pid)

    def spawn(self, request_fd: int, reply_fd: int) -> tuple[int, int]:
        """Fork a child that will read requests on ``request_fd`` and reply on ``reply_fd``;
        return its (host PID, PID in the sandbox)."""
        import socket

        tag = secrets.randbits(62)
        socket.send_fds(
            self.control, [json.dumps({"op": "spawn", "id": tag}).encode()], [request_fd, reply_fd]
        )
        reply = self._receive(lambda m: m.get("id") == tag, 10.0)
        if reply is None:
            raise WorkerDied("the warm worker did not fork a child")
        ns_pid = int(reply["spawned"])
        self.exits.pop(ns_pid, None)  # an earlier child's exit under a reused PID
        with open(os.path.join(self.cgroup, "cgroup.procs")) as f:
            pids = [int(x) for x in f.read().split()]
        for host in pids:
            if _ns_pid(host) == ns_pid:
                return host, ns_pid
        raise WorkerDied("the warm worker's child could not be found")

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            if self.cgroup:
                _kill_cgroup(self.cgroup)
            self.proc.wait()
            self.proc = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.cgroup:
            _remove_cgroup(self.cgroup)
            self.cgroup = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


_ZYGOTES: dict[tuple[str, ...], Zygote] = {}


def zygote_for(preload: tuple[str, ...]) -> Zygote:
    """This process's zygote for ``preload`` (started, or restarted if it died)."""
    z = _ZYGOTES.get(preload)
    if z is None or not z.alive():
        if z is not None:
            z.stop()
        z = _ZYGOTES[preload] = Zygote(preload)
        z.start()
    return z


def stop_zygotes() -> None:
    for z in _ZYGOTES.values():
        z.stop()
    _ZYGOTES.clear()


atexit.register(stop_zygotes)


class _ChildProcess:
    """What SandboxedWorker needs of a process, for a child of the zygote (not our child)."""

    def __init__(self, zygote: Zygote, host_pid: int, ns_pid: int, stdin, stdout):
        self.zygote, self.pid, self.ns_pid = zygote, host_pid, ns_pid
        self.stdin, self.stdout = stdin, stdout

    def poll(self) -> int | None:
        return self.zygote.poll_exit(self.ns_pid)

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (5.0 if timeout is None else timeout)
        while time.monotonic() < deadline:
            code = self.poll()
            if code is not None:
                return code
            time.sleep(0.01)
        raise subprocess.TimeoutExpired("zygote child", timeout)


class WarmWorker(SandboxedWorker):
    """A worker forked by the zygote: the same requests, limits and isolation as a cold one."""

    def __init__(self, preload: tuple[str, ...], limits: Limits | None = None):
        super().__init__(limits, use_bwrap=True)
        self.preload = preload

    def start(self) -> None:
        zygote = zygote_for(self.preload)
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        try:
            host_pid, ns_pid = zygote.spawn(request_r, reply_w)
        finally:
            os.close(request_r)
            os.close(reply_w)
        self.cgroups = _make_cgroups(self.limits)
        for c in self.cgroups:  # before the child does anything: it waits for "go"
            with open(os.path.join(c, "cgroup.procs"), "w") as f:
                f.write(str(host_pid))
        self.proc = _ChildProcess(
            zygote, host_pid, ns_pid, os.fdopen(request_w, "wb"), os.fdopen(reply_r, "rb")
        )
        os.set_blocking(request_w, False)  # see _write_all
        go = {"op": "go", "rlimits": _rlimits(self.limits), "tmpfs": self.limits.tmpfs_bytes}
        reply = self.request(go, timeout=30.0)
        if not reply["ok"]:
            self.stop()
            raise WorkerDied(f"the warm worker could not isolate itself: {reply.get('error')}")

    def stop(self) -> None:
        if self.proc is not None:
            for c in self.cgroups:
                _kill_cgroup(c)
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
        for c in self.cgroups:
            _remove_cgroup(c)
        self.cgroups = []


def _death_reason(code: int | None) -> str:
    if code is None:
        return "the worker stopped answering"
    if code < 0 or code > 128:  # killed directly, or bubblewrap reporting 128 + signal
        try:
            sig = signal.Signals(-code if code < 0 else code - 128).name
        except ValueError:
            sig = f"signal {abs(code)}"
        hint = {
            "SIGKILL": " (killed: memory or process limit, the CPU-time limit, or your code)",
            "SIGXCPU": " (CPU-time limit)",
            "SIGXFSZ": " (file-size limit)",
            "SIGSEGV": " (crash)",
        }.get(sig, "")
        return f"the worker was ended by {sig}{hint}"
    return f"the worker exited with code {code} (sys.exit/os._exit or a crash in your code)"


__all__ = [
    "Limits",
    "SandboxedWorker",
    "WarmWorker",
    "warm_possible",
    "WorkerDied",
    "RemoteError",
    "isolation_note",
]
