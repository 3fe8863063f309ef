"""What a model is built from: conf/model/vit.yaml and mae.yaml, as the networks receive it.

Each dataclass is at once the schema Hydra checks the config group `model` against (types, as it
composes: vit_inpaint/launch/schema.py registers them) and the settings the networks check and
read (`Encoder(**settings)` builds one): a field and its checks are written here only, and stay
torch-free so that checking a config never loads torch. Checks that need another config group
(the masking of model=mae, the task) are in vit_inpaint/launch/validate.py.

The defaults are the library's (`InpaintingViT()` in a notebook); a run's values come from the
yaml files, which set every field.
"""

from __future__ import annotations

from dataclasses import dataclass

POS_EMBEDDINGS = ("learned", "sincos", "none")  # model.pos_embedding
ATTENTIONS = ("manual", "sdpa")  # model.attention
PRIORS = ("none", "pushpull", "biharmonic")  # model.prior


def _positive_integer(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"model.{name} must be a positive integer, got {value!r}")


def _one_of(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"model.{name} must be one of {choices}, got {value!r}")


@dataclass
class ModelSettings:
    """model=vit: the encoder (models/encoder.py) and a pixel head (models/vit.py); the
    classifier takes the same settings (models/classifier.py)."""

    image_size: int = 4  # ${data.image_size} in the configs
    patch_size: int = 2
    dim: int = 64
    depth: int = 2
    heads: int = 4
    mlp_ratio: float = 2.0
    pos_embedding: str = "learned"  # POS_EMBEDDINGS
    # ATTENTIONS: torch's fused kernel, as conf/model/vit.yaml (the same function as "manual",
    # which writes the report's steps out; attention maps are drawn by that path either way).
    attention: str = "sdpa"
    attend_to_hidden: bool = True
    prior: str = "none"  # PRIORS
    # With a prior: each window's pixels and prior fill shifted and scaled by its visible pixels'
    # mean and spread before the network, and the correction scaled back (models/vit.py), so
    # the model corrects a faint window as it corrects a contrasted one.
    normalize: bool = False
    # Channels of a convolutional stem before the patches (models/encoder.py ConvStem); 0: none.
    stem_channels: int = 0
    # vit | mae (MAESettings), models/registry.py. Last, so that ModelSettings(8, 2, dim=32)
    # reads as InpaintingViT's arguments always did (image_size, patch_size).
    name: str = "vit"

    def __post_init__(self) -> None:
        # As ValueError naming the field: the config check reports it as one `error:` line.
        # (model.name itself is checked by the registry, models/registry.py, that chose this.)
        _positive_integer("image_size", self.image_size)  # -4 passes the divisibility check
        for key in ("patch_size", "dim", "depth", "heads"):
            _positive_integer(key, getattr(self, key))
        if self.image_size % self.patch_size != 0:
            raise ValueError(
                f"data.image_size ({self.image_size}) must be divisible by model.patch_size "
                f"({self.patch_size})"
            )
        if self.dim % self.heads != 0:
            raise ValueError(
                f"model.dim ({self.dim}) must be divisible by model.heads ({self.heads})"
            )
        _one_of("prior", self.prior, PRIORS)
        if self.normalize and self.prior == "none":
            raise ValueError("model.normalize scales the correction of a prior: set model.prior")
        _one_of("pos_embedding", self.pos_embedding, POS_EMBEDDINGS)
        if self.pos_embedding == "sincos" and self.dim % 4 != 0:
            raise ValueError(
                f"model.dim ({self.dim}) must be divisible by 4 for model.pos_embedding=sincos"
            )
        _one_of("attention", self.attention, ATTENTIONS)
        if (
            isinstance(self.stem_channels, bool)
            or not isinstance(self.stem_channels, int)
            or (self.stem_channels < 0)
        ):
            raise ValueError(
                f"model.stem_channels must be 0 (no stem) or a positive integer, "
                f"got {self.stem_channels!r}"
            )


@dataclass
class MAESettings(ModelSettings):
    """model=mae: the encoder sees the visible patches only, a small decoder predicts the hidden
    ones (models/mae.py)."""

    name: str = "mae"
    decoder_dim: int = 64
    decoder_depth: int = 1
    decoder_heads: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.prior != "none":
            raise ValueError(f"model=mae takes no prior: set model.prior=none, got {self.prior!r}")
        for key in ("decoder_dim", "decoder_depth", "decoder_heads"):
            _positive_integer(key, getattr(self, key))
        if self.decoder_dim % self.decoder_heads != 0:
            raise ValueError(
                f"model.decoder_dim ({self.decoder_dim}) must be divisible by "
                f"model.decoder_heads ({self.decoder_heads})"
            )
