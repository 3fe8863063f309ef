"""What a sweep found, in words: the report's opening paragraph and the glossary under its main
table, both generated from the runs' numbers, so that they stay true for any sweep.

Each task has its own (tasks/registry.py: report_findings, report_glossary):
    inpaint    at the noise floor (the visible pixels say nothing about the hidden ones), or which
               configuration is closest to the Bayes limit, against the best classical baseline
    classify   which configuration classifies best, against the pixel classifiers and Bayes
and for both, whether the winner's lead exceeds the spread over seeds, and which runs failed.

Only the standard library: the report's `--help` must not wait for torch.
"""

from __future__ import annotations

import statistics

from vit_inpaint.report.runs import Configuration

# The classical predictors (evaluation/baselines.py) in the order the report shows them, each
# with what it predicts for a hidden pixel.
BASELINES = {
    "mean_fill": "the training images' mean pixel, everywhere",
    "visible_mean": "the mean of the image's own visible pixels",
    "biharmonic": "smooth classical inpainting, scikit-image's inpaint_biharmonic",
    "linear": "the best linear predictor from the visible pixels, a Wiener filter fitted to the "
    "data's mean and covariance",
}
CLASSIFIERS = {
    "logreg": "logistic regression on the raw pixels of the same training images",
    "svm": "an RBF support-vector machine on the raw pixels of the same training images",
}
# A model within 2% of the Bayes limit is at it: the tests' 1000 images measure mse to about
# that precision (the cross-evaluation's redrawn masks move it by as much).
AT_LIMIT = 1.02
# The Bayes limit within 2% of filling with the mean: the visible pixels tell (almost) nothing
# about the hidden ones, as with i.i.d. pixels.
NOTHING_TO_LEARN = 0.98


def listing(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def subject(count: int) -> str:
    return {1: "The model", 2: "Both models"}.get(count, f"All {count} models")


def best_of(c: Configuration, keys: dict[str, str], higher: bool) -> tuple[str, float] | None:
    """(name, mean) of the best of `keys` (name -> metric) that `c` measured."""
    scored = [(name, m) for name, key in keys.items() if (m := c.mean(key)) is not None]
    if not scored:
        return None
    return max(scored, key=lambda item: item[1] if higher else -item[1])


def failures(configurations: list[Configuration]) -> str:
    """A sentence naming the runs left out (failed or unreadable); "" if none."""
    jobs = [job for c in configurations for job in c.jobs]
    out = [job.label or c.label for c in configurations for job in c.jobs if job.metrics is None]
    if not out:
        return ""
    verb = "was" if len(out) == 1 else "were"
    return (
        f"{len(out)} of {len(jobs)} runs failed or could not be read ({listing(out)}) and "
        f"{verb} left out (see the status column)."
    )


def seed_verdict(
    best: Configuration, runner: Configuration, key: str, scale: float = 1, unit: str = ""
) -> str:
    """Whether the gap between two configurations on `key` exceeds their spread over seeds: the
    gap between the means against the sum of the two sample standard deviations (their
    mean ± std ranges do not overlap). scale, unit: how the numbers are shown (100, " points")."""
    a, b = best.values(key), runner.values(key)
    pair = f"{best.label} and {runner.label}"
    if len(a) < 2 or len(b) < 2:
        single = [c.label for c, v in ((best, a), (runner, b)) if len(v) < 2]
        which = "per configuration" if len(single) == 2 else f"of {single[0]}"
        return (
            f"With one seed {which} the spread over seeds is unknown: rerun with seed=0,1,2 "
            f"to tell whether the gap between {pair} is more than chance."
        )
    gap = scale * abs(statistics.fmean(a) - statistics.fmean(b))
    sa, sb = statistics.stdev(a), statistics.stdev(b)
    spread = f"± {scale * sa:.2g}{unit} and ± {scale * sb:.2g}{unit}"
    spread += f" over {len(a)} and {len(b)} seeds"
    if gap > scale * (sa + sb):
        return f"The gap between {pair} ({gap:.2g}{unit}) exceeds the spread over seeds ({spread})."
    return (
        f"The gap between {pair} ({gap:.2g}{unit}) is within the spread over seeds ({spread}): "
        "these seeds do not tell them apart."
    )


# --- inpainting ---------------------------------------------------------------------------------


def inpaint_findings(configurations: list[Configuration]) -> str:
    """The opening paragraph for inpainting runs: where the models stand against the Bayes limit
    and the classical baselines, which configuration is best, and whether seeds agree."""
    done = [c for c in configurations if c.values("test/mse")]
    left_out = failures(configurations)
    if not done:
        return " ".join(filter(None, ["No inpainting run finished: nothing to compare.", left_out]))
    if all(c.mean("test/mse_over_bayes") is not None for c in done):
        key, scale = "test/mse_over_bayes", "test mse / Bayes"
    else:  # runs without a Bayes limit (data whose distribution is not known): their nmse
        key = "test/nmse" if all(c.mean("test/nmse") is not None for c in done) else "test/mse"
        scale = key.replace("/", " ")
    ranked = sorted(done, key=lambda c: c.mean(key))
    values = listing([f"{c.label} {c.mean(key):.3f}" for c in ranked])
    if len(done) == 1:
        values = f"{done[0].mean(key):.3f}"
    sentences = []
    if key == "test/mse_over_bayes" and all(nothing_to_learn(c) for c in done):
        at_floor = [c for c in done if c.mean(key) <= AT_LIMIT]
        if len(at_floor) == len(done):
            sentences.append(
                f"{subject(len(done))} sit{'s' * (len(done) == 1)} at the noise floor: the "
                "visible pixels say nothing about the hidden ones (the Bayes limit is no better "
                "than filling with the mean, as with i.i.d. pixels), so there is nothing to "
                f"learn ({scale}: {values})."
            )
        else:
            sentences.append(
                "The visible pixels say nothing about the hidden ones (the Bayes limit is no "
                "better than filling with the mean, as with i.i.d. pixels), so the best any "
                "model can do is that noise floor; "
                + ("no model reaches it" if not at_floor else "not every model reaches it")
                + f" ({scale}: {values}, where 1 is the floor and within "
                f"{100 * (AT_LIMIT - 1):.0f}% counts as reached)."
            )
    else:
        sentences += winner(ranked, key, scale)
    if len(ranked) > 1:
        sentences.append(seed_verdict(ranked[0], ranked[1], key))
    return " ".join([*sentences, left_out]).strip()


def nothing_to_learn(c: Configuration) -> bool:
    bayes, fill = c.mean("test/mse_bayes"), c.mean("test/mse_mean_fill")
    return bayes is not None and bool(fill) and bayes / fill >= NOTHING_TO_LEARN


def winner(ranked: list[Configuration], key: str, scale: str) -> list[str]:
    """The best configuration against the best classical baseline, the Bayes limit and the
    runner-up."""
    best = ranked[0]
    name = f"{best.label} is best on {scale}" if len(ranked) > 1 else f"The model ({best.label})"
    mse = best.mean("test/mse")
    words = [f"{name}: test mse {mse:.4g}"]
    baseline = best_of(best, {b: f"test/mse_{b}" for b in BASELINES}, higher=False)
    if baseline is not None:
        change = 100 * (mse / baseline[1] - 1)
        side = "below" if change < 0 else "above"
        words.append(
            f"{abs(change):.1f}% {side} the best classical baseline ({baseline[0]}, "
            f"{baseline[1]:.4g})"
        )
    ratio = best.mean(key)
    if key == "test/mse_over_bayes":
        # A small gap reads best in percent (5.0% above); a large one as the ratio alone.
        above = f" ({100 * (ratio - 1):.1f}% above it)" if ratio < 1.5 else ""
        words.append(f"{ratio:.3f} × the Bayes limit{above}")
    sentences = [", ".join(words) + "."]
    if len(ranked) > 1:
        runner = ranked[1]
        how = f"{runner.mean(key):.3f} against {ratio:.3f}"
        compared = "each on its own test masks, " if key != "test/mse_over_bayes" else ""
        sentences.append(f"Next comes {runner.label} ({compared}{scale} {how}).")
    return sentences


def inpaint_glossary(configurations: list[Configuration]) -> list[str]:
    """Markdown bullets defining the inpainting metrics these runs logged."""
    present = {key for c in configurations for job in c.finished for key in job.metrics}
    lines = [
        "- **val/mse**: the same on the validation images, after the last epoch (the best "
        "epoch's is what picked the tested checkpoint).",
        "- **test mse**: mean squared error over the hidden pixels of the test images, pixel "
        "values in [0, 1] (so in pixel²); the checkpoint with the best val/mse. Each row is "
        "tested on its own kind of mask, so rows trained on different masks answer different "
        "questions: mse / Bayes puts them on one scale.",
    ]
    if "test/mse_over_bayes" in present or "test/mse_bayes" in present:
        lines += [
            "- **Bayes limit** (test/mse_bayes): the mse of the best possible predictor, the "
            "expected hidden pixels given the visible ones under the data's known distribution "
            "(on uniform noise: 0.5 everywhere). No model can beat it on average.",
            "- **mse / Bayes** (test/mse_over_bayes): test mse divided by the Bayes limit; 1 is "
            "optimal, 1.05 is 5% worse than the best possible.",
        ]
    if "test/nmse" in present:
        lines.append(
            "- **nmse** (test/nmse, all-metrics table): test mse divided by the mse of mean "
            "fill; 1 = no better than a constant, below 1 = the model used the visible pixels."
        )
    baselines = [b for b in BASELINES if f"test/mse_{b}" in present]
    if baselines:
        lines.append(
            "- **best classical baseline**: the lowest test mse of these predictors, scored on "
            "the same images and masks: "
            + "; ".join(f"{b}, {BASELINES[b]}" for b in baselines)
            + "."
        )
    if "test/psnr" in present:
        lines.append("- **psnr** (dB): 10·log10(1 / test mse), peak 1; higher is better.")
    if any(f"test/rate_{r}" in present for r in ("perfect", "acceptable", "failed")):
        lines.append(rates_entry(configurations))
    return lines


def rates_entry(configurations: list[Configuration]) -> str:
    """The rates' definition with the runs' own thresholds (rate_thresholds in their config)."""
    found = {
        tuple(job.rate_thresholds.get(k) for k in ("perfect", "acceptable"))
        for c in configurations
        for job in c.finished
    }
    found.discard((None, None))
    if len(found) == 1 and None not in (pair := next(iter(found))):
        perfect, acceptable = (f"{x:g}" for x in pair)
        note = "(the runs' rate_thresholds)"
    else:  # not recorded, or different per run: named, not quoted
        perfect, acceptable = "rate_thresholds.perfect", "rate_thresholds.acceptable"
        note = "(different per run: see each run's .hydra/config.yaml)" if found else ""
    return (
        "- **perfect / acceptable / failed** (% of test images): each image's RMSE over its "
        f"hidden pixels is ≤ {perfect} (perfect), in ({perfect}, {acceptable}] (acceptable) or "
        f"> {acceptable} (failed) {note}; the three add up to 100%, acceptable is in the "
        "all-metrics table."
    ).replace(" ;", ";")


# --- classification -----------------------------------------------------------------------------


def classify_findings(configurations: list[Configuration]) -> str:
    """The opening sentences for classification runs: the best configuration's accuracy against
    the runner-up, the pixel classifiers and the Bayes classifier, and whether seeds agree."""
    done = [c for c in configurations if c.values("test/acc")]
    left_out = failures(configurations)
    if not done:
        return " ".join(filter(None, ["No classification run finished.", left_out]))
    ranked = sorted(done, key=lambda c: -c.mean("test/acc"))
    best = ranked[0]
    acc = best.mean("test/acc")
    name = f"{best.label} classifies best" if len(ranked) > 1 else f"The classifier ({best.label})"
    words = [f"{name}: test accuracy {100 * acc:.1f}%"]
    if len(ranked) > 1:
        runner = ranked[1]
        gap = 100 * (acc - runner.mean("test/acc"))
        words.append(f"{gap:.1f} points above {runner.label}")
    references = []
    pixel = best_of(best, {b: f"test/acc_{b}" for b in CLASSIFIERS}, higher=True)
    if pixel is not None:
        references.append(f"{100 * pixel[1]:.1f}% for the best pixel classifier ({pixel[0]})")
    bayes = best.mean("test/acc_bayes")
    if bayes is not None:
        references.append(f"{100 * bayes:.1f}% for the Bayes classifier")
    if references:
        words.append("against " + listing(references))
    sentences = [", ".join(words) + "."]
    if len(ranked) > 1:
        sentences.append(seed_verdict(best, ranked[1], "test/acc", scale=100, unit=" points"))
    return " ".join([*sentences, left_out]).strip()


def classify_glossary(configurations: list[Configuration]) -> list[str]:
    present = {key for c in configurations for job in c.finished for key in job.metrics}
    lines = [
        "- **test accuracy** (%): share of test images given their true class; the checkpoint "
        "with the best val/nll.",
        "- **test nll** (nats): mean negative log-likelihood of the true class; lower is better.",
    ]
    if "test/acc_bayes" in present:
        lines.append(
            "- **Bayes**: the best possible classifier, from the data's known distribution; "
            "acc / Bayes and nll / Bayes divide per seed (1 = optimal)."
        )
    classifiers = [b for b in CLASSIFIERS if f"test/acc_{b}" in present]
    if classifiers:
        lines.append(
            "- **best pixel classifier**: the more accurate of "
            + "; ".join(f"{b}, {CLASSIFIERS[b]}" for b in classifiers)
            + "."
        )
    return lines
