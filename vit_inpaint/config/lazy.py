"""Code named by import path ("package.module:attribute"), imported on first use: the registries
(models/registry.py, data/masking.py MASKINGS, tasks/registry.py) name their implementations so,
and stay importable without torch while a config is checked."""

from __future__ import annotations

import importlib


def resolve(path: str):
    """The object "package.module:attribute" names."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)
