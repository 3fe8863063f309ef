"""Recipes where they belong: data configs describe data, a tuned training recipe is picked for a
data x optimizer pair (conf/recipe/), and a user's explicit choice is never replaced by it."""

from __future__ import annotations

import itertools

import pytest
from omegaconf import OmegaConf

from tests.conftest import CONF, compose_config

DATA = sorted(p.stem for p in (CONF / "data").glob("*.yaml"))
OPTIMIZERS = sorted(p.stem for p in (CONF / "optimizer").glob("*.yaml"))
# The recipe of BENCHMARKS.md's Gaussian-field and photo results (tuned with Adam).
TUNED = {"batch_size": 256, "lr": 1e-3, "schedule": "cosine"}


def own_settings(optimizer: str) -> dict:
    """What conf/optimizer/<optimizer>.yaml and conf/data/uniform_noise.yaml say on their own."""
    cfg = compose_config(f"optimizer={optimizer}")
    return {
        "batch_size": cfg.data.batch_size,
        "lr": cfg.optimizer.lr,
        "schedule": cfg.optimizer.schedule,
    }


@pytest.mark.parametrize("data,optimizer", list(itertools.product(DATA, OPTIMIZERS)))
def test_every_data_and_optimizer_pair_gets_its_recipe_or_the_optimizers_own_settings(
    data, optimizer
):
    cfg = compose_config(f"data={data}", f"optimizer={optimizer}")
    got = {"batch_size": cfg.data.batch_size, "lr": cfg.optimizer.lr}
    got["schedule"] = cfg.optimizer.schedule
    assert cfg.optimizer.name == optimizer
    recipe = (CONF / "recipe" / f"{data}_{optimizer}.yaml").exists()
    if recipe:
        assert got == TUNED and cfg.training_recipe == f"{data}_{optimizer}"
    else:
        # No recipe, no key: `python train.py --cfg job` shows only what a user can set.
        assert got == own_settings(optimizer) and "training_recipe" not in cfg
    # A data config describes data only: no optimizer setting of its own.
    keys = set(OmegaConf.load(CONF / "data" / f"{data}.yaml"))
    assert not keys & {"optimizer", "lr", "schedule", "momentum", "weight_decay"}, keys


def test_the_tuned_recipes_are_the_ones_benchmarks_used():
    # BENCHMARKS.md's results: python train.py data=gaussian_field / data=photos (Adam).
    for data in ("gaussian_field", "photos"):
        cfg = compose_config(f"data={data}")
        assert cfg.optimizer.name == "adam" and cfg.training_recipe == f"{data}_adam"
        assert (cfg.data.batch_size, cfg.optimizer.lr, cfg.optimizer.schedule) == (
            256,
            1e-3,
            "cosine",
        )


def test_sgd_on_photos_runs_with_sgds_own_settings():
    cfg = compose_config("data=photos", "optimizer=sgd")
    assert (cfg.optimizer.lr, cfg.optimizer.schedule, cfg.optimizer.momentum) == (
        0.05,
        "constant",
        0.9,
    )


@pytest.mark.parametrize("data,optimizer", list(itertools.product(DATA, OPTIMIZERS)))
def test_explicit_values_always_win_over_a_recipe(data, optimizer):
    cfg = compose_config(
        f"data={data}",
        f"optimizer={optimizer}",
        "optimizer.lr=0.123",
        "optimizer.schedule=constant",
        "data.batch_size=17",
    )
    assert (cfg.optimizer.lr, cfg.optimizer.schedule, cfg.data.batch_size) == (
        0.123,
        "constant",
        17,
    )


def test_experiments_keep_their_recipe():
    cfg = compose_config("experiment=grf_ablation")
    assert cfg.training_recipe == "gaussian_field_adam" and cfg.optimizer.lr == 1e-3


@pytest.mark.parametrize(
    "old,named",
    [
        ("data=random", "choose one of digits, gaussian_field, photos, uniform_noise"),
        ("masking=random", "random_pixels"),
        ("loss_on_visible=true", "loss_pixels"),
    ],
)
def test_spellings_of_earlier_versions_are_refused_in_one_line_naming_the_choices(old, named):
    from vit_inpaint.config.errors import config_error_line

    with pytest.raises(Exception) as caught:
        compose_config(old)
    line = config_error_line(caught.value)
    assert line is not None and named in line and "\n" not in line, line


def test_the_tuned_values_are_declared_once_and_each_pair_adds_only_its_name():
    # conf/recipe/tuned.yaml holds the values; a data x optimizer file names itself and includes it.
    tuned = OmegaConf.load(CONF / "recipe" / "tuned.yaml")
    assert (tuned.data.batch_size, tuned.optimizer.lr) == (256, 1e-3)
    pairs = [p for p in (CONF / "recipe").glob("*.yaml") if p.stem != "tuned"]
    assert len(pairs) == 4
    for path in pairs:
        own = OmegaConf.load(path)
        assert set(own) == {"defaults", "training_recipe"}, path.name
        assert list(own.defaults) == ["tuned", "_self_"] and own.training_recipe == path.stem
