"""Sweeps never mix jobs, the sweep report never runs ahead of its jobs, and a run folder that
cannot be made is one `error:` line (issue 17: C1, C2, W1 and the folder probes).

Each slow test types `python train.py ...` as a user would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, job_dir, refused, run_sweep, run_train
from tests.integration.test_report import rows_by_configuration
from vit_inpaint.storage.launch_folders import LaunchFolders, current
from vit_inpaint.storage.run_folder import RECORD

# issue 17's `T`: the smallest run that still trains, tests and writes every file.
T = (TINY, "trainer.max_epochs=1", "data.num_val=64", "data.num_test=64", "threads=1")


def test_a_folder_claim_belongs_to_one_job_not_to_the_process(tmp_path):
    # Two jobs of one sweep in one process (the basic launcher), pointed at one folder: the
    # second must not inherit the first's claim, or Hydra rewrites the first job's record.
    launch = LaunchFolders()
    first = launch.claim(str(tmp_path), None, "stamp", "0")
    second = launch.claim(str(tmp_path), None, "stamp", "1")
    assert first.owns_record and first.record == RECORD
    assert second.record.startswith(f"{RECORD}/attempt-stamp-")
    assert launch.claim_of(tmp_path, "0") is first and launch.claim_of(tmp_path, "1") is second
    # Hydra resolves a job's record several times: the same job keeps its claim.
    assert launch.claim(str(tmp_path), None, "later", "1") is second


def test_a_folder_claim_belongs_to_one_launch(tmp_path):
    # A launch after another in the same process (a notebook, the in-process tests) sees none of
    # the first's claims: its record into the same folder is one of its own.
    first, second = LaunchFolders(), LaunchFolders()
    with first.active():
        assert current() is first
        claim = first.claim(str(tmp_path), None, "stamp")
    assert claim.owns_record and current() is not first
    with second.active():
        assert second.claim_of(tmp_path, "run") is None
        assert second.claim(str(tmp_path), None, "later").record.startswith(f"{RECORD}/attempt")


@pytest.mark.slow
@pytest.mark.parametrize(
    "sweep, colliding",
    [
        # C1: test_ckpt is left out of job folder names (it may be a path).
        (("test_ckpt=best,last",), ("test_ckpt=best", "test_ckpt=last")),
        # C2: one folder for every job.
        (("masking=pixel,patch2x2", "hydra.sweep.subdir=same"), ("masking=pixel",)),
        # A name made of a key the jobs share: both jobs are seed 0.
        (("masking=pixel,patch2x2", "hydra.sweep.subdir=s${seed}"), ("masking=pixel", "/s0")),
    ],
    ids=["test_ckpt", "subdir=same", "subdir=s${seed}"],
)
def test_a_sweep_whose_jobs_would_share_a_folder_is_refused_before_its_first_job(
    sweep, colliding, tmp_path
):
    folder = tmp_path / "sweep"
    result = run_sweep(folder, *sweep, budget=T)
    refused(result, "share one folder", *colliding)
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


@pytest.mark.slow
def test_a_finished_optuna_search_run_again_trains_nothing_and_keeps_its_trials(tmp_path):
    # A search's study lives in its sweep folder: the same command resumes it (docs/scaling-out.md)
    # and, with its n_trials all finished, runs no trial and leaves each trial's files as they were.
    sweep = tmp_path / "optuna"
    search = ("hparams_search=optuna", "hydra.sweeper.n_trials=1", *T, f"hydra.sweep.dir={sweep}")
    first = run_train(*search)
    assert first.returncode == 0, first.stderr[-3000:]
    trials = {p: p.read_bytes() for p in sweep.glob("*/**/*") if p.is_file()}
    again = run_train(*search)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p: p.read_bytes() for p in sweep.glob("*/**/*") if p.is_file()} == trials


def unprivileged() -> list[str]:
    """A command prefix under which file permissions hold (root ignores them otherwise)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, which ignores permissions, and setpriv is missing")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "probe", ["read-only", "read-only itself", "a file", "long name", "long path"]
)
def test_a_run_folder_that_cannot_be_made_is_one_error_line_and_leaves_nothing(probe, tmp_path):
    prefix: list[str] = []
    if probe == "read-only":
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        run, prefix = locked / "run", unprivileged()
    elif probe == "read-only itself":  # it exists: the run's record could not be made in it
        run = tmp_path / "locked"
        run.mkdir()
        run.chmod(0o555)
        prefix = unprivileged()
    elif probe == "a file":
        run = tmp_path / "file"
        run.write_text("not a folder")
    elif probe == "long name":  # one component over the 255 bytes a file name may have
        run = tmp_path / "parent" / ("x" * 300) / "run"
    else:  # over the 4096 bytes a path may have, in components of legal length
        run = tmp_path.joinpath(*["y" * 200] * 21)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    command = [*prefix, sys.executable, "train.py", *T, f"hydra.run.dir={run}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    refused(result, str(run)[:200])
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    if probe == "a file":
        assert Path(run).read_text() == "not a folder"


def test_a_key_no_job_reads_refuses_the_sweep_before_its_first_job(tmp_path):
    """+foo=1 failed every job alike, each with a traceback and an empty folder."""
    sweep = tmp_path / "sweep"
    refused(run_sweep(sweep, "+foo=1", "masking=pixel,patch2x2", budget=T), "foo")
    assert not sweep.exists()


@pytest.mark.slow  # the corrected sweep trains
def test_a_sweep_refused_before_any_job_leaves_its_folder_free_for_the_corrected_one(tmp_path):
    """Hydra writes multirun.yaml before it composes the jobs; no job ran, so a corrected
    sweep may use the folder (it was refused as "an earlier sweep")."""
    sweep = tmp_path / "sweep"
    refused(run_sweep(sweep, "model=vit,nope", budget=T), "model=nope", "mae, vit")
    assert not sweep.exists()  # nothing left, not even Hydra's multirun.yaml
    sweep.mkdir()  # a folder of the user's, empty: the refusal keeps it, with multirun.yaml
    refused(run_sweep(sweep, "model=vit,nope", budget=T), "model=nope", "mae, vit")
    assert [p.name for p in sweep.iterdir()] == ["multirun.yaml"]
    corrected = run_sweep(sweep, "masking=pixel,patch2x2", budget=T)
    assert corrected.returncode == 0, corrected.stderr[-6000:]
    assert (sweep / "report.md").is_file()


@pytest.mark.parametrize(
    "config_file, key",
    [
        ("conf/hydra/default.yaml", "sweep.subdir"),
        ("conf/hparams_search/optuna.yaml", "hydra.sweep.subdir"),
        ("conf/experiment/digits_transfer_finetune.yaml", "hydra.sweep.subdir"),
    ],
)
@pytest.mark.parametrize(
    "value", ["val/nmse", "conf/../../../elsewhere/last.ckpt", "..", "/abs/path", "a%2Fb"]
)
def test_a_job_folder_named_from_a_value_stays_one_name_inside_the_sweep(
    config_file, key, value, tmp_path
):
    """optimized_metric=val/nmse nested the job folders a level deeper (and the sweep ended
    without its report); init_from=conf/../../../x put them outside hydra.sweep.dir."""
    from omegaconf import OmegaConf

    from vit_inpaint.config.resolvers import register

    register()
    subdir = OmegaConf.to_container(OmegaConf.load(ROOT / config_file), resolve=False)
    for part in key.split("."):
        subdir = subdir[part]
    values = {
        "hydra": {
            "job": {"num": 3, "override_dirname": f"init_from={value},seed=0"},
            "runtime": {"choices": {"transfer": "finetune"}},
        },
        "pretrained": {"run": {"classify": value}},
        "data": {"labels_per_class": 3},
        "seed": 0,
        "subdir": subdir,
    }
    name = OmegaConf.create(values).subdir
    assert "/" not in name and name not in ("", ".", "..")
    sweep = tmp_path / "sweep"
    assert (sweep / name).resolve().parent == sweep.resolve()


def test_folder_names_of_different_values_stay_different():
    from vit_inpaint.config.resolvers import folder_name

    names = ["a/b", "a%2Fb", "a%b", "..", "%2E%2E", "."]
    assert len({folder_name(n) for n in names}) == len(names)
    assert folder_name("masking=pixel,seed=0") == "masking=pixel,seed=0"


@pytest.mark.slow
def test_a_sweep_over_values_with_slashes_writes_one_folder_a_job_and_its_report(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_sweep(sweep, "optimized_metric=val/mse,val/nmse", budget=T)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert [j for j in jobs if "optimized_metric=val%2F" in j] == jobs and len(jobs) == 2
    assert all((sweep / job / "metrics.json").is_file() for job in jobs)
    assert (sweep / "report.md").is_file()
