"""Warm workers: a zygote sandbox that has imported the heavy libraries forks one per submission.

The zygote (autograder/inside/zygote.py) runs in bubblewrap like a cold worker, but as root inside
with the capabilities in ZYGOTE_CAPS, and never runs student code; every child isolates itself
(new namespaces, its own /tmp and /proc, rlimits) and becomes nobody before it reads a request.
Here, the grading process puts each child into cgroups of its own before it goes on, and kills it
through them. One zygote per grading process and list of preloaded modules.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import subprocess
import time

from autograder import cgroups
from autograder.cgroups import CGROUP_PREFIX, CGROUP_V1, kill_cgroup, make_cgroups, remove_cgroup
from autograder.config import Limits
from autograder.isolation import (
    SANDBOX_IDS,
    WORKER_DIR,
    bwrap_command,
    bwrap_in_use,
    install_worker,
    python_paths,
    rlimits,
    set_parent_death_signal,
    user_namespaces_work,
    worker_command,
    worker_env,
)
from autograder.sandbox import SandboxedWorker, WorkerDied

# change user; namespaces and mounts; bring up the loopback of each child's network namespace
ZYGOTE_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN", "CAP_NET_ADMIN")
# a plain user's zygote also maps its root into each child's user namespace, which the kernel
# allows only with CAP_SETFCAP (in the zygote's own namespace; the children drop everything)
USERNS_ZYGOTE_CAPS = (*ZYGOTE_CAPS, "CAP_SETFCAP")


def warm_possible(use_bwrap: bool | None = None) -> bool:
    """Whether warm workers can be used here, unless switched off with ``GRADER_WARM=0``: as
    root, with bubblewrap and writable cgroups (the grading process puts each child into
    cgroups of its own and kills it through them); as a plain user, with bubblewrap able to
    make a user namespace (the zygote is root only there; each child is limited by rlimits and
    killed with its PID namespace)."""
    if os.environ.get("GRADER_WARM", "1") == "0":
        return False
    if not bwrap_in_use(use_bwrap):
        return False
    if os.getuid() == 0:
        return cgroups.writable()
    return user_namespaces_work()


def worker_mode(use_bwrap: bool | None = None, cold: bool = False) -> str:
    """One line for the grading output: which workers this process would use."""
    if not cold and warm_possible(use_bwrap):
        if os.getuid() != 0:
            return (
                "workers: warm, in a user namespace (forked from a sandbox that has loaded the "
                "libraries; each in its own namespaces, /tmp and rlimits, as nobody inside)"
            )
        return (
            "workers: warm (forked from a sandbox that has loaded the libraries; each in its own "
            "namespaces, /tmp, cgroups and limits, as user nobody)"
        )
    why = (
        "--cold"
        if cold
        else "warm workers need bubblewrap, and root with writable cgroups or user namespaces"
    )
    return f"workers: cold (a new sandbox per submission; {why})"


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from the parent PIDs in /proc (without a cgroup to ask)."""
    children: dict[int, list[int]] = {}
    for stat in os.scandir("/proc"):
        if not stat.name.isdigit():
            continue
        try:
            with open(f"/proc/{stat.name}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


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

    It runs ``inside/__main__.py --zygote`` in bubblewrap like a cold worker, but as root
    inside with the capabilities in ZYGOTE_CAPS, and never runs student code; every child it
    forks isolates itself (new mount, PID, network and IPC namespaces, its own /tmp and /proc,
    rlimits) and becomes nobody before it reads a request (see ``inside.zygote``). One zygote
    serves one grading process, one submission at a time.
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
        self.workdir = install_worker("grader-zygote-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        as_root = os.getuid() == 0
        cmd = bwrap_command(self.workdir, self.limits, as_root=as_root, root_inside=not as_root)
        for cap in ZYGOTE_CAPS[2:] if as_root else USERNS_ZYGOTE_CAPS:
            cmd[cmd.index("--cap-drop") + 2 : cmd.index("--cap-drop") + 2] = ["--cap-add", cap]
        cmd += [*worker_command(WORKER_DIR), "--zygote"]
        cmd += ["--uid", str(SANDBOX_IDS[0]), "--gid", str(SANDBOX_IDS[1])]
        cmd += ["--preload", ",".join(self.preload)]
        if not as_root:
            cmd += ["--userns"]
        # the Python environment may lie under /tmp (a clone in CI): each child keeps it visible
        # when it mounts its own /tmp
        cmd += ["--keep", ",".join(python_paths())]
        procs = None
        if as_root:  # a pids cgroup of its own, only to find the zygote's children's host PIDs
            name = f"{CGROUP_PREFIX}{os.getpid()}-zygote-{time.monotonic_ns()}"
            self.cgroup = os.path.join(CGROUP_V1, "pids", name)
            os.mkdir(self.cgroup)
            procs = os.path.join(self.cgroup, "cgroup.procs")

        def before_exec():
            os.setsid()
            set_parent_death_signal()
            if procs is not None:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        self.proc = subprocess.Popen(
            cmd,
            stdin=theirs.fileno(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=worker_env(),
            cwd="/",
            preexec_fn=before_exec,
        )
        theirs.close()
        self.control = ours
        reply = self._receive(lambda m: "ready" in m, timeout)
        # its code is loaded (the children it forks read nothing more from it): the folder goes
        # now, so that not even a killed grading process leaves it behind
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None
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
        tag = secrets.randbits(62)
        socket.send_fds(
            self.control, [json.dumps({"op": "spawn", "id": tag}).encode()], [request_fd, reply_fd]
        )
        reply = self._receive(lambda m: m.get("id") == tag, 10.0)
        if reply is None:
            raise WorkerDied("the warm worker did not fork a child")
        ns_pid = int(reply["spawned"])
        self.exits.pop(ns_pid, None)  # an earlier child's exit under a reused PID
        if self.cgroup:
            with open(os.path.join(self.cgroup, "cgroup.procs")) as f:
                pids = [int(x) for x in f.read().split()]
        else:
            pids = sorted(_descendants(self.proc.pid))
        for host in pids:
            if _ns_pid(host) == ns_pid:
                return host, ns_pid
        raise WorkerDied("the warm worker's child could not be found")

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            if self.cgroup:
                kill_cgroup(self.cgroup)
            self.proc.wait()
            self.proc = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.cgroup:
            remove_cgroup(self.cgroup)
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
        try:  # one child, to learn now (not per submission) whether children can isolate
            probe = WarmWorker(preload)
            probe.start()
            probe.stop()
        except (OSError, WorkerDied) as e:
            z.stop()
            del _ZYGOTES[preload]
            raise WorkerDied(f"the warm worker's children cannot isolate themselves: {e}") from e
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
        self.cgroups = make_cgroups(self.limits)
        for c in self.cgroups:  # before the child does anything: it waits for "go"
            with open(os.path.join(c, "cgroup.procs"), "w") as f:
                f.write(str(host_pid))
        self.proc = _ChildProcess(
            zygote, host_pid, ns_pid, os.fdopen(request_w, "wb"), os.fdopen(reply_r, "rb")
        )
        os.set_blocking(request_w, False)  # see _write_all
        limits = rlimits(self.limits)
        if not any("/pids/" in c for c in self.cgroups):  # counted in the child's namespace
            limits.append(("RLIMIT_NPROC", self.limits.processes))
        go = {"op": "go", "rlimits": limits, "tmpfs": self.limits.tmpfs_bytes}
        reply = self.request(go, timeout=30.0)
        if not reply["ok"]:
            self.stop()
            raise WorkerDied(f"the warm worker could not isolate itself: {reply.get('error')}")

    def stop(self) -> None:
        if self.proc is not None:
            for c in self.cgroups:
                kill_cgroup(c)
            if not self.cgroups:  # its init dies with it, and the kernel ends the namespace
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(5.0)  # until the zygote has seen it end
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
        for c in self.cgroups:
            remove_cgroup(c)
        self.cgroups = []
