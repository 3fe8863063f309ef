"""`python -m vit_inpaint.cli.evaluate`: an inpainter against the classical tools on unseen photos,
and the inpainter recipe's model as the inpaint tool loads it."""

from __future__ import annotations

import csv
import math
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, TINY, compose_config
from vit_inpaint.cli.evaluate import main
from vit_inpaint.evaluation.classical import METHODS, neighbour_mean
from vit_inpaint.evaluation.photos import evaluate, mask_of, summary

pytestmark = pytest.mark.slow  # every test here uses a trained checkpoint or a subprocess


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny model of the inpainter's kind: 8x8 windows of photos, mixed masks, push-pull prior."""
    from vit_inpaint.training import train

    out = tmp_path_factory.mktemp("evaluate_model") / "run"
    train(compose_config("experiment=inpainter", TINY, "data.image_size=8", output_dir=out))
    return out / "checkpoints" / "last.ckpt"


def test_the_tool_writes_tables_and_a_figure_of_what_it_measured(checkpoint, tmp_path):
    out = tmp_path / "eval"
    args = ["--ckpt", str(checkpoint), "--out-dir", str(out), "--scales", "8", "--bins", "2"]
    args += ["--kinds", "holes2", "dropout", "--photos", "clock"]
    assert main(args) == 0
    rows = list(csv.DictReader((out / "evaluation.csv").open()))
    methods = {"model", *METHODS}
    # 1 scale x 2 kinds x 2 bins, one row per method.
    assert len(rows) == 4 * len(methods) and {r["method"] for r in rows} == methods
    for row in rows:
        mse = float(row["mse"])
        assert mse > 0 and float(row["psnr"]) == pytest.approx(10 * math.log10(1 / mse), abs=1e-3)
        assert float(row["seconds_per_megapixel"]) > 0
    text = (out / "evaluation.md").read_text()
    assert "model / biharmonic" in text and "model / telea" in text
    assert (out / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_are_the_hidden_pixel_errors_of_each_method():
    def perfect(image, mask):
        return image

    results = evaluate(perfect, ["clock"], [8], ["holes4"], [(0.1, 0.2)], methods=["telea"])
    by = {r.method: r for r in results}
    assert by["model"].mse == 0 and by["telea"].mse > 0
    # Masks come from the seed alone: the same case twice gives the same errors.
    again = evaluate(perfect, ["clock"], [8], ["holes4"], [(0.1, 0.2)], methods=["telea"])
    assert [r.mse for r in again] == [r.mse for r in results]


def test_masks_land_in_their_coverage_bin():
    import torch

    for kind in ("holes2", "holes8", "dropout", "strokes"):
        masks = mask_of(kind, 0.2, 0.3)(64, 64, 64, torch.Generator().manual_seed(0))
        coverage = masks.flatten(1).float().mean(1)
        # Shapes are added until the target, so a mask may pass it by one shape (8x8 of 64x64:
        # 1.6%); dropout is binomial around p (4096 pixels: sd under 1%).
        assert coverage.min() > 0.17 and coverage.max() < 0.33, kind


def test_the_summary_is_the_geometric_mean_of_the_ratios():
    from vit_inpaint.evaluation.photos import Result

    def result(kind, method, mse):
        return Result(4, kind, 0.0, 0.1, method, mse, 1, 1.0, 1.0)

    results = [result("holes2", "model", 1.0), result("holes2", "biharmonic", 2.0)]
    results += [result("dropout", "model", 4.0), result("dropout", "biharmonic", 2.0)]
    lines = summary(results)
    assert any("model / biharmonic = 1.000" in line for line in lines)  # sqrt(0.5 * 2)
    assert any("holes2: model / biharmonic = 0.500" in line for line in lines)


def test_training_photographs_are_refused(checkpoint, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vit_inpaint.cli.evaluate", "--ckpt", str(checkpoint), "--photos",
         "camera", "--out-dir", str(tmp_path / "e")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2 and "training photographs" in result.stderr
    assert not (tmp_path / "e").exists()


def test_neighbour_mean_fills_rings_from_the_border_inward():
    image = np.arange(25, dtype=float).reshape(5, 5) / 24
    mask = np.zeros((5, 5), bool)
    mask[1:4, 1:4] = True
    out = neighbour_mean(image, mask)
    np.testing.assert_array_equal(out[~mask], image[~mask])
    # The centre sees only the ring filled before it: the mean of its 8 neighbours.
    ring = out[1:4, 1:4].copy()
    ring[1, 1] = np.nan
    assert out[2, 2] == pytest.approx(np.nanmean(ring))
