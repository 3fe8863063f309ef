"""The names a config may choose from, kept free of torch so that checking a config (before any
run starts, and in Hydra callbacks) takes a fraction of a second. The modules that implement each
choice import their list from here."""

MODEL_NAMES = ("vit", "mae")  # model.name: conf/model/vit.yaml, mae.yaml
POS_EMBEDDINGS = ("learned", "sincos", "none")  # model.pos_embedding
ATTENTIONS = ("manual", "sdpa")  # model.attention
PRIORS = ("none", "pushpull")  # model.prior
OPTIMIZERS = ("adam", "adamw", "sgd")  # optimizer.name
SCHEDULES = ("constant", "cosine")  # optimizer.schedule
LOSS_PIXELS = ("hidden", "all")  # loss_pixels
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
# data=digits: scikit-learn's 1797 8x8 digits, split once, stratified (data/sources.py Digits).
DIGITS_IMAGE_SIZE = 8
DIGITS_SPLIT_SIZES = {"train": 1077, "val": 360, "test": 360}
# The image sources that say each image's class (task=classify needs one).
LABELLED_SOURCES = ("vit_inpaint.data.sources.Digits", "vit_inpaint.data.sources.GaussianField")
