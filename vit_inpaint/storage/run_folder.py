"""A run folder's life cycle, in the order a launch meets it: claim, lock, check, record, release
(or discard, for a launch refused before training began).

- claim, and discard (storage/launch_folders.py): the launch's record in the folder, made when
  Hydra starts the job, and removed again if the launch is refused before its training began.
- lock and check (`RunFolder.open`, when train() starts): one live run per folder, and no run
  into a folder holding a finished run's results or (unless it resumes it) another run's files.
- record (`RunFolder.finish`): metrics.json, written last and atomically, marks the run finished.
- release (`RunFolder.close`).

`python train.py ckpt_path=outputs/runs/<run>/checkpoints/last.ckpt` continues <run> in its own
folder (`run_of_checkpoint`, `resumes`): Lightning then restores the checkpoint callback's record
of the best epoch (only when the checkpoint folder is unchanged), TensorBoard's curves go on in
the same event folder, and `test_ckpt=best` picks the best epoch of the whole run.

Only the standard library is imported at the top: the resolvers run inside Hydra.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from vit_inpaint.errors import RunFolderError
from vit_inpaint.storage.folder_lock import LOCK_FILE, FolderLock

METRICS_FILE = "metrics.json"  # written last, atomically: its presence means the run finished
RECORD = ".hydra"


def write_failure(error: OSError, output_dir: str | os.PathLike) -> str:
    """A file-system failure during a run as one line: the path, why, and how to go on. The
    checkpoints are written all or nothing, so the last finished epoch's is still whole."""
    where = error.filename or output_dir
    line = f"{where}: {(error.strerror or str(error)).lower()} (the run stopped)"
    last = Path(output_dir) / "checkpoints" / "last.ckpt"
    if last.is_file():
        line += f"; once it is fixed, resume the last finished epoch with ckpt_path={last}"
    return line


# --- Where a launch writes --------------------------------------------------------------------


def run_of_checkpoint(ckpt_path: str | None) -> Path | None:
    """<run> for a checkpoint in <run>/checkpoints/, else None (a checkpoint from elsewhere)."""
    if ckpt_path is None:
        return None
    path = Path(ckpt_path)
    return path.parent.parent if path.parent.name == "checkpoints" else None


def resumes(ckpt_path: str | None, output_dir: str | os.PathLike) -> bool:
    """Whether ckpt_path is a checkpoint of the run in output_dir (a resume in place);
    ckpt_path=last always is (storage/resume_last.py)."""
    if ckpt_path == "last":
        return True
    run = run_of_checkpoint(ckpt_path)
    return run is not None and os.path.abspath(run) == os.path.abspath(output_dir)


# --- Lock and check -----------------------------------------------------------------------------


def prepare_output_dir(
    output_dir: Path, prior: tuple[str, ...] | None = None, resume: bool = False
) -> None:
    """Refuses to train into a folder that holds a finished run's results, or (unless this
    launch resumes the folder's run) any other run's files.

    prior: the folder's entries before this launch wrote its own record and log into it (None:
    read them now, for a run started without Hydra).
    """
    record = output_dir / RECORD
    if record.is_symlink() or record.is_file():
        raise RunFolderError(
            f"{record}: a {'symbolic link' if record.is_symlink() else 'file'} where the run's "
            "record folder goes, not one a run made; remove it (rm "
            f"{record}) or choose another output folder (hydra.run.dir=...)"
        )
    if (output_dir / METRICS_FILE).exists():
        raise RunFolderError(
            f"{output_dir} already holds a finished run ({METRICS_FILE}); choose a new output "
            "folder (hydra.run.dir=...) so nothing is overwritten"
        )
    if prior is None:
        prior = tuple(sorted(os.listdir(output_dir))) if output_dir.is_dir() else ()
    others = [name for name in prior if name != LOCK_FILE]
    if others and not resume:
        shown = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
        last = output_dir / "checkpoints" / "last.ckpt"
        if RECORD not in prior:  # a user's own folder, not a run's
            raise RunFolderError(
                f"{output_dir} already holds files of its own ({shown}), not a run's: a run "
                "starts in a new or empty folder; choose one (hydra.run.dir=...)"
            )
        resume_hint = f", or resume that run with ckpt_path={last}" if last.is_file() else ""
        raise RunFolderError(
            f"{output_dir} already holds another run's files ({shown}); choose a new output "
            f"folder (hydra.run.dir=...) so nothing is overwritten{resume_hint}"
        )
    output_dir.mkdir(parents=True, exist_ok=True)


class RunFolder:
    """One launch's hold on its run folder, from `open` (lock and check) to `close` (release).

    DDP's extra processes (`lock=False`) write into their rank 0's folder, which rank 0 holds.
    """

    def __init__(
        self,
        output_dir: Path,
        ckpt_path: str | None = None,
        lock: bool = True,
        prior: tuple[str, ...] | None = None,
    ):
        """prior: the folder's entries before this launch wrote its record and log into it (its
        claim's, storage/launch_folders.py); None: read them when the folder is opened (a run
        started without Hydra)."""
        self.output_dir = Path(output_dir)
        self.ckpt_path = ckpt_path
        self.prior = prior
        self._lock = FolderLock(self.output_dir) if lock else None

    def open(self) -> RunFolder:
        """Locks the folder and checks that this launch may train into it (RunFolderError)."""
        if self._lock is None:
            return self
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            resume = resumes(self.ckpt_path, self.output_dir)
            prepare_output_dir(self.output_dir, self.prior, resume=resume)
        except BaseException:
            self.close()
            raise
        return self

    def finish(self, metrics: dict[str, float]) -> None:
        """Records the run's final metrics: the mark of a finished run, written last."""
        from vit_inpaint.storage.atomic import write_atomic

        record = json.dumps(metrics, indent=2, sort_keys=True) + "\n"
        write_atomic(self.output_dir / METRICS_FILE, record)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- A train() call --------------------------------------------------------------------------


@dataclass
class Launch:
    """Where one train() call stands (train.py makes one per call and hands it in): once training
    has begun, a failure keeps the run's files (its checkpoints resume it); before that, train.py
    discards what it wrote."""

    began: bool = False
