"""Types are checked as Hydra composes (vit_inpaint/launch/schema.py): a float or a string where an
integer belongs, or a boolean for a size, is refused like every other bad value, in one line, before
torch loads and before any folder is made."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from tests.conftest import CONF, ROOT, compose_config, run_train
from vit_inpaint.config.errors import type_error_line
from vit_inpaint.data import settings as data_settings
from vit_inpaint.data.free_masks import DropoutMasking, HolesMasking, MixedMasking, StrokesMasking
from vit_inpaint.data.masking import BlockMasking, PatchMasking, RandomMasking
from vit_inpaint.launch import schema
from vit_inpaint.launch.validate import check_config
from vit_inpaint.models.settings import MAESettings, ModelSettings

# What a user types, and the field its one `error:` line must name (more type errors, composed
# in-process, below).
PROBES = [
    ("optimizer.lr=nan", "optimizer.lr"),
    ("optimizer.lr=inf", "optimizer.lr"),
    ("seed=-5", "seed"),
    ("data.batch_size=1.5", "data.batch_size"),
    ("model.dim=64.0", "model.dim"),
    ("model.dim=true", "model.dim"),
    ("trainer.max_epochs=1.5", "trainer.max_epochs"),
    ("data.num_train=1e3", "data.num_train"),
    ("rate_thresholds.perfect=0.5 rate_thresholds.acceptable=0.1", "rate_thresholds.perfect"),
    ("masking.size=3", "masking.size"),
]


@pytest.fixture(scope="module")
def no_torch(tmp_path_factory):
    """A PYTHONPATH under which `import torch` (or lightning) fails: a command that runs under it
    answered without loading them."""
    folder = tmp_path_factory.mktemp("no_torch")
    for name in ("torch", "lightning"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(f"raise ImportError('{name} was loaded')\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}


def train_py(env, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "train.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.slow  # train.py in a subprocess
@pytest.mark.parametrize("probe,field", PROBES, ids=[p for p, _ in PROBES])
def test_a_bad_value_is_refused_in_one_line_before_torch_loads(probe, field, tmp_path, no_torch):
    run = tmp_path / "run"
    result = train_py(no_torch, *probe.split(), f"hydra.run.dir={run}")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert field in lines[0]
    assert not run.exists()


@pytest.mark.slow
def test_an_unknown_key_is_refused_in_one_line_before_torch_loads(tmp_path, no_torch):
    """Hydra's own error on a key the config lacks (struct mode), answered in one line."""
    run = tmp_path / "run"
    result = train_py(no_torch, "model.dimm=3", f"hydra.run.dir={run}")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: model.dimm: no such setting; model has image_size, patch_size, dim, depth, "
        "heads, mlp_ratio, pos_embedding, attention, attend_to_hidden, prior, normalize, "
        "stem_channels, name"
    ]
    assert not run.exists()


@pytest.mark.slow
def test_other_hydra_errors_keep_hydras_own_report(tmp_path, no_torch):
    """An error that is not in the config's keys or values (a config file that does not
    exist): Hydra's report, which lists where it looked."""
    run = tmp_path / "run"
    result = train_py(no_torch, "--config-name", "nope", f"hydra.run.dir={run}")
    assert result.returncode == 1
    assert "Cannot find primary config 'nope'" in result.stderr
    assert not run.exists()


@pytest.mark.slow
def test_a_type_error_in_a_sweep_value_refuses_the_whole_sweep(tmp_path, no_torch):
    """Hydra composes every job of a sweep before it launches the first."""
    sweep = tmp_path / "sweep"
    result = train_py(no_torch, "model.dim=32,64.0", f"hydra.sweep.dir={sweep}", "-m")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: model.dim must be an integer, got 64.0 (float)"
    )
    assert not sweep.exists()  # no job started: not even Hydra's multirun.yaml is left


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--cfg", "job"], ["--help"]])
def test_printing_the_config_or_the_help_loads_no_torch(args, no_torch):
    result = train_py(no_torch, *args)
    assert result.returncode == 0, result.stderr
    assert "model" in result.stdout
    # Only what a user can set: no internal key, no schema, no retired spelling.
    for internal in INTERNAL:
        assert internal not in result.stdout, internal


@pytest.mark.parametrize(
    "args",
    [("--cfg", "job"), ("--cfg", "hydra", "--resolve"), ("--cfg", "all", "--resolve")],
)
def test_printing_the_config_makes_no_folder(args, tmp_path):
    # A launch claims its run folder only once Hydra starts its job (storage/launch_folders.py).
    where = tmp_path / "deep"
    result = run_train(f"hydra.run.dir={where}/run", f"hydra.sweep.dir={where}/sweep", *args)
    assert result.returncode == 0, result.stderr
    assert "masking" in result.stdout
    assert not where.exists()


# What `--cfg job` and `--help` printed before they showed only what a user can set.
INTERNAL = ("loss_on_visible", "deprecated", "training_recipe", "_schema", "hydra/schema")


@pytest.mark.slow
def test_help_lists_each_group_with_the_options_a_user_picks(no_torch):
    result = train_py(no_torch, "--help")
    groups = dict(
        line.split(": ", 1)
        for line in result.stdout.split("== Config ==")[0].splitlines()
        if ": " in line
    )
    for group in ("data", "masking", "model", "optimizer", "task"):
        listed = groups[group].split(", ")
        assert listed == sorted(p.stem for p in (CONF / group).glob("*.yaml")), group
    assert "random" not in groups["data"].split(", ") + groups["masking"].split(", ")


def test_the_composed_config_holds_no_internal_key():
    cfg = compose_config()
    assert not set(cfg) & {"loss_on_visible", "deprecated", "training_recipe"}
    assert "training_recipe" not in compose_config("optimizer=sgd", "data=photos")
    assert compose_config("data=photos").training_recipe == "photos_adam"  # a recipe names itself


def test_a_settings_object_checks_its_own_fields_when_built():
    """The schema Hydra checks a group against is what the run builds, with its checks."""
    cfg = compose_config("model.dim=30", "masking=holes", "masking.min_size=9")
    assert OmegaConf.get_type(cfg.model) is ModelSettings  # composing checks types only
    with pytest.raises(ValueError, match=r"model\.dim \(30\) must be divisible by model\.heads"):
        OmegaConf.to_object(cfg.model)
    with pytest.raises(ValueError, match="masking.min_size and max_size"):
        OmegaConf.to_object(cfg.masking)


# In-process: what composition gives and refuses.

TYPED = {
    "data": {
        "uniform_noise": data_settings.DataConfig,
        "gaussian_field": data_settings.GaussianFieldDataConfig,
        "photos": data_settings.PhotosDataConfig,
        "digits": data_settings.DigitsDataConfig,
    },
    # The settings objects the run builds are the schemas themselves.
    "masking": {
        "pixel": BlockMasking,
        "patch2x2": BlockMasking,
        "block2x2": BlockMasking,
        "random_pixels": RandomMasking,
        "holes": HolesMasking,
        "dropout": DropoutMasking,
        "strokes": StrokesMasking,
        "mixed": MixedMasking,
        "patches": PatchMasking,
    },
    "model": {"vit": ModelSettings, "mae": MAESettings},
    "optimizer": {"adam": schema.AdamConfig, "adamw": schema.AdamWConfig, "sgd": schema.SGDConfig},
    "task": {"inpaint": schema.TaskConfig, "classify": schema.ClassifyTaskConfig},
}


def test_every_option_of_a_typed_group_has_a_schema():
    for group, options in TYPED.items():
        assert set(options) == {p.stem for p in (CONF / group).glob("*.yaml")}, group


@pytest.mark.parametrize(
    "group,option,node_type",
    [(g, o, t) for g, options in TYPED.items() for o, t in options.items()],
)
def test_each_option_composes_into_its_schema(group, option, node_type):
    cfg = compose_config(f"{group}={option}")
    assert OmegaConf.get_type(cfg[group]) is node_type
    assert not OmegaConf.missing_keys(cfg[group])  # the yaml sets every field its schema has
    if group == "data":
        images = {
            "uniform_noise": data_settings.ImageSourceConfig,
            "gaussian_field": data_settings.GaussianFieldImagesConfig,
            "photos": data_settings.PhotosImagesConfig,
            "digits": data_settings.ImageSourceConfig,
        }
        assert OmegaConf.get_type(cfg.data.images) is images[option]


def test_the_top_level_is_typed_and_complete(tmp_path):
    cfg = compose_config(output_dir=tmp_path)
    assert OmegaConf.get_type(cfg) is schema.TrainConfig
    assert OmegaConf.get_type(cfg.rate_thresholds) is schema.RateThresholdsConfig
    assert not OmegaConf.missing_keys(cfg)


@pytest.mark.parametrize(
    "override,line",
    [
        ("model.dim=64.0", "model.dim must be an integer, got 64.0 (float)"),
        ("model.heads=true", "model.heads must be an integer, got True (bool)"),
        ("data.num_train=1e3", "data.num_train must be an integer, got 1000.0 (float)"),
        ("optimizer.lr=fast", "optimizer.lr must be a number, got fast (str)"),
        ("data.fresh_masks=maybe", "data.fresh_masks must be true or false, got maybe (str)"),
        ("seed=abc", "seed must be an integer, got abc (str)"),
        ("threads=1.5", "threads must be an integer, got 1.5 (float)"),
        ("rate_thresholds.perfect=low", "rate_thresholds.perfect must be a number, got low (str)"),
        (
            "masking=random_pixels masking.ratio=many",
            "masking.ratio must be a number, got many (str)",
        ),
        (
            "data=gaussian_field data.images.sigma=wide",
            "data.images.sigma must be a number, got wide (str)",
        ),
        (
            "optimizer=sgd optimizer.momentum=yes",
            "optimizer.momentum must be a number, got yes (str)",
        ),
        (
            "optimizer=adamw optimizer.weight_decay=true",
            "optimizer.weight_decay must be a number, got True (bool)",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_while_composing(override, line):
    with pytest.raises(ConfigCompositionException) as caught:
        compose_config(*override.split())
    assert type_error_line(caught.value) == line


def test_values_that_convert_without_loss_are_taken():
    cfg = compose_config("optimizer.lr=1", "model.mlp_ratio=3", "model.dim='32'")
    assert (cfg.optimizer.lr, cfg.model.mlp_ratio, cfg.model.dim) == (1.0, 3.0, 32)


def test_keys_can_still_be_added_with_a_plus(tmp_path):
    """torch's optimizer options and Lightning's Trainer arguments the yaml files do not set."""
    cfg = compose_config("+optimizer.eps=1e-6", "+trainer.gradient_clip_val=1.0")
    assert cfg.optimizer.eps == 1e-6 and cfg.trainer.gradient_clip_val == 1.0


def test_a_named_square_mask_of_another_size_is_refused_and_a_renamed_one_runs():
    from vit_inpaint.launch.validate import ConfigError

    with pytest.raises(ConfigError, match="masking.name=patch3x3"):
        check_config(compose_config("masking.size=3"))
    with pytest.raises(ConfigError, match="masking.aligned=false contradicts"):
        check_config(compose_config("masking.aligned=false"))
    sized = ("data.image_size=6", "model.patch_size=3", "masking.size=3", "masking.name=patch3x3")
    check_config(compose_config(*sized))


def test_a_schema_holds_no_value_so_an_extending_option_keeps_the_ones_it_extends():
    """conf/model/mae.yaml extends vit.yaml, then names its schema: MAESettings' library
    defaults (image_size=4, attention=manual) must not replace vit.yaml's values."""
    vit, mae = compose_config("model=vit").model, compose_config("model=mae").model
    for key in vit:
        if key != "name":
            assert OmegaConf.to_container(mae)[key] == OmegaConf.to_container(vit)[key], key
    assert OmegaConf.to_container(mae)["image_size"] == "${data.image_size}"
