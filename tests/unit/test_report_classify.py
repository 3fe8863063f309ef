"""The sweep report of task=classify runs, and of a two-stage experiment's folder, from
hand-written run folders (no training): the classification table's numbers, grouped over seeds,
and from-scratch and fine-tuned runs of two sweeps in one report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.test_report_tables import make_job, read, rows
from vit_inpaint.report.write import render_markdown

FIELDS = "vit_inpaint.data.sources.GaussianField"


def make_classify_job(sweep: Path, *overrides: str, metrics: dict[str, float]) -> Path:
    job = make_job(sweep, *overrides, metrics=metrics, source=FIELDS)
    config = json.loads((job / ".hydra" / "config.yaml").read_text())
    config["task"] = {"name": "classify"}
    (job / ".hydra" / "config.yaml").write_text(json.dumps(config))
    return job


# Two seeds whose means, sample stds and ratios are easy by hand.
SEEDS = [
    {"val/acc": 0.9, "val/nll": 0.3, "test/acc": 0.8, "test/nll": 0.4, "test/acc_bayes": 1.0,
     "test/nll_bayes": 0.2, "test/acc_svm": 0.6, "test/nll_svm": 1.0},
    {"val/acc": 0.7, "val/nll": 0.5, "test/acc": 0.9, "test/nll": 0.6, "test/acc_bayes": 0.9,
     "test/nll_bayes": 0.2, "test/acc_svm": 0.6, "test/nll_svm": 1.2},
]  # fmt: skip


def classification_table(markdown: str, every_metric: bool = False) -> dict[str, dict[str, str]]:
    """The Classification section's main table, or its all-metrics table: configuration ->
    {column header: cell}."""
    if every_metric:
        section = markdown.split("## All metrics", 1)[1].split("Classification:", 1)[1]
    else:
        section = markdown.split("## Classification", 1)[1]
    header, *body = rows(section.split("\n\n")[1])
    return {row[0]: dict(zip(header, row, strict=True)) for row in body}


def test_classify_runs_get_a_table_of_accuracy_nll_and_baselines_over_seeds(tmp_path):
    for seed, metrics in enumerate(SEEDS):
        make_classify_job(tmp_path, "task=classify", f"seed={seed}", metrics=metrics)
    configurations, shared = read(tmp_path)
    markdown = render_markdown(tmp_path, configurations, shared, {})
    (row,) = classification_table(markdown).values()
    assert row["seeds"] == "2" and row["status"] == "ok"
    assert row["test accuracy"] == "85.0% ± 7.1%"  # mean 0.85, sample std 0.1 / sqrt(2)
    assert row["test nll (nats)"] == "0.5 ± 0.14"
    # 0.8 / 1.0 and 0.9 / 0.9: per seed, then mean; nll: 2 and 3.
    assert row["acc / Bayes (1 = optimal)"] == "0.9 ± 0.14"
    assert row["nll / Bayes (1 = optimal)"] == "2.5 ± 0.71"
    assert row["best pixel classifier accuracy"] == "60.0% ± 0.0% (svm)"
    assert row["Bayes accuracy"] == "95.0% ± 7.1%"
    (every,) = classification_table(markdown, every_metric=True).values()
    assert every["val/acc"] == "80.0% ± 14.1%"
    assert every["test/nll_svm"] == "1.1 ± 0.14"
    assert every["test/acc_bayes"] == "95.0% ± 7.1%"
    assert "test/acc_logreg" not in every  # not logged: no column
    assert markdown.split("\n\n")[1].startswith("The classifier (task=classify): test accuracy")
    # No inpainting run: no inpainting table, and its note on hidden pixels is left out.
    assert "test/mse" not in markdown and "hidden pixels" not in markdown
    assert "Cross-evaluation" not in markdown  # classifiers are not tested under other masks


def test_calibrated_nll_gets_its_columns_where_runs_logged_it(tmp_path):
    calibrated = [
        {**m, "test/nll_calibrated": nll, "test/temperature": t, "test/ece": 0.1}
        for m, nll, t in zip(SEEDS, (0.3, 0.5), (1.5, 2.5), strict=True)
    ]
    for seed, metrics in enumerate(calibrated):
        make_classify_job(tmp_path, "task=classify", f"seed={seed}", metrics=metrics)
    configurations, shared = read(tmp_path)
    markdown = render_markdown(tmp_path, configurations, shared, {})
    (row,) = classification_table(markdown).values()
    assert row["calibrated nll (T from val)"] == "0.4 ± 0.14"
    assert row["calibrated nll / Bayes"] == "2 ± 0.71"  # 0.3 / 0.2 and 0.5 / 0.2
    (every,) = classification_table(markdown, every_metric=True).values()
    assert every["test/temperature"] == "2 ± 0.71" and every["test/ece"] == "0.1 ± 0"
    assert "test/ece_calibrated" not in every  # not logged: no column


def test_the_reliability_diagram_pools_the_seeds_reliability_files(tmp_path):
    import pytest
    import torch

    from vit_inpaint.report.write import write_report
    from vit_inpaint.tasks.calibration import reliability_bins, reliability_points

    # Two seeds' test splits: pooling their counts is binning all their images at once.
    probabilities = torch.tensor([[0.95, 0.05], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    labels = torch.tensor([0, 1, 0, 1])
    halves = [reliability_bins(probabilities[i : i + 2], labels[i : i + 2]) for i in (0, 2)]
    both = reliability_bins(probabilities, labels)
    pooled = {k: [a + b for a, b in zip(*(h[k] for h in halves), strict=True)] for k in both}
    assert pooled == both
    # The last of 15 bins (confidence >= 14/15) holds the 0.95 only, which is right.
    assert reliability_points(both)[-1] == pytest.approx((0.95, 1.0, 0.25))
    for seed, (metrics, counts) in enumerate(zip(SEEDS, halves, strict=True)):
        job = make_classify_job(tmp_path, "task=classify", f"seed={seed}", metrics=metrics)
        record = {"split": "test", "temperature": 1.0, "raw": counts, "calibrated": counts}
        (job / "reliability.json").write_text(json.dumps(record))
    markdown = write_report(tmp_path)
    assert (tmp_path / "reliability.png").stat().st_size > 0
    assert "[reliability.png](reliability.png): classifiers" in markdown


def test_a_two_stage_folder_reports_both_sweeps_side_by_side(tmp_path):
    """outputs/<experiment>/{pretrain,finetune}: each stage's sweep, one report of both, the
    fine-tuned runs named by their experiment, not by the pretraining folder's path."""
    pretrain, finetune = tmp_path / "pretrain", tmp_path / "finetune"
    for sweep in (pretrain, finetune):
        sweep.mkdir()
        (sweep / "multirun.yaml").write_text("{}\n")
    for seed, metrics in enumerate(SEEDS):
        make_classify_job(pretrain, "experiment=path", "task=classify", f"seed={seed}",
                          metrics=metrics)  # fmt: skip
        better = {**metrics, "test/acc": metrics["test/acc"] + 0.05}
        job = make_classify_job(finetune, "experiment=path_finetune", "task=classify",
                                f"seed={seed}", metrics=better)  # fmt: skip
        # The pretraining folder is a path: Hydra leaves it out of the job's folder name
        # (conf/hydra/default.yaml), not out of its overrides.
        with open(job / ".hydra" / "overrides.yaml", "a") as overrides:
            overrides.write(f"- pretrained.sweep={pretrain}\n")
        inpainting = {"test/mse": 0.02 + seed / 100, "test/mse_over_bayes": 1.1}
        make_job(pretrain, "experiment=path", "task=inpaint", f"seed={seed}",
                 metrics=inpainting, source=FIELDS)  # fmt: skip
    configurations, shared = read(tmp_path)
    markdown = render_markdown(tmp_path, configurations, shared, {})
    table = classification_table(markdown)
    assert table["experiment=path,task=classify"]["test accuracy"] == "85.0% ± 7.1%"
    # The better of two configurations is bold.
    assert table["experiment=path_finetune,task=classify"]["test accuracy"] == "**90.0% ± 7.1%**"
    assert str(pretrain) not in markdown
    inpainting = markdown.split("## Classification")[0]
    (inpaint_row,) = [r for r in rows(inpainting) if r[0] == "experiment=path,task=inpaint"]
    assert inpaint_row[1:3] == ["2", "ok"] and "0.025 ± 0.0071" in inpaint_row
