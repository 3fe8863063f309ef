"""Hydra callbacks: a multirun is checked before its first job starts, and ends with its sweep
report (vit_inpaint/evaluation/report.py).

Hydra instantiates callbacks when it starts, so this module imports nothing heavy at the top.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class CheckSweep(Callback):
    """Refuses, before any job or folder is made, a sweep whose every job would be refused, and a
    sweep into the folder of an earlier sweep: Hydra would rewrite its multirun.yaml, and the
    report of its runs, before the first job (Hydra saves multirun.yaml after this callback)."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        from vit_inpaint.config.validate import ConfigError, check_sweep

        try:
            check_sweep(config)  # swept values are checked again in each job
            earlier = Path(config.hydra.sweep.dir) / "multirun.yaml"
            if earlier.exists():
                raise ConfigError(
                    f"hydra.sweep.dir={config.hydra.sweep.dir} holds an earlier sweep "
                    f"({earlier.name}); choose a new folder so nothing of it is overwritten (a "
                    "run of it resumes with ckpt_path=<its job>/checkpoints/last.ckpt)"
                )
        except ConfigError as error:
            # Hydra turns a callback's exception into a warning and goes on; SystemExit it lets
            # through, so the sweep stops here, before its folder or any job exists.
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)


class SweepReport(Callback):
    """Writes report.md and the figures into the sweep folder once the jobs are done.

    Hydra calls on_multirun_end only when every job succeeded: once a job has failed, it runs
    the remaining jobs and then raises. So after a failure the report is rewritten at the end of
    every later job, and the last one written covers the whole sweep, failed runs included.
    """

    def __init__(self) -> None:
        self.failure_seen = False

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs) -> None:
        if job_return.status == JobStatus.FAILED:
            self.failure_seen = True
        if self.failure_seen and config.hydra.mode.name == "MULTIRUN":
            self._write(Path(config.hydra.sweep.dir), echo=False)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._write(Path(config.hydra.sweep.dir), echo=True)

    @staticmethod
    def _write(sweep_dir: Path, echo: bool) -> None:
        from vit_inpaint.evaluation.runs import ReportError

        try:
            from vit_inpaint.evaluation.report import write_report

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
