"""The worker's system-call filter: what no notebook needs and what reaches shared state."""

from __future__ import annotations

from .privileges import libc

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
    lib = libc()
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if lib.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        return "no_new_privs could not be set"
    if lib.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(program), 0, 0) != 0:
        return f"the system-call filter was refused (errno {ctypes.get_errno()})"
    return ""
