"""The confusion matrix of a classifier as a picture for TensorBoard's Images tab: the callback
conf/task/classify.yaml adds draws the matrix the module kept from its test split."""

from __future__ import annotations

import lightning as L
import numpy as np

# Cells get their counts written in them up to this many classes (beyond, the text is unreadable).
MAX_ANNOTATED_CLASSES = 12


def confusion_picture(matrix: np.ndarray, class_names: list[str], title: str) -> np.ndarray:
    """(H, W, 3) uint8: counts (C, C), rows = true class, columns = predicted class, with axes,
    class names, the counts in the cells and a colour bar."""
    from vit_inpaint.viz.figures import new_figure, pixels

    n = len(class_names)
    size = 2.5 + 0.35 * n
    figure = new_figure(size + 1.0, size)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(n), class_names, fontsize="small", rotation=90 if n > 6 else 0)
    axes.set_yticks(range(n), class_names, fontsize="small")
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title, fontsize="medium")
    if n <= MAX_ANNOTATED_CLASSES:
        high = matrix.max() / 2 if matrix.size else 0
        for (row, col), count in np.ndenumerate(matrix):
            colour = "white" if count > high else "black"
            axes.text(col, row, int(count), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, label="images")
    return pixels(figure)


class ConfusionMatrixImage(L.Callback):
    """test/confusion_matrix in TensorBoard, from the module's `test_confusion` (matrix, title),
    which ClassificationModule sets at the end of its test epoch."""

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        kept = getattr(pl_module, "test_confusion", None)
        experiment = getattr(trainer.logger, "experiment", None)
        if kept is None or not trainer.is_global_zero or not hasattr(experiment, "add_image"):
            return
        matrix, title = kept
        image = confusion_picture(matrix, pl_module.class_names, title)
        experiment.add_image("test/confusion_matrix", image, trainer.global_step, dataformats="HWC")
