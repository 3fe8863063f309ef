"""What TensorBoard's HParams tab shows on first load: the settings that tell runs apart, and the
test metrics, without ticking anything by hand.

How TensorBoard 2.21 picks that first view (read from its source, so the summaries are written
here rather than by Lightning's `log_hyperparams`):

- The server sorts the experiment's hparams by (`differs` first, then name), whatever order they
  were written in; the page then shows the first 5 hparams and the first 5 metrics. So each
  hparam's name starts with its rank ("03 model.dim") and the page shows `display_name`
  ("model.dim"); `differs` is set on the settings the run was given on the command line: in a
  sweep, the ones that vary (they also name the job's folder).
- Metrics keep the order they are written in: the first five are the ones to compare runs on.
- The protocol has float, string and bool types, and the page writes floats with 5 significant
  digits ("64.000"). Integers are written as strings, right-aligned in INT_WIDTH characters so that
  the server's string sort orders them as numbers; the page drops the leading spaces.
  Booleans are bools (PyTorch's `hparams` writes them as floats: `True` is an `int`).
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from vit_inpaint.config.choices import ATTENTIONS, OPTIMIZERS, POS_EMBEDDINGS

INT_WIDTH = 10
# (shown name, config key), most telling first. A command-line override of the key, or of the
# config group named in GROUPS, marks the setting as one that tells runs apart.
HPARAMS = (
    ("masking", "masking.name"),
    ("data", "data.images._target_"),
    ("model.dim", "model.dim"),
    ("model.depth", "model.depth"),
    ("model.heads", "model.heads"),
    ("model.pos_embedding", "model.pos_embedding"),
    ("model.patch_size", "model.patch_size"),
    ("model.mlp_ratio", "model.mlp_ratio"),
    ("model.attention", "model.attention"),
    ("model.attend_to_hidden", "model.attend_to_hidden"),
    ("optimizer", "optimizer.name"),
    ("lr", "optimizer.lr"),
    ("seed", "seed"),
    ("batch_size", "data.batch_size"),
    ("num_train", "data.num_train"),
    ("image_size", "data.image_size"),
    ("fresh_masks", "data.fresh_masks"),
    ("max_epochs", "trainer.max_epochs"),
)
GROUPS = {"masking.name": "masking", "data.images._target_": "data", "optimizer.name": "optimizer"}
# The values a string setting can take (check_config refuses others), for the page's filter
# check boxes; a setting without one gets no filter there.
DOMAINS = {
    "model.pos_embedding": POS_EMBEDDINGS,
    "model.attention": ATTENTIONS,
    "optimizer": OPTIMIZERS,
}
# The metrics shown on first load, in this order; the run's other metrics follow.
# (Inpainting's, then task=classify's: a run logs one set or the other.)
FIRST_METRICS = (
    "test/mse",
    "test/nmse",
    "test/rate_perfect",
    "test/rate_failed",
    "val/mse",
    "test/acc",
    "test/nll",
    "val/acc",
    "val/nll",
)


def hparams_of(cfg: DictConfig) -> dict:
    """The settings shown in the HParams tab, most telling first, as plain values."""
    values = {}
    for name, key in HPARAMS:
        value = OmegaConf.select(cfg, key)
        values[name] = value.rsplit(".", 1)[-1] if name == "data" else value
    return values


def overridden(overrides: list[str]) -> set[str]:
    """The names in HPARAMS that `overrides` ("key=value", "+key=value", ...) set."""
    keys = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
    return {name for name, key in HPARAMS if key in keys or GROUPS.get(key) in keys}


def ordered_metrics(metrics: dict[str, float]) -> list[str]:
    """FIRST_METRICS, then the run's own test and val metrics, then the other test sets'."""
    first = [m for m in FIRST_METRICS if m in metrics]
    rest = sorted(set(metrics) - set(first), key=lambda m: (m.count("/"), m))
    return first + rest


def stored_name(rank: int, name: str) -> str:
    return f"{rank:02d} {name}"


def summaries(hparams: dict, metrics: dict[str, float], differs: set[str]) -> list:
    """The HParams plugin's experiment, session-start and session-end summaries of one run."""
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.hparams import api_pb2, metadata
    from tensorboard.plugins.hparams import plugin_data_pb2 as plugin_data

    start = plugin_data.SessionStartInfo()
    infos = []
    for rank, (name, value) in enumerate(hparams.items()):
        if value is None:
            continue
        stored = stored_name(rank, name)
        info = api_pb2.HParamInfo(name=stored, display_name=name, differs=name in differs)
        if isinstance(value, bool):
            start.hparams[stored].bool_value = value
            info.type = api_pb2.DATA_TYPE_BOOL
            info.domain_discrete.extend([False, True])
        elif isinstance(value, int):
            start.hparams[stored].string_value = f"{value:>{INT_WIDTH}d}"
            info.type = api_pb2.DATA_TYPE_STRING
        elif isinstance(value, float):
            start.hparams[stored].number_value = value
            info.type = api_pb2.DATA_TYPE_FLOAT64
        else:
            start.hparams[stored].string_value = str(value)
            info.type = api_pb2.DATA_TYPE_STRING
            if name in DOMAINS:
                info.domain_discrete.extend(DOMAINS[name])
        infos.append(info)
    experiment = api_pb2.Experiment(
        hparam_infos=infos,
        metric_infos=[
            api_pb2.MetricInfo(name=api_pb2.MetricName(tag=m)) for m in ordered_metrics(metrics)
        ],
    )
    end = plugin_data.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)
    contents = {
        metadata.EXPERIMENT_TAG: plugin_data.HParamsPluginData(experiment=experiment),
        metadata.SESSION_START_INFO_TAG: plugin_data.HParamsPluginData(session_start_info=start),
        metadata.SESSION_END_INFO_TAG: plugin_data.HParamsPluginData(session_end_info=end),
    }
    return [
        Summary(
            value=[Summary.Value(tag=tag, metadata=metadata.create_summary_metadata(content))]
        )
        for tag, content in contents.items()
    ]


def log_hparams(logger, cfg: DictConfig, metrics: dict[str, float], step: int) -> None:
    """Writes the run's final metrics as scalars and its HParams summaries, through `logger`
    (a Lightning TensorBoardLogger)."""
    from hydra.core.hydra_config import HydraConfig

    overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    hparams = hparams_of(cfg)
    logger.log_metrics(metrics, step)
    # The writer Lightning's own log_hyperparams writes these summaries with.
    writer = logger.experiment._get_file_writer()
    for summary in summaries(hparams, metrics, overridden(overrides)):
        writer.add_summary(summary, step)
