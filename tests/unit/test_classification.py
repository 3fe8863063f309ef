"""task=classify without training: the shared encoder, the classifier, labelled data, the Bayes
classifier and the baselines, the configs, and moving weights between tasks."""

import math

import numpy as np
import pytest
import torch

from tests.conftest import TINY, compose_config
from vit_inpaint.data.labelled import LabelledDataModule, keep_per_class
from vit_inpaint.data.settings import data_config
from vit_inpaint.data.sources import Digits, GaussianField
from vit_inpaint.launch.validate import ConfigError, check_config
from vit_inpaint.models.classifier import ViTClassifier
from vit_inpaint.models.encoder import is_encoder_key
from vit_inpaint.models.vit import InpaintingViT
from vit_inpaint.tasks.checkpoints import mismatch
from vit_inpaint.tasks.classification import ClassificationModule
from vit_inpaint.tasks.finetune import freeze_for, load_fitting

# --- the encoder split out of InpaintingViT, nothing else changed --------------------------------

# InpaintingViT() as it was before the encoder was split out (commit 99ebe68): its parameter names
# in order, and with torch.manual_seed(0) the sum of all its initial weights and the next random
# number drawn after building it (the same numbers consumed, in the same order).
NAMES_BEFORE = [
    "embed.weight", "embed.bias", "pos.table",
    *[f"blocks.{i}.{name}" for i in range(2) for name in (
        "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
        "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.0.weight", "mlp.0.bias",
        "mlp.2.weight", "mlp.2.bias")],
    "norm.weight", "norm.bias", "head.weight", "head.bias",
]  # fmt: skip
WEIGHT_SUM_BEFORE = 312.53078183410867
NEXT_RANDOM_BEFORE = 0.02194976806640625


def test_inpainting_model_keeps_its_names_initial_weights_and_random_numbers():
    torch.manual_seed(0)
    model = InpaintingViT()
    after = torch.rand(1).item()
    state = model.state_dict()
    assert list(state) == NAMES_BEFORE
    # float64 sums of float32 weights, taken the same way before and after: equal to ~1e-12.
    assert sum(float(v.double().sum()) for v in state.values()) == pytest.approx(
        WEIGHT_SUM_BEFORE, abs=1e-9
    )
    assert after == NEXT_RANDOM_BEFORE


def test_classifier_shares_the_encoder_names_and_gives_class_scores():
    settings = dict(image_size=8, patch_size=2, dim=32, depth=2, heads=4)
    inpainter, classifier = InpaintingViT(**settings), ViTClassifier(**settings, num_classes=10)
    encoder = lambda m: {k: v.shape for k, v in m.state_dict().items() if is_encoder_key(k)}  # noqa: E731
    assert encoder(inpainter) == encoder(classifier)
    logits = classifier(torch.rand(5, 8, 8))
    assert logits.shape == (5, 10) and torch.isfinite(logits).all()
    logits.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in classifier.parameters())


def test_classify_returns_probabilities_and_checks_shapes():
    module = ClassificationModule(model=dict(image_size=8, dim=32, depth=1), num_classes=3)
    probabilities = module.classify(torch.rand(4, 8, 8))
    assert probabilities.shape == (4, 3)
    assert torch.allclose(probabilities.sum(1), torch.ones(4))
    with pytest.raises(ValueError, match="8x8"):
        module.classify(torch.rand(4, 4, 4))


# --- labelled data -------------------------------------------------------------------------------


def test_digits_split_is_fixed_stratified_disjoint_and_in_unit_range():
    from sklearn.datasets import load_digits

    source = Digits()
    sizes = {"train": 1077, "val": 360, "test": 360}
    splits = {s: source.sample_labelled(n, 8, s, torch.Generator().manual_seed(0))
              for s, n in sizes.items()}  # fmt: skip
    everything = torch.from_numpy(load_digits().images / 16.0).float().reshape(1797, -1)
    together = torch.cat([images.reshape(-1, 64) for images, _ in splits.values()])
    # The three splits together are the 1797 images, each once: disjoint and complete.
    assert torch.equal(together.sort(0).values, everything.sort(0).values)
    overall = torch.bincount(torch.from_numpy(load_digits().target)).double() / 1797
    for split, (images, labels) in splits.items():
        assert images.min() >= 0 and images.max() <= 1
        # Stratified: each class's share matches the whole set's, to one image (rounding).
        expected = overall * sizes[split]
        assert (torch.bincount(labels, minlength=10) - expected).abs().max() <= 1
    # Fixed: another seed draws the same split, in another order.
    again, _ = source.sample_labelled(360, 8, "test", torch.Generator().manual_seed(1))
    assert torch.equal(again.reshape(-1, 64).sort(0).values,
                       splits["test"][0].reshape(-1, 64).sort(0).values)  # fmt: skip
    with pytest.raises(ValueError, match="num_test"):
        source.sample_labelled(361, 8, "test", torch.Generator())


def test_keep_per_class_keeps_exactly_n_of_each_class():
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 2, 2])
    images, kept = keep_per_class(torch.arange(8).float(), labels, 2)
    assert images.tolist() == [0, 1, 2, 3, 4, 6] and torch.bincount(kept).tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="class 1 has 2 of its 8 images"):
        keep_per_class(torch.arange(8).float(), labels, 3)


def test_gaussian_field_labels_do_not_change_its_images():
    field = GaussianField()
    images = field.sample(64, 4, "train", torch.Generator().manual_seed(3))
    labelled, labels = field.sample_labelled(64, 4, "train", torch.Generator().manual_seed(3))
    assert torch.equal(images, labelled)
    assert labels.dtype == torch.int64 and set(labels.tolist()) <= {0, 1, 2, 3}


def test_bayes_classifier_is_the_exact_posterior():
    from scipy.stats import multivariate_normal

    field = GaussianField()
    images, _ = field.sample_labelled(6, 4, "test", torch.Generator().manual_seed(0))
    covariances = field.covariances(4).numpy()
    flat = images.reshape(6, -1).double().numpy()
    log_p = [multivariate_normal(mean=[0.5] * 16, cov=c).logpdf(flat) for c in covariances]
    expected = torch.from_numpy(np.stack(log_p, axis=1)).softmax(dim=1)
    # float32 result of float64 arithmetic: agreement to float32 rounding.
    assert torch.allclose(field.class_posterior(images).double(), expected, atol=1e-6)


# The config group `data` of a small 4x4 run (data_config takes any mapping of its fields).
DATA_SETTINGS = dict(image_size=4, num_train=400, num_val=200, num_test=200, batch_size=32)
DATA_SETTINGS.update(eval_batch_size=1000, seed=0, fresh_masks=False, fresh_images=False)


def test_labelled_data_module_and_baselines_on_gaussian_fields():
    from vit_inpaint.evaluation.classifiers import evaluate_classifiers

    dm = LabelledDataModule(data_config(DATA_SETTINGS, images=GaussianField()))
    results = evaluate_classifiers(dm)
    assert dm.num_classes == 4 and dm.class_names[0] == "l=0.5"
    for split in ("val", "test"):
        for name in ("logreg", "svm", "bayes"):
            assert 0 <= results[f"{split}/acc_{name}"] <= 1
        # The Bayes classifier is the best possible in expectation; on 200 images it may lose to
        # a baseline by chance, but not by much, and it is far above chance (0.25).
        assert results[f"{split}/acc_bayes"] > 0.6
        assert results[f"{split}/nll_bayes"] < results[f"{split}/nll_logreg"] + 0.1
        assert results[f"{split}/nll_bayes"] < math.log(4)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (32, 4, 4) and labels.shape == (32,)


# --- configs -------------------------------------------------------------------------------------


def test_task_classify_composes_and_is_checked():
    cfg = compose_config(TINY, "task=classify", "data=digits")
    assert cfg.task.name == "classify" and cfg.optimized_metric == "val/nll"
    assert cfg.callbacks.reconstruction_images is None
    check_config(cfg)
    assert compose_config(TINY).task.name == "inpaint"


def test_task_classify_neither_needs_nor_checks_a_masking():
    # It hides nothing: a masking an inpainting run would refuse, or none at all, is no reason
    # to refuse a classifier (the group stays composed for sweeps over both tasks).
    wrong = ("data=digits", "masking=patches", "masking.size=16")
    with pytest.raises(ConfigError, match="masking.size=16 must divide the 8x8 image"):
        check_config(compose_config(TINY, *wrong))
    check_config(compose_config(TINY, "task=classify", *wrong))
    without = compose_config(TINY, "task=classify", "data=digits", "~masking")
    assert "masking" not in without
    check_config(without)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (("task=classify",), "task=classify needs labelled images"),
        (("data=digits", "data.labels_per_class=5"), "labels_per_class needs task=classify"),
        (("task=classify", "data=digits", "data.image_size=4"), "data.image_size must be 8"),
        (("task=classify", "data=digits", "data.num_val=400"), "data.num_val"),
        (("task=classify", "data=digits", "optimized_metric=val/mse"), "optimized_metric"),
        (("finetune=half",), "finetune must be one of"),
        (("task=classify", "data=digits", "task.augment_shift=8"), "task.augment_shift"),
        (("task=classify", "data=digits", "task.augment_rotate=181"), "task.augment_rotate"),
        (("task=classify", "data=digits", "task.augment_scale=1.0"), "task.augment_scale"),
        (("data=digits", "task.augment_shift=8"), "task.augment_shift"),
        (("task=classify", "data=digits", "task.label_smoothing=-0.1"), "task.label_smoothing"),
        (("init_from=/no/such.ckpt",), "init_from: no checkpoint file"),
    ],
)
def test_bad_classification_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        check_config(compose_config(TINY, *overrides))


# --- weights from one task to the other ----------------------------------------------------------


def _checkpoint(model, task_hparams: dict, **settings) -> dict:
    return {
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "hyper_parameters": {"model": settings, **task_hparams},
    }


def test_encoder_of_an_inpainting_checkpoint_starts_a_classifier():
    settings = dict(image_size=8, dim=32, depth=2, heads=4)
    checkpoint = _checkpoint(InpaintingViT(**settings), {}, **settings)
    classifier = ViTClassifier(**settings, num_classes=10)
    head_before = classifier.head.weight.clone()
    assert mismatch(checkpoint, settings) is None
    loaded, fresh = load_fitting(classifier, checkpoint, "test")
    assert fresh == ["head.bias", "head.weight"] and "embed.weight" in loaded
    assert torch.equal(classifier.blocks[1].mlp[0].weight,
                       checkpoint["state_dict"]["model.blocks.1.mlp.0.weight"])  # fmt: skip
    assert torch.equal(classifier.head.weight, head_before)
    wider = {**settings, "dim": 64}
    assert "model.dim=32 there, 64 here" in mismatch(checkpoint, wider)


def test_finetune_modes_freeze_the_right_weights():
    model = ViTClassifier(image_size=4, dim=32, depth=2, heads=4, num_classes=3)
    trains = lambda: {n for n, p in model.named_parameters() if p.requires_grad}  # noqa: E731
    freeze_for(model, "linear_probe")
    assert trains() == {"head.weight", "head.bias"}
    freeze_for(model, "last_block")
    assert {n.split(".")[0] for n in trains()} == {"blocks", "norm", "head"}
    assert not any(n.startswith("blocks.0.") for n in trains())
    freeze_for(model, "full")
    assert trains() == {n for n, _ in model.named_parameters()}


def test_layer_decay_gives_earlier_layers_smaller_rates_and_skips_frozen_weights():
    from vit_inpaint.tasks.optim import layer_groups

    model = ViTClassifier(image_size=8, dim=32, depth=2, heads=4, num_classes=3, stem_channels=8)
    rate = {id(p): g["lr"] for g in layer_groups(model, 1e-3, 0.5) for p in g["params"]}
    named = dict(model.named_parameters())
    expected = {"stem.": 1e-3 / 8, "embed.": 1e-3 / 8, "pos.": 1e-3 / 8, "blocks.0.": 1e-3 / 4,
                "blocks.1.": 1e-3 / 2, "norm.": 1e-3, "head.": 1e-3}  # fmt: skip
    assert set(rate) == {id(p) for p in named.values()}  # every weight, once
    for name, parameter in named.items():
        (prefix,) = [p for p in expected if name.startswith(p)]
        assert rate[id(parameter)] == pytest.approx(expected[prefix]), name
    freeze_for(model, "last_block")
    kept = {id(p) for g in layer_groups(model, 1e-3, 0.5) for p in g["params"]}
    assert kept == {id(p) for p in model.parameters() if p.requires_grad}
    # optimizer.layer_decay is what a run's optimizer gets (1, the default: one rate).
    for decay, rates in ((0.5, [1e-3 / 4, 1e-3 / 2, 1e-3]), (1.0, [1e-3])):
        optimizer = {"name": "adam", "lr": 1e-3, "schedule": "constant", "layer_decay": decay}
        module = ClassificationModule(model=dict(image_size=8, dim=32, depth=1, heads=4),
                                      optimizer=optimizer, num_classes=3)  # fmt: skip
        groups = module.configure_optimizers().param_groups
        assert sorted(g["lr"] for g in groups) == pytest.approx(rates)


def test_a_linear_probe_standardises_the_frozen_features_as_mae_does():
    settings = dict(image_size=8, dim=32, depth=1, heads=4)
    probe = ClassificationModule(model=settings, num_classes=3, finetune="linear_probe")
    assert isinstance(probe.model.head_norm, torch.nn.BatchNorm1d)
    assert not any(p.requires_grad for p in probe.model.head_norm.parameters())  # no scale/shift
    images = torch.rand(64, 8, 8) * 0.1  # features far from unit scale
    probe.train()
    tokens, _ = probe.model.forward_features(*_features(probe.model, images))
    normed = probe.model.head_norm(tokens.mean(dim=1))
    assert normed.mean(dim=0).abs().max() < 1e-4
    assert normed.std(dim=0).mean() == pytest.approx(1, abs=0.02)
    # A full fine-tune keeps the plain head (and the state_dict of earlier checkpoints).
    full = ClassificationModule(model=settings, num_classes=3)
    assert isinstance(full.model.head_norm, torch.nn.Identity)
    # A training batch of one image (a split's last) has no spread: the running statistics serve.
    assert torch.isfinite(probe.model(torch.rand(1, 8, 8))).all()


@pytest.mark.parametrize("written", ["today", "before the probe norm"])
def test_a_linear_probes_checkpoint_resumes_tests_and_loads(written, tmp_path):
    import lightning

    settings = dict(image_size=8, dim=32, depth=1, heads=4)
    probe = ClassificationModule(model=settings, num_classes=3, finetune="linear_probe")
    state = probe.state_dict()
    if written != "today":
        state = {k: v for k, v in state.items() if "head_norm" not in k}
    checkpoint = {"state_dict": state, "hyper_parameters": dict(probe.hparams),
                  "pytorch-lightning_version": lightning.__version__}  # fmt: skip
    # What ckpt_path= and test_ckpt= check before a run: the probe's own settings fit.
    assert mismatch(checkpoint, settings, task="classify") is None
    path = tmp_path / "probe.ckpt"
    torch.save(checkpoint, path)
    loaded = ClassificationModule.load_from_checkpoint(path)
    norm = torch.nn.BatchNorm1d if written == "today" else torch.nn.Identity
    assert isinstance(loaded.model.head_norm, norm)
    assert loaded.classify(torch.rand(2, 8, 8)).sum(dim=-1).allclose(torch.ones(2))


def _features(model, images):
    mask = torch.zeros_like(images, dtype=torch.bool)
    features, _ = model.pixel_features(images, mask)
    return features, mask


def test_a_checkpoint_of_the_other_task_is_refused_by_name(tmp_path):
    from vit_inpaint import InpaintingModule
    from vit_inpaint.tasks.checkpoints import CheckpointError

    settings = dict(image_size=8, dim=32, depth=1, heads=4)
    module = ClassificationModule(model=settings, num_classes=3)
    path = tmp_path / "classifier.ckpt"
    import lightning

    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": lightning.__version__,  # what Lightning's loader reads
        },
        path,
    )
    with pytest.raises(CheckpointError, match="task=classify: load it with ClassificationModule"):
        InpaintingModule.load_from_checkpoint(path)
    loaded = ClassificationModule.load_from_checkpoint(path)
    assert torch.equal(loaded.model.head.weight, module.model.head.weight)


def test_random_shift_moves_each_image_by_at_most_the_given_pixels():
    from vit_inpaint.data.augment import random_shift

    torch.manual_seed(0)
    images = torch.zeros(64, 8, 8)
    images[:, 4, 4] = 1.0  # one lit pixel: where it lands is the image's shift
    moved = random_shift(images, 1)
    rows, cols = moved.flatten(1).argmax(1) // 8, moved.flatten(1).argmax(1) % 8
    assert torch.equal(moved.sum((1, 2)), torch.ones(64))  # the pixel stays inside, once
    assert set(rows.tolist()) == {3, 4, 5} and set(cols.tolist()) == {3, 4, 5}


def test_random_affine_is_the_identity_at_zero_and_keeps_the_background():
    from vit_inpaint.data.augment import random_affine

    torch.manual_seed(0)
    images = torch.zeros(16, 8, 8)
    images[:, 2:6, 3:5] = torch.rand(16, 4, 2)
    assert torch.allclose(random_affine(images, 0.0, 0.0), images, atol=1e-6)
    turned = random_affine(images, 15.0, 0.1)
    assert turned.shape == images.shape and not torch.allclose(turned, images)
    assert turned.min() >= 0 and turned.max() <= 1
    # A digit near the centre, turned a little, stays inside: its ink is kept, within 20%.
    assert torch.allclose(turned.sum((1, 2)), images.sum((1, 2)), rtol=0.2)
    assert torch.equal(turned[:, :, 0], torch.zeros(16, 8))  # the empty border stays empty


def test_label_smoothing_is_in_the_training_loss_only():
    import torch.nn.functional as F

    torch.manual_seed(0)
    module = ClassificationModule(model=dict(image_size=8, dim=32, depth=1), label_smoothing=0.2)
    images, labels = torch.rand(6, 8, 8), torch.randint(0, 10, (6,))
    logits = module(images)
    loss = module.training_loss((images, labels))
    assert torch.allclose(loss, F.cross_entropy(logits, labels, label_smoothing=0.2))
    module.val_metrics.update(logits.detach(), labels)  # validation NLL: the plain label
    assert torch.allclose(module.val_metrics.compute()["nll"], F.cross_entropy(logits, labels))


# --- temperature scaling -------------------------------------------------------------------------


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 3.0])
def test_fit_temperature_finds_the_temperature_the_labels_were_drawn_with(true_temperature):
    from vit_inpaint.tasks.calibration import fit_temperature

    generator = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(20000, 5, generator=generator)
    labels = torch.multinomial((logits / true_temperature).softmax(1), 1, generator=generator)
    fitted = fit_temperature(logits, labels[:, 0])
    assert fitted == pytest.approx(true_temperature, rel=0.05)


def test_validation_fits_the_temperature_and_the_test_uses_the_saved_one(tmp_path):
    import lightning

    torch.manual_seed(0)
    module = ClassificationModule(model=dict(image_size=8, dim=32, depth=1), num_classes=4)
    logits = 4 * torch.randn(400, 4)  # over-confident: the labels follow logits / 2
    labels = torch.multinomial((logits / 2).softmax(1), 1)[:, 0]
    module.val_metrics.update(logits, labels)
    val = module.val_metrics.compute()
    assert val["temperature"] == pytest.approx(2.0, rel=0.25)
    assert val["nll_calibrated"] < val["nll"] and val["ece_calibrated"] < val["ece"]
    module.temperature = float(val["temperature"])
    # The temperature travels in the checkpoint, and classify() applies it.
    path = tmp_path / "classifier.ckpt"
    checkpoint = {
        "state_dict": module.state_dict(),
        "hyper_parameters": dict(module.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    module.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    loaded = ClassificationModule.load_from_checkpoint(path)
    assert loaded.temperature == module.temperature
    images = torch.rand(3, 8, 8)
    with torch.no_grad():
        expected = (module(images) / module.temperature).softmax(1)
    assert torch.allclose(loaded.classify(images), expected, atol=1e-6)
    # The test split is scored with the given temperature, not one fitted on itself.
    loaded.test_metrics.update(logits, labels)
    test = loaded.test_metrics.compute(temperature=1.0)
    assert test["temperature"] == 1.0 and torch.allclose(test["nll_calibrated"], test["nll"])


# --- the convolutional stem (model.stem_channels) ------------------------------------------------


def test_a_conv_stem_gives_each_patch_its_neighbours_and_travels_with_the_encoder():
    settings = dict(image_size=8, patch_size=2, dim=32, depth=1, heads=4, stem_channels=8)
    classifier = ViTClassifier(**settings, num_classes=10)
    assert classifier.embed.in_features == 8 * 2 * 2
    images = torch.zeros(1, 8, 8)
    changed = images.clone()
    changed[0, 0, 2] = 1.0  # a pixel of patch (0, 1), beside patch (0, 0)
    with torch.no_grad():
        before = classifier.stem(_features(classifier, images)[0])
        after = classifier.stem(_features(classifier, changed)[0])
        logits = classifier(changed)
    # What patch (0, 0) embeds (its 2x2 pixels after the stem) depends on its neighbour's pixel.
    assert not torch.allclose(before[..., :2, :2], after[..., :2, :2])
    assert before.shape == (1, 8, 8, 8) and logits.shape == (1, 10)
    # The stem is part of the encoder: an inpainter of the same settings hands it over.
    inpainter = InpaintingViT(**settings)
    assert any(k.startswith("stem.") and is_encoder_key(k) for k in inpainter.state_dict())
    checkpoint = _checkpoint(inpainter, {}, **settings)
    loaded, fresh = load_fitting(classifier, checkpoint, "test")
    assert "stem.0.weight" in loaded and fresh == ["head.bias", "head.weight"]
    assert "model.stem_channels=8 there, 0 here" in mismatch(
        checkpoint, {**settings, "stem_channels": 0}
    )


def _features(model, images):
    mask = torch.zeros_like(images, dtype=torch.bool)
    return model.pixel_features(images, mask)[0], mask


@pytest.mark.parametrize(
    "overrides, message",
    [
        (("model.stem_channels=-1",), "model.stem_channels must be 0"),
    ],
)
def test_bad_stem_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        check_config(compose_config(TINY, *overrides))


def test_the_svm_baseline_calibrates_with_as_few_as_two_images_a_class():
    """data.labels_per_class=3: Platt scaling's cross-validation takes as many folds as the
    smallest class allows (5 would need 5 images a class); with 1 image a class, no SVM."""
    import numpy as np

    from vit_inpaint.evaluation.classifiers import baseline_classifiers

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 3)
    images = rng.normal(size=(12, 8)) + labels[:, None]
    svm = baseline_classifiers(smallest_class=3)["svm"]
    assert svm.fit(images, labels).predict_proba(images).shape == (12, 4)
    assert "svm" not in baseline_classifiers(smallest_class=1)
