"""Where pretraining pays on digits: test accuracy against labels a class and against the number
of unlabelled images the encoder was pretrained on (`make digits-transfer`'s last step).

    python scripts/pretraining_gain.py SWEEP [SWEEP ...] --out pretraining_gain.png

Reads every finished job of the given stage-2 sweeps (experiment=digits_transfer_finetune:
runs from scratch, fine-tuned and probed, with `data.labels_per_class`; the fine-tuned and probed
ones name their stage-1 checkpoint in `init_from`, whose run says how many images it pretrained
on, `data.num_train`, and with which model). Writes two tables to the .md beside the figure
(and prints them), and draws them side by side: accuracy against labels a class (from scratch,
each way of starting from the encoder pretrained on the most images, the SVM on the same
labelled images), and against pretraining images where fine-tuned runs start from encoders of
more than one size (0 images: from scratch). Both files are written atomically, and a .md
there that this script did not write is never replaced.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf

from vit_inpaint.storage.atomic import write_all_atomic

SCRATCH, SVM = "ViT from scratch", "RBF SVM on the pixels"
# The tables' first line: how an earlier tables file of this script is known (and replaced; a
# user's own notes.md beside --out notes.png never is).
HEADING = "Test accuracy, mean ± std (seeds);"


def start_name(config, stage1) -> str:
    """How a run started from a stage-1 encoder: 'fine-tuned from the vit inpainter (layer decay
    0.75)', 'linear probe of the mae inpainter', ..."""
    model = stage1.model.name
    if config.finetune == "linear_probe":
        return f"linear probe of the {model} inpainter"
    decay = OmegaConf.select(config, "optimizer.layer_decay", default=1.0)
    rates = f" (layer decay {decay:g})" if decay < 1 else ""
    return f"fine-tuned from the {model} inpainter{rates}"


def runs(sweeps: list[Path]):
    """(labels a class, how it started, pretraining images or None, metrics) of each finished
    job."""
    for sweep in dict.fromkeys(p.resolve() for p in sweeps):  # a sweep named twice counts once
        if not sweep.is_dir():
            raise SystemExit(f"error: {sweep} is not a folder")
        for job in sorted(p for p in sweep.iterdir() if (p / "metrics.json").is_file()):
            config = OmegaConf.load(job / ".hydra" / "config.yaml")
            init_from = OmegaConf.select(config, "init_from")  # resolves pretrained.sweep, ...
            if init_from and not Path(init_from).is_absolute():  # relative to where it ran
                launched = OmegaConf.load(job / ".hydra" / "hydra.yaml").hydra.runtime.cwd
                init_from = str(Path(launched) / init_from)
            labels = OmegaConf.select(config, "data.labels_per_class")
            metrics = json.loads((job / "metrics.json").read_text())
            if "test/acc" not in metrics:
                raise SystemExit(f"error: {job} is not a classifier's run (no test/acc)")
            if not init_from:
                yield labels, SCRATCH, None, metrics
                continue
            stage1_config = Path(init_from).parents[1] / ".hydra" / "config.yaml"
            if not stage1_config.is_file():
                raise SystemExit(f"error: {job} started from {init_from}, whose run is gone")
            stage1 = OmegaConf.load(stage1_config)
            yield labels, start_name(config, stage1), stage1.data.num_train, metrics


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def cell(values: list[float] | None) -> str:
    if not values:
        return "-"
    mean, spread = summary(values)
    return f"{mean:.3f} ± {spread:.3f} ({len(values)})" if len(values) > 1 else f"{mean:.3f} (1)"


def main() -> None:
    args = parse_args()
    accuracy = gather(args.sweeps)
    lines, by_labels, by_images, kinds = tables_of(accuracy)
    text = "\n".join(lines) + "\n"
    print(text)
    tables = args.out.with_suffix(".md")
    try:  # both or neither, each whole
        write_all_atomic({tables: text, args.out: plot(by_labels, by_images, kinds)})
    except OSError as err:
        raise SystemExit(f"error: --out {args.out}: cannot write there ({err.strerror})") from None
    print(f"wrote {args.out} and {tables}")


def parse_args() -> argparse.Namespace:
    """The sweeps and --out, refused in one line before anything is read: --out not a .png, in
    no folder, or whose tables (.md beside it) would replace a file this script did not write."""
    parser = argparse.ArgumentParser()
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="the figure (.png); tables: .md")
    args = parser.parse_args()
    if args.out.suffix != ".png" or args.out.is_dir():
        raise SystemExit(f"error: --out {args.out}: give a .png file (its tables go beside, .md)")
    if not args.out.parent.is_dir():
        raise SystemExit(f"error: --out {args.out}: no folder {args.out.parent}")
    tables = args.out.with_suffix(".md")
    if os.path.lexists(tables) and not _written_here(tables):
        raise SystemExit(
            f"error: --out {args.out}: its tables would replace {tables}, a file this script did "
            "not write; name another --out"
        )
    return args


def gather(sweeps: list[Path]) -> dict:
    """(labels a class, start, pretraining images) -> the test accuracies of its runs (and the
    SVM's, beside each run from scratch)."""
    accuracy = defaultdict(list)
    for labels, start, images, metrics in runs(sweeps):
        accuracy[(labels, start, images)].append(metrics["test/acc"])
        if start == SCRATCH and "test/acc_svm" in metrics:
            accuracy[(labels, SVM, None)].append(metrics["test/acc_svm"])
    if not accuracy:
        raise SystemExit(f"error: no finished stage-2 job in {', '.join(map(str, sweeps))}")
    return accuracy


def tables_of(accuracy: dict) -> tuple[list[str], dict, dict, list[str]]:
    """The tables' lines, and what the figure draws: accuracy by labels a class (each kind of
    start), by pretraining images, and the kinds of start in the order of the columns."""
    most = max((images for _, _, images in accuracy if images is not None), default=None)
    starts = sorted({start for _, start, images in accuracy if images is not None})
    kinds = {SCRATCH: (SCRATCH, None), **{f"{s} ({most} images)": (s, most) for s in starts}}
    kinds[SVM] = (SVM, None)
    counts = sorted({labels for labels, _, _ in accuracy}, key=lambda c: (c is None, c))
    lines, by_labels = labels_table(accuracy, kinds, counts)
    by_images = {}
    for count in counts:
        for start in starts:
            points = images_points(accuracy, count, start)
            if points:
                by_images[(count, start)] = points
                lines += images_table(points, count, start)
    return lines, by_labels, by_images, list(kinds)


def labels_table(accuracy: dict, kinds: dict, counts: list) -> tuple[list[str], dict]:
    """Accuracy against labels a class, a column per kind of start, the points each pretrained
    start gains over scratch in brackets; and the same cells by labels a class."""
    lines = [f"{HEADING} [points over scratch] for pretrained starts.", ""]
    lines += ["| labels a class | " + " | ".join(kinds) + " |"]
    lines += ["| --- " * (len(kinds) + 1) + "|"]
    by_labels = {}
    for count in counts:
        cells = {kind: accuracy.get((count, *key)) for kind, key in kinds.items()}
        by_labels[count] = {kind: c for kind, c in cells.items() if c}
        scratch = cells[SCRATCH]
        shown = []
        for kind, values in cells.items():
            text = cell(values)
            if values and scratch and kind not in (SCRATCH, SVM):
                text += f" [{100 * (summary(values)[0] - summary(scratch)[0]):+.1f}]"
            shown.append(text)
        name = "all" if count is None else str(count)
        lines.append(f"| {name} | " + " | ".join(shown) + " |")
    return lines, by_labels


def images_points(accuracy: dict, count, start: str) -> list | None:
    """(pretraining images, accuracies) of one start at `count` labels a class, 0 images being
    scratch: only where that start has encoders of more than one size, and runs from scratch."""
    sizes = sorted(i for lab, s, i in accuracy if lab == count and s == start)
    if len(sizes) < 2 or not accuracy.get((count, SCRATCH, None)):
        return None
    scratch = [(0, accuracy[(count, SCRATCH, None)])]
    return scratch + [(i, accuracy[(count, start, i)]) for i in sizes]


def images_table(points: list, count, start: str) -> list[str]:
    """One start's accuracy against pretraining images, and its gain over scratch."""
    lines = ["", f"{start}, {count} labels a class, against pretraining images:", ""]
    lines += ["| pretraining images | test acc | gain (points) |"]
    lines += ["| --- | --- | --- |"]
    for images, values in points:
        gain = 100 * (summary(values)[0] - summary(points[0][1])[0])
        lines.append(f"| {images} | {cell(values)} | {gain:+.1f} |")
    return lines


def _written_here(path: Path) -> bool:
    """Whether `path` is a tables file this script wrote (its first line), which it replaces."""
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as file:
        return file.readline(200).startswith(HEADING.encode())


def plot(by_labels: dict, by_images: dict, kinds: list[str]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    colours = dict(zip(kinds, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    # One accuracy scale for both panels: the right one's differences read as large as they are.
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2), sharey=True)
    numbered = [c for c in by_labels if c is not None]
    for kind in kinds:
        counts = [c for c in numbered if kind in by_labels[c]]
        if counts:
            stats = [summary(by_labels[c][kind]) for c in counts]
            seeds = max(len(by_labels[c][kind]) for c in counts)
            label = f"{kind}, {seeds} seeds"
            left.errorbar(counts, [m for m, _ in stats], [s for _, s in stats], marker="o",
                          capsize=3, color=colours[kind], label=label)  # fmt: skip
    left.set_xscale("log")
    left.set_xticks(numbered, [str(c) for c in numbered])
    left.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    left.set_xlabel("labelled training images a class")
    left.set_ylabel("test accuracy (mean ± std over seeds)")
    left.set_title("against labels", fontsize="medium")
    # Colours the left panel does not use: a label count is not one of its series.
    others = plt.rcParams["axes.prop_cycle"].by_key()["color"][len(kinds) :]
    for ((count, start), points), colour in zip(by_images.items(), others * 4, strict=False):
        images = [i for i, _ in points]
        stats = [summary(v) for _, v in points]
        label = f"{start}, {count} labels a class"
        right.errorbar(images, [m for m, _ in stats], [s for _, s in stats], marker="o",
                       capsize=3, color=colour, label=label)  # fmt: skip
    right.set_xlabel("unlabelled pretraining images (0: from scratch)")
    right.set_title("against pretraining images", fontsize="medium")
    if not by_images:
        right.text(0.5, 0.5, "no fine-tuned runs from encoders\nof more than one size",
                   ha="center", va="center", transform=right.transAxes)  # fmt: skip
    for axes in (left, right):
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            # Below the axes: the lines meet at 10 labels, where a legend inside would hide them.
            axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16))
    figure.suptitle("Digits: test accuracy with and without masked-image pretraining",
                    fontsize="medium")  # fmt: skip
    figure.tight_layout()
    png = io.BytesIO()
    figure.savefig(png, dpi=100, format="png")
    plt.close(figure)
    return png.getvalue()


if __name__ == "__main__":
    try:
        main()
    except SystemExit as stop:
        if not isinstance(stop.code, str):
            raise
        # A refusal: its one `error:` line on stderr and exit status 2, as the other commands.
        print(stop.code, file=sys.stderr)
        raise SystemExit(2) from None
