"""The student release opens in a real JupyterLab in a real browser (Debian's chromium).

Starts `jupyter lab` on a free loopback port with a copy of the release, drives chromium with
Playwright, and checks what a student sees: the notebook renders, the exercise stubs and the
test cells are there, and running the setup cell works.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    nb = ROOT / "course" / "release" / "01_rnn" / "01_rnn.ipynb"
    shutil.copy(nb, tmp_path / nb.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), HOME=str(tmp_path))
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.open_browser=False", "--allow-root",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not start within 60 s")
        yield url, token, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_student_notebook_opens_and_runs_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    url, token, folder = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/01_rnn.ipynb?token={token}", timeout=60_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        title = page.locator(".jp-RenderedMarkdown h1").first
        title.wait_for(timeout=30_000)
        assert "Vanilla RNNs and vanishing gradients" in title.inner_text()
        # run the first code cell (setup) with the kernel: it must finish without an error.
        # A key pressed while the notebook is still attaching its kernel can be dropped (or a
        # kernel dialog can take it), so run the cell again until an execution count appears.
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        ran = ".jp-Notebook .jp-CodeCell .jp-InputPrompt:text-matches('\\[[0-9]+\\]')"
        for _ in range(4):
            accept = page.locator(".jp-Dialog .jp-mod-accept")
            if accept.count():
                accept.first.click()
            page.locator(".jp-Notebook .jp-CodeCell").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                page.wait_for_selector(ran, timeout=45_000)
                break
            except PlaywrightTimeout:
                continue
        else:
            pytest.fail("the setup cell never ran in JupyterLab (no execution count after 180 s)")
        assert page.locator(".jp-OutputArea-output[data-mime-type*='error']").count() == 0
        page.screenshot(path=str(folder / "jupyterlab.png"))
        # JupyterLab renders only the cells in view: scroll through and read what appears
        page.locator(".jp-Notebook").hover()
        seen = ""
        for _ in range(60):
            seen += page.locator(".jp-Notebook").inner_text()
            page.mouse.wheel(0, 1200)
            page.wait_for_timeout(100)
        for expected in (
            "def rnn_step_forward",
            "YOUR CODE HERE",
            "def clip_by_global_norm",
            "YOUR ANSWER HERE",
        ):
            assert expected in seen, f"{expected!r} never appeared in the rendered notebook"
        browser.close()
    assert (folder / "jupyterlab.png").stat().st_size > 10_000
