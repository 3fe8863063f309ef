"""The names a config may choose from, kept free of torch so that checking a config (before any
run starts, and in Hydra callbacks) takes a fraction of a second. The modules that implement each
choice import their list from here.

The model's choices, and the digits' sizes, are declared beside the fields they are for, in the
settings modules (which import nothing of this package, so that importing them first is never
caught in a loop through vit_inpaint/config/__init__.py); they are listed here with the others.
"""

from vit_inpaint.data.settings import DIGITS_IMAGE_SIZE as DIGITS_IMAGE_SIZE
from vit_inpaint.data.settings import DIGITS_SPLIT_SIZES as DIGITS_SPLIT_SIZES
from vit_inpaint.models.settings import ATTENTIONS as ATTENTIONS
from vit_inpaint.models.settings import POS_EMBEDDINGS as POS_EMBEDDINGS
from vit_inpaint.models.settings import PRIORS as PRIORS

OPTIMIZERS = ("adam", "adamw", "sgd")  # optimizer.name
SCHEDULES = ("constant", "cosine")  # optimizer.schedule
LOSS_PIXELS = ("hidden", "all", "hidden_over_prior")  # loss_pixels
# What InpaintingMetrics computes for each split (val/<name>, test/<name>).
METRIC_NAMES = (
    "mse",
    "nmse",
    "psnr",
    "rate_perfect",
    "rate_acceptable",
    "rate_failed",
    "mse_mean_fill",
    "coverage",
)
FINETUNE = ("full", "linear_probe", "last_block")  # finetune
# What ClassificationModule computes for each split (val/<name>, test/<name>).
CLASSIFY_METRIC_NAMES = ("acc", "nll")
# The image sources that say each image's class (task=classify needs one).
LABELLED_SOURCES = ("vit_inpaint.data.sources.Digits", "vit_inpaint.data.sources.GaussianField")
