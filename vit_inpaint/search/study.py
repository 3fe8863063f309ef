"""An Optuna study in a database, shared by every worker of a search and by every launch of it.

- Where: `hydra.sweeper.storage` (any URL Optuna takes: `postgresql://...`, `mysql://...`), by
  default `sqlite:///<sweep folder>/study.db`.
- Which: `hydra.sweeper.study_name`. A study records the search it was made for (the searched
  parameters, the fixed ones, the direction) and refuses a launch that searches something else.
- Resume: a trial counts once, however often it was tried: a trial interrupted (its worker killed)
  is marked failed and its parameters queued again (Optuna's RetryFailedTrialCallback), so
  `hydra.sweeper.n_trials` is the search's total, not how many more to run.
- Workers: each one asks for its trials under a file lock in the sweep folder (`.study.lock`), so
  two workers never both take the last trial, and keeps a heartbeat on the trials it runs (Optuna's
  RDB heartbeat); a trial whose heartbeat stopped, or whose worker on this machine is gone, was
  interrupted.

optuna (and SQLAlchemy) are imported inside the functions: composing a config never pays for them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vit_inpaint.errors import ConfigError

log = logging.getLogger(__name__)

STUDY_FILE = "study.db"
LOCK_FILE = ".study.lock"
# Seconds between a worker's heartbeats on its trials, and how long a trial may go without one
# before another worker takes it for interrupted (a worker on another machine; on this machine a
# trial whose worker process is gone is known at once).
HEARTBEAT_S = 10
GRACE_S = 60
# An interrupted trial's parameters run again at most this many times.
MAX_RETRY = 2
# SQLite waits this long for another worker's write before reporting the file locked, and a
# locked database is tried again this often, LOCKED_WAIT_S apart, before the search stops.
SQLITE_TIMEOUT_S = 30
LOCKED_TRIES = 4
LOCKED_WAIT_S = 5
# What a trial records about the worker that runs it: the machine and the process.
WORKER_ATTR = "worker"
SEARCH_ATTR = "search"


def storage_url(storage: str | None, sweep_dir: str | os.PathLike) -> str:
    """The study's database: `storage`, else a SQLite file in the sweep folder."""
    if storage:
        return str(storage)
    return f"sqlite:///{Path(sweep_dir).resolve() / STUDY_FILE}"


def shown(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: say it as given
        return url


def open_storage(url: str):
    """Optuna's RDBStorage on `url` with heartbeats on, or a ConfigError naming the URL and why."""
    import optuna
    from sqlalchemy.engine import make_url

    engine_kwargs: dict[str, Any] = {}
    try:
        parsed = make_url(url)
    except Exception as error:
        raise ConfigError(f"hydra.sweeper.storage={url}: not a database URL ({error})") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise ConfigError(
                    f"hydra.sweeper.storage={url}: cannot open the study's database (no folder "
                    f"{folder})"
                )
        if "timeout" not in parsed.query:
            engine_kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}

    quiet_optuna()

    def connect():
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=HEARTBEAT_S,
            grace_period=GRACE_S,
            failed_trial_callback=retry_callback(),
        )

    try:
        return retrying_locked(connect, url)
    except ConfigError:
        raise
    except Exception as error:  # a driver missing, a server down, a file that is no database
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise ConfigError(
            f"hydra.sweeper.storage={shown(url)}: cannot open the study's database ({reason})"
        ) from None


def retry_callback():
    """Queues an interrupted trial's parameters to run again, at most MAX_RETRY times."""
    import optuna

    with _experimental_is_fine():
        return optuna.storages.RetryFailedTrialCallback(max_retry=MAX_RETRY)


def run_again(study, trial) -> None:
    """Queues the parameters of `trial` (failed: interrupted, or lost with its launch) to run
    again as a new trial, as Optuna does for a trial whose heartbeat stopped."""
    with _experimental_is_fine():
        retry_callback()(study, trial)


@contextlib.contextmanager
def _experimental_is_fine() -> Iterator[None]:
    """optuna 2.x marks its heartbeat and retry API experimental; the sweeper pins optuna<3,
    whose API is fixed, so the warning has nothing to tell a user."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def quiet_optuna() -> None:
    """Optuna's log lines go through Hydra's logging (console and the sweep's log) like every
    other, instead of its own coloured handler."""
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()


def is_locked(error: BaseException) -> bool:
    """A SQLite database another process holds (optuna may wrap SQLAlchemy's error in its own)."""
    while error is not None:
        if "database is locked" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def retrying_locked(call: Callable[[], Any], url: str) -> Any:
    """`call()`, tried again while the database is locked; the last lock is a ConfigError."""
    for attempt in range(1, LOCKED_TRIES + 1):
        try:
            return call()
        except Exception as error:
            if not is_locked(error):
                raise
            if attempt == LOCKED_TRIES:
                raise ConfigError(
                    f"hydra.sweeper.storage={shown(url)}: the database stayed locked through "
                    f"{LOCKED_TRIES} tries; another process holds it (a sqlite3 shell, a stuck "
                    "worker): close it and run the same command again, nothing is lost"
                ) from None
            log.warning(
                "the study's database %s is locked (another worker writing?): trying again in "
                "%d s (%d of %d)",
                shown(url), LOCKED_WAIT_S, attempt + 1, LOCKED_TRIES,
            )  # fmt: skip
            time.sleep(LOCKED_WAIT_S)


def search_record(distributions: dict, fixed: dict, directions: list[str]) -> dict:
    """What a study was made to search, in a form the database keeps (JSON values)."""
    from optuna.distributions import distribution_to_json

    return {
        "params": {name: json.loads(distribution_to_json(d)) for name, d in distributions.items()},
        "fixed": {name: str(value) for name, value in fixed.items()},
        "directions": [d.lower() for d in directions],
    }


def open_study(storage, name: str, sampler, record: dict, url: str):
    """The study `name` in `storage`: created for the search `record` describes, or loaded if it
    exists and was made for that same search (else a ConfigError naming what differs)."""
    import optuna

    def load_or_create():
        try:  # loaded first: creating would refuse another direction with a traceback
            return optuna.load_study(study_name=name, storage=storage, sampler=sampler)
        except KeyError:  # no such study yet (another worker may make it meanwhile: loaded)
            return optuna.create_study(
                storage=storage,
                study_name=name,
                sampler=sampler,
                directions=record["directions"],
                load_if_exists=True,
            )

    study = retrying_locked(load_or_create, url)
    earlier = study.user_attrs.get(SEARCH_ATTR)
    if earlier is None:
        # A study made by Optuna itself (or a launch killed before this line): its directions
        # are all that can be compared.
        earlier = {**record, "directions": [d.name.lower() for d in study.directions]}
        if earlier == record:
            retrying_locked(lambda: study.set_user_attr(SEARCH_ATTR, record), url)
    if earlier != record:
        raise ConfigError(
            f"hydra.sweeper.study_name={name} in {shown(url)} was made for another search "
            f"({describe_difference(earlier, record)}); give this search another "
            "hydra.sweeper.study_name (or hydra.sweep.dir), or repeat that search's settings"
        )
    return study


def describe_difference(earlier: dict, now: dict) -> str:
    """Each difference between two search records, as `key: there X, here Y`."""
    parts = []
    if earlier.get("directions") != now["directions"]:
        parts.append(f"direction: there {earlier.get('directions')}, here {now['directions']}")
    for kind in ("params", "fixed"):
        there, here = earlier.get(kind, {}), now[kind]
        for key in sorted(set(there) | set(here)):
            if there.get(key) != here.get(key):
                parts.append(f"{key}: there {_said(there.get(key))}, here {_said(here.get(key))}")
    return "; ".join(parts[:4]) + ("; ..." if len(parts) > 4 else "")


def _said(value) -> str:
    if value is None:
        return "not searched"
    if isinstance(value, dict):  # a distribution: its name and its bounds or choices
        attrs = ", ".join(f"{k}={v}" for k, v in value.get("attributes", {}).items())
        return f"{value.get('name')}({attrs})"
    return str(value)


@contextlib.contextmanager
def study_lock(sweep_dir: Path) -> Iterator[None]:
    """Held while a worker counts and asks for trials: the workers of one search share a sweep
    folder (on a cluster, on a shared file system, where flock works across machines)."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(sweep_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # drops the lock


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def slots_used(trials) -> int:
    """Trials of the search so far, each counted once however often it was tried: a retried
    trial and its retries carry the first one's number (`failed_trial`)."""
    return len({t.system_attrs.get("failed_trial", t.number) for t in trials})


def trials_to_ask(study, n_trials: int) -> int:
    """How many more trials this worker may ask for: the search's total less every trial already
    run or running anywhere, plus the interrupted ones queued to run again."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    return max(0, n_trials - slots_used(trials)) + waiting


def running_elsewhere(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def recover_interrupted(study) -> None:
    """Marks failed, and queues again, the trials whose worker is gone: on this machine a worker
    process that no longer exists, elsewhere a heartbeat older than GRACE_S. Each is logged."""
    import optuna
    from optuna.trial import TrialState

    host = socket.gethostname()
    for trial in running_elsewhere(study):
        worker = str(trial.user_attrs.get(WORKER_ATTR, ""))
        where, _, pid = worker.rpartition(":")
        if where == host and pid.isdigit() and not _alive(int(pid)):
            study.tell(trial.number, state=TrialState.FAIL)
            run_again(study, study.trials[trial.number])
            _log_interrupted(trial, f"its worker {worker} is gone")
    before = {t.number for t in running_elsewhere(study)}
    with _experimental_is_fine():  # its failed_trial_callback (retry_callback) runs in here
        optuna.storages.fail_stale_trials(study)  # Optuna's heartbeat: workers elsewhere
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if trial.number in before:
            _log_interrupted(trial, f"no heartbeat from {trial.user_attrs.get(WORKER_ATTR)}")


def _log_interrupted(trial, why: str) -> None:
    params = " ".join(f"{k}={v}" for k, v in trial.params.items())
    log.warning(
        "trial %d (%s) was interrupted (%s): marked failed; its parameters run again as a new "
        "trial (at most %d times)",
        trial.number, params, why, MAX_RETRY,
    )  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
