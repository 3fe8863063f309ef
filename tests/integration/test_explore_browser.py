"""The explorer page in a real browser (headless Chromium through Playwright), as a user meets it:
`python -m vit_inpaint.explore` serves it, each tab loads, a mask is painted, filled and the result
read; bad input gets a message while the server goes on serving, also to a second browser.

Skipped, with the command that installs what is missing, where Gradio, Playwright or a system
Chromium is not there (`make test` installs the first two; .ci/run the browser).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import explore_driver as driver  # noqa: E402

pytestmark = pytest.mark.slow

MISSING = [name for name in ("gradio", "playwright") if not driver.importable(name)]
if MISSING or driver.browser_path() is None:
    pytest.skip(
        f"needs {', '.join(MISSING) or 'a system Chromium'}: {driver.INSTALL}",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def server():
    with driver.served() as (url, seconds, log, pid):
        yield url


def test_each_tab_loads_paints_fills_and_shows_its_result(server):
    with driver.browser_page(server) as page:
        inside = driver.inside_tab(page)
        assert "query patch 0" in inside["attention"]
        assert "nothing visible predicts a hidden pixel" in inside["lesson"]
        assert "Over its 1000 test images" in inside["fills"]
        # the click hid a pixel beside the 2x2 patch: the choice says so; the noise model's 4
        # patches bound the index; it has no lengthscale to turn
        assert page.locator("#inside-masking input:checked").input_value() == "clicked pixels"
        assert "0-3" in page.locator("#inside-index").inner_text()
        assert page.locator("#inside-lengthscale input[type=range]").is_disabled()
        photo = driver.photo_tab(page)
        assert "model" in photo and "Navier-Stokes" in photo
        assert "Hidden-pixel error" in photo and "Closest:" in photo
        page.locator("#photo-download a").first.wait_for()  # the filled PNG to download
        digit = driver.digits_tab(page)
        assert "temperature" in digit and "Rollout" in digit


def test_bad_input_gets_a_message_and_the_page_keeps_serving(server, tmp_path):
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("these are notes, not a photo")
    with driver.browser_pages(server, count=2) as (first, second):
        driver.wait_ready(first)
        driver.wait_ready(second)
        driver.open_tab(first, "Fill your photo")
        first.locator("#photo-fill").click()  # nothing painted yet
        assert "error: nothing is painted" in driver.text_of(first, "photo-message", "error")
        first.locator("#photo-upload input[type=file]").set_input_files(str(not_an_image))
        message = driver.text_of(first, "photo-message", "not a photo")
        assert "error:" in message and "notes.png" in message
        assert first.locator("#photo-bundled input").input_value() == "camera"  # still shown
        # A second browser at the same time gets its own answers.
        assert "Time to fill" in driver.photo_tab(second)
        photo = tmp_path / "mine.png"
        Image.new("RGB", (40, 30), "white").save(photo)
        second.locator("#photo-upload input[type=file]").set_input_files(str(photo), timeout=30_000)
        second.wait_for_function(
            "() => document.querySelector('#photo-bundled input').value === ''", timeout=60_000
        )  # the bundled choice no longer claims the uploaded photo
        driver.open_tab(first, "Digits")
        first.locator("#digit-read").click()  # an empty canvas
        assert "nothing is drawn" in driver.text_of(first, "digit-message", "error")


def test_a_broken_run_checkpoint_is_said_on_the_page_and_the_shipped_models_stay(tmp_path):
    broken = tmp_path / "last.ckpt"
    broken.write_bytes(b"half a checkpoint")
    with driver.served("--run", str(broken)) as (url, seconds, log, pid):
        with driver.browser_page(url) as page:
            message = driver.text_of(page, "run-message", "error")
            assert f"RUN={broken}" in message and "not a checkpoint" in message
            assert "query patch" in driver.text_of(page, "inside-attention-words", "query patch")
