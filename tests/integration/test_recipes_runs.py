"""A run says which training recipe (conf/recipe/) it applied; how recipes compose is tested
without training in tests/unit/test_recipes.py."""

from __future__ import annotations

import logging

import pytest


@pytest.mark.slow  # trains for one epoch
def test_a_run_logs_the_recipe_it_applied(tiny_config, caplog):
    from vit_inpaint.training import train

    cfg = tiny_config("data=gaussian_field", "data.num_train=256", "trainer.max_epochs=1")
    with caplog.at_level(logging.INFO, logger="vit_inpaint.training"):
        train(cfg)
    assert any("training recipe gaussian_field_adam" in r.message for r in caplog.records)
