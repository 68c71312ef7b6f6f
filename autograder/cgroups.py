"""cgroup v1 groups per worker: limits on its processes, memory and CPU, and how they are killed.

The group is how every process of a worker is found and killed, even ones that left its process
group.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from pathlib import Path

from autograder.config import Limits

CGROUP_V1 = "/sys/fs/cgroup"
CGROUP_PREFIX = "grader-"


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
def sweep_stale_cgroups() -> None:
    """Remove empty cgroups left by grading processes that were killed (their creator is gone)."""
    for controller in ("pids", "memory", "cpu"):
        root = Path(CGROUP_V1, controller)
        with contextlib.suppress(OSError):
            for d in root.glob(CGROUP_PREFIX + "*"):
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


def make_cgroups(limits: Limits) -> list[str]:
    """Fresh v1 cgroups for one worker (those that can be made); [] where none is writable."""
    sweep_stale_cgroups()
    name = f"{CGROUP_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
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


def kill_cgroup(path: str) -> None:
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


def remove_cgroup(path: str) -> None:
    for _ in range(100):  # the kernel needs a moment to reap the killed processes
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            kill_cgroup(path)
            time.sleep(0.02)


def writable() -> bool:
    """Whether this process may make cgroups for every controller a worker uses."""
    return all(os.access(os.path.join(CGROUP_V1, c), os.W_OK) for c in ("pids", "memory", "cpu"))
