"""The course in a real browser: Debian's chromium, driven by Playwright, against a JupyterLab
that these tests start on loopback (a free port, token auth, no browser of its own).

One JupyterLab per module serves a temporary folder holding a copy of the course (its working
folder, so nbgrader's formgrader reads the copy's nbgrader_config.py and gradebook) and the
student notebooks. Its Jupyter config, runtime and settings folders are the tests' own, not the
user's home. What is checked:

- every student notebook (course/release) opens; a typical mistake typed into its first answer
  cell makes the visible test cell below show the message that names the mistake, and the given
  cells above it run without an error;
- notebook 01's spectral-radius slider renders as a widget, and dragging it redraws the plot;
- formgrader (nbgrader's lab extension, opened from JupyterLab's Nbgrader menu) lists the
  assignment and shows the per-cell scores that ``python -m autograder grade`` wrote; a written
  answer graded by hand there changes the student's total in the gradebook (read back with
  nbgrader's API); ``nbgrader generate_feedback`` then writes feedback that shows the hidden
  suites' messages and none of their code.

On a failure the screenshot and the text of the page are saved under test-artifacts/browser/
(gitignored) and the failure message says where.
"""

from __future__ import annotations

import ast
import base64
import concurrent.futures
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import tokenize
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.environ import run_nbgrader, tools_env
from course import build
from tests.conftest import COURSE, GENERATED
from tests.util import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# nbconvert's HTML (formgrader's submission pages, nbgrader's feedback) loads MathJax from here
MATHJAX_CDN = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"
STUDENT_NOTEBOOKS = sorted(p.name for p in (COURSE / "release").iterdir() if p.is_dir())
GRADED = "01_rnn"  # the assignment formgrader is tried on
ANSWERED = "01_rnn_answered.ipynb"  # notebook 01 with the correct sample's answers

# A typical mistake per notebook, typed into the first answer cell, and words the visible test's
# message must contain. Written here by hand (not taken from the samples or the test cells).
MISTAKES = {
    "01_rnn": (
        "rnn_step_forward",
        "then take tanh of the whole sum",
        """\
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = x @ Wx + h_prev @ Wh + b  # the tanh is forgotten
    return h, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h": h}
""",
    ),
    "02_gru": (
        "gru_paper_step_forward",
        "your update gate weighs the old state",
        """\
def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + b
    r = 1 / (1 + np.exp(-(a[:, :H] + h_prev @ Wh[:, :H])))
    u = 1 / (1 + np.exp(-(a[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H])))
    h_tilde = np.tanh(a[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :])
    h = u * h_prev + (1 - u) * h_tilde  # PyTorch's direction, not the lecture form's
    return h, {}
""",
    ),
    "03_lstm": (
        "lstm_step_forward",
        "the blocks are read as i, f, o, g",
        """\
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    s = lambda z: 1 / (1 + np.exp(-z))
    i, f, o, g = s(a[:, :H]), s(a[:, H : 2 * H]), s(a[:, 2 * H : 3 * H]), np.tanh(a[:, 3 * H :])
    c = f * c_prev + i * g
    return o * np.tanh(c), c, {}
""",
    ),
    "04_peephole": (
        "peephole_step_forward",
        "the peephole terms are missing from the input and forget gates",
        """\
def peephole_step_forward(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    s = lambda z: 1 / (1 + np.exp(-z))
    i, f, g = s(a[:, :H]), s(a[:, H : 2 * H]), np.tanh(a[:, 2 * H : 3 * H])  # no p_i, p_f
    c = f * c_prev + i * g
    o = s(a[:, 3 * H :] + p_o * c)
    return o * np.tanh(c), c, {}
""",
    ),
    "05_variants": (
        "cifg_step_forward",
        "the coupling is reversed",
        """\
def cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    f = 1 / (1 + np.exp(-a[:, :H]))
    g, o = np.tanh(a[:, H : 2 * H]), 1 / (1 + np.exp(-a[:, 2 * H :]))
    c = (1 - f) * c_prev + f * g  # f and 1 - f swapped
    return o * np.tanh(c), c, {}
""",
    ),
    "06_choosing": (
        "cell_cost",
        "params counts one bias vector",
        """\
def cell_cost(cell, D, H):
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}[cell]
    weights = G * H * (D + H) + (3 * H if cell == "peephole" else 0)
    return {"params": weights + G * H, "macs": weights}  # one bias vector, not two
""",
    ),
}

# A hand-made submission for formgrader: rnn_step_forward right except that it squeezes its
# result, so an example or a unit of size 1 loses its axis (the visible test, N = 2 and H = 4,
# passes; hidden cases with N = 1 or H = 1 fail): a score strictly between 0 and the points.
SQUEEZED = """\
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = np.tanh(x @ Wx + h_prev @ Wh + b).squeeze()
    return h, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h": h}
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


# --------------------------------------------------------------------------- evidence
def _page_text(page) -> str:
    parts = []
    for frame in page.frames:
        with contextlib.suppress(Exception):
            parts.append(
                f"===== frame {frame.url}\n{frame.locator('body').inner_text(timeout=5000)}"
            )
    return "\n\n".join(parts)


@contextlib.contextmanager
def evidence(page, name: str, lab: Lab | None = None):
    """On any failure inside the block, save a screenshot and the text of every frame of the page
    (and the tail of JupyterLab's log) under test-artifacts/browser/<name>/, and say where."""
    try:
        yield
    except BaseException as exc:
        folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(folder / "screenshot.png"), full_page=True, timeout=15_000)
        with contextlib.suppress(Exception):
            (folder / "page.txt").write_text(_page_text(page))
        if lab is not None:
            with contextlib.suppress(Exception):
                (folder / "jupyterlab.log").write_text(lab.log.read_text()[-20_000:])
        exc.add_note(f"screenshot and page text saved in {folder}")
        raise


# --------------------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab: its address, token, served folder and log."""

    def __init__(self, url: str, token: str, root: Path, log: Path):
        self.url, self.token, self.root, self.log = url, token, root, log
        self.grading: concurrent.futures.Future | None = None  # the course copy being graded

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def wait_for_idle_kernel(self, path: str, timeout: float = 120) -> None:
        """Until the session of the notebook at ``path`` has a kernel that reports idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for s in self.api("/api/sessions"):
                if s["path"] == path and s["kernel"]["execution_state"] == "idle":
                    return
            time.sleep(0.25)
        raise AssertionError(f"the kernel of {path} did not start (not idle after {timeout} s)")

    def shut_down_kernels(self, path: str) -> None:
        for s in self.api("/api/sessions"):
            if s["path"] == path:
                self.api(f"/api/sessions/{s['id']}", method="DELETE")


def _settings(folder: Path) -> None:
    """JupyterLab user settings: every cell in the DOM, no news or update checks."""
    values = {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "checkForUpdates": False,
            "fetchNews": "false",
        },
    }
    for plugin, value in values.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab serving <tmp>/ (course copy in course/, student notebooks in student/),
    started in the course copy so that formgrader uses its nbgrader_config.py."""
    root = tmp_path_factory.mktemp("browser")
    ignore = shutil.ignore_patterns(*GENERATED, "__pycache__", ".nbgrader.log")
    course = root / "course"
    shutil.copytree(COURSE, course, ignore=ignore)
    (root / "student").mkdir()
    for name in STUDENT_NOTEBOOKS:
        shutil.copy(COURSE / "release" / name / f"{name}.ipynb", root / "student")
    # notebook 01 as a student who has done the exercises hands it in (the correct sample's
    # answers): the figure of 8.1 and the slider of 8.2 run their functions
    build.build_samples(out_root=root / "answered", release_root=course / "release")
    shutil.copy(root / "answered/correct/01_rnn/01_rnn.ipynb", root / "student" / ANSWERED)
    config = root / "jupyter-config"
    config.mkdir()
    # the tests' own Jupyter config: formgrader switched on here (not only by the environment's
    # config), nothing fetched from the network, an exchange folder that exists
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {
                        "jupyterlab": True,
                        "nbgrader.server_extensions.formgrader": True,
                    }
                },
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                },
            }
        )
    )
    (root / "exchange").mkdir()
    (config / "nbgrader_config.py").write_text(f"c.Exchange.root = {str(root / 'exchange')!r}\n")
    _settings(root / "lab-settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        tools_env(),
        HOME=str(root / "home"),
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(root / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / "lab-workspaces"),
    )
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False", "--allow-root",
    ]  # fmt: skip
    log = root / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    server.grading = pool.submit(_grade, root)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                server.api("/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(lab, browser):
    """One JupyterLab page for the module, its file browser in student/; each test opens what it
    needs from there and closes it again (loading JupyterLab again would cost seconds)."""
    context = _offline_context(browser)
    page = context.new_page()
    page.goto(f"{lab.url}/lab/workspaces/tests/tree/student?token={lab.token}", timeout=90_000)
    page.locator(".jp-DirListing-itemText", has_text="01_rnn.ipynb").first.wait_for(timeout=90_000)
    yield page
    context.close()
    # JupyterLab and its widgets load everything from the local server; formgrader's pages are
    # nbconvert's HTML, which links MathJax from a CDN (refused: the equations show as TeX)
    others = {u for u in context.blocked if not u.startswith(MATHJAX_CDN)}
    assert not others, f"pages asked the network for {sorted(others)}"


def _offline_context(browser):
    """A browser context whose requests to anywhere but loopback are refused (and listed in
    ``context.blocked``): nothing is downloaded while the tests run."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.blocked = []

    def refuse(route):
        context.blocked.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(https?|wss?)://(?!127\.0\.0\.1[:/])"), refuse)
    return context


# --------------------------------------------------------------------------- notebook helpers
def _open_notebook(page, lab: Lab, path: str) -> None:
    """Open ``path`` (in student/) from the file browser, as a student does; wait for its kernel."""
    _close_all(page)
    name = path.rsplit("/", 1)[-1]
    page.locator(".jp-DirListing-itemText").get_by_text(name, exact=True).dblclick()
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    lab.wait_for_idle_kernel(path)
    # the front end's own view of the kernel (status bar), so that nothing is sent before it
    # is connected
    page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=60_000)


def _close_all(page) -> None:
    """Close every tab, discarding unsaved changes (the kernels are shut down by the tests)."""
    if not page.locator(".jp-NotebookPanel, .jp-MainAreaWidget iframe").count():
        return
    _menu(page, "File", "application:close-all")
    deadline = time.monotonic() + 20
    while page.locator(".jp-NotebookPanel, .jp-MainAreaWidget iframe").count():
        discard = page.locator(".jp-Dialog button", has_text="Discard")
        if discard.count():
            discard.first.click()
        assert time.monotonic() < deadline, "the open tabs did not close"
        page.wait_for_timeout(100)


def _cell(page, index: int):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


def _menu(page, menu: str, command: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=menu).first.click()
    page.locator(f"li[data-command='{command}']").click()


def _select(page, index: int) -> None:
    """Make the cell at ``index`` the active one, in command mode."""
    page.keyboard.press("Escape")
    _cell(page, index).locator(".jp-InputPrompt").click()
    page.wait_for_function(
        "i => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')[i]"
        ".classList.contains('jp-mod-active')",
        arg=index,
        timeout=10_000,
    )


def _type_into(page, index: int, code: str) -> None:
    """Replace the text of the code cell at ``index`` as a student does: click, select all, type."""
    cell = _cell(page, index)
    cell.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(code)
    shown = cell.locator(".cm-content").inner_text()
    assert shown.strip() == code.strip(), f"the cell holds\n{shown}\ninstead of\n{code}"
    page.keyboard.press("Escape")


def _run_through(page, index: int, timeout_ms: int = 180_000) -> None:
    """Run every cell above ``index``, then that cell, from the Run menu; wait until it ran (or
    a cell above failed, which cancels the rest: the caller's checks then say which)."""
    _select(page, index)
    _menu(page, "Run", "notebook:run-all-above")
    _select(page, index)
    _menu(page, "Run", "notebook:run-cell")
    page.wait_for_function(
        """i => {
            const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')];
            const prompt = cells[i].querySelector('.jp-InputPrompt');
            const failed = cells.slice(0, i).some(
                c => (c.querySelector('.jp-OutputArea') || {innerText: ''}).innerText
                    .includes('Traceback'));
            return failed || /\\[\\d+\\]/.test(prompt.innerText);
        }""",
        arg=index,
        timeout=timeout_ms,
    )


def _prompt(page, index: int) -> str:
    return _cell(page, index).locator(".jp-InputPrompt").inner_text()


def _outputs(page, index: int) -> str:
    area = _cell(page, index).locator(".jp-OutputArea")
    return area.inner_text() if area.count() else ""


TRACEBACK = re.compile(r"Traceback|^\w*Error\b|\w+Error: ", re.M)


def _mimes(cell) -> list[str]:
    return [m for a in cell.get("attachments", {}).values() for m in a]


def _grade_ids(nb) -> list[str | None]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


# --------------------------------------------------------------------------- the student's side
def test_every_student_notebook_has_a_mistake_to_try():
    assert set(MISTAKES) == set(STUDENT_NOTEBOOKS), "add a typical mistake for each notebook"


@pytest.mark.parametrize("name", STUDENT_NOTEBOOKS)
def test_a_typical_mistake_shows_the_visible_test_message(lab, page, name):
    exercise, words, code = MISTAKES[name]
    nb = nbformat.read(lab.root / "student" / f"{name}.ipynb", as_version=4)
    ids = _grade_ids(nb)
    answer, test = ids.index(exercise), ids.index(f"test_{exercise}")
    assert test == answer + 1, f"{name}: the test cell of {exercise} does not follow it"
    path = f"student/{name}.ipynb"
    with evidence(page, f"student_{name}", lab):
        _open_notebook(page, lab, path)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
        assert title in _cell(page, 0).locator("h1").inner_text()
        # the stub is what a student finds
        assert "raise NotImplementedError()" in _cell(page, answer).inner_text()
        # the diagrams (markdown attachments) are shown, not broken images
        images = page.locator(".jp-NotebookPanel .jp-RenderedMarkdown img")
        if any(a.startswith("image/") for c in nb.cells for a in _mimes(c)):
            assert images.count(), f"{name}: no diagram is shown"
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-NotebookPanel .jp-RenderedMarkdown img')]"
            ".every(img => img.complete && img.naturalWidth > 0)",
            timeout=30_000,
        )
        _type_into(page, answer, code)
        _run_through(page, test)
        # every code cell above ran (an execution count), and none of them raised
        for i, cell in enumerate(nb.cells[:test]):
            if cell.cell_type != "code":
                continue
            assert re.search(r"\[\d+\]", _prompt(page, i)), f"{name}: cell {i} did not run"
            text = _outputs(page, i)
            assert not TRACEBACK.search(text), f"{name}: given cell {i} failed:\n{text}"
        out = _outputs(page, test)
        assert "AssertionError" in out and words in out, (
            f"{name}: the test cell of {exercise} printed\n{out}\nexpected an AssertionError "
            f"naming the mistake ({words!r})"
        )
        _cell(page, test).locator(".jp-Cell-outputArea").scroll_into_view_if_needed()
        page.screenshot(path=str(lab.root / f"{name}.png"))
    lab.shut_down_kernels(path)


# --------------------------------------------------------------------------- the slider
def _png_of(page, index: int) -> bytes:
    src = _cell(page, index).locator(".jp-OutputArea img").first.get_attribute("src")
    assert src and src.startswith("data:image/png;base64,"), src
    return base64.b64decode(src.split(",", 1)[1])


def test_the_spectral_radius_slider_redraws_the_plot(lab, page):
    nb = nbformat.read(lab.root / "student" / ANSWERED, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "widgets.interact(" in c.source)
    path = f"student/{ANSWERED}"
    with evidence(page, "slider", lab):
        _open_notebook(page, lab, path)
        _run_through(page, index)
        cell = _cell(page, index)
        slider = cell.locator(".widget-slider", has_text="ρ(W_h)")
        slider.wait_for(timeout=60_000)
        readout = slider.locator(".widget-readout")
        assert readout.inner_text().strip() == "1.00"
        cell.locator(".jp-OutputArea img").first.wait_for(timeout=60_000)
        lab.wait_for_idle_kernel(path)
        before = _png_of(page, index)
        assert before[:8] == b"\x89PNG\r\n\x1a\n" and len(before) > 10_000
        page.screenshot(path=str(lab.root / "slider_before.png"))
        # drag the handle of the rho slider to the right, as a mouse does
        handle = slider.locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 60, y, steps=6)
        page.mouse.up()
        page.wait_for_function(
            "el => el.innerText.trim() !== '1.00'", arg=readout.element_handle(), timeout=10_000
        )
        rho = float(readout.inner_text())
        assert rho > 1.0, f"the slider moved left, to {rho}"
        # the plot is drawn again for the new rho: wait for the kernel, then for a new image
        lab.wait_for_idle_kernel(path)
        page.wait_for_function(
            "([el, old]) => { const img = el.querySelector('.jp-OutputArea img');"
            " return img && img.src.length > 100 && img.src !== old; }",
            arg=[
                cell.element_handle(),
                "data:image/png;base64," + base64.b64encode(before).decode(),
            ],
            timeout=60_000,
        )
        after = _png_of(page, index)
        assert after != before and after[:8] == b"\x89PNG\r\n\x1a\n"
        page.screenshot(path=str(lab.root / "slider_after.png"))
        cell.locator(".jp-Cell-outputArea").screenshot(path=str(lab.root / "slider_output.png"))
    lab.shut_down_kernels(path)


# --------------------------------------------------------------------------- the instructor's side
def _grade(root: Path) -> dict[str, dict[str, float]]:
    """Three submissions of 01_rnn in the course copy under ``root``, graded by the grading
    command: the correct and the mistakes samples and a hand-made one with a partly right
    exercise. Returns {student: {exercise: score}} from the command's result files."""
    course = root / "course"
    proc = run_nbgrader(course, "generate_assignment", GRADED, "--force", "--log-level=WARN")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for student in ("correct", "mistakes"):
        dest = course / "submitted" / student / GRADED
        dest.mkdir(parents=True)
        shutil.copy(root / "answered" / student / GRADED / f"{GRADED}.ipynb", dest)
    nb = nbformat.read(course / "release" / GRADED / f"{GRADED}.ipynb", as_version=4)
    nb.cells[_grade_ids(nb).index("rnn_step_forward")].source = SQUEEZED
    dest = course / "submitted" / "squeezed" / GRADED
    dest.mkdir(parents=True)
    nbformat.write(nb, dest / f"{GRADED}.ipynb")
    cmd = [sys.executable, "-m", "autograder", "grade", GRADED, "--course", str(course)]
    proc = subprocess.run([*cmd, "--no-progress"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = {}
    for p in sorted((course / "grading" / GRADED / "results").glob("*.json")):
        data = json.loads(p.read_text())
        out[p.stem] = {ex: float(v["score"]) for ex, v in data["exercises"].items()}
    assert sorted(out) == ["correct", "mistakes", "squeezed"], out
    return out


@pytest.fixture(scope="module")
def graded(lab) -> dict[str, dict[str, float]]:
    """The grades of _grade, which started with the server (it runs while the student
    notebooks are tried)."""
    return lab.grading.result(timeout=600)


def _gradebook(course: Path) -> dict[str, tuple[float, dict[str, tuple]]]:
    """{student: (total score, {cell: (auto score, manual score)})} read with nbgrader's API."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(GRADED):
            cells = {
                g.name: (g.auto_score, g.manual_score) for nb in sub.notebooks for g in nb.grades
            }
            out[sub.student_id] = (float(sub.score), cells)
    return out


def _suite_code_lines() -> list[str]:
    """The code lines of 01's hidden suites (no comments, docstrings or bare strings), the ones
    long enough to be their own."""
    lines = set()
    for path in sorted((ROOT / "autograder" / "suites" / GRADED).glob("test_*.py")):
        text = path.read_text()
        code_rows = set()
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NAME, tokenize.NUMBER) or (
                tok.type == tokenize.OP and tok.string not in "()[]{},"
            ):
                code_rows.add(tok.start[0])
        rows = text.splitlines()
        lines |= {rows[i - 1].strip() for i in code_rows if len(rows[i - 1].strip()) >= 25}
    return sorted(lines)


def _show_names(fg, students: list[str]) -> None:
    """On formgrader's list of submissions: wait for every row, then show the students' names
    (the page hides them; the toggle acts on the rows drawn so far)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    expect(fg.locator("td.name")).to_have_count(len(students), timeout=30_000)
    for _ in range(3):
        if fg.locator("#toggle_names", has_text="Show All Names").count():
            fg.locator("#toggle_names").click()
        try:
            for s in students:
                fg.locator("a.name-shown", has_text=s).wait_for(state="visible", timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"formgrader never showed the names of {students}")


def _formgrader(page):
    return page.frame_locator(".jp-MainAreaWidget iframe").first


def test_formgrader_shows_the_command_grades_and_takes_a_manual_grade(lab, page, graded):
    course = lab.root / "course"
    release = nbformat.read(course / "release" / GRADED / f"{GRADED}.ipynb", as_version=4)
    points = {
        c.metadata["nbgrader"]["grade_id"].removeprefix("test_"): c.metadata["nbgrader"]["points"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    }
    # what the grades must be, known without the grader: the correct sample earns every point;
    # the mistakes sample only rnn_step_forward (its other visible tests fail); the squeezed
    # submission a part of rnn_step_forward and nothing else (unanswered)
    assert graded["correct"] == points
    assert graded["mistakes"] == {
        ex: (p if ex == "rnn_step_forward" else 0.0) for ex, p in points.items()
    }
    maximum = sum(
        c.metadata["nbgrader"]["points"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )
    partial = graded["squeezed"]["rnn_step_forward"]
    assert 0 < partial < points["rnn_step_forward"], partial
    before = _gradebook(course)
    log = lab.log.read_text()  # the server extension, switched on in the tests' own config
    assert "nbgrader.server_extensions.formgrader | extension was successfully loaded" in log, log
    with evidence(page, "formgrader", lab):
        _close_all(page)
        # the lab extension's menu (it is there only when @jupyter/nbgrader is enabled)
        _menu(page, "Nbgrader", "nbgrader:open-formgrader")
        fg = _formgrader(page)
        # Manage Assignments lists the assignment with its three submissions
        row = fg.locator("tr", has=fg.locator("td a", has_text=GRADED)).first
        row.wait_for(timeout=60_000)
        headers = [h.strip() for h in fg.locator("thead th").all_inner_texts()]
        column = next(i for i, h in enumerate(headers) if "Submissions" in h)
        assert row.locator("td").nth(column).inner_text().strip() == "3"
        # Manual Grading: the assignment, its notebook, the submissions with their totals
        fg.locator("a", has_text="Manual Grading").first.click()
        fg.locator("td a", has_text=GRADED).first.click()
        fg.locator("td a", has_text=GRADED).first.click()
        _show_names(fg, sorted(graded))
        for student, (total, _) in before.items():
            cells = fg.locator("tr", has=fg.locator("a.name-shown", has_text=student)).locator("td")
            got, most = (float(v) for v in cells.nth(2).inner_text().split("/"))
            # formgrader shows two decimals
            assert abs(got - total) <= 0.005 and most == maximum, (student, got, most, total)
        shown = {}
        for student in graded:
            fg.locator("a.name-shown", has_text=student).click()
            fg.locator("input.score#q_clipping").wait_for(timeout=60_000)
            for ex in points:
                # the score box's placeholder is the autograded score, set once the page has
                # fetched the grades
                score = fg.locator(f"input.score#test_{ex}[placeholder]")
                score.wait_for(state="attached", timeout=30_000)
                shown[student, ex] = float(score.get_attribute("placeholder"))
            if student == "mistakes":
                # grade the written answer by hand: 1 point of 2 for q_clipping
                box = fg.locator("input.score#q_clipping")
                box.fill("1")
                box.press("Tab")
                panel = fg.locator(".nbgrader_cell", has=fg.locator("input#q_clipping"))
                panel.locator(".score-saved").wait_for(timeout=30_000)
                page.screenshot(path=str(lab.root / "formgrader_submission.png"))
            fg.locator(".breadcrumb a", has_text=GRADED).last.click()
            _show_names(fg, sorted(graded))
        for (student, ex), value in shown.items():
            assert abs(value - graded[student][ex]) < 1e-9, (student, ex, value)
        # back on the list, the hand-graded point is in the student's overall score
        row = fg.locator("tr", has=fg.locator("a.name-shown", has_text="mistakes"))
        expected = f"{before['mistakes'][0] + 1:.2f}".rstrip("0").rstrip(".")
        row.locator("td").nth(2).get_by_text(f"{expected} / ").wait_for(timeout=30_000)
        page.screenshot(path=str(lab.root / "formgrader_list.png"))
        page.locator(".jp-MainAreaWidget iframe").first.screenshot(
            path=str(lab.root / "formgrader_list_frame.png")
        )
    # the manual grade reached the gradebook, and the student's total grew by exactly that point
    deadline = time.monotonic() + 30
    while _gradebook(course)["mistakes"][1]["q_clipping"][1] is None:
        assert time.monotonic() < deadline, "formgrader's manual grade never reached the gradebook"
        time.sleep(0.25)
    after = _gradebook(course)
    assert after["mistakes"][1]["q_clipping"][1] == 1.0
    assert after["mistakes"][0] == pytest.approx(before["mistakes"][0] + 1.0)
    assert {s: v[0] for s, v in after.items() if s != "mistakes"} == {
        s: v[0] for s, v in before.items() if s != "mistakes"
    }


def test_feedback_shows_the_hidden_messages_and_none_of_their_code(lab, page, graded):
    course = lab.root / "course"
    args = ("generate_feedback", GRADED, "--student", "mistakes", "--force", "--log-level=WARN")
    proc = run_nbgrader(course, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = course / "feedback" / "mistakes" / GRADED / f"{GRADED}.html"
    assert html.is_file(), sorted(str(p) for p in (course / "feedback").rglob("*"))
    result = json.loads((course / "grading" / GRADED / "results" / "mistakes.json").read_text())
    messages = [m for ex in result["exercises"].values() for m in ex["failures"].values()]
    assert len(messages) >= 6, messages
    sample = (COURSE / "samples" / GRADED / "mistakes.py").read_text()
    names = next(
        ast.literal_eval(n.value)
        for n in ast.parse(sample).body
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "NAMES"
    )
    total = _gradebook(course)["mistakes"][0]
    context = _offline_context(page.context.browser)
    feedback = context.new_page()
    with evidence(feedback, "feedback", lab):
        feedback.goto(html.as_uri())
        text = feedback.locator("body").inner_text()
        # the score at the top is the gradebook's (with any grade given by hand)
        got = re.search(rf"{GRADED} \(Score: ([0-9.]+) / ([0-9.]+)\)", text)
        assert got and abs(float(got[1]) - total) < 0.01, (got and got[0], total)
        flat = " ".join(text.split())
        # the hidden suites' messages, as the grading command recorded them, and the words the
        # sample declares for its mistakes
        missing = [m for m in messages if " ".join(m.split()) not in flat]
        assert not missing, f"{len(missing)} hidden messages are not in the feedback: {missing[:2]}"
        for exercise, words in names.items():
            for w in words:
                assert w in flat, f"the feedback does not name the {exercise} mistake ({w!r})"
        # none of the hidden code: no hidden region, no suite line
        for marker in ("BEGIN HIDDEN TESTS", "run_hidden_suite", "autograder.suites"):
            assert marker not in text, marker
        lines = _suite_code_lines()
        assert len(lines) > 20, lines
        # a suite line the student wrote too (or the release holds) is not a leak
        shown = "\n".join(
            c.source
            for folder in ("submitted/mistakes", "release")
            for c in nbformat.read(course / folder / GRADED / f"{GRADED}.ipynb", as_version=4).cells
        )
        leaked = [line for line in lines if line in text and line not in shown]
        assert not leaked, f"suite code in the feedback: {leaked[:5]}"
        feedback.screenshot(path=str(lab.root / "feedback.png"))
    context.close()
    # nbgrader's feedback page links MathJax from a CDN (refused here, so its equations show as
    # TeX source offline); nothing else may be fetched
    others = {u for u in context.blocked if not u.startswith(MATHJAX_CDN)}
    assert not others, f"the feedback page asked the network for {sorted(others)}"
