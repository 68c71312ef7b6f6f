"""How long ``python -m autograder similarity`` takes for a class of a given size.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_similarity.py [--sizes 50 100 200] [--assignment 03_lstm]

For each size, makes that many submissions of the assignment from its student release (seeded):
each answer cell gets the code of one of the assignment's samples or of the reference solution
(the instructor notebook's answer cells), one in ten stays unanswered, and every answer is
disguised as its own student's (every variable it binds renamed with a suffix of the student's,
then printed back by ``ast.unparse``: no comment, another layout), so that no two cells are the
same text. Then times the whole command, start-up included, in a fresh process, and prints the
wall-clock seconds, the part the command itself reports for reading, normalising and comparing
(``compared in ... s``), and the pairs of answers per exercise. Nothing is written into the
repository.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.similarity import answer_cells, bound_names  # noqa: E402
from course import build  # noqa: E402
from tests.conftest import copy_course  # noqa: E402


class _Rename(ast.NodeTransformer):
    def __init__(self, names: set[str], suffix: str):
        self.names, self.suffix = names, suffix

    def visit_Name(self, node):
        if node.id in self.names:
            node.id += self.suffix
        return node

    def visit_arg(self, node):
        if node.arg in self.names:
            node.arg += self.suffix
        return node


def disguise(source: str, suffix: str) -> str:
    """The cell with every variable it binds renamed (top-level definitions keep their names)."""
    tree = ast.parse(source)
    top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return ast.unparse(_Rename(bound_names(tree) - top - {"self"}, suffix).visit(tree))


def choices(assignment: str, samples: Path) -> dict[str, list[str]]:
    """{answer grade id: the answers available for it} from the samples and the solution."""
    out: dict[str, list[str]] = {}
    for path in build.build_samples(samples.parent, samples.parent / "built"):
        for gid, src in answer_cells(str(path)).items():
            out.setdefault(gid, []).append(src)
    solution = answer_cells(str(ROOT / "course" / "source" / assignment / f"{assignment}.ipynb"))
    for gid, src in solution.items():
        out.setdefault(gid, []).append(src)
    return out


def make_class(course: Path, assignment: str, n: int, pool: dict[str, list[str]], seed: int):
    rng = random.Random(seed)
    release = course / "release" / assignment / f"{assignment}.ipynb"
    for k in range(n):
        nb = nbformat.read(release, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            gid = meta.get("grade_id")
            if cell.cell_type != "code" or not meta.get("solution") or gid not in pool:
                continue
            if rng.random() < 0.1:
                continue  # unanswered
            try:
                cell.source = disguise(rng.choice(pool[gid]), f"_{k}")
            except SyntaxError:
                cell.source = rng.choice(pool[gid])
        dest = course / "submitted" / f"s{k:03d}" / assignment / f"{assignment}.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(nb, dest)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    p.add_argument("--assignment", default="03_lstm")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    a = args.assignment
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples" / a
        shutil.copytree(ROOT / "course" / "samples" / a, samples)
        pool = choices(a, samples)
        print(f"{a}: {len(pool)} answer cells, {sum(map(len, pool.values()))} answers to draw from")
        print("| submissions | pairs per exercise | seconds, whole command | of which comparing |")
        print("|---:|---:|---:|---:|")
        for n in args.sizes:
            course = copy_course(Path(tmp) / f"course{n}")
            make_class(course, a, n, pool, args.seed)
            cmd = [sys.executable, "-m", "autograder", "similarity", a, "--course", str(course)]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            secs = time.perf_counter() - t0
            if proc.returncode != 0:
                raise SystemExit(proc.stdout + proc.stderr)
            inside = re.search(r"compared in ([\d.]+) s", proc.stdout).group(1)
            print(f"| {n} | {n * (n - 1) // 2} | {secs:.1f} | {inside} |", flush=True)


if __name__ == "__main__":
    main()
