"""The explorer page's functions, without a browser (make test-fast): attention rollout, masks,
the fills and their errors, the sentences under the pictures, photos and painted masks, digits,
and the page's events turning bad input into a message. Gradio is not needed here."""

from __future__ import annotations

import numpy as np
import pytest

from vit_inpaint.explore import digits, fill_photo, inside_vit, models, page, pictures, words
from vit_inpaint.explore.models import ExploreError

NOISE = "4x4, uniform noise"
FIELDS = "4x4, Gaussian fields"


@pytest.fixture(scope="module")
def explorer():
    return page.Page()


# --- attention rollout --------------------------------------------------------------------


def test_rollout_of_uniform_attention_mixes_every_patch_evenly_but_keeps_the_residual():
    uniform = [np.full((4, 4, 4), 0.25)] * 2
    flow = inside_vit.rollout(uniform)
    assert np.allclose(flow.sum(axis=1), 1.0)
    # each layer: half itself (the residual), half spread evenly: 0.625 on the diagonal, 0.125
    one = 0.5 * np.full((4, 4), 0.25) + 0.5 * np.eye(4)
    assert np.allclose(flow, one @ one)


def test_rollout_follows_attention_that_always_looks_at_one_patch():
    looks_at_2 = np.zeros((1, 3, 3))
    looks_at_2[0, :, 2] = 1.0
    flow = inside_vit.rollout([looks_at_2] * 3)
    assert np.argmax(flow[0]) == 2 and flow[0, 2] > 0.8


def test_rollout_fusions_and_dropped_links_change_the_map():
    rng = np.random.default_rng(0)
    maps = [rng.dirichlet(np.ones(4), size=(2, 4)) for _ in range(2)]  # (heads, N, N)
    mean, top = inside_vit.rollout(maps, "mean"), inside_vit.rollout(maps, "max")
    dropped = inside_vit.rollout(maps, "mean", discard=0.5)
    assert not np.allclose(mean, top) and not np.allclose(mean, dropped)
    for flow in (mean, top, dropped):
        assert np.allclose(flow.sum(axis=1), 1.0)


@pytest.mark.parametrize(("fusion", "discard"), [("median", 0.0), ("mean", 1.0), ("mean", -0.1)])
def test_rollout_refuses_settings_it_has_no_meaning_for(fusion, discard):
    with pytest.raises(ExploreError):
        inside_vit.rollout([np.full((1, 2, 2), 0.5)], fusion, discard)


# --- masks and errors ---------------------------------------------------------------------


def test_masks_hide_the_patch_or_pixel_named_row_by_row():
    mask = inside_vit.patch_mask(8, 2, 5)  # grid 4x4: row 1, column 1
    assert mask.sum() == 4 and mask[2:4, 2:4].all()
    assert inside_vit.pixel_mask(4, 6)[1, 2] and inside_vit.pixel_mask(4, 6).sum() == 1
    assert inside_vit.hidden_patches(mask, 2) == [5]
    with pytest.raises(ExploreError, match="patches 0-15"):
        inside_vit.patch_mask(8, 2, 16)


def test_a_click_hides_a_pixel_and_a_second_click_shows_it_again():
    mask = np.zeros((4, 4), dtype=bool)
    once = inside_vit.toggle(mask, 1, 2)
    assert once[1, 2] and once.sum() == 1 and not mask.any()
    assert not inside_vit.toggle(once, 1, 2).any()


def test_a_click_lands_on_the_pixel_drawn_under_it():
    s = pictures.scale_for(4)
    assert pictures.pixel_at(0, 0, 4) == (0, 0)
    assert pictures.pixel_at(2 * s + 1, 3 * s + 1, 4) == (3, 2)  # x is the column, y the row
    assert pictures.pixel_at(10_000, 10_000, 4) == (3, 3)


@pytest.mark.parametrize("hidden", [0, 16])
def test_nothing_or_everything_hidden_is_refused(hidden):
    mask = np.zeros((4, 4), dtype=bool)
    mask.flat[:hidden] = True
    with pytest.raises(ExploreError, match="hidden"):
        inside_vit.check_hidden(mask)


def test_hidden_error_counts_hidden_pixels_only():
    truth = np.zeros((4, 4))
    filled = np.ones((4, 4))
    mask = inside_vit.pixel_mask(4, 0)
    filled[~mask] = 0.0
    assert inside_vit.hidden_mse(truth, filled, mask) == 1.0
    assert inside_vit.hidden_mse(np.zeros((4, 4, 3)), np.ones((4, 4, 3)), mask) == 1.0


# --- the shipped small models -------------------------------------------------------------


def test_every_shipped_model_loads_with_its_data_and_test_figures(explorer):
    for name, path in models.SHIPPED_MODELS.items():
        assert path.stat().st_size < 1_000_000, f"{path} is not small"
        model = explorer.model(name)
        assert model.task == "inpaint" and model.shows_attention
        assert model.kind == ("uniform_noise" if "noise" in name else "gaussian_field")
        assert "test/mse_over_bayes" in model.metrics
    assert models.DIGITS_MODEL.stat().st_size < 1_000_000
    assert explorer.digits_model().task == "classify"


def test_bayes_fill_on_noise_is_the_mean_and_on_fields_the_exact_mixture(explorer):
    import torch

    from vit_inpaint.data.sources import GaussianField

    noise, fields = explorer.model(NOISE), explorer.model(FIELDS)
    mask = inside_vit.patch_mask(4, 2, 3)
    image = inside_vit.sample_image(noise, 1.0, seed=1)
    assert np.allclose(inside_vit.bayes_fill(noise, image, mask)[mask], 0.5)
    image = inside_vit.sample_image(fields, 2.0, seed=1)
    expected = GaussianField(lengthscales=[0.5, 1.0, 2.0, 4.0]).posterior_mean(
        torch.from_numpy(image[None]).float(), torch.from_numpy(mask[None])
    )[0].numpy()
    assert np.allclose(inside_vit.bayes_fill(fields, image, mask), expected, atol=1e-6)
    assert np.array_equal(inside_vit.bayes_fill(fields, image, mask)[~mask], image[~mask])


def test_smooth_fields_are_smoother_with_a_longer_lengthscale(explorer):
    fields = explorer.model(FIELDS)
    rough = [np.abs(np.diff(inside_vit.sample_image(fields, 0.5, s))).mean() for s in range(20)]
    smooth = [np.abs(np.diff(inside_vit.sample_image(fields, 4.0, s))).mean() for s in range(20)]
    assert np.mean(smooth) < 0.5 * np.mean(rough)


def test_the_noise_model_ignores_what_it_sees_and_the_field_model_follows_it(explorer):
    """The lesson of the tab, measured: on noise the fill hardly changes from image to image (the
    mean is the best answer); on Gaussian fields it moves with the image."""
    mask = inside_vit.patch_mask(4, 2, 0)
    noise_fill, noise_truth = inside_vit.fill_spread(explorer.model(NOISE), mask, 1.0)
    field_fill, field_truth = inside_vit.fill_spread(explorer.model(FIELDS), mask, 1.0)
    assert noise_fill < 0.25 * noise_truth
    assert field_fill > 0.5 * field_truth


def test_the_view_has_every_picture_and_a_sentence_under_each(explorer):
    model = explorer.model(FIELDS)
    image = inside_vit.sample_image(model, 1.0, 0)
    view = inside_vit.show(model, image, inside_vit.patch_mask(4, 2, 0), query=3, layer=1, head=2)
    assert set(view.pictures) == {"input", "tokens", "attention", "rollout", "fills"}
    for picture in view.pictures.values():
        assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[-1] == 3
    assert "query patch 3" in view.sentences["attention"]
    assert "Bayes" in view.sentences["fills"] and "x the Bayes error" in view.sentences["fills"]
    with pytest.raises(ExploreError, match="layers 0-1 and heads 0-3"):
        inside_vit.show(model, image, inside_vit.patch_mask(4, 2, 0), layer=5, head=0)


# --- the sentences ------------------------------------------------------------------------


def test_flat_attention_is_called_flat_with_its_numbers():
    flat = [np.full((2, 4, 4), 0.25) + 0.01 * np.eye(4)]
    text = words.attention_sentence("uniform_noise", flat, 0, 2)
    assert text.startswith("Flat") and "1/4 = 0.25" in text


def test_attention_on_neighbours_is_measured_against_an_even_spread():
    near = np.zeros((1, 4, 4))
    near[0, 0] = [0.0, 0.5, 0.5, 0.0]  # patch 0's neighbours on a 2x2 grid: 1 and 2
    text = words.attention_sentence("gaussian_field", [near], 0, 2)
    assert "Not flat" in text and "(1, 2) get 100%" in text and "50% if it were spread" in text


def test_the_lesson_on_noise_says_the_best_answer_is_the_mean():
    text = words.lesson_sentence("uniform_noise", 0.01, 0.29)
    assert "nothing visible predicts a hidden pixel" in text and "0.5" in text
    assert "neighbouring" not in text
    assert "next to the hole" in words.lesson_sentence("gaussian_field", 0.1, 0.12)


# --- photos -------------------------------------------------------------------------------


def test_a_photo_over_the_limit_is_shrunk_and_the_page_says_so():
    photo = np.random.default_rng(0).random((300, 200, 3))
    shrunk, note = fill_photo.within_limit(photo, max_side=100)
    assert shrunk.shape == (100, 67, 3) and "shrunk to 67x100" in note
    same, none = fill_photo.within_limit(photo, max_side=300)
    assert same is photo and none == ""


def test_a_file_that_is_not_an_image_is_refused_by_name(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ExploreError, match="notes.png"):
        fill_photo.read_photo(text)


def test_the_painted_mask_is_where_the_brush_left_colour_at_the_photo_size():
    layer = np.zeros((50, 40, 4), dtype=np.uint8)
    layer[10:20, 5:15, 3] = 255
    mask = fill_photo.painted_mask([layer], (50, 40))
    assert mask.sum() == 100 and mask[10:20, 5:15].all()
    scaled = fill_photo.painted_mask([layer], (100, 80))  # an editor that halved its canvas
    assert scaled.sum() == 400
    with pytest.raises(ExploreError, match="nothing is painted"):
        fill_photo.check_mask(fill_photo.painted_mask([], (50, 40)))


def test_fills_are_timed_scored_and_keep_visible_pixels(explorer):
    photo = fill_photo.bundled_photo("astronaut")[200:264, 200:264]  # colour
    mask = np.zeros(photo.shape[:2], dtype=bool)
    mask[20:30, 20:30] = True
    filled = fill_photo.fill_all(explorer.inpainter(), photo, mask, score=True)
    assert set(filled.images) == set(fill_photo.METHODS) == set(filled.seconds)
    for image in filled.images.values():
        assert image.shape == photo.shape
        assert np.allclose(image[~mask], photo[~mask], atol=1 / 255)
    assert all(0 <= e < 0.1 for e in filled.errors.values())
    assert "Closest" in fill_photo.error_line(filled)
    shown = fill_photo.result_pictures(photo, mask, filled)
    assert shown["zoom"].shape[1] > shown["whole"].shape[1] // 4  # the hole is blown up


def test_the_zoom_box_surrounds_every_painted_pixel():
    mask = np.zeros((100, 100), dtype=bool)
    mask[10, 20] = mask[50, 60] = True
    rows, cols = fill_photo.zoom_box(mask, margin=5)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (5, 56, 15, 66)


# --- digits -------------------------------------------------------------------------------


def test_a_drawn_digit_is_centred_and_scaled_like_the_data_sets():
    canvas = np.zeros((256, 256, 4), dtype=np.uint8)
    canvas[20:120, 30:50, 3] = 255  # a "1" drawn small in a corner
    digit = digits.to_digit(digits.ink([canvas]))
    assert digit.shape == (8, 8) and digit.max() == 1.0
    assert digit[:, 3:5].sum() > 0.8 * digit.sum()  # the stroke lands in the middle columns
    with pytest.raises(ExploreError, match="nothing is drawn"):
        digits.to_digit(digits.ink([np.zeros((256, 256, 4), dtype=np.uint8)]))
    # Strokes drawn onto the white canvas itself (no layer): read from the composite picture.
    composite = np.full((256, 256, 4), 255, dtype=np.uint8)
    composite[20:120, 30:50, :3] = 0
    from_composite = digits.to_digit(digits.ink([], composite))
    assert np.allclose(from_composite, digit)


def test_the_classifier_reads_test_digits_with_calibrated_probabilities(explorer):
    model = explorer.digits_model()
    images, labels = digits.test_digits()
    right = 0
    for image, label in zip(images[:40], labels[:40], strict=True):
        reading = digits.read_digit(model, image)
        assert np.isclose(reading.probabilities.sum(), 1.0)
        assert np.isclose(reading.relevance.sum(), 1.0)
        right += int(np.argmax(reading.probabilities) == label)
    assert right >= 36  # the model scores about 98% on the test split
    assert 0.2 < model.temperature < 5.0


# --- the page's events: bad input is a message, the rest stays -----------------------------


def test_the_page_events_turn_bad_input_into_a_message(explorer, tmp_path):
    shown = explorer.new_image(NOISE, "2x2 patch", 0, 1.0, 0)
    image, mask = shown.values
    whole = explorer.inside(NOISE, image, mask, page.ALL_HEADS, page.FIRST_HIDDEN, "mean", 0, 1.0)
    assert len(whole.values) == 11 and whole.message == ""
    empty = explorer.inside(NOISE, image, np.zeros_like(mask), page.ALL_HEADS,
                            page.FIRST_HIDDEN, "mean", 0, 1.0)  # fmt: skip
    assert empty.values is None and empty.message.startswith("error: no pixel is hidden")
    full = explorer.inside(NOISE, image, np.ones_like(mask), page.ALL_HEADS,
                           page.FIRST_HIDDEN, "mean", 0, 1.0)  # fmt: skip
    assert full.message.startswith("error: every pixel is hidden")
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\x00" * 100)
    assert explorer.open_photo("camera", str(bad)).message.startswith("error: not a photo")
    photo = explorer.open_photo("camera", None).values[0]
    assert explorer.fill(photo, [], True, tmp_path).message.startswith("error: nothing is painted")
    nothing = explorer.read_digit([], 0, False, "mean", 0)
    assert nothing.values is None and nothing.message.startswith("error: nothing is drawn")


def test_a_broken_run_checkpoint_is_said_and_the_shipped_models_stay(tmp_path):
    broken = tmp_path / "last.ckpt"
    broken.write_bytes(b"not a checkpoint")
    explorer = page.Page(broken)
    message = explorer.check_run()
    assert message.startswith(f"error: RUN={broken}") and "not a checkpoint" in message
    assert explorer.names == list(models.SHIPPED_MODELS)
    missing = page.Page(tmp_path / "nope")
    assert "no such file or folder" in missing.check_run()


def test_a_run_folder_shows_its_model_with_the_data_it_trained_on(tmp_path):
    """RUN= a run folder: its last.ckpt, and its .hydra/config.yaml says what data it saw."""
    import shutil

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / ".hydra").mkdir()
    shutil.copy(models.SHIPPED_MODELS[FIELDS], run / "checkpoints" / "last.ckpt")
    (run / ".hydra" / "config.yaml").write_text(
        "data:\n  images:\n    _target_: vit_inpaint.data.sources.GaussianField\n"
        "    sigma: 0.2\n    lengthscales: [1.0, 2.0]\n"
    )
    model = models.load_run(run)
    assert model.kind == "gaussian_field"  # the shipped file's own record wins over the folder
    assert models.data_summary(
        {"images": {"_target_": "vit_inpaint.data.sources.GaussianField", "lengthscales": [1.0]}}
    ) == {"kind": "gaussian_field", "lengthscales": [1.0]}
    with pytest.raises(ExploreError, match="no checkpoints/last.ckpt"):
        models.run_checkpoint(tmp_path)


# --- the words follow the mask, the controls follow the model -----------------------------


def test_a_one_pixel_mask_is_said_to_be_outside_training_and_far_worse_than_bayes(explorer):
    """One hidden pixel leaves its patch 3 visible pixels: no sentence may say the patch holds no
    values, and the 4x4 fields model (trained on whole 2x2 patches) is measured against Bayes."""
    model = explorer.model(FIELDS)
    image = inside_vit.sample_image(model, 1.0, 0)
    view = inside_vit.show(model, image, inside_vit.pixel_mask(4, 0))
    said = " ".join(view.sentences.values())
    assert "holds no pixel values" not in said and "A hidden patch's values are zeroed" not in said
    assert "keeps 3 visible pixels" in view.sentences["rollout"]
    assert "outside its training" in view.sentences["lesson"]
    assert "far worse than the best possible fill" in view.sentences["lesson"]
    assert "follows the image" not in view.sentences["lesson"]
    assert "with 2x2 patch masks" in view.sentences["fills"]  # the 1.11x names its mask
    whole = inside_vit.show(model, image, inside_vit.patch_mask(4, 2, 0))
    assert "wholly hidden: it holds no pixel values" in whole.sentences["rollout"]
    assert "outside its training" not in whole.sentences["lesson"]


def test_the_noise_lesson_leads_with_the_fill_spread_and_names_its_checkpoint(explorer):
    model = explorer.model(NOISE)
    image = inside_vit.sample_image(model, 1.0, 0)
    lesson = inside_vit.show(model, image, inside_vit.patch_mask(4, 2, 0)).sentences["lesson"]
    assert lesson.startswith("The model answers about 0.5 whatever it sees")
    assert "flat or peaked" in lesson and "explore_noise4.ckpt" in lesson


def test_the_flat_note_says_what_flat_means_not_that_noise_makes_it_flat():
    """The noise model's maps are peaked (up to 1.00) while the sweep's are flat: the note under
    a flat map must hold for both."""
    from vit_inpaint.report.write import FIGURE_NOTES
    from vit_inpaint.viz.figures import flat_note

    note = flat_note(np.full((1, 4, 4), 0.25))
    assert "flat map and a peaked one mean the same" in note and "is the answer" not in note
    assert "is the answer on i.i.d." not in FIGURE_NOTES["attention.png"]


def test_a_patch_number_past_the_models_last_is_refused_not_wrapped(explorer):
    """A 4-patch model: patch 7 used to wrap round to patch 3 silently."""
    image = inside_vit.sample_image(explorer.model(FIELDS), 1.0, 0)
    assert explorer.last_index(FIELDS, "2x2 patch") == 3
    assert explorer.last_index(FIELDS, "one pixel") == 15
    assert explorer.last_index("8x8, Gaussian fields", "2x2 patch") == 15
    shown = explorer.remask(FIELDS, image, "2x2 patch", 7)
    assert shown.values is None and "patches 0-3" in shown.message


def test_a_click_that_hides_a_second_pixel_turns_the_choice_to_clicked_pixels(explorer):
    image = inside_vit.sample_image(explorer.model(FIELDS), 1.0, 0)
    one = inside_vit.pixel_mask(4, 0)
    assert explorer.masking_after_click(FIELDS, "one pixel", one) == "one pixel"
    two = inside_vit.toggle(one, 3, 3)
    assert explorer.masking_after_click(FIELDS, "one pixel", two) == "clicked pixels"
    patch = inside_vit.patch_mask(4, 2, 1)
    assert explorer.masking_after_click(FIELDS, "2x2 patch", patch) == "2x2 patch"
    more = inside_vit.toggle(patch, 3, 3)
    assert explorer.masking_after_click(FIELDS, "2x2 patch", more) == "clicked pixels"
    # choosing "clicked pixels" keeps what is hidden, to click on from there
    kept = explorer.remask(FIELDS, image, "clicked pixels", 0, two)
    assert (kept.values[1] == two).all()
    assert explorer.kind(NOISE) == "uniform_noise"  # the lengthscale is off for this one
