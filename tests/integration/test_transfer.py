"""Two-stage experiments (experiment=report_path, experiment=digits_transfer): a pretraining
sweep, then a fine-tuning sweep whose runs start from its checkpoints, seed for seed. The fast
tests compose the configs; the slow ones run both stages with debug=tiny, as a user does."""

from __future__ import annotations

import re

import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import TINY, compose_config, run_sweep
from vit_inpaint.launch.validate import ConfigError, check_config
from vit_inpaint.models.classifier import ViTClassifier
from vit_inpaint.models.encoder import ENCODER_SETTINGS
from vit_inpaint.models.vit import InpaintingViT
from vit_inpaint.tasks.finetune import load_fitting

# --- the configs ---------------------------------------------------------------------------------


def test_report_path_starts_each_task_from_the_other_tasks_run_of_the_same_seed(tmp_path):
    for task, source in (("inpaint", "classify"), ("classify", "inpaint")):
        cfg = compose_config(
            "experiment=report_path_finetune", f"pretrained.sweep={tmp_path}", f"task={task}",
            "seed=2",
        )  # fmt: skip
        assert cfg.init_from == f"{tmp_path}/{source}_seed2/checkpoints/last.ckpt"
        assert cfg.finetune == "full" and cfg.data.num_train == 12800


def test_digits_transfer_fine_tunes_probes_and_starts_from_scratch(tmp_path):
    def composed(transfer: str):
        return compose_config(
            "experiment=digits_transfer_finetune", f"pretrained.sweep={tmp_path}",
            f"transfer={transfer}", "seed=1",
        )  # fmt: skip

    # Stage 1's run on every training image, n1077_seed<N> (digits_transfer.yaml's subdir).
    assert composed("finetune").init_from == f"{tmp_path}/n1077_seed1/checkpoints/last.ckpt"
    assert composed("linear_probe").finetune == "linear_probe"
    assert composed("scratch").init_from is None and composed("scratch").finetune == "full"
    # MAE's recipe: layer-wise rates for the fine-tuned runs only, not for those from scratch.
    mae = composed("finetune_layer_decay")
    assert (mae.init_from, mae.finetune) == (composed("finetune").init_from, "full")
    assert mae.optimizer.layer_decay == 0.75 and composed("scratch").optimizer.layer_decay == 1.0


def test_digits_classifier_has_the_encoder_settings_of_its_pretraining():
    """init_from needs them equal (and refuses otherwise, test_classification_runs.py)."""
    pretrain = compose_config("experiment=digits_transfer")
    finetune = compose_config("experiment=digits_transfer_finetune", "pretrained.sweep=x")
    assert pretrain.task.name == "inpaint" and finetune.task.name == "classify"
    for key in ENCODER_SETTINGS:
        assert pretrain.model[key] == finetune.model[key], key


@pytest.mark.parametrize(
    "overrides, message",
    [
        ((), "pretrained.sweep is not set"),
        (("pretrained.sweep=/no/such/sweep",), "is not a sweep's folder"),
    ],
)
def test_a_fine_tuning_stage_without_its_pretraining_sweep_is_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        check_config(compose_config(TINY, "experiment=report_path_finetune", *overrides))


def test_another_tasks_head_is_not_copied_even_when_its_shape_fits():
    """A 4x4 inpainter's head (4 pixels a patch) has the shape of a 4-class classifier's."""
    settings = dict(image_size=4, patch_size=2, dim=32, depth=1, heads=4)
    inpainter = InpaintingViT(**settings)
    checkpoint = {
        "state_dict": {f"model.{k}": v for k, v in inpainter.state_dict().items()},
        "hyper_parameters": {"model": settings},  # no num_classes: an inpainting checkpoint
    }
    classifier = ViTClassifier(**settings, num_classes=4)
    assert classifier.head.weight.shape == inpainter.head.weight.shape
    head = classifier.head.weight.clone()
    loaded, fresh = load_fitting(classifier, checkpoint, "test", task="classify")
    assert fresh == ["head.bias", "head.weight"] and torch.equal(classifier.head.weight, head)
    assert torch.equal(classifier.embed.weight, inpainter.embed.weight)
    loaded, fresh = load_fitting(ViTClassifier(**settings, num_classes=4), checkpoint, "test")
    assert fresh == []  # without the run's task: every tensor that fits, as before


# --- both stages, end to end ---------------------------------------------------------------------


def _init_from_lines(job) -> list[str]:
    return re.findall(r"init_from (\S+): loaded .*", (job / "train.log").read_text())


# Each stage's own sweep report (report.md and its figures, most of a stage's time here) is not
# what these tests check, and a report that fails only logs a warning: tests/integration/
# test_report.py tests it. Left out with Hydra's delete override.
NO_SWEEP_REPORT = "~hydra.callbacks.sweep_report"


@pytest.mark.slow
def test_report_path_runs_both_stages_and_reports_them_together(tmp_path):
    pretrain, finetune = tmp_path / "pretrain", tmp_path / "finetune"
    first = run_sweep(pretrain, "experiment=report_path", "seed=0", "threads=1", NO_SWEEP_REPORT)
    assert first.returncode == 0, first.stderr[-2000:]
    assert {p.name for p in pretrain.iterdir() if p.is_dir()} >= {"inpaint_seed0", "classify_seed0"}
    second = run_sweep(
        finetune, "experiment=report_path_finetune", f"pretrained.sweep={pretrain}", "seed=0",
        "threads=1", NO_SWEEP_REPORT,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-2000:]
    for task, source in (("inpaint", "classify"), ("classify", "inpaint")):
        job = finetune / f"{task}_seed0"
        assert _init_from_lines(job) == [f"{pretrain}/{source}_seed0/checkpoints/last.ckpt"]
        assert "re-initialised 2 (head.bias, head.weight)" in (job / "train.log").read_text()
        assert (job / "metrics.json").is_file()
    assert not (pretrain / "report.md").exists()  # the override above took effect
    from vit_inpaint.report.write import write_report

    markdown = write_report(tmp_path)
    # One row per task and stage, named by the experiment (the swept task's override first).
    for task in ("inpaint", "classify"):
        for experiment in ("report_path", "report_path_finetune"):
            assert f"| task={task},experiment={experiment} | ok |" in markdown
    assert (tmp_path / "seed_curves.png").stat().st_size > 0


@pytest.mark.slow
def test_digits_transfer_runs_both_stages_from_the_pretrained_encoder(tmp_path):
    pretrain, finetune = tmp_path / "pretrain", tmp_path / "finetune"
    # A narrower stem than the experiment's 64 channels: the plumbing is the same, in less time.
    first = run_sweep(
        pretrain, "experiment=digits_transfer", "seed=0", "data.num_train=256",
        "model.stem_channels=8", "threads=1", NO_SWEEP_REPORT,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    checkpoint = pretrain / "n256_seed0" / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    second = run_sweep(
        finetune, "experiment=digits_transfer_finetune", f"pretrained.sweep={pretrain}",
        "pretrained.run.classify=n256", "seed=0", "transfer=linear_probe,scratch",
        "data.labels_per_class=10", "model.stem_channels=8", "threads=1", NO_SWEEP_REPORT,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-2000:]
    (probe,) = [p for p in finetune.iterdir() if p.name.startswith("linear_probe_")]
    (scratch,) = [p for p in finetune.iterdir() if p.name.startswith("scratch_")]
    assert _init_from_lines(probe) == [str(checkpoint)] and _init_from_lines(scratch) == []
    # A linear probe leaves the pretrained encoder as it was. (The checkpoint holds the digits
    # recipe's EMA of the weights: decay * w + (1 - decay) * w rounds to w within float32's
    # precision, not always bit for bit.)
    before = torch.load(checkpoint, weights_only=True)["state_dict"]
    after = torch.load(probe / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    for key in ("model.embed.weight", "model.blocks.0.attn.qkv.weight", "model.norm.weight"):
        assert torch.allclose(before[key], after[key], rtol=1e-5, atol=1e-7), key
    config = OmegaConf.load(probe / ".hydra" / "config.yaml")
    assert config.task.name == "classify" and config.data.labels_per_class == 10


def test_an_inpainter_pretrains_on_the_moved_digits_the_classifier_trains_on():
    from vit_inpaint import InpaintingModule

    cfg = compose_config("data=digits", "task.augment_shift=1", "task.augment_rotate=10")
    check_config(cfg)  # the same keys and checks as task=classify's
    settings = dict(image_size=8, dim=32, depth=1, heads=4)
    images = torch.rand(32, 8, 8)
    masks = torch.rand(32, 8, 8) < 0.5
    for shift, seen_moved in ((0, False), (1, True)):
        module = InpaintingModule(model=settings, augment_shift=shift)
        seen = []
        module.model.register_forward_pre_hook(lambda _, args: seen.append(args))  # noqa: B023
        module.training_loss((images, masks))
        (model_images, model_masks) = seen[0][:2]
        assert torch.equal(model_masks, masks)  # the draw of masks is kept
        assert (not torch.equal(model_images, images)) == seen_moved
