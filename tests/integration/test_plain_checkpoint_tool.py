"""The filling tool, in a process of its own, against a damaged shipped file: one `error:` line,
never a traceback (the reader itself is tested in tests/unit/test_plain_checkpoint_hostile.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.unit.test_plain_checkpoint_hostile import _damaged


@pytest.mark.slow
def test_the_tool_names_a_damaged_shipped_file_in_an_error_line(tmp_path):
    """A copy of the package whose shipped weights are damaged: `error:`, status 2, no output."""
    package = tmp_path / "site"
    shutil.copytree(ROOT / "vit_inpaint", package / "vit_inpaint",
                    ignore=shutil.ignore_patterns("__pycache__", "explore_*.ckpt"))  # fmt: skip
    shutil.copy(_damaged(tmp_path, "shape"), package / "vit_inpaint" / "weights" / "inpainter.ckpt")
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "image.png", np.full((32, 32), 100, np.uint8))
    mask = np.zeros((32, 32), np.uint8)
    mask[10:14, 10:14] = 255
    iio.imwrite(tmp_path / "mask.png", mask)
    out = tmp_path / "out.png"
    result = subprocess.run(
        [sys.executable, "-m", "vit_inpaint.cli.inpaint", "--image", str(tmp_path / "image.png"),
         "--mask", str(tmp_path / "mask.png"), "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path,  # not the checkout: its package first
        env={**os.environ, "PYTHONPATH": str(package)},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "error: argument --ckpt:" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
