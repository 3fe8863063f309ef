"""The command line with the shipped weights, in a process of its own: it fills without ever
importing torch (the numpy forward itself is tested in tests/unit/test_numpy_vit.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT


@pytest.mark.slow  # starts a subprocess
def test_filling_with_the_shipped_inpainter_never_imports_torch(tmp_path):
    """The command line with the shipped weights reads, fills and writes without torch (its
    import alone takes longer than the fill of a small photograph)."""
    import imageio.v3 as iio

    rng = np.random.default_rng(0)
    iio.imwrite(tmp_path / "photo.png", (rng.random((40, 50, 3)) * 255).astype(np.uint8))
    iio.imwrite(tmp_path / "mask.png", ((rng.random((40, 50)) < 0.05) * 255).astype(np.uint8))
    code = (
        "import sys\n"
        "from vit_inpaint.cli import inpaint\n"
        f"inpaint.main(['--image', {str(tmp_path / 'photo.png')!r}, '--mask', "
        f"{str(tmp_path / 'mask.png')!r}, '--out', {str(tmp_path / 'out.png')!r}])\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert iio.imread(tmp_path / "out.png").shape == (40, 50, 3)
