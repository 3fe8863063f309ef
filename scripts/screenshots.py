"""TensorBoard's first views of a sweep and the sweep report's figures, as a user sees them.

    python scripts/screenshots.py [SWEEP] [--out docs/screenshots]     (make screenshots)

SWEEP defaults to the latest folder under outputs/multiruns/ (what `make sweep` wrote). The script
starts TensorBoard on the sweep (a free port on localhost), waits until it has read every run,
renders the Time Series, HParams and Images tabs with headless Chromium (Debian's
chromium-headless-shell; `make screenshots` installs it when missing), stops the server and
copies the report's figures beside the screenshots, so docs/ shows what a user really sees.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABS = {"timeseries": "tensorboard_time_series.png", "hparams": "tensorboard_hparams.png",
        "images": "tensorboard_images.png"}  # fmt: skip
BROWSERS = ("chromium-headless-shell", "chromium")
# Chromium's own background traffic goes nowhere on a closed network: turned off, not waited for.
QUIET = ["--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic"]  # fmt: skip


def latest_sweep() -> Path:
    sweeps = sorted((ROOT / "outputs" / "multiruns").glob("*/"))
    if not sweeps:
        sys.exit("error: no sweep under outputs/multiruns: run `make sweep` first, or give one")
    return sweeps[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_runs(url: str, expected: int, timeout: float = 120.0) -> None:
    """Until TensorBoard serves every run of the sweep (it reads event files in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/data/runs", timeout=5) as response:
                if len(json.loads(response.read())) >= expected:
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    sys.exit(f"error: TensorBoard at {url} did not show {expected} run(s) in {timeout:.0f} s")


def screenshot(browser: str, url: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        command = [browser, *QUIET, f"--user-data-dir={profile}", "--window-size=1600,1200",
                   "--virtual-time-budget=20000", f"--screenshot={out}", url]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=180)
    print(f"{shown(out)}: {url}")


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python scripts/screenshots.py", description=__doc__)
    parser.add_argument("sweep", nargs="?", type=Path, help="a sweep folder (default: latest)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    sweep = (args.sweep or latest_sweep()).resolve()
    runs = [p for p in sweep.iterdir() if p.is_dir() and list(p.glob("events.out.tfevents.*"))]
    if not runs:
        sys.exit(f"error: {sweep} holds no run with TensorBoard events")
    browser = next((b for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        sys.exit("error: no headless Chromium: apt-get install -y chromium-headless-shell")
    args.out.mkdir(parents=True, exist_ok=True)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tensorboard = Path(sys.executable).with_name("tensorboard")
    server = subprocess.Popen(
        [str(tensorboard), "--logdir", str(sweep), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_runs(url, len(runs))
        for tab, name in TABS.items():
            screenshot(browser, f"{url}/?forceSVG=true#{tab}", args.out / name)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for figure in sorted(sweep.glob("*.png")):  # the report's figures, as report.md links them
        shutil.copyfile(figure, args.out / f"report_{figure.name}")
        print(f"{shown(args.out / f'report_{figure.name}')}: {figure}")


if __name__ == "__main__":
    main()
