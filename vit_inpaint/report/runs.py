"""A sweep's runs as the report sees them: each job folder of a Hydra multirun read back, and the
jobs grouped into configurations (jobs that differ only in `seed=`).

A job folder holds
    .hydra/overrides.yaml, .hydra/config.yaml   what the job ran (its training mask, its data)
    metrics.json                                 its final metrics; absent = the job FAILED
    events.out.tfevents.*                        its TensorBoard scalars (the val/mse curve)
    checkpoints/epoch*.ckpt, else last.ckpt      its model, for the pictures

Only the standard library and OmegaConf are imported here; TensorBoard's reader is imported when a
job's curves are first asked for.
"""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from vit_inpaint.data.masking import EVAL_MASKINGS
from vit_inpaint.storage.run_folder import METRICS_FILE
from vit_inpaint.tasks.registry import DEFAULT
from vit_inpaint.tasks.registry import KEY as TASK_KEY

SEED = "seed"
# Overrides left out of the labels: the pretraining sweep's folder (a path, and the same for
# every fine-tuning run; `experiment=..._finetune` already says which runs started from it).
UNLABELLED = ("pretrained.sweep",)
# Every model is also tested on each kind of mask (test/<mask>/...): the cross-evaluation.
TEST_MASKS = tuple(EVAL_MASKINGS)
# The config's per-image RMSE limits of the rates (conf/train.yaml rate_thresholds).
RATE_THRESHOLDS = ("perfect", "acceptable")


class ReportError(ValueError):
    """Run folders the report cannot work from; the message names the folder and what is wrong."""


class UnreadableFile(ValueError):
    """One file of a job folder that cannot be read; the message names it and says why."""


# --- reading the runs ---------------------------------------------------------------------------


@dataclass
class Job:
    """One run of the sweep: its folder, its overrides and, if it finished, its metrics."""

    path: Path
    overrides: dict[str, str]  # "key=value" overrides as key -> value, in command-line order
    metrics: dict[str, float] | None  # None: no metrics.json, the run failed
    train_mask: str
    data_source: str
    task: str = DEFAULT  # the task it trained (tasks/registry.py)
    label: str = ""  # the overrides that tell this job from the others (set by group_jobs)
    # Why the job's files could not be read (a metrics.json that is a folder, a config.yaml that
    # is not YAML, ...); its metrics are then left out, and the report marks it "unreadable".
    unreadable: str | None = None
    # Its config's rate_thresholds (perfect, acceptable: per-image RMSE limits), which the
    # report's glossary quotes; empty when the config does not say.
    rate_thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """The run failed: it wrote no metrics.json (an unreadable job is not counted here)."""
        return self.metrics is None and self.unreadable is None

    @property
    def seed(self) -> str | None:
        return self.overrides.get(SEED)

    @cached_property
    def scalars(self) -> dict[str, list[tuple[int, float]]]:
        """The job's validation scalars from its TensorBoard events: tag -> [(step, value)]."""
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        # Its reader logs each file it opens at INFO, which Hydra would print at every sweep's end.
        logging.getLogger("tensorboard").setLevel(logging.WARNING)
        try:
            events = EventAccumulator(str(self.path), size_guidance={"scalars": 0}).Reload()
        except Exception as error:  # an events file that cannot be read costs its curve only
            logging.getLogger(__name__).warning(
                "%s: cannot read the TensorBoard events: %s", self.path, error
            )
            return {}
        return {
            tag: [(event.step, event.value) for event in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]
            if tag.startswith("val/")
        }

    def final_value(self, key: str) -> float | None:
        """`key` from metrics.json, else the last logged value (a run that failed late has one)."""
        if self.metrics and key in self.metrics:
            return self.metrics[key]
        points = self.scalars.get(key)
        return points[-1][1] if points else None

    @property
    def checkpoint(self) -> Path | None:
        """The best checkpoint on val/mse (the one `epochNNN.ckpt` that ModelCheckpoint keeps),
        else last.ckpt, else None."""
        best = sorted((self.path / "checkpoints").glob("epoch*.ckpt"))
        if best:
            return best[-1]
        last = self.path / "checkpoints" / "last.ckpt"
        return last if last.exists() else None


def find_job_dirs(sweep_dir: Path) -> list[Path]:
    """The job folders of a multirun folder, or the folder itself when it is a single run, or
    those of every sweep in it (a two-stage experiment's folder: pretrain/ and finetune/)."""
    if not sweep_dir.exists():
        raise ReportError(f"{sweep_dir} does not exist")
    if not sweep_dir.is_dir():
        raise ReportError(f"{sweep_dir} is not a folder")
    if (sweep_dir / ".hydra").is_dir():  # outputs/runs/<time>/: one run
        return [sweep_dir]
    jobs = _job_dirs_in(sweep_dir)
    if not jobs:  # a folder of sweeps? (a stage not run yet holds none: nothing to add)
        sweeps = [p for p in sweep_dir.iterdir() if (p / "multirun.yaml").is_file()]
        # In the order they ran (Hydra writes multirun.yaml as a sweep starts): pretraining first.
        sweeps.sort(key=lambda p: ((p / "multirun.yaml").stat().st_mtime, p.name))
        jobs = [job for sweep in sweeps for job in _job_dirs_in(sweep)]
    if not jobs:
        raise ReportError(
            f"{sweep_dir} holds no job folders (subfolders with a .hydra/ folder, or sweeps "
            "holding them): give a Hydra multirun folder (outputs/multiruns/<time>), a run "
            "folder (outputs/runs/<time>) or a two-stage experiment's (outputs/report_path)"
        )
    return jobs


def _job_dirs_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if (path / ".hydra").is_dir())


def read_job(path: Path) -> Job:
    """One job folder read back. A file that cannot be read does not stop the report: the job is
    returned with `unreadable` set to the reasons, and whatever else could be read."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    problems: list[str] = []

    def attempt(read, default):
        try:
            return read()
        except UnreadableFile as error:
            problems.append(str(error))
            return default

    def load_yaml(name: str, kind: type):
        file = path / ".hydra" / name
        if not file.exists():
            return None
        try:
            loaded = OmegaConf.load(file)
        except Exception as error:  # a folder, no permission, not YAML, bad interpolation ...
            raise UnreadableFile(f".hydra/{name}: {_reason(error)}") from error
        if not isinstance(loaded, kind):
            raise UnreadableFile(f".hydra/{name}: not a YAML {kind.__name__[:-6].lower()}")
        return loaded

    overrides = attempt(lambda: load_yaml("overrides.yaml", ListConfig), None) or []
    config = attempt(lambda: load_yaml("config.yaml", DictConfig), None) or OmegaConf.create()
    metrics = attempt(lambda: read_metrics(path / METRICS_FILE), None)

    def select(key: str) -> str:
        try:
            return str(OmegaConf.select(config, key, default="?"))
        except Exception as error:  # e.g. an interpolation that does not resolve
            problems.append(f".hydra/config.yaml: {key}: {_reason(error)}")
            return "?"

    train_mask, data_source = select("masking.name"), select("data.images._target_")
    recorded = select(TASK_KEY)
    thresholds = {name: select(f"rate_thresholds.{name}") for name in RATE_THRESHOLDS}
    return Job(
        path=path,
        overrides=dict(str(item).partition("=")[::2] for item in overrides),
        metrics=None if problems else metrics,
        train_mask=train_mask,
        data_source=data_source,
        task=DEFAULT if recorded == "?" else recorded,  # runs older than task=: the default
        unreadable="; ".join(problems) or None,
        rate_thresholds={k: float(v) for k, v in thresholds.items() if _is_number(v)},
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _reason(error: BaseException) -> str:
    """An error as a short line: no traceback, no newline, no Markdown table separator."""
    from vit_inpaint.storage.images import one_line

    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()  # without the path, which the report already names
    return one_line(error, limit=160).replace("|", "/")


def read_metrics(path: Path) -> dict[str, float] | None:
    """The job's metrics.json (a flat JSON object of numbers), None if there is none (the run
    failed); UnreadableFile if it cannot be read or holds something else."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = "is a folder" if path.is_dir() else _reason(error)
        raise UnreadableFile(f"{path.name}: {reason}") from error
    try:
        return {key: float(value) for key, value in json.loads(text).items()}
    except (ValueError, TypeError, AttributeError) as error:
        raise UnreadableFile(
            f"{path.name}: not a flat JSON object of numbers ({_reason(error)})"
        ) from error


# --- grouping runs into configurations ----------------------------------------------------------


@dataclass
class Configuration:
    """Jobs with the same overrides but for `seed`: one row of the table."""

    label: str
    jobs: list[Job] = field(default_factory=list)

    @property
    def finished(self) -> list[Job]:
        """The jobs with metrics: neither failed nor unreadable."""
        return [job for job in self.jobs if job.metrics is not None]

    @property
    def status(self) -> str:
        """ok; failed, or "k of n failed"; "unreadable: <why>", or "k of n unreadable: <why>"."""
        total = len(self.jobs)

        def count(word: str, jobs: list[Job]) -> str:
            return word if len(jobs) == total else f"{len(jobs)} of {total} {word}"

        parts = []
        failed = [job for job in self.jobs if job.failed]
        if failed:
            parts.append(count("failed", failed))
        unreadable = [job for job in self.jobs if job.unreadable]
        if unreadable:
            reasons = [
                f"{job.path.name}: {job.unreadable}" if total > 1 else str(job.unreadable)
                for job in unreadable
            ]
            parts.append(f"{count('unreadable', unreadable)}: {'; '.join(reasons)}")
        return ", ".join(parts) or "ok"

    @property
    def train_mask(self) -> str:
        return self.jobs[0].train_mask

    @property
    def task(self) -> str:
        return self.jobs[0].task

    def values(self, key: str) -> list[float]:
        """`key` of every finished seed that has it."""
        return [job.metrics[key] for job in self.finished if key in job.metrics]

    def mean(self, key: str) -> float | None:
        values = self.values(key)
        return statistics.fmean(values) if values else None


def group_jobs(jobs: list[Job]) -> tuple[list[Configuration], list[str]]:
    """Configurations (jobs equal but for the seed) and the overrides every job shares.

    Labels show only the overrides that differ between jobs: a sweep's shared settings (a tiny
    budget, say) would otherwise repeat on every row.
    """
    varying = {
        key
        for key in {key for job in jobs for key in job.overrides}
        if len({job.overrides.get(key) for job in jobs}) > 1 and key not in UNLABELLED
    }
    shared = [
        f"{k}={v}"
        for k, v in jobs[0].overrides.items()
        if k not in varying and k != SEED and k not in UNLABELLED
    ]
    # Only the seed varies (or one run): the one configuration is what every run shares.
    fallback = ",".join(shared) or "(defaults)"

    def describe(job: Job, keys: set[str]) -> str:
        return ",".join(f"{k}={v}" for k, v in job.overrides.items() if k in keys)

    configurations: dict[str, Configuration] = {}
    for job in jobs:
        job.label = describe(job, varying) or job.path.name
        label = describe(job, varying - {SEED}) or fallback
        configurations.setdefault(label, Configuration(label)).jobs.append(job)
    for configuration in configurations.values():
        configuration.jobs.sort(key=lambda job: _seed_order(job.seed))
    return list(configurations.values()), shared


def _seed_order(seed: str | None) -> tuple[int, str]:
    # seed=10 after seed=9: numerically where the seed is a number.
    return (int(seed), "") if seed and seed.lstrip("-").isdigit() else (0, seed or "")


def cross_eval_rows(configurations: list[Configuration]) -> list[tuple[str, Configuration]]:
    """(row label, configuration) for the configurations with cross-evaluation metrics.

    A row is named by its training mask; when the sweep varied something else too (several rows
    share a mask), the configuration's label is added so that rows are never averaged together.
    """
    rows = [c for c in configurations if any(c.values(f"test/{mask}/mse") for mask in TEST_MASKS)]
    # In the columns' order, so that a model tested on its own kind of mask is on the diagonal.
    rows.sort(key=lambda c: TEST_MASKS.index(c.train_mask) if c.train_mask in TEST_MASKS else 99)
    unique = len({c.train_mask for c in rows}) == len(rows)
    return [(c.train_mask if unique else f"{c.train_mask} ({c.label})", c) for c in rows]
