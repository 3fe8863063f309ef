"""Hydra callbacks: a run's folder and a multirun are checked before the first job starts, and a
multirun ends with its sweep report (vit_inpaint/report/write.py).

Hydra instantiates callbacks when it starts, so this module imports nothing heavy at the top.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from vit_inpaint.config.hydra_private import (
    BASIC_SWEEPER,
    basic_sweep_batches,
    overrides_dirname,
)
from vit_inpaint.storage.launch_folders import LaunchFolders

log = logging.getLogger(__name__)


class CheckRun(Callback):
    """Makes a run's folder before Hydra does, so that one that cannot be made (a read-only
    file system, a file in its place, a name too long) is one `error:` line, exit status 2, with
    nothing left behind; Hydra would stop with a traceback, leaving the parents it made."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        from vit_inpaint.storage.launch_folders import current
        from vit_inpaint.storage.run_folder import RunFolderError

        try:
            current().make_folder(Path(config.hydra.run.dir), "hydra.run.dir")
        except RunFolderError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)  # SystemExit passes through Hydra's callback handling, as in CheckSweep


class CheckSweep(Callback):
    """Refuses, before any job or folder is made, a sweep whose every job would be refused, a
    sweep whose jobs would share a folder, and a sweep into the folder of an earlier sweep: Hydra
    would rewrite its multirun.yaml, and the report of its runs, before the first job (Hydra
    saves multirun.yaml after this callback)."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        from vit_inpaint.launch.validate import ConfigError, check_known_keys, check_sweep

        try:
            check_single_valued(config)  # before check_sweep, which finds no such value
            check_sweep(config)  # swept values are checked again in each job
            # A key no job would read (+foo=1) fails every job alike: refuse the sweep instead.
            check_known_keys(config, skip=("hydra",))
            check_job_folders(config)
            check_launcher(config)
            earlier = earlier_sweep(Path(config.hydra.sweep.dir))
            if earlier is not None and not continues_search(config):
                raise ConfigError(
                    f"hydra.sweep.dir={config.hydra.sweep.dir} holds an earlier sweep "
                    f"({earlier}); choose a new folder so nothing of it is overwritten (a "
                    "run of it resumes with ckpt_path=<its job>/checkpoints/last.ckpt)"
                )
            from vit_inpaint.storage.launch_folders import current

            current().make_folder(Path(config.hydra.sweep.dir), "hydra.sweep.dir")  # read-only
        except (ConfigError, ValueError) as error:  # ValueError: make_folder's RunFolderError
            # Hydra turns a callback's exception into a warning and goes on; SystemExit it lets
            # through, so the sweep stops here, before its folder or any job exists.
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)


# Keys a sweep may not sweep: pretrained.sweep names the one stage-1 sweep a stage-2 sweep's
# jobs start from (they are told apart by seed, not by it: folder names leave it out).
SINGLE_VALUED = ("pretrained.sweep",)


def check_single_valued(config: DictConfig) -> None:
    """ConfigError for a sweep over a key that takes one value per sweep (SINGLE_VALUED); it was
    reported as "pretrained.sweep is not set", which it was, twice."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from vit_inpaint.errors import ConfigError

    task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    for override in OverridesParser.create().parse_overrides(task):
        if override.key_or_group in SINGLE_VALUED and override.is_sweep_override():
            raise ConfigError(
                f"{override.key_or_group} takes one folder per sweep, got several "
                f"({override.input_line}): run one sweep for each"
            )


def check_launcher(config: DictConfig) -> None:
    """Launcher settings that would fail inside the launcher, with its traceback: joblib's
    n_jobs=0 ("has no meaning" to joblib; -1 is every core)."""
    from vit_inpaint.errors import ConfigError

    n_jobs = OmegaConf.select(config, "hydra.launcher.n_jobs", default=None)
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0
    ):
        raise ConfigError(
            f"hydra.launcher.n_jobs must be a whole number other than 0 (N jobs at a time; -1: "
            f"one per core), got {n_jobs!r}"
        )


def earlier_sweep(sweep_dir: Path) -> str | None:
    """What marks `sweep_dir` as an earlier sweep's folder (None: it is not): a job folder, a
    report or an Optuna result of its own. A multirun.yaml alone is a sweep refused before any
    job ran (`model=vit,nope`): nothing of it is lost when the corrected sweep rewrites it."""
    for mark in ("report.md", "optimization_results.yaml"):
        if (sweep_dir / mark).exists():
            return mark
    job = next(sweep_dir.glob("*/.hydra"), None) if sweep_dir.is_dir() else None
    return f"the job folder {job.parent.name}" if job is not None else None


# A search sweeper's study (vit_inpaint/search/): another launch of it goes on where it stopped.
SEARCH_SWEEPER = "hydra_plugins.vit_inpaint_search.resumable_optuna.ResumableOptunaSweeper"


def continues_search(config: DictConfig) -> bool:
    """A launch of a search into a folder where a search ran (its workers' lock file is there):
    the study decides what is left to run, and refuses another search."""
    from vit_inpaint.search.study import LOCK_FILE

    sweeper = config.hydra.sweeper.get("_target_")
    return sweeper == SEARCH_SWEEPER and (Path(config.hydra.sweep.dir) / LOCK_FILE).exists()


class SweepReport(Callback):
    """Writes report.md and the figures into the sweep folder once every job has ended.

    Never at a job's end: under joblib or submitit on_job_end runs in the job's own worker while
    other jobs still train. Hydra calls on_multirun_end only when every job succeeded; after a
    failure the sweeper raises instead, and train.py writes the report once it has returned
    (`write_unreported_sweep`), whichever the launcher.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        from vit_inpaint.storage.launch_folders import current

        current().unreported_sweeps.append(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from vit_inpaint.storage.launch_folders import current

        current().unreported_sweeps.clear()
        self._write(Path(config.hydra.sweep.dir), echo=True)

    @staticmethod
    def _write(sweep_dir: Path, echo: bool) -> None:
        from vit_inpaint.report.runs import ReportError

        try:
            from vit_inpaint.report.write import write_report

            table = write_report(sweep_dir)
        except ReportError as error:  # e.g. a read-only sweep folder: one line says why
            log.warning("no sweep report: %s", error)
            return
        except Exception:  # a report that fails must not hide the runs that finished
            log.warning("could not write the sweep report for %s", sweep_dir, exc_info=True)
            return
        if echo:
            print(table)
        log.info("sweep report: %s", sweep_dir / "report.md")


def write_unreported_sweep(folders: LaunchFolders) -> None:
    """The report of a sweep of this launch that ended without on_multirun_end (a job failed):
    its launcher has returned, so every job has ended."""
    while folders.unreported_sweeps:
        sweep_dir = folders.unreported_sweeps.pop()
        # None of its jobs started (a sweep refused as its jobs were composed: model=vit,nope):
        # nothing to report, and the refusal's `error:` line stays the last line.
        if not sweep_dir.is_dir():
            continue
        if next(sweep_dir.rglob(".hydra"), None) is not None:
            SweepReport._write(sweep_dir, echo=False)
        else:
            from vit_inpaint.search.study import LOCK_FILE

            # What Hydra writes first, and the lock a search takes before it refuses.
            folders.discard_unstarted_sweep(sweep_dir, leftovers=("multirun.yaml", LOCK_FILE))


# The interpolations of hydra.sweep.subdir whose values are known before the jobs run.
_JOB_FIELDS = ("hydra.job.override_dirname", "hydra.job.num", "hydra.job.id")
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
# hydra.sweep.subdir kept one name by config/resolvers.py's folder_name: ${folder_name:'...'}.
_FOLDER_NAME = re.compile(r"^\$\{folder_name:'(.*)'\}$")


def check_job_folders(config: DictConfig) -> None:
    """ConfigError naming the overrides of two jobs that would write into one folder, from the
    folder names Hydra's basic sweeper will give its jobs. Names made from other keys, and other
    sweepers' jobs, are not checked here: each job's own claim keeps them apart anyway."""
    from vit_inpaint.launch.validate import ConfigError

    naming = config.hydra.job.config.override_dirname
    subdir = str(OmegaConf.to_container(config.hydra.sweep, resolve=False)["subdir"])
    jobs = _basic_sweep_jobs(config)
    if jobs is None:
        return
    from vit_inpaint.config.resolvers import folder_name

    wrapped = _FOLDER_NAME.match(subdir)
    name = folder_name if wrapped else str
    subdir = wrapped.group(1) if wrapped else subdir
    folders: dict[str, list[list[str]]] = {}
    for num, (job, dirname) in enumerate(jobs):
        fields = {_JOB_FIELDS[0]: dirname, _JOB_FIELDS[1]: str(num), _JOB_FIELDS[2]: str(num)}
        for key in set(_INTERPOLATION.findall(subdir)) - set(fields):
            value = _job_value(config, job, key, swept=jobs)
            if value is None:
                return  # a value this check cannot foresee: each job's claim still guards it
            fields[key] = value
        folder = name(_INTERPOLATION.sub(lambda match, f=fields: f[match.group(1)], subdir))
        folders.setdefault(folder, []).append(job)
    for folder, sharing in folders.items():
        if len(sharing) == 1:
            continue
        apart = [[o for o in job if any(o not in other for other in sharing)] for job in sharing]
        left_out = {o.split("=")[0] for job in apart for o in job} & set(naming.exclude_keys)
        why = (
            f"folder names leave out {', '.join(sorted(left_out))} "
            "(hydra.job.config.override_dirname.exclude_keys)"
            if left_out
            else f"hydra.sweep.subdir={subdir} names them alike"
        )
        raise ConfigError(
            f"jobs {' and '.join(' '.join(job) for job in apart[:3])} of this sweep would share "
            f"one folder, {Path(config.hydra.sweep.dir) / folder}: {why}; sweep them apart, or "
            "give each job its own folder: "
            "hydra.sweep.subdir='${hydra.job.num}_${hydra.job.override_dirname}'"
        )


# Config groups whose option may set any key (`# @package _global_`): a job that chooses one of
# them may change a key the folder name uses.
_GLOBAL_GROUPS = ("debug", "experiment", "hparams_search", "recipe", "task", "transfer")


def _job_value(config: DictConfig, job: list[str], key: str, swept) -> str | None:
    """The value `key` will have in the job with overrides `job`: its override, else the sweep's
    config; None when a group option the jobs differ in may set it."""
    given = {o.lstrip("+").partition("=")[0]: o.partition("=")[2] for o in job}
    if key.startswith("hydra.runtime.choices."):
        group = key.removeprefix("hydra.runtime.choices.")
        return given.get(group, str(OmegaConf.select(config, key)))
    if key in given:
        return given[key]
    differing = {o.partition("=")[0] for other, _ in swept for o in other} - {
        o.partition("=")[0] for o in job if all(o in other for other, _ in swept)
    }
    for name in differing:
        if name in _GLOBAL_GROUPS or key.startswith(f"{name}."):
            return None
    value = OmegaConf.select(config, key, default=None)
    return None if value is None else str(value)


def _basic_sweep_jobs(config: DictConfig) -> list[tuple[list[str], str]] | None:
    """Each job of a basic sweep: its overrides and its hydra.job.override_dirname, as Hydra's
    BasicSweeper and config loader will make them (None for another sweeper)."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    loader = (
        GlobalHydra.instance().config_loader() if GlobalHydra.instance().is_initialized() else None
    )
    parser = OverridesParser.create(config_loader=loader)
    params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    (batch,) = basic_sweep_batches(parser.parse_overrides([*params, *task]))
    naming = config.hydra.job.config.override_dirname
    exclude = list(naming.exclude_keys)
    return [
        (
            job,
            overrides_dirname(parser.parse_overrides(job), exclude, naming.item_sep, naming.kv_sep),
        )
        for job in batch
    ]
