"""One training run from a composed Hydra config: check, build, fit, test, record.

`train.py` calls `train(cfg)`; nothing here is imported until a run actually starts, so composing
or printing a config (`python train.py --cfg job`) never pays for torch or Lightning.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from vit_inpaint.config.resolvers import launch_claim, resumes
from vit_inpaint.config.validate import ConfigError, check_config
from vit_inpaint.storage.run_folder import (
    METRICS_FILE,
    FolderLock,
    RunFolderError,
    prepare_output_dir,
)
from vit_inpaint.tasks.registry import task_of

log = logging.getLogger(__name__)


class Launch:
    """Where the current train() call stands: once training has begun, a failure keeps the
    run's files (its checkpoints resume it); before that, train.py discards what it wrote."""

    began = False


def output_dir_of(cfg: DictConfig) -> Path:
    return Path(cfg.paths.output_dir)


def train(cfg: DictConfig, extra_callbacks: list | None = None) -> float | None:
    """Runs fit (+ test) for `cfg`; returns cfg.optimized_metric's final value if set.

    extra_callbacks: Lightning callbacks added to the configured ones (the benchmark's timer).
    """
    Launch.began = False
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
    lock = None
    if not is_ddp_child():  # DDP's extra processes write into their rank 0's locked folder
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            lock = FolderLock(output_dir).acquire()
            claim = launch_claim(output_dir)
            if claim is not None and not claim.owns_record and not claim.prior:
                prior = (".hydra",)  # another launch made the record meanwhile: not ours
            else:
                prior = claim.prior if claim is not None else None
            prepare_output_dir(output_dir, prior, resume=resumes(cfg.get("ckpt_path"), output_dir))
            check_epochs_left(cfg, resumed)
        except (RunFolderError, ConfigError) as error:
            if lock is not None:
                lock.release()
            raise ConfigError(str(error)) from None
    try:
        return _fit_and_test(cfg, output_dir, extra_callbacks, start)
    finally:
        if lock is not None:
            lock.release()


def _fit_and_test(
    cfg: DictConfig, output_dir: Path, extra_callbacks: list | None, start: dict | None
) -> float | None:
    import lightning as L
    import torch
    from hydra.utils import instantiate

    _quiet_library_noise()

    from vit_inpaint.storage.atomic import write_atomic
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

    log.info("training %s on %s", module.describe(), output_dir)
    Launch.began = True
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    # The baselines were scored once, before fit: recorded here beside the model's metrics.
    prefixes = ("val/", "test/") if cfg.get("test") else ("val/",)
    metrics = _scalars(module.baselines, prefix=prefixes)
    metrics.update(_scalars(trainer.callback_metrics, prefix="val/"))
    if cfg.get("test"):
        trainer.test(module, datamodule=datamodule, ckpt_path=cfg.get("test_ckpt"), verbose=False)
        metrics.update(_scalars(trainer.callback_metrics, prefix="test/"))

    if trainer.is_global_zero:  # under DDP every process has the same (synced) metrics
        record = json.dumps(metrics, indent=2, sort_keys=True) + "\n"
        write_atomic(output_dir / METRICS_FILE, record)
        for logger in loggers:
            log_hparams(logger, cfg, metrics, step=trainer.global_step)
            logger.finalize("success")
        log.info(console_summary(metrics, output_dir))

    optimized = cfg.get("optimized_metric")
    return metrics.get(optimized) if optimized else None


def build_module(cfg: DictConfig, datamodule):
    """The LightningModule of `task=`, with its baselines' scores on the same images."""
    task = task_of(cfg)
    datamodule.setup()
    module = task.module_class().from_config(cfg, datamodule)
    module.baselines = task.score_baselines(datamodule)
    return module


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def is_ddp_child() -> bool:
    """A process that Lightning started for DDP rank > 0 (it sets LOCAL_RANK for them)."""
    return os.environ.get("LOCAL_RANK", "0") != "0"


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
        why = mismatch(checkpoint, model_settings, task=task_of(cfg).name)
        if why is not None:
            raise ConfigError(
                f"{field}: {path} holds {why}: give the settings it was trained with, or "
                "another checkpoint"
            )
        if field == "ckpt_path":
            resumed = checkpoint
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
    if cfg.trainer.max_epochs <= done:
        raise ConfigError(
            f"trainer.max_epochs={cfg.trainer.max_epochs} leaves nothing to train: ckpt_path "
            f"{cfg.ckpt_path} has {done} epoch(s) done; set trainer.max_epochs above {done} to "
            "train longer"
        )


def discard_launch(keep_own_folder: bool = False) -> None:
    """Removes what this launch wrote before its training began, and nothing else: its record
    (.hydra/ if it made it, else its own .hydra/resumed-<time>/ or attempt-<time>-<pid>/), its
    log, and the run folder if this launch made it and it is empty again. Files of an earlier or
    concurrent run are never touched.

    keep_own_folder: keep the record and log of a launch that had the folder to itself (a job
    of a multirun: the sweep report lists it as failed); still remove a record subfolder."""
    import shutil

    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    claim = launch_claim(output_dir) if hydra_cfg.output_subdir is not None else None
    if claim is None:
        return  # no record of this launch (DDP's extra process, hydra.output_subdir=null)
    if keep_own_folder and claim.owns_record:
        return
    log_file = claim.log_file(hydra_cfg.job.name)
    for handler in list(logging.getLogger().handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == log_file:
            handler.close()
            logging.getLogger().removeHandler(handler)
    record = output_dir / claim.record
    if claim.owns_record:  # only the files Hydra wrote for this launch: another may be inside
        for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
            (record / name).unlink(missing_ok=True)
        log_file.unlink(missing_ok=True)  # made by this launch: the folder had no record
        _rmdir_if_empty(record)
    else:
        shutil.rmtree(record, ignore_errors=True)
    if claim.created_dir:
        _rmdir_if_empty(output_dir)
    from vit_inpaint.config.resolvers import forget_claim

    forget_claim(output_dir)


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (or gone): leave it
        pass


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
