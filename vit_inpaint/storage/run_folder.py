"""A run's folder: what marks a run as finished, the lock a live run holds on its folder, and the
check before a run writes into a folder."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

METRICS_FILE = "metrics.json"  # written last, atomically: its presence means the run finished
LOCK_FILE = ".lock"  # "<pid> <host>" of the live run that writes into the folder

log = logging.getLogger(__name__)


class RunFolderError(ValueError):
    """A folder a run may not write into; the message says why and what to do."""


def prepare_output_dir(
    output_dir: Path, prior: tuple[str, ...] | None = None, resume: bool = False
) -> None:
    """Refuses to train into a folder that holds a finished run's results, or (unless this
    launch resumes the folder's run) any other run's files.

    prior: the folder's entries before this launch wrote its own record and log into it (None:
    read them now, for a run started without Hydra).
    """
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
        raise RunFolderError(
            f"{output_dir} already holds another run's files ({shown}); choose a new output "
            "folder (hydra.run.dir=...) so nothing is overwritten, or resume that run with "
            f"ckpt_path={output_dir / 'checkpoints' / 'last.ckpt'}"
        )
    output_dir.mkdir(parents=True, exist_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


class FolderLock:
    """`<folder>/.lock`, created with O_CREAT | O_EXCL: one live run per folder.

    A lock left by a process that is gone (killed; same host) is stale and taken over; a lock of
    a live process, or of another host (whose processes cannot be checked), refuses the folder.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self.held = False

    def acquire(self) -> FolderLock:
        me = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            with os.fdopen(fd, "w") as file:
                file.write(me)
            self.held = True
            return self
        raise RunFolderError(f"{self.path.parent}: could not take its lock {self.path}")

    def _take_over_if_stale(self) -> None:
        try:
            pid_text, _, host = self.path.read_text().strip().partition(" ")
            pid = int(pid_text)
        except FileNotFoundError:
            return  # released meanwhile: try again
        except (OSError, ValueError):
            pid, host = None, ""
        here = socket.gethostname()
        if pid is not None and (host not in ("", here) or _pid_alive(pid)):
            where = f"process {pid}" + (f" on {host}" if host not in ("", here) else "")
            raise RunFolderError(
                f"{self.path.parent} is in use by a live run ({where}, lock {self.path}); "
                "wait for it to end or choose another output folder (hydra.run.dir=...)"
                + (f"; if that run is gone, delete {self.path}" if host not in ("", here) else "")
            )
        log.warning(
            "%s: taking over a stale lock (%s)",
            self.path.parent,
            f"process {pid} is gone" if pid is not None else "unreadable",
        )
        self.path.unlink(missing_ok=True)

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
