"""Sweeps never mix jobs, and the sweep report never runs ahead of its jobs (issue 17: C1, C2,
W1).

Each slow test types `python train.py ...` as a user would.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import TINY, job_dir, run_sweep
from tests.test_report import rows_by_configuration
from vit_inpaint.storage.run_folder import RECORD, claim_record, launch_claim

# issue 17's `T`: the smallest run that still trains, tests and writes every file.
T = (TINY, "trainer.max_epochs=1", "data.num_val=64", "data.num_test=64", "threads=1")


def one_error_line(result: subprocess.CompletedProcess, *words: str) -> str:
    """The one `error:` line of a launch refused with exit status 2; it must hold `words`."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-3000:]
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def test_a_folder_claim_belongs_to_one_job_not_to_the_process(tmp_path):
    # Two jobs of one sweep in one process (the basic launcher), pointed at one folder: the
    # second must not inherit the first's claim, or Hydra rewrites the first job's record.
    first = claim_record(str(tmp_path), None, "stamp", "0")
    second = claim_record(str(tmp_path), None, "stamp", "1")
    assert first.owns_record and first.record == RECORD
    assert second.record.startswith(f"{RECORD}/attempt-stamp-")
    assert launch_claim(tmp_path, "0") is first and launch_claim(tmp_path, "1") is second
    # Hydra resolves a job's record several times: the same job keeps its claim.
    assert claim_record(str(tmp_path), None, "later", "1") is second


@pytest.mark.slow
@pytest.mark.parametrize(
    "sweep, colliding",
    [
        # C1: test_ckpt is left out of job folder names (it may be a path).
        (("test_ckpt=best,last",), ("test_ckpt=best", "test_ckpt=last")),
        # C2: one folder for every job.
        (("masking=pixel,patch2x2", "hydra.sweep.subdir=same"), ("masking=pixel",)),
    ],
    ids=["test_ckpt", "subdir=same"],
)
def test_a_sweep_whose_jobs_would_share_a_folder_is_refused_before_its_first_job(
    sweep, colliding, tmp_path
):
    folder = tmp_path / "sweep"
    result = run_sweep(folder, *sweep, budget=T)
    one_error_line(result, "share one folder", *colliding)
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.slow
def test_a_joblib_sweep_reports_once_every_job_has_ended(tmp_path):
    # W1: each joblib worker ran the report callback at its own job's end, so the failed job's
    # worker wrote report.md while the good job was still training: "2 failed".
    sweep = tmp_path / "joblib"
    launcher = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    result = run_sweep(sweep, *launcher, "optimizer.lr=0.001,-1", budget=T)
    assert result.returncode == 1, result.stderr[-3000:]  # a job failed: Hydra says so
    assert (job_dir(sweep, "optimizer.lr=0.001") / "metrics.json").is_file()
    report = (sweep / "report.md").read_text()
    assert "1 failed" in report, report
    rows = rows_by_configuration(report)
    assert rows["optimizer.lr=0.001"]["status"] == "ok", report
    assert rows["optimizer.lr=-1"]["status"] == "failed", report
