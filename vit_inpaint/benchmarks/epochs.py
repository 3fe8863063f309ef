"""How fast is a training epoch? The loops `python -m vit_inpaint.cli.bench` times.

Three ways to train the same model size on the same data, for the same epochs, in one process:

    naive    the script a user would write: nn.TransformerEncoder, torch.optim.Adam defaults,
             a DataLoader over a TensorDataset
    bare     this project's model (InpaintingViT) and optimizer (fused Adam) in a plain loop
    project  this project's real path: Hydra config as train.py composes it, the Trainer, the
             LightningModule, the DataModule, the logger and callbacks of a default run

With `--floor`, a fourth: `lightning`, the same module and data in Lightning's barebones mode
(no logger, callbacks, progress bar or checkpoints): what the Trainer's loop alone costs, the
floor under `project`.

They run in alternation, round after round, so a noisy shared CPU slows all three alike; the
report gives the median time of a training epoch (validation excluded), samples per second and
the ratios project/bare (the framework's overhead) and naive/project (what the project saves).
`--scaling` adds how an epoch grows with image size, patch size and dataset size, with the peak
memory of each (measured in a fresh subprocess, so the peaks do not mask one another).
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_data(num_train: int, image_size: int, seed: int = 0):
    """The report's data: uniform images, one hidden 2x2 patch each."""
    import torch

    from vit_inpaint.data.masking import BlockMasking
    from vit_inpaint.data.sources import UniformNoise

    gen = torch.Generator().manual_seed(seed)
    images = UniformNoise().sample(num_train, image_size, "train", gen)
    masks = BlockMasking(size=2)(num_train, image_size, image_size, gen)
    return images, masks


# --- naive: what a user would write -------------------------------------------------------------


def _sync(device: str) -> None:
    """Waits for queued GPU work, so a timer reads the work's end, not its launch."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_naive(
    images, masks, model_cfg: dict, batch_size: int, epochs: int, device: str = "cpu"
) -> list[float]:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from vit_inpaint.tasks.optim import default_optimizer

    p, dim = model_cfg["patch_size"], model_cfg["dim"]
    size = images.shape[-1]
    tokens = (size // p) ** 2

    class NaiveViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(2 * p * p, dim)
            self.pos = nn.Parameter(torch.zeros(1, tokens, dim))
            layer = nn.TransformerEncoderLayer(
                dim, model_cfg["heads"], int(dim * model_cfg["mlp_ratio"]), batch_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, model_cfg["depth"])
            self.head = nn.Linear(dim, p * p)

        def forward(self, x, m):
            b = x.shape[0]
            feats = torch.stack((x * ~m, m.float()), 1)  # (B, 2, H, W)
            feats = feats.unfold(2, p, p).unfold(3, p, p)  # (B, 2, H/p, W/p, p, p)
            feats = feats.permute(0, 2, 3, 4, 5, 1).reshape(b, tokens, 2 * p * p)
            out = self.head(self.encoder(self.embed(feats) + self.pos))
            out = out.view(b, size // p, size // p, p, p).permute(0, 1, 3, 2, 4)
            return out.reshape(b, size, size)

    model = NaiveViT().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=default_optimizer()["lr"])
    loader = DataLoader(TensorDataset(images, masks), batch_size=batch_size, shuffle=True)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for x, m in loader:
            x, m = x.to(device), m.to(device)
            loss = ((model(x, m) - x) ** 2)[m].mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


# --- bare: the project's model and optimizer in a plain loop ------------------------------------


def run_bare(
    images, masks, model_cfg: dict, batch_size: int, epochs: int, device: str = "cpu"
) -> list[float]:
    from vit_inpaint.data.splits import TensorBatches
    from vit_inpaint.models.vit import InpaintingViT
    from vit_inpaint.tasks.metrics import masked_mse
    from vit_inpaint.tasks.optim import build_optimizer, default_optimizer

    model = InpaintingViT(image_size=images.shape[-1], **model_cfg).to(device)
    optimizer = build_optimizer(model.parameters(), **default_optimizer())
    times = []
    for epoch in range(epochs):
        batches = TensorBatches(images, masks, batch_size, shuffle=True, epoch=lambda e=epoch: e)
        start = time.perf_counter()
        for x, m in batches:
            x, m = x.to(device), m.to(device)
            loss = masked_mse(model(x, m), x, m)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


# --- project: the real training path ------------------------------------------------------------


def run_project(
    num_train: int,
    image_size: int,
    model_cfg: dict,
    batch_size: int,
    epochs: int,
    out: Path,
    device: str = "cpu",
    extra_overrides: tuple[str, ...] = (),
) -> list[float]:
    """Trains through vit_inpaint.training.train with a default run's config, timing each
    training epoch with a callback (validation, testing and set-up are not counted)."""
    import lightning as L
    from hydra import compose, initialize_config_dir

    from vit_inpaint.training import train

    times: list[float] = []

    class EpochTimer(L.Callback):
        # Lightning runs validation inside the training epoch, before on_train_epoch_end: the
        # clock stops when validation starts, so only the training batches are timed.
        def on_train_epoch_start(self, trainer, pl_module):
            self.start = time.perf_counter()

        def on_validation_start(self, trainer, pl_module):
            if not trainer.sanity_checking and self.start is not None:
                self._stop()

        def on_train_epoch_end(self, trainer, pl_module):
            if self.start is not None:  # no validation this epoch
                self._stop()

        def _stop(self):
            _sync(device)
            times.append(time.perf_counter() - self.start)
            self.start = None

    overrides = [
        f"data.num_train={num_train}",
        "data.num_val=1000",
        "data.num_test=1000",
        f"data.batch_size={batch_size}",
        f"data.image_size={image_size}",
        f"trainer.max_epochs={epochs}",
        *(f"model.{key}={value}" for key, value in model_cfg.items()),
        f"paths.output_dir={out}",
        "test=false",
        *(["trainer=gpu"] if device.startswith("cuda") else []),
        *extra_overrides,
    ]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    train(cfg, extra_callbacks=[EpochTimer()])
    return times


# Lightning's barebones mode: no logger, callbacks, progress bar, checkpoints or model summary.
BAREBONES = (
    "+trainer.barebones=true",
    "~trainer.log_every_n_steps",
    "~trainer.enable_model_summary",
    "~callbacks",
    "~logger",
    # Not timed either way; skipped so the module's validation logging does not warn.
    "+trainer.limit_val_batches=0",
)


# --- the comparison -----------------------------------------------------------------------------


def compare(args) -> dict:
    import torch

    model_cfg = {
        "patch_size": 2,
        "dim": args.dim,
        "depth": args.depth,
        "heads": args.heads,
        "mlp_ratio": 2.0,
        "attention": args.attention,
    }
    images, masks = make_data(args.num_train, args.image_size)
    results = {}
    for batch_size in args.batch_sizes:
        times = {
            "naive": [],
            "bare": [],
            "project": [],
            **({"lightning": []} if args.floor else {}),
        }
        with tempfile.TemporaryDirectory() as tmp:
            run = (images, masks, model_cfg, batch_size, args.epochs, args.device)
            for round_index in range(args.rounds):
                # Each round starts with the next of the three: on this kind of machine whatever
                # runs later in a round tends to run slower, so a fixed order would bias the
                # ratios against whichever always came last.
                names = list(times)
                start = round_index % len(names)
                for name in names[start:] + names[:start]:
                    torch.manual_seed(round_index)
                    gc.collect()
                    if name in ("project", "lightning"):
                        out = Path(tmp) / f"{name}-{batch_size}-{round_index}"
                        epochs = run_project(
                            args.num_train,
                            args.image_size,
                            *run[2:5],
                            out,
                            args.device,
                            BAREBONES if name == "lightning" else (),
                        )
                    else:
                        epochs = (run_naive if name == "naive" else run_bare)(*run)
                    times[name] += epochs[1:]  # epoch 0 warms caches and allocators: not counted
        medians = {name: statistics.median(t) for name, t in times.items()}
        results[batch_size] = {
            **{f"{name}_epoch_s": value for name, value in medians.items()},
            **{f"{name}_samples_per_s": args.num_train / v for name, v in medians.items()},
            "project/bare": medians["project"] / medians["bare"],
            "naive/project": medians["naive"] / medians["project"],
            **({"lightning/bare": medians["lightning"] / medians["bare"]} if args.floor else {}),
            "epochs_measured": len(times["bare"]),
        }
    return results


def scaling_one(image_size: int, patch_size: int, num_train: int, epochs: int) -> dict:
    """Median bare epoch time and this process's peak memory, for one setting."""
    import resource

    images, masks = make_data(num_train, image_size)
    model_cfg = {"patch_size": patch_size, "dim": 64, "depth": 2, "heads": 4, "attention": "sdpa"}
    times = run_bare(images, masks, model_cfg, 64, epochs)[1:]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"epoch_s": statistics.median(times), "peak_rss_mib": peak_kib / 1024}


def scaling(args) -> list[dict]:
    settings = [(s, p, args.num_train) for s in (4, 8, 16, 32) for p in (2, 4) if p < s or s == 4]
    settings += [(4, 2, n) for n in (1000, 20000)]
    rows = []
    for size, patch, n in settings:
        command = [sys.executable, "-m", "vit_inpaint.cli.bench", "--scaling-one"]
        command += [str(size), str(patch), str(n), str(args.epochs)]
        result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        row = {"image_size": size, "patch_size": patch, "num_train": n}
        row.update(json.loads(result.stdout.strip().splitlines()[-1]))
        rows.append(row)
        print(
            f"  image {size:>2}x{size:<2} patch {patch}  {n:>6} images: "
            f"{row['epoch_s'] * 1000:8.1f} ms/epoch  peak {row['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    return rows


def machine(device: str = "cpu") -> str:
    import torch

    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
        f"Python {platform.python_version()}"
    )
