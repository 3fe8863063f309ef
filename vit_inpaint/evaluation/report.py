"""The sweep report: `python -m vit_inpaint.cli.report <multirun folder>` (or a run's folder).

Reads, for every job folder of a Hydra multirun (a subfolder holding `.hydra/`):
    .hydra/overrides.yaml, .hydra/config.yaml   what the job ran (its training mask, its data)
    metrics.json                                 its final metrics; absent = the job FAILED
    events.out.tfevents.*                        its TensorBoard scalars (the val/mse curve)
    checkpoints/epoch*.ckpt, else last.ckpt      its model, for the pictures

Writes into that same folder:
    report.md            one row per run, or per configuration with mean ± std over seeds when
                         seeds were swept; the train-mask x test-mask matrix; links to the figures
    val_curves.png       val/mse against step, every run, with baselines as dashed lines
    seed_curves.png      val/mse_over_bayes, val/acc, val/nll against step: mean ± std over seeds
    cross_eval.png       the train-mask x test-mask matrix as a heat map, if cross-evaluated
    reconstructions.png  original | masked (hidden in red) | reconstruction, per configuration
    attention.png        last-layer attention maps, one panel per head, per configuration
and prints the Markdown to stdout. Jobs that differ only in `seed=` are one configuration.
Runs of task=classify get their own table (accuracy, NLL, the pixel classifiers and the Bayes
classifier). A folder holding sweeps (a two-stage experiment's pretrain/ and finetune/) is
reported as one sweep: its from-scratch and fine-tuned runs side by side.
A job whose files cannot be read (a metrics.json that is a folder, a config.yaml that is not YAML)
is marked "unreadable: <why>" in the table and the others are reported as usual. Every file is
written atomically, and all of them only once everything is drawn: a failure leaves the previous
report and figures as they were. A folder the report cannot write into is refused first.

Only the standard library is imported here; torch, Lightning, TensorBoard and matplotlib are
imported inside the functions that need them, so `--help` and a bad path answer at once.
"""

from __future__ import annotations

import io
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vit_inpaint.evaluation.runs import (
    TEST_MASKS,
    Configuration,
    ReportError,
    cross_eval_rows,
    find_job_dirs,
    group_jobs,
    read_job,
)
from vit_inpaint.tasks.registry import TASKS

REPORT_FILE = "report.md"
FIGURE_FILES = (
    "val_curves.png",
    "seed_curves.png",
    "cross_eval.png",
    "reconstructions.png",
    "attention.png",
)
# The baselines (evaluation/baselines.py) in the order the table shows them.
BASELINES = ("mean_fill", "visible_mean", "biharmonic", "linear", "bayes")
# How many test images per configuration the reconstruction figure shows.
NUM_PICTURES = 4
MISSING = "—"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    percent: bool = False
    over: str | None = None  # shown as key / over, per seed (e.g. test acc / Bayes acc)

    def values(self, c: Configuration) -> list[float]:
        if self.over is None:
            return c.values(self.key)
        return [
            job.metrics[self.key] / job.metrics[self.over]
            for job in c.finished
            if self.key in job.metrics and job.metrics.get(self.over)
        ]


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


# task=classify's columns (tasks/classification.py, evaluation/classifiers.py): the model, its
# ratios to the Bayes classifier (on Gaussian fields), the pixel classifiers, the Bayes one.
CLASSIFY_COLUMNS = (
    Column("val/acc", "val/acc"),
    Column("val/nll", "val/nll"),
    Column("test/acc", "test/acc"),
    Column("test/nll", "test/nll"),
    Column("test/acc", "acc / Bayes", over="test/acc_bayes"),
    Column("test/nll", "nll / Bayes", over="test/nll_bayes"),
    *(Column(f"test/{m}_{b}", f"test/{m}_{b}") for b in ("logreg", "svm") for m in ("acc", "nll")),
    Column("test/acc_bayes", "Bayes acc (test/acc_bayes)"),
    Column("test/nll_bayes", "Bayes nll (test/nll_bayes)"),
)


def classify_columns(configurations: list[Configuration]) -> list[Column]:
    present = {key for c in configurations for job in c.finished for key in job.metrics}
    return [col for col in CLASSIFY_COLUMNS if col.key in present and col.over in (None, *present)]


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


def results_table(configurations: list[Configuration], columns: list[Column] | None = None) -> str:
    columns = table_columns(configurations) if columns is None else columns
    per_seed = any(len(c.jobs) > 1 for c in configurations)
    header = ["configuration", *(["seeds"] if per_seed else []), "status"]
    rows = [
        [
            c.label,
            *([str(len(c.finished))] if per_seed else []),
            c.status,
            *(format_values(col.values(c), col.percent) for col in columns),
        ]
        for c in configurations
    ]
    return markdown_table(header + [col.header for col in columns], rows)


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
    unreadable = sum(job.unreadable is not None for job in jobs)
    sources = sorted({job.data_source.rsplit(".", 1)[-1] for job in jobs})
    lines = [
        f"# Sweep report: {sweep_dir.name}",
        "",
        f"{len(jobs)} run(s) in {len(configurations)} configuration(s), {failed} failed"
        + (f", {unreadable} unreadable (left out)" if unreadable else "")
        + f". Data: {', '.join(sources)}.",
        "",
    ]
    if any(len(c.jobs) > 1 for c in configurations):
        lines += ["Values: mean ± sample standard deviation over the finished seeds.", ""]
    if shared and len(configurations) > 1:
        lines += [f"Overrides shared by every run: `{','.join(shared)}`.", ""]
    # One table per task (tasks/registry.py); the main table even when no run finished.
    by_task: dict[str, list[Configuration]] = {}
    for c in configurations:
        by_task.setdefault(c.task, []).append(c)
    for name, entry in TASKS.items():
        of_task = by_task.get(name, [])
        if not of_task and (entry.report_heading is not None or configurations):
            continue
        if entry.report_heading is not None:
            lines += [f"## {entry.report_heading}", ""]
        lines += [results_table(of_task, entry.table_columns(of_task)), ""]
        lines += [entry.report_note, ""]
    lines += [
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


def plot_models(
    configurations: list[Configuration], files: dict[str, io.BytesIO]
) -> dict[str, str | None]:
    """reconstructions.png and attention.png, drawn into `files` (name -> PNG bytes), from each
    configuration's first finished seed."""
    from vit_inpaint.evaluation.replay import predict
    from vit_inpaint.viz.figures import plot_attention, plot_reconstructions

    names = ("reconstructions.png", "attention.png")
    filling = [c for c in configurations if c.task in TASKS and TASKS[c.task].reconstructs]
    try:
        predictions = [p for c in filling if (p := predict(c, NUM_PICTURES)) is not None]
    except Exception as error:
        # A checkpoint the current code cannot load (an older run) must not cost the table:
        # the report still gets written, and says why the pictures are missing.
        reason = f"the models could not be run: {type(error).__name__}: {error}"
        return dict.fromkeys(names, reason)
    if not predictions:
        return dict.fromkeys(names, "no finished run with a checkpoint")
    plot_reconstructions(predictions, files[names[0]])
    plot_attention(predictions, files[names[1]])
    return dict.fromkeys(names)


def check_writable(sweep_dir: Path) -> None:
    """ReportError unless a file can be made in `sweep_dir` (tried for real: a read-only file
    system, or permissions, which os.access misjudges for root)."""
    try:
        with tempfile.TemporaryFile(dir=sweep_dir):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ReportError(f"{sweep_dir}: cannot write the report into it ({reason})") from error


def write_report(sweep_dir: Path) -> str:
    """Writes report.md and the figures into `sweep_dir`; returns the Markdown.

    Raises ReportError, before writing anything, if `sweep_dir` is missing, holds no runs or
    cannot be written into. The figures are drawn in memory and written with report.md, each
    file atomically, so a failure leaves the previous report and figures in place.
    """
    from vit_inpaint.storage.atomic import write_all_atomic
    from vit_inpaint.viz.figures import plot_cross_eval, plot_seed_curves, plot_val_curves

    sweep_dir = Path(sweep_dir)
    job_dirs = find_job_dirs(sweep_dir)
    check_writable(sweep_dir)
    jobs = [read_job(path) for path in job_dirs]
    configurations, shared = group_jobs(jobs)
    # matplotlib writes PNG into a file object as it would into a file.
    files = {name: io.BytesIO() for name in FIGURE_FILES}
    figures = {
        "val_curves.png": plot_val_curves(configurations, files["val_curves.png"]),
        "seed_curves.png": plot_seed_curves(configurations, files["seed_curves.png"]),
        "cross_eval.png": plot_cross_eval(configurations, files["cross_eval.png"]),
        **plot_models(configurations, files),
    }
    markdown = render_markdown(sweep_dir, configurations, shared, figures)
    outputs = {
        sweep_dir / name: files[name].getvalue() for name, skip in figures.items() if not skip
    }
    try:
        write_all_atomic({**outputs, sweep_dir / REPORT_FILE: markdown})
    except OSError as error:
        reason = error.strerror or str(error)
        raise ReportError(f"{sweep_dir}: cannot write the report ({reason})") from error
    return markdown
