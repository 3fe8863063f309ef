"""One training run from a composed Hydra config: check, build, fit, test, record.

`train.py` calls `train(cfg)`; nothing here is imported until a run actually starts, so composing
or printing a config (`python train.py --cfg job`) never pays for torch or Lightning.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from vit_inpaint.config.renamed import translate_old_names
from vit_inpaint.config.validate import ConfigError, check_config
from vit_inpaint.storage.run_folder import METRICS_FILE, RunFolderError, prepare_output_dir

log = logging.getLogger(__name__)

def output_dir_of(cfg: DictConfig) -> Path:
    return Path(cfg.paths.output_dir)


def train(cfg: DictConfig, extra_callbacks: list | None = None) -> float | None:
    """Runs fit (+ test) for `cfg`; returns cfg.optimized_metric's final value if set.

    extra_callbacks: Lightning callbacks added to the configured ones (the benchmark's timer).
    """
    for note in translate_old_names(cfg):
        log.warning(note)
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
    output_dir = output_dir_of(cfg)
    try:
        prepare_output_dir(output_dir)
    except RunFolderError as error:
        raise ConfigError(str(error)) from None

    import lightning as L
    import torch
    from hydra.utils import instantiate

    _quiet_library_noise()

    from vit_inpaint.data.datamodule import build_datamodule
    from vit_inpaint.evaluation.baselines import evaluate_baselines
    from vit_inpaint.storage.atomic import write_atomic
    from vit_inpaint.tasks.inpainting import InpaintingModule
    from vit_inpaint.viz.hparams import log_hparams

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.get("threads"):
        torch.set_num_threads(cfg.threads)

    datamodule = build_datamodule(cfg)
    module = InpaintingModule(
        model=OmegaConf.to_container(cfg.model, resolve=True),
        optimizer=OmegaConf.to_container(cfg.optimizer, resolve=True),
        train_mean=datamodule.train_mean,
        loss_pixels=cfg.loss_pixels,
        rate_thresholds=OmegaConf.to_container(cfg.rate_thresholds, resolve=True),
        masking=cfg.masking.name,
    )
    module.baselines = evaluate_baselines(datamodule)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    callbacks += extra_callbacks or []
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)

    log.info("training %s on %s", cfg.masking.name, output_dir)
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    metrics = _scalars(trainer.callback_metrics, prefix="val/")
    if cfg.get("test"):
        trainer.test(module, datamodule=datamodule, ckpt_path=cfg.get("test_ckpt"), verbose=False)
        metrics.update(_scalars(trainer.callback_metrics, prefix="test/"))

    if trainer.is_global_zero:  # under DDP every process has the same (synced) metrics
        record = json.dumps(metrics, indent=2, sort_keys=True) + "\n"
        write_atomic(output_dir / METRICS_FILE, record)
        for logger in loggers:
            log_hparams(logger, cfg, metrics, step=trainer.global_step)
            logger.finalize("success")
        log.info("final metrics: %s", json.dumps(metrics, sort_keys=True))

    optimized = cfg.get("optimized_metric")
    return metrics.get(optimized) if optimized else None


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def discard_refused_run() -> None:
    """Removes what Hydra wrote for a run that was refused before it began: its record of the
    launch (.hydra/, or .hydra/resumed-<time>/ in a resumed run's folder) and, if nothing else
    is there, the empty log and the run's folder. Files of an earlier run are never touched."""
    import shutil

    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.output_subdir is not None:
        shutil.rmtree(output_dir / hydra_cfg.output_subdir, ignore_errors=True)
    log_file = output_dir / f"{hydra_cfg.job.name}.log"
    leftovers = [p for p in output_dir.iterdir() if p != log_file] if output_dir.is_dir() else []
    if not leftovers and (not log_file.exists() or log_file.stat().st_size == 0):
        shutil.rmtree(output_dir, ignore_errors=True)


def _quiet_library_noise() -> None:
    # Hydra already sends every record to the console and train.log; the console handler that
    # `import lightning` adds to its own logger would print each Lightning message twice.
    if logging.getLogger().hasHandlers():
        logging.getLogger("lightning").handlers.clear()
    # Raised inside Lightning's own batch handling on every run, with nothing for a user to do.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")


def _scalars(metrics: dict, prefix: str) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if k.startswith(prefix)}
