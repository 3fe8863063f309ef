"""The lock a live run holds on its folder: flock(2) on `<folder>/.lock`, held by the operating
system for the process (issue 17: L1 and the lock probes). A `.lock` file whatever it holds,
left by a killed run, locks nothing and is left as it was; a live lock refuses the folder,
naming it, and the refused launch leaves the file untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from vit_inpaint.errors import RunFolderError
from vit_inpaint.storage.folder_lock import LOCK_FILE, FolderLock

HOST = os.uname().nodename


@pytest.mark.parametrize(
    "left",
    [
        f"999999999 {HOST}\n",  # a pid no process has
        f"{10**30} {HOST}\n",  # too large for os.kill: it raised OverflowError
        f"-1 {HOST}\n",  # os.kill(-1, 0) succeeds: it was refused as a live process for ever
        f"1 {HOST}\n",  # init: a live process that holds no lock
        "not a lock\n",
        "",
    ],
    ids=["gone", "huge", "minus-one", "init", "garbage", "empty"],
)
def test_a_lock_file_left_by_a_killed_run_locks_nothing_and_stays_as_it_was(left, tmp_path):
    lock_file = tmp_path / LOCK_FILE
    lock_file.write_text(left)
    lock = FolderLock(tmp_path).acquire()
    lock.release()
    assert lock_file.read_text() == left  # not taken over, rewritten or deleted


def test_a_live_lock_refuses_naming_the_folder_and_the_refused_launch_leaves_it(tmp_path):
    holder = FolderLock(tmp_path).acquire()
    lock_file = tmp_path / LOCK_FILE
    held = lock_file.read_bytes()
    with pytest.raises(RunFolderError, match="in use by another run") as refusal:
        FolderLock(tmp_path).acquire()  # flock: another open file description, refused
    assert str(tmp_path) in str(refusal.value)
    assert lock_file.read_bytes() == held
    holder.release()
    assert not lock_file.exists()  # made by the holder: removed by it
    FolderLock(tmp_path).acquire().release()  # free again


@pytest.mark.parametrize("target", ["missing", "elsewhere"])
def test_a_symbolic_link_as_lock_file_is_refused_not_followed(target, tmp_path):
    """A dangling link made the lock spin for ever (create: exists; open: not found); a link to
    a file elsewhere would lock, or create, a file outside the run folder."""
    outside = tmp_path / "outside"
    if target == "elsewhere":
        outside.write_text("someone's file\n")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_FILE).symlink_to(outside)
    with pytest.raises(RunFolderError, match="symbolic link") as refusal:
        FolderLock(folder).acquire()
    assert f"rm {folder / LOCK_FILE}" in str(refusal.value)
    assert (folder / LOCK_FILE).is_symlink()  # left as it was
    assert outside.exists() == (target == "elsewhere")  # nothing created through the link


@pytest.mark.slow  # a subprocess
def test_the_lock_dies_with_its_killed_process(tmp_path):
    code = (
        "import sys, time\n"
        "from vit_inpaint.storage.folder_lock import FolderLock\n"
        "FolderLock(sys.argv[1]).acquire()\n"
        "print('locked', flush=True)\n"
        "time.sleep(300)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunFolderError, match="in use"):
            FolderLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    left = (tmp_path / LOCK_FILE).read_bytes()
    FolderLock(tmp_path).acquire().release()  # no stale lock to take over
    assert (tmp_path / LOCK_FILE).read_bytes() == left
