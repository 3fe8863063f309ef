"""Resume and faults: a killed run resumed from its last checkpoint ends where an uninterrupted
one does; a NaN loss stops the run and keeps the last good checkpoint; a failed job of a sweep
leaves the others' outputs and shows as failed in the sweep report."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import ONE_EPOCH, ROOT, TINY, compose_config, job_dir, run_sweep, run_train
from vit_inpaint.data.sources import UniformNoise
from vit_inpaint.launch.validate import ConfigError, check_config
from vit_inpaint.tasks.inpainting import NonFiniteLossError
from vit_inpaint.training import train

pytestmark = pytest.mark.slow

# Long enough (epochs of a few tenths of a second; the kill lands within 10 ms of the first
# checkpoint) that the kill lands mid-run, short enough for a test.
RESUME_BUDGET = (
    TINY, "data.num_train=2048", "trainer.max_epochs=4", "data.num_val=64", "data.num_test=64"
)  # fmt: skip


def kill_after_first_checkpoint(run: Path) -> None:
    """Starts `python train.py` into `run` and SIGKILLs it once its first last.ckpt exists."""
    command = [sys.executable, "train.py", *RESUME_BUDGET, f"hydra.run.dir={run}"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    last = run / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 240
    while not last.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert last.exists(), "the run died or stalled before its first checkpoint"
    if (run / "metrics.json").exists():
        pytest.fail("the run finished before it was killed: raise RESUME_BUDGET's epochs")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """The uninterrupted run that both resume tests compare with: the same command, trained once
    for the module (it only reads it)."""
    reference = tmp_path_factory.mktemp("uninterrupted") / "run"
    result = run_train(*RESUME_BUDGET, f"hydra.run.dir={reference}")
    assert result.returncode == 0, result.stderr[-3000:]
    return reference


def assert_resumed_like(killed, reference) -> None:
    """The killed run was resumed from its checkpoint (its own log says so, in its own record
    folder .hydra/resumed-<time>/) and ended with the uninterrupted run's metrics."""
    (resume_log,) = (killed / ".hydra").glob("resumed-*/train.log")
    assert "Restored all states from the checkpoint" in resume_log.read_text()
    resumed = json.loads((killed / "metrics.json").read_text())
    expected = json.loads((reference / "metrics.json").read_text())
    assert resumed.keys() == expected.keys()
    for key, value in expected.items():
        assert resumed[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key


def test_a_killed_run_resumed_from_last_ckpt_ends_like_an_uninterrupted_one(
    tmp_path, uninterrupted
):
    killed = tmp_path / "killed"
    kill_after_first_checkpoint(killed)
    stopped_at = torch.load(killed / "checkpoints" / "last.ckpt", weights_only=False)["epoch"]
    assert stopped_at < 3
    original_record = (killed / ".hydra" / "overrides.yaml").read_text()

    # No hydra.run.dir: the resumed run finds its own folder from the checkpoint's path.
    result = run_train(*RESUME_BUDGET, f"ckpt_path={killed / 'checkpoints' / 'last.ckpt'}")
    assert result.returncode == 0, result.stderr[-3000:]
    # Same folder; the resumed launch logs into its own record folder, .hydra/resumed-<time>/.
    assert_resumed_like(killed, uninterrupted)
    # The original launch's record is kept; the resumed launch has its own.
    assert (killed / ".hydra" / "overrides.yaml").read_text() == original_record
    (resume_record,) = (killed / ".hydra").glob("resumed-*/overrides.yaml")
    assert "ckpt_path=" in resume_record.read_text()


def test_ckpt_path_last_resumes_the_killed_run_it_names_like_an_uninterrupted_one(
    tmp_path, uninterrupted
):
    killed = tmp_path / "killed"
    kill_after_first_checkpoint(killed)

    # No path typed: the run's own last checkpoint.
    result = run_train(*RESUME_BUDGET, f"hydra.run.dir={killed}", "ckpt_path=last")
    assert result.returncode == 0, result.stderr[-3000:]
    assert_resumed_like(killed, uninterrupted)
    # Finished now: ckpt_path=last no longer finds anything to resume there.
    result = run_train(*RESUME_BUDGET, f"hydra.run.dir={killed}", "ckpt_path=last")
    assert result.returncode == 2 and "already holds a finished run" in result.stderr


def test_a_finished_run_is_not_resumed_over(tmp_path):
    run = tmp_path / "done"
    assert run_train(*ONE_EPOCH, f"hydra.run.dir={run}").returncode == 0
    before = (run / "metrics.json").read_text()
    result = run_train(*ONE_EPOCH, f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}")
    assert result.returncode != 0 and "already holds a finished run" in result.stderr
    assert (run / "metrics.json").read_text() == before


def test_resuming_with_other_settings_is_refused_and_names_them(tmp_path):
    run = tmp_path / "run"
    # Through train.py, so the run has Hydra's record of its settings (.hydra/config.yaml).
    result = run_train(*ONE_EPOCH, f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-3000:]
    (run / "metrics.json").unlink()  # as if the run had been killed after its checkpoint
    last = run / "checkpoints" / "last.ckpt"
    other = compose_config(TINY, "masking=pixel", f"ckpt_path={last}", output_dir=run)
    with pytest.raises(ConfigError, match=r"masking.name='patch2x2' there, 'pixel' here"):
        check_config(other)
    # The same settings, trained for longer, resume.
    check_config(compose_config(TINY, "trainer.max_epochs=3", f"ckpt_path={last}", output_dir=run))


class PoisonedNoise(UniformNoise):
    """Uniform images, except that every training set after the first is all NaN."""

    def __init__(self):
        self.train_sets = 0

    def sample(self, n, size, split, generator):
        images = super().sample(n, size, split, generator)
        if split == "train":
            self.train_sets += 1
            if self.train_sets > 1:
                images.fill_(float("nan"))
        return images


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "nan"
    cfg = compose_config(
        TINY,
        f"data.images._target_={PoisonedNoise.__module__}.PoisonedNoise",
        "data.fresh_images=true",  # epoch 1 asks the source for a new (NaN) training set
        "trainer.max_epochs=3",
        output_dir=run,
    )
    with pytest.raises(NonFiniteLossError, match=r"train/loss is nan at epoch 1, batch 0") as error:
        train(cfg)
    last = run / "checkpoints" / "last.ckpt"
    assert f"Last good checkpoint: {last}" in str(error.value)
    checkpoint = torch.load(last, weights_only=False)
    assert checkpoint["epoch"] == 0
    assert all(torch.isfinite(t).all() for t in checkpoint["state_dict"].values())
    assert not (run / "metrics.json").exists()


def test_a_job_failing_mid_training_keeps_the_other_jobs_outputs(tmp_path):
    sweep = tmp_path / "sweep"
    # lr=1e30 sends the weights to infinity within a few steps: that job stops on a NaN loss.
    result = run_sweep(sweep, "optimizer.lr=0.0005,1e30", budget=ONE_EPOCH)
    # The failed job says why in one line (and in its train.log), the sweep ends with one line.
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "optimizer.lr=1e+30" in errors[0] and "train/loss is" in errors[0]
    good, bad = job_dir(sweep, "optimizer.lr=0.0005"), job_dir(sweep, "optimizer.lr=1e+30")
    assert json.loads((good / "metrics.json").read_text())["test/mse"] > 0
    assert (good / "checkpoints" / "last.ckpt").is_file()
    assert not (bad / "metrics.json").exists()
    report = (sweep / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| optimizer.lr=1e+30"))
    assert "failed" in row
    assert "train/loss is" in (bad / "train.log").read_text()
