"""Make README's screenshots of the class report and the similarity report (run it again after
changing either page)::

    .venv/bin/python assets/screenshots/make.py

1. report.png: 40 submissions of notebook 01 generated as the grading benchmark generates them
   (benchmarks/bench_grader.py, seed 3: answers from the samples and partly wrong variants,
   some untouched), graded by ``python -m autograder grade`` (no gradebook), then
   ``python -m autograder report``; the top of the page.
2. similarity.png: notebook 01's samples, the reference solution (the instructor notebook) and
   one student whose rnn_backward is the hand-disguised copy of the correct sample's from
   tests/test_similarity.py, compared by ``python -m autograder similarity``; the section of
   rnn_backward.

Everything happens in a temporary copy of the course. The pages are rendered by Debian's
chromium through Playwright, offline, and saved as palette PNGs under 200 KB.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import bench_grader  # noqa: E402

from course import build  # noqa: E402
from tests.conftest import copy_course  # noqa: E402
from tests.test_similarity import COPY_OF_CORRECT_BACKWARD  # noqa: E402
from tests.util import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

A = "01_rnn"
HERE = Path(__file__).resolve().parent


def command(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "autograder", *args], cwd=ROOT, check=True)


def shoot(page, html: Path, dest: Path, top: str | None = None, height: int = 1000) -> None:
    """A screenshot of ``html`` from its top (or from the element ``top``), as a palette PNG."""
    page.goto(html.as_uri())
    y = 0
    if top is not None:
        y = page.locator(top).bounding_box()["y"]
    png = page.screenshot(full_page=True, clip={"x": 0, "y": y, "width": 1000, "height": height})
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64)
    image.save(dest, optimize=True)
    print(f"{dest.relative_to(ROOT)}: {dest.stat().st_size // 1024} KB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        graded = bench_grader.copy_course(
            Path(tmp) / "class" / "course", bench_grader.make_submissions(40, 3, loops=0)
        )
        command("grade", A, "--course", str(graded), "--no-gradebook", "--no-progress")
        command("report", A, "--course", str(graded))

        similar = copy_course(Path(tmp) / "similar" / "course")
        samples = Path(tmp) / "samples" / A
        shutil.copytree(ROOT / "course" / "samples" / A, samples)
        build.build_samples(samples.parent, similar / "submitted", similar / "release")
        for student, nb in {
            "solution": nbformat.read(ROOT / "course" / "source" / A / f"{A}.ipynb", 4),
            "copier": _with(similar, "rnn_backward", COPY_OF_CORRECT_BACKWARD),
        }.items():
            path = similar / "submitted" / student / A / f"{A}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
        command("similarity", A, "--course", str(similar), "--top", "2")

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 1000})
            shoot(page, graded / "grading" / A / "report.html", HERE / "report.png", height=1050)
            shoot(
                page,
                similar / "grading" / A / "similarity.html",
                HERE / "similarity.png",
                top="#rnn_backward",
                height=560,
            )
            browser.close()


def _with(course: Path, exercise: str, source: str):
    nb = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == exercise:
            cell.source = source
    return nb


if __name__ == "__main__":
    main()
