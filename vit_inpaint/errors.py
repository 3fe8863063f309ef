"""ConfigError, the error a user fixes by changing a setting, RunFolderError, a folder a run
may not write into, and JobFailed, a sweep's job that stopped on a user's error. This module
sits below every other of the package (it imports nothing), so the config checks and the code
that builds a run from the config (data modules, models) raise the same error: train.py prints
it as one `error:` line."""


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the field."""


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite (tasks/base.py stops the run with it)."""


class JobFailed(Exception):
    """A job of a sweep stopped by a user's error (a ConfigError, a NaN loss, a full disk): the
    job has printed its one line; the sweep ends with one line for all of them, not a traceback."""


class RunFolderError(ValueError):
    """A folder a run may not write into; the message says why and what to do."""
