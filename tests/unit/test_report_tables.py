"""The sweep report's tables from hand-written run folders (no training, no figures): how runs
are read and grouped into configurations, mean ± std over seeds, failed runs, the train-mask x
test-mask matrix and the Markdown around them. test_report.py checks the same on real sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vit_inpaint.report.runs import (
    ReportError,
    cross_eval_rows,
    find_job_dirs,
    group_jobs,
    read_job,
)
from vit_inpaint.report.tables import (
    all_columns,
    cross_eval_table,
    format_values,
    results_table,
)
from vit_inpaint.report.write import render_markdown

UNIFORM = "vit_inpaint.data.sources.UniformNoise"


def make_job(
    sweep: Path,
    *overrides: str,
    metrics: dict[str, float] | None,
    mask: str = "patch2x2",
    source: str = UNIFORM,
) -> Path:
    """A job folder as Hydra and train() leave it; metrics=None: the job failed."""
    job = sweep / ",".join(sorted(overrides))
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    config = {"masking": {"name": mask}, "data": {"images": {"_target_": source}}}
    (job / ".hydra" / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    if metrics is not None:
        (job / "metrics.json").write_text(json.dumps(metrics))
    return job


def read(sweep: Path):
    return group_jobs([read_job(path) for path in find_job_dirs(sweep)])


def rows(markdown: str) -> list[list[str]]:
    """The cells of a Markdown table, header first (the --- rule dropped)."""
    table = [line.strip("|").split("|") for line in markdown.splitlines()]
    return [[cell.strip() for cell in row] for row in table if row[0].strip() != "---"]


# Two seeds per mask: values picked so that mean and sample std are easy to check by hand.
PIXEL = [
    {"val/mse": 0.1, "test/mse": 0.25, "test/psnr": 10.0, "test/rate_failed": 0.1},
    {"val/mse": 0.3, "test/mse": 0.35, "test/psnr": 12.0, "test/rate_failed": 0.3},
]
PATCH = [
    {"val/mse": 0.2, "test/mse": 0.4, "test/psnr": 9.0, "test/rate_failed": 0.5},
    {"val/mse": 0.2, "test/mse": 0.4, "test/psnr": 9.0, "test/rate_failed": 0.5},
]


@pytest.fixture
def seeds_sweep(tmp_path) -> Path:
    for mask, runs in (("pixel", PIXEL), ("patch2x2", PATCH)):
        for seed, metrics in enumerate(runs):
            make_job(
                tmp_path,
                f"masking={mask}",
                f"seed={seed}",
                "debug=tiny",
                metrics=metrics,
                mask=mask,
            )
    return tmp_path


def test_seeds_are_one_row_with_mean_and_sample_std(seeds_sweep):
    configurations, shared = read(seeds_sweep)

    assert [c.label for c in configurations] == ["masking=patch2x2", "masking=pixel"]
    assert shared == ["debug=tiny"]  # shown once above the table, not on every row
    header, *body = rows(results_table(configurations, all_columns(configurations)))
    assert header == [
        "configuration",
        "seeds",
        "status",
        "val/mse",
        "test/mse",
        "test/psnr",
        "test/rate_failed",
    ]
    # Sample std (n - 1): stdev(0.1, 0.3) = 0.1414, stdev(10, 12) = 1.414, printed to 2 digits.
    # Bold: the best mean of a column (lower mse and failure rate, higher psnr); val/mse ties.
    assert body == [
        ["masking=patch2x2", "2", "ok", "0.2 ± 0", "0.4 ± 0", "9 ± 0", "50.0% ± 0.0%"],
        ["masking=pixel", "2", "ok", "0.2 ± 0.14", "**0.3 ± 0.071**", "**11 ± 1.4**",
         "**20.0% ± 14.1%**"],
    ]  # fmt: skip


def test_the_main_table_has_the_essentials_with_units(seeds_sweep):
    configurations, _ = read(seeds_sweep)

    header, *body = rows(results_table(configurations))

    assert header == [
        "configuration",
        "seeds",
        "status",
        "test mse (pixel² on [0,1])",
        "psnr (dB)",
        "failed (% of images)",
    ]
    assert body[1] == ["masking=pixel", "2", "ok", "**0.3 ± 0.071**", "**11 ± 1.4**",
                       "**20.0% ± 14.1%**"]  # fmt: skip


def test_the_best_classical_baseline_is_named_and_references_are_never_bold(tmp_path):
    for mask, linear in (("pixel", 0.02), ("patch2x2", 0.05)):
        metrics = {"test/mse": 0.03, "test/mse_mean_fill": 0.04, "test/mse_linear": linear,
                   "test/mse_bayes": linear / 2}  # fmt: skip
        make_job(tmp_path, f"masking={mask}", metrics=metrics, mask=mask)

    table = {row[0]: row for row in rows(results_table(read(tmp_path)[0]))}

    assert table["configuration"][2:] == [
        "test mse (pixel² on [0,1])", "best classical baseline mse", "Bayes limit mse",
    ]  # fmt: skip
    assert table["masking=pixel"][2:] == ["0.03", "0.02 (linear)", "0.01"]
    assert table["masking=patch2x2"][2:] == ["0.03", "0.04 (mean_fill)", "0.025"]


def test_failed_runs_are_marked_and_the_other_seeds_averaged(tmp_path):
    make_job(tmp_path, "masking=pixel", "seed=0", metrics=PIXEL[0], mask="pixel")
    make_job(tmp_path, "masking=pixel", "seed=1", metrics=None, mask="pixel")
    make_job(tmp_path, "masking=patch2x2", "seed=0", metrics=None)
    make_job(tmp_path, "masking=patch2x2", "seed=1", metrics=None)

    configurations, _ = read(tmp_path)
    body = {row[0]: row for row in rows(results_table(configurations))[1:]}

    assert body["masking=pixel"][1:4] == ["1", "1 of 2 failed", "0.25"]  # one seed: no "±"
    assert body["masking=patch2x2"][1:3] == ["0", "failed"]
    assert set(body["masking=patch2x2"][3:]) == {"—"}
    markdown = render_markdown(tmp_path, configurations, [], {})
    assert "4 run(s) in 2 configuration(s), 3 failed." in markdown
    findings = markdown.split("\n\n")[1]  # the paragraph under the title
    assert findings.startswith("The model (masking=pixel): test mse 0.25.")
    assert "3 of 4 runs failed or could not be read" in findings


def test_a_single_run_has_no_seed_column_and_plain_values(tmp_path):
    run = tmp_path / "run"
    make_job(tmp_path, "model.depth=3", metrics={"val/mse": 0.123456, "test/mse": 0.5})
    (tmp_path / "model.depth=3").rename(run)

    assert find_job_dirs(run) == [run]  # a run folder is its own one job
    configurations, shared = read(run)

    header, row = rows(results_table(configurations, all_columns(configurations)))
    assert header == ["configuration", "status", "val/mse", "test/mse"]
    assert row == ["model.depth=3", "ok", "0.1235", "0.5"]  # 4 significant digits, no bold


def test_jobs_are_grouped_by_every_override_but_the_seed(tmp_path):
    for seed in (10, 9, 2):  # numeric order, not the folders' alphabetical one
        for lr in ("0.001", "0.01"):
            make_job(
                tmp_path,
                f"optimizer.lr={lr}",
                "masking=pixel",
                f"seed={seed}",
                metrics={"test/mse": seed / 100},
                mask="pixel",
            )

    configurations, shared = read(tmp_path)

    assert [c.label for c in configurations] == ["optimizer.lr=0.001", "optimizer.lr=0.01"]
    assert shared == ["masking=pixel"]
    for configuration in configurations:
        assert [job.seed for job in configuration.jobs] == ["2", "9", "10"]
        assert configuration.values("test/mse") == [0.02, 0.09, 0.1]
    # A job's own label names what tells it from the other jobs, its seed included.
    lr = configurations[0].label
    assert [job.label for job in configurations[0].jobs] == [f"{lr},seed={s}" for s in (2, 9, 10)]


def test_read_job_takes_what_the_run_ran_from_its_hydra_record(tmp_path):
    job = make_job(
        tmp_path,
        "data=photos",
        "masking=block2x2",
        "seed=3",
        metrics={"val/mse": 1, "test/mse": 0.5},
        mask="block2x2",
        source="vit_inpaint.data.sources.Photos",
    )

    read_back = read_job(job)

    assert read_back.overrides == {"data": "photos", "masking": "block2x2", "seed": "3"}
    assert list(read_back.overrides) == ["data", "masking", "seed"]  # command-line order
    assert read_back.train_mask == "block2x2" and read_back.data_source.endswith(".Photos")
    assert read_back.metrics == {"val/mse": 1.0, "test/mse": 0.5}
    assert isinstance(read_back.metrics["val/mse"], float) and not read_back.failed
    (job / "metrics.json").unlink()
    assert read_job(job).failed and read_job(job).metrics is None


def test_a_metrics_file_that_is_not_flat_numbers_marks_the_job_unreadable_by_name(tmp_path):
    job = make_job(tmp_path, "seed=0", metrics=None)
    (job / "metrics.json").write_text('{"val/mse": {"nested": 1}}')
    read = read_job(job)  # one unreadable job must not block the report of the others
    assert read.metrics is None and not read.failed
    assert "metrics.json: not a flat JSON object of numbers" in read.unreadable


def test_folders_without_jobs_are_refused(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        find_job_dirs(tmp_path / "missing")
    (tmp_path / "notes").mkdir()
    with pytest.raises(ReportError, match="holds no job folders"):
        find_job_dirs(tmp_path)
    make_job(tmp_path, "seed=0", metrics=None)
    assert [p.name for p in find_job_dirs(tmp_path)] == ["seed=0"]  # notes/ is no job


def cross_metrics(**mse: float) -> dict[str, float]:
    return {"test/mse": 0.5, **{f"test/{mask}/mse": value for mask, value in mse.items()}}


def test_cross_eval_matrix_bolds_the_best_of_each_test_mask_and_averages_seeds(tmp_path):
    for seed, (a, b) in enumerate([(0.1, 0.3), (0.3, 0.5)]):
        make_job(
            tmp_path,
            "masking=pixel",
            f"seed={seed}",
            metrics=cross_metrics(pixel=a, patch2x2=b),
            mask="pixel",
        )
        make_job(
            tmp_path,
            "masking=patch2x2",
            f"seed={seed}",
            metrics=cross_metrics(pixel=a + 0.05, patch2x2=b + 0.1, block2x2=0.7),
        )

    configurations, _ = read(tmp_path)
    header, *body = rows(cross_eval_table(cross_eval_rows(configurations), "mse"))

    assert header == ["train mask \\ test mask", "pixel", "patch2x2", "block2x2"]
    # Rows in the columns' order (the own-mask cells on the diagonal); bold is the lowest of a
    # column, here off the diagonal for patch2x2; a column of one value has no winner.
    assert body == [
        ["pixel", "**0.2 ± 0.14**", "**0.4 ± 0.14**", "—"],  # never tested on block2x2
        ["patch2x2", "0.25 ± 0.14", "0.5 ± 0.14", "0.7 ± 0"],
    ]


def test_cross_eval_rows_sharing_a_training_mask_keep_their_configuration(tmp_path):
    for depth in (1, 2):
        make_job(
            tmp_path,
            "masking=pixel",
            f"model.depth={depth}",
            metrics=cross_metrics(pixel=depth / 10),
            mask="pixel",
        )
    make_job(tmp_path, "masking=patch2x2", "model.depth=1", metrics={"test/mse": 0.5})

    configurations, _ = read(tmp_path)
    labels = [label for label, _ in cross_eval_rows(configurations)]

    # Never averaged together; the run without cross-evaluation has no row.
    assert labels == ["pixel (masking=pixel,model.depth=1)", "pixel (masking=pixel,model.depth=2)"]


def test_the_diagonal_is_explained_against_the_main_table(tmp_path):
    metrics = {**cross_metrics(pixel=0.2, patch2x2=0.3), "test/mse": 0.25}
    make_job(tmp_path, "masking=pixel", metrics=metrics, mask="pixel")

    markdown = render_markdown(tmp_path, *read(tmp_path), {})

    assert (
        "The diagonal (a model tested on the kind of mask it was trained on) is not the main "
        "table's test mse (pixel: 0.2 here, 0.25 there): both score the same test images under "
        "the same kind of mask, but this matrix draws the holes anew"
    ) in markdown


def test_markdown_report_says_what_it_holds(seeds_sweep):
    configurations, shared = read(seeds_sweep)
    figures = {"val_curves.png": None, "cross_eval.png": "no cross-evaluation metrics"}

    markdown = render_markdown(seeds_sweep, configurations, shared, figures)

    title, findings, *_ = markdown.split("\n\n")
    assert title == f"# Sweep report: {seeds_sweep.name}"
    # What the sweep found comes first, in words (tests/unit/test_findings.py: which words).
    assert findings.startswith("masking=pixel is best on test mse: test mse 0.3.")
    assert "(0.1) exceeds the spread over seeds (± 0.071 and ± 0 over 2 and 2 seeds)" in findings
    # The main table, its glossary and what bold means; every metric in a second table.
    assert "- **test mse**: mean squared error over the hidden pixels" in markdown
    assert "- **Bold**: the best configuration of a column" in markdown
    assert results_table(configurations, all_columns(configurations)) in markdown.split(
        "## All metrics")[1]  # fmt: skip
    assert "4 run(s) in 2 configuration(s), 0 failed. Data: UniformNoise." in markdown
    assert "mean ± sample standard deviation over the finished seeds" in markdown
    assert "Overrides shared by every run: `debug=tiny`." in markdown
    assert results_table(configurations) in markdown
    assert "No cross-evaluation metrics (test/<mask>/mse) in these runs." in markdown
    assert "- [val_curves.png](val_curves.png): val/mse of every run" in markdown
    assert "![val_curves.png](val_curves.png)" in markdown
    assert "- cross_eval.png: skipped, no cross-evaluation metrics" in markdown
    assert "![cross_eval.png]" not in markdown


@pytest.mark.parametrize(
    "values,percent,expected",
    [
        ([], False, "—"),
        ([0.123456], False, "0.1235"),  # 4 significant digits
        ([1234.5678], False, "1235"),
        ([0.0001234], False, "0.0001234"),
        ([1.0, 2.0, 3.0], False, "2 ± 1"),  # sample std (n - 1): population std would be 0.82
        ([0.0912, 0.0935], False, "0.09235 ± 0.0016"),
        ([0.25], True, "25.0%"),
        ([0.072, 0.08], True, "7.6% ± 0.6%"),
    ],
)
def test_format_values(values, percent, expected):
    assert format_values(values, percent) == expected
