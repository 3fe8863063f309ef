"""The Optuna sweeper of `hparams_search=optuna`: hydra-optuna-sweeper's configuration, search space
and launching, over a study on disk (study.py) that outlives the process.

What it changes in the plugin's sweep (whose study lives in memory unless told otherwise, runs
`n_trials` more on every start, and numbers its jobs from 0 in each process):
- the study is in `hydra.sweeper.storage`, by default `<sweep folder>/study.db`;
- `n_trials` is the search's total: a second launch runs what is left (or, with the first still
  running, shares the work), a trial interrupted by a killed worker is run again;
- a trial's job number is its trial number, so its folder (`<number>_<overrides>`) is its own
  whichever worker runs it;
- a search that cannot start (no trials, a metric train() does not return, a study made for
  another search, a database that cannot be opened) is one `error:` line before any trial.

Selected by conf/hparams_search/optuna.yaml (`hydra.sweeper._target_`, the thin plugin class in
hydra_plugins/vit_inpaint_search/); it takes the plugin's own configuration keys
(hydra.sweeper.n_trials, n_jobs, storage, study_name, sampler, params, ...).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import re
import shutil
import threading
import time
from pathlib import Path

from hydra.core.utils import JobStatus
from hydra_plugins.hydra_optuna_sweeper._impl import (
    OptunaSweeperImpl,
    create_params_from_overrides,
)

from vit_inpaint.errors import ConfigError, JobFailed
from vit_inpaint.search import study as studies
from vit_inpaint.storage.launch_folders import current

log = logging.getLogger(__name__)

# A search whose first trials were all refused before training stops after this many: every
# later trial would be refused for the same reason.
REFUSED_TO_STOP = 3
# A worker with no trial left to ask for looks this often whether the others' trials ended.
WAIT_S = 2


class ResumableSearch(OptunaSweeperImpl):
    """The plugin's sweep over a study in a database, with n_trials the search's total."""

    def sweep(self, arguments: list[str]) -> None:
        self._process_searchspace_config()
        distributions, fixed = create_params_from_overrides(
            [*self._parse_sweeper_params_config(), *arguments]
        )
        for name in fixed:  # a key given on the command line is fixed, not searched
            distributions.pop(name, None)
        directions = self._get_directions()
        self._check(directions)
        self._check_fixed_settings(distributions)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        url = studies.storage_url(self.storage, sweep_dir)
        record = studies.search_record(distributions, fixed, directions)
        # The sweep checks may have made the folder already (launch/hydra_callbacks.py): what
        # either made, a search refused as a whole removes.
        made = _make_folder(sweep_dir) or current().folders_made_for(sweep_dir)
        try:
            # Under the workers' lock: two workers making one SQLite file's tables at once
            # would collide (optuna's schema version is inserted by each).
            with studies.study_lock(sweep_dir):
                storage = studies.open_storage(url)
                study = studies.open_study(storage, self._name(), self.sampler, record, url)
        except BaseException:
            _remove_made(made, sweep_dir / studies.STUDY_FILE)
            raise
        log.info(
            "study %s in %s: %d of %d trials done, %d at a time (hydra.sweeper.n_jobs)",
            study.study_name, studies.shown(url), _finished(study), self.n_trials, self.n_jobs,
        )  # fmt: skip
        run = _Run(self, study, storage, url, sweep_dir, distributions, fixed)
        try:
            run.trials()
        except ConfigError:
            if made and len(run.refused) == len(study.trials):
                # Every trial of this new search was refused before training: what it wrote
                # (the study, the refused trials' records) goes, as for any refused launch.
                storage.remove_session()
                shutil.rmtree(made[0], ignore_errors=True)
            raise
        run.finish()

    def _name(self) -> str:
        return self.study_name or "search"

    def _check(self, directions: list[str]) -> None:
        from vit_inpaint.launch.validate import check_optimized_metric, configured_task

        name = self.study_name
        if name is not None and (not str(name).strip() or "/" in str(name) or name in ("..", ".")):
            raise ConfigError(
                f"hydra.sweeper.study_name={name!r}: a study's name names its folder "
                "(outputs/searches/<name>): give a plain name, without / or .."
            )
        if isinstance(self.sampler, functools.partial):  # GridSampler: built from the space
            raise ConfigError(
                "hydra/sweeper/sampler=grid: a grid is a plain sweep; run it as one "
                "(python train.py a=1,2 b=3,4 -m) or choose tpe, random or cmaes"
            )
        if self.n_trials < 1:
            raise ConfigError(
                f"hydra.sweeper.n_trials={self.n_trials}: a search needs at least 1 trial"
            )
        if self.n_jobs < 1:
            raise ConfigError(
                f"hydra.sweeper.n_jobs={self.n_jobs}: trials at a time must be at least 1"
            )
        if len(directions) != 1:
            raise ConfigError(
                f"hydra.sweeper.direction={directions}: train() returns one value "
                "(optimized_metric), so give one direction, minimize or maximize"
            )
        if self.config.get("optimized_metric") is None:
            raise ConfigError(
                "optimized_metric=null: a search needs the validation metric train() returns, "
                "e.g. optimized_metric=val/mse"
            )
        check_optimized_metric(self.config, configured_task(self.config))

    def _check_fixed_settings(self, distributions: dict) -> None:
        """Refuses, before any trial, a setting no trial could run with: the search's config
        (the command line's values, the searched keys at their defaults) checked as a job's,
        unless the refusal names a searched key, which each trial sets anew."""
        import copy

        from omegaconf import open_dict

        from vit_inpaint.launch.validate import check_config

        config = copy.deepcopy(self.config)
        with open_dict(config):
            config.pop("hydra")
        try:
            check_config(config, multirun=True)
        except ConfigError as error:
            names = {part for key in distributions for part in (key, key.rpartition(".")[2])}
            if not any(re.search(rf"\b{re.escape(name)}\b", str(error)) for name in names):
                raise ConfigError(f"every trial would be refused: {error}") from None


class _Run:
    """One worker's part of a search: ask for trials, launch them, tell their values, until the
    search has its n_trials."""

    def __init__(self, search, study, storage, url, sweep_dir, distributions, fixed):
        self.search, self.study, self.storage, self.url = search, study, storage, url
        self.sweep_dir, self.distributions, self.fixed = sweep_dir, distributions, fixed
        self.study_id = storage.get_study_id_from_name(study.study_name)
        self.refused: list[str] = []
        self.asked: set[int] = set()  # trial numbers this worker asked for
        self.reseeded = False

    def trials(self) -> None:
        waited = False
        while True:
            with studies.study_lock(self.sweep_dir):
                self._locked(lambda: studies.recover_interrupted(self.study))
                self._reseed_beside_others()
                n = min(
                    self.search.n_jobs,
                    self._locked(lambda: studies.trials_to_ask(self.study, self.search.n_trials)),
                )
                trials = [self._ask() for _ in range(n)]
            if trials:
                self._run(trials)
                continue
            others = studies.running_elsewhere(self.study)
            if not others:
                return
            if not waited:  # the search ends when every trial has: those of the other workers too
                log.info(
                    "waiting for trial(s) %s of other workers",
                    ", ".join(str(t.number) for t in others),
                )
                waited = True
            time.sleep(WAIT_S)

    def _reseed_beside_others(self) -> None:
        """A sampler seeded like another worker's (or like the killed launch this one resumes)
        would draw the values that one drew: once the study holds trials this worker did not
        ask for, its sampler takes a fresh seed. A search in one launch keeps its seed."""
        trials = self.study.get_trials(deepcopy=False)
        if self.reseeded or all(t.number in self.asked for t in trials):
            return
        self.search.sampler.reseed_rng()
        self.reseeded = True
        log.info(
            "the study holds trials of other workers or earlier launches: this worker's "
            "sampler takes a fresh seed, so as not to repeat their values"
        )

    def _locked(self, call):
        return studies.retrying_locked(call, self.url)

    def _ask(self):
        def ask():
            trial = self.study.ask()
            self.asked.add(trial.number)
            trial.set_user_attr(studies.WORKER_ATTR, studies.this_worker())
            self.storage.record_heartbeat(self._trial_id(trial.number))
            return trial

        return self._locked(ask)

    def _trial_id(self, number: int) -> int:
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def _run(self, trials) -> None:
        overrides = self._locked(
            lambda: self.search._configure_trials(trials, self.distributions, self.fixed)
        )
        ids = [self._trial_id(t.number) for t in trials]
        try:
            with _heartbeat(self.storage, ids):
                returns = self._launch(trials, overrides)
        except (JobFailed, ConfigError):
            raise
        except Exception as error:  # a launcher's worker process killed (joblib), a lost node
            self._lost(trials, error)
            return
        failures = [self._tell(t, ret) for t, ret in zip(trials, returns, strict=True)]
        failures = [f for f in failures if f is not None]
        if len(failures) / len(returns) > self.search.max_failure_rate:
            raise failures[0]
        completed = self.study.get_trials(deepcopy=False, states=(_complete(),))
        if not completed and len(self.refused) >= min(REFUSED_TO_STOP, self.search.n_trials):
            raise ConfigError(
                f"every trial so far ({len(self.refused)}) was refused before training, the "
                f"first with: {self.refused[0]}; the rest of the search would be too: fix the "
                "fixed settings or the search space (hydra.sweeper.params)"
            )

    def _lost(self, trials, error: Exception) -> None:
        """Trials whose launch failed as a whole: marked failed and queued to run again, like
        those of a killed worker (the results of trials that finished are in the study)."""
        from optuna.trial import TrialState

        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        metric = str(self.search.config.optimized_metric)
        for trial in trials:
            # A trial that finished before the launch failed: its value is in its metrics.json.
            finished = next(self.sweep_dir.glob(f"{trial.number}_*/metrics.json"), None)
            value = json.loads(finished.read_text()).get(metric) if finished else None
            if value is not None:
                folder = _relative(finished.parent, self.sweep_dir)
                self._locked(lambda t=trial, f=folder: t.set_user_attr("folder", f))
                self._locked(lambda t=trial, v=value: self.study.tell(t, v))
                continue
            self._locked(lambda t=trial: self.study.tell(t, state=TrialState.FAIL))
            frozen = self.study.trials[trial.number]
            self._locked(lambda f=frozen: studies.run_again(self.study, f))
            log.warning(
                "trial %d was lost with its launch (%s: %s): marked failed; its parameters run "
                "again as a new trial (at most %d times)",
                trial.number, type(error).__name__, why, studies.MAX_RETRY,
            )  # fmt: skip

    def _launch(self, trials, overrides) -> list:
        """Each trial's job numbered by its trial number (its folder's name starts with it):
        a batch of consecutive numbers in one launch, so the launcher runs them in parallel."""
        returns: list = []
        start = 0
        for end in range(1, len(trials) + 1):
            if end == len(trials) or trials[end].number != trials[end - 1].number + 1:
                launched = self.search.launcher.launch(
                    overrides[start:end], initial_job_idx=trials[start].number
                )
                returns += list(launched)
                start = end
        return returns

    def _tell(self, trial, ret) -> BaseException | None:
        """Records the trial's value (or its failure) in the study; returns the failure."""
        from optuna.trial import TrialState

        folder = Path(ret.hydra_cfg.hydra.runtime.output_dir)
        self._locked(lambda: trial.set_user_attr("folder", _relative(folder, self.sweep_dir)))
        failure = None
        if ret.status == JobStatus.COMPLETED:
            try:
                value = float(ret.return_value)
                if not math.isfinite(value):
                    raise ValueError(f"optimized_metric is {value}")
            except (TypeError, ValueError) as error:
                failure = ValueError(f"trial {trial.number} returned no usable value: {error}")
        else:
            failure = ret._return_value  # the job's exception; its job said why in its log
            if isinstance(failure, JobFailed) and not (folder / "checkpoints").exists():
                self.refused.append(f"trial {trial.number}: {failure}")
        if failure is None:
            self._locked(lambda: self.study.tell(trial, value))
            return None
        self._locked(lambda: self.study.tell(trial, state=TrialState.FAIL))
        log.warning("trial %d failed: %s", trial.number, str(failure).splitlines()[0])
        return failure

    def finish(self) -> None:
        """optimization_results.yaml: the best trial (also in the sweep report), written whole."""
        from omegaconf import OmegaConf

        from vit_inpaint.storage.atomic import write_atomic

        completed = self.study.get_trials(deepcopy=False, states=(_complete(),))
        if not completed:
            raise JobFailed("no trial of the search finished")
        best = self.study.best_trial
        results = {
            "name": "optuna",
            "best_params": best.params,
            "best_value": best.value,
            "best_trial": best.number,
            "best_folder": best.user_attrs.get("folder"),
            "n_trials": len(self.study.trials),
        }
        write_atomic(
            self.sweep_dir / "optimization_results.yaml",
            OmegaConf.to_yaml(OmegaConf.create(results)),
        )
        log.info("best trial %d: %s, %s", best.number, best.value, best.params)


def _complete():
    from optuna.trial import TrialState

    return TrialState.COMPLETE


def _finished(study) -> int:
    from optuna.trial import TrialState

    done = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return len(study.get_trials(deepcopy=False, states=done))


@contextlib.contextmanager
def _heartbeat(storage, trial_ids: list[int]):
    """Records a heartbeat on the running trials every HEARTBEAT_S, so that other workers can
    tell them from trials whose worker died (study.recover_interrupted)."""
    stop = threading.Event()

    def beat():
        while not stop.wait(studies.HEARTBEAT_S):
            for trial_id in trial_ids:
                try:
                    storage.record_heartbeat(trial_id)
                except Exception as error:  # a locked database: the next beat will do
                    log.debug("no heartbeat for trial id %d: %s", trial_id, error)

    thread = threading.Thread(target=beat, name="trial-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _relative(folder: Path, sweep_dir: Path) -> str:
    try:
        return str(folder.resolve().relative_to(sweep_dir.resolve()))
    except ValueError:
        return str(folder)


def _make_folder(folder: Path) -> list[Path]:
    """Makes `folder` and its missing parents; returns those it made (outermost first)."""
    made = []
    path = folder.resolve()
    while not path.exists():
        made.insert(0, path)
        path = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    return made


def _remove_made(made: list[Path], study_file: Path) -> None:
    """What a search refused at its start made: the study file and folders it created."""
    if made:
        study_file.unlink(missing_ok=True)
        (study_file.parent / studies.LOCK_FILE).unlink(missing_ok=True)
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()
