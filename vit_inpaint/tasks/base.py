"""What every task's LightningModule shares: the training step's loss check and logging cadence,
inference in eval mode, the optimizer and its schedule, and reading a checkpoint back.

A task subclasses `TaskModule` and writes only its own part: `training_loss(batch)`, its
validation and test metrics, and `from_config(cfg, datamodule)`; it is listed in
tasks/registry.py.
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path

import lightning as L
import torch

from vit_inpaint.errors import NonFiniteLossError
from vit_inpaint.storage.images import one_line
from vit_inpaint.tasks.checkpoints import (
    CheckpointError,
    checkpoint_task,
    read_checkpoint,
    where_saved,
)
from vit_inpaint.tasks.optim import configure_optimizers, default_optimizer


class TaskModule(L.LightningModule):
    TASK = ""  # its name in tasks/registry.py (`task=`), saved in every checkpoint it writes

    def __init__(self, optimizer: dict | None = None):
        """optimizer: build_optimizer's settings (conf/optimizer/)."""
        super().__init__()
        self.optimizer_config = dict(optimizer or default_optimizer())
        # Baselines' scores on the same images (set by training.build_module, not saved): scored
        # once per run, recorded in metrics.json beside the model's metrics.
        self.baselines: dict[str, float] = {}

    @classmethod
    def from_config(cls, cfg, datamodule) -> TaskModule:
        """The module a composed config trains, on `datamodule` (set up by then)."""
        raise NotImplementedError

    def describe(self) -> str:
        """What a run of it trains, for the log's "training ... on <folder>" line."""
        raise NotImplementedError

    # --- training --------------------------------------------------------------------------

    def training_loss(self, batch) -> torch.Tensor:
        raise NotImplementedError

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss = self.training_loss(batch)
        # Lightning writes logged values only on the steps where (global_step + 1) is a multiple
        # of log_every_n_steps (0: never); calling self.log on the other steps would cost about
        # as much as the model's forward pass at this size.
        every = self.trainer.log_every_n_steps if self._trainer is not None else 0
        logs_now = bool(every) and (self.global_step + 1) % every == 0
        # Reading the loss's value waits for the device: free on the CPU, where every step is
        # checked, a stall per step on a GPU, where only the logging steps (which wait anyway)
        # and the epoch's last batch (before its checkpoint is saved) are.
        on_cpu = loss.device.type == "cpu"
        check_now = on_cpu or self._trainer is None or logs_now or self.trainer.is_last_batch
        if check_now and not torch.isfinite(loss):
            self._stop_on_non_finite(loss, batch_idx)
        if logs_now:
            self.log("train/loss", loss, prog_bar=True)
            # The rate this step uses, the head's with optimizer.layer_decay (the highest).
            # (LearningRateMonitor logs the same, but as a callback it is called on every step,
            # whether or not it logs then.)
            groups = self.trainer.optimizers[0].param_groups
            self.log("train/lr", max(group["lr"] for group in groups))
        return loss

    def _stop_on_non_finite(self, loss: torch.Tensor, batch_idx: int) -> None:
        # Raised before backward (on the CPU, before the first bad update; on a GPU within
        # log_every_n_steps of it): the checkpoints, saved at the end of each epoch, stay good.
        callbacks = self._trainer.checkpoint_callbacks if self._trainer is not None else []
        # The newest checkpoint any ModelCheckpoint wrote (conf/callbacks: last.ckpt, each epoch).
        saved = [p for cb in callbacks for p in (cb.last_model_path, cb.best_model_path)]
        saved = [p for p in saved if p and Path(p).is_file()]
        checkpoint = max(saved, key=lambda p: Path(p).stat().st_mtime, default="")
        raise NonFiniteLossError(
            f"train/loss is {loss.item()} at epoch {self.current_epoch}, batch {batch_idx} "
            f"(step {self.global_step}): training stopped. "
            + (f"Last good checkpoint: {checkpoint}. " if checkpoint else "No checkpoint yet. ")
            + "A lower optimizer.lr, or data without NaN or infinite pixels, usually cures it."
        )

    def log_split(self, prefix: str, values: dict, constants: tuple[str, ...] = ()) -> None:
        """Logs one split's metrics. Only validation metrics that change from epoch to epoch go
        to the logger (TensorBoard's curves); a test set's single values and the constants of a
        fixed split (`constants`: names without the prefix) reach only callback_metrics, from
        which training.py writes metrics.json, the HParams metrics and the run's summary."""
        # torchmetrics has already summed its states over DDP processes, so every process holds
        # the same values: sync_dist averages equal numbers (and is free without DDP).
        curves = {}
        if prefix == "val/":
            curves = {k: v for k, v in values.items() if k[len(prefix) :] not in constants}
            self.log_dict(curves, sync_dist=True)
        rest = {k: v for k, v in values.items() if k not in curves}
        if rest:
            self.log_dict(rest, sync_dist=True, logger=False)

    def configure_optimizers(self):
        return configure_optimizers(self, self.optimizer_config)

    # --- inference -------------------------------------------------------------------------

    @contextlib.contextmanager
    def inference(self):
        """Eval mode and no gradients inside; the module's own mode again after."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            self.train(was_training)

    # --- checkpoints -----------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # A checkpoint says which task wrote it (tasks/registry.py reads it back).
        checkpoint.setdefault("hyper_parameters", {})["task"] = self.TASK

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, strict=True, **overrides):
        """The module a checkpoint of this task holds, read through tasks/checkpoints.py (torch's
        safe loader); map_location and `overrides` (which replace saved hyperparameters) as in
        Lightning. A CheckpointError names the file instead of a traceback from deep inside
        torch."""
        checkpoint = read_checkpoint(checkpoint_path, map_location=map_location or where_saved)
        written_by = checkpoint_task(checkpoint)
        if written_by.name != cls.TASK:
            module = written_by.module.rpartition(":")[2]
            raise CheckpointError(
                f"{checkpoint_path}: a checkpoint of task={written_by.name}: load it with "
                f"{module} (init_from= starts a {cls.TASK} run from its encoder)"
            )
        # Only the constructor's arguments: a checkpoint also holds "task", and may hold
        # hyperparameters an older version took.
        accepted = inspect.signature(cls.__init__).parameters
        settings = {**checkpoint["hyper_parameters"], **overrides}
        try:
            module = cls(**{k: v for k, v in settings.items() if k in accepted})
            # What a task keeps beside its weights, and the model's shape where it depends on
            # the checkpoint's age; before the weights, as Lightning's own loader does.
            module.on_load_checkpoint(checkpoint)
            module.load_state_dict(checkpoint["state_dict"], strict=strict)
        except Exception as err:  # e.g. weights that do not fit the saved settings
            raise CheckpointError(
                f"{checkpoint_path}: not a checkpoint of vit-inpaint "
                f"({type(err).__name__}: {one_line(err)})"
            ) from err
        # On the device the weights were read to, as Lightning's own loader does.
        device = next(iter(checkpoint["state_dict"].values()), torch.tensor(0)).device
        return module.to(device)
