"""Drives the explorer page in a real headless Chromium, as a user would: the browser test
(tests/integration/test_explore_browser.py) and `make screenshots`
(scripts/explore_screenshots.py) share it.

    python scripts/explore_driver.py     # serve the page, print how long it took to answer, stop

Playwright's Python package drives Debian's own Chromium (`apt-get install -y
chromium-headless-shell`, or `chromium`) through `executable_path`: no browser download.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium-headless-shell", "chromium")
INSTALL = ('apt-get install -y chromium-headless-shell && .venv/bin/python -m pip install -e '
           '".[explore]"')  # fmt: skip
SLOW = 300_000  # ms: a loaded 2-core machine took 90 s for a first photo fill (model loading)


def browser_path() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(*extra: str, timeout: float = 180.0, log: Path | None = None):
    """`python -m vit_inpaint.explore` on a free port: (url, seconds until it answered, the path
    of its log, its process id); stopped (its own process only) at the end. Its output goes to a
    file, never to a pipe nobody reads, which would stall the server once full."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    log = log or Path(tempfile.mkstemp(prefix="explore-", suffix=".log")[1])
    start = time.perf_counter()
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "vit_inpaint.explore", "--port", str(port), *extra],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        while time.perf_counter() - start < timeout:
            if "ready on" in log.read_text():
                yield f"http://127.0.0.1:{port}", time.perf_counter() - start, log, server.pid
                return
            if server.poll() is not None:
                raise RuntimeError("the page stopped before it served:\n" + log.read_text())
            time.sleep(0.1)
        raise RuntimeError(f"the page did not answer in {timeout:.0f} s:\n" + log.read_text())
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@contextmanager
def browser_pages(url: str, count: int = 1, width: int = 1400, height: int = 1000):
    """`count` pages on the explorer, each in its own browser context (its own session, as two
    people's browsers are), in one headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            pages = []
            for _ in range(count):
                page = browser.new_context(viewport={"width": width, "height": height}).new_page()
                page.set_default_timeout(SLOW)
                page.goto(url)
                pages.append(page)
            yield pages
        finally:
            browser.close()


@contextmanager
def browser_page(url: str, width: int = 1400, height: int = 1000):
    with browser_pages(url, 1, width, height) as (page,):
        yield page


def text_of(page, element_id: str, containing: str) -> str:
    """Waits until #element_id holds `containing`, and returns its text."""
    locator = page.locator(f"#{element_id}")
    locator.filter(has_text=containing).first.wait_for()
    return locator.first.inner_text()


def wait_ready(page) -> None:
    """Until the page has drawn its first view: before that a click may reach a button whose
    event is not wired yet, and be lost."""
    text_of(page, "inside-fills-words", "error is")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def drag(page, selector: str, points: list[tuple[float, float]]) -> None:
    """A mouse stroke through `points` (fractions of the element's width and height)."""
    box = page.locator(selector).first.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def inside_tab(page) -> dict[str, str]:
    """Waits for the first view, clicks pixel (0, 3) of the input to hide it, waits for the new
    view: the sentences under the pictures."""
    wait_ready(page)
    before = text_of(page, "inside-attention-words", "query patch")
    box = page.locator("#inside-input img").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.1)
    page.wait_for_timeout(500)
    return {
        "attention": before,
        "after_click": text_of(page, "inside-attention-words", "query patch"),
        "lesson": text_of(page, "inside-lesson", "Over 64 new images"),
        "fills": text_of(page, "inside-fills-words", "error is"),
    }


def photo_tab(page) -> str:
    """Paints a stroke across the bundled photo and fills it: the timing and error lines."""
    open_tab(page, "Fill your photo")
    canvas = "#photo-editor canvas"
    page.locator(canvas).first.wait_for()
    page.wait_for_timeout(1000)  # the editor draws its background after the canvas appears
    drag(page, canvas, [(0.45, 0.4), (0.5, 0.45), (0.55, 0.6)])  # the photo sits centred
    page.locator("#photo-fill").click()
    return text_of(page, "photo-result", "Time to fill")


def digits_tab(page) -> str:
    """Draws a "1" on the canvas and reads it: the classifier's sentence."""
    open_tab(page, "Digits")
    canvas = "#digit-canvas canvas"
    page.locator(canvas).first.wait_for()
    page.wait_for_timeout(1000)
    # no click on the brush: the page chooses it when the tab opens, or the stroke draws nothing
    drag(page, canvas, [(0.5, 0.2), (0.5, 0.5), (0.5, 0.8)])
    page.locator("#digit-read").click()
    return text_of(page, "digit-words", "The classifier says")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux /proc): a figure the
    other processes sharing the machine do not inflate, unlike its wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python scripts/explore_driver.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)
    with served() as (url, seconds, log, pid):
        print(f"{url} answered {seconds:.1f} s after the command started "
              f"({cpu_seconds(pid):.1f} s of its CPU); log: {log}")  # fmt: skip


if __name__ == "__main__":
    main()
