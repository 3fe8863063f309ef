"""What one launch of train.py claimed and made on disk: its claim on each run folder, the
folders it made, the sweeps it has yet to report. One `LaunchFolders` per launch, never a
module's global: train.py makes one per `python train.py` and activates it for the launch.

- claim (`LaunchFolders.claim`, through the resolvers of config/resolvers.py, when Hydra starts
  a job and reads hydra.output_subdir, just before it writes its record): Hydra writes its record
  of a launch (config.yaml, hydra.yaml, overrides.yaml) and opens its log file before the task
  function runs, so a launch that is then refused would already have rewritten the record and
  log of a run that was in the folder before. The launch that creates `<folder>/.hydra`
  (os.mkdir, atomic) owns the folder's record and logs to `<folder>/train.log`; any later launch
  into that folder (a resume, or one that will be refused) gets a subfolder of its own,
  `.hydra/resumed-<time>/` or `.hydra/attempt-<time>-<pid>/`, which holds its record and its log.
  Composing a config (`--cfg job`, `--cfg hydra --resolve`) claims nothing: Hydra has no output
  folder then.
- discard (`discard_launch`, `discard_unstarted_sweep`): a launch refused before its training
  began removes exactly what it made, so an earlier run's files are never touched.

The resolvers, Hydra's callbacks and train.py's task function find the launch's instance as the
active one (`current()`): Hydra hands none of them an object of ours. A launcher's worker process
(joblib, submitit), where train.py's `__main__` block does not run, gets one of its own on first
use: one worker process runs that launch's jobs.

Only the standard library is imported at the top: the resolvers run inside Hydra.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vit_inpaint.errors import RunFolderError
from vit_inpaint.storage.run_folder import METRICS_FILE, RECORD, resumes


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

    @property
    def found(self) -> tuple[str, ...]:
        """What the folder held that is not this launch's, for RunFolder's checks: its entries
        before the claim, or the record another launch made meanwhile (the folder was empty, yet
        this launch's record is a subfolder)."""
        if not self.owns_record and not self.prior:
            return (RECORD,)
        return self.prior

    def log_file(self, job_name: str) -> Path:
        """The launch's log: in the run folder for a fresh folder, else in its record folder."""
        if self.owns_record and not self.prior:
            return self.output_dir / f"{job_name}.log"
        return self.output_dir / self.record / f"{job_name}.log"


class LaunchFolders:
    """One launch's claims (by job and folder), the folders it made, and its sweeps whose report
    is not written yet."""

    def __init__(self, started: float | None = None) -> None:
        # When this launch started: a folder changed after this was made by this launch.
        self.started = time.time() if started is None else started
        # Claims by (job, folder): one process runs every job of a sweep under the basic
        # launcher, and jobs whose folders coincide must not share a claim (the second would
        # rewrite the first's record).
        self._claims: dict[tuple[str, str], Claim] = {}
        # The folders make_folder made, outermost first: a launch refused before training
        # removes them again if empty, so `hydra.run.dir=deep/a/b` leaves no deep/a.
        self._made: list[Path] = []
        # Sweeps whose jobs ran but whose report is not written yet (launch/hydra_callbacks.py).
        self.unreported_sweeps: list[Path] = []

    @contextlib.contextmanager
    def active(self) -> Iterator[LaunchFolders]:
        """This launch as `current()` for the `with` block (train.py's whole launch)."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    # --- Folders ---------------------------------------------------------------------------

    def make_folder(self, folder: Path, option: str) -> None:
        """Makes `folder` and its missing parents, or raises RunFolderError naming `option`
        (`hydra.run.dir=...`) and why, having removed the parents it made: a run folder on a
        read-only file system, in place of a file, with a name too long, or inside another run's
        folder leaves nothing behind."""
        folder = Path(folder)
        self._made = []
        self._made = _make_with_parents(folder, option)
        if not self._made:  # an existing folder: a run must be able to write into it
            try:
                tempfile.TemporaryFile(dir=folder).close()
            except OSError as error:
                reason = error.strerror or str(error)
                why = f"{option}={folder}: cannot write into it ({reason})"
                raise RunFolderError(why) from None

    def folders_made_for(self, folder: str | os.PathLike) -> list[Path]:
        """The folders `make_folder` made to give `folder` (outermost first), or [] when it did
        not make `folder`: what a launch refused after that may remove."""
        target = os.path.abspath(folder)
        made = list(self._made)
        return made if any(os.path.abspath(path) == target for path in made) else []

    # --- Claims ----------------------------------------------------------------------------

    def claim(self, output_dir: str, ckpt_path: str | None, stamp: str, job: str = "run") -> Claim:
        """Job `job`'s claim on output_dir, made on first use and kept for that job (Hydra
        evaluates the resolvers more than once)."""
        key = (str(job), os.path.abspath(output_dir))
        if key not in self._claims:
            self._claims[key] = _new_claim(Path(key[1]), ckpt_path, stamp, self.started)
        return self._claims[key]

    def claim_of(self, output_dir: str | os.PathLike, job: str | None = None) -> Claim | None:
        """The claim job `job` (default: the current one) made on output_dir, if Hydra recorded
        a launch there."""
        return self._claims.get((str(job or current_job()), os.path.abspath(output_dir)))

    # --- Discard what a refused launch made --------------------------------------------------

    def discard_launch(self, keep_own_folder: bool = False) -> None:
        """Removes what this launch wrote before its training began, and nothing else: its
        record (.hydra/ if it made it, else its own .hydra/resumed-<time>/ or
        attempt-<time>-<pid>/), its log, and the run folder if this launch made it and it is
        empty again. Files of an earlier or concurrent run are never touched.

        keep_own_folder: keep the record and log of a launch that had the folder to itself (a
        job of a multirun: the sweep report lists it as failed); still remove a record
        subfolder."""
        from hydra.core.hydra_config import HydraConfig

        if not HydraConfig.initialized():
            return
        hydra_cfg = HydraConfig.get()
        output_dir = Path(hydra_cfg.runtime.output_dir)
        claim = self.claim_of(output_dir) if hydra_cfg.output_subdir is not None else None
        if claim is None:
            return  # no record of this launch (DDP's extra process, hydra.output_subdir=null)
        if keep_own_folder and claim.owns_record:
            return
        _remove_record(claim, claim.log_file(hydra_cfg.job.name))
        if claim.created_dir:
            _rmdir_if_empty(output_dir)
            for folder in reversed(self._made):  # the parents make_folder made, if empty again
                _rmdir_if_empty(folder)
        self._claims.pop((current_job(), os.path.abspath(output_dir)), None)

    def discard_unstarted_sweep(
        self, sweep_dir: Path, leftovers: tuple[str, ...] = ("multirun.yaml",)
    ) -> None:
        """A sweep refused before its first job started (a value of the wrong type, a group
        option that does not exist: Hydra composes the jobs after it wrote multirun.yaml; a
        sweeper's own refusal, before it): the files named in `leftovers` and the folders this
        launch made for it are removed, so nothing is left. A folder holding anything else is
        kept whole."""
        left = os.listdir(sweep_dir)
        if not self.folders_made_for(sweep_dir) or not set(left) <= set(leftovers):
            return
        for name in left:
            (Path(sweep_dir) / name).unlink()
        for folder in reversed(self._made):
            _rmdir_if_empty(folder)


_ACTIVE: contextvars.ContextVar[LaunchFolders | None] = contextvars.ContextVar(
    "launch_folders", default=None
)
_WORKER: list[LaunchFolders] = []  # a launcher worker's own (see the module's docstring)
_IMPORTED = time.time()  # a worker's launch started no later than this


def current() -> LaunchFolders:
    """The active launch's LaunchFolders: train.py's; in a launcher's worker process, the
    worker's own."""
    active = _ACTIVE.get()
    if active is not None:
        return active
    if not _WORKER:
        _WORKER.append(LaunchFolders(started=_IMPORTED))
    return _WORKER[0]


def current_job() -> str:
    """The Hydra job this process runs now: its number in a multirun, "run" otherwise."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    if not HydraConfig.initialized():
        return "run"
    return str(OmegaConf.select(HydraConfig.get(), "job.num", default="run"))


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def run_around(folder: Path) -> Path | None:
    """The run folder (one with a `.hydra` record or a metrics.json) that `folder` would be
    inside of, if any: a run made in another run's checkpoints/ would mix their files."""
    path = Path(os.path.abspath(folder)).parent
    while path != path.parent:
        if (path / RECORD).is_dir() or (path / METRICS_FILE).is_file():
            return path
        path = path.parent
    return None


def _make_with_parents(folder: Path, option: str) -> list[Path]:
    """Makes `folder` and its missing parents; returns those made, outermost first, or raises
    RunFolderError having removed them."""
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
    return made


def _new_claim(folder: Path, ckpt_path: str | None, stamp: str, started: float) -> Claim:
    folder.mkdir(parents=True, exist_ok=True)  # Hydra makes it too, just before
    prior = tuple(sorted(os.listdir(folder)))
    created = not prior and folder.stat().st_ctime >= started - 0.05
    if (folder / RECORD).is_symlink() or (folder / RECORD).is_file():
        # No run made that: writing the record through it would write into another folder.
        # This launch's record goes beside it, and RunFolder.open refuses the folder.
        record = f".attempt-{stamp}-{os.getpid()}"
        os.makedirs(folder / record, exist_ok=True)
        return Claim(folder, prior, record, created)
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
    return Claim(folder, prior, record, created)


def _remove_record(claim: Claim, log_file: Path) -> None:
    """The launch's record and log, with the log's handler closed first."""
    for handler in list(logging.getLogger().handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == log_file:
            handler.close()
            logging.getLogger().removeHandler(handler)
    record = claim.output_dir / claim.record
    if claim.owns_record:  # only the files Hydra wrote for this launch: another may be inside
        for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
            (record / name).unlink(missing_ok=True)
        log_file.unlink(missing_ok=True)  # made by this launch: the folder had no record
        _rmdir_if_empty(record)
    else:
        shutil.rmtree(record, ignore_errors=True)


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (or gone): leave it
        pass
