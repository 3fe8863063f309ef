"""Each script in scripts/ at least answers `--help`: it imports, parses its arguments and says
what it does, in this process (runpy, as `python scripts/<name>.py --help` runs it)."""

from __future__ import annotations

import contextlib
import io
import runpy
import sys
from pathlib import Path

import pytest

# The commands among them (a module other scripts import, such as explore_driver.py, runs nothing).
SCRIPTS = [
    path
    for path in sorted((Path(__file__).resolve().parents[2] / "scripts").glob("*.py"))
    if 'if __name__ == "__main__":' in path.read_text()
]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_each_script_answers_help(script, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(script), "--help"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(script), run_name="__main__")
    assert exit_.value.code in (0, None)
    assert out.getvalue().startswith("usage:"), out.getvalue()[:500]
    # Its description: the first line of its docstring, not argparse's bare usage line alone.
    assert len(out.getvalue().splitlines()) > 2
