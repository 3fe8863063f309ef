"""The sweep report: `python -m vit_inpaint.report <multirun folder>` (or a single run's folder).

Reads, for every job folder of a Hydra multirun (a subfolder holding `.hydra/`):
    .hydra/overrides.yaml, .hydra/config.yaml   what the job ran (its training mask, its data)
    metrics.json                                 its final metrics; absent = the job FAILED
    events.out.tfevents.*                        its TensorBoard scalars (the val/mse curve)
    checkpoints/epoch*.ckpt, else last.ckpt      its model, for the pictures

Writes into that same folder:
    report.md            one row per run, or per configuration with mean ± std over seeds when
                         seeds were swept; the train-mask x test-mask matrix; links to the figures
    val_curves.png       val/mse against step, every run, with baselines as dashed lines
    cross_eval.png       the train-mask x test-mask matrix as a heat map, if cross-evaluated
    reconstructions.png  original | masked (hidden in red) | reconstruction, per configuration
    attention.png        last-layer attention maps, one panel per head, per configuration
and prints the Markdown to stdout. Jobs that differ only in `seed=` are one configuration.

Only the standard library is imported here; torch, Lightning, TensorBoard and matplotlib are
imported inside the functions that need them, so `--help` and a bad path answer at once.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import textwrap
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from vit_inpaint.masking import EVAL_MASKINGS
from vit_inpaint.training import METRICS_FILE

if TYPE_CHECKING:  # numpy only for annotations: nothing heavy is imported with this module
    import numpy as np

REPORT_FILE = "report.md"
SEED = "seed"

# The baselines (vit_inpaint/baselines.py) in the order the table shows them.
BASELINES = ("mean_fill", "visible_mean", "biharmonic", "linear", "bayes")
# The baselines drawn on the validation curves, with their line styles.
CURVE_BASELINES = {"bayes": "--", "mean_fill": ":"}
# Every model is also tested on each kind of mask (test/<mask>/...): the cross-evaluation.
TEST_MASKS = tuple(EVAL_MASKINGS)
# How many test images per configuration the reconstruction figure shows.
NUM_PICTURES = 4
# Attention maps with at most this many tokens get their weights written in the cells.
MAX_ANNOTATED_TOKENS = 8
MISSING = "—"


class ReportError(ValueError):
    """Input the report cannot work from; the message names the folder and what is wrong."""


# --- reading the runs ---------------------------------------------------------------------------


@dataclass
class Job:
    """One run of the sweep: its folder, its overrides and, if it finished, its metrics."""

    path: Path
    overrides: dict[str, str]  # "key=value" overrides as key -> value, in command-line order
    metrics: dict[str, float] | None  # None: no metrics.json, the run failed
    train_mask: str
    data_source: str
    label: str = ""  # the overrides that tell this job from the others (set by group_jobs)

    @property
    def failed(self) -> bool:
        return self.metrics is None

    @property
    def seed(self) -> str | None:
        return self.overrides.get(SEED)

    @cached_property
    def scalars(self) -> dict[str, list[tuple[int, float]]]:
        """The job's validation scalars from its TensorBoard events: tag -> [(step, value)]."""
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        # Its reader logs each file it opens at INFO, which Hydra would print at every sweep's end.
        logging.getLogger("tensorboard").setLevel(logging.WARNING)
        events = EventAccumulator(str(self.path), size_guidance={"scalars": 0}).Reload()
        return {
            tag: [(event.step, event.value) for event in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]
            if tag.startswith("val/")
        }

    def final_value(self, key: str) -> float | None:
        """`key` from metrics.json, else the last logged value (a run that failed late has one)."""
        if self.metrics and key in self.metrics:
            return self.metrics[key]
        points = self.scalars.get(key)
        return points[-1][1] if points else None

    @property
    def checkpoint(self) -> Path | None:
        """The best checkpoint on val/mse (the one `epochNNN.ckpt` that ModelCheckpoint keeps),
        else last.ckpt, else None."""
        best = sorted((self.path / "checkpoints").glob("epoch*.ckpt"))
        if best:
            return best[-1]
        last = self.path / "checkpoints" / "last.ckpt"
        return last if last.exists() else None


def find_job_dirs(sweep_dir: Path) -> list[Path]:
    """The job folders of a multirun folder, or the folder itself when it is a single run."""
    if not sweep_dir.exists():
        raise ReportError(f"{sweep_dir} does not exist")
    if not sweep_dir.is_dir():
        raise ReportError(f"{sweep_dir} is not a folder")
    if (sweep_dir / ".hydra").is_dir():  # outputs/runs/<time>/: one run
        return [sweep_dir]
    jobs = sorted(path for path in sweep_dir.iterdir() if (path / ".hydra").is_dir())
    if not jobs:
        raise ReportError(
            f"{sweep_dir} holds no job folders (subfolders with a .hydra/ folder): give a Hydra "
            "multirun folder (outputs/multiruns/<time>) or a run folder (outputs/runs/<time>)"
        )
    return jobs


def read_job(path: Path) -> Job:
    from omegaconf import OmegaConf

    hydra_dir = path / ".hydra"
    overrides_file = hydra_dir / "overrides.yaml"
    overrides = OmegaConf.load(overrides_file) if overrides_file.exists() else []
    config_file = hydra_dir / "config.yaml"
    config = OmegaConf.load(config_file) if config_file.exists() else OmegaConf.create()
    return Job(
        path=path,
        overrides=dict(str(item).partition("=")[::2] for item in overrides),
        metrics=read_metrics(path / METRICS_FILE),
        train_mask=str(OmegaConf.select(config, "masking.name", default="?")),
        data_source=str(OmegaConf.select(config, "data.images._target_", default="?")),
    )


def read_metrics(path: Path) -> dict[str, float] | None:
    if not path.exists():
        return None
    try:
        return {key: float(value) for key, value in json.loads(path.read_text()).items()}
    except (ValueError, TypeError, AttributeError) as error:
        raise ReportError(f"{path} is not a flat JSON object of numbers: {error}") from error


# --- grouping runs into configurations ----------------------------------------------------------


@dataclass
class Configuration:
    """Jobs with the same overrides but for `seed`: one row of the table."""

    label: str
    jobs: list[Job] = field(default_factory=list)

    @property
    def finished(self) -> list[Job]:
        return [job for job in self.jobs if not job.failed]

    @property
    def status(self) -> str:
        failed = len(self.jobs) - len(self.finished)
        if failed == 0:
            return "ok"
        if failed == len(self.jobs):
            return "failed"
        return f"{failed} of {len(self.jobs)} failed"

    @property
    def train_mask(self) -> str:
        return self.jobs[0].train_mask

    def values(self, key: str) -> list[float]:
        """`key` of every finished seed that has it."""
        return [job.metrics[key] for job in self.finished if key in job.metrics]

    def mean(self, key: str) -> float | None:
        values = self.values(key)
        return statistics.fmean(values) if values else None


def group_jobs(jobs: list[Job]) -> tuple[list[Configuration], list[str]]:
    """Configurations (jobs equal but for the seed) and the overrides every job shares.

    Labels show only the overrides that differ between jobs: a sweep's shared settings (a tiny
    budget, say) would otherwise repeat on every row.
    """
    varying = {
        key
        for key in {key for job in jobs for key in job.overrides}
        if len({job.overrides.get(key) for job in jobs}) > 1
    }
    shared = [f"{k}={v}" for k, v in jobs[0].overrides.items() if k not in varying and k != SEED]
    # Only the seed varies (or one run): the one configuration is what every run shares.
    fallback = ",".join(shared) or "(defaults)"

    def describe(job: Job, keys: set[str]) -> str:
        return ",".join(f"{k}={v}" for k, v in job.overrides.items() if k in keys)

    configurations: dict[str, Configuration] = {}
    for job in jobs:
        job.label = describe(job, varying) or job.path.name
        label = describe(job, varying - {SEED}) or fallback
        configurations.setdefault(label, Configuration(label)).jobs.append(job)
    for configuration in configurations.values():
        configuration.jobs.sort(key=lambda job: _seed_order(job.seed))
    return list(configurations.values()), shared


def _seed_order(seed: str | None) -> tuple[int, str]:
    # seed=10 after seed=9: numerically where the seed is a number.
    return (int(seed), "") if seed and seed.lstrip("-").isdigit() else (0, seed or "")


# --- the Markdown -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    percent: bool = False


def table_columns(configurations: list[Configuration]) -> list[Column]:
    """The metric columns, each shown only if some finished run logged it."""
    present = {key for c in configurations for job in c.finished for key in job.metrics}
    candidates = [
        Column("val/mse", "val/mse"),
        Column("test/mse", "test/mse"),
        Column("test/nmse", "test/nmse"),
        Column("test/mse_over_bayes", "test/mse_over_bayes"),
        *(Column(f"test/mse_{b}", f"test/mse_{b}") for b in BASELINES if b != "bayes"),
        Column("test/mse_bayes", "Bayes limit (test/mse_bayes)"),
        Column("test/psnr", "test/psnr"),
        Column("test/rate_perfect", "test/rate_perfect", percent=True),
        Column("test/rate_acceptable", "test/rate_acceptable", percent=True),
        Column("test/rate_failed", "test/rate_failed", percent=True),
    ]
    return [column for column in candidates if column.key in present]


def format_values(values: list[float], percent: bool = False) -> str:
    """`mean ± sample std` over seeds; one value as it is; none as a dash."""
    if not values:
        return MISSING

    def number(x: float, digits: int) -> str:
        return f"{100 * x:.1f}%" if percent else f"{x:.{digits}g}"

    mean = number(statistics.fmean(values), 4)
    return f"{mean} ± {number(statistics.stdev(values), 2)}" if len(values) > 1 else mean


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def results_table(configurations: list[Configuration]) -> str:
    columns = table_columns(configurations)
    per_seed = any(len(c.jobs) > 1 for c in configurations)
    header = ["configuration", *(["seeds"] if per_seed else []), "status"]
    rows = [
        [
            c.label,
            *([str(len(c.finished))] if per_seed else []),
            c.status,
            *(format_values(c.values(col.key), col.percent) for col in columns),
        ]
        for c in configurations
    ]
    return markdown_table(header + [col.header for col in columns], rows)


def cross_eval_rows(configurations: list[Configuration]) -> list[tuple[str, Configuration]]:
    """(row label, configuration) for the configurations with cross-evaluation metrics.

    A row is named by its training mask; when the sweep varied something else too (several rows
    share a mask), the configuration's label is added so that rows are never averaged together.
    """
    rows = [c for c in configurations if any(c.values(f"test/{mask}/mse") for mask in TEST_MASKS)]
    unique = len({c.train_mask for c in rows}) == len(rows)
    return [(c.train_mask if unique else f"{c.train_mask} ({c.label})", c) for c in rows]


def cross_eval_table(rows: list[tuple[str, Configuration]], metric: str) -> str:
    """test/<mask>/<metric> per training mask (rows) and test mask (columns); the diagonal,
    where the model is tested on the masks it was trained on, in bold."""
    body = []
    for label, c in rows:
        cells = []
        for mask in TEST_MASKS:
            cell = format_values(c.values(f"test/{mask}/{metric}"))
            cells.append(f"**{cell}**" if mask == c.train_mask and cell != MISSING else cell)
        body.append([label, *cells])
    return markdown_table(["train mask \\ test mask", *TEST_MASKS], body)


def render_markdown(
    sweep_dir: Path,
    configurations: list[Configuration],
    shared: list[str],
    figures: dict[str, str | None],
) -> str:
    """The whole report.md. figures: file name -> None if written, else why it was skipped."""
    jobs = [job for c in configurations for job in c.jobs]
    failed = sum(job.failed for job in jobs)
    sources = sorted({job.data_source.rsplit(".", 1)[-1] for job in jobs})
    lines = [
        f"# Sweep report: {sweep_dir.name}",
        "",
        f"{len(jobs)} run(s) in {len(configurations)} configuration(s), {failed} failed. "
        f"Data: {', '.join(sources)}.",
        "",
    ]
    if any(len(c.jobs) > 1 for c in configurations):
        lines += ["Values: mean ± sample standard deviation over the finished seeds.", ""]
    if shared and len(configurations) > 1:
        lines += [f"Overrides shared by every run: `{','.join(shared)}`.", ""]
    lines += [results_table(configurations), ""]
    lines += [
        "mse, nmse, psnr and the rates are on hidden pixels of the test split, best checkpoint "
        "on val/mse. test/mse_<baseline>: a classical predictor on the same images and masks; "
        "the Bayes limit is the best any predictor can do, and test/mse_over_bayes = test/mse / "
        "Bayes limit (1 = optimal).",
        "",
        "## Cross-evaluation: training mask x test mask",
        "",
    ]
    rows = cross_eval_rows(configurations)
    if rows:
        lines += ["test/<mask>/mse:", "", cross_eval_table(rows, "mse"), ""]
        if any(c.values(f"test/{m}/mse_over_bayes") for _, c in rows for m in TEST_MASKS):
            lines += ["test/<mask>/mse_over_bayes:", "", cross_eval_table(rows, "mse_over_bayes")]
            lines.append("")
    else:
        lines += ["No cross-evaluation metrics (test/<mask>/mse) in these runs.", ""]
    lines += ["## Figures", ""]
    for name, skipped in figures.items():
        lines.append(f"- {name}: skipped, {skipped}" if skipped else f"- [{name}]({name})")
    lines += [""] + [f"![{name}]({name})" for name, skipped in figures.items() if not skipped]
    return "\n".join(lines) + "\n"


# --- the figures --------------------------------------------------------------------------------


def new_figure(width: float, height: float):
    """A matplotlib Figure drawn by Agg, without pyplot: no global state, no display needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def wrapped(label: str, width: int = 30, lines: int = 3) -> str:
    """A label on at most `lines` lines, broken after its commas: a long one (a single
    configuration is named by all its overrides) would otherwise crush the plots beside it."""
    short = textwrap.shorten(label.replace(",", ", "), width * lines, placeholder=" …")
    return "\n".join(textwrap.wrap(short, width)) or label


def save(figure, path: Path) -> None:
    figure.savefig(path, dpi=100, bbox_inches="tight")


def plot_val_curves(configurations: list[Configuration], path: Path) -> str | None:
    """val/mse against step for every run (one colour per configuration, one marker per seed),
    and each configuration's baselines as horizontal lines. Returns why it was skipped, if so."""
    figure = new_figure(9, 5)
    axes = figure.add_subplot()
    curves = 0
    many = len(configurations) > 1  # baselines are then named by their configuration
    for index, c in enumerate(configurations):
        colour = f"C{index % 10}"
        for job, marker in zip(c.jobs, itertools.cycle("osD^v<>p*")):  # marker: seed
            points = job.scalars.get("val/mse")
            if not points:
                continue
            steps, values = zip(*points, strict=True)
            label = wrapped(job.label + (" (failed)" if job.failed else ""))
            axes.plot(steps, values, color=colour, marker=marker, markersize=3, label=label)
            curves += 1
        for baseline, style in CURVE_BASELINES.items():
            values = [job.final_value(f"val/mse_{baseline}") for job in c.jobs]
            values = [value for value in values if value is not None]
            if values:
                axes.axhline(
                    statistics.fmean(values),
                    color=colour,
                    linestyle=style,
                    linewidth=1,
                    label=wrapped(f"{c.label}: {baseline}" if many else baseline),
                )
    if curves == 0:
        return "no run logged val/mse"
    axes.set_xlabel("step")
    axes.set_ylabel("val/mse (hidden pixels)")
    axes.set_title("Validation curves; dashed: Bayes limit, dotted: mean fill")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    save(figure, path)
    return None


def plot_cross_eval(configurations: list[Configuration], path: Path) -> str | None:
    """The train-mask x test-mask matrix as an annotated heat map, averaged over seeds: mse over
    the Bayes limit where the runs measured it, else the mse itself."""
    import numpy as np

    rows = cross_eval_rows(configurations)
    if not rows:
        return "no cross-evaluation metrics (test/<mask>/mse) in these runs"

    def matrix(metric: str):
        means = [[c.mean(f"test/{mask}/{metric}") for mask in TEST_MASKS] for _, c in rows]
        return np.array([[np.nan if m is None else m for m in row] for row in means])

    metric = "mse_over_bayes"
    values = matrix(metric)
    if np.isnan(values).all():
        metric = "mse"
        values = matrix(metric)
    figure = new_figure(2 + 1.6 * len(TEST_MASKS), 1.2 + 0.8 * len(rows))
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(values), cmap="viridis")
    middle = np.nanmean(values)
    for (row, column), value in np.ndenumerate(values):
        if not np.isnan(value):
            # Dark text on the bright (high) end of viridis, light text on the dark end.
            colour = "black" if value > middle else "white"
            axes.text(column, row, f"{value:.3g}", ha="center", va="center", color=colour)
    axes.set_xticks(range(len(TEST_MASKS)), TEST_MASKS)
    axes.set_yticks(range(len(rows)), [wrapped(label) for label, _ in rows])
    axes.set_xlabel("test mask")
    axes.set_ylabel("training mask")
    axes.set_title(f"test/<mask>/{metric}, mean over seeds")
    figure.colorbar(image, ax=axes, label=metric)
    save(figure, path)
    return None


@dataclass
class Prediction:
    """A configuration's model on a few of its own test images (numpy arrays)."""

    label: str
    images: np.ndarray  # (k, H, W) in [0, 1]-ish
    masks: np.ndarray  # (k, H, W) bool, True = hidden
    reconstructions: np.ndarray  # (k, H, W)
    attention: np.ndarray  # (heads, N, N): the last layer's weights for the first image


def rebuild_test_data(job: Job, count: int):
    """The job's first `count` test images and masks, made from its config as training made them."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from vit_inpaint.masking import build_masking

    config = OmegaConf.load(job.path / ".hydra" / "config.yaml")
    # paths.output_dir is `${hydra:runtime.output_dir}`, which resolves only inside a Hydra run;
    # the data never needs it, but anything that resolves the config must not trip on it.
    if "paths" in config:
        config.paths.output_dir = str(job.path)
    masking = build_masking(**config.masking)
    datamodule = instantiate(config.data, _partial_=True)(masking=masking)
    datamodule.setup()
    return datamodule.images["test"][:count], datamodule.masks["test"][:count]


def predict(configuration: Configuration, count: int) -> Prediction | None:
    """The first finished seed's best model on `count` test images; None if no model is saved."""
    job = next((job for job in configuration.finished if job.checkpoint), None)
    if job is None:
        return None
    import torch

    from vit_inpaint.module import InpaintingModule

    images, masks = rebuild_test_data(job, count)
    module = InpaintingModule.load_from_checkpoint(job.checkpoint, map_location="cpu")
    module.eval()
    reconstructions = module.inpaint(images, masks)
    with torch.no_grad():
        _, attention = module.model(images[:1], masks[:1], return_attention=True)
    seed = f" (seed {job.seed})" if job.seed is not None else ""
    return Prediction(
        label=configuration.label + seed,
        images=images.numpy(),
        masks=masks.numpy(),
        reconstructions=reconstructions.numpy(),
        attention=attention[-1][0].float().numpy(),
    )


def masked_rgb(image, mask):
    """The image in grey with its hidden pixels in HIDDEN_COLOUR, as an (H, W, 3) RGB array."""
    import numpy as np

    from vit_inpaint.callbacks import HIDDEN_COLOUR  # the colour TensorBoard's images use

    grey = np.repeat(np.clip(image, 0.0, 1.0)[..., None], 3, axis=-1)
    return np.where(mask[..., None], np.array(HIDDEN_COLOUR), grey)


def show(axes, picture, title: str | None = None, **options) -> object:
    # Nearest neighbour: a 4x4 image must show as 16 squares, not a blur.
    image = axes.imshow(picture, interpolation="nearest", **options)
    axes.set_xticks([])
    axes.set_yticks([])
    if title:
        axes.set_title(title, fontsize="small")
    return image


def plot_reconstructions(predictions: list[Prediction], path: Path) -> None:
    """Like the report's figure 12: per configuration (row), per test image,
    original | masked (hidden in red) | reconstruction."""
    count = max(len(p.images) for p in predictions)
    figure = new_figure(1.1 * 3 * count + 2, 1.3 * len(predictions) + 0.4)
    grid = figure.subplots(len(predictions), 3 * count, squeeze=False)
    grey = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    for row, p in enumerate(predictions):
        for i in range(count):
            panels = grid[row, 3 * i : 3 * i + 3]
            if i >= len(p.images):
                for axes in panels:
                    axes.set_axis_off()
                continue
            titles = ("original", "masked", "reconstruction") if row == 0 else (None,) * 3
            show(panels[0], p.images[i], titles[0], **grey)
            show(panels[1], masked_rgb(p.images[i], p.masks[i]), titles[1])
            show(panels[2], p.reconstructions[i], titles[2], **grey)
        grid[row, 0].set_ylabel(
            wrapped(p.label), rotation=0, ha="right", va="center", fontsize="small"
        )
    save(figure, path)


def annotate(axes, weights) -> None:
    """Writes each weight in its cell: near-uniform maps look alike in colour, not in numbers."""
    import numpy as np

    for (query, key), weight in np.ndenumerate(weights):
        colour = "black" if weight > 0.5 else "white"  # readable on both ends of viridis
        axes.text(key, query, f"{weight:.2f}", ha="center", va="center", color=colour, size=7)


def plot_attention(predictions: list[Prediction], path: Path) -> None:
    """Per configuration (row): the first test image, masked, then its last-layer attention map
    for each head (row i of a map: where query patch i looks)."""
    heads = max(len(p.attention) for p in predictions)
    figure = new_figure(1.8 * (heads + 1) + 2, 1.9 * len(predictions) + 0.4)
    grid = figure.subplots(len(predictions), heads + 1, squeeze=False)
    image = None
    for row, p in enumerate(predictions):
        show(grid[row, 0], masked_rgb(p.images[0], p.masks[0]), "input (hidden in red)")
        grid[row, 0].set_ylabel(
            wrapped(p.label), rotation=0, ha="right", va="center", fontsize="small"
        )
        for head in range(heads):
            axes = grid[row, head + 1]
            if head >= len(p.attention):
                axes.set_axis_off()
                continue
            image = show(axes, p.attention[head], f"head {head}", cmap="viridis", vmin=0, vmax=1)
            tokens = range(p.attention.shape[-1])
            axes.set_xticks(tokens)
            axes.set_yticks(tokens)
            if len(tokens) <= MAX_ANNOTATED_TOKENS:
                annotate(axes, p.attention[head])
            axes.set_xlabel("key patch", fontsize="small")
            axes.set_ylabel("query patch", fontsize="small")
    figure.colorbar(image, ax=grid[:, 1:].ravel().tolist(), label="attention weight")
    save(figure, path)


def plot_models(configurations: list[Configuration], sweep_dir: Path) -> dict[str, str | None]:
    """reconstructions.png and attention.png, from each configuration's first finished seed."""
    names = ("reconstructions.png", "attention.png")
    try:
        predictions = [p for c in configurations if (p := predict(c, NUM_PICTURES)) is not None]
    except Exception as error:
        # A checkpoint the current code cannot load (an older run) must not cost the table:
        # the report still gets written, and says why the pictures are missing.
        reason = f"the models could not be run: {type(error).__name__}: {error}"
        return dict.fromkeys(names, reason)
    if not predictions:
        return dict.fromkeys(names, "no finished run with a checkpoint")
    plot_reconstructions(predictions, sweep_dir / names[0])
    plot_attention(predictions, sweep_dir / names[1])
    return dict.fromkeys(names)


# --- entry points -------------------------------------------------------------------------------


def write_report(sweep_dir: Path) -> str:
    """Writes report.md and the figures into `sweep_dir`; returns the Markdown.

    Raises ReportError, before writing anything, if `sweep_dir` is missing or holds no runs.
    """
    sweep_dir = Path(sweep_dir)
    jobs = [read_job(path) for path in find_job_dirs(sweep_dir)]
    configurations, shared = group_jobs(jobs)
    figures = {
        "val_curves.png": plot_val_curves(configurations, sweep_dir / "val_curves.png"),
        "cross_eval.png": plot_cross_eval(configurations, sweep_dir / "cross_eval.png"),
        **plot_models(configurations, sweep_dir),
    }
    markdown = render_markdown(sweep_dir, configurations, shared, figures)
    (sweep_dir / REPORT_FILE).write_text(markdown)
    return markdown


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.report",
        description="Write report.md and figures into a sweep's folder and print the report.",
    )
    parser.add_argument(
        "sweep_dir",
        type=Path,
        help="a multirun folder (outputs/multiruns/<time>) or a run's (outputs/runs/<time>)",
    )
    args = parser.parse_args(argv)
    try:
        markdown = write_report(args.sweep_dir)
    except ReportError as error:
        parser.error(str(error))  # exit code 2, with the usage line
    print(markdown, end="")


if __name__ == "__main__":
    main()
