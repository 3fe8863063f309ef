"""Independent random streams, one per purpose of each split: changing how one thing is drawn (a
split's size, fresh masks each epoch) never changes what another draws. torch only, no Lightning:
the inpaint tool's `--holes` draws its holes from here."""

from __future__ import annotations

import numpy as np
import torch

# Purposes of a seed stream within a split: generator(seed, split index, purpose, ...).
IMAGES, MASKS, ORDER, FRESH_MASKS, FRESH_IMAGES, EVAL_MASKS = range(6)


def stream_seed(*keys: int) -> int:
    """An independent 63-bit seed for each tuple of keys (seed, split, purpose, epoch, ...)."""
    return int(np.random.SeedSequence(list(keys)).generate_state(2, dtype=np.uint64)[0] >> 1)


def generator(*keys: int) -> torch.Generator:
    return torch.Generator().manual_seed(stream_seed(*keys))
