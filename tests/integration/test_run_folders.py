"""A launch never changes or deletes files it did not create: refused, crashed and concurrent
runs pointed at another run's folder leave it byte-for-byte as it was; bad checkpoints are
refused before training with one `error:` line; checkpoints are written atomically.

Each test types `python train.py ...` as a user would and hashes the folders before and after.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from tests.conftest import ROOT, TINY, compose_config, refused, run_sweep, run_train
from vit_inpaint.storage import atomic

pytestmark = pytest.mark.slow

LOCK_FILE = ".lock"  # vit_inpaint/storage/run_folder.py
BUDGET = [TINY, "trainer.max_epochs=1"]  # TINY is one override, "debug=tiny"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` (hidden ones too), files by their sha256."""
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        )
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("shared") / "finished"
    result = run_train(*BUDGET, f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-3000:]
    return run


@pytest.fixture
def finished(finished_run, tmp_path) -> Path:
    """A copy of a finished one-epoch run, this test's own."""
    return Path(shutil.copytree(finished_run, tmp_path / "finished"))


@pytest.fixture
def unfinished(finished) -> Path:
    """A run killed after its checkpoint: last.ckpt, no metrics.json."""
    (finished / "metrics.json").unlink()
    return finished


def test_a_refused_run_into_a_finished_runs_folder_changes_nothing(finished):
    before = snapshot(finished)
    refused(run_train(*BUDGET, "model.heads=3", f"hydra.run.dir={finished}"), "model.heads")
    assert snapshot(finished) == before
    # A valid run is refused too: the folder holds a finished run.
    refused(run_train(*BUDGET, f"hydra.run.dir={finished}"), str(finished), "finished run")
    assert snapshot(finished) == before


def test_a_second_launch_in_one_process_makes_its_own_claim(tmp_path):
    # Two launches of train.py in one process (as the tests run them) into one folder: the
    # second inherited the first's claim on it, so Hydra rewrote the finished run's record and
    # the refusal then deleted it (storage/launch_folders.py: a claim is one launch's).
    run = tmp_path / "run"
    assert run_train(*BUDGET, f"hydra.run.dir={run}").returncode == 0
    before = snapshot(run)
    refused(run_train(*BUDGET, f"hydra.run.dir={run}"), str(run), "finished run")
    assert snapshot(run) == before


def test_a_refused_run_into_an_unfinished_runs_folder_keeps_its_record_for_the_resume(
    unfinished,
):
    # L1: the killed run left its lock file; a refused launch took it over and deleted it.
    (unfinished / LOCK_FILE).write_text("999999999 " + os.uname().nodename + "\n")
    before = snapshot(unfinished)
    refused(run_train(*BUDGET, "model.heads=3", f"hydra.run.dir={unfinished}"), "model.heads")
    assert snapshot(unfinished) == before
    # A new run (not a resume) into a folder holding another run's files is refused.
    refused(run_train(*BUDGET, f"hydra.run.dir={unfinished}"), "another run's files")
    assert snapshot(unfinished) == before
    # The run's record is intact, so a resume with other settings is still refused.
    last = unfinished / "checkpoints" / "last.ckpt"
    result = run_train(*BUDGET, "trainer.max_epochs=2", "masking=pixel", f"ckpt_path={last}")
    refused(result, "masking.name='patch2x2' there, 'pixel' here")
    assert snapshot(unfinished) == before


def test_a_run_crashing_in_a_finished_runs_folder_keeps_its_record(finished):
    before = snapshot(finished)
    result = run_train(*BUDGET, "model.dim=abc", "masking=pixel", f"hydra.run.dir={finished}")
    assert result.returncode != 0
    assert snapshot(finished) == before


def test_a_sweep_rerun_into_its_folder_is_refused_and_changes_nothing(tmp_path):
    sweep = tmp_path / "sweep"
    assert run_sweep(sweep, "masking=pixel", budget=BUDGET).returncode == 0
    before = snapshot(sweep)
    result = run_sweep(sweep, "masking=pixel", budget=BUDGET)
    assert result.returncode == 2 and "holds an earlier sweep" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: hydra.sweep.dir=")
    assert snapshot(sweep) == before  # multirun.yaml, report.md, figures and jobs as they were


def test_a_second_live_run_into_a_folder_is_refused_naming_the_first(tmp_path):
    run = tmp_path / "run"
    slow = [o for o in BUDGET if not o.startswith("data.num_train")] + ["data.num_train=2048"]
    first = subprocess.Popen(
        [sys.executable, "train.py", *slow, f"hydra.run.dir={run}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (run / LOCK_FILE).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (run / LOCK_FILE).read_text().split()[0] == str(first.pid)
        second = run_train(*BUDGET, f"hydra.run.dir={run}")
        refused(second, str(run), "in use")
        assert first.wait(timeout=300) == 0, first.stderr.read()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # The first run finished undisturbed, with only its own files, and released the folder.
    assert json.loads((run / "metrics.json").read_text())["test/mse"] > 0
    assert not (run / LOCK_FILE).exists()
    assert not list((run / ".hydra").glob("attempt-*"))


def test_a_run_killed_after_its_last_checkpoint_is_finished_as_if_never_stopped(
    unfinished, finished_run
):
    """Killed after its last epoch's checkpoint, before metrics.json: the resume was refused as
    having nothing to train, so the run could never be finished; now it tests and records the
    metrics the uninterrupted run did."""
    last = unfinished / "checkpoints" / "last.ckpt"
    result = run_train(*BUDGET, f"ckpt_path={last}")  # max_epochs=1, 1 epoch done
    assert result.returncode == 0, result.stderr[-3000:]
    finished = json.loads((unfinished / "metrics.json").read_text())
    uninterrupted = json.loads((finished_run / "metrics.json").read_text())
    assert finished.keys() == uninterrupted.keys()
    assert finished == pytest.approx(uninterrupted, rel=1e-6)


def test_a_resume_below_the_epochs_done_is_refused_before_training(tmp_path):
    run = tmp_path / "two_epochs"
    assert run_train(TINY, "trainer.max_epochs=2", f"hydra.run.dir={run}").returncode == 0
    (run / "metrics.json").unlink()
    before = snapshot(run)
    last = run / "checkpoints" / "last.ckpt"
    result = run_train(*BUDGET, f"ckpt_path={last}")  # max_epochs=1, 2 epochs done
    refused(result, "trainer.max_epochs=1 is below the 2 epoch(s)", "trainer.max_epochs=2")
    assert snapshot(run) == before


def test_a_resume_after_a_kill_is_not_stopped_by_the_lock_file_it_left(unfinished):
    left = "999999999 " + os.uname().nodename + "\n"
    (unfinished / LOCK_FILE).write_text(left)
    last = unfinished / "checkpoints" / "last.ckpt"
    result = run_train(*BUDGET, "trainer.max_epochs=2", f"ckpt_path={last}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "val/mse" in json.loads((unfinished / "metrics.json").read_text())
    assert (unfinished / LOCK_FILE).read_text() == left  # the lock was the kernel's, not the file
    # The resumed launch logged into its own record folder, not the earlier launch's train.log.
    (log,) = (unfinished / ".hydra").glob("resumed-*/train.log")
    assert "Restored all states from the checkpoint" in log.read_text()


def test_a_checkpoint_save_that_fails_half_way_keeps_the_previous_one(tmp_path):
    trainer = instantiate(compose_config(*BUDGET, output_dir=tmp_path).trainer, logger=False)
    io = trainer.strategy.checkpoint_io
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.zeros(10)}}, path)
    before = path.read_bytes()
    big = {"state_dict": {"w": torch.ones(500_000)}}  # about 2 MB
    # A full disk, as the kernel makes it: writing past the limit fails part-way (EFBIG).
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, old_limit[1]))
    try:
        with pytest.raises(OSError) as error:
            io.save_checkpoint(big, path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert error.value.errno in (errno.EFBIG, errno.ENOSPC)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt"]  # no temporary file


def test_a_checkpoint_save_hitting_a_full_disk_keeps_the_previous_one(tmp_path, monkeypatch):
    """The probe's case: Lightning's own writer stages the file in the system's temporary folder
    and moves it into place; when that is another file system the move is a copy, which a full
    disk stops part-way, leaving a partial last.ckpt."""
    trainer = instantiate(compose_config(*BUDGET, output_dir=tmp_path).trainer, logger=False)
    io = trainer.strategy.checkpoint_io
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.zeros(10)}}, path)
    before = path.read_bytes()

    def across_file_systems(src, dst, *args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    def disk_full(src, dst, *args, **kwargs):  # copies part of the file, then the disk is full
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "rename", across_file_systems)
    monkeypatch.setattr(shutil, "copyfile", disk_full)
    monkeypatch.setattr(shutil, "copy2", disk_full)
    monkeypatch.setattr(atomic, "_write_synced", _half_then_enospc)
    with pytest.raises(OSError, match="No space left"):
        io.save_checkpoint({"state_dict": {"w": torch.ones(100_000)}}, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # no temporary file


def _half_then_enospc(target, data):
    """storage.atomic's low-level write, on a disk that fills up half-way through the file."""
    with open(target, "wb") as file:
        file.write(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("kind", ["truncated", "text", "other model size"])
def test_a_bad_ckpt_path_is_refused_before_training_leaving_nothing(kind, finished, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    bad = outside / "model.ckpt"
    good = (finished / "checkpoints" / "last.ckpt").read_bytes()
    overrides = []
    if kind == "truncated":
        bad.write_bytes(good[: len(good) // 2])
    elif kind == "text":
        bad.write_text("not a checkpoint\n")
    else:
        bad.write_bytes(good)
        overrides = ["model.dim=64"]
    new_run = tmp_path / "new_run"
    before = snapshot(tmp_path)
    result = run_train(
        *BUDGET, "trainer.max_epochs=2", *overrides, f"ckpt_path={bad}", f"hydra.run.dir={new_run}"
    )
    refused(result, "ckpt_path", *(["model.dim=32 there, 64 here"] if overrides else []))
    assert snapshot(tmp_path) == before and not new_run.exists()


def test_a_truncated_last_ckpt_in_a_run_is_refused_leaving_the_run_as_it_was(unfinished):
    last = unfinished / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])
    before = snapshot(unfinished)
    refused(run_train(*BUDGET, "trainer.max_epochs=2", f"ckpt_path={last}"), "ckpt_path", str(last))
    assert snapshot(unfinished) == before


def test_a_test_ckpt_that_is_not_a_checkpoint_is_refused_before_training(tmp_path):
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint\n")
    run = tmp_path / "run"
    result = run_train(*BUDGET, f"test_ckpt={text}", f"hydra.run.dir={run}")
    refused(result, "test_ckpt", str(text))
    assert not run.exists()


def test_a_nan_loss_ends_with_one_error_line_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "nan"
    result = run_train(*BUDGET, "trainer.max_epochs=3", "optimizer.lr=1e9", f"hydra.run.dir={run}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "train/loss is" in line
    assert not (run / "metrics.json").exists() and not (run / LOCK_FILE).exists()


@pytest.mark.slow
def test_last_ckpt_is_the_last_finished_epoch_even_when_it_is_not_the_best(tiny_config):
    # mode=max: with a model that learns (val/mse falling), no epoch after the first is "best",
    # so Lightning's own save_last would have left last.ckpt at epoch 0.
    import torch

    from vit_inpaint.training import train

    cfg = tiny_config("trainer.max_epochs=3", "callbacks.model_checkpoint.mode=max")
    train(cfg)
    folder = Path(cfg.paths.output_dir) / "checkpoints"
    last = torch.load(folder / "last.ckpt", weights_only=False)
    assert last["epoch"] == 2 and last["global_step"] == 3 * 8
    assert [p.name for p in folder.glob("epoch*.ckpt")] == ["epoch000.ckpt"]


def test_a_full_disk_mid_run_is_one_error_line_naming_the_file_and_the_resume(
    tmp_path, monkeypatch
):
    """The disk fills while epoch 2's last.ckpt is written: epoch 1's stays whole, and the run
    ends with one line saying where, why, and the ckpt_path that resumes it (not a traceback)."""
    run = tmp_path / "run"
    written = []

    def full_on_the_second_last_ckpt(target, data):
        if Path(target).name.startswith(".last.ckpt"):
            written.append(target)
            if len(written) == 2:
                _half_then_enospc(target, data)
        with open(target, "wb") as file:
            file.write(data)

    monkeypatch.setattr(atomic, "_write_synced", full_on_the_second_last_ckpt)
    result = run_train(TINY, f"hydra.run.dir={run}")  # 2 epochs; runs in this process
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    last = run / "checkpoints" / "last.ckpt"
    assert "no space left on device" in line and str(last) in line
    assert f"ckpt_path={last}" in line
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["epoch"] == 0  # epoch 1's, whole
    assert not (run / "metrics.json").exists()
