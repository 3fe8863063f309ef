"""Every picture README.md and docs/*.md show is in the repository: a reader of the front door
on GitHub sees a broken image otherwise (the explorer's screenshot once was never committed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def tracked() -> set[str]:
    """The files git tracks: a picture on disk but never committed is missing for the reader."""
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.splitlines())


def shown_pictures() -> list[tuple[str, str]]:
    """(markdown file, picture path relative to the repository) for each local picture shown."""
    shown = []
    for markdown in markdown_files():
        for link in IMAGE.findall(markdown.read_text()):
            if re.match(r"[a-z]+://", link):
                continue  # pictures on the web are not ours to check
            path = (markdown.parent / link.split("#")[0]).resolve().relative_to(ROOT)
            shown.append((str(markdown.relative_to(ROOT)), path.as_posix()))
    return shown


def test_every_image_a_markdown_file_shows_exists():
    """Fast (make test-fast): on a fresh clone, an uncommitted picture is a missing file."""
    missing = [f"{md}: {path}" for md, path in shown_pictures() if not (ROOT / path).is_file()]
    assert shown_pictures() and not missing, "pictures shown but missing:\n" + "\n".join(missing)


@pytest.mark.slow
def test_every_image_a_markdown_file_shows_is_committed():
    """In a working copy the picture may be on disk and still never committed: ask git."""
    files = tracked()
    missing = [f"{md}: {path}" for md, path in shown_pictures() if path not in files]
    assert not missing, "pictures shown but not committed:\n" + "\n".join(missing)
