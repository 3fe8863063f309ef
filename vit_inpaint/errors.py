"""ConfigError, the error a user fixes by changing a setting. It sits below every other module of
the package (it imports nothing), so the config checks and the code that builds a run from the
config (data modules, models) raise the same error: train.py prints it as one `error:` line."""


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the field."""
