"""`python -m vit_inpaint.cli.evaluate`: an inpainter against the classical tools on unseen photos
(bundled ones or the user's own files, with generated masks or the user's), and the inpainter
recipe's model as the inpaint tool loads it."""

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
from vit_inpaint.evaluation.photo_inputs import photo_sources, read_photo
from vit_inpaint.evaluation.photo_tables import summary
from vit_inpaint.evaluation.photos import evaluate, mask_of

# Small runs: the user's photographs are 32x48 crops, one scale, one bin, one mask kind.
SMALL = ["--scales", "1", "--bins", "1", "--kinds", "holes2"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny model of the inpainter's kind: 8x8 windows of photos, mixed masks, push-pull prior."""
    from vit_inpaint.training import train

    out = tmp_path_factory.mktemp("evaluate_model") / "run"
    train(compose_config("experiment=inpainter", TINY, "data.image_size=8", output_dir=out))
    return out / "checkpoints" / "last.ckpt"


@pytest.mark.slow  # trains a checkpoint
def test_the_tool_writes_tables_and_a_figure_of_what_it_measured(checkpoint, tmp_path):
    out = tmp_path / "eval"
    args = ["--ckpt", str(checkpoint), "--out-dir", str(out), "--scales", "8", "--bins", "2"]
    args += ["--kinds", "holes2", "dropout", "--photos", "clock"]
    assert main(args) == 0
    rows = list(csv.DictReader((out / "evaluation.csv").open()))
    methods = {"model", *METHODS}
    # 1 scale x 2 kinds x 2 bins, one row per method pooled and one for the photograph.
    assert len(rows) == 2 * 4 * len(methods) and {r["method"] for r in rows} == methods
    assert {r["photo"] for r in rows} == {"all", "clock"}
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


def test_painted_masks_are_blobs_and_brush_scribbles_in_their_bin():
    """blobs: disks 3-12 px in radius; brush: wavy scribbles 3-6 px wide (masks people paint)."""
    import torch

    from vit_inpaint.data.painted_masks import Blobs, Brush, _stamp_segment

    for kind in ("blobs", "brush"):
        masks = mask_of(kind, 0.2, 0.3)(16, 160, 160, torch.Generator().manual_seed(1))
        coverage = masks.flatten(1).float().mean(1)
        assert coverage.min() >= 0.2 and coverage.max() < 0.33, kind
    # Seeded: from the global stream, a disk clipped by the border now and then needs a second.
    one = Blobs(5.0, 5.0, coverage_min=0.005, coverage_max=0.005)(
        1, 100, 100, torch.Generator().manual_seed(0)
    )[0]
    assert 60 <= int(one.sum()) <= 90  # one disk of radius 5 (pi 25 = 79 pixels, on the grid)
    disk = torch.zeros(20, 20, dtype=torch.bool)
    _stamp_segment(disk, 10.0, 10.0, 10.0, 10.0, 3.0)
    assert int(disk.sum()) == 32 and disk[10, 10] and not disk[10, 13]  # 32 centres within 3
    scribble = Brush(4.0, 4.0, coverage_min=0.01, coverage_max=0.01)(1, 200, 200)[0]
    rows = scribble.any(1).nonzero().squeeze(1)
    # At most 4 px wide across: no row of a near-horizontal stretch is much wider; it winds, so
    # it spans more rows than a straight stroke of its area would at its width.
    assert 400 <= int(scribble.sum()) <= 2000 and len(rows) > 4


def test_the_summary_is_the_geometric_mean_of_the_ratios():
    from vit_inpaint.evaluation.photos import Result

    def result(kind, method, mse):
        return Result(4, kind, 0.0, 0.1, method, mse, 1, 1.0, 1.0)

    results = [result("holes2", "model", 1.0), result("holes2", "biharmonic", 2.0)]
    results += [result("dropout", "model", 4.0), result("dropout", "biharmonic", 2.0)]
    lines = summary(results)
    assert any("model / biharmonic = 1.000" in line for line in lines)  # sqrt(0.5 * 2)
    assert any("holes2: model / biharmonic = 0.500" in line for line in lines)


@pytest.mark.slow  # trains a checkpoint, starts a subprocess
def test_training_photographs_are_refused(checkpoint, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vit_inpaint.cli.evaluate", "--ckpt", str(checkpoint), "--photos",
         "retina", "--out-dir", str(tmp_path / "e")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    # The checkpoint records the photographs it trained on (experiment=inpainter's).
    assert result.returncode == 2 and "trained or selected on" in result.stderr
    assert "records" in result.stderr
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


# --- the user's own photographs and masks --------------------------------------------------------


@pytest.fixture
def user_files(tmp_path):
    """photos/ with two 32x48 crops of test photographs (PNG), a JPEG, a truncated JPEG, a text
    file named .png, and masks/ with a mask per photograph of photos/ (same stems)."""
    import imageio.v3 as iio
    import skimage.data

    (tmp_path / "photos").mkdir()
    (tmp_path / "masks").mkdir()
    iio.imwrite(tmp_path / "photos" / "b_clock.png", skimage.data.clock()[100:132, 100:148])
    iio.imwrite(tmp_path / "photos" / "a_cat.png", skimage.data.chelsea()[100:132, 100:148])
    (tmp_path / "photos" / "notes.txt").write_text("not a photograph, not read")
    iio.imwrite(tmp_path / "cat.jpg", skimage.data.chelsea()[:32, :48])
    (tmp_path / "broken.jpg").write_bytes((tmp_path / "cat.jpg").read_bytes()[:300])
    (tmp_path / "text.png").write_text("hello")
    mask = np.zeros((32, 48), np.uint8)
    mask[8:16, 10:22] = 255  # 96 of 1536 pixels
    iio.imwrite(tmp_path / "masks" / "a_cat.png", mask)
    iio.imwrite(tmp_path / "masks" / "b_clock.png", mask[::-1])
    iio.imwrite(tmp_path / "small_mask.png", mask[:16, :16])
    return tmp_path


def _refuse_loading_a_model(monkeypatch):
    """Refusals come before any model is loaded: loading one fails the test."""
    import vit_inpaint.fill.model

    def load_inpainter(path=None):
        pytest.fail("the inputs were refused only after loading a model")

    monkeypatch.setattr(vit_inpaint.fill.model, "load_inpainter", load_inpainter)


def _refused(argv, capsys) -> str:
    """main(argv)'s exit status 2 and its last line on stderr, the `error:` line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error: " in last
    return last


def test_a_folder_gives_its_image_files_sorted_by_name(user_files):
    sources = photo_sources([str(user_files / "photos"), "clock", str(user_files / "cat.jpg")])
    photos = user_files / "photos"
    assert sources == [
        photos / "a_cat.png",
        photos / "b_clock.png",
        "clock",
        user_files / "cat.jpg",
    ]
    # A file named twice (in its folder and by itself) is evaluated once.
    assert photo_sources([str(photos), str(photos / "a_cat.png")]) == sources[:2]


def test_every_kind_of_image_file_is_read_in_0_1_colour_kept(tmp_path):
    import imageio.v3 as iio
    import skimage.data
    from PIL import Image

    rgb = skimage.data.chelsea()[:32, :48]
    iio.imwrite(tmp_path / "rgba.png", np.dstack([rgb, np.full((32, 48), 128, np.uint8)]))
    np.testing.assert_allclose(read_photo(tmp_path / "rgba.png"), rgb / 255.0)  # alpha dropped
    clock = skimage.data.clock()[:32, :48]
    iio.imwrite(tmp_path / "gray16.tif", clock.astype(np.uint16) * 257)
    np.testing.assert_allclose(read_photo(tmp_path / "gray16.tif"), clock / 255.0)
    palette = Image.fromarray(rgb).convert("P")
    palette.save(tmp_path / "palette.png")
    expected = np.asarray(palette.convert("RGB")) / 255.0
    np.testing.assert_allclose(read_photo(tmp_path / "palette.png"), expected)


def test_an_unknown_name_is_refused_before_anything(tmp_path, monkeypatch, capsys):
    _refuse_loading_a_model(monkeypatch)
    out = tmp_path / "out"
    last = _refused(["--photos", "nosuchphoto", "--out-dir", str(out)], capsys)
    assert "nosuchphoto" in last and "astronaut, camera, chelsea, clock, gravel, page" in last
    assert not out.exists()


def test_nothing_readable_left_is_refused(user_files, monkeypatch, capsys):
    _refuse_loading_a_model(monkeypatch)
    out = user_files / "out"
    argv = ["--photos", str(user_files / "broken.jpg"), str(user_files / "text.png")]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out-dir", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and "none of the 2 files could be read" in err[-1]
    assert err[0].startswith(f"skipped {user_files / 'broken.jpg'}: not an image file")
    assert err[1].startswith(f"skipped {user_files / 'text.png'}: not an image file")
    assert not out.exists()


def test_a_mask_of_another_size_is_refused_naming_both(user_files, monkeypatch, capsys):
    _refuse_loading_a_model(monkeypatch)
    photos, out = user_files / "photos", user_files / "out"
    masks = [str(user_files / "small_mask.png"), str(user_files / "masks" / "b_clock.png")]
    last = _refused(["--photos", str(photos), "--masks", *masks, "--out-dir", str(out)], capsys)
    assert f"{user_files / 'small_mask.png'}, the mask of {photos / 'a_cat.png'}" in last
    assert "16x16" in last and "32x48" in last
    # One mask for two photographs, and a folder without a mask named like a photograph.
    assert "1 masks for 2 photographs" in _refused(
        ["--photos", str(photos), "--masks", masks[1]], capsys
    )
    last = _refused(["--photos", "clock", "--masks", str(user_files / "masks")], capsys)
    assert "0 files named clock.*" in last
    assert not out.exists()


def test_the_summary_says_the_coverage_that_was_run():
    from vit_inpaint.evaluation.photos import Result

    bins = [(0.0, 0.1), (0.1, 0.2)]
    results = [
        Result(1, "holes2", low, high, m, 1.0, 1, 1.0, 1.0)
        for low, high in bins
        for m in ("model", "telea")
    ]
    assert "2 kind x bin cases up to 20%" in "\n".join(summary(results))
    results = [Result(1, "user", 0.42, 0.42, m, 1.0, 1, 1.0, 1.0) for m in ("model", "telea")]
    assert "the user's masks, 42% of the pixels hidden" in "\n".join(summary(results))


def test_the_help_says_the_default_folder_and_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert exit_info.value.code == 0 and "default: outputs/evaluation" in text
    assert "seed of the generated masks" in text and "generated mask kinds" in text


def _rows(out):
    return list(csv.DictReader((out / "evaluation.csv").open()))


@pytest.mark.slow  # runs the shipped model
def test_a_folder_of_the_users_photographs(user_files, capsys):
    out = user_files / "out"
    assert main(["--photos", str(user_files / "photos"), *SMALL, "--out-dir", str(out)]) == 0
    # 1 scale x 1 kind x 1 bin: per method a row pooled over both photographs and one each.
    rows = _rows(out)
    photos = user_files / "photos"
    names = {"all", str(photos / "a_cat.png"), str(photos / "b_clock.png")}
    assert [r["kind"] for r in rows] == ["holes2"] * 3 * (1 + len(METHODS))
    assert {r["photo"] for r in rows} == names
    for method in ("model", *METHODS):  # the pooled error is the photographs' pooled
        mine = {r["photo"]: r for r in rows if r["method"] == method}
        each = [mine[name] for name in sorted(names - {"all"})]
        hidden = sum(int(row["hidden_pixels"]) for row in each)
        squared = sum(float(row["mse"]) * int(row["hidden_pixels"]) for row in each)
        assert float(mine["all"]["mse"]) == pytest.approx(squared / hidden, rel=1e-4)
    text = (out / "evaluation.md").read_text()
    # A row per photograph and kind in the Markdown too, the colour photograph kept in colour
    # (three channels a hidden pixel).
    assert f"| {photos / 'a_cat.png'} | holes2 |" in text
    assert f"| {photos / 'b_clock.png'} | holes2 |" in text
    assert "The evaluation took" in text and "s/MP" in text
    assert f"Test photographs: {photos / 'a_cat.png'}, {photos / 'b_clock.png'};" in text
    assert "1 kind x bin cases up to 10%" in text


@pytest.mark.slow  # runs the shipped model
def test_files_are_evaluated_and_a_broken_one_skipped_with_a_line(user_files, capsys):
    out = user_files / "out"
    files = [user_files / "cat.jpg", user_files / "broken.jpg", user_files / "photos" / "a_cat.png"]
    assert main(["--photos", *map(str, files), *SMALL, "--out-dir", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"skipped {files[1]}: not an image file" in err
    assert f"Test photographs: {files[0]}, {files[2]};" in (out / "evaluation.md").read_text()


@pytest.mark.slow  # runs the shipped model
def test_the_users_masks_replace_the_generated_ones(user_files):
    out = user_files / "out"
    photos = user_files / "photos"
    argv = ["--photos", str(photos), "--masks", str(user_files / "masks"), "--out-dir", str(out)]
    assert main(argv) == 0
    rows = _rows(out)
    # Only the user's masks, at full resolution: 2 x 96 hidden pixels of 2 x 1536, in colour
    # (a_cat: 3 values a pixel) and gray (b_clock).
    assert {(r["scale"], r["kind"]) for r in rows} == {("1", "user")}
    pooled = [r for r in rows if r["photo"] == "all"]
    assert {int(r["hidden_pixels"]) for r in pooled} == {96 * 3 + 96}
    assert float(rows[0]["coverage_low"]) == pytest.approx(96 / 1536)
    assert "the user's masks, 6% of the pixels hidden" in (out / "evaluation.md").read_text()
    # The same masks as files in the photographs' order give the same errors.
    masks = [str(user_files / "masks" / name) for name in ("a_cat.png", "b_clock.png")]
    again = user_files / "again"
    assert main(["--photos", str(photos), "--masks", *masks, "--out-dir", str(again)]) == 0
    assert [r["mse"] for r in _rows(again)] == [r["mse"] for r in rows]


def test_only_bundled_photographs_count_as_photo_names():
    """--photos NAME: a photograph of skimage.data, not a stack of faces, a file name or a
    download."""
    from vit_inpaint.evaluation.photo_inputs import _is_bundled_photo

    assert _is_bundled_photo("camera") and _is_bundled_photo("stereo_motorcycle")
    for name in ("lfw_subset", "lbp_frontal_face_cascade_filename", "download_all", "nosuch"):
        assert not _is_bundled_photo(name)


def _md5s(folder) -> dict:
    import hashlib

    return {
        p: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_an_output_that_is_an_input_is_refused_also_through_a_link(user_files, monkeypatch, capsys):
    """--photos DIR/evaluation.png --out-dir DIR once drew the plot over the user's photograph."""
    import shutil

    _refuse_loading_a_model(monkeypatch)
    photo = user_files / "evaluation.png"
    shutil.copy(user_files / "photos" / "a_cat.png", photo)
    other = str(user_files / "photos" / "b_clock.png")
    before = _md5s(user_files)
    last = _refused(["--photos", str(photo), other, "--out-dir", str(user_files)], capsys)
    assert f"evaluation.png: is an input (--photos {photo})" in last
    # The same file through a symbolic link, and a mask given as evaluation.csv.
    linked = user_files / "linked"
    linked.mkdir()
    (linked / "evaluation.png").symlink_to(photo)
    last = _refused(["--photos", str(photo), other, "--out-dir", str(linked)], capsys)
    assert "is an input (--photos" in last
    masks = [str(user_files / "masks" / "a_cat.png"), str(user_files / "masks" / "b_clock.png")]
    shutil.copy(masks[0], user_files / "masks" / "evaluation.csv")
    masks[0] = str(user_files / "masks" / "evaluation.csv")
    argv = ["--photos", str(user_files / "photos"), "--masks", *masks]
    last = _refused([*argv, "--out-dir", str(user_files / "masks")], capsys)
    assert "is an input (--masks" in last
    assert {p: h for p, h in _md5s(user_files).items() if p in before} == before


def test_a_file_the_tool_did_not_write_is_never_replaced(user_files, monkeypatch, capsys):
    _refuse_loading_a_model(monkeypatch)
    out = user_files / "mine"
    out.mkdir()
    (out / "evaluation.csv").write_text("my own table\n")
    last = _refused(["--photos", "clock", "--out-dir", str(out)], capsys)
    assert "evaluation.csv: a file this tool did not write" in last
    assert (out / "evaluation.csv").read_text() == "my own table\n"


@pytest.mark.slow  # starts `mount` (a small tmpfs, full or read-only)
def test_an_out_dir_that_cannot_be_written_is_refused_before_the_evaluation(
    tmp_path, monkeypatch, capsys
):
    """A read-only or full --out-dir was found only after the whole evaluation had run."""
    import subprocess

    _refuse_loading_a_model(monkeypatch)
    full, read_only = tmp_path / "full", tmp_path / "read_only"
    full.mkdir()
    read_only.mkdir()
    mounted = []
    try:
        for folder, options in ((full, "size=8k"), (read_only, "ro,size=8k")):
            mount = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
            if subprocess.run(mount, capture_output=True).returncode != 0:
                pytest.skip("needs to mount a small tmpfs (root)")
            mounted.append(folder)
        (full / "filler").write_bytes(b"x" * 8192)
        (full / "filler2").write_bytes(b"x" * 8192)  # fills it, whatever the page rounding
    except OSError:
        pass  # the disk is full: what this test wants
    try:
        last = _refused(["--photos", "clock", "--out-dir", str(full / "eval")], capsys)
        assert "No space left on device" in last and "--out-dir" in last
        assert not (full / "eval").exists()
        last = _refused(["--photos", "clock", "--out-dir", str(read_only)], capsys)
        assert "Read-only file system" in last or "permission denied" in last
    finally:
        for folder in mounted:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_failed_write_leaves_no_folder_it_made(tmp_path):
    from vit_inpaint.storage.outputs import folders_made

    with pytest.raises(OSError), folders_made(tmp_path / "deep" / "a" / "b"):
        raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_broken_photograph_is_skipped_with_masks_as_without(user_files):
    """--photos DIR --masks DIR refused the whole run for a broken photograph (which has no mask,
    being no photograph) that --photos DIR alone skips with a line."""
    from vit_inpaint.evaluation.photo_inputs import mask_files, read_photos

    (user_files / "photos" / "c_broken.png").write_text("not an image")
    sources = photo_sources([str(user_files / "photos")])
    photos, skipped = read_photos(sources, mask_files(sources, [str(user_files / "masks")]))
    assert [photo.name for photo in photos] == [str(s) for s in sources[:2]]
    assert len(skipped) == 1 and skipped[0].startswith(f"skipped {sources[2]}: not an image")


def test_the_shipped_inpainter_named_by_its_path_is_refused_its_training_photographs(
    tmp_path, monkeypatch, capsys
):
    from vit_inpaint.fill.model import SHIPPED

    _refuse_loading_a_model(monkeypatch)
    argv = ["--ckpt", str(SHIPPED), "--photos", "brick", "--out-dir", str(tmp_path / "out")]
    assert "['brick']: the inpainter was trained or selected on them" in _refused(argv, capsys)
