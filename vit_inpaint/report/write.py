"""The sweep report: `python -m vit_inpaint.cli.report <multirun folder>` (or a run's folder).

Reads, for every job folder of a Hydra multirun (a subfolder holding `.hydra/`):
    .hydra/overrides.yaml, .hydra/config.yaml   what the job ran (its training mask, its data)
    metrics.json                                 its final metrics; absent = the job FAILED
    events.out.tfevents.*                        its TensorBoard scalars (the val/mse curve)
    checkpoints/epoch*.ckpt, else last.ckpt      its model, for the pictures

Writes into that same folder:
    report.md            what the sweep found, in words (report/findings.py); the main table,
                         one row per run, or per configuration with mean ± std over seeds when
                         seeds were swept, with units and a glossary, best values in bold; the
                         train-mask x test-mask matrix, its diagonal explained; every metric in a
                         second table (report/tables.py); the figures, each with a line
    val_curves.png       val/mse against step, every run, the Bayes limit and mean fill drawn once
    seed_curves.png      val/mse_over_bayes, val/acc, val/nll against step: mean ± std over seeds
    cross_eval.png       the train-mask x test-mask matrix as a heat map, if cross-evaluated
    reconstructions.png  original | masked (hidden in red) | reconstruction, per configuration
    attention.png        last-layer attention maps, one panel per head, per configuration
    optimization_history.png, param_importances.png   an Optuna search's (search_report.py),
                         with the best trial as a command and a table of every trial
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
import tempfile
from pathlib import Path

from vit_inpaint.report.runs import (
    TEST_MASKS,
    Configuration,
    ReportError,
    cross_eval_rows,
    find_job_dirs,
    group_jobs,
    read_job,
)
from vit_inpaint.report.search_report import FIGURE_NOTES as SEARCH_FIGURE_NOTES
from vit_inpaint.report.search_report import search_section
from vit_inpaint.report.tables import cross_eval_table, results_table
from vit_inpaint.tasks.registry import TASKS

REPORT_FILE = "report.md"
FIGURE_FILES = (
    "val_curves.png",
    "seed_curves.png",
    "cross_eval.png",
    "reconstructions.png",
    "attention.png",
    "reliability.png",
)
# How many test images per configuration the reconstruction figure shows.
NUM_PICTURES = 4


# What each kind of test mask hides (data/masking.py EVAL_MASKINGS).
MASK_WORDS = {
    "pixel": "one pixel",
    "patch2x2": "one 2x2 patch of the model's 2x2 patch grid",
    "block2x2": "a 2x2 square at any offset (it may straddle patches)",
}


def cross_eval_section(configurations: list[Configuration]) -> list[str]:
    """The train-mask x test-mask matrices, with what their rows, columns, bold cells and
    diagonal mean, and why the diagonal is not the main table's test mse."""
    lines = ["## Cross-evaluation: training mask x test mask", ""]
    rows = cross_eval_rows(configurations)
    if not rows:
        return lines + ["No cross-evaluation metrics (test/<mask>/mse) in these runs.", ""]
    masks = "; ".join(f"{m}, {MASK_WORDS[m]}" for m in TEST_MASKS if m in MASK_WORDS)
    lines += [
        "Each model (row: the mask it was trained on) tested on every kind of mask (column), on "
        f"the same test images. Test masks: {masks}. **Bold**: the lowest value of each column, "
        "the training mask that fills that kind of hole best.",
        "",
    ]
    # The diagonal against the main table: the same images and kind of mask, other positions.
    pairs = [
        f"{c.train_mask}: {diagonal:.4g} here, {main:.4g} there"
        for _, c in rows
        if (diagonal := c.mean(f"test/{c.train_mask}/mse")) is not None
        and (main := c.mean("test/mse")) is not None
    ]
    if pairs:
        lines += [
            "The diagonal (a model tested on the kind of mask it was trained on) is not the "
            f"main table's test mse ({'; '.join(pairs)}): both score the same test images "
            "under the same kind of mask, but this matrix draws the holes anew, from a random "
            "stream of its own, so they fall on other pixels. The difference is how much the "
            "test mse moves with where the holes fall, not a different model or image set.",
            "",
        ]
    lines += ["test/<mask>/mse:", "", cross_eval_table(rows, "mse"), ""]
    if any(c.values(f"test/{m}/mse_over_bayes") for _, c in rows for m in TEST_MASKS):
        lines += ["test/<mask>/mse_over_bayes (1 = the Bayes limit of that test set):", ""]
        lines += [cross_eval_table(rows, "mse_over_bayes"), ""]
    return lines


# A line on each figure, for a reader who has not seen the code.
FIGURE_NOTES = {
    "val_curves.png": "val/mse of every run against the training step, with the Bayes limit and "
    "mean fill as labelled reference lines: one per configuration where their validation masks "
    "give them other levels, and the mean over seeds where each seed has its own validation "
    "images (so a run can end just below it)",
    "seed_curves.png": "per configuration, val/mse / Bayes (and val accuracy and nll for "
    "classifiers) against the step: the mean over seeds, ± one standard deviation shaded when "
    "there are several",
    "cross_eval.png": "the cross-evaluation matrix as a heat map; outlined cells are the diagonal",
    "reconstructions.png": "test images: original, masked (hidden pixels in red), the model's "
    "reconstruction, the hole outlined in yellow; each configuration's best checkpoint on "
    "val/mse, first seed",
    "attention.png": "last-layer attention of each head for one test image (row: a query patch, "
    "column: a key patch, numbered on the input's patch grid); best checkpoint on val/mse, first "
    "seed. A flat map (every weight near 1/N) means each query gathers every patch alike. On "
    "i.i.d. pixels neither a flat map nor a peaked one is a bug: nothing visible predicts a "
    "hidden pixel, so the best fill is the mean wherever attention looks, and the lesson is in "
    "the fill (about 0.5 whatever the model sees), not in the map",
    "reliability.png": "classifiers: test accuracy against confidence in 15 bins, pooled over "
    "seeds, raw and temperature-scaled (T fitted on validation); on the diagonal, a predicted "
    "probability is as often right as it says",
}
BOLD_NOTE = (
    "- **Bold**: the best configuration of a column where lower or higher is better (lowest mse "
    "or nll, highest psnr or accuracy); references (baselines, Bayes) are never bold."
)


def render_markdown(
    sweep_dir: Path,
    configurations: list[Configuration],
    shared: list[str],
    figures: dict[str, str | None],
    search: list[str] = (),
) -> str:
    """The whole report.md. figures: file name -> None if written, else why it was skipped;
    search: the section on an Optuna search (report/search_report.py), if it was one."""
    jobs = [job for c in configurations for job in c.jobs]
    failed = sum(job.failed for job in jobs)
    unreadable = sum(job.unreadable is not None for job in jobs)
    sources = sorted({job.data_source.rsplit(".", 1)[-1] for job in jobs})
    # One table per task (tasks/registry.py); the main table even when no run finished.
    by_task: dict[str, list[Configuration]] = {}
    for c in configurations:
        by_task.setdefault(c.task, []).append(c)
    tasks = [
        (entry, by_task.get(name, []))
        for name, entry in TASKS.items()
        if by_task.get(name) or (entry.report_heading is None and not configurations)
    ]
    findings = " ".join(entry.findings(of_task) for entry, of_task in tasks)
    lines = [f"# Sweep report: {sweep_dir.name}", "", findings, ""]
    lines += search
    lines += [
        f"{len(jobs)} run(s) in {len(configurations)} configuration(s), {failed} failed"
        + (f", {unreadable} unreadable (left out)" if unreadable else "")
        + f". Data: {', '.join(sources)}.",
        "",
    ]
    if any(len(c.jobs) > 1 for c in configurations):
        lines += ["Values: mean ± sample standard deviation over the finished seeds.", ""]
    if shared and len(configurations) > 1:
        lines += [f"Overrides shared by every run: `{','.join(shared)}`.", ""]
    for entry, of_task in tasks:
        lines += [f"## {entry.report_heading or 'Results'}", ""]
        lines += [results_table(of_task, entry.table_columns(of_task)), ""]
        lines += [*entry.glossary(of_task), BOLD_NOTE, ""]
    # Only inpainting models are tested under other masks: a classification sweep has none.
    if not configurations or any(entry.reconstructs for entry, _ in tasks):
        lines += cross_eval_section(configurations)
    lines += ["## All metrics", ""]
    for entry, of_task in tasks:
        if entry.report_heading is not None:
            lines += [f"{entry.report_heading}:", ""]
        lines += [results_table(of_task, entry.all_columns(of_task)), ""]
    lines += ["Each run's metrics.json holds these and every test/<mask>/ metric.", ""]
    lines += ["## Figures", ""]
    for name, skipped in figures.items():
        note = FIGURE_NOTES.get(name) or SEARCH_FIGURE_NOTES.get(name)
        link = f"[{name}]({name})" + (f": {note}" if note else "")
        lines.append(f"- {name}: skipped, {skipped}" if skipped else f"- {link}")
    lines += [""] + [f"![{name}]({name})" for name, skipped in figures.items() if not skipped]
    return "\n".join(lines) + "\n"


def plot_models(
    configurations: list[Configuration], files: dict[str, io.BytesIO]
) -> dict[str, str | None]:
    """reconstructions.png and attention.png, drawn into `files` (name -> PNG bytes), from each
    configuration's first finished seed."""
    from vit_inpaint.report.replay import predict
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
    attending = [p for p in predictions if p.attention is not None]
    if not attending:
        return {names[0]: None, names[1]: "no model of this sweep has attention maps"}
    plot_attention(attending, files[names[1]])
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
    from vit_inpaint.report.figures import plot_cross_eval, plot_seed_curves, plot_val_curves
    from vit_inpaint.report.reliability import plot_reliability
    from vit_inpaint.storage.atomic import write_all_atomic

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
    if any(not TASKS[c.task].reconstructs for c in configurations if c.task in TASKS):
        # Classifiers only: an inpainting sweep's report does not list it as skipped.
        figures["reliability.png"] = plot_reliability(configurations, files["reliability.png"])
    search, search_figures = search_section(sweep_dir, job_dirs, files)
    figures.update(search_figures)
    markdown = render_markdown(sweep_dir, configurations, shared, figures, search)
    outputs = {
        sweep_dir / name: files[name].getvalue() for name, skip in figures.items() if not skip
    }
    try:
        write_all_atomic({**outputs, sweep_dir / REPORT_FILE: markdown})
    except OSError as error:
        reason = error.strerror or str(error)
        raise ReportError(f"{sweep_dir}: cannot write the report ({reason})") from error
    return markdown
