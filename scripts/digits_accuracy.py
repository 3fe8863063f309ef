"""The explorer's digits classifier on the whole test split, as the page reads it.

    python scripts/digits_accuracy.py [CKPT]     (default: vit_inpaint/weights/explore_digits.ckpt)

Prints the accuracy over the 360 test digits and the mean probability given to the true class
(temperature-scaled, as the page shows them).
"""

from __future__ import annotations

import argparse

import numpy as np

from vit_inpaint.explore import digits, models


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python scripts/digits_accuracy.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ckpt", nargs="?", default=models.DIGITS_MODEL, help="the classifier")
    model = models.load_model(parser.parse_args(argv).ckpt)
    images, labels = digits.test_digits()
    readings = [digits.read_digit(model, image) for image in images]
    chosen = np.array([np.argmax(r.probabilities) for r in readings])
    truth = np.array([r.probabilities[label] for r, label in zip(readings, labels, strict=True)])
    print(f"{model.source}: test accuracy {np.mean(chosen == labels):.4f} on {len(labels)} "
          f"digits; temperature {model.temperature:.3f}; mean p(true class) {truth.mean():.3f}")


if __name__ == "__main__":
    main()
