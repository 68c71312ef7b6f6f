"""How a worker is isolated: bubblewrap's command line, or the fallback user, limits, environment.

Also the worker's code: a copy of autograder/inside/ in a fresh folder, bound read-only at
WORKER_DIR in the sandbox. See autograder/sandbox.py for the layers of isolation.
"""

from __future__ import annotations

import ctypes
import functools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder import cgroups, inside
from autograder.config import REFERENCE_PACKAGES, Limits
from autograder.inside.privileges import drop_to

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
WORKER_DIR = "/worker"  # where the worker's code is in the sandbox (read-only)


@functools.cache
def user_namespaces_work() -> bool:
    """Whether bubblewrap can make an unprivileged user namespace here (not root): some kernels
    forbid them (kernel.unprivileged_userns_clone=0, AppArmor's restriction on Ubuntu 24.04)."""
    if BWRAP is None:
        return False
    try:
        probe = subprocess.run(
            [BWRAP, "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def bwrap_in_use(use_bwrap: bool | None) -> bool:
    """Whether workers run in bubblewrap: installed and, when not root, able to make a user
    namespace (``use_bwrap=False`` switches it off)."""
    if use_bwrap is False or BWRAP is None:
        return False
    return os.getuid() == 0 or user_namespaces_work()


def isolation_note(use_bwrap: bool | None = None) -> str:
    """One line for the top of the grading output: which isolation is in force."""
    if bwrap_in_use(use_bwrap):
        if os.getuid() == 0:
            return (
                "sandbox: bubblewrap (no network, private file system, user nobody) + resource "
                "limits"
            )
        limits = (
            "cgroups"
            if cgroups.writable()
            else "per-process rlimits only: no cgroups are delegated to this user"
        )
        return (
            "sandbox: bubblewrap in an unprivileged user namespace (no network, private file "
            f"system, user nobody inside) + resource limits ({limits})"
        )
    ids = fallback_ids()
    who = (
        "as user nobody"
        if ids is not None
        else f"as user {pwd.getpwuid(os.getuid()).pw_name} (nobody cannot run this Python)"
    )
    why = (
        "bubblewrap is not installed (apt-get install bubblewrap)"
        if BWRAP is None
        else "bubblewrap cannot make a user namespace here (as root it needs none; otherwise "
        "allow unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1, or an "
        "AppArmor profile for bwrap)"
    )
    return (
        f"WARNING: {why}: student code runs WITHOUT file-system isolation, {who}, isolated only "
        "as a separate process with resource limits. Fix this before grading real submissions."
    )


# --------------------------------------------------------------------------- without bubblewrap
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_CLONE_NEWNET = 0x40000000


def leave_network() -> None:
    """Best effort, in a child before exec: a network namespace of its own, with no network."""
    _LIBC.unshare(_CLONE_NEWNET)


def set_parent_death_signal() -> None:
    """Die with the parent (works in a child after fork, and survives exec)."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@functools.cache
def fallback_ids() -> tuple[int, int] | None:
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
            preexec_fn=lambda: drop_to(*ids),
            capture_output=True,
            timeout=120,
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return ids if probe.returncode == 0 else None


# --------------------------------------------------------------------------- bubblewrap
def python_paths() -> list[str]:
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


def bwrap_command(
    workdir: str, limits: Limits, as_root: bool, root_inside: bool = False
) -> list[str]:
    """bubblewrap's command line; ``root_inside`` (a plain user's zygote): the sandbox user is
    root of the new user namespace (the instructor outside), and the caller adds capabilities
    after ``--cap-drop ALL``."""
    cmd = [BWRAP]
    if as_root:
        # no user namespace (its user would be root outside); the worker drops to nobody
        cmd += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        cmd += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        ids = (0, 0) if root_inside else SANDBOX_IDS
        cmd += ["--unshare-all", "--unshare-user", "--uid", str(ids[0])]
        cmd += ["--gid", str(ids[1]), "--cap-drop", "ALL"]
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
    pythons = python_paths()
    cmd += _mkdirs(pythons)
    for p in pythons:
        cmd += ["--ro-bind", p, p]
    for p in _hidden_packages(pythons):
        cmd += ["--perms", "0000", "--tmpfs", p]
    cmd += ["--ro-bind", workdir, WORKER_DIR, "--chdir", "/tmp"]
    return cmd


def rlimits(limits: Limits) -> list[tuple[str, int]]:
    """The per-process limits of every worker, cold or warm: (resource.RLIMIT_* name, value)."""
    return [
        ("RLIMIT_AS", limits.memory_bytes),
        ("RLIMIT_CPU", limits.cpu_seconds),
        ("RLIMIT_FSIZE", limits.file_bytes),
        ("RLIMIT_NOFILE", limits.open_files),
        ("RLIMIT_CORE", 0),
    ]


def worker_env() -> dict[str, str]:
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


def install_worker(prefix: str) -> str:
    """A fresh folder (0755) holding a copy of autograder/inside/, to be bound read-only at
    WORKER_DIR in the sandbox; its creator removes it (``shutil.rmtree``) when done."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    os.chmod(workdir, 0o755)
    source = Path(inside.__file__).parent
    target = Path(workdir) / source.name
    target.mkdir(mode=0o755)
    for f in sorted(source.glob("*.py")):
        (target / f.name).write_bytes(f.read_bytes())
        (target / f.name).chmod(0o644)
    return workdir


def worker_command(workdir: str) -> list[str]:
    """The command that starts the worker from a folder made by :func:`install_worker`."""
    return [
        sys.executable,
        "-I",
        os.path.join(workdir, Path(inside.__file__).parent.name, "__main__.py"),
    ]
