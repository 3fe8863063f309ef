"""Torch-free configuration at the bottom of the package: the names a config chooses from, where a
launch writes (resolvers), config errors as one line. The schemas of the config groups, which
need data/ and models/, are registered by vit_inpaint/launch/schema.py."""
