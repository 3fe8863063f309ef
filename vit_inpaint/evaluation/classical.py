"""Classical inpainting of a whole image, the yardsticks of the photo inpainter:

    biharmonic      scikit-image's inpaint_biharmonic (smooth, solves over each hole's surroundings)
    telea           OpenCV's fast marching method (cv2.INPAINT_TELEA)
    navier_stokes   OpenCV's fluid-dynamics method (cv2.INPAINT_NS)
    neighbour_mean  each hidden pixel gets the mean of its visible 3x3 neighbours, in rings from
                    the hole's border inward (the simplest local fill)

Each takes a (H, W) gray image in [0, 1] and a (H, W) bool mask (True = hidden) and returns a
float64 (H, W) image whose visible pixels are the input's. OpenCV works on 8 bits: its fills are
rounded to 1/255, as a user of cv2.inpaint gets them.
"""

from __future__ import annotations

import numpy as np

OPENCV_RADIUS = 3  # cv2.inpaint's neighbourhood radius, the value its documentation uses


def biharmonic(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from vit_inpaint.evaluation.baselines import biharmonic_image

    return biharmonic_image(image, mask)


def _opencv(image: np.ndarray, mask: np.ndarray, flag_name: str) -> np.ndarray:
    import cv2

    pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    filled = cv2.inpaint(pixels, mask.astype(np.uint8), OPENCV_RADIUS, getattr(cv2, flag_name))
    return np.where(mask, filled / 255.0, image)


def telea(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return _opencv(image, mask, "INPAINT_TELEA")


def navier_stokes(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return _opencv(image, mask, "INPAINT_NS")


def neighbour_mean(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    values = np.where(mask, 0.0, image)
    hidden = mask.copy()
    if hidden.all():
        raise ValueError("the mask hides every pixel: nothing to take a mean of")
    while hidden.any():
        known = np.pad((~hidden).astype(np.float64), 1)
        total = np.pad(values * ~hidden, 1)
        count = sum(
            known[1 + dy : known.shape[0] - 1 + dy, 1 + dx : known.shape[1] - 1 + dx]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
        summed = sum(
            total[1 + dy : total.shape[0] - 1 + dy, 1 + dx : total.shape[1] - 1 + dx]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
        ring = hidden & (count > 0)  # hidden pixels next to a known one
        values[ring] = summed[ring] / count[ring]
        hidden &= ~ring
    return np.where(mask, values, image)


METHODS = {
    "biharmonic": biharmonic,
    "telea": telea,
    "navier_stokes": navier_stokes,
    "neighbour_mean": neighbour_mean,
}
