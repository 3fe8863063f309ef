"""Optuna searches that outgrow one process (vit_inpaint/search/): a study on disk that the same
command resumes after a kill, several workers sharing one study, and the refusals of a search
that cannot start. Each slow test runs `python train.py hparams_search=optuna ...` as a user does
and reads the study with Optuna."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from tests.conftest import ROOT, TINY, refused, run_train

# One epoch on debug=tiny's images, small evaluation splits: a trial of a few seconds.
# No test split: a trial returns its validation metric, which is all a search reads.
SMALL = (TINY, "trainer.max_epochs=1", "data.num_val=64", "test=false", "threads=1")
SEARCH = ("hparams_search=optuna", *SMALL)


def load(sweep: Path, name: str = "search") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{sweep / 'study.db'}")


def completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))


def trial_folders(sweep: Path) -> list[Path]:
    return sorted(p for p in sweep.iterdir() if (p / ".hydra").is_dir())


def start_search(sweep: Path, *args: str) -> subprocess.Popen:
    command = [sys.executable, "train.py", *SEARCH, f"hydra.sweep.dir={sweep}", *args]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for(condition, process: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0]
            pytest.fail(f"the search ended or stalled first:\n{output[-3000:]}")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_search_run_again_ends_with_every_trial_once(tmp_path):
    sweep = tmp_path / "search"
    process = start_search(sweep, "hydra.sweeper.n_trials=4")
    # Killed while the third trial trains: two trials finished, one interrupted.
    wait_for(lambda: len(list(sweep.glob("*/metrics.json"))) == 2 and any(
        sweep.glob("2_*/.hydra/config.yaml")), process)  # fmt: skip
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {p.parent.name: p.read_text() for p in sweep.glob("*/metrics.json")}
    assert len(before) == 2 and len(completed(load(sweep))) == 2

    # The same command again.
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", "hydra.sweeper.n_trials=4")
    assert result.returncode == 0, result.stderr[-3000:]
    study = load(sweep)
    done = completed(study)
    assert len(done) == 4 and len({t.number for t in done}) == 4
    # The interrupted trial is marked failed, said in the log, and its parameters run again.
    (interrupted,) = study.get_trials(states=(optuna.trial.TrialState.FAIL,))
    assert interrupted.number == 2
    said = f"trial 2 ({' '.join(f'{k}={v}' for k, v in interrupted.params.items())}) was "
    assert said + "interrupted" in result.stdout + result.stderr
    (rerun,) = [t for t in done if t.system_attrs.get("failed_trial") == 2]
    assert rerun.params == interrupted.params and rerun.number == 3  # queued first
    # None repeated: the first two trials' results are as they were; each trial its folder.
    for name, text in before.items():
        assert (sweep / name / "metrics.json").read_text() == text
    # Four different trials: the resumed launch's sampler does not draw the first ones again.
    assert len({t.params["optimizer.lr"] for t in done}) == 4
    folders = {t.user_attrs["folder"] for t in done}
    assert len(folders) == 4 and all((sweep / f / "metrics.json").is_file() for f in folders)
    results = (sweep / "optimization_results.yaml").read_text()
    assert f"best_value: {study.best_value}" in results
    # The report's search section: the best trial as a command, every trial, the figures.
    report = (sweep / "report.md").read_text()
    best = study.best_trial
    command = next(line for line in report.splitlines() if line.startswith("python train.py"))
    assert "hparams_search" not in command
    assert all(f"{k}={v}" in command.split() for k, v in best.params.items())
    rows = [line for line in report.splitlines() if line.startswith(("| 0 |", "| 2 |", "| 3 |"))]
    assert [r.split(" | ")[1] for r in rows] == ["complete", "fail", "complete (re-runs 2)"]
    for figure in ("optimization_history.png", "param_importances.png"):
        assert f"![{figure}]({figure})" in report and (sweep / figure).stat().st_size > 0


@pytest.mark.slow
def test_two_workers_share_one_study_without_sharing_a_trial_or_a_folder(tmp_path):
    sweep = tmp_path / "search"
    # One worker runs a trial at a time, the other two at once (joblib processes).
    joblib = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2")
    workers = [
        start_search(sweep, "hydra.sweeper.n_trials=4"),
        start_search(sweep, "hydra.sweeper.n_trials=4", *joblib),
    ]
    outputs = [w.communicate(timeout=400)[0] for w in workers]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output[-3000:]
    study = load(sweep)
    assert len(study.trials) == 4
    done = completed(study)
    assert sorted(t.number for t in done) == [0, 1, 2, 3]
    # Both workers ran trials, each its own: no folder written by two trials.
    assert len({t.user_attrs["worker"] for t in done}) == 2
    assert len({t.params["optimizer.lr"] for t in done}) == 4  # each draws its own values
    folders = [t.user_attrs["folder"] for t in done]
    assert len(set(folders)) == 4
    assert sorted(folders) == [p.name for p in trial_folders(sweep)]
    for folder in folders:
        assert json.loads((sweep / folder / "metrics.json").read_text())["val/mse"] > 0
        assert not list((sweep / folder / ".hydra").glob("attempt-*"))  # one launch each
    # TensorBoard's HParams tab (tensorboard --logdir <sweep>) lists every trial, by the
    # values it searched.
    for trial in done:
        searched = hparams_of_run(sweep / trial.user_attrs["folder"])
        assert searched["lr"].number_value == pytest.approx(trial.params["optimizer.lr"])
        assert searched["model.dim"].number_value == trial.params["model.dim"]
        assert searched["batch_size"].number_value == trial.params["data.batch_size"]


def hparams_of_run(run: Path) -> dict:
    """The HParams tab's settings of one run, from its TensorBoard events."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    guidance = {"scalars": 0, "images": 0, "tensors": 0}
    content = EventAccumulator(str(run), size_guidance=guidance).Reload()
    start = content.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    hparams = HParamsPluginData.FromString(start).session_start_info.hparams
    return {key.split(" ", 1)[1]: value for key, value in hparams.items()}


# --- Refused before any trial: one line, exit status 2, nothing written -----------------------


def test_a_search_without_trials_is_refused(tmp_path):
    sweep = tmp_path / "search"
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", "hydra.sweeper.n_trials=0")
    refused(result, "hydra.sweeper.n_trials=0")
    assert not sweep.exists()


def test_a_metric_train_does_not_return_is_refused(tmp_path):
    sweep = tmp_path / "search"
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", "optimized_metric=val/nope")
    refused(result, "optimized_metric", "val/nope")
    assert not sweep.exists()


def test_a_storage_that_cannot_be_opened_is_refused(tmp_path):
    sweep = tmp_path / "search"
    url = f"sqlite:///{tmp_path / 'missing' / 'study.db'}"
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", f"hydra.sweeper.storage={url}")
    refused(result, f"hydra.sweeper.storage={url}", "cannot open")
    assert not sweep.exists() and not (tmp_path / "missing").exists()
    (tmp_path / "not_a_db").write_text("hello")
    url = f"sqlite:///{tmp_path / 'not_a_db'}"
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", f"hydra.sweeper.storage={url}")
    refused(result, "hydra.sweeper.storage=", "cannot open")
    assert (tmp_path / "not_a_db").read_text() == "hello"


def test_a_study_made_for_another_search_is_refused_naming_the_difference(tmp_path):
    sweep = tmp_path / "search"
    sweep.mkdir()
    storage = f"sqlite:///{sweep / 'study.db'}"
    optuna.create_study(study_name="search", storage=storage, direction="maximize")
    (sweep / ".study.lock").touch()  # a folder a search ran in
    before = (sweep / "study.db").read_bytes()
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}")
    refused(result, "hydra.sweeper.study_name=search", "another search", "maximize")
    assert (sweep / "study.db").read_bytes() == before
    assert sorted(p.name for p in sweep.iterdir()) == [".study.lock", "study.db"]


def test_a_locked_study_database_is_retried_then_refused(tmp_path, monkeypatch):
    from vit_inpaint.search import study as studies

    monkeypatch.setattr(studies, "LOCKED_WAIT_S", 0)
    sweep = tmp_path / "search"
    sweep.mkdir()
    database = sweep / "study.db"
    url = f"sqlite:///{database}?timeout=0.1"
    optuna.create_study(study_name="search", storage=f"sqlite:///{database}")
    holder = sqlite3.connect(database)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the file
    try:
        result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", f"hydra.sweeper.storage='{url}'")
    finally:
        holder.rollback()
        holder.close()
    line = refused(result, "stayed locked", "run the same command again")
    assert "is locked" in (result.stdout + result.stderr).replace(line, "")  # retries logged
    assert not trial_folders(sweep)


def test_a_setting_no_trial_can_run_with_is_refused_before_the_first_trial(tmp_path):
    sweep = tmp_path / "searches" / "search"
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", "data.eval_batch_size=0")
    refused(result, "every trial would be refused", "data.eval_batch_size")
    assert not (tmp_path / "searches").exists()


@pytest.mark.slow  # no training, but three trials launched and refused
def test_a_search_whose_first_trials_are_all_refused_stops_leaving_nothing(tmp_path):
    sweep = tmp_path / "searches" / "search"
    # Every value of a searched key refused (seen only once a trial has it): each trial is
    # refused before training, and the search stops after three.
    result = run_train(*SEARCH, f"hydra.sweep.dir={sweep}", "data.eval_batch_size=choice(0,-1)")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: every trial so far (3) was refused before training")
    assert "hydra.sweeper.params" in last
    assert not (tmp_path / "searches").exists()


def test_a_launch_lost_as_a_whole_keeps_finished_values_and_runs_the_rest_again(tmp_path):
    from types import SimpleNamespace

    from omegaconf import OmegaConf

    from vit_inpaint.search import study as studies
    from vit_inpaint.search.sweeper import _Run

    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = studies.open_storage(url)
    study = optuna.create_study(storage=storage, study_name="search")
    trials = [study.ask() for _ in range(2)]
    for trial in trials:
        trial.suggest_float("optimizer.lr", 1e-4, 1e-2)
    # Trial 0 finished before the launch of both failed (a joblib worker killed, say).
    (tmp_path / "0_optimizer.lr=x").mkdir()
    (tmp_path / "0_optimizer.lr=x" / "metrics.json").write_text('{"val/mse": 0.25}')

    def launch(overrides, initial_job_idx):
        raise RuntimeError("A worker process managed by the executor was unexpectedly terminated")

    search = SimpleNamespace(
        launcher=SimpleNamespace(launch=launch),
        config=OmegaConf.create({"optimized_metric": "val/mse"}),
        _configure_trials=lambda trials, space, fixed: [("optimizer.lr=x",)] * len(trials),
        max_failure_rate=1.0,
    )
    _Run(search, study, storage, url, tmp_path, {}, {})._run(trials)
    states = [(t.number, t.state.name, t.value) for t in study.trials]
    assert states[:2] == [(0, "COMPLETE", 0.25), (1, "FAIL", None)]
    (again,) = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert again.system_attrs["failed_trial"] == 1 and again.params == trials[1].params
    assert study.trials[0].user_attrs["folder"] == "0_optimizer.lr=x"
