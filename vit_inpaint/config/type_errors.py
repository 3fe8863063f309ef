"""Hydra's error on a config value of the wrong type, as one line.

The schemas (`schema.py`) make Hydra refuse `python train.py model.dim=64.0` while it composes the
config; Hydra then prints a multi-line report and a hint about HYDRA_FULL_ERROR. train.py wraps
its `@hydra.main` in `one_line_type_errors()`, so that the user sees instead, with exit status 2:

    error: model.dim must be an integer, got 64.0 (float)
"""

import contextlib
import re
import sys
from collections.abc import Iterator

from vit_inpaint.config.renamed import retired_name_line

TYPE_WORDS = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}
# OmegaConf's messages for a value its node cannot take (omegaconf/nodes.py).
_CONVERSIONS = (
    re.compile(
        r"Value '(?P<value>.*)' of type '(?P<type>[^']*)' could not be converted to (?P<to>\w+)"
    ),
    re.compile(r"Value '(?P<value>.*)' is not a valid (?P<to>bool) \(type (?P<type>\w+)\)"),
)
TYPE_WORDS["bool"] = TYPE_WORDS["Boolean"]


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


@contextlib.contextmanager
def one_line_type_errors() -> Iterator[None]:
    """Within it, `@hydra.main` answers a value of the wrong type, or a retired spelling
    (renamed.py), with one `error:` line and exit status 2 (like validate.py's refusals); every
    other Hydra error is reported as Hydra does.

    Hydra reports errors from `hydra._internal.utils.run_and_report`, which wraps composition
    (of a run, of `--cfg`, and of each job of a sweep, all composed before the first job starts):
    this wraps it in turn. Should a Hydra release move it, Hydra's own (multi-line) report stays.
    """
    import hydra._internal.utils as hydra_utils

    original = getattr(hydra_utils, "run_and_report", None)
    if original is None:
        yield
        return

    def run_and_report(func):
        def refusing_types():
            try:
                return func()
            except Exception as error:
                line = type_error_line(error) or retired_name_line(error)
                if line is None:
                    raise
                print(f"error: {line}", file=sys.stderr)
                sys.exit(2)

        return original(refusing_types)

    hydra_utils.run_and_report = run_and_report
    try:
        yield
    finally:
        hydra_utils.run_and_report = original
