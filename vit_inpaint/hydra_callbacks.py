"""Hydra callbacks: every multirun ends with its sweep report (vit_inpaint/report.py).

Hydra instantiates callbacks when it starts, so this module imports nothing heavy at the top.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SweepReport(Callback):
    """After the last job of a multirun, writes report.md and the figures into the sweep folder."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            from vit_inpaint.report import write_report

            print(write_report(sweep_dir))
        except Exception:  # a report that fails must not hide the runs that finished
            log.exception("could not write the sweep report for %s", sweep_dir)
        else:
            log.info("sweep report: %s", sweep_dir / "report.md")
