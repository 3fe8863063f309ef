"""Torch-free configuration. Importing it makes the config schemas known to Hydra (schema.py)."""

from vit_inpaint.config import schema

schema.register()
