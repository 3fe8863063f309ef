"""`ckpt_path=last`: resume a run from its own last checkpoint without typing its path.

Which run: the one in `hydra.run.dir` when given; else the newest unfinished run in the runs
folder (outputs/runs/) that was launched with the same overrides (its `.hydra/overrides.yaml`,
ckpt_path and the output folder left out). `python train.py masking=pixel ckpt_path=last` goes on
with the last `python train.py masking=pixel` that stopped. Where that run has no
`checkpoints/last.ckpt`, the launch is refused with one line (training.py).

Only the standard library (and PyYAML, which Hydra brings) is imported: the resolver runs while
Hydra composes.
"""

from __future__ import annotations

import os
from pathlib import Path

LAST = "last"
METRICS_FILE = "metrics.json"
# Overrides that say where a launch writes or what it resumes, not what it trains.
WHERE_KEYS = ("ckpt_path", "hydra.run.dir", "hydra.sweep.dir", "hydra.job.chdir")


def last_checkpoint(output_dir: str | os.PathLike) -> Path:
    return Path(output_dir) / "checkpoints" / "last.ckpt"


def what_it_trains(overrides) -> list[str]:
    """The overrides of a launch without those that only place it (WHERE_KEYS)."""
    kept = []
    for override in overrides or ():
        key = str(override).lstrip("+~").partition("=")[0]
        if key not in WHERE_KEYS:
            kept.append(str(override))
    return sorted(kept)


def find_unfinished_run(runs_dir: Path, overrides) -> Path | None:
    """The newest run in `runs_dir` launched with `overrides` (WHERE_KEYS aside) that has a last
    checkpoint and no metrics.json; None if there is none."""
    import yaml

    wanted = what_it_trains(overrides)
    if not runs_dir.is_dir():
        return None
    # Folder names start with the start time (conf/hydra/default.yaml): newest first by name.
    for run in sorted(runs_dir.iterdir(), key=lambda p: p.name, reverse=True):
        record = run / ".hydra" / "overrides.yaml"
        if (run / METRICS_FILE).exists() or not last_checkpoint(run).is_file():
            continue
        try:
            recorded = yaml.safe_load(record.read_text())
        except (OSError, yaml.YAMLError):
            continue  # no record (not a run of train.py) or an unreadable one: not this run
        if isinstance(recorded, list) and what_it_trains(recorded) == wanted:
            return run
    return None


def no_last_checkpoint_line(output_dir: str | os.PathLike, named: bool) -> str:
    """Why `ckpt_path=last` cannot resume: the run named has no last checkpoint, or no run with
    these overrides stopped before it finished."""
    if named:
        return (
            f"ckpt_path=last: {output_dir} holds no checkpoints/last.ckpt to resume; give the "
            "folder of a run that stopped (hydra.run.dir=<run>) or a checkpoint "
            "(ckpt_path=<run>/checkpoints/<file>)"
        )
    return (
        f"ckpt_path=last: no run in {Path(output_dir).parent} with these overrides stopped "
        "before it finished (one with checkpoints/last.ckpt and no metrics.json); repeat that "
        "run's overrides, or name its folder: hydra.run.dir=<run> ckpt_path=last"
    )
