"""Hydra's errors on a user's config, as one line each.

Hydra refuses a config it cannot compose with a multi-line report and a hint about
HYDRA_FULL_ERROR. train.py wraps its `@hydra.main` in `one_line_config_errors()`, so that the
user sees instead one `error:` line naming the key, with exit status 2 (like validate.py's
refusals):

    python train.py model.dim=64.0     error: model.dim must be an integer, got 64.0 (float)
    python train.py model.nope=1       error: model.nope: no such setting; model has image_size, ...
    python train.py model=nope         error: model=nope: no such option; choose one of mae, vit
    python train.py data=random        error: data=random is now data=uniform_noise: ...

A key added with `+` (which Hydra takes whatever the schema) is refused by validate.py, with the
same line as here (`unknown_key_line`). Every other Hydra error keeps Hydra's own report.
"""

import contextlib
import dataclasses
import re
import sys
from collections.abc import Iterator

from vit_inpaint.errors import ConfigError, JobFailed

TYPE_WORDS = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}
# OmegaConf's messages for a value its node cannot take (omegaconf/nodes.py).
_CONVERSIONS = (
    re.compile(
        r"Value '(?P<value>.*)' of type '(?P<type>[^']*)' could not be converted to (?P<to>\w+)"
    ),
    re.compile(r"Value '(?P<value>.*)' is not a valid (?P<to>bool) \(type (?P<type>\w+)\)"),
)
TYPE_WORDS["bool"] = TYPE_WORDS["Boolean"]


def unknown_key_line(key: str, schema: type | None) -> str:
    """The line for a key the config does not have; schema: the dataclass of the node it was
    put in (launch/schema.py), whose fields are the keys that node takes."""
    line = f"{key}: no such setting"
    if schema is not None and dataclasses.is_dataclass(schema):
        parent = key.rpartition(".")[0] or "the top level of the config"
        line += f"; {parent} has {', '.join(f.name for f in dataclasses.fields(schema))}"
    return line


def type_error_line(error: BaseException) -> str | None:
    """The one line for Hydra's error on a value of the wrong type, or None for any other error.

    Hydra raises ConfigCompositionException from OmegaConf's ValidationError, whose message
    spans several lines (the key, the schema's class) and is followed by a hint about
    HYDRA_FULL_ERROR.
    """
    from hydra.errors import ConfigCompositionException
    from omegaconf.errors import ValidationError

    cause = error.__cause__
    if not isinstance(error, ConfigCompositionException) or not isinstance(cause, ValidationError):
        return None
    key = cause.full_key or "a config value"
    first = str(cause.msg).splitlines()[0] if cause.msg else str(cause).splitlines()[0]
    match = next(filter(None, (c.fullmatch(first.strip()) for c in _CONVERSIONS)), None)
    if match and match["to"] in TYPE_WORDS:
        line = f"{key} must be {TYPE_WORDS[match['to']]}, got {match['value']} ({match['type']})"
    else:
        line = f"{key}: {first}"
    where = str(error).splitlines()[0] if str(error) else ""
    if where and not where.startswith("Error merging override"):
        line += f" ({where})"  # from a config file, not the command line: say which
    return line


def unknown_key_error_line(error: BaseException) -> str | None:
    """`model.nope=1` (without `+`): Hydra's struct mode refuses a key the node lacks."""
    from hydra.errors import ConfigCompositionException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    cause = error.__cause__
    if not isinstance(error, ConfigCompositionException) or not isinstance(
        cause, ConfigAttributeError | ConfigKeyError
    ):
        return None
    if not cause.full_key:
        return None
    return unknown_key_line(cause.full_key, cause.object_type)


def missing_option_line(error: BaseException) -> str | None:
    """`model=nope`: an option a config group does not have, and the group's choices."""
    from hydra.errors import MissingConfigException

    missing = getattr(error, "missing_cfg_file", None)
    if not isinstance(error, MissingConfigException) or not missing or not error.options:
        return None  # not a group's option (the primary config itself: Hydra's report)
    group, _, option = missing.rpartition("/")
    return f"{group}={option}: no such option; choose one of {', '.join(error.options)}"


def project_error_line(error: BaseException) -> str | None:
    """A ConfigError raised by the project's own code while Hydra runs (a sweeper's checks)."""
    return str(error) if isinstance(error, ConfigError) else None


# In this order: a project error first, then what Hydra reports.
LINES = (
    project_error_line,
    type_error_line,
    unknown_key_error_line,
    missing_option_line,
)


def config_error_line(error: BaseException) -> str | None:
    """The one line for a user's config error that Hydra raised, or None for any other error."""
    return next(filter(None, (line(error) for line in LINES)), None)


@contextlib.contextmanager
def one_line_config_errors() -> Iterator[None]:
    """Within it, `@hydra.main` answers a user's config error (config_error_line) with one
    `error:` line and exit status 2; every other Hydra error is reported as Hydra does.

    Hydra reports errors from its private `run_and_report`, which wraps composition (of a run,
    of `--cfg`, and of each job of a sweep, all composed before the first job starts): this
    wraps it in turn (config/hydra_private.py). Should a Hydra release move it, Hydra's own
    (multi-line) report stays.
    """
    from vit_inpaint.config.hydra_private import wrapped_run_and_report

    def refusing_config_errors(func):
        def run():
            try:
                return func()
            except JobFailed:
                # Raised by the first failed job once the others have run; each said why.
                print(
                    "error: the sweep ran every job; those above failed (the line of each is "
                    "in its folder's train.log too, the sweep's report.md lists them)",
                    file=sys.stderr,
                )
                sys.exit(1)
            except Exception as error:
                line = config_error_line(error)
                if line is None:
                    raise
                print(f"error: {line}", file=sys.stderr)
                sys.exit(2)

        return run

    with wrapped_run_and_report(refusing_config_errors):
        yield
