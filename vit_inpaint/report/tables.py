"""The sweep report's tables (report/write.py puts them together): a column per metric, a
row per configuration, mean ± sample std over its seeds, the best of a column in bold.

Each task names its columns in tasks/registry.py: the main table's few essentials, with units in
their headers (table_columns, classify_columns), and every metric under its metrics.json key
(all_columns, classify_all_columns). Only the standard library.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from vit_inpaint.report.findings import BASELINES, CLASSIFIERS
from vit_inpaint.report.runs import TEST_MASKS, Configuration

MISSING = "—"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    percent: bool = False
    over: str | None = None  # shown as key / over, per seed (e.g. test acc / Bayes acc)
    # Which way is better: "lower" or "higher" (the best row is bold); None for references
    # (baselines, the Bayes limit), which no configuration is trying to beat.
    better: str | None = None

    def present(self, keys: set[str]) -> bool:
        return self.key in keys and self.over in (None, *keys)

    def values(self, c: Configuration) -> list[float]:
        if self.over is None:
            return c.values(self.key)
        return [
            job.metrics[self.key] / job.metrics[self.over]
            for job in c.finished
            if self.key in job.metrics and job.metrics.get(self.over)
        ]

    def cell(self, c: Configuration) -> str:
        return format_values(self.values(c), self.percent)


@dataclass(frozen=True)
class BestOf(Column):
    """The best of several reference metrics (name -> key) for each configuration, named in the
    cell: "0.0848 (linear)". `key` is unused; `choices` says which metrics compete."""

    choices: tuple[tuple[str, str], ...] = ()
    higher: bool = False  # the best choice is the highest (accuracy), not the lowest (mse)

    def present(self, keys: set[str]) -> bool:
        return any(key in keys for _, key in self.choices)

    def best(self, c: Configuration) -> tuple[str, str] | None:
        scored = [(c.mean(key), name, key) for name, key in self.choices if c.values(key)]
        if not scored:
            return None
        _, name, key = max(scored) if self.higher else min(scored)
        return name, key

    def values(self, c: Configuration) -> list[float]:
        best = self.best(c)
        return c.values(best[1]) if best else []

    def cell(self, c: Configuration) -> str:
        best = self.best(c)
        return f"{super().cell(c)} ({best[0]})" if best else MISSING


def present_keys(configurations: list[Configuration]) -> set[str]:
    return {key for c in configurations for job in c.finished for key in job.metrics}


def table_columns(configurations: list[Configuration]) -> list[Column]:
    """The inpainting main table: the essentials, with units; the glossary defines them."""
    present = present_keys(configurations)
    baselines = tuple((b, f"test/mse_{b}") for b in BASELINES)
    candidates = [
        Column("test/mse", "test mse (pixel² on [0,1])", better="lower"),
        Column("test/mse_over_bayes", "mse / Bayes (1 = optimal)", better="lower"),
        BestOf("", "best classical baseline mse", choices=baselines),
        Column("test/mse_bayes", "Bayes limit mse"),
        Column("test/psnr", "psnr (dB)", better="higher"),
        Column("test/rate_perfect", "perfect (% of images)", percent=True, better="higher"),
        Column("test/rate_failed", "failed (% of images)", percent=True, better="lower"),
    ]
    return [column for column in candidates if column.present(present)]


def all_columns(configurations: list[Configuration]) -> list[Column]:
    """Every inpainting metric of metrics.json beside the test masks' (those are in the
    cross-evaluation), headed by its key there."""
    present = present_keys(configurations)
    candidates = [
        Column("val/mse", "val/mse", better="lower"),
        Column("test/mse", "test/mse", better="lower"),
        Column("test/nmse", "test/nmse", better="lower"),
        Column("test/mse_over_bayes", "test/mse_over_bayes", better="lower"),
        *(Column(f"test/mse_{b}", f"test/mse_{b}") for b in (*BASELINES, "bayes")),
        Column("test/psnr", "test/psnr", better="higher"),
        Column("test/rate_perfect", "test/rate_perfect", percent=True, better="higher"),
        Column("test/rate_acceptable", "test/rate_acceptable", percent=True),
        Column("test/rate_failed", "test/rate_failed", percent=True, better="lower"),
    ]
    return [column for column in candidates if column.present(present)]


# task=classify's columns (tasks/classification.py, evaluation/classifiers.py): the model, its
# ratios to the Bayes classifier (on Gaussian fields), the pixel classifiers, the Bayes one.
CLASSIFY_MAIN = (
    Column("test/acc", "test accuracy", percent=True, better="higher"),
    Column("test/acc", "acc / Bayes (1 = optimal)", over="test/acc_bayes", better="higher"),
    BestOf(
        "",
        "best pixel classifier accuracy",
        percent=True,
        higher=True,
        choices=tuple((b, f"test/acc_{b}") for b in CLASSIFIERS),
    ),
    Column("test/acc_bayes", "Bayes accuracy", percent=True),
    Column("test/nll", "test nll (nats)", better="lower"),
    Column("test/nll", "nll / Bayes (1 = optimal)", over="test/nll_bayes", better="lower"),
    # Temperature scaling (tasks/calibration.py): T fitted on the validation split.
    Column("test/nll_calibrated", "calibrated nll (T from val)", better="lower"),
    Column("test/nll_calibrated", "calibrated nll / Bayes", over="test/nll_bayes", better="lower"),
)
CLASSIFY_ALL = (
    Column("val/acc", "val/acc", percent=True, better="higher"),
    Column("val/nll", "val/nll", better="lower"),
    Column("test/acc", "test/acc", percent=True, better="higher"),
    Column("test/nll", "test/nll", better="lower"),
    # The T the test split was scored with: the tested checkpoint's, fitted on validation (the
    # last epoch's val/temperature belongs to another checkpoint).
    Column("test/temperature", "test/temperature"),
    Column("test/nll_calibrated", "test/nll_calibrated", better="lower"),
    Column("test/ece", "test/ece", better="lower"),
    Column("test/ece_calibrated", "test/ece_calibrated", better="lower"),
    *(
        Column(f"test/{m}_{b}", f"test/{m}_{b}", percent=m == "acc")
        for b in (*CLASSIFIERS, "bayes")
        for m in ("acc", "nll")
    ),
)


def classify_columns(configurations: list[Configuration]) -> list[Column]:
    present = present_keys(configurations)
    return [col for col in CLASSIFY_MAIN if col.present(present)]


def classify_all_columns(configurations: list[Configuration]) -> list[Column]:
    present = present_keys(configurations)
    return [col for col in CLASSIFY_ALL if col.present(present)]


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


def best_rows(means: list[float | None], better: str | None) -> set[int]:
    """The indices of the best mean (ties included); none where fewer than two rows have one or
    all of them tie: a lone value, or a column of equals, has no winner."""
    known = [m for m in means if m is not None]
    if better is None or len(known) < 2:
        return set()
    best = min(known) if better == "lower" else max(known)
    winners = {i for i, m in enumerate(means) if m == best}
    return winners if len(winners) < len(known) else set()


def bold(cell: str, on: bool) -> str:
    return f"**{cell}**" if on else cell


def results_table(configurations: list[Configuration], columns: list[Column] | None = None) -> str:
    columns = table_columns(configurations) if columns is None else columns
    per_seed = any(len(c.jobs) > 1 for c in configurations)
    header = ["configuration", *(["seeds"] if per_seed else []), "status"]
    seeds = [[str(len(c.finished))] if per_seed else [] for c in configurations]
    rows = [[c.label, *n, c.status] for c, n in zip(configurations, seeds, strict=True)]
    for col in columns:
        means = [statistics.fmean(v) if (v := col.values(c)) else None for c in configurations]
        best = best_rows(means, col.better)
        for index, (row, c) in enumerate(zip(rows, configurations, strict=True)):
            row.append(bold(col.cell(c), index in best))
    return markdown_table(header + [col.header for col in columns], rows)


def cross_eval_table(rows: list[tuple[str, Configuration]], metric: str) -> str:
    """test/<mask>/<metric> per training mask (rows) and test mask (columns), the lowest of each
    column in bold: the training mask that fills that kind of hole best."""
    columns = []
    for mask in TEST_MASKS:
        best = best_rows([c.mean(f"test/{mask}/{metric}") for _, c in rows], "lower")
        cells = [format_values(c.values(f"test/{mask}/{metric}")) for _, c in rows]
        columns.append([bold(cell, index in best) for index, cell in enumerate(cells)])
    by_row = zip(*columns, strict=True)
    body = [[label, *cells] for (label, _), cells in zip(rows, by_row, strict=True)]
    return markdown_table(["train mask \\ test mask", *TEST_MASKS], body)
