"""Sweeps beyond one process, as a user types them: Hydra's launchers and Optuna sweeper, and
Lightning's DDP on 2 CPU processes. Each test runs `python train.py ...` and reads its outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from tests.conftest import TINY, job_dir, run_sweep, run_train

pytestmark = pytest.mark.slow

MASKINGS = ("masking=pixel", "masking=patch2x2")
# What these tests check (folders, records, threads, the search) needs no second epoch and no
# large evaluation split: a smaller budget than debug=tiny's, for tests that start processes.
SMALL = (TINY, "trainer.max_epochs=1", "data.num_val=64", "data.num_test=64")


def assert_finished(job: Path) -> dict[str, float]:
    """A finished job: its metrics, checkpoints, TensorBoard events and Hydra record."""
    metrics = json.loads((job / "metrics.json").read_text())
    assert {"val/mse", "test/mse", "test/nmse"} <= set(metrics)
    assert (job / "checkpoints" / "last.ckpt").is_file()
    assert list(job.glob("events.out.tfevents.*"))
    assert (job / ".hydra" / "config.yaml").is_file()
    return metrics


def trained_on(job: Path) -> str:
    return yaml.safe_load((job / ".hydra" / "config.yaml").read_text())["masking"]["name"]


LAUNCHERS = {
    # joblib runs the jobs in parallel worker processes, each given one torch thread.
    "joblib": ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"),
    # submitit runs each job as a submitit job; it leaves torch's threads alone, hence threads=1.
    "submitit_local": ("hydra/launcher=submitit_local", "threads=1"),
}


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_a_launcher_runs_every_job_into_its_own_folder(launcher, tmp_path):
    sweep = tmp_path / launcher
    # A real process: these launchers start processes of their own.
    result = run_sweep(
        sweep, *LAUNCHERS[launcher], "masking=pixel,patch2x2", budget=SMALL, subprocess_=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for masking in MASKINGS:
        job = job_dir(sweep, masking)
        assert_finished(job)
        assert trained_on(job) == masking.split("=")[1]
        # One thread per job, so two jobs do not fight over two cores.
        assert "process 0 of 1: 1 torch threads" in (job / "train.log").read_text()
    assert (sweep / "report.md").is_file()
    if launcher == "submitit_local":  # submitit's own record: each job's call, result and logs
        assert len(list((sweep / ".submitit").glob("*/*_result.pkl"))) == 2


def test_optuna_search_minimises_the_validation_metric_over_three_trials(tmp_path):
    sweep = tmp_path / "optuna"
    # hparams_search=optuna sets hydra.mode=MULTIRUN itself: no -m needed.
    # A key given on the command line is fixed for every trial: leave the searched ones free.
    searched = ("optimizer.lr", "model.dim", "model.depth", "model.heads", "data.batch_size")
    # debug=tiny sets model.dim, model.depth and data.batch_size in the config, not on the
    # command line: each trial's choices, passed as overrides, still win.
    result = run_train(
        "hparams_search=optuna", "hydra.sweeper.n_trials=3", *SMALL, f"hydra.sweep.dir={sweep}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = [p for p in sweep.iterdir() if (p / ".hydra").is_dir()]
    assert len(jobs) == 3
    values = {job: assert_finished(job)["val/mse"] for job in jobs}
    chosen = [
        {
            o.split("=")[0]: o.split("=")[1]
            for o in yaml.safe_load((j / ".hydra/overrides.yaml").read_text())
        }
        for j in jobs
    ]
    assert all(set(searched) <= set(c) for c in chosen)
    assert len({c["optimizer.lr"] for c in chosen}) == 3  # three different trials
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    # The best value is the smallest val/mse the trials wrote (train() returned it to Optuna).
    assert results["best_value"] == pytest.approx(min(values.values()), rel=1e-6)
    best = min(values, key=values.get)
    best_config = yaml.safe_load((best / ".hydra" / "config.yaml").read_text())
    assert set(results["best_params"]) == set(searched)
    for key, value in results["best_params"].items():
        group, name = key.split(".")
        assert best_config[group][name] == pytest.approx(value)


def test_ddp_trains_one_run_on_two_cpu_processes_in_its_own_folder(tmp_path):
    run = tmp_path / "ddp"
    # A real process: DDP starts its second process by running the same command line again.
    result = run_train("trainer=ddp", *SMALL, f"hydra.run.dir={run}", subprocess_=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_finished(run)
    # Both processes logged into the run's folder (Lightning restarts train.py for rank 1 with
    # this run's hydra.run.dir), and each trained on its half of the epoch: debug=tiny's 256
    # images in batches of 32 give 4 steps per process instead of 8, for SMALL's one epoch.
    assert "process 1 of 2:" in (run / "train_ddp_process_1.log").read_text()
    assert "process 0 of 2:" in (run / "train.log").read_text()
    checkpoint = torch.load(
        run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False
    )
    assert checkpoint["global_step"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["ddp"]


def test_ddp_inside_a_multirun_is_refused_before_any_job(tmp_path):
    sweep = tmp_path / "ddp_sweep"
    result = run_sweep(sweep, "trainer=ddp", "masking=pixel,patch2x2")
    assert result.returncode == 2
    assert "error: trainer.strategy=ddp (trainer=ddp) cannot run inside a multirun" in result.stderr
    assert "trainer.strategy=ddp_spawn" in result.stderr and "Traceback" not in result.stderr
    assert not sweep.exists()  # no sweep folder, no job started


def test_an_optuna_search_goes_on_past_a_failed_trial(tmp_path):
    """A trial that fails (here: a value refused before training) is recorded as failed and the
    search tries the next one, as a long search needs; its folder holds no metrics."""
    sweep = tmp_path / "optuna"
    result = run_train(
        "hparams_search=optuna", "hydra.sweeper.n_trials=4", *SMALL,
        "data.eval_batch_size=choice(0,64)", f"hydra.sweep.dir={sweep}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(p for p in sweep.iterdir() if (p / ".hydra").is_dir())
    assert len(jobs) == 4
    finished = [job for job in jobs if (job / "metrics.json").is_file()]
    assert 0 < len(finished) < 4  # both kinds of trial happened (the sampler's seed is fixed)
    assert all("data.eval_batch_size=64" in job.name for job in finished)
    assert (sweep / "optimization_results.yaml").is_file()
