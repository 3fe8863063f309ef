"""scripts/pretraining_gain.py, `make digits-transfer`'s last step: its tables from stage-2 run
folders (what each run started from, read through init_from to its stage-1 run), and its refusals.
Synthetic run folders: the script reads configs and metrics only."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pretraining_gain.py"


def _run(folder: Path, config: dict, metrics: dict) -> None:
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "metrics.json").write_text(json.dumps(metrics))


def _stage2(sweep: Path, pretrain: Path, name: str, images, labels, seed, acc, finetune="full",
            decay=1.0) -> None:  # fmt: skip
    start = None if images is None else f"{pretrain}/n{images}_seed{seed}/checkpoints/last.ckpt"
    config = {"init_from": start, "finetune": finetune, "optimizer": {"layer_decay": decay},
              "data": {"labels_per_class": labels}}  # fmt: skip
    _run(sweep / name, config, {"test/acc": acc, "test/acc_svm": 0.5})


def _main(*args: str, capsys) -> tuple[int | None, str]:
    old = sys.argv
    sys.argv = [str(SCRIPT), *args]
    try:
        runpy.run_path(str(SCRIPT), run_name="__main__")
        code = 0
    except SystemExit as stop:
        code = stop.code
    finally:
        sys.argv = old
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def test_gain_against_labels_and_pretraining_images(tmp_path, capsys):
    pretrain, sweep = tmp_path / "pretrain", tmp_path / "finetune"
    for images in (100, 1077):
        for seed in (0, 1):
            _run(pretrain / f"n{images}_seed{seed}", {"data": {"num_train": images},
                 "model": {"name": "vit"}}, {"test/mse": 0.07})  # fmt: skip
    for seed, (scratch, tuned, fewer) in enumerate([(0.5, 0.7, 0.6), (0.6, 0.8, 0.6)]):
        _stage2(sweep, pretrain, f"s{seed}", None, 3, seed, scratch)
        _stage2(sweep, pretrain, f"f{seed}", 1077, 3, seed, tuned, decay=0.75)
        _stage2(sweep, pretrain, f"n{seed}", 100, 3, seed, fewer, decay=0.75)
        # Plain fine-tuning and probes are other lines, never averaged into the decayed runs.
        _stage2(sweep, pretrain, f"p{seed}", 1077, 3, seed, 0.3, finetune="linear_probe")
        _stage2(sweep, pretrain, f"g{seed}", 1077, 3, seed, 0.9)
    out = tmp_path / "gain.png"
    # The same sweep named twice counts its runs once (not as more seeds).
    code, printed = _main(str(sweep), str(sweep), "--out", str(out), capsys=capsys)
    assert code == 0 and out.is_file()
    tables = (tmp_path / "gain.md").read_text()
    assert tables in printed
    row = [line for line in tables.splitlines() if line.startswith("| 3 |")][0]
    assert "| 0.550 ± 0.071 (2) |" in row  # scratch
    assert "| 0.750 ± 0.071 (2) [+20.0] |" in row  # fine-tuned with layer decay, 1077 images
    assert "| 0.300 ± 0.000 (2) [-25.0] |" in row  # the probe
    assert "| 0.900 ± 0.000 (2) [+35.0] |" in row  # plain fine-tuning
    assert row.endswith("| 0.500 ± 0.000 (2) |")  # the SVM
    assert "| 100 | 0.600 ± 0.000 (2) | +5.0 |" in tables  # against pretraining images


@pytest.mark.parametrize("which", ["empty", "missing", "stage1 gone", "out not png"])
def test_nothing_to_read_is_one_error_line(which, tmp_path, capsys):
    sweep = tmp_path / "finetune"
    sweep.mkdir()
    if which == "missing":
        sweep = tmp_path / "nowhere"
    if which == "stage1 gone":
        _stage2(sweep, tmp_path / "pretrain", "f0", 1077, 10, 0, 0.8)
    out = tmp_path / ("report.md" if which == "out not png" else "gain.png")
    if which == "out not png":
        out.write_text("a report")
    code, printed = _main(str(sweep), "--out", str(out), capsys=capsys)
    assert code == 2 and printed.startswith("error: ")
    reasons = {"empty": "no finished", "missing": "not a folder", "stage1 gone": "is gone"}
    assert reasons.get(which, "give a .png") in printed
    assert not (tmp_path / "gain.png").exists()
    if which == "out not png":
        assert out.read_text() == "a report"  # nothing written over


def test_a_users_own_tables_file_beside_the_figure_is_never_replaced(tmp_path, capsys):
    """--out notes.png once wrote its tables over the user's notes.md beside it."""
    pretrain, sweep = tmp_path / "pretrain", tmp_path / "finetune"
    _run(pretrain / "n100_seed0", {"data": {"num_train": 100}, "model": {"name": "vit"}}, {})
    _stage2(sweep, pretrain, "s0", None, 3, 0, 0.5)
    _stage2(sweep, pretrain, "f0", 100, 3, 0, 0.7)
    notes = tmp_path / "notes.md"
    notes.write_text("my notes\n")
    code, printed = _main(str(sweep), "--out", str(tmp_path / "notes.png"), capsys=capsys)
    assert code == 2 and printed.startswith("error: ") and "did not write" in printed
    assert notes.read_text() == "my notes\n" and not (tmp_path / "notes.png").exists()
    # Its own tables are replaced by a rerun, both files whole.
    out = tmp_path / "gain.png"
    assert _main(str(sweep), "--out", str(out), capsys=capsys)[0] == 0
    assert _main(str(sweep), "--out", str(out), capsys=capsys)[0] == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "gain.md").read_text().startswith("Test accuracy, mean ± std")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
