"""Where a launch writes: config resolvers that train.py registers before Hydra composes.

`python train.py ckpt_path=outputs/runs/<run>/checkpoints/last.ckpt` continues <run> in its own
folder: Lightning then restores the checkpoint callback's record of the best epoch (it does so
only when the checkpoint folder is unchanged), TensorBoard's curves go on in the same event
folder, and `test_ckpt=best` picks the best epoch of the whole run. A checkpoint from anywhere
else starts a new run folder as usual.

Hydra writes its record of a launch (config.yaml, hydra.yaml, overrides.yaml) and opens its log
file before the task function runs, so a launch that is then refused would already have
rewritten the record and log of a run that was in the folder before. Hence `hydra.output_subdir`
and the log file's name go through `claim_record`: the launch that creates `<folder>/.hydra`
(os.mkdir, atomic) owns the folder's record and logs to `<folder>/train.log`; any later launch
into that folder (a resume, or one that will be refused) gets a subfolder of its own,
`.hydra/resumed-<time>/` or `.hydra/attempt-<time>-<pid>/`, which holds its record and its log.
So an earlier run's files are never rewritten, and a refused launch can delete exactly what it
made (training.discard_launch).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

RECORD = ".hydra"
# When this process started launching: a run folder changed after this was made by this launch.
LAUNCHED = time.time()


def run_of_checkpoint(ckpt_path: str | None) -> Path | None:
    """<run> for a checkpoint in <run>/checkpoints/, else None (a checkpoint from elsewhere)."""
    if ckpt_path is None:
        return None
    path = Path(ckpt_path)
    return path.parent.parent if path.parent.name == "checkpoints" else None


def resumes(ckpt_path: str | None, output_dir: str | os.PathLike) -> bool:
    """Whether ckpt_path is a checkpoint of the run in output_dir (a resume in place)."""
    run = run_of_checkpoint(ckpt_path)
    return run is not None and os.path.abspath(run) == os.path.abspath(output_dir)


def run_dir(ckpt_path: str | None, default: str) -> str:
    """hydra.run.dir: the checkpoint's run folder when resuming one, else `default`."""
    run = run_of_checkpoint(ckpt_path)
    return str(run) if run is not None else default


@dataclass(frozen=True)
class Claim:
    """What one launch found in, and made in, its output folder."""

    output_dir: Path
    prior: tuple[str, ...]  # the folder's entries before this launch wrote anything
    record: str  # this launch's record folder, relative to output_dir
    created_dir: bool  # this launch made output_dir (it was empty, and new)

    @property
    def owns_record(self) -> bool:
        """This launch made `.hydra/` itself (the folder's first launch)."""
        return self.record == RECORD

    def log_file(self, job_name: str) -> Path:
        """The launch's log: in the run folder for a fresh folder, else in its record folder."""
        if self.owns_record and not self.prior:
            return self.output_dir / f"{job_name}.log"
        return self.output_dir / self.record / f"{job_name}.log"


_claims: dict[str, Claim] = {}


def claim_record(output_dir: str, ckpt_path: str | None, stamp: str) -> Claim:
    """This launch's claim on output_dir, made on first use and cached for the process (Hydra
    evaluates the resolvers more than once; each job of a multirun has its own folder)."""
    key = os.path.abspath(output_dir)
    if key in _claims:
        return _claims[key]
    folder = Path(key)
    folder.mkdir(parents=True, exist_ok=True)  # Hydra makes it too, just before
    prior = tuple(sorted(os.listdir(folder)))
    created = not prior and folder.stat().st_ctime >= LAUNCHED - 0.05
    try:
        os.mkdir(folder / RECORD)
        record = RECORD
    except FileExistsError:
        resume = resumes(ckpt_path, folder)
        kind = f"resumed-{stamp}" if resume else f"attempt-{stamp}-{os.getpid()}"
        record, n = f"{RECORD}/{kind}", 1
        while True:
            try:
                os.makedirs(folder / record)
                break
            except FileExistsError:
                n += 1
                record = f"{RECORD}/{kind}-{n}"
    _claims[key] = Claim(folder, prior, record, created)
    return _claims[key]


def launch_claim(output_dir: str | os.PathLike) -> Claim | None:
    """The claim this process made on output_dir, if Hydra recorded a launch there."""
    return _claims.get(os.path.abspath(output_dir))


def forget_claim(output_dir: str | os.PathLike) -> None:
    _claims.pop(os.path.abspath(output_dir), None)


def output_subdir(output_dir: str, ckpt_path: str | None, stamp: str) -> str:
    """hydra.output_subdir: `.hydra` for a folder's first launch, else the launch's own
    `.hydra/resumed-<stamp>` (resuming the folder's run) or `.hydra/attempt-<stamp>-<pid>`."""
    return claim_record(output_dir, ckpt_path, stamp).record


def log_file(output_dir: str, subdir: str | None, job_name: str) -> str:
    """hydra.job_logging.handlers.file.filename. With no record (hydra.output_subdir=null, as
    Lightning sets for DDP's extra processes) the log is <output_dir>/<job name>.log, so rank 1
    logs to train_ddp_process_1.log beside rank 0's train.log."""
    claim = launch_claim(output_dir) if subdir is not None else None
    if claim is None:
        return str(Path(output_dir) / f"{job_name}.log")
    return str(claim.log_file(job_name))


def register() -> None:
    OmegaConf.register_new_resolver("resume_run_dir", run_dir, replace=True)
    OmegaConf.register_new_resolver("launch_record", output_subdir, replace=True)
    OmegaConf.register_new_resolver("launch_log", log_file, replace=True)
