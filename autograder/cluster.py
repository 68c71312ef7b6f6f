"""Grading on a Dask distributed cluster: the executor behind ``--scheduler`` (or a file).

What crosses the network is plain data, never a pickled student object: each task gets the
submission's bytes and its grading options (:func:`job_to_plain`) and the released notebook's
bytes (:func:`release_to_plain`, sent once to every worker); it returns the result as JSON text.
The function a task runs (:func:`grade_plain`) and the worker plugin are referred to by name: every
worker must have this repository installed (the grader and its hidden suites), and a worker whose
suites differ from the grading command's refuses to grade (its results would carry the wrong key).

Each Dask worker process grades one submission at a time and keeps its own warm sandbox (the
zygote of autograder/warm.py is per process), exactly as a process of the local pool does; the
worker decides its own isolation (bubblewrap, warm or cold) and the command prints what each
worker uses. Results are stored by the grading command as they arrive, never by the workers, so
the cluster needs no shared folder and the gradebook is written from one place. A worker that
dies mid-task (its nanny restarts it) has its task rerun by the scheduler; a scheduler that is
lost ends the command with :class:`ClusterLost`, and the results stored so far are kept: run the
command again and only the rest is graded.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict

from autograder.batch import LOST, Executor, grade_job, store_result
from autograder.config import Limits, release_notebook
from autograder.grading import Job
from autograder.release import Release, parse_release, suites_digest

# seconds to wait for the scheduler, and for at least one worker to join it
CONNECT_SECONDS = 30.0


class ClusterError(Exception):
    """The cluster cannot be used (no scheduler there, no worker, a worker with other suites)."""


class ClusterLost(ClusterError):
    """The scheduler went away during a batch; the results stored so far are kept."""


# --------------------------------------------------------------------------- plain data
def job_to_plain(job: Job) -> dict:
    """A job as plain data (strings, bytes, numbers, dicts of them), without its release."""
    return {
        "student": job.student,
        "path": job.path,
        "raw": job.raw,
        "problem": job.problem,
        "key": job.key,
        "limits": asdict(job.limits),
        "only": job.only,
        "use_bwrap": None,  # bubblewrap wherever the worker has it (it says which it used)
        "gate_modes": dict(job.gate_modes) if job.gate_modes is not None else None,
        "warm": job.warm,
    }


def job_from_plain(data: dict, release: Release) -> Job:
    return Job(
        release,
        data["student"],
        data["path"],
        data["raw"],
        data["problem"],
        data["key"],
        limits=Limits(**data["limits"]),
        only=data["only"],
        use_bwrap=data["use_bwrap"],
        gate_modes=data["gate_modes"],
        warm=data["warm"],
    )


def release_to_plain(release: Release) -> dict:
    """The released notebook's bytes and the digest of the suites the command grades with."""
    raw = release_notebook(release.course, release.assignment).read_bytes()
    if not release.key_material.startswith(raw):
        raise ClusterError(
            f"{release_notebook(release.course, release.assignment)} changed during the batch; "
            "run the command again"
        )
    return {
        "assignment": release.assignment,
        "course": str(release.course),
        "notebook": raw,
        "suites": suites_digest(release.assignment),
    }


# --------------------------------------------------------------------------- on a worker
_RELEASES: dict[str, Release] = {}
_ONE_AT_A_TIME = threading.Lock()  # one pytest session and one zygote channel per process


def _release_here(payload: dict) -> Release:
    """The release of ``payload``, parsed once per worker process."""
    digest = hashlib.sha256(payload["notebook"]).hexdigest()
    if digest not in _RELEASES:
        ours = suites_digest(payload["assignment"])
        if ours != payload["suites"]:
            raise ClusterError(
                "this worker's grader or hidden suites differ from the grading command's: "
                "install the same version of the repository on every worker"
            )
        from pathlib import Path

        # the key was computed by the command; here the release only describes the cells
        _RELEASES[digest] = parse_release(
            payload["assignment"], Path(payload["course"]), payload["notebook"], b""
        )
    return _RELEASES[digest]


def grade_plain(release: dict, job: dict) -> tuple[str, str]:
    """What a Dask task runs: ("ok", result JSON) or ("error", why); plain data both ways."""
    with _ONE_AT_A_TIME:
        try:
            here = _release_here(release)
        except ClusterError as e:
            return "error", str(e)
        return grade_job(job_from_plain(job, here))


def describe_worker() -> dict:
    """How this worker process grades: its isolation line and whether its workers are warm."""
    from autograder import isolation, warm

    use_bwrap = isolation.bwrap_in_use(None)
    return {
        "isolation": isolation.isolation_note(use_bwrap),
        "mode": warm.worker_mode(use_bwrap),
    }


try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # distributed is pinned in pyproject.toml; only the local pool without it
    WorkerPlugin = object


class GraderPlugin(WorkerPlugin):
    """Prepares each worker process as a process of the local pool is prepared: the heavy
    libraries imported once, and its zygote stopped (its cgroup removed) when it closes."""

    name = "autograder"

    def setup(self, worker=None):
        import os

        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib.pyplot  # noqa: F401
        import torch  # noqa: F401

    def teardown(self, worker=None):
        from autograder.warm import stop_zygotes

        stop_zygotes()


# --------------------------------------------------------------------------- the executor
class DaskCluster(Executor):
    """Grading tasks on an existing Dask distributed cluster (``tcp://host:8786`` or a
    scheduler file written by ``dask scheduler --scheduler-file F``)."""

    def __init__(self, address: str | None = None, scheduler_file: str | None = None):
        from distributed import Client

        self.where = address or f"the scheduler file {scheduler_file}"
        try:
            self.client = Client(
                address,
                scheduler_file=scheduler_file,
                timeout=CONNECT_SECONDS,
                set_as_default=False,
            )
        except (OSError, TimeoutError, ValueError) as e:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {self.where} ({type(e).__name__}: {e}). "
                "Start one (`dask scheduler`) and workers (`dask worker ADDRESS --nthreads 1`), "
                "or leave out --scheduler to grade on this machine."
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError:
            self.close()
            raise ClusterError(
                f"the Dask scheduler at {self.where} has no worker after {CONNECT_SECONDS:g} s: "
                "start some (`dask worker ADDRESS --nthreads 1`)"
            ) from None
        self.client.register_plugin(GraderPlugin(), name=GraderPlugin.name)

    def describe(self) -> list[str]:
        """Lines for the top of the command's output: the cluster, and how each worker grades."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        threads = sorted({w["nthreads"] for w in workers.values()})
        lines = [
            f"workers: Dask cluster at {self.client.scheduler.address}: {len(workers)} worker "
            f"processes, each grading one submission at a time with its own warm sandbox"
        ]
        if threads != [1]:
            lines.append(
                f"  note: workers have {'/'.join(map(str, threads))} threads; a worker process "
                "grades one submission at a time, so start workers with --nthreads 1 and as "
                "many processes as cores (--nworkers)"
            )
        seen: dict[tuple[str, str], list[str]] = {}
        for address, info in self.client.run(describe_worker).items():
            seen.setdefault((info["isolation"], info["mode"]), []).append(address)
        for (note, mode), addresses in sorted(seen.items()):
            lines.append(f"  {len(addresses)} worker(s): {mode}; {note}")
        return lines

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, tuple[str, str]]]:
        from distributed import as_completed

        if not jobs:
            return
        release = jobs[0].release
        if any(job.release is not release for job in jobs):
            raise ValueError("a batch grades one assignment")
        run_id = uuid.uuid4().hex[:8]
        try:
            held = self.client.scatter(release_to_plain(release), broadcast=True, hash=False)
            futures = {
                self.client.submit(
                    grade_plain, held, job_to_plain(job), key=f"grade-{job.student}-{run_id}"
                ): job
                for job in jobs
            }
        except (OSError, TimeoutError) as e:
            raise ClusterLost(f"the Dask scheduler at {self.where} was lost ({e})") from None
        done = 0
        try:
            for future in as_completed(futures, loop=self.client.loop):
                job = futures[future]
                if future.status == "finished":
                    status, text = future.result()
                    if status == "ok":
                        text = store_result(job, text)
                    done += 1
                    yield job, (status, text)
                elif self.client.status != "running" or future.status == "cancelled":
                    raise ClusterLost(self._lost(done, len(jobs)))
                else:  # the task's workers died (KilledWorker) or its data was lost: again
                    yield job, LOST
        except (OSError, TimeoutError) as e:
            raise ClusterLost(self._lost(done, len(jobs)) + f" ({type(e).__name__})") from None
        finally:
            if self.client.status == "running":
                self.client.cancel(list(futures) + [held])

    def _lost(self, done: int, total: int) -> str:
        return (
            f"the Dask scheduler at {self.where} was lost after {done} of {total} submissions; "
            "their results are stored: run the command again (with a scheduler) to grade the rest"
        )

    def close(self) -> None:
        self.client.close()


def local_cluster(workers: int = 2):
    """A Dask cluster on this machine as the tests and the benchmark use it (and as an instructor
    may, to try ``--scheduler``): ``workers`` processes with one thread each, under nannies, on
    the loopback interface, without the dashboard. Use it as a context manager."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=40,
    )
