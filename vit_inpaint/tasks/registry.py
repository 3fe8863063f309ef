"""Every task (`task=NAME`) in one table: its LightningModule, data, baselines, network, metrics and
how to recognise its checkpoints. Code that differs by task looks its task up here instead of
asking `if task == ...`.

Torch-free: each entry names its code by import path ("module:attribute"), imported on first use,
so config checks (before torch loads) and the Lightning-free inpaint tool can read the table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from omegaconf import OmegaConf

from vit_inpaint.config.choices import CLASSIFY_METRIC_NAMES, METRIC_NAMES


def resolve(path: str):
    """The object "package.module:attribute" names."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Task:
    name: str  # task.name, conf/task/<name>.yaml
    module: str  # its LightningModule (tasks/): from_config(cfg, datamodule), load_from_checkpoint
    data: str  # cfg -> its LightningDataModule
    baselines: str  # its set-up data module -> {"val/<metric>_<baseline>": value, ...}
    network: str  # (network_args..., **model settings) -> the bare network (models/)
    metrics: tuple[str, ...]  # what the module logs per split (val/<name>, test/<name>)
    baseline_prefixes: tuple[str, ...]  # the baselines' metrics beside them: val/<prefix><name>
    network_args: tuple[str, ...] = ()  # hyper_parameters the network takes besides "model"
    # Checkpoints written before they stored their task: the hyperparameter only this task's
    # modules saved (an old file with none of these keys is DEFAULT's).
    old_checkpoint_key: str | None = None
    pretrains_mae: bool = False  # whether model=mae (a pretraining network) can train this task
    labelled: bool = False  # trains on labelled images (LABELLED_SOURCES, data.labels_per_class)
    takes_loss_pixels: bool = False  # reads the top-level loss_pixels setting
    # Its part of the sweep report (evaluation/report.py), each configurations -> ...: the main
    # table's columns ([Column], the essentials), the all-metrics table's, the sentences of the
    # opening paragraph (evaluation/findings.py), the glossary under the main table (Markdown
    # bullets); and the table's heading (None: the report's main results).
    report_columns: str = "vit_inpaint.evaluation.tables:table_columns"
    report_all_columns: str = "vit_inpaint.evaluation.tables:all_columns"
    report_findings: str = "vit_inpaint.evaluation.findings:inpaint_findings"
    report_glossary: str = "vit_inpaint.evaluation.findings:inpaint_glossary"
    report_heading: str | None = None
    reconstructs: bool = False  # its models fill images: the report draws them

    def table_columns(self, configurations: list) -> list:
        return resolve(self.report_columns)(configurations)

    def all_columns(self, configurations: list) -> list:
        return resolve(self.report_all_columns)(configurations)

    def findings(self, configurations: list) -> str:
        return resolve(self.report_findings)(configurations)

    def glossary(self, configurations: list) -> list[str]:
        return resolve(self.report_glossary)(configurations)

    def module_class(self):
        return resolve(self.module)

    def build_datamodule(self, cfg):
        return resolve(self.data)(cfg)

    def score_baselines(self, datamodule) -> dict[str, float]:
        return resolve(self.baselines)(datamodule)

    def build_network(self, model_settings: dict, hyper_parameters: dict, state_keys=None):
        """The network `model_settings` describe, with this task's other saved arguments.
        state_keys: the network's tensor names in the checkpoint it is built for, if any."""
        args = [hyper_parameters[key] for key in self.network_args]
        network = resolve(self.network)(*args, **model_settings)
        # A linear probe's classifier has MAE's probe norm, as ClassificationModule builds it;
        # one written before the norm existed has none (ViTClassifier.fit_probe_norm).
        probe = hyper_parameters.get("finetune") == "linear_probe"
        if probe and hasattr(network, "add_probe_norm"):
            network.add_probe_norm()
            if state_keys is not None:
                network.fit_probe_norm(state_keys)
        return network


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            name="inpaint",
            module="vit_inpaint.tasks.inpainting:InpaintingModule",
            data="vit_inpaint.data.datamodule:build_inpainting_data",
            baselines="vit_inpaint.evaluation.baselines:evaluate_baselines",
            network="vit_inpaint.models:build_inpainter",
            metrics=(*METRIC_NAMES, "mse_over_bayes"),
            baseline_prefixes=("mse_",),
            pretrains_mae=True,
            takes_loss_pixels=True,
            reconstructs=True,
        ),
        Task(
            name="classify",
            module="vit_inpaint.tasks.classification:ClassificationModule",
            data="vit_inpaint.data.labelled:build_labelled_data",
            baselines="vit_inpaint.evaluation.classifiers:evaluate_classifiers",
            network="vit_inpaint.models:build_classifier",
            metrics=CLASSIFY_METRIC_NAMES,
            baseline_prefixes=("acc_", "nll_"),
            network_args=("num_classes",),
            old_checkpoint_key="num_classes",
            labelled=True,
            report_columns="vit_inpaint.evaluation.tables:classify_columns",
            report_all_columns="vit_inpaint.evaluation.tables:classify_all_columns",
            report_findings="vit_inpaint.evaluation.findings:classify_findings",
            report_glossary="vit_inpaint.evaluation.findings:classify_glossary",
            report_heading="Classification",
        ),
    )
}
DEFAULT = "inpaint"  # the task of a config without task= (and of runs older than task=)
KEY = "task.name"  # where a config names its task (conf/task/<name>.yaml)


def get_task(name: str) -> Task:
    """The task `name`; a ValueError naming the choices for any other."""
    if name not in TASKS:
        raise ValueError(f"task.name must be one of {tuple(TASKS)}, got {name!r}")
    return TASKS[name]


def task_of(cfg) -> Task:
    """The task a composed config trains."""
    return get_task(OmegaConf.select(cfg, KEY, default=DEFAULT))


def task_of_checkpoint(hyper_parameters: dict) -> Task:
    """The task that wrote a checkpoint: the name it stores ("task"); a checkpoint older than that
    is told by the key only its task's modules saved, else it is the default task's."""
    name = hyper_parameters.get("task")
    if name is None:
        old = [t for t in TASKS.values() if t.old_checkpoint_key in hyper_parameters]
        name = old[0].name if old else DEFAULT
    return get_task(name)
