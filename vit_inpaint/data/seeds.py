"""Independent random streams, one per purpose of each split: changing how one thing is drawn (a
split's size, fresh masks each epoch) never changes what another draws. torch only, no Lightning:
the inpaint tool's `--holes` draws its holes from here."""

from __future__ import annotations

import numpy as np
import torch

# Purposes of a seed stream within a split: generator(seed, split index, purpose, ...). Every
# stream of a run has the split index second and a purpose third, so no two of them share a key.
IMAGES, MASKS, ORDER, FRESH_MASKS, FRESH_IMAGES, EVAL_MASKS = range(6)


def stream_seed(*keys: int) -> int:
    """An independent 63-bit seed for each tuple of keys (seed, split, purpose, epoch, ...).

    SeedSequence pads a short key with zeros, so (s, 0, 0) and (s,) name the same stream: a new
    kind of stream takes a key of the form above, never a prefix of another one's."""
    return int(np.random.SeedSequence(list(keys)).generate_state(2, dtype=np.uint64)[0] >> 1)


def generator(*keys: int) -> torch.Generator:
    return torch.Generator().manual_seed(stream_seed(*keys))
