"""Is MAE's encoder-on-visible-patches faster, and as good? What `python -m
vit_inpaint.cli.bench_mae` (part of `make bench`) measures.

model=mae against model=vit on the same data and the same masks: Gaussian-field images (whose
best possible reconstruction, the Bayes posterior mean, is known exactly), MAE's random masking
(`masking=patches`: 75% of the patches hidden, new masks every epoch, the same for both models).
Both have the same encoder (conf/model/vit.yaml's size unless told otherwise); MAE adds its
decoder (conf/model/mae.yaml's). They train in the same plain loop (the project's fused Adam and
masked MSE), one epoch each in alternation, so a noisy shared CPU slows both alike. Printed per
image size: the median epoch time of each (the first epoch is warm-up), their ratio, and the
validation MSE on the hidden pixels after the same number of epochs, with its ratio to Bayes; then
at equal wall time: the faster model (MAE, where its epochs are cheaper) trains on, alone, until
its summed training time equals the other's over those epochs, and its validation MSE then.
"""

from __future__ import annotations

import statistics
import time


def _model_settings(name: str, image_size: int, args) -> dict:
    from pathlib import Path

    from omegaconf import OmegaConf

    conf = Path(__file__).resolve().parents[2] / "conf" / "model"
    settings = OmegaConf.to_container(OmegaConf.load(conf / "vit.yaml"))
    if name == "mae":
        settings.update(OmegaConf.to_container(OmegaConf.load(conf / "mae.yaml")))
        for key in ("decoder_dim", "decoder_depth", "decoder_heads"):
            if getattr(args, key) is not None:
                settings[key] = getattr(args, key)
    settings.pop("defaults", None)
    settings.update(
        name=name,
        image_size=image_size,
        patch_size=args.patch_size,
        dim=args.dim,
        depth=args.depth,
    )
    return settings


def _data(image_size: int, args):
    """(train images, val images, val masks, the masking, the Bayes mse on val), from args.seed."""
    import torch

    from vit_inpaint.data.masking import PatchMasking
    from vit_inpaint.data.sources import GaussianField
    from vit_inpaint.tasks.metrics import masked_mse

    source = GaussianField()
    masking = PatchMasking(ratio=args.ratio, size=args.patch_size)
    gen = torch.Generator().manual_seed(args.seed)
    train = source.sample(args.num_train, image_size, "train", gen)
    val = source.sample(args.num_val, image_size, "val", gen)
    val_masks = masking(args.num_val, image_size, image_size, gen)
    bayes = masked_mse(source.posterior_mean(val, val_masks), val, val_masks).item()
    return train, val, val_masks, masking, bayes


def _train_epoch(model, optimizer, train, masking, epoch: int, args) -> float:
    """One epoch, its masks and order drawn from the epoch's number (epoch N is the same data for
    both models); returns its training loop's seconds."""
    import torch

    from vit_inpaint.tasks.metrics import masked_mse

    size = train.shape[-1]
    epoch_gen = torch.Generator().manual_seed(args.seed * 1000 + epoch)
    masks = masking(args.num_train, size, size, epoch_gen)
    order = torch.randperm(args.num_train, generator=epoch_gen)
    model.train()
    start = time.perf_counter()
    for first in range(0, args.num_train, args.batch_size):
        rows = order[first : first + args.batch_size]
        x, m = train[rows], masks[rows]
        loss = masked_mse(model(x, m), x, m)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def _val_mse(model, val, val_masks) -> float:
    import torch

    from vit_inpaint.tasks.metrics import masked_mse

    model.eval()
    with torch.no_grad():
        return masked_mse(model(val, val_masks), val, val_masks).item()


def compare_at(image_size: int, args) -> dict:
    import torch

    from vit_inpaint.models import build_inpainter
    from vit_inpaint.tasks.optim import build_optimizer

    train, val, val_masks, masking, bayes = _data(image_size, args)
    models, optimizers, times = {}, {}, {}
    for name in ("vit", "mae"):
        torch.manual_seed(args.seed)
        models[name] = build_inpainter(**_model_settings(name, image_size, args))
        optimizers[name] = build_optimizer(models[name].parameters(), "adam", args.lr)
        times[name] = []

    def train_epoch(name: str, epoch: int) -> None:
        times[name].append(
            _train_epoch(models[name], optimizers[name], train, masking, epoch, args)
        )

    for epoch in range(args.epochs):
        for name in models:
            train_epoch(name, epoch)
    result = {"image_size": image_size, "bayes_mse": bayes}
    for name, model in models.items():
        result[f"{name}_epoch_s"] = statistics.median(times[name][1:])
        result[f"{name}_mse"] = _val_mse(model, val, val_masks)
        result[f"{name}_params"] = sum(p.numel() for p in model.parameters())
    result["speedup"] = result["vit_epoch_s"] / result["mae_epoch_s"]
    # Equal wall time: the cheaper model goes on, alone, with the next epochs' data, until its
    # summed training time reaches the other's (the learning rate is constant: more epochs of the
    # same run). The clocks are those of the training loops, evaluation not counted.
    cheap, other = ("mae", "vit") if result["speedup"] >= 1 else ("vit", "mae")
    budget, epoch = sum(times[other]), args.epochs
    while sum(times[cheap]) < budget and epoch < args.epochs * 100:
        train_epoch(cheap, epoch)
        epoch += 1
    result["equal_time_model"] = cheap
    result["equal_time_s"] = budget
    result["equal_time_epochs"] = epoch
    result["equal_time_mse"] = _val_mse(models[cheap], val, val_masks)
    return result
