"""Warm workers (forked from a zygote that has imported the libraries) against cold ones.

A warm worker must be as isolated as a cold sandbox of its own: the same view of the machine,
nothing left over from the previous child of the same zygote, the same limits and the same
messages when it dies. These tests run only where warm workers can be used (bubblewrap, root,
writable cgroups), which is where the grading command uses them.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from pathlib import Path

import pytest

from autograder import isolation
from autograder.config import Limits
from autograder.sandbox import SandboxedWorker, WorkerDied
from autograder.warm import WarmWorker, warm_possible, zygote_for

pytestmark = pytest.mark.skipif(
    not warm_possible(), reason="warm workers need bubblewrap, root and cgroups"
)

PRELOAD = ("matplotlib.pyplot", "numpy", "torch")

REPO = str(Path(__file__).resolve().parents[1])
PROBE = (
    f"REPO = {REPO!r}\n"
    + r"""
import json, os, socket, sys
def _try(f):
    try:
        return repr(f())
    except Exception as e:
        return type(e).__name__
def _net():
    s = socket.socket()
    s.settimeout(1)
    s.connect(("127.0.0.1", 22))
def _solutions():
    import solutions
probe = json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(),
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "tmp": sorted(os.listdir("/tmp")),
    "cwd": os.getcwd(),
    "home": os.environ.get("HOME"),
    "execution": os.environ.get("NBGRADER_EXECUTION"),
    "repository": [os.path.exists(os.path.join(REPO, d)) for d in ("autograder", "solutions")],
    "repo_here": any(os.path.exists(p + "/autograder/grading.py") for p in sys.path if p),
    "solutions": _try(_solutions),
    "network": _try(_net),
    "hostname_change": _try(lambda: socket.sethostname("x")),
    "interfaces": sorted(n for _, n in socket.if_nameindex()),
    "caps": [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")],
    "nofile": __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE),
    "as": __import__("resource").getrlimit(__import__("resource").RLIMIT_AS),
})
"""
)


def _probe(worker) -> dict:
    reply = worker.request({"op": "exec", "code": PROBE, "label": "probe"}, 120)
    assert reply["ok"], reply
    return json.loads(worker.request({"op": "value", "name": "probe"})["value"])


@pytest.fixture()
def warm():
    workers = []

    def make(limits: Limits | None = None) -> WarmWorker:
        w = WarmWorker(PRELOAD, limits or Limits())
        w.start()
        workers.append(w)
        return w

    yield make
    for w in workers:
        w.stop()


def test_a_warm_worker_sees_what_a_cold_one_sees(warm):
    with SandboxedWorker(Limits()) as cold:
        seen_cold = _probe(cold)
    seen_warm = _probe(warm())
    assert seen_warm == seen_cold
    assert seen_warm["uid"] == seen_warm["euid"] == isolation.SANDBOX_IDS[0]
    assert seen_warm["caps"] == ["0000000000000000"]
    assert seen_warm["solutions"] == "ModuleNotFoundError"
    assert seen_warm["network"] != "None"  # the connection failed
    assert seen_warm["interfaces"] == ["lo"]
    assert seen_warm["repository"] == [False, False] and not seen_warm["repo_here"]


def test_nothing_passes_from_one_child_to_the_next(warm):
    first = warm()
    leave = (
        "import os, subprocess\n"
        "open('/tmp/answers.txt', 'w').write('secret')\n"
        "os.makedirs('/dev/shm', exist_ok=True)\n"
        "try:\n"
        "    open('/dev/shm/note', 'w').write('secret')\n"
        "except OSError:\n"
        "    pass\n"
    )
    assert first.request({"op": "exec", "code": leave, "label": "a"})["ok"]
    first_cgroups = list(first.cgroups)
    first.stop()
    assert not any(os.path.exists(c) for c in first_cgroups)  # its processes are gone
    second = warm()
    look = (
        "import os\n"
        "seen = sorted(os.listdir('/tmp'))\n"
        "shm = sorted(os.listdir('/dev/shm')) if os.path.isdir('/dev/shm') else []\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
    )
    assert second.request({"op": "exec", "code": look, "label": "b"})["ok"]
    seen = second.request({"op": "value", "name": "seen"})["value"]
    assert "answers.txt" not in seen
    assert set(seen) <= {
        Path(p).parts[2] for p in isolation.python_paths() if p.startswith("/tmp/")
    }
    assert second.request({"op": "value", "name": "shm"})["value"] == []
    assert second.request({"op": "value", "name": "pids"})["value"] == [1, 2]


def test_a_daemon_does_not_outlive_its_worker(warm):
    w = warm()
    daemon = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(300)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
    )
    with pytest.raises(WorkerDied, match="more process"):
        w.request({"op": "exec", "code": daemon, "label": "d"})
    # every process of the worker was in its cgroups; the cgroups are gone, so are they
    assert w.proc is None and w.cgroups == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import os; os._exit(3)", r"exited with code 3"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", r"SIGKILL"),
        ("import os, signal; os.killpg(0, signal.SIGKILL)", r"SIGKILL"),
        ("while True: pass", r"no answer within 2 s"),
        ("import os, signal; os.kill(os.getppid(), signal.SIGKILL)\nx = 1", None),
    ],
)
def test_deaths_are_reported_as_for_a_cold_worker(warm, code, message):
    for worker in (SandboxedWorker(Limits()), None):
        w = worker or warm()
        if worker is not None:
            w.start()
        try:
            if message is None:  # the parent is the namespace's init: nothing happens
                assert not w.request({"op": "exec", "code": code, "label": "k"}, 2)["ok"]
                assert w.request({"op": "output"})["ok"]
            else:
                with pytest.raises(WorkerDied, match=message):
                    w.request({"op": "exec", "code": code, "label": "k"}, 2)
        finally:
            w.stop()


def test_limits_hold_in_a_warm_worker(warm):
    w = warm(Limits(memory_bytes=2 << 30, file_bytes=1 << 20, tmpfs_bytes=8 << 20))
    big = "x = bytearray(3 << 30)"
    reply = w.request({"op": "exec", "code": big, "label": "m"})
    assert not reply["ok"] and reply["error"]["type"] == "MemoryError"
    write = "open('/tmp/f', 'wb').write(b'0' * (2 << 20))"
    reply = w.request({"op": "exec", "code": write, "label": "f"})
    assert not reply["ok"] and "File too large" in reply["summary"]  # Python ignores SIGXFSZ
    cpu = "import resource\ncpu = resource.getrlimit(resource.RLIMIT_CPU)"
    assert w.request({"op": "exec", "code": cpu, "label": "c"})["ok"]
    assert w.request({"op": "value", "name": "cpu"})["value"] == {"__tuple__": [300, 300]}


def test_a_dead_zygote_is_replaced():
    zygote = zygote_for(PRELOAD)
    os.killpg(zygote.proc.pid, signal.SIGKILL)
    zygote.proc.wait()
    w = WarmWorker(PRELOAD)
    w.start()
    try:
        assert w.request({"op": "exec", "code": "import torch; y = 2", "label": "t"})["ok"]
        assert zygote_for(PRELOAD) is not zygote
    finally:
        w.stop()


def test_no_folder_of_worker_code_is_left_behind(tmp_path, monkeypatch):
    """A cold worker's copy of its code goes when it stops; a zygote's as soon as it has loaded
    it (a pool process ends without running atexit, which left a grader-zygote-* folder in /tmp
    after every run), and its children still work."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with SandboxedWorker(Limits()) as cold:
        assert [p.name[:14] for p in tmp_path.iterdir()] == ["grader-worker-"]
        assert cold.request({"op": "exec", "code": "x = 1", "label": "c"})["ok"]
    assert list(tmp_path.iterdir()) == []
    preload = ("json", "numpy")  # a zygote of its own, started here
    zygote = zygote_for(preload)
    try:
        assert list(tmp_path.iterdir()) == []
        w = WarmWorker(preload)
        w.start()
        try:
            assert w.request({"op": "exec", "code": "import numpy; y = 2", "label": "w"})["ok"]
        finally:
            w.stop()
    finally:
        zygote.stop()
    assert list(tmp_path.iterdir()) == []
