"""Launches refused before training with one `error:` line, exit status 2, and nothing written:
run folders a run may not write into (a linked record, a FIFO as lock, inside another run, a
user's own folder), sweep folders that cannot be written, and settings a launcher or a callback
would only fail on later. Each hashes what it points at before and after.
"""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import pytest

from tests.conftest import TINY, refused, run_sweep, run_train

T = (TINY, "trainer.max_epochs=1", "data.num_val=64", "data.num_test=64", "threads=1")


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under `folder`, files by their md5, links by their target."""
    entries = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            entries[str(p)] = f"-> {os.readlink(p)}"
        elif p.is_file():
            entries[str(p)] = hashlib.md5(p.read_bytes()).hexdigest()
        else:
            entries[str(p)] = "dir" if p.is_dir() else "other"
    return entries


def _crashed_run(folder: Path) -> Path:
    """The files a run leaves when killed during its first epoch (no checkpoint yet)."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (folder / "train.log").write_text("epoch 0\n")
    return folder


def test_a_record_folder_that_is_a_link_is_refused_and_nothing_written_through_it(tmp_path):
    """A run whose .hydra links to another folder: the launch wrote its record and log there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("the user's\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / ".hydra").symlink_to(elsewhere)
    before = snapshot(tmp_path)
    result = run_train(*T, f"hydra.run.dir={run}")
    refused(result, f"{run / '.hydra'}: a symbolic link where the run's record folder goes")
    assert snapshot(tmp_path) == before


def test_a_fifo_as_the_lock_file_is_refused_without_waiting(tmp_path):
    run = _crashed_run(tmp_path / "run")
    os.mkfifo(run / ".lock")
    before = snapshot(tmp_path)

    def hung(signum, frame):
        raise TimeoutError("the launch waited on the FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        result = run_train(*T, f"hydra.run.dir={run}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    refused(result, f"{run / '.lock'}: not a regular file")
    assert snapshot(tmp_path) == before


def test_a_run_inside_another_runs_folder_is_refused(tmp_path):
    run = _crashed_run(tmp_path / "run")
    (run / "checkpoints").mkdir()
    before = snapshot(tmp_path)
    inside = run / "checkpoints" / "new"
    refused(run_train(*T, f"hydra.run.dir={inside}"), f"is inside the run folder {run}")
    assert snapshot(tmp_path) == before


def test_a_users_own_folder_is_refused_as_such_and_kept(tmp_path):
    own = tmp_path / "photos"
    own.mkdir()
    (own / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    line = refused(run_train(*T, f"hydra.run.dir={own}"), "holds files of its own (notes.txt)")
    assert "another run" not in line
    assert snapshot(tmp_path) == before


def test_a_refusal_suggests_no_checkpoint_that_does_not_exist(tmp_path):
    run = _crashed_run(tmp_path / "run")  # killed before its first checkpoint
    line = refused(run_train(*T, f"hydra.run.dir={run}"), "already holds another run's files")
    assert "ckpt_path" not in line


def test_a_refused_launch_leaves_none_of_the_parent_folders_it_made(tmp_path):
    deep = tmp_path / "deep" / "a" / "b"
    refused(run_train(*T, "model.dim=30", f"hydra.run.dir={deep}"), "model.dim (30)")
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_folder_that_is_a_file_is_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    line = refused(run_sweep(afile, "masking=pixel,patch2x2", budget=T), "hydra.sweep.dir=")
    assert "cannot make the sweep folder" in line
    assert afile.read_text() == "mine\n" and sorted(tmp_path.iterdir()) == [afile]


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        (("hydra/launcher=joblib", "hydra.launcher.n_jobs=0"), ["hydra.launcher.n_jobs", "got 0"]),
        # A sweep over two stage-1 sweeps was refused as "pretrained.sweep is not set".
        (
            ("experiment=digits_transfer_finetune", "pretrained.sweep=/nowhere/a,/nowhere/b"),
            ["pretrained.sweep takes one folder per sweep"],
        ),
        (("model=vit,nope", "hydra/launcher=submitit_local"), ["model=nope", "mae, vit"]),
        (("model.dim=32,64.0",), ["model.dim must be an integer, got 64.0"]),
    ],
    ids=["n_jobs=0", "two pretrained.sweep", "submitit model=nope", "dim=64.0"],
)
def test_a_sweep_that_cannot_run_is_refused_leaving_nothing(overrides, fragments, tmp_path):
    sweep = tmp_path / "sweep"
    result = run_sweep(sweep, "masking=pixel,patch2x2", *overrides, budget=T)
    refused(result, *fragments)
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")  # the last line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("callbacks.ema=foo", "callbacks.ema must be null (off) or a callback's settings"),
        (
            "callbacks.ema={_target_:collections.OrderedDict}",
            "callbacks.ema._target_=collections.OrderedDict is not a Lightning callback",
        ),
        ("callbacks.ema={_target_:vit_inpaint.tasks.averaging.EMA,decay:1.5}", "got 1.5"),
        ("callbacks.ema={_target_:vit_inpaint.tasks.averaging.EMA,decay:-1}", "got -1"),
    ],
)
def test_a_callback_that_cannot_work_is_refused_before_training(override, fragment, tmp_path):
    run = tmp_path / "run"
    refused(run_train(*T, override, f"hydra.run.dir={run}"), fragment)
    assert not run.exists()
