"""The explorer page's three tabs as a user sees them, after using each: docs/screenshots/.

    python scripts/explore_screenshots.py [--out docs/screenshots]      (part of make screenshots)

Starts `python -m vit_inpaint.explore` on a free port, drives headless Chromium through each tab
(scripts/explore_driver.py: the first view of "Inside the ViT" on the 8x8 Gaussian-field model
and on noise, a stroke painted on a photo and filled, a drawn digit read), and saves each page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import explore_driver as driver  # noqa: E402


def pick_model(page, name: str) -> None:
    """Chooses `name` in the model selector and waits for its view."""
    page.locator("#inside-model input").first.click()
    page.get_by_role("option", name=name).click()
    driver.text_of(page, "inside-fills-words", "error is")
    page.wait_for_timeout(4000)  # the view's images arrive after the words


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python scripts/explore_screenshots.py", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=driver.ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    if driver.browser_path() is None:
        sys.exit("error: no headless Chromium: apt-get install -y chromium-headless-shell")
    args.out.mkdir(parents=True, exist_ok=True)
    with driver.served() as (url, seconds, _, pid), driver.browser_page(url, height=1100) as page:
        print(f"page ready in {seconds:.1f} s")
        driver.text_of(page, "inside-fills-words", "error is")
        page.wait_for_timeout(4000)
        page.screenshot(path=args.out / "explore_inside_noise.png", full_page=True)
        pick_model(page, "8x8, Gaussian fields")
        page.screenshot(path=args.out / "explore_inside_fields.png", full_page=True)
        driver.photo_tab(page)
        page.wait_for_timeout(3000)
        page.screenshot(path=args.out / "explore_photo.png", full_page=True)
        driver.digits_tab(page)
        page.wait_for_timeout(3000)
        page.screenshot(path=args.out / "explore_digits.png", full_page=True)
    for name in ("inside_noise", "inside_fields", "photo", "digits"):
        print(f"docs/screenshots/explore_{name}.png")


if __name__ == "__main__":
    main()
