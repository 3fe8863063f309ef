"""The names a config may choose from, kept free of torch so that checking a config (before any
run starts, and in Hydra callbacks) takes a fraction of a second. The modules that implement each
choice import their list from here."""

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
