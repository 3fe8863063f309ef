"""How fast the explorer page answers, against the command line on the same photo and mask.

    python scripts/bench_explore.py [--rounds 2]

Prints: seconds from `python -m vit_inpaint.explore` starting to the page answering, and to the
first view drawn in a headless Chromium; then, for the bundled photo `camera` (512x512) with a
stroke painted in the browser, seconds from clicking Fill to the result shown (each round), and
the wall time of `python -m vit_inpaint.cli.inpaint` on the same photo and the mask the page
hands out, alone and with --side-by-side (which, like the page, also runs the three classical
fills). BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import explore_driver as driver  # noqa: E402


def page_fill(page) -> tuple[float, str]:
    """Seconds from the click on Fill to a new result's words on the page (polled every 50 ms:
    the previous result's words stay until the new ones replace them), and those words."""
    result = page.locator("#photo-result")
    before = result.inner_text()
    start = time.perf_counter()
    page.locator("#photo-fill").click()
    while True:
        text = result.inner_text()
        if text != before and text.startswith("Time to fill"):
            return time.perf_counter() - start, text.splitlines()[0]
        time.sleep(0.05)


def command_line(*args: str) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one `python -m vit_inpaint.cli.inpaint` run."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vit_inpaint.cli.inpaint", *args], check=True,
                   cwd=driver.ROOT, capture_output=True)  # fmt: skip
    after = os.times()
    cpu = after.children_user + after.children_system - before.children_user
    return time.perf_counter() - start, cpu - before.children_system


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python scripts/bench_explore.py", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    with driver.served() as (url, ready, _, pid), driver.browser_page(url) as page:
        cpu = driver.cpu_seconds(pid)
        start = time.perf_counter()
        driver.text_of(page, "inside-fills-words", "error is")
        print(f"page answering {ready:.1f} s after the command started ({cpu:.1f} s of CPU); "
              f"first view drawn {ready + time.perf_counter() - start:.1f} s after it "
              f"({driver.cpu_seconds(pid):.1f} s of the server's CPU)")  # fmt: skip
        driver.open_tab(page, "Fill your photo")
        page.locator("#photo-editor canvas").first.wait_for()
        page.wait_for_timeout(1500)
        driver.drag(page, "#photo-editor canvas", [(0.45, 0.4), (0.5, 0.45), (0.55, 0.6)])
        for round_ in range(args.rounds):
            cpu = driver.cpu_seconds(pid)
            seconds, words = page_fill(page)
            words += f" ({driver.cpu_seconds(pid) - cpu:.1f} s of the server's CPU)"
            print(f"page, round {round_ + 1}: click on Fill to result shown {seconds:.2f} s; "
                  f"{words}")  # fmt: skip
        links = [a.get_attribute("href") for a in page.locator("#photo-download a").all()]
        link = next(link for link in links if link and "mask-" in link)
        mask = folder / "mask.png"
        with urllib.request.urlopen(urllib.parse.urljoin(url + "/", link)) as response:
            mask.write_bytes(response.read())
    from vit_inpaint.explore.fill_photo import bundled_photo
    from vit_inpaint.storage.images import read_mask, write_pngs
    from vit_inpaint.viz.pictures import to_uint8

    photo = folder / "camera.png"
    write_pngs({photo: to_uint8(bundled_photo("camera"))})
    print(f"mask: {int(read_mask(mask).sum())} painted pixels of 512x512")
    base = ["--image", str(photo), "--mask", str(mask), "--out", str(folder / "out.png")]
    for round_ in range(args.rounds):
        alone = command_line(*base)
        both = command_line(*base, "--side-by-side", str(folder / "cmp.png"))
        print(f"command line, round {round_ + 1}: {alone[0]:.2f} s ({alone[1]:.1f} s of CPU); "
              f"with --side-by-side {both[0]:.2f} s ({both[1]:.1f} s of CPU)")  # fmt: skip


if __name__ == "__main__":
    main()
