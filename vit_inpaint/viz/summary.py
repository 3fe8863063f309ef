"""What the end of a run shows: a few lines on the console (the metrics that matter, where the run
is, how to look at it) and one markdown table of every final metric in TensorBoard's Text tab.
metrics.json keeps every value; this only chooses what a person reads first."""

from __future__ import annotations

from pathlib import Path

# (metric, label) of the console's lines, in order; a run prints the ones it has (inpainting's
# or task=classify's).
HEADLINE = (
    ("val/mse", "val mse (last epoch)"),
    ("test/mse", "test mse"),
    ("test/mse_bayes", "Bayes limit (best possible)"),
    ("test/nmse", "test nmse (1 = mean fill)"),
    ("test/rate_perfect", "perfect"),
    ("test/rate_failed", "failed"),
    ("val/acc", "val accuracy"),
    ("test/acc", "test accuracy"),
    ("test/nll", "test nll"),
    ("test/nll_bayes", "Bayes classifier's nll"),
)
RATES = ("rate_perfect", "rate_acceptable", "rate_failed", "acc")


def formatted(name: str, value: float) -> str:
    """A rate as a percentage, anything else with 4 significant digits."""
    if name.rsplit("/", 1)[-1].startswith(RATES):
        return f"{100 * value:.1f}%"
    return f"{value:.4g}"


def console_summary(metrics: dict[str, float], output_dir: Path) -> str:
    """The lines that end a run, for the log (console and train.log)."""
    shown = [f"{label} {formatted(key, metrics[key])}" for key, label in HEADLINE if key in metrics]
    if metrics.get("test/nll_bayes"):  # data=gaussian_field: how far from the best possible
        shown.append(f"test nll / Bayes {metrics['test/nll'] / metrics['test/nll_bayes']:.3f}x")
    return "\n".join(
        [
            "finished: " + ", ".join(shown),
            f"  run folder:   {output_dir}",
            f"  all metrics:  {output_dir / 'metrics.json'}",
            f"  see it:       {tensorboard_command()} --logdir {output_dir}",
        ]
    )


def markdown_summary(metrics: dict[str, float]) -> str:
    """Every final metric: one row per metric, one column per split or test set (val, test on the
    run's own masks, then the test images under each other kind of mask)."""
    table: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        split, _, name = key.rpartition("/")
        table.setdefault(name, {})[split] = value
    splits = sorted(
        {split for row in table.values() for split in row},
        key=lambda s: (s.count("/"), s != "val", s),
    )
    lines = ["| metric | " + " | ".join(splits) + " |", "| --- |" + " --- |" * len(splits)]
    # The model's own metrics first, then the baselines (mse_<name>) and the split's constants.
    constant = lambda n: n == "coverage" or (n.startswith("mse_") and n != "mse_over_bayes")  # noqa: E731
    for name in sorted(table, key=lambda n: (constant(n), n)):
        cells = [formatted(name, table[name][s]) if s in table[name] else "" for s in splits]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return (
        "Final metrics. val: after the last epoch; test: the best checkpoint on val/mse; "
        "test/&lt;mask&gt;: the test images "
        "under another kind of mask; mse_&lt;name&gt;: a baseline on the same pixels "
        "(mse_bayes: the best possible). Every value is also in the run's metrics.json.\n\n"
        + "\n".join(lines)
    )


def tensorboard_command() -> str:
    """`tensorboard` where the shell finds it (an activated venv), else the venv's own path, so
    the printed line works as typed."""
    import shutil
    import sys
    from pathlib import Path

    if shutil.which("tensorboard"):
        return "tensorboard"
    return str(Path(sys.executable).with_name("tensorboard"))
