"""The sweep checks of launch/hydra_callbacks.py that run before a multirun's first job: each
refusal is a ConfigError (one `error:` line), not an import error or a launcher's traceback."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from vit_inpaint.errors import ConfigError
from vit_inpaint.launch.hydra_callbacks import check_launcher, check_single_valued


def test_a_sweep_over_a_single_valued_key_is_refused_naming_it():
    config = OmegaConf.create(
        {"hydra": {"overrides": {"task": ["pretrained.sweep=a,b", "seed=1"]}}}
    )
    with pytest.raises(ConfigError, match="pretrained.sweep takes one folder per sweep"):
        check_single_valued(config)
    check_single_valued(OmegaConf.create({"hydra": {"overrides": {"task": ["seed=1,2"]}}}))


@pytest.mark.parametrize("n_jobs", [0, 1.5, True])
def test_a_launcher_with_no_meaningful_job_count_is_refused(n_jobs):
    with pytest.raises(ConfigError, match="hydra.launcher.n_jobs must be a whole number"):
        check_launcher(OmegaConf.create({"hydra": {"launcher": {"n_jobs": n_jobs}}}))
    check_launcher(OmegaConf.create({"hydra": {"launcher": {"n_jobs": -1}}}))
