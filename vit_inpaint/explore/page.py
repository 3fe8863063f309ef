"""What each of the page's events does, from the values the page holds to the values it shows,
without Gradio (app.py only lays the page out and wires these in). Bad input never raises here: a
handler returns `Shown(None, message)` and the page keeps what it showed, with the message."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vit_inpaint.explore import digits, fill_photo, inside_vit, models, pictures
from vit_inpaint.explore.models import ExploreError

ALL_HEADS = "every layer and head"
FIRST_HIDDEN = "the first hidden patch"
CLICK_MODES = ("hide or show the pixel", "paint the pixel")


@dataclass
class Shown:
    values: tuple | None  # what the event's outputs show; None: keep what they showed
    message: str = ""  # "" or "error: ..."


def refused(err: Exception) -> Shown:
    return Shown(None, f"error: {err}")


class Page:
    """The page's models (loaded once, shared by every browser) and its events."""

    def __init__(self, run: str | Path | None = None):
        self.run = run
        self.run_error = ""
        self._models: dict[str, models.ExploredModel] = {}
        self._inpainter = None
        self._lock = threading.Lock()
        self.names = list(models.SHIPPED_MODELS)
        if run is not None:
            self.names.append(self.run_name)

    @property
    def run_name(self) -> str:
        return f"your run: {self.run}"

    def model(self, name: str) -> models.ExploredModel:
        with self._lock:
            if name not in self._models:
                if name == self.run_name:
                    self._models[name] = models.load_run(self.run)
                elif name in models.SHIPPED_MODELS:
                    self._models[name] = models.load_model(models.SHIPPED_MODELS[name])
                else:
                    raise ExploreError(f"no model named {name!r}; pick one of the list")
            return self._models[name]

    def inpainter(self):
        """The shipped photo inpainter (fill/model.py), or RUN='s when it is one of task=inpaint
        made for photos; loaded once."""
        from vit_inpaint.fill.model import load_inpainter
        from vit_inpaint.storage.images import FileError

        with self._lock:
            if self._inpainter is None:
                try:
                    self._inpainter = load_inpainter(None)
                except FileError as err:
                    raise ExploreError(str(err)) from None
            return self._inpainter

    def check_run(self) -> str:
        """Loads RUN= at start: a broken checkpoint is said on the page, the shipped ones stay."""
        if self.run is None:
            return ""
        try:
            self.model(self.run_name)
        except ExploreError as err:
            self.names.remove(self.run_name)
            self.run_error = f"error: RUN={self.run}: {err}; showing the shipped models only"
        return self.run_error

    # "Inside the ViT" ---------------------------------------------------------------------

    def views(self, name: str) -> list[str]:
        model = self.model(name)
        depth, heads = model.network.settings.depth, model.network.settings.heads
        return [ALL_HEADS] + [f"layer {i}, head {h}" for i in range(depth) for h in range(heads)]

    def queries(self, name: str) -> list[str]:
        grid = self.model(name).image_size // self.model(name).patch_size
        return [FIRST_HIDDEN] + [str(i) for i in range(grid * grid)]

    def new_image(self, name, masking, index, lengthscale, seed) -> Shown:
        """A new image of the model's data and the chosen mask: (image, mask)."""
        try:
            model = self.model(name)
            image = inside_vit.sample_image(model, lengthscale, seed)
            return Shown((image, self.chosen_mask(model, masking, index)))
        except ExploreError as err:
            return refused(err)

    def chosen_mask(self, model, masking: str, index: int) -> np.ndarray:
        size, patch = model.image_size, model.patch_size
        if masking == "one pixel":
            return inside_vit.pixel_mask(size, int(index) % (size * size))
        grid = size // patch
        return inside_vit.patch_mask(size, patch, int(index) % (grid * grid))

    def remask(self, name, image, masking, index) -> Shown:
        try:
            model = self.model(name)
            if image is None or image.shape[0] != model.image_size:
                raise ExploreError("draw or sample an image of this model's size first")
            if masking == "clicked pixels":
                return Shown((image, np.zeros_like(image, dtype=bool)))
            return Shown((image, self.chosen_mask(model, masking, index)))
        except ExploreError as err:
            return refused(err)

    def click(self, image, mask, mode, brightness, x, y) -> Shown:
        """A click on the input picture at (x, y): hide or show that pixel, or paint it."""
        if image is None or mask is None:
            return Shown(None, "error: sample an image first")
        row, col = pictures.pixel_at(x, y, image.shape[0])
        if mode == CLICK_MODES[1]:
            image = image.copy()
            image[row, col] = float(brightness)
            mask = mask.copy()
            mask[row, col] = False
            return Shown((image, mask))
        return Shown((image, inside_vit.toggle(mask, row, col)))

    def inside(self, name, image, mask, view, query, fusion, discard, lengthscale) -> Shown:
        """Every picture and sentence of the tab, in app.py's order (INSIDE_OUTPUTS)."""
        try:
            model = self.model(name)
            if image is None or image.shape[0] != model.image_size:
                raise ExploreError("sample an image of this model's size first (New image)")
            layer = head = None
            if view and view != ALL_HEADS:
                layer, head = (int(part.split()[-1]) for part in view.split(","))
            shown = inside_vit.show(
                model, image, mask, None if query in (None, FIRST_HIDDEN) else int(query),
                layer, head, fusion, float(discard), float(lengthscale),
            )  # fmt: skip
        except ExploreError as err:
            return refused(err)
        p, s = shown.pictures, shown.sentences
        return Shown((p["input"], s["input"], p["tokens"], s["tokens"], p.get("attention"),
                      s["attention"], s["lesson"], p.get("rollout"), s.get("rollout", ""),
                      p["fills"], s["fills"]))  # fmt: skip

    # "Fill your photo" --------------------------------------------------------------------

    def open_photo(self, bundled: str | None, upload: str | None) -> Shown:
        """(photo, note): an uploaded file, else a bundled photo, within the size limit."""
        try:
            photo = fill_photo.read_photo(upload) if upload else fill_photo.bundled_photo(bundled)
        except ExploreError as err:
            return refused(err)
        photo, note = fill_photo.within_limit(photo)
        return Shown((photo, note))

    def fill(self, photo, layers, score: bool, out_dir: Path) -> Shown:
        """(side by side, zoom, difference, timing and error lines, [the filled PNG, the mask
        PNG] for download: the mask is what `python -m vit_inpaint.cli.inpaint --mask` takes)."""
        try:
            if photo is None:
                raise ExploreError("open a photo first: pick a bundled one or upload a file")
            mask = fill_photo.painted_mask(layers, photo.shape[:2])
            filled = fill_photo.fill_all(self.inpainter(), photo, mask, score)
        except ExploreError as err:
            return refused(err)
        shown = fill_photo.result_pictures(photo, mask, filled)
        files = [fill_photo.save_png(filled.images["model"], out_dir, "filled"),
                 fill_photo.save_png(mask.astype(np.float64), out_dir, "mask")]  # fmt: skip
        text = fill_photo.timing_line(filled) + "\n\n" + fill_photo.error_line(filled)
        return Shown((shown["whole"], shown["zoom"], shown["difference"], text,
                      [str(f) for f in files]))  # fmt: skip

    # "Digits" -----------------------------------------------------------------------------

    def read_digit(self, layers, test_index, use_test, fusion, discard, composite=None) -> Shown:
        """(the 8x8 digit with its rollout, the probabilities, the sentence)."""
        try:
            if use_test:
                images, labels = digits.test_digits()
                digit = images[int(test_index) % len(images)]
                truth = f" (a test digit labelled {labels[int(test_index) % len(labels)]})"
            else:
                digit, truth = digits.to_digit(digits.ink(layers, composite)), ""
            model = self.digits_model()
            reading = digits.read_digit(model, digit, fusion, float(discard))
        except ExploreError as err:
            return refused(err)
        grid = model.image_size // model.patch_size
        flow = pictures.digit_panels(digit, reading.relevance, model.patch_size)
        bars = pictures.probabilities_panel(reading.probabilities, [str(i) for i in range(10)])
        sentence = digits.reading_sentence(reading, model.temperature, grid) + truth
        return Shown((flow, bars, sentence))

    def digits_model(self) -> models.ExploredModel:
        with self._lock:
            if "digits" not in self._models:
                self._models["digits"] = models.load_model(models.DIGITS_MODEL)
            return self._models["digits"]
