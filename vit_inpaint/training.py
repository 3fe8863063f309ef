"""One training run from a composed Hydra config: check, build, fit, test, record.

`train.py` calls `train(cfg)`; nothing here is imported until a run actually starts, so composing
or printing a config (`python train.py --cfg job`) never pays for torch or Lightning.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from vit_inpaint.launch.validate import ConfigError, check_config
from vit_inpaint.storage import launch_folders
from vit_inpaint.storage.launch_folders import in_multirun
from vit_inpaint.storage.run_folder import Launch, RunFolder, RunFolderError
from vit_inpaint.tasks.registry import task_of

log = logging.getLogger(__name__)


def output_dir_of(cfg: DictConfig) -> Path:
    return Path(cfg.paths.output_dir)


@dataclass(frozen=True)
class TrainResult:
    """What a run gives back: its metrics (as in metrics.json), its folder, and the value of
    cfg.optimized_metric (None without one), which train.py returns to a sweeper."""

    metrics: dict[str, float]
    output_dir: Path
    optimized: float | None


def train(
    cfg: DictConfig, extra_callbacks: list | None = None, launch: Launch | None = None
) -> TrainResult:
    """Runs fit (+ test) for `cfg`.

    extra_callbacks: Lightning callbacks added to the configured ones (the benchmark's timer).
    launch: told when training begins (train.py keeps what a failure after that wrote).
    """
    launch = launch if launch is not None else Launch()
    resolve_last_checkpoint(cfg)
    check_config(cfg, multirun=in_multirun())
    if cfg.get("training_recipe"):
        log.info(
            "training recipe %s (conf/recipe/%s.yaml): data.batch_size=%s, optimizer.lr=%s, "
            "optimizer.schedule=%s; any of them can be overridden",
            *(cfg.training_recipe,) * 2,
            cfg.data.batch_size,
            cfg.optimizer.lr,
            cfg.optimizer.schedule,
        )
    resumed = check_checkpoints(cfg)
    start = check_init_from(cfg)  # read once: checked here, loaded after the model is built
    output_dir = output_dir_of(cfg)
    # DDP's extra processes write into their rank 0's folder, which rank 0 holds.
    claim = launch_folders.current().claim_of(output_dir)  # what train.py's launch found there
    prior = claim.found if claim is not None else None
    folder = RunFolder(output_dir, cfg.get("ckpt_path"), lock=not is_ddp_child(), prior=prior)
    try:
        folder.open()
    except RunFolderError as error:
        raise ConfigError(str(error)) from None
    with folder:
        check_epochs_left(cfg, resumed)  # after the folder's checks: a finished run says so
        finishing = _finishes(cfg, resumed)
        return _fit_and_test(cfg, folder, extra_callbacks, start, launch, finishing=finishing)


def _finishes(cfg: DictConfig, resumed: dict | None) -> bool:
    """Whether this resume only finishes its run: every epoch trained and checkpointed, but the
    run was stopped before its test and metrics.json (killed in between)."""
    from vit_inpaint.tasks.checkpoints import epochs_done

    return resumed is not None and epochs_done(resumed) == cfg.trainer.max_epochs


def resolve_last_checkpoint(cfg: DictConfig) -> None:
    """ckpt_path=last: the last checkpoint of the run in this launch's folder (the folder
    hydra.run.dir names, or the run conf/hydra/default.yaml found for these overrides); a
    ConfigError where it has none."""
    from vit_inpaint.storage.resume_last import LAST, last_checkpoint, no_last_checkpoint_line

    if cfg.get("ckpt_path") != LAST:
        return
    output_dir = output_dir_of(cfg)
    last = last_checkpoint(output_dir)
    if not last.is_file():
        raise ConfigError(no_last_checkpoint_line(output_dir, named=_run_dir_given()))
    cfg.ckpt_path = str(last)
    log.info("ckpt_path=last: resuming %s", last)


def _run_dir_given() -> bool:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return True  # train(cfg) called from Python: the folder is the one the caller set
    given = HydraConfig.get().overrides.hydra
    return any(str(o).partition("=")[0] in ("hydra.run.dir", "hydra.sweep.dir") for o in given)


def _fit_and_test(
    cfg: DictConfig,
    folder: RunFolder,
    extra_callbacks: list | None,
    start: dict | None,
    launch: Launch,
    finishing: bool = False,
) -> TrainResult:
    import lightning as L
    import torch
    from hydra.utils import instantiate

    _quiet_library_noise()

    from vit_inpaint.viz.hparams import log_hparams
    from vit_inpaint.viz.summary import console_summary

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.get("threads"):
        torch.set_num_threads(cfg.threads)

    datamodule = task_of(cfg).build_datamodule(cfg)
    module = build_module(cfg, datamodule)
    if start is not None:
        from vit_inpaint.tasks.finetune import load_fitting

        load_fitting(module.model, start, cfg.init_from, task_of(cfg).name)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    callbacks += extra_callbacks or []
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)

    log.info("training %s on %s", module.describe(), folder.output_dir)
    launch.began = True
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    if finishing:
        # fit restored the whole run (weights, the average of callbacks.ema, the best epoch)
        # and trained nothing: the last epoch's validation, run again on the same weights and
        # images, gives the val/ metrics the run had when it was stopped.
        trainer.validate(module, datamodule=datamodule, verbose=False)
    # The baselines were scored once, before fit: recorded here beside the model's metrics.
    prefixes = ("val/", "test/") if cfg.get("test") else ("val/",)
    metrics = _scalars(module.baselines, prefix=prefixes)
    metrics.update(_scalars(trainer.callback_metrics, prefix="val/"))
    if cfg.get("test"):
        trainer.test(module, datamodule=datamodule, ckpt_path=cfg.get("test_ckpt"), verbose=False)
        metrics.update(_scalars(trainer.callback_metrics, prefix="test/"))

    if trainer.is_global_zero:  # under DDP every process has the same (synced) metrics
        folder.finish(metrics)
        for logger in loggers:
            log_hparams(logger, cfg, metrics, step=trainer.global_step)
            logger.finalize("success")
        log.info(console_summary(metrics, folder.output_dir))

    optimized = cfg.get("optimized_metric")
    return TrainResult(metrics, folder.output_dir, metrics.get(optimized) if optimized else None)


def build_module(cfg: DictConfig, datamodule):
    """The LightningModule of `task=`, with its baselines' scores on the same images."""
    task = task_of(cfg)
    datamodule.setup()
    module = task.module_class().from_config(cfg, datamodule)
    module.baselines = task.score_baselines(datamodule)
    return module


def is_ddp_child() -> bool:
    """A process that Lightning started for DDP rank > 0 (it sets LOCAL_RANK for them)."""
    return os.environ.get("LOCAL_RANK", "0") != "0"


# Run settings outside `model` that change the network a task module builds (tasks/registry.py
# Task.build_network): finetune=linear_probe adds a norm before the head.
NETWORK_RUN_SETTINGS = ("finetune",)


def check_checkpoints(cfg: DictConfig) -> dict | None:
    """ckpt_path and a test_ckpt file must be checkpoints of this project whose weights fit the
    configured model; returns ckpt_path's checkpoint (None without one)."""
    from vit_inpaint.tasks.checkpoints import mismatch

    fields = ["ckpt_path"]
    if cfg.get("test") and cfg.get("test_ckpt") not in (None, "best", "last"):
        fields.append("test_ckpt")
    model_settings = OmegaConf.to_container(cfg.model, resolve=True)
    resumed = None
    for field in fields:
        path, checkpoint = _checkpoint_of(cfg, field)
        if checkpoint is None:
            continue
        # The network the run will load it into: a finetune=full run has no linear probe's norm.
        run = {key: cfg.get(key) for key in NETWORK_RUN_SETTINGS if key in cfg}
        why = mismatch(checkpoint, model_settings, task=task_of(cfg).name, run=run)
        if why is not None:
            raise ConfigError(
                f"{field}: {path} holds {why}: give the settings it was trained with, or "
                "another checkpoint"
            )
        if field == "ckpt_path":
            resumed = checkpoint
            # An EMA run's checkpoint holds the averaged weights; its raw ones need the callback.
            averaged = "current_model_state" in checkpoint
            if averaged != (OmegaConf.select(cfg, "callbacks.ema") is not None):
                with_ = "with" if averaged else "without"
                raise ConfigError(
                    f"ckpt_path: {path} was trained {with_} callbacks.ema (an average of the "
                    f"weights); resume it {with_} it too"
                )
    return resumed


def check_init_from(cfg: DictConfig) -> dict | None:
    """init_from must be a checkpoint of this project whose encoder fits the configured model;
    returns that checkpoint (None without init_from)."""
    from vit_inpaint.tasks.checkpoints import mismatch

    path, checkpoint = _checkpoint_of(cfg, "init_from")
    if checkpoint is None:
        return None
    why = mismatch(checkpoint, OmegaConf.to_container(cfg.model, resolve=True))
    if why is not None:
        raise ConfigError(
            f"init_from: {path} holds {why}: give the model settings it was trained with"
        )
    return checkpoint


def _checkpoint_of(cfg: DictConfig, field: str) -> tuple[str | None, dict | None]:
    """(path, contents) of the checkpoint a config field names, read with the safe reader; a
    file that is not one of ours is refused naming the field. (None, None) when unset."""
    from vit_inpaint.storage.images import FileError
    from vit_inpaint.tasks.checkpoints import read_checkpoint

    path = cfg.get(field)
    if path is None:
        return None, None
    try:
        return path, read_checkpoint(path)
    except FileError as error:
        raise ConfigError(f"{field}: {error}") from None


def check_epochs_left(cfg: DictConfig, checkpoint: dict | None) -> None:
    """A resume must have epochs left: else it would train nothing and mark the run finished."""
    from vit_inpaint.tasks.checkpoints import epochs_done

    if checkpoint is None:
        return
    done = epochs_done(checkpoint)
    # Equal: every epoch was trained, the run stopped before its test; the resume finishes it.
    if cfg.trainer.max_epochs < done:
        raise ConfigError(
            f"trainer.max_epochs={cfg.trainer.max_epochs} is below the {done} epoch(s) ckpt_path "
            f"{cfg.ckpt_path} has done; set trainer.max_epochs={done} to finish that run, or "
            f"above {done} to train longer"
        )


def _quiet_library_noise() -> None:
    # Hydra already sends every record to the console and train.log; the console handler that
    # `import lightning` adds to its own logger would print each Lightning message twice.
    if logging.getLogger().hasHandlers():
        logging.getLogger("lightning").handlers.clear()
    # Raised inside Lightning's own batch handling on every run, with nothing for a user to do.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
    # test_ckpt=best with two ModelCheckpoints (the best epoch, and last.ckpt every epoch): it
    # takes the first one's best, the one conf/callbacks/default.yaml lists first, as meant.
    warnings.filterwarnings("ignore", message=r".*configured with multiple `ModelCheckpoint`")
    # Lightning's advertisement and its accelerator census: the run's config already says where
    # it trains (trainer.accelerator).
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _LightningChatter) for f in rank_zero.filters):
        rank_zero.addFilter(_LightningChatter())


class _LightningChatter(logging.Filter):
    SILENCED = ("💡 Tip", "GPU available", "TPU available")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.SILENCED)


def _scalars(metrics: dict, prefix: str | tuple[str, ...]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if k.startswith(prefix)}
