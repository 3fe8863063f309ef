"""The report's opening paragraph and glossary (report/findings.py) from made-up metric
tables: no training, no files. Each test is a sweep a user could have run, and the sentence
the report must then open with."""

from __future__ import annotations

from pathlib import Path

from vit_inpaint.report.findings import (
    classify_findings,
    inpaint_findings,
    inpaint_glossary,
)
from vit_inpaint.report.runs import Job, group_jobs

UNIFORM = "vit_inpaint.data.sources.UniformNoise"


def sweep(table: dict[str, list[dict[str, float] | None]], thresholds=None, task="inpaint"):
    """Configurations from {"masking=pixel": [seed 0's metrics, seed 1's, ...]}; None = a seed
    whose run failed. Seeds are overrides only when some configuration has several."""
    seeded = any(len(runs) > 1 for runs in table.values())
    jobs = []
    for override, runs in table.items():
        key, _, value = override.partition("=")
        for seed, metrics in enumerate(runs):
            overrides = {key: value, **({"seed": str(seed)} if seeded else {})}
            jobs.append(
                Job(
                    path=Path(f"{override},seed={seed}"),
                    overrides=overrides,
                    metrics=metrics,
                    train_mask=value,
                    data_source=UNIFORM,
                    task=task,
                    rate_thresholds=thresholds or {"perfect": 0.05, "acceptable": 0.15},
                )
            )
    configurations, _ = group_jobs(jobs)
    return configurations


def noise(ratio: float, bayes: float = 0.0833) -> dict[str, float]:
    """Metrics on i.i.d. pixels: the Bayes limit is the mean fill (nothing to learn)."""
    return {
        "test/mse": ratio * bayes,
        "test/mse_over_bayes": ratio,
        "test/mse_bayes": bayes,
        "test/mse_mean_fill": bayes * 1.0003,
        "test/mse_linear": bayes,
    }


def fields(ratio: float, bayes: float = 0.01) -> dict[str, float]:
    """Metrics on informative data: linear and mean fill far above the Bayes limit."""
    return {
        "test/mse": ratio * bayes,
        "test/mse_over_bayes": ratio,
        "test/mse_bayes": bayes,
        "test/mse_mean_fill": 0.05,
        "test/mse_linear": 0.016,
        "test/mse_biharmonic": 0.02,
    }


def test_models_at_the_noise_floor_are_said_to_be_there_with_their_ratios():
    text = inpaint_findings(sweep({"masking=pixel": [noise(1.004)],
                                   "masking=patch2x2": [noise(1.013)]}))  # fmt: skip

    assert text.startswith("Both models sit at the noise floor: the visible pixels say nothing")
    assert "masking=pixel 1.004 and masking=patch2x2 1.013" in text  # best first
    assert "one seed per configuration the spread over seeds is unknown" in text


def test_noise_the_models_have_not_reached_is_not_called_the_floor():
    text = inpaint_findings(sweep({"masking=pixel": [noise(1.117)],
                                   "masking=patch2x2": [noise(1.004)]}))  # fmt: skip

    assert "sit at the noise floor" not in text
    assert "not every model reaches it" in text
    assert "masking=patch2x2 1.004 and masking=pixel 1.117" in text


def test_a_clear_winner_is_named_against_the_baseline_the_bayes_limit_and_the_seeds():
    tight = [fields(1.04), fields(1.05), fields(1.06)]
    text = inpaint_findings(sweep({"masking=patch2x2": [fields(r) for r in (1.29, 1.30, 1.31)],
                                   "masking=pixel": tight}))  # fmt: skip

    assert text.startswith("masking=pixel is best on test mse / Bayes: test mse 0.0105, ")
    # 0.0105 against linear's 0.016: 34.4% below; 1.05 x Bayes.
    assert "34.4% below the best classical baseline (linear, 0.016)" in text
    assert "1.050 × the Bayes limit (5.0% above it)" in text
    assert "Next comes masking=patch2x2 (test mse / Bayes 1.300 against 1.050)" in text
    assert "(0.25) exceeds the spread over seeds (± 0.01 and ± 0.01 over 3 and 3 seeds)" in text


def test_a_difference_within_the_seed_spread_is_called_so():
    text = inpaint_findings(sweep({"masking=pixel": [fields(1.05), fields(1.25)],
                                   "masking=patch2x2": [fields(1.10), fields(1.30)]}))  # fmt: skip

    assert text.startswith("masking=pixel is best")
    assert "is within the spread over seeds (± 0.14 and ± 0.14 over 2 and 2 seeds)" in text
    assert "these seeds do not tell them apart" in text
    assert "exceeds" not in text


def test_failed_runs_are_named_and_left_out_of_the_findings():
    text = inpaint_findings(sweep({"masking=pixel": [fields(1.05), None],
                                   "masking=patch2x2": [None, None]}))  # fmt: skip

    assert text.startswith("The model (masking=pixel): test mse 0.0105")  # the only one left
    assert text.endswith(
        "3 of 4 runs failed or could not be read (masking=pixel,seed=1, masking=patch2x2,seed=0 "
        "and masking=patch2x2,seed=1) and were left out (see the status column)."
    )
    nothing = inpaint_findings(sweep({"masking=pixel": [None]}))
    assert nothing.startswith("No inpainting run finished: nothing to compare. 1 of 1 runs")


def test_classification_runs_are_compared_by_accuracy_against_pixel_and_bayes_classifiers():
    def run(acc: float) -> dict[str, float]:
        return {"test/acc": acc, "test/nll": 0.4, "test/acc_bayes": 0.95, "test/acc_svm": 0.6,
                "test/acc_logreg": 0.55}  # fmt: skip

    text = classify_findings(sweep({"experiment=scratch": [run(0.84), run(0.86)],
                                    "experiment=finetune": [run(0.89), run(0.91)]},
                                   task="classify"))  # fmt: skip

    assert text.startswith(
        "experiment=finetune classifies best: test accuracy 90.0%, 5.0 points above "
        "experiment=scratch, against 60.0% for the best pixel classifier (svm) and 95.0% for "
        "the Bayes classifier."
    )
    assert "(5 points) exceeds the spread over seeds (± 1.4 points and ± 1.4 points" in text


def test_the_glossary_quotes_the_runs_rate_thresholds():
    metrics = {**noise(1.0), "test/rate_perfect": 0.5, "test/nmse": 1.0, "test/psnr": 10.0}
    glossary = "\n".join(inpaint_glossary(sweep({"masking=pixel": [metrics]},
                                                {"perfect": 0.1, "acceptable": 0.3})))  # fmt: skip

    assert "≤ 0.1 (perfect), in (0.1, 0.3] (acceptable) or > 0.3 (failed)" in glossary
    for term in ("**test mse**", "**Bayes limit**", "**mse / Bayes**", "**nmse**", "**psnr**"):
        assert term in glossary
    # Baselines the runs measured are defined, the others not.
    assert "linear, the best linear predictor" in glossary and "biharmonic" not in glossary


def test_the_glossary_does_not_quote_thresholds_that_differ_between_runs():
    metrics = {**noise(1.0), "test/rate_perfect": 0.5}
    configurations = sweep({"masking=pixel": [metrics]}, {"perfect": 0.1, "acceptable": 0.3})
    configurations += sweep({"masking=patch2x2": [metrics]})

    (rates,) = [line for line in inpaint_glossary(configurations) if "perfect /" in line]
    assert "≤ rate_thresholds.perfect (perfect)" in rates and "different per run" in rates
