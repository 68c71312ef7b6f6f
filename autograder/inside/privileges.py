"""Becoming the sandbox's unprivileged user for good, and the C library for the kernel calls.

The worker, the zygote's children and the fallback without bubblewrap all drop the same way.
"""

from __future__ import annotations

import os


def libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def drop_to(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good (which also loses every capability), or end."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:  # never run student code with privileges
        os._exit(70)


def ids_from_argv(argv: list[str]) -> tuple[int, int] | None:
    """``--uid N [--gid N]`` from the command line, or None."""
    if "--uid" not in argv:
        return None
    uid = int(argv[argv.index("--uid") + 1])
    gid = int(argv[argv.index("--gid") + 1]) if "--gid" in argv else uid
    return uid, gid
