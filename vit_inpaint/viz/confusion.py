"""The confusion matrix of a classifier as a picture for TensorBoard's Images tab."""

from __future__ import annotations

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
