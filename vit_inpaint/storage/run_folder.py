"""A run folder's life cycle, in the order a launch meets it: claim, lock, check, record, release
(or discard, for a launch refused before training began).

- claim (`claim_record`, through the resolvers of config/resolvers.py, while Hydra composes):
  Hydra writes its record of a launch (config.yaml, hydra.yaml, overrides.yaml) and opens its
  log file before the task function runs, so a launch that is then refused would already have
  rewritten the record and log of a run that was in the folder before. The launch that creates
  `<folder>/.hydra` (os.mkdir, atomic) owns the folder's record and logs to
  `<folder>/train.log`; any later launch into that folder (a resume, or one that will be
  refused) gets a subfolder of its own, `.hydra/resumed-<time>/` or
  `.hydra/attempt-<time>-<pid>/`, which holds its record and its log.
- lock and check (`RunFolder.open`, when train() starts): one live run per folder, and no run
  into a folder holding a finished run's results or (unless it resumes it) another run's files.
- record (`RunFolder.finish`): metrics.json, written last and atomically, marks the run finished.
- release (`RunFolder.close`), or `discard_launch`: a launch refused before its training began
  removes exactly what it made, so an earlier run's files are never touched.

`python train.py ckpt_path=outputs/runs/<run>/checkpoints/last.ckpt` continues <run> in its own
folder (`run_of_checkpoint`, `resumes`): Lightning then restores the checkpoint callback's record
of the best epoch (only when the checkpoint folder is unchanged), TensorBoard's curves go on in
the same event folder, and `test_ckpt=best` picks the best epoch of the whole run.

Only the standard library is imported at the top: the resolvers run while Hydra composes.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vit_inpaint.errors import RunFolderError
from vit_inpaint.storage.folder_lock import LOCK_FILE, FolderLock

METRICS_FILE = "metrics.json"  # written last, atomically: its presence means the run finished
RECORD = ".hydra"
# When this process started launching: a run folder changed after this was made by this launch.
LAUNCHED = time.time()


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


# The folders this process's make_folder made, outermost first: a launch refused before training
# removes them again if empty (discard_launch), so `hydra.run.dir=deep/a/b` leaves no deep/a.
_made_folders: list[Path] = []


def run_around(folder: Path) -> Path | None:
    """The run folder (one with a `.hydra` record or a metrics.json) that `folder` would be
    inside of, if any: a run made in another run's checkpoints/ would mix their files."""
    path = Path(os.path.abspath(folder)).parent
    while path != path.parent:
        if (path / RECORD).is_dir() or (path / METRICS_FILE).is_file():
            return path
        path = path.parent
    return None


def folders_made_for(folder: str | os.PathLike) -> list[Path]:
    """The folders this launch's `make_folder` made to give `folder` (outermost first), or []
    when it did not make `folder`: what a launch refused after that may remove."""
    target = os.path.abspath(folder)
    made = list(_made_folders)
    return made if any(os.path.abspath(path) == target for path in made) else []


def make_folder(folder: Path, option: str) -> None:
    """Makes `folder` and its missing parents, or raises RunFolderError naming `option`
    (`hydra.run.dir=...`) and why, having removed the parents it made: a run folder on a
    read-only file system, in place of a file, with a name too long, or inside another run's
    folder leaves nothing behind."""
    folder = Path(folder)
    _made_folders.clear()  # this launch's only (a test runs many launches in one process)
    made: list[Path] = []
    try:
        # Inside the try: a path too long fails its first stat here (ENAMETOOLONG).
        around = run_around(folder)
        if around is not None:
            raise RunFolderError(
                f"{option}={folder}: is inside the run folder {around}; a run needs a folder of "
                "its own, outside any other run's"
            )
        missing: list[Path] = []
        path = folder
        while not path.exists():  # os.stat: a name too long fails here, before anything is made
            missing.insert(0, path)
            path = path.parent
        if not missing and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file is there")
        for path in missing:
            path.mkdir()
            made.append(path)
    except OSError as error:
        for path in reversed(made):
            path.rmdir()
        reason = error.strerror or str(error)
        what = "sweep folder" if "sweep" in option else "run folder"
        raise RunFolderError(f"{option}={folder}: cannot make the {what} ({reason})") from None
    _made_folders.extend(made)
    if not made:  # an existing folder: a run must be able to write into it (a read-only one)
        try:
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as error:
            reason = error.strerror or str(error)
            raise RunFolderError(f"{option}={folder}: cannot write into it ({reason})") from None


# --- Claim --------------------------------------------------------------------------------------


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


# Claims by (job, folder): one process runs every job of a sweep under the basic launcher, and
# jobs whose folders coincide must not share a claim (the second would rewrite the first's record).
_claims: dict[tuple[str, str], Claim] = {}


def current_job() -> str:
    """The Hydra job this process runs now: its number in a multirun, "run" otherwise."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    if not HydraConfig.initialized():
        return "run"
    return str(OmegaConf.select(HydraConfig.get(), "job.num", default="run"))


def claim_record(output_dir: str, ckpt_path: str | None, stamp: str, job: str = "run") -> Claim:
    """Job `job`'s claim on output_dir, made on first use and kept for that job (Hydra
    evaluates the resolvers more than once)."""
    key = (str(job), os.path.abspath(output_dir))
    if key in _claims:
        return _claims[key]
    folder = Path(key[1])
    folder.mkdir(parents=True, exist_ok=True)  # Hydra makes it too, just before
    prior = tuple(sorted(os.listdir(folder)))
    created = not prior and folder.stat().st_ctime >= LAUNCHED - 0.05
    if (folder / RECORD).is_symlink() or (folder / RECORD).is_file():
        # No run made that: writing the record through it would write into another folder.
        # This launch's record goes beside it, and RunFolder.open refuses the folder.
        record = f".attempt-{stamp}-{os.getpid()}"
        os.makedirs(folder / record, exist_ok=True)
        _claims[key] = Claim(folder, prior, record, created)
        return _claims[key]
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


def launch_claim(output_dir: str | os.PathLike, job: str | None = None) -> Claim | None:
    """The claim job `job` (default: the current one) made on output_dir, if Hydra recorded a
    launch there."""
    return _claims.get((str(job or current_job()), os.path.abspath(output_dir)))


def forget_claim(output_dir: str | os.PathLike) -> None:
    _claims.pop((current_job(), os.path.abspath(output_dir)), None)


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

    def __init__(self, output_dir: Path, ckpt_path: str | None = None, lock: bool = True):
        self.output_dir = Path(output_dir)
        self.ckpt_path = ckpt_path
        self._lock = FolderLock(self.output_dir) if lock else None

    def open(self) -> RunFolder:
        """Locks the folder and checks that this launch may train into it (RunFolderError)."""
        if self._lock is None:
            return self
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            claim = launch_claim(self.output_dir)
            if claim is not None and not claim.owns_record and not claim.prior:
                prior = (RECORD,)  # another launch made the record meanwhile: not ours
            else:
                prior = claim.prior if claim is not None else None
            resume = resumes(self.ckpt_path, self.output_dir)
            prepare_output_dir(self.output_dir, prior, resume=resume)
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


# --- Release what a refused launch made --------------------------------------------------------


@dataclass
class Launch:
    """Where one train() call stands (train.py makes one per call and hands it in): once training
    has begun, a failure keeps the run's files (its checkpoints resume it); before that, train.py
    discards what it wrote."""

    began: bool = False


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def discard_launch(keep_own_folder: bool = False) -> None:
    """Removes what this launch wrote before its training began, and nothing else: its record
    (.hydra/ if it made it, else its own .hydra/resumed-<time>/ or attempt-<time>-<pid>/), its
    log, and the run folder if this launch made it and it is empty again. Files of an earlier or
    concurrent run are never touched.

    keep_own_folder: keep the record and log of a launch that had the folder to itself (a job
    of a multirun: the sweep report lists it as failed); still remove a record subfolder."""
    import shutil

    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    claim = launch_claim(output_dir) if hydra_cfg.output_subdir is not None else None
    if claim is None:
        return  # no record of this launch (DDP's extra process, hydra.output_subdir=null)
    if keep_own_folder and claim.owns_record:
        return
    log_file = claim.log_file(hydra_cfg.job.name)
    for handler in list(logging.getLogger().handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == log_file:
            handler.close()
            logging.getLogger().removeHandler(handler)
    record = output_dir / claim.record
    if claim.owns_record:  # only the files Hydra wrote for this launch: another may be inside
        for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
            (record / name).unlink(missing_ok=True)
        log_file.unlink(missing_ok=True)  # made by this launch: the folder had no record
        _rmdir_if_empty(record)
    else:
        shutil.rmtree(record, ignore_errors=True)
    if claim.created_dir:
        _rmdir_if_empty(output_dir)
        for folder in reversed(_made_folders):  # the parents make_folder made, if empty again
            _rmdir_if_empty(folder)
    forget_claim(output_dir)


def discard_unstarted_sweep(
    sweep_dir: Path, leftovers: tuple[str, ...] = ("multirun.yaml",)
) -> None:
    """A sweep refused before its first job started (a value of the wrong type, a group option
    that does not exist: Hydra composes the jobs after it wrote multirun.yaml; a sweeper's own
    refusal, before it): the files named in `leftovers` and the folders this launch made for it
    are removed, so nothing is left. A folder holding anything else is kept whole."""
    made = [os.path.abspath(folder) for folder in _made_folders]
    left = os.listdir(sweep_dir)
    if os.path.abspath(sweep_dir) not in made or not set(left) <= set(leftovers):
        return
    for name in left:
        (Path(sweep_dir) / name).unlink()
    for folder in reversed(_made_folders):
        _rmdir_if_empty(folder)


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (or gone): leave it
        pass
