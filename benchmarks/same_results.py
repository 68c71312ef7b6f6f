"""Do two versions of the grader give the same files? Grade the same inputs, compare the outputs.

    git worktree add /tmp/oldmain 128e9cd    # the version to compare with
    .venv/bin/python benchmarks/same_results.py snapshot /tmp/cmp/old /tmp/oldmain
    .venv/bin/python benchmarks/same_results.py snapshot /tmp/cmp/new
    .venv/bin/python benchmarks/same_results.py compare /tmp/cmp/old /tmp/cmp/new

``snapshot OUT [CHECKOUT]`` grades, with the grader of CHECKOUT (default: this repository; it
runs in processes of its own, with CHECKOUT as working folder and first on sys.path), the samples
of every notebook through the command line (``python -m autograder grade``, default limits) and
every hostile fixture of tests/fixtures/hostile (with the short limits of tests/test_grader.py)
in a course copy at a fixed path, so that both versions see byte-identical submissions (the
fixtures embed the course's path and a port; the first snapshot builds them with this
repository's builders, the next ones copy them from /tmp/grading-compare/inputs). It keeps every
file the grader writes: results JSON, feedback, grades.csv, Gradescope results.json and the
autograded notebooks, plus the batch's notes. ``compare`` says which files differ, ignoring
only each result's ``seconds``, and for results which fields and lines; it exits 1 when
anything differs.
"""

from __future__ import annotations

import difflib
import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path("/tmp/grading-compare")  # fixed: the fixtures embed the course's path
PORT = 47_613  # fixed likewise: the network fixtures embed it
GENERATED = ("gradebook.db", "executed", "submitted", "autograded", "grading", "__pycache__")


def _course(dest: Path, build_submissions) -> Path:
    """A course copy at ``dest`` with its submissions: built by ``build_submissions(course)`` the
    first time, then copied from WORK/inputs, so that every version grades the same bytes (the
    builders give new cells random ids)."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "course", dest, ignore=shutil.ignore_patterns(*GENERATED))
    kept = WORK / "inputs" / dest.name
    if not kept.is_dir():
        build_submissions(dest)
        kept.parent.mkdir(parents=True, exist_ok=True)
        _copy_tree(dest / "submitted", kept)
    else:
        _copy_tree(kept, dest / "submitted")
    return dest


def _copy_tree(src: Path, dest: Path) -> None:
    """Links stay links and named pipes stay pipes (the hostile tree has both)."""
    subprocess.run(["cp", "-a", str(src), str(dest)], check=True)


# Run by the checkout under test (cwd and PYTHONPATH), so that nothing of this one is imported.
HOSTILE_BATCH = """
import json, socket, sys
from pathlib import Path
from autograder.export import write_all
try:  # main at 128e9cd (first: the editable install would find the split grader's modules)
    from autograder.grade import collect, grade_batch
    from autograder.sandbox import Limits
except ImportError:  # the split grader
    from autograder.batch import collect, grade_batch
    from autograder.config import Limits
import autograder
print("grader from", Path(autograder.__file__).parent, flush=True)
course, port, notes = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
limits = Limits(
    call_seconds=5, cell_seconds=10, exercise_seconds=60, memory_bytes=5 << 28, processes=64
)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
results, problems = grade_batch("01_rnn", course=course, limits=limits, progress=False)
pairs, _ = collect("01_rnn", course, [], None)
write_all(course, results, dict(pairs), None)
notes.write_text(json.dumps(sorted(problems), indent=1))
"""


def _run(repo: Path, *args: str) -> None:
    """``python ARGS`` with the grader of ``repo`` (its folder first on sys.path)."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    subprocess.run([sys.executable, *args], cwd=repo, env=env, check=True)


def snapshot(out: Path, repo: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    build = runpy.run_path(str(ROOT / "course" / "build.py"))
    samples = _course(WORK / "samples", lambda c: build["build_samples"](c / "submitted"))
    for notebook in sorted(p.name for p in (ROOT / "course" / "samples").iterdir()):
        args = ["grade", notebook, "--course", str(samples), "--no-progress", "--no-gradebook"]
        _run(repo, "-m", "autograder", *args)
    for part in ("grading", "autograded"):
        shutil.copytree(samples / part, out / "samples" / part)

    hostile = runpy.run_path(str(ROOT / "tests" / "fixtures" / "hostile" / "build.py"))
    course = _course(WORK / "hostile", lambda c: hostile["build_all"](c, PORT))
    (out / "hostile").mkdir()
    _run(repo, "-c", HOSTILE_BATCH, str(course), str(PORT), str(out / "hostile" / "notes.json"))
    for part in ("grading", "autograded"):
        shutil.copytree(course / part, out / "hostile" / part)
    print(f"snapshot in {out}: {sum(1 for p in out.rglob('*') if p.is_file())} files")


def _normal(path: Path) -> bytes:
    if path.parent.name == "results" and path.suffix == ".json":
        data = json.loads(path.read_text())
        data.pop("seconds", None)  # the only field that depends on the run
        return json.dumps(data, sort_keys=True, indent=1).encode()
    return path.read_bytes()


def _explain(a: dict, b: dict) -> None:
    """The fields of two results that differ; for text, the lines."""
    for k in sorted(set(a) | set(b)):
        if a.get(k) == b.get(k):
            continue
        if isinstance(a.get(k), str) and isinstance(b.get(k), str):
            diff = difflib.unified_diff(a[k].splitlines(), b[k].splitlines(), lineterm="", n=0)
            lines = [d for d in diff if d[:1] in "+-" and d[:3] not in ("+++", "---")]
            print(f"  {k}:", *(f"\n    {d[:200]}" for d in lines))
        else:
            print(f"  {k}: {str(a.get(k))[:200]} -> {str(b.get(k))[:200]}")


def compare(old: Path, new: Path) -> int:
    a = {p.relative_to(old) for p in old.rglob("*") if p.is_file()}
    b = {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    differ = [str(p) for p in sorted(a & b) if _normal(old / p) != _normal(new / p)]
    for p in sorted(a - b):
        print("only in", old, p)
    for p in sorted(b - a):
        print("only in", new, p)
    for p in differ:
        print("differs:", p)
        if p.endswith(".json") and "/results/" in p:
            _explain(json.loads(_normal(old / p)), json.loads(_normal(new / p)))
    same = not differ and a == b
    print(f"{len(a & b)} files compared: " + ("identical" if same else f"{len(differ)} differ"))
    return 0 if same else 1


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "snapshot":
        snapshot(Path(sys.argv[2]), Path(sys.argv[3] if len(sys.argv) == 4 else ROOT).resolve())
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
