"""Start and talk to a sandboxed worker (see autograder/worker.py for the protocol).

Isolation, outermost first:
1. bubblewrap (Debian package ``bubblewrap``): new user, PID, network, IPC, UTS and cgroup
   namespaces (so no network at all); a file system made only of the system directories, the
   Python installation and a private tmpfs; the repository, the hidden suites, the reference
   solutions, other submissions and the gradebook are simply not there.
2. An unprivileged user (``nobody``) and resource limits set before bubblewrap starts: address
   space, CPU seconds, number of processes, file size, open files, no core dumps.
3. A wall-clock limit on every request, enforced here: a worker that does not answer in time is
   killed with its whole process group.
Where bubblewrap is missing the worker runs with 2 and 3 only, and :func:`isolation_note` says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import resource
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
    """Resource limits for one worker (each field is per worker process)."""

    memory_bytes: int = 3 << 30  # address space: torch alone maps about 1 GB
    cpu_seconds: int = 120  # total CPU time of the worker
    processes: int = 512  # processes+threads of the sandbox user, all workers together
    file_bytes: int = 16 << 20  # largest file the student may write (on the private tmpfs)
    open_files: int = 256
    call_seconds: float = 20.0  # wall time for one request (a cell, or one call)
    tmpfs_bytes: int = 64 << 20  # size of the private /tmp
    max_reply_bytes: int = 64 << 20  # a larger reply is refused and the worker killed


BWRAP = shutil.which("bwrap")


def isolation_note() -> str:
    """One line for the top of the grading output: which isolation is in force."""
    if BWRAP:
        return "sandbox: bubblewrap (no network, private file system) + resource limits"
    return (
        "WARNING: bubblewrap is not installed (apt-get install bubblewrap): student code runs "
        "WITHOUT file-system and network isolation, only as an unprivileged process with "
        "resource limits. Install bubblewrap before grading real submissions."
    )


class WorkerDied(Exception):
    """The worker ended or was killed (time, memory, os._exit, signal)."""


class RemoteError(Exception):
    """An exception raised by student code in the worker (type name and message)."""


PIDS_CGROUP = "/sys/fs/cgroup/pids"  # cgroup v1 pids controller (cgroup v2: /sys/fs/cgroup)


def _make_cgroup(limits: Limits) -> str | None:
    """A fresh pids cgroup capped at ``limits.processes``, or None where cgroups are not
    writable (then RLIMIT_NPROC is the fallback)."""
    for root, name in ((PIDS_CGROUP, "pids.max"), ("/sys/fs/cgroup", "pids.max")):
        if not os.path.isdir(root) or not os.access(root, os.W_OK):
            continue
        path = os.path.join(root, f"grader-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, name), "w") as f:
                f.write(str(limits.processes))
            return path
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(path)
    return None


def _remove_cgroup(path: str) -> None:
    for _ in range(50):  # the kernel needs a moment to reap the killed processes
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _sandbox_uid() -> tuple[int, int] | None:
    if os.getuid() != 0:
        return None  # not root: already unprivileged
    try:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


def _python_paths() -> list[str]:
    """Directories the worker's Python needs: the environment and the installation it uses."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    paths.add(Path(os.path.realpath(sys.executable)).parent.parent)
    return sorted(str(p) for p in paths)


def _bwrap_command(workdir: str, limits: Limits) -> list[str]:
    # --unshare-user with --uid: inside, the worker is an ordinary user with no capabilities
    cmd = [BWRAP, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534"]
    cmd += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for d in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/etc"):
        if os.path.exists(d):
            cmd += ["--ro-bind", d, d]
    for p in _python_paths():
        cmd += ["--ro-bind", p, p]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    cmd += ["--size", str(limits.tmpfs_bytes), "--tmpfs", "/tmp"]
    cmd += ["--ro-bind", workdir, "/worker", "--chdir", "/tmp"]
    return cmd


class SandboxedWorker:
    """One worker process; ``request`` sends a message and waits (with a deadline) for the reply."""

    def __init__(self, limits: Limits | None = None, use_bwrap: bool | None = None):
        self.limits = limits or Limits()
        self.use_bwrap = bool(BWRAP) if use_bwrap is None else use_bwrap
        self.proc: subprocess.Popen | None = None
        self.workdir: str | None = None
        self.deaths = 0

    # -- lifecycle
    def start(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="grader-worker-")
        os.chmod(self.workdir, 0o755)
        target = Path(self.workdir) / "worker.py"
        target.write_text(Path(worker_module.__file__).read_text())
        target.chmod(0o644)
        if self.use_bwrap:
            cmd = _bwrap_command(self.workdir, self.limits) + [
                sys.executable,
                "-I",
                "/worker/worker.py",
            ]
        else:
            cmd = [sys.executable, "-I", str(target)]
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "NBGRADER_EXECUTION": "autograde",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        limits = self.limits
        self.cgroup = _make_cgroup(limits)
        procs_file = None if self.cgroup is None else os.path.join(self.cgroup, "cgroup.procs")
        # Without bubblewrap, drop to nobody where that user can still run this Python.
        ids = None if self.use_bwrap else _sandbox_uid()

        def before_exec():  # runs in the child, before bwrap/python starts
            os.setsid()
            if procs_file is not None:
                with open(procs_file, "w") as f:
                    f.write(str(os.getpid()))
            lim = [
                (resource.RLIMIT_AS, limits.memory_bytes),
                (resource.RLIMIT_CPU, limits.cpu_seconds),
                (resource.RLIMIT_FSIZE, limits.file_bytes),
                (resource.RLIMIT_NOFILE, limits.open_files),
                (resource.RLIMIT_CORE, 0),
                (resource.RLIMIT_NPROC, limits.processes),
            ]
            for which, value in lim:
                if which == resource.RLIMIT_NPROC and procs_file is not None:
                    continue  # the cgroup counts this worker's processes only
                resource.setrlimit(which, (value, value))
            if ids is not None:
                os.setgroups([])
                os.setgid(ids[1])
                os.setuid(ids[0])

        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/" if self.use_bwrap else self.workdir,
            preexec_fn=before_exec,
        )

    def stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        if getattr(self, "cgroup", None):
            _remove_cgroup(self.cgroup)
            self.cgroup = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- requests
    def _read_exact(self, n: int, deadline: float) -> bytes:
        out = b""
        fd = self.proc.stdout.fileno()
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(n - len(out), 1 << 20))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def request(self, message: dict, timeout: float | None = None) -> dict:
        """Send one request; return the decoded reply or raise WorkerDied."""
        if self.proc is None:
            raise WorkerDied("the worker is not running")
        data = json.dumps(message).encode()
        timeout = self.limits.call_seconds if timeout is None else timeout
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)
            self.proc.stdin.flush()
            deadline = time.monotonic() + timeout
            (size,) = struct.unpack(">I", self._read_exact(4, deadline))
            if size > self.limits.max_reply_bytes:
                raise OverflowError
            reply = json.loads(self._read_exact(size, deadline).decode())
        except TimeoutError:
            self._died()
            raise WorkerDied(
                f"no answer within {timeout:g} s (an infinite loop, or far too slow); "
                "the worker was stopped"
            ) from None
        except OverflowError:
            self._died()
            raise WorkerDied(
                "the reply was larger than the limit; the worker was stopped"
            ) from None
        except (EOFError, BrokenPipeError, ValueError, struct.error):
            code = self.proc.poll() if self.proc else None
            self._died()
            raise WorkerDied(_death_reason(code)) from None
        return reply

    def _died(self) -> None:
        self.deaths += 1
        self.stop()


def _death_reason(code: int | None) -> str:
    if code is None:
        return "the worker stopped answering"
    if code < 0 or code > 128:  # killed directly, or bubblewrap reporting 128 + signal
        try:
            sig = signal.Signals(-code if code < 0 else code - 128).name
        except ValueError:
            sig = f"signal {abs(code)}"
        hint = {
            "SIGKILL": " (killed: memory or process limit, or the CPU-time limit)",
            "SIGXCPU": " (CPU-time limit)",
            "SIGXFSZ": " (file-size limit)",
            "SIGSEGV": " (crash)",
        }.get(sig, "")
        return f"the worker was ended by {sig}{hint}"
    return f"the worker exited with code {code} (os._exit or a crash in your code)"


__all__ = ["Limits", "SandboxedWorker", "WorkerDied", "RemoteError", "isolation_note"]
