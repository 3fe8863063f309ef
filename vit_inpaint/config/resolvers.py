"""Where a resumed run writes: config resolvers that train.py registers before Hydra composes.

`python train.py ckpt_path=outputs/runs/<run>/checkpoints/last.ckpt` continues <run> in its own
folder: Lightning then restores the checkpoint callback's record of the best epoch (it does so
only when the checkpoint folder is unchanged), TensorBoard's curves go on in the same event
folder, and `test_ckpt=best` picks the best epoch of the whole run. Hydra's record of the resumed
launch goes to `.hydra/resumed-<time>/`, so the run's original `.hydra/` files are kept.
A checkpoint from anywhere else starts a new run folder as usual.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf


def run_of_checkpoint(ckpt_path: str | None) -> Path | None:
    """<run> for a checkpoint in <run>/checkpoints/, else None (a checkpoint from elsewhere)."""
    if ckpt_path is None:
        return None
    path = Path(ckpt_path)
    return path.parent.parent if path.parent.name == "checkpoints" else None


def run_dir(ckpt_path: str | None, default: str) -> str:
    """hydra.run.dir: the checkpoint's run folder when resuming one, else `default`."""
    run = run_of_checkpoint(ckpt_path)
    return str(run) if run is not None else default


def hydra_subdir(ckpt_path: str | None, stamp: str) -> str:
    """hydra.output_subdir: `.hydra`, or `.hydra/resumed-<stamp>` when resuming in place."""
    return ".hydra" if run_of_checkpoint(ckpt_path) is None else f".hydra/resumed-{stamp}"


def register() -> None:
    OmegaConf.register_new_resolver("resume_run_dir", run_dir, replace=True)
    OmegaConf.register_new_resolver("resume_hydra_subdir", hydra_subdir, replace=True)
