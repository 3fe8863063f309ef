"""Shared helpers: compose the project's real Hydra config, run train.py as a user does; the rule
that `make test-fast` (`-m "not slow"`) trains nothing and starts no subprocess, and the layout's:
tests/unit holds no slow test and launches no train.py (tests/integration does)."""

from __future__ import annotations

import copy
import functools
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from vit_inpaint.config import resolvers
from vit_inpaint.launch import schema

resolvers.register()  # as train.py does
schema.register()  # (importing vit_inpaint.launch did too; again, explicitly)

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"

# The tests' budget is the users' quick check (conf/debug/tiny.yaml): a run of a second or two
# that still goes through every code path. 256 training images in batches of 32 for 2 epochs:
# 8 steps an epoch, 16 in all, train/loss logged every 4th step. Command-line overrides after it
# still win: (TINY, "trainer.max_epochs=1").
TINY = "debug=tiny"
ONE_EPOCH = (TINY, "trainer.max_epochs=1")


def compose_config(*overrides: str, output_dir: Path | None = None):
    """The config `python train.py <overrides>` would see, with its output folder set: a copy of
    its own, so a test may change it."""
    extra = (f"paths.output_dir={output_dir}",) if output_dir is not None else ()
    return copy.deepcopy(_composed((*overrides, *extra)))


@functools.cache
def _composed(overrides: tuple[str, ...]):
    # Composing is pure and takes Hydra 0.1-0.5 s: a quarter of the fast tests' compositions
    # repeat one made before.
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=list(overrides))


@pytest.fixture
def tiny_config(tmp_path):
    """compose_config(TINY, *overrides) into tmp_path / "run"."""

    def make(*overrides: str):
        return compose_config(TINY, *overrides, output_dir=tmp_path / "run")

    return make


def run_train(*args: str, timeout: int = 300, subprocess_: bool = False):
    """`python train.py <args>` as a user runs it, from the project's folder: its exit status,
    stdout and stderr (a subprocess.CompletedProcess).

    By default it runs in this process (tests/launch.py): the same `@hydra.main` entry point,
    argument parsing, config composition, logging and exit codes, without the 8-11 s that each
    new Python process spends importing torch and Lightning. subprocess_=True starts a real
    process (with `timeout`): for what only a process shows (signals, concurrency, launchers
    that start their own processes) and one real launch per command."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "")
    assert not test.startswith("tests/unit/"), f"{test} launches train.py: move it to integration"
    if not subprocess_:
        from tests.launch import run_in_process

        return run_in_process(args)
    command = [sys.executable, "train.py", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def run_sweep(sweep_dir: Path, *overrides: str, budget=(TINY,), subprocess_: bool = False):
    """`python train.py <overrides> <budget> -m` into `sweep_dir`."""
    sweep = (*overrides, *budget, f"hydra.sweep.dir={sweep_dir}", "-m")
    return run_train(*sweep, subprocess_=subprocess_)


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    """The one `error:` line of a launch refused with exit status 2 and no traceback; it must
    hold every one of `words`. Returns that line."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-3000:]
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def job_dir(sweep: Path, *overrides: str) -> Path:
    """The one job folder whose name holds all of `overrides` (names carry every override)."""
    (match,) = [p for p in sweep.iterdir() if set(overrides) <= set(p.name.split(","))]
    return match


# --- make test-fast: no training, no subprocess -----------------------------------------------

# tests/unit calls the package's functions: nothing there trains, starts a process or launches
# train.py. tests/integration runs the commands (train.py in this process or as a process of its
# own) and trains; its tests that train or start a process are marked slow.
UNIT = Path(__file__).resolve().parent / "unit"


def pytest_collection_modifyitems(config, items):
    misplaced = [t.nodeid for t in items if t.get_closest_marker("slow") and _in_unit(t)]
    if misplaced:
        raise pytest.UsageError(
            "tests/unit holds no slow test (move it to tests/integration): " + ", ".join(misplaced)
        )


def _in_unit(item) -> bool:
    return Path(str(item.path)).resolve().is_relative_to(UNIT)


@contextmanager
def _one_torch_thread():
    """Fast tests compute on small tensors, where torch's second thread only spins: one thread
    halves the fast run's CPU time (test_no_baseline_beats_bayes_on_gaussian_fields[masking2]:
    1.0 s of CPU instead of 4.3 s on the 2-core machine) and leaves a core to anything else."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def _refuse_training_and_subprocesses(nodeid: str):
    """Fails the test on any optimizer step (Trainer.fit or a plain training loop) and on any
    subprocess it starts (subprocess.run, Popen, check_output: they all go through
    Popen._execute_child)."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    def refuse(what: str):
        pytest.fail(
            f"{nodeid} {what} but is not marked slow: mark it @pytest.mark.slow "
            '(`make test-fast`, -m "not slow", trains nothing and starts no subprocess)',
            pytrace=False,
        )

    def no_step(optimizer, args, kwargs):
        refuse(f"steps an optimizer ({type(optimizer).__name__})")

    def no_child(self, args, *rest, **kwargs):
        refuse(f"starts a subprocess ({args!r})")

    original = subprocess.Popen._execute_child
    handle = register_optimizer_step_pre_hook(no_step)
    subprocess.Popen._execute_child = no_child
    try:
        yield
    finally:
        subprocess.Popen._execute_child = original
        handle.remove()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # Around setup, call and teardown: a fixture that trains (even a session-scoped one, set up
    # for the first test that asks for it) counts against the test that asked for it.
    if item.get_closest_marker("slow"):
        yield
        return
    with _refuse_training_and_subprocesses(item.nodeid), _one_torch_thread():
        yield


# --- make test: pytest-xdist, one worker per core ---------------------------------------------


def pytest_configure(config):
    # Under pytest-xdist each worker gets one torch thread: two workers already fill two cores,
    # and a second thread per worker would only make them fight.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)
