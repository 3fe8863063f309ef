"""One live run per folder: flock(2) on `<folder>/.lock` (storage/run_folder.py takes it when a
run opens its folder). Only the standard library: the resolvers run while Hydra composes."""

from __future__ import annotations

import fcntl
import os
import socket
import stat
from pathlib import Path

from vit_inpaint.errors import RunFolderError

LOCK_FILE = ".lock"  # locked (flock) by the live run that writes into the folder


class FolderLock:
    """flock(2) on `<folder>/.lock`: one live run per folder.

    The operating system holds the lock for this process and drops it when the process ends,
    killed or not, so a `.lock` file left behind by a killed run locks nothing: there is no pid
    to read and no stale lock to take over. The file is created if missing, and removed on
    release only by the launch that created it; a launch that finds the folder in use, or is
    refused for another reason, leaves the file as it was.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self._fd: int | None = None
        self._created = False

    def acquire(self) -> FolderLock:
        while True:
            try:
                fd, created = self._open()
            except OSError as error:
                if self.path.is_symlink():
                    raise RunFolderError(
                        f"{self.path}: a symbolic link where the run folder's lock file goes, "
                        f"not one a run made; delete it (rm {self.path}) and launch again"
                    ) from None
                reason = error.strerror or str(error)
                raise RunFolderError(
                    f"{self.path}: cannot lock the run folder ({reason})"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise RunFolderError(
                    f"{self.path.parent} is in use by another run (it holds the lock "
                    f"{self.path}); wait for it to end or choose another output folder "
                    "(hydra.run.dir=...)"
                ) from None
            # The run that held the lock may have removed the file after we opened it: then
            # this lock guards a file no one else will see; lock the one at the path instead.
            if self._is_at_path(fd):
                self._fd, self._created = fd, created
                return self
            os.close(fd)

    def _open(self) -> tuple[int, bool]:
        """A descriptor of the lock file, and whether this call created it."""
        for _ in range(100):  # a lock file that keeps vanishing is no reason to spin for ever
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                try:
                    # NOFOLLOW: a symbolic link (dangling, or to a file elsewhere) is no lock of
                    # ours, and following it would lock, or keep creating, a file outside.
                    # NONBLOCK: opening a FIFO would otherwise wait for a writer, for ever.
                    fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                except FileNotFoundError:
                    continue  # removed meanwhile: create it
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    os.close(fd)
                    raise RunFolderError(
                        f"{self.path}: not a regular file (a FIFO, socket or device) where the "
                        f"run folder's lock file goes; delete it (rm {self.path}) and launch again"
                    ) from None
                return fd, False
            # Who holds the folder, for a person looking; nothing reads it back.
            os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
            return fd, True
        raise OSError(f"{self.path} kept disappearing while it was opened")

    def _is_at_path(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            return False

    def release(self) -> None:
        if self._fd is None:
            return
        if self._created:  # still locked: no other run can be holding this file
            self.path.unlink(missing_ok=True)
        os.close(self._fd)  # drops the lock
        self._fd = None
