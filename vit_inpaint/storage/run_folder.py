"""A run's folder: what marks a run as finished, and the check before a run writes into a folder."""

from __future__ import annotations

from pathlib import Path

METRICS_FILE = "metrics.json"  # written last, atomically: its presence means the run finished


class RunFolderError(ValueError):
    """A folder a run may not write into; the message says why and what to do."""


def prepare_output_dir(output_dir: Path) -> None:
    """Refuses to train into a folder that already holds a finished run's results."""
    if (output_dir / METRICS_FILE).exists():
        raise RunFolderError(
            f"{output_dir} already holds a finished run ({METRICS_FILE}); choose a new output "
            "folder (hydra.run.dir=...) so nothing is overwritten"
        )
    output_dir.mkdir(parents=True, exist_ok=True)
