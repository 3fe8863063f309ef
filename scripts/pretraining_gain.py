"""The gain of a pretrained encoder over training from scratch, against the labels a class.

    python scripts/pretraining_gain.py SWEEP [SWEEP ...] --out docs/transfer/pretraining_gain.png

Reads every finished job of the given stage-2 sweeps (experiment=digits_transfer_finetune:
`transfer=scratch` and `transfer=finetune` runs with `data.labels_per_class`), groups them by
labels a class and transfer, and prints and plots test accuracy (mean ± std over seeds) of both
and of the SVM on the same labelled images: where the fine-tuned line leaves the scratch one,
pretraining starts to pay.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import yaml


def runs(sweeps: list[Path]):
    """(labels a class, transfer, seed, metrics) of each finished job."""
    for sweep in sweeps:
        for job in sorted(p for p in sweep.iterdir() if (p / "metrics.json").is_file()):
            overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
            values = dict(o.split("=", 1) for o in overrides if "=" in o)
            labels = values.get("data.labels_per_class", "null")
            metrics = json.loads((job / "metrics.json").read_text())
            yield labels, values.get("transfer", "?"), values.get("seed", "0"), metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    accuracy = defaultdict(list)
    for labels, transfer, _, metrics in runs(args.sweeps):
        accuracy[(labels, transfer)].append(metrics["test/acc"])
        if transfer == "scratch":
            accuracy[(labels, "svm")].append(metrics["test/acc_svm"])
    counts = sorted({int(labels) for labels, _ in accuracy if labels != "null"})
    print("labels a class | scratch | fine-tuned | gain (points) | SVM | seeds")
    rows = []
    for count in counts:
        cells = [accuracy[(str(count), kind)] for kind in ("scratch", "finetune", "svm")]
        if not all(cells):
            continue
        means = [statistics.fmean(c) for c in cells]
        spread = [statistics.stdev(c) if len(c) > 1 else 0.0 for c in cells]
        rows.append((count, means, spread))
        print(
            f"{count} | {means[0]:.3f} ± {spread[0]:.3f} | {means[1]:.3f} ± {spread[1]:.3f} | "
            f"{100 * (means[1] - means[0]):+.1f} | {means[2]:.3f} | {len(cells[0])}"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, axes = plt.subplots(figsize=(5.5, 3.8))
    labels = ("ViT from scratch", "fine-tuned from the ViT inpainter", "RBF SVM")
    for index, label in enumerate(labels):
        axes.errorbar(
            [r[0] for r in rows], [r[1][index] for r in rows], [r[2][index] for r in rows],
            marker="o", capsize=3, label=label,
        )  # fmt: skip
    axes.set_xscale("log")
    axes.set_xticks([r[0] for r in rows], [str(r[0]) for r in rows])
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xlabel("labelled training images a class")
    axes.set_ylabel("test accuracy (mean ± std over seeds)")
    axes.set_title("Digits: what pretraining on every unlabelled image buys", fontsize="medium")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
