"""The lessons in the files a sweep writes: attention.png's input carries the patch grid and the
patch numbers its maps index, a flat map gets its sentence, the reconstructions outline the hole;
TensorBoard's attention card says the same."""

from __future__ import annotations

import numpy as np

from vit_inpaint.report.replay import Prediction
from vit_inpaint.viz.figures import attention_figure, flat_note, new_figure, outline_hidden
from vit_inpaint.viz.tensorboard import head_picture


def prediction(attention: np.ndarray) -> Prediction:
    rng = np.random.default_rng(0)
    masks = np.zeros((1, 4, 4), dtype=bool)
    masks[0, :2, :2] = True
    images = rng.random((1, 4, 4))
    return Prediction("masking=patch2x2", images, masks, images.copy(), attention)


def texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]


def test_a_flat_map_gets_the_sentence_and_a_peaked_one_does_not():
    flat = np.full((4, 4, 4), 0.25) + 0.02 * np.eye(4)
    assert "nothing visible predicts a hidden pixel" in flat_note(flat)
    assert "1/4 = 0.25" in flat_note(flat)
    peaked = flat.copy()
    peaked[0, 0] = [0.7, 0.1, 0.1, 0.1]
    assert flat_note(peaked) is None


def test_attention_png_numbers_the_patches_on_the_input_and_explains_a_flat_map():
    figure = attention_figure([prediction(np.full((2, 4, 4), 0.25))])
    words = texts(figure)
    assert {"0", "1", "2", "3"} <= set(words)  # the patch numbers drawn on the input
    assert any("nothing visible predicts a hidden pixel" in w for w in words)
    peaked = np.zeros((2, 4, 4))
    peaked[..., 1] = 1.0
    assert not any("predicts" in w for w in texts(attention_figure([prediction(peaked)])))


def test_the_hole_is_outlined_along_its_border_only():
    figure = new_figure(2, 2)
    axes = figure.subplots()
    mask = np.zeros((4, 4), dtype=bool)
    mask[1:3, 1:3] = True
    outline_hidden(axes, mask)
    (lines,) = axes.collections
    assert len(lines.get_segments()) == 8  # a 2x2 hole: 2 edges on each of its 4 sides


def test_tensorboards_attention_card_carries_the_flat_sentence_only_when_flat():
    images = np.random.default_rng(0).random((2, 4, 4))
    masks = np.zeros((2, 4, 4), dtype=bool)
    masks[:, :2, :2] = True
    flat = head_picture(images, masks, np.full((2, 4, 4), 0.25), 2, "layer 2, head 0")
    peaked = np.zeros((2, 4, 4))
    peaked[..., 3] = 1.0
    sharp = head_picture(images, masks, peaked, 2, "layer 2, head 0")
    assert flat.shape[0] > sharp.shape[0]  # room for the sentence under the maps
