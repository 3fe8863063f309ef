"""`python train.py <args>` inside the test process: the real `@hydra.main` entry point with its own
argv, its stdout and stderr captured, its exit status returned, and the process-wide state it
touches (Hydra's global instance, the root logger's handlers, torch's thread count, warnings
filters, the working folder) put back afterwards.

A new Python process spends 8-11 s importing torch and Lightning before the first line of a run;
in the test process those imports are paid once. What only a separate process can show (a kill,
two live runs at once, launchers that start processes of their own, a pristine interpreter) stays
a real subprocess: conftest.run_train(..., subprocess_=True).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import runpy
import subprocess
import sys
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_in_process(args: tuple[str, ...]) -> subprocess.CompletedProcess:
    import torch
    from hydra.core.global_hydra import GlobalHydra

    stdout, stderr = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_argv, saved_cwd, saved_threads = sys.argv, os.getcwd(), torch.get_num_threads()
    _as_a_new_process()
    sys.argv = ["train.py", *args]
    os.chdir(ROOT)
    code = 0
    try:
        with (
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
            _warnings_to_stderr(),
        ):
            try:  # train.py as `python train.py` runs it: as __main__, so Hydra finds conf/
                runpy.run_path(str(ROOT / "train.py"), run_name="__main__")
            except SystemExit as exit_:
                code = _exit_status(exit_)
            except BaseException:  # what a process would print before dying with status 1
                traceback.print_exc()
                code = 1
    finally:
        for handler in root.handlers[:]:  # Hydra's console and log-file handlers of this launch
            if handler not in saved_handlers:
                handler.close()
                root.removeHandler(handler)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        torch.set_num_threads(saved_threads)
        GlobalHydra.instance().clear()
    return subprocess.CompletedProcess(
        ["train.py", *args], code, stdout.getvalue(), stderr.getvalue()
    )


def _as_a_new_process() -> None:
    """The state a fresh `python train.py` starts with: no Hydra instance. What a launch claims
    and makes on disk is its own already (storage/launch_folders.py): nothing of ours to reset."""
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()


def _exit_status(exit_: SystemExit) -> int:
    if exit_.code is None:
        return 0
    if isinstance(exit_.code, int):
        return exit_.code
    print(exit_.code, file=sys.stderr)  # sys.exit("message"): Python prints it, status 1
    return 1


@contextlib.contextmanager
def _warnings_to_stderr():
    """Warnings printed to stderr as a process prints them (pytest would record them instead)."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # Python's own defaults, as in a new process
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)
        warnings.showwarning = _print_warning
        yield


def _print_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
