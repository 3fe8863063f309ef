"""Where images come from. Each source is a small object with one method,

    sample(n, size, split, generator) -> (n, size, size) float tensor

so the data module, the baselines and the tests all draw images the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class UniformNoise:
    """The report's data: i.i.d. uniform pixels in [0, 1]. No pixel says anything about another,
    so no predictor can beat the constant 0.5 on a hidden pixel (expected MSE 1/12)."""

    low: float = 0.0
    high: float = 1.0

    def sample(self, n: int, size: int, split: str, generator: torch.Generator) -> torch.Tensor:
        return self.low + (self.high - self.low) * torch.rand(n, size, size, generator=generator)
