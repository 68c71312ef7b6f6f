"""Start and talk to a cold sandboxed worker (what runs inside is autograder/inside/).

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
Python, otherwise as the current user, without network when the kernel allows).
autograder/isolation.py builds these layers and says which is in force (``isolation_note``);
warm workers (forked from a zygote) are in autograder/warm.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

from autograder.cgroups import kill_cgroup, make_cgroups, remove_cgroup
from autograder.config import Limits
from autograder.inside.channel import HEADER, frame
from autograder.inside.privileges import drop_to
from autograder.isolation import (
    SANDBOX_IDS,
    WORKER_DIR,
    bwrap_command,
    bwrap_in_use,
    fallback_ids,
    install_worker,
    leave_network,
    rlimits,
    set_parent_death_signal,
    worker_command,
    worker_env,
)


class WorkerDied(Exception):
    """The worker ended or was killed (time, memory, os._exit, signal), or broke the protocol.

    ``cause`` says how, for messages about a cell ("timeout", "exit", "signal", "fork", or ""
    for the rest) and ``detail`` gives the number that goes with it (seconds, exit code,
    signal name).
    """

    def __init__(self, message: str, cause: str = "", detail=None):
        super().__init__(message)
        self.cause, self.detail = cause, detail


class RemoteError(Exception):
    """An exception raised by student code in the worker (type name and message)."""


class _TooManyObjects(Exception):
    """A reply holds more opaque objects than any honest answer (a memory attack on us)."""


class _ProcessLimit(Exception):
    """The worker's processes have filled its pids cgroup for a while, or outlive a request."""


class SandboxedWorker:
    """One worker process; ``request`` sends a message and waits (with a deadline) for the reply."""

    def __init__(self, limits: Limits | None = None, use_bwrap: bool | None = None):
        self.limits = limits or Limits()
        self.use_bwrap = bwrap_in_use(use_bwrap)
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
        self.workdir = install_worker("grader-worker-")
        as_root = os.getuid() == 0
        env = worker_env()
        if self.use_bwrap:
            drop = SANDBOX_IDS if as_root else None  # the worker drops to nobody itself
            cmd = bwrap_command(self.workdir, self.limits, as_root)
            cmd += worker_command(WORKER_DIR)
            ids, cwd = None, "/"
        else:
            ids = fallback_ids()  # dropped to before exec
            drop, cwd = None, self.workdir
            home = Path(self.workdir) / "home"  # a private HOME and TMPDIR
            home.mkdir(mode=0o700)
            if ids is not None:
                os.chown(home, *ids)
            env["HOME"] = env["TMPDIR"] = env["MPLCONFIGDIR"] = str(home)
            cmd = worker_command(self.workdir)
        if drop is not None:
            cmd += ["--uid", str(drop[0]), "--gid", str(drop[1])]
        limits = self.limits
        self.cgroups = make_cgroups(limits)
        procs_files = [os.path.join(c, "cgroup.procs") for c in self.cgroups]
        has_pids_cgroup = any("/pids/" in c for c in self.cgroups)
        # Without a pids cgroup, RLIMIT_NPROC bounds the worker's processes. It counts every
        # process of the user at each user-namespace level: set on bubblewrap by a plain user,
        # it would count all of that user's processes (a browser has hundreds) and could stop
        # the sandbox from starting; set by the worker inside its own user namespace, it counts
        # the sandbox's processes only.
        nproc_inside = not has_pids_cgroup and self.use_bwrap and not as_root
        if nproc_inside:
            cmd += ["--nproc", str(limits.processes)]
        cut_network = not self.use_bwrap and as_root

        def before_exec():  # runs in the child, before bwrap/python starts
            os.setsid()
            set_parent_death_signal()
            for procs in procs_files:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            lim = rlimits(limits)
            if not has_pids_cgroup and not nproc_inside:  # per user: the fallback without cgroups
                lim.append(("RLIMIT_NPROC", limits.processes))
            for which, value in lim:
                resource.setrlimit(getattr(resource, which), (value, value))
            if cut_network:
                leave_network()  # best effort: no network for the worker
            if ids is not None:
                drop_to(*ids)

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
                kill_cgroup(c)
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        for c in self.cgroups:
            remove_cgroup(c)
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
        timeout = self.limits.call_seconds if timeout is None else timeout
        try:
            deadline = time.monotonic() + timeout
            self._write_all(frame({**message, "id": self.sent}), deadline)
            for _ in range(1000):
                (size,) = HEADER.unpack(self._read_exact(HEADER.size, deadline))
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
            if self.baseline is None:
                self.baseline = self._processes()
            elif self._forked():
                raise _ProcessLimit
        except WorkerDied:
            raise
        except _ProcessLimit:
            self._died()
            raise self._fork_death() from None
        except TimeoutError:
            forked = self._forked()  # a fork bomb may be slow to fill the limit: the same end
            self._died()
            if forked:
                raise self._fork_death() from None
            raise WorkerDied(
                f"no answer within {timeout:g} s (an infinite loop, or far too slow); "
                "the worker was stopped",
                "timeout",
                timeout,
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
                    code = self.proc.wait(3.0)  # the exit code makes the message
            self._died()
            raise WorkerDied(death_reason(code), *death_cause(code)) from None
        except Exception:  # bad JSON, deep nesting, bad UTF-8: the protocol was broken
            self._died()
            raise WorkerDied(
                "the worker sent something that is not a reply (did your code write to the "
                "grading channel?); the worker was stopped"
            ) from None
        return reply

    def _forked(self) -> bool:
        """Whether the worker has more processes than after its first reply."""
        n = self._processes()
        return self.baseline is not None and n is not None and n > self.baseline

    def _fork_death(self) -> WorkerDied:
        """One message for every way a fork ends a worker: left running, up to the limit, or
        still forking when time ran out (which of these happens first varies from run to run)."""
        return WorkerDied(
            "your code started more processes (fork), which is not allowed; the worker was "
            f"stopped with all of them (at most {self.limits.processes} may run at once)",
            "fork",
        )

    def _died(self) -> None:
        self.deaths += 1
        self.stop()


SIGNAL_HINTS = {  # what usually sends each signal to a worker
    "SIGKILL": "killed: memory or process limit, the CPU-time limit, or your code",
    "SIGXCPU": "CPU-time limit",
    "SIGXFSZ": "file-size limit",
    "SIGSEGV": "crash",
    "SIGBUS": "crash",
    "SIGABRT": "abort",
}


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code if code < 0 else code - 128).name
    except ValueError:
        return f"signal {abs(code)}"


def death_cause(code: int | None) -> tuple[str, object]:
    """(cause, detail) of an ended worker, for :class:`WorkerDied`."""
    if code is None:
        return "", None
    if code < 0 or code > 128:
        return "signal", _signal_name(code)
    return "exit", code


def death_reason(code: int | None) -> str:
    if code is None:
        return "the worker stopped answering"
    if code < 0 or code > 128:  # killed directly, or bubblewrap reporting 128 + signal
        sig = _signal_name(code)
        hint = f" ({SIGNAL_HINTS[sig]})" if sig in SIGNAL_HINTS else ""
        return f"the worker was ended by {sig}{hint}"
    return f"the worker exited with code {code} (sys.exit/os._exit or a crash in your code)"
