"""Where pretraining pays on digits: test accuracy against labels a class and against the number
of unlabelled images the encoder was pretrained on (`make digits-transfer`'s last step).

    python scripts/pretraining_gain.py SWEEP [SWEEP ...] --out pretraining_gain.png

Reads every finished job of the given stage-2 sweeps (experiment=digits_transfer_finetune:
`transfer=scratch|finetune|linear_probe` runs with `data.labels_per_class`; the fine-tuned and
probed ones name their stage-1 checkpoint in `init_from`, whose run says how many images it
pretrained on, `data.num_train`). Prints two tables and draws them side by side: accuracy
against labels a class (from scratch, fine-tuned from the encoder pretrained on the most images,
its linear probe, the SVM on the same labelled images), and against pretraining images at the
labels a class the fewer-image encoders were fine-tuned with (0 images: from scratch).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf


def runs(sweeps: list[Path]):
    """(labels a class, transfer, pretraining images or None, metrics) of each finished job."""
    for sweep in sweeps:
        for job in sorted(p for p in sweep.iterdir() if (p / "metrics.json").is_file()):
            config = OmegaConf.load(job / ".hydra" / "config.yaml")
            init_from = OmegaConf.select(config, "init_from")  # resolves pretrained.sweep, ...
            images = None
            if init_from:
                stage1 = OmegaConf.load(Path(init_from).parents[1] / ".hydra" / "config.yaml")
                images = stage1.data.num_train
            transfer = "scratch" if images is None else config.finetune
            labels = config.data.labels_per_class
            yield labels, transfer, images, json.loads((job / "metrics.json").read_text())


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    accuracy = defaultdict(list)  # (labels a class, transfer, pretraining images) -> accuracies
    for labels, transfer, images, metrics in runs(args.sweeps):
        accuracy[(labels, transfer, images)].append(metrics["test/acc"])
        if transfer == "scratch":
            accuracy[(labels, "svm", None)].append(metrics["test/acc_svm"])
    if not accuracy:
        raise SystemExit(f"error: no finished stage-2 job in {', '.join(map(str, args.sweeps))}")
    most = max((images for _, _, images in accuracy if images is not None), default=None)
    kinds = {
        "ViT from scratch": ("scratch", None),
        f"fine-tuned from the ViT inpainter ({most} images)": ("full", most),
        f"linear probe of it ({most} images)": ("linear_probe", most),
        "RBF SVM": ("svm", None),
    }
    counts = sorted({labels for labels, _, _ in accuracy if labels is not None})
    print("labels a class | " + " | ".join(kinds) + " | gain of fine-tuning (points)")
    by_labels = {}
    for count in counts:
        cells = {kind: accuracy.get((count, *key)) for kind, key in kinds.items()}
        by_labels[count] = {kind: summary(c) for kind, c in cells.items() if c}
        shown = [
            "{:.3f} ± {:.3f}".format(*by_labels[count][kind]) if kind in by_labels[count] else "-"
            for kind in kinds
        ]
        scratch, tuned = (by_labels[count].get(k) for k in list(kinds)[:2])
        gain = f"{100 * (tuned[0] - scratch[0]):+.1f}" if scratch and tuned else "-"
        print(f"{count} | " + " | ".join(shown) + f" | {gain}")
    # Fine-tuned against pretraining images, at each labels a class that has more than one count.
    by_images = {}
    for count in counts:
        tuned = sorted(i for lab, t, i in accuracy if lab == count and t == "full")
        if len(tuned) > 1 and (count, "scratch", None) in accuracy:
            points = [(0, summary(accuracy[(count, "scratch", None)]))]
            points += [(i, summary(accuracy[(count, "full", i)])) for i in tuned]
            by_images[count] = points
            print(f"\n{count} labels a class | pretraining images | test acc | gain (points)")
            for images, (mean, spread) in points:
                gain = 100 * (mean - points[0][1][0])
                print(f"  | {images} | {mean:.3f} ± {spread:.3f} | {gain:+.1f}")
    plot(by_labels, by_images, kinds, args.out)
    print(f"wrote {args.out}")


def plot(by_labels: dict, by_images: dict, kinds: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for kind in kinds:
        counts = [c for c in by_labels if kind in by_labels[c]]
        if counts:
            means, spreads = zip(*(by_labels[c][kind] for c in counts), strict=True)
            left.errorbar(counts, means, spreads, marker="o", capsize=3, label=kind)
    left.set_xscale("log")
    left.set_xticks(list(by_labels), [str(c) for c in by_labels])
    left.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    left.set_xlabel("labelled training images a class")
    left.set_ylabel("test accuracy (mean ± std over seeds)")
    left.set_title("against labels", fontsize="medium")
    for count, points in by_images.items():
        images, stats = zip(*points, strict=True)
        means, spreads = zip(*stats, strict=True)
        right.errorbar(images, means, spreads, marker="o", capsize=3,
                       label=f"fine-tuned, {count} labels a class")  # fmt: skip
        right.axhline(means[0], color="grey", linestyle="--", linewidth=1,
                      label=f"from scratch, {count} labels a class")  # fmt: skip
    right.set_xlabel("unlabelled images the encoder pretrained on (0: none)")
    right.set_title("against pretraining images", fontsize="medium")
    for axes, corner in ((left, "upper left"), (right, "best")):
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize="small", loc=corner)
    figure.suptitle("Digits: where masked-image pretraining pays", fontsize="medium")
    figure.tight_layout()
    figure.savefig(out, dpi=100)


if __name__ == "__main__":
    main()
