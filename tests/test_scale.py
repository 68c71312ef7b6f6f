"""Grading beyond one machine (issue 16), with real components started here.

1. A ``dask.distributed.LocalCluster`` of two worker processes (one thread each, nannies) grades
   the samples of notebook 01 and a few hostile submissions: result files, feedback, Gradescope
   files, CSV and gradebook identical to the local process pool's.
2. A worker killed mid-batch (its nanny restarts it), then a rerun: every grade exactly once in
   the results, the CSV and the gradebook, and the rerun regrades nothing.
3. The scheduler lost mid-batch (a real ``dask scheduler`` process, killed): the command says so
   and keeps what it stored; run again on another cluster, it grades only the rest.
4. A throwaway PostgreSQL server (Debian's binaries, ``initdb`` into a temporary folder, run as
   user nobody on a Unix socket) receives a batch's grades; formgrader's API (nbgrader's
   ``NbGraderAPI``) reads them back; two grading commands at once against it lose nothing.
5. The grading command run as an unprivileged user (``setpriv``) gives the root run's results.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.__main__ import main as cli
from autograder.batch import grade_batch
from autograder.cluster import DaskCluster, local_cluster
from autograder.config import output_dir
from autograder.environ import run_nbgrader
from autograder.gradebook import gradebook_url, scores, write_gradebook
from tests.test_grader import hostile

ROOT = Path(__file__).resolve().parents[1]
A = "01_rnn"
SAMPLES = ("correct", "mistakes", "unanswered")
# hostile submissions that finish quickly (none waits for a time limit) and print the same
# thing at every run: they exercise the sandbox, its deaths and restarts on every executor
HOSTILE = ("os_exit", "forge_channel", "kill_parent", "lying_objects", "patch_numpy", "sees")
BROKEN = ("test_cell_edited", "invalid_json")
STUDENTS = sorted((*SAMPLES, *HOSTILE, *BROKEN))


# the hostile submissions of notebook 01 (tests/fixtures/hostile/build.py), as loaded there


# --------------------------------------------------------------------------- course copies
def _ignore(src, names):
    skip = {"gradebook.db", "executed", "submitted", "autograded", "feedback", "grading"}
    return [n for n in names if n in skip or n == "__pycache__" or n.startswith(".nbgrader")]


@pytest.fixture(scope="module")
def course_with_submissions(tmp_path_factory) -> Path:
    """A course copy whose gradebook knows 01_rnn, with the samples and the hostile and broken
    submissions of STUDENTS in submitted/ (written once: every copy grades the same bytes)."""
    base = Path(tempfile.mkdtemp(prefix="scale-"))  # world-traversable parents (see _as_nobody)
    os.chmod(base, 0o755)
    course = base / "course"
    shutil.copytree(ROOT / "course", course, ignore=_ignore)
    proc = run_nbgrader(course, "generate_assignment", A, "--force", "--log-level=WARN")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sub = course / "submitted"
    for sample in SAMPLES:
        answers, written = hostile._sample_answers(sample)
        hostile._write(sub / sample / A / f"{A}.ipynb", hostile.notebook(course, answers, written))
    subst = {"@COURSE@": str(course), "@REPO@": str(ROOT), "@PORT@": "9"}
    for name in HOSTILE:
        nb, _ = hostile._code_case(course, name, subst)
        hostile._write(sub / name / A / f"{A}.ipynb", nb)
    for name in BROKEN:
        fn = hostile.MUTATIONS.get(name) or hostile.FILES[name]
        hostile._write(sub / name / A / f"{A}.ipynb", fn(course)[0])
    yield course
    shutil.rmtree(base, ignore_errors=True)


def _copy(course: Path, dest: Path) -> Path:
    shutil.copytree(course, dest, symlinks=True)
    return dest


def _results(course: Path) -> dict[str, dict]:
    """Every result file, without the time it took."""
    out = {}
    for p in sorted((output_dir(course, A) / "results").glob("*.json")):
        data = json.loads(p.read_text())
        data.pop("seconds")
        out[p.stem] = data
    return out


def _exports(course: Path) -> dict[str, str]:
    """Feedback, Gradescope files and the CSV, by path."""
    out = output_dir(course, A)
    files = [*out.glob("feedback/*.md"), *out.glob("gradescope/*/results.json"), out / "grades.csv"]
    return {str(p.relative_to(out)): p.read_text() for p in sorted(files)}


def _db(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


def _csv_rows(course: Path) -> list[str]:
    lines = (output_dir(course, A) / "grades.csv").read_text().splitlines()[1:]
    return [line.split(",")[0] for line in lines]


@pytest.fixture(scope="module")
def pool_graded(course_with_submissions, tmp_path_factory) -> Path:
    """The reference: every submission graded by the local process pool (2 processes)."""
    course = _copy(course_with_submissions, tmp_path_factory.mktemp("pool") / "course")
    assert cli(["grade", A, "--course", str(course), "--no-progress", "--jobs", "2"]) == 0
    assert sorted(_results(course)) == STUDENTS
    return course


# --------------------------------------------------------------------------- 1. the cluster
@pytest.fixture(scope="module")
def cluster():
    """Two worker processes with one thread each, each under a nanny that restarts it."""
    with local_cluster(2) as c:
        yield c


def test_a_cluster_grades_as_the_local_pool(
    cluster, course_with_submissions, pool_graded, tmp_path, capsys
):
    course = _copy(course_with_submissions, tmp_path / "course")
    args = ["grade", A, "--course", str(course), "--no-progress"]
    assert cli([*args, "--scheduler", cluster.scheduler_address]) == 0
    out = capsys.readouterr().out
    assert "Dask cluster at" in out and "2 worker processes" in out, out[:2000]
    assert "2 worker(s): workers: warm" in out or "2 worker(s): workers: cold" in out, out[:2000]
    assert _results(course) == _results(pool_graded)
    assert _exports(course) == _exports(pool_graded)
    assert scores(_db(course), A) == scores(_db(pool_graded), A)


# --------------------------------------------------------------------------- 2. a worker killed
def _gradebook_rows(url: str) -> dict[str, list]:
    """The gradebook's submissions and grades as plain rows (SQLite or PostgreSQL)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as con:
            subs = con.execute(
                text("select student_id, count(*) from submitted_assignment group by student_id")
            ).all()
            grades = con.execute(
                text(
                    "select sa.student_id, bc.name, g.auto_score, g.needs_manual_grade "
                    "from grade g join submitted_notebook sn on g.notebook_id = sn.id "
                    "join submitted_assignment sa on sn.assignment_id = sa.id "
                    "join base_cell bc on g.cell_id = bc.id order by sa.student_id, bc.name"
                )
            ).all()
            duplicates = con.execute(
                text("select count(*) from grade group by notebook_id, cell_id having count(*) > 1")
            ).all()
    finally:
        engine.dispose()
    return {
        "submissions": sorted(tuple(r) for r in subs),
        "grades": [tuple(r) for r in grades],
        "duplicates": [tuple(r) for r in duplicates],
    }


class KillOneWorker(DaskCluster):
    """The cluster's executor, which SIGKILLs the process of a worker that is grading, once,
    right after the first result has come back (its nanny starts a new one)."""

    def __init__(self, address: str):
        super().__init__(address)
        self.killed: list[int] = []

    def run(self, jobs):
        for item in super().run(jobs):
            if not self.killed:
                pids = self.client.run(os.getpid)
                busy = [w for w, keys in self.client.processing().items() if keys]
                assert busy, "no worker was grading: the batch is too short to test this"
                os.kill(pids[busy[0]], signal.SIGKILL)
                self.killed.append(pids[busy[0]])
            yield item


def test_a_worker_killed_mid_batch_then_a_rerun(
    cluster, course_with_submissions, pool_graded, tmp_path
):
    course = _copy(course_with_submissions, tmp_path / "course")
    executor = KillOneWorker(cluster.scheduler_address)
    try:
        results, problems = grade_batch(A, course=course, executor=executor, progress=False)
    finally:
        executor.close()
    assert len(executor.killed) == 1
    assert problems == []
    assert [r.student for r in results] == STUDENTS  # each once
    assert _results(course) == _results(pool_graded)  # as if nothing had happened
    # the command's exports and gradebook, then a rerun that must change nothing
    args = ["grade", A, "--course", str(course), "--no-progress"]
    assert cli([*args, "--scheduler", cluster.scheduler_address]) == 0
    files = {
        p: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in (output_dir(course, A) / "results").glob("*.json")
    }
    rows = _gradebook_rows(_db(course))
    assert cli([*args, "--scheduler", cluster.scheduler_address]) == 0
    again = {
        p: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in (output_dir(course, A) / "results").glob("*.json")
    }
    assert again == files  # nothing regraded, not even rewritten
    assert _gradebook_rows(_db(course)) == rows == _gradebook_rows(_db(pool_graded))
    assert rows["submissions"] == [(s, 1) for s in STUDENTS] and rows["duplicates"] == []
    assert _csv_rows(course) == STUDENTS
    assert _exports(course) == _exports(pool_graded)


# --------------------------------------------------------------------------- 3. the scheduler lost
def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the test kills the group: nanny, worker, sandboxes
    )


def _end(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_the_scheduler_lost_then_a_rerun(cluster, course_with_submissions, pool_graded, tmp_path):
    course = _copy(course_with_submissions, tmp_path / "course")
    results = output_dir(course, A) / "results"
    address = tmp_path / "scheduler.json"
    scheduler = _start(
        "dask",
        "scheduler",
        "--scheduler-file",
        str(address),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-dashboard",
    )
    worker = command = None
    try:
        deadline = time.monotonic() + 120
        while not address.exists():
            assert scheduler.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        worker = _start(
            "dask",
            "worker",
            "--scheduler-file",
            str(address),
            "--nthreads",
            "1",
            "--nworkers",
            "1",
            "--no-dashboard",
        )
        command = _start(
            "autograder",
            "grade",
            A,
            "--course",
            str(course),
            "--no-progress",
            "--scheduler-file",
            str(address),
        )
        while not list(results.glob("*.json")):
            assert command.poll() is None, command.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline + 300
            time.sleep(0.05)
        _end(scheduler)  # the scheduler is lost mid-batch
        code = command.wait(120)
        said = command.stderr.read().decode()
    finally:
        for proc in (scheduler, worker, command):
            if proc is not None:
                _end(proc)
    assert code == 1, said[-3000:]
    assert "Dask scheduler" in said and "was lost after" in said and "run the command again" in said
    partial = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in results.glob("*.json")}
    assert 1 <= len(partial) < len(STUDENTS)
    args = ["grade", A, "--course", str(course), "--no-progress"]
    assert cli([*args, "--scheduler", cluster.scheduler_address]) == 0  # another cluster
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in results.glob("*.json")}
    assert {k: after[k] for k in partial} == partial  # what was stored is kept, not regraded
    assert _results(course) == _results(pool_graded)
    rows = _gradebook_rows(_db(course))
    assert rows["submissions"] == [(s, 1) for s in STUDENTS] and rows["duplicates"] == []
    assert _csv_rows(course) == STUDENTS


# --------------------------------------------------------------------------- 4. PostgreSQL
def pg_tool(name: str) -> str:
    """A PostgreSQL server program: on PATH, or in Debian's /usr/lib/postgresql/<version>/bin
    (the newest); a clear failure where the server is not installed (.ci/run installs it)."""
    found = shutil.which(name)
    if found:
        return found
    folders = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()],
    )
    if not folders:
        pytest.fail(f"PostgreSQL's {name} is not installed: apt-get install postgresql")
    return str(folders[-1])


def _nobody() -> tuple[int, int]:
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def _as_nobody() -> None:  # in a child, before exec
    uid, gid = _nobody()
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster: initdb into a temporary folder owned by nobody, started
    as nobody, listening only on a Unix socket in that folder; yields a connection URL factory
    (one database per name) and is stopped and removed at the end."""
    import psycopg

    base = Path(tempfile.mkdtemp(prefix="pg-"))
    os.chmod(base, 0o755)
    os.chown(base, *_nobody())
    data = base / "data"
    run = dict(preexec_fn=_as_nobody, cwd=base, capture_output=True, text=True, timeout=180)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(base)}
    init = [pg_tool("initdb"), "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8"]
    proc = subprocess.run([*init, "--no-sync"], env=env, **run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    options = f"-k {base} -c listen_addresses='' -F"
    ctl = [pg_tool("pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "120"]
    proc = subprocess.run([*ctl, "-o", options, "start"], env=env, **run)
    assert proc.returncode == 0, proc.stdout + proc.stderr + (base / "log").read_text()

    def database(name: str) -> str:
        with psycopg.connect(f"host={base} user=grader dbname=postgres", autocommit=True) as c:
            c.execute(f'create database "{name}"')
        return f"postgresql://grader@/{name}?host={base}"

    try:
        yield database
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], env=env, **run)
        shutil.rmtree(base, ignore_errors=True)


def _formgrader(course: Path, url: str) -> list[dict]:
    """What formgrader shows of the assignment's submissions, through its own API."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(root=str(course))
    coursedir.db_url = gradebook_url(url)
    api = NbGraderAPI(coursedir=coursedir)
    keep = ("student", "score", "max_score", "code_score", "max_code_score", "needs_manual_grade")
    return sorted(({k: s[k] for k in keep} for s in api.get_submissions(A)), key=str)


def _register(course: Path, url: str) -> None:
    """The instructor's first step with a new gradebook: nbgrader puts the assignment in it."""
    proc = run_nbgrader(
        course,
        "generate_assignment",
        A,
        "--force",
        "--log-level=WARN",
        f"--db={gradebook_url(url)}",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_postgresql_gradebook_read_back_by_formgrader(postgres, pool_graded, tmp_path):
    url = postgres("gradebook")
    course = _copy(pool_graded, tmp_path / "course")  # results stored: only the writing is new
    _register(course, url)
    assert cli(["grade", A, "--course", str(course), "--no-progress", "--db", url]) == 0
    seen = _formgrader(course, url)
    assert [s["student"] for s in seen] == STUDENTS
    assert seen == _formgrader(pool_graded, _db(pool_graded))  # as from the SQLite gradebook
    for s in seen:  # and as the result files say
        r = json.loads((output_dir(course, A) / "results" / f"{s['student']}.json").read_text())
        assert s["code_score"] == pytest.approx(r["score"]), s
    rows = _gradebook_rows(gradebook_url(url))
    assert rows == _gradebook_rows(_db(pool_graded))


def _write_at_once(url: str, results: list, barrier) -> None:
    barrier.wait()
    write_gradebook(url, A, results)


def test_two_commands_at_once_lose_nothing(postgres, pool_graded, tmp_path):
    import multiprocessing

    from autograder.results import load_result

    url = postgres("two_at_once")
    _register(pool_graded, url)
    expected = _gradebook_rows(_db(pool_graded))
    # two grading commands (two course folders, as on two machines) with overlapping students
    first, second = STUDENTS[:7], STUDENTS[3:]
    commands = []
    for i, students in enumerate((first, second)):
        course = _copy(pool_graded, tmp_path / f"course{i}")
        for name in set(STUDENTS) - set(students):
            shutil.rmtree(course / "submitted" / name)
        commands.append(
            _start("autograder", "grade", A, "--course", str(course), "--no-progress", "--db", url)
        )
    for proc in commands:
        assert proc.wait(300) == 0, proc.stderr.read().decode()[-3000:]
    assert _gradebook_rows(gradebook_url(url)) == expected
    # the same rows written by two processes released at the same instant: every transaction
    # collides with the other's (the same students and submissions created by both)
    url = postgres("same_instant")
    _register(pool_graded, url)
    results = [load_result(output_dir(pool_graded, A) / "results" / f"{s}.json") for s in STUDENTS]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_write_at_once, args=(url, results, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert _gradebook_rows(gradebook_url(url)) == expected


# --------------------------------------------------------------------------- 5. not root
def _blocked_for_nobody(paths: list[str]) -> list[tuple[str, list[str]]]:
    """Every folder on the way to one of ``paths`` that others may not enter (a pyenv under
    /root, a clone in a 0700 temporary folder, as in CI), with the entries below it on those
    ways; outermost first."""
    found: dict[str, set[str]] = {}
    for path in paths:
        parts = Path(path).parts
        for i in range(1, len(parts) - 1):
            folder = str(Path(*parts[: i + 1]))
            if not os.stat(folder).st_mode & 0o001:
                found.setdefault(folder, set()).add(parts[i + 1])
    return [(f, sorted(e)) for f, e in sorted(found.items(), key=lambda x: len(Path(x[0]).parts))]


def _as_nobody_command(args: list[str], home: Path) -> list[str]:
    """``args`` run as user nobody (setpriv). Where the Python or this repository lies in a
    folder nobody may not enter (CI's interpreter is under /root, 0700), the command gets a
    private mount namespace (unshare, made as root, seen by nothing else) in which each such
    folder is an empty 0755 tmpfs holding only the ways to them; nothing else changes."""
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env", f"HOME={home}"]
    needed = [os.path.realpath(sys.executable), str(ROOT), os.path.realpath(sys.prefix)]
    blocked = _blocked_for_nobody(needed)
    if not blocked:
        return [*drop, *args]
    steps, n = ["set -e"], 0
    for folder, entries in blocked:
        held = []
        for entry in entries:
            source, hold = f"{folder}/{entry}", f"{home}/.held{n}"
            n += 1
            make = f'if [ -d "{source}" ]; then mkdir -p "{hold}"; else touch "{hold}"; fi'
            steps += [make, f'mount --bind "{source}" "{hold}"']
            held.append((source, hold))
        steps.append(f'mount -t tmpfs -o mode=755 tmpfs "{folder}"')
        for source, hold in held:
            steps.append(f'if [ -d "{hold}" ]; then mkdir "{source}"; else touch "{source}"; fi')
            steps.append(f'mount --move "{hold}" "{source}"')
    script = "; ".join([*steps, 'exec "$@"'])
    unshare = ["unshare", "--mount", "--propagation", "private"]
    return [*unshare, "sh", "-c", script, "sh", *drop, *args]


def _sees_nothing_of_the_course(printed: str, course: Path) -> None:
    """The probe's report (tests/fixtures/hostile/sees.py): user nobody, no course, no grader."""
    import ast
    import re

    lines = {m.group(1): m.group(2) for m in re.finditer(r"^SEES (\S+) (.*)$", printed, re.M)}
    assert lines["uid"].split() == ["65534", "65534", "65534"], lines["uid"]
    assert lines[str(course)] == "FileNotFoundError"
    assert lines[f"{course}/submitted"] == "FileNotFoundError"
    assert set(ast.literal_eval(lines[str(ROOT)])) <= {".venv"}  # the environment, not the code
    assert set(ast.literal_eval(lines["/worker"])) <= {"inside"}
    seen = " ".join(v for k, v in lines.items() if k != "uid").replace(str(ROOT / ".venv"), "")
    for secret in ("autograder", "solutions", "gradebook", "submitted", "mistakes", str(course)):
        assert secret not in seen, secret


def test_not_root_grades_as_root(course_with_submissions, pool_graded):
    base = Path(tempfile.mkdtemp(prefix="nobody-"))
    try:
        os.chmod(base, 0o755)
        course = _copy(course_with_submissions, base / "course")
        for p in [base, *base.rglob("*")]:
            os.chown(p, *_nobody(), follow_symlinks=False)
        cmd = [sys.executable, "-m", "autograder", "grade", A, "--course", str(course)]
        proc = subprocess.run(
            _as_nobody_command([*cmd, "--no-progress", "--jobs", "2"], base),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        first = proc.stdout.splitlines()[:2]
        assert first[0].startswith("sandbox: bubblewrap in an unprivileged user namespace"), first
        assert first[1].startswith("workers: warm, in a user namespace"), first
        ours, roots = _results(course), _results(pool_graded)
        assert sorted(ours) == STUDENTS
        for name in STUDENTS:  # the same grades, feedback, output; the sandbox line says which
            if name != "invalid_json":  # (no worker for a file that is not a notebook)
                assert "unprivileged user namespace" in ours[name]["isolation"], name
            ours[name].pop("isolation"), roots[name].pop("isolation")
            if name == "kill_parent":  # it prints what its kill attempts returned: as root the
                # sandbox's init is another user (PermissionError); here it is the same user
                # outside (and the kernel ignores a signal to an init from inside all the same):
                # what it did to the grading is the same
                ours[name].pop("printed"), roots[name].pop("printed")
            if name == "sees":  # its mounts and listings differ; each way it sees nothing
                for printed in (ours[name].pop("printed"), roots[name].pop("printed")):
                    _sees_nothing_of_the_course(printed, course_with_submissions)
            assert ours[name] == roots[name], name
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_warm_worker_without_root_holds_nothing(course_with_submissions):
    """As a plain user, a warm worker's student code cannot trace its namespace's init (which
    keeps no capability), holds no capability itself (seccomp on, no new privileges, user
    nobody inside), and what it leaves running ends with it."""
    import errno

    base = Path(tempfile.mkdtemp(prefix="nobody-"))
    try:
        os.chmod(base, 0o755)
        script = ROOT / "tests" / "fixtures" / "scale" / "warm_probe.py"
        proc = subprocess.run(
            _as_nobody_command([sys.executable, str(script), str(course_with_submissions)], base),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    report = json.loads(proc.stdout.splitlines()[-1])
    student = report["student"]
    assert (student["attached"], student["errno"]) == (-1, errno.EPERM), student
    assert student["init"]["CapEff"] == student["init"]["CapPrm"] == "0000000000000000"
    me = student["me"]
    assert me["CapEff"] == me["CapPrm"] == me["CapBnd"] == "0000000000000000", me
    assert me["Uid"] == "65534" and me["NoNewPrivs"] == "1" and me["Seccomp"] == "2", me
    assert report["before"] > report["left"] == 0, report  # the sleep went with the worker
