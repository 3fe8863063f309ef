"""What TensorBoard's HParams tab shows on first load: the settings that tell runs apart (seed
included), as the user typed them, and the key test metrics, without ticking anything by hand.

How TensorBoard 2.21 picks that first view (read from its source, so the summaries are written
here rather than by Lightning's `log_hyperparams`):

- The server sorts the experiment's hparams by (`differs` first, then name), whatever order they
  were written in; the page then shows the first 5 hparams and the first 5 metrics. So each
  hparam's name starts with its rank ("03 model.dim") and the page shows `display_name`
  ("model.dim"); `differs` is set on the seed and on the settings the run was given on the
  command line: in a sweep, the ones that vary (they also name the job's folder).
- Metrics keep the order they are written in: the first five are the ones to compare runs on.
  A metric's value is the last point of a scalar with its tag. The test metrics are single
  values, so they are written under METRIC_PREFIX, a tag group that sorts after train/ and val/
  in the Time Series tab (whose first view opens the first two groups: the learning curves),
  and shown in HParams under their own names (`display_name`).
- The protocol has float, string and bool types: integers are floats (the page writes them with
  5 significant digits, "64.000", and sorts them as numbers), booleans are bools.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from vit_inpaint.config.choices import OPTIMIZERS
from vit_inpaint.models.settings import ATTENTIONS, POS_EMBEDDINGS

# The tag group of the HParams metrics that are no curve: "z" sorts it after train/ and val/.
METRIC_PREFIX = "z_hparams/"
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
# The HParams metrics, in this order (inpainting's, then task=classify's: a run logs one set or
# the other); every other metric is in the run's text summary and metrics.json.
FIRST_METRICS = (
    "test/mse",
    "test/nmse",
    "test/rate_perfect",
    "test/rate_failed",
    "val/mse",
    "test/mse_over_bayes",
    "test/acc",
    "test/nll",
    "val/acc",
    "val/nll",
)


def hparams_of(cfg: DictConfig, choices: dict | None = None) -> dict:
    """The settings shown in the HParams tab, most telling first, as plain values; a config group
    (GROUPS) under the name the user chose (`choices`: Hydra's runtime choices), e.g. data
    `uniform_noise`."""
    values = {}
    for name, key in HPARAMS:
        group = GROUPS.get(key)
        if group and (choices or {}).get(group):
            values[name] = choices[group]
        else:
            value = OmegaConf.select(cfg, key)
            values[name] = value.rsplit(".", 1)[-1] if name == "data" else value
    return values


def overridden(overrides: list[str]) -> set[str]:
    """The names in HPARAMS that `overrides` ("key=value", "+key=value", ...) set."""
    keys = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
    return {name for name, key in HPARAMS if key in keys or GROUPS.get(key) in keys}


def hparams_metrics(metrics: dict[str, float]) -> list[str]:
    """The FIRST_METRICS this run has, in that order."""
    return [m for m in FIRST_METRICS if m in metrics]


def metric_tag(name: str) -> str:
    """The scalar tag an HParams metric is read from: a validation metric's own curve, the
    others' single value under METRIC_PREFIX."""
    return name if name.startswith("val/") else METRIC_PREFIX + name


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
        elif isinstance(value, int | float):
            start.hparams[stored].number_value = float(value)
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
            api_pb2.MetricInfo(name=api_pb2.MetricName(tag=metric_tag(m)), display_name=m)
            for m in hparams_metrics(metrics)
        ],
    )
    end = plugin_data.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)
    contents = {
        metadata.EXPERIMENT_TAG: plugin_data.HParamsPluginData(experiment=experiment),
        metadata.SESSION_START_INFO_TAG: plugin_data.HParamsPluginData(session_start_info=start),
        metadata.SESSION_END_INFO_TAG: plugin_data.HParamsPluginData(session_end_info=end),
    }
    return [
        Summary(value=[Summary.Value(tag=tag, metadata=metadata.create_summary_metadata(content))])
        for tag, content in contents.items()
    ]


def log_hparams(logger, cfg: DictConfig, metrics: dict[str, float], step: int) -> None:
    """Writes the run's HParams summaries, the values of its HParams metrics and the markdown
    table of all its final metrics (Text tab), through `logger` (a Lightning
    TensorBoardLogger)."""
    from hydra.core.hydra_config import HydraConfig

    from vit_inpaint.viz.summary import markdown_summary

    overrides, choices = [], {}
    if HydraConfig.initialized():
        overrides = list(HydraConfig.get().overrides.task)
        choices = dict(HydraConfig.get().runtime.choices)
    hparams = hparams_of(cfg, choices)
    # Through the writer, not logger.log_metrics: Lightning would add an `epoch` scalar.
    writer = logger.experiment
    for name in hparams_metrics(metrics):
        if metric_tag(name) != name:  # a validation curve is there already
            writer.add_scalar(metric_tag(name), metrics[name], step)
    writer.add_text("summary", markdown_summary(metrics), step)
    # The writer Lightning's own log_hyperparams writes these summaries with.
    file_writer = writer._get_file_writer()
    for summary in summaries(hparams, metrics, overridden(overrides) | {"seed"}):
        file_writer.add_summary(summary, step)
