"""Every task (`task=NAME`) in one table: its LightningModule, data, baselines, network, metrics,
its part of the sweep report and how to recognise its checkpoints. Code that differs by task
looks its task up here instead of asking `if task == ...`.

Torch-free: each entry names its code by import path ("module:attribute"), imported on first use,
so config checks (before torch loads) and the Lightning-free inpaint tool can read the table.

Adding a task: its module (a TaskModule, tasks/), its data builder, its baselines, its report
wording (columns, findings, glossary), conf/task/<name>.yaml, and one `register_task(Task(...))`.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import OmegaConf

from vit_inpaint.config.choices import CLASSIFY_METRIC_NAMES, METRIC_NAMES
from vit_inpaint.config.lazy import resolve as resolve


@dataclass(frozen=True)
class Task:
    name: str  # task.name, conf/task/<name>.yaml
    module: str  # its LightningModule (tasks/): from_config(cfg, datamodule), load_from_checkpoint
    data: str  # cfg -> its LightningDataModule
    baselines: str  # its set-up data module -> {"val/<metric>_<baseline>": value, ...}
    # The role its network plays (models/registry.py: "inpainter", "classifier"): a model that
    # has no network for that role cannot train this task, and is refused before the run.
    network_role: str
    metrics: tuple[str, ...]  # what the module logs per split (val/<name>, test/<name>)
    baseline_prefixes: tuple[str, ...]  # the baselines' metrics beside them: val/<prefix><name>
    # Its part of the sweep report (report/write.py), each configurations -> ...: the main
    # table's columns ([Column], the essentials), the all-metrics table's, the sentences of the
    # opening paragraph (report/findings.py), the glossary under the main table (Markdown
    # bullets). Required: a task has its own words, never another task's by default.
    report_columns: str
    report_all_columns: str
    report_findings: str
    report_glossary: str
    report_heading: str | None = None  # the table's heading (None: the report's main results)
    network_args: tuple[str, ...] = ()  # hyper_parameters the network takes besides "model"
    # Checkpoints written before they stored their task: the hyperparameter only this task's
    # modules saved (an old file with none of these keys is DEFAULT's).
    old_checkpoint_key: str | None = None
    labelled: bool = False  # trains on labelled images (LABELLED_SOURCES, data.labels_per_class)
    takes_loss_pixels: bool = False  # reads the top-level loss_pixels setting
    masked: bool = False  # trains on masked images: the masking group applies (and is checked)
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
        from vit_inpaint.models.registry import get_model

        settings = dict(model_settings)
        name = settings.pop("name", "vit")  # checkpoints older than model.name: all model=vit
        args = {key: hyper_parameters[key] for key in self.network_args}
        network = get_model(name).network(self.network_role, **args, **settings)
        # A linear probe's classifier has MAE's probe norm, as ClassificationModule builds it;
        # one written before the norm existed has none (ViTClassifier.fit_probe_norm).
        probe = hyper_parameters.get("finetune") == "linear_probe"
        if probe and hasattr(network, "add_probe_norm"):
            network.add_probe_norm()
            if state_keys is not None:
                network.fit_probe_norm(state_keys)
        return network


TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Makes `task=<task.name>` a choice (a test's toy task registers itself the same way)."""
    TASKS[task.name] = task
    return task


register_task(
    Task(
        name="inpaint",
        module="vit_inpaint.tasks.inpainting:InpaintingModule",
        data="vit_inpaint.data.datamodule:build_inpainting_data",
        baselines="vit_inpaint.evaluation.baselines:evaluate_baselines",
        network_role="inpainter",
        metrics=(*METRIC_NAMES, "mse_over_bayes"),
        baseline_prefixes=("mse_",),
        report_columns="vit_inpaint.report.tables:table_columns",
        report_all_columns="vit_inpaint.report.tables:all_columns",
        report_findings="vit_inpaint.report.findings:inpaint_findings",
        report_glossary="vit_inpaint.report.findings:inpaint_glossary",
        takes_loss_pixels=True,
        masked=True,
        reconstructs=True,
    )
)
register_task(
    Task(
        name="classify",
        module="vit_inpaint.tasks.classification:ClassificationModule",
        data="vit_inpaint.data.labelled:build_labelled_data",
        baselines="vit_inpaint.evaluation.classifiers:evaluate_classifiers",
        network_role="classifier",
        metrics=CLASSIFY_METRIC_NAMES,
        baseline_prefixes=("acc_", "nll_"),
        report_columns="vit_inpaint.report.tables:classify_columns",
        report_all_columns="vit_inpaint.report.tables:classify_all_columns",
        report_findings="vit_inpaint.report.findings:classify_findings",
        report_glossary="vit_inpaint.report.findings:classify_glossary",
        report_heading="Classification",
        network_args=("num_classes",),
        old_checkpoint_key="num_classes",
        labelled=True,
    )
)
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
