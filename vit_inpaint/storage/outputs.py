"""The files a tool writes for a user (the inpaint tool's images, the evaluate tool's tables and
figure): checked before any long work starts, so that an output never replaces one of the inputs
(even through a link), never replaces a file the tool did not write, and a folder that cannot be
written (read-only, full) is found before the work, not after it.

    same_file(a, b)                     # one file under two names (links included)?
    refuse_inputs(outputs, inputs)      # FileError if an output is an input
    check_writable(folder)              # FileError if nothing can be written there
    with folders_made(folder): ...      # makes the folder; removes what it made on failure
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from vit_inpaint.storage.images import FileError


def same_file(a: Path, b: Path) -> bool:
    """Whether two names are one file: the same resolved path, or (when both exist) the same file
    on disk, which also catches hard links and symbolic links."""
    if Path(a).resolve() == Path(b).resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): then they cannot be the same file
        return False


def refuse_inputs(outputs: dict[str, Path], inputs: dict[str, list[Path]]) -> None:
    """FileError naming the first output (option: path) that is one of the inputs (option:
    paths), by name or through a link."""
    for option, path in outputs.items():
        for input_option, paths in inputs.items():
            for input_path in paths:
                if same_file(path, input_path):
                    raise FileError(
                        f"{option} {path}: is an input ({input_option} {input_path}); an "
                        "output never replaces an input: name another"
                    )


def nearest_folder(path: Path) -> Path:
    """`path` or its nearest ancestor that exists (what a mkdir -p of `path` writes into)."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_writable(folder: Path) -> None:
    """FileError unless a file can be written in `folder` (or, if it does not exist yet, in the
    ancestor it would be made in): a folder, writable, on a file system that takes one more byte
    (a read-only mount and a full disk are found here, with a probe file written and removed)."""
    base = nearest_folder(folder)
    if not base.is_dir():
        raise FileError(f"{folder}: {base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise FileError(f"{folder}: cannot write in {base} (permission denied)")
    probe = base / f".write-probe.{os.getpid()}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        raise FileError(f"{folder}: cannot write in {base} ({err.strerror})") from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


@contextlib.contextmanager
def folders_made(folder: Path):
    """Makes `folder` and its missing parents; if the block fails, removes the ones it made
    (those still empty), so a failed write leaves no empty folders behind."""
    folder = Path(folder)
    missing = []
    path = Path(os.path.abspath(folder))
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    except BaseException:
        for made in missing:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()
        raise
