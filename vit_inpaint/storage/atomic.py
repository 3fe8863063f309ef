"""Writes that are all or nothing: a file is written beside its destination, flushed to disk, and
only then renamed over it (`os.replace` is atomic), so a crash or a full disk leaves either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import os
from pathlib import Path


def temporary_name(path: Path) -> Path:
    """A hidden file beside `path`, unique to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _write_synced(path: Path, data: bytes) -> None:
    # os.open with 0o666 keeps the user's umask, as a plain open() of the output would.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Replaces `path` with `data` in one step; on any failure `path` is left as it was."""
    write_all_atomic({Path(path): data})


def write_all_atomic(outputs: dict[Path, bytes | str]) -> None:
    """Writes every file, all or nothing as far as the file system allows: each is complete on
    disk before the first one replaces its destination."""
    temporary: dict[Path, Path] = {}
    try:
        for path, data in outputs.items():
            path = Path(path)
            temporary[path] = temporary_name(path)
            _write_synced(temporary[path], data.encode() if isinstance(data, str) else data)
        for path, tmp in temporary.items():
            os.replace(tmp, path)
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
