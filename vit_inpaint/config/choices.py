"""The names a config may choose from, kept free of torch so that checking a config (before any
run starts, and in Hydra callbacks) takes a fraction of a second. The modules that implement each
choice import their list from here.

The model's choices, and the digits' sizes, are declared beside the fields they are for, in the
settings modules of data/ and models/ (a layer above this one).
"""

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
