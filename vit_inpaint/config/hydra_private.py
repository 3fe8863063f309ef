"""Every use of Hydra's private code, in one module (tests/unit/test_hydra_private.py fails when a
Hydra release changes what this relies on). Each says which public hook would replace it.

- `run_and_report` (hydra._internal.utils): the function that runs composition and the task and
  prints Hydra's multi-line report of an error. Wrapped so that a user's config error is one
  `error:` line (config/errors.py). Public replacement: none in Hydra 1.3 (its callbacks start
  after composition succeeded); without this, composing with the Compose API
  (`hydra.compose`) behind our own argument parsing.
- `ConfigStore.__deepcopy__`: Hydra's `--help` deep-copies its config repository, and with it the
  process-wide ConfigStore, once per config group it lists (3 of the 4 s of `train.py --help`).
  A copy of the store is made the store itself; Hydra only reads it. Public replacement: none;
  the fix belongs in Hydra's help (a copy per group is not needed).
- `BasicSweeper` and `get_overrides_dirname` (hydra._internal): the jobs of a basic sweep and
  their folder names, predicted before the first job starts, so a sweep's checks can refuse it
  whole (launch/hydra_callbacks.py). Public replacement: each job's own
  `hydra.job.override_dirname` in a Callback's `on_job_start`, which comes too late to refuse
  the sweep before its first job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"  # its _target_


@contextlib.contextmanager
def wrapped_run_and_report(wrap: Callable[[Callable], Callable]) -> Iterator[None]:
    """Within it, Hydra's `run_and_report(func)` runs `wrap(func)` instead of `func`. Should a
    Hydra release drop the function, nothing is wrapped (Hydra's own report stays)."""
    import hydra._internal.utils as hydra_utils

    original = getattr(hydra_utils, "run_and_report", None)
    if original is None:
        yield
        return
    hydra_utils.run_and_report = lambda func: original(wrap(func))
    try:
        yield
    finally:
        hydra_utils.run_and_report = original


def config_store_copies_itself() -> None:
    """A deep copy of Hydra's ConfigStore is the store itself (see above)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.__deepcopy__ = lambda store, memo: store


def basic_sweep_batches(overrides: list, max_batch_size: int | None = None) -> list:
    """BasicSweeper.split_arguments: the jobs of a basic sweep, as lists of "key=value"."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return BasicSweeper.split_arguments(overrides, max_batch_size)


def overrides_dirname(overrides: list, exclude: list[str], item_sep: str, kv_sep: str) -> str:
    """hydra.job.override_dirname of a job with these (parsed) overrides, as Hydra makes it."""
    from hydra._internal.config_loader_impl import get_overrides_dirname

    return get_overrides_dirname(overrides, exclude, item_sep, kv_sep)
