"""Every option of every config group composes and instantiates; bad values fail early."""

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tests.conftest import CONF, TINY, compose_config, run_train
from vit_inpaint.launch.validate import ConfigError, check_config
from vit_inpaint.tasks.classification import ClassificationModule
from vit_inpaint.tasks.inpainting import InpaintingModule
from vit_inpaint.tasks.optim import build_optimizer
from vit_inpaint.tasks.registry import task_of
from vit_inpaint.training import train

GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir() and p.name != "hydra")
OPTIONS = [(g, f.stem) for g in GROUPS for f in sorted((CONF / g).glob("*.yaml"))]


def test_every_group_has_options():
    for group in ("data", "masking", "model", "optimizer", "trainer", "callbacks", "logger"):
        assert (group, group) in {(g, g) for g, _ in OPTIONS}


# Stage 2 of a two-stage experiment starts from its pretraining sweep
# (tests/integration/test_transfer.py): these get a stand-in, the sweep's folder and the
# checkpoint file the run would start from.
NEEDS_PRETRAINING = {
    ("experiment", "report_path_finetune"),
    ("experiment", "digits_transfer_finetune"),
    ("transfer", "finetune"),
    ("transfer", "linear_probe"),
    ("transfer", "finetune_layer_decay"),
}


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_instantiates(group, option, tmp_path):
    labelled = ("data=digits",) if (group, option) == ("task", "classify") else ()
    pretrained = tmp_path / "pretrain"
    if (group, option) in NEEDS_PRETRAINING:
        pretrained.mkdir()
        (pretrained / "multirun.yaml").write_text("{}\n")
        labelled += (f"pretrained.sweep={pretrained}",)
        if group == "transfer":  # an experiment names the run each task starts from
            labelled += ("+pretrained.run.inpaint=classify",)
    cfg = compose_config(TINY, f"{group}={option}", *labelled, output_dir=tmp_path)
    if cfg.init_from is not None:
        Path(cfg.init_from).parent.mkdir(parents=True)
        Path(cfg.init_from).touch()  # validate.py checks that it is a file; nothing reads it
    classify = cfg.task.name == "classify"  # task=classify, or an experiment that sets it
    OmegaConf.resolve(cfg)
    check_config(cfg)
    datamodule = task_of(cfg).build_datamodule(cfg)
    datamodule.setup()
    images, second = next(iter(datamodule.train_dataloader()))  # masks, or labels
    settings = OmegaConf.to_container(cfg.model), OmegaConf.to_container(cfg.optimizer)
    if classify:
        module = ClassificationModule(*settings, num_classes=datamodule.num_classes)
        classes = datamodule.num_classes  # 10 digits, 4 lengthscales
        assert module(images).shape == (len(images), classes) and second.shape == (len(images),)
    else:
        module = InpaintingModule(*settings)
        assert module(images, second).shape == images.shape
    assert build_optimizer(module.parameters(), **cfg.optimizer).param_groups[0]["lr"] > 0
    for node in (cfg.callbacks or {}).values():
        instantiate(node)
    for node in (cfg.logger or {}).values():
        instantiate(node)
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        return  # composed and checked above; building a GPU Trainer needs a GPU
    instantiate(cfg.trainer)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_optimizers_are_built_as_configured(name):
    cfg = compose_config(f"optimizer={name}", "optimizer.lr=0.123")
    opt = build_optimizer(torch.nn.Linear(2, 2).parameters(), **cfg.optimizer)
    assert type(opt).__name__.lower() == name
    assert opt.param_groups[0]["lr"] == 0.123


def test_a_module_built_without_a_config_trains_with_the_default_runs_optimizer():
    # The default is declared once, in conf/optimizer/adam.yaml: a notebook's InpaintingModule()
    # and `python train.py` train alike (a copy in the code had to be kept equal by hand).
    from vit_inpaint.tasks.inpainting import InpaintingModule
    from vit_inpaint.tasks.optim import default_optimizer

    composed = OmegaConf.to_container(compose_config().optimizer)
    assert default_optimizer() == composed
    assert InpaintingModule().optimizer_config == composed
    default_optimizer()["lr"] = 1.0  # each caller's copy is its own
    assert default_optimizer() == composed


def test_overrides_the_issues_name_all_exist():
    cfg = compose_config(
        "seed=3",
        "data.num_train=100",
        "data.num_val=10",
        "data.num_test=10",
        "data.batch_size=10",
        "trainer.max_epochs=1",
        "optimizer=adamw",
        "optimizer.lr=0.01",
        "model.dim=48",
        "model.depth=3",
        "model.heads=6",
        "model.pos_embedding=sincos",
        "model.attention=sdpa",
        "data.image_size=8",
        "model.patch_size=4",
        "masking=block2x2",
    )
    assert cfg.model.image_size == 8 and cfg.data.seed == 3 and cfg.masking.name == "block2x2"


BAD = [
    (["data=photos", "data.images.downscale=2.5"], "data.images.downscale"),
    (["data=photos", "data.images.downscale=[1,0]"], "data.images.downscale"),
    (["model.prior=magic"], "model.prior"),
    (["loss_pixels=hidden_over_prior"], "set model.prior=biharmonic"),
    (["experiment=digits", "callbacks.ema.decay=2"], "callbacks.ema.decay"),
    (
        ["task=classify", "data=digits", "model.prior=pushpull", "model.normalize=true"],
        "model.normalize",
    ),
    (["data.image_size=6", "model.patch_size=4"], "data.image_size"),
    (["model.dim=30", "model.heads=4"], "model.heads"),
    (["masking=random_pixels", "masking.ratio=1.0"], "masking"),
    (["masking=random_pixels", "masking.ratio=0.0"], "masking"),
    (["masking=patch2x2", "masking.size=4"], "masking"),
    (["masking=patch2x2", "masking.size=3"], "masking.size=3 contradicts masking.name=patch2x2"),
    (["masking=pixel", "masking.size=2"], "masking.size=2 contradicts masking.name=pixel"),
    (["masking=patch2x2", "masking.aligned=false"], "masking.aligned=false contradicts"),
    (["optimizer.lr=0"], "optimizer.lr"),
    (["optimizer.lr=-0.001"], "optimizer.lr"),
    (["optimizer.lr=nan"], "optimizer.lr"),
    (["optimizer.lr=inf"], "optimizer.lr"),
    (["seed=-5"], "seed"),
    (["rate_thresholds.perfect=0.5", "rate_thresholds.acceptable=0.1"], "rate_thresholds.perfect"),
    (["rate_thresholds.perfect=0"], "rate_thresholds.perfect"),
    (["data.batch_size=0"], "data.batch_size"),
    (["data.num_train=0"], "data.num_train"),
    (["data.num_val=-1"], "data.num_val"),
    (["data.num_test=0"], "data.num_test"),
    (["data.batch_size=512"], "data.batch_size"),
    (["model.pos_embedding=rotary"], "model.pos_embedding"),
    (["model.attention=flash"], "model.attention"),
    (["trainer.max_epochs=0"], "trainer.max_epochs"),
    (["trainer.max_epochs=1.5"], "trainer.max_epochs"),  # the trainer has no schema: see schema.py
    (["optimizer.schedule=linear"], "optimizer.schedule"),
    (["optimizer.layer_decay=0"], "optimizer.layer_decay"),
    (["optimizer=sgd", "optimizer.layer_decay=1.5"], "optimizer.layer_decay"),
    (["threads=0"], "threads"),
    (["ckpt_path=/no/such/run/checkpoints/last.ckpt"], "ckpt_path"),
    (["optimized_metric=test/mse"], "optimized_metric"),
    (["optimized_metric=val/accuracy"], "optimized_metric"),
    (["test_ckpt=middle"], "test_ckpt"),
    (["test_ckpt=best", "callbacks.model_checkpoint=null"], "test_ckpt"),
]


@pytest.mark.parametrize("overrides,field", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_input_fails_before_training_and_names_the_field(overrides, field, tmp_path):
    out = tmp_path / "run"
    cfg = compose_config(TINY, *overrides, output_dir=out)
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        train(cfg)
    assert not out.exists(), "nothing may be written for a configuration that cannot work"


def test_a_finished_run_is_never_overwritten(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text('{"val/mse": 0.1}\n')
    with pytest.raises(ConfigError, match="already holds a finished run"):
        train(compose_config(TINY, output_dir=out))
    assert (out / "metrics.json").read_text() == '{"val/mse": 0.1}\n'


def test_ddp_is_refused_inside_a_multirun_with_what_to_use_instead(tmp_path):
    cfg = compose_config(TINY, "trainer=ddp", output_dir=tmp_path / "run")
    check_config(cfg)  # a single DDP run is fine
    with pytest.raises(ConfigError, match="trainer.strategy=ddp_spawn"):
        check_config(cfg, multirun=True)
    spawn = compose_config(TINY, "trainer=ddp", "trainer.strategy=ddp_spawn", output_dir=tmp_path)
    check_config(spawn, multirun=True)


def test_slurm_launcher_turns_overrides_into_sbatch_directives(tmp_path):
    """hydra/launcher=slurm is submitit's SLURM launcher with this project's defaults; the
    sbatch script submitit would submit carries the partition, time, cpus and gpus asked for."""
    from hydra import compose, initialize_config_dir
    from submitit.slurm.slurm import _make_sbatch_string

    overrides = ["hydra/launcher=slurm", "hydra.launcher.partition=gpu"]
    overrides += ["hydra.launcher.gpus_per_node=1", "hydra.launcher.timeout_min=90"]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    sbatch = _make_sbatch_string(
        command="python train.py",
        folder=str(tmp_path),
        job_name="vit_inpaint",
        partition=launcher.partition,
        time=launcher.timeout_min,
        cpus_per_task=launcher.cpus_per_task,
        gpus_per_node=launcher.gpus_per_node,
        ntasks_per_node=launcher.tasks_per_node,
        mem=f"{launcher.mem_gb}GB",
        nodes=launcher.nodes,
    )
    for directive in ("--partition=gpu", "--time=90", "--cpus-per-task=2", "--gpus-per-node=1"):
        assert f"#SBATCH {directive}" in sbatch


@pytest.mark.slow
def test_train_py_refuses_a_bad_config_in_one_line_and_leaves_no_folder(tmp_path):
    run = tmp_path / "refused"
    result = run_train("model.heads=3", f"hydra.run.dir={run}")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: model.dim (64) must be divisible by model.heads (3)"
    assert not run.exists()  # not even Hydra's record of the attempt


@pytest.mark.slow
def test_checking_a_config_loads_neither_torch_nor_lightning():
    import subprocess
    import sys

    code = "import sys, vit_inpaint.launch.validate, vit_inpaint.launch.hydra_callbacks; "
    code += "print(sorted("
    code += "m for m in ('torch', 'lightning') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# --- debug=tiny: the quick check users run, and the tests' budget -------------------------------


def test_debug_configs_are_global_packages():
    # Without the header their keys would land under `debug.` and shrink nothing.
    for path in sorted((CONF / "debug").glob("*.yaml")):
        assert path.read_text().startswith("# @package _global_\n"), path.name


def test_debug_tiny_is_the_small_budget_the_tests_count_on():
    cfg = compose_config("debug=tiny")
    data, trainer = cfg.data, cfg.trainer
    # 8 steps an epoch, 16 in all, train/loss logged at steps 3, 7, 11 and 15: tests assert these.
    assert data.num_train // data.batch_size == 8 and trainer.max_epochs == 2
    assert trainer.log_every_n_steps == 4
    assert (data.num_val, data.num_test) == (128, 128)
    assert (cfg.model.dim, cfg.model.depth) == (32, 1)
    # No progress bar in a seconds-long run's log: neither ours nor Lightning's default one.
    assert cfg.callbacks.progress_bar is None and cfg.trainer.enable_progress_bar is False
    # The rest of a real run is kept: checkpoints, TensorBoard, the test split.
    assert cfg.callbacks.model_checkpoint is not None and cfg.logger and cfg.test


@pytest.mark.parametrize(
    "choice", ["data=photos", "data=gaussian_field", "experiment=photos_ablation"]
)
def test_debug_tiny_wins_over_data_and_experiment_configs(choice):
    # These set their own (much larger) budget; debug comes last in train.yaml's defaults.
    assert compose_config(choice).data.num_train > 256
    cfg = compose_config(choice, "debug=tiny")
    assert (cfg.data.num_train, cfg.data.batch_size, cfg.trainer.max_epochs) == (256, 32, 2)


def test_command_line_overrides_win_over_debug_tiny():
    cfg = compose_config("debug=tiny", "trainer.max_epochs=1", "data.num_train=512")
    assert (cfg.trainer.max_epochs, cfg.data.num_train, cfg.model.dim) == (1, 512, 32)


@pytest.mark.slow
def test_train_py_debug_tiny_is_a_complete_run_of_seconds(tmp_path):
    import json
    import time

    run = tmp_path / "run"
    start = time.monotonic()
    result = run_train("debug=tiny", f"hydra.run.dir={run}", subprocess_=True)  # a real process
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"val/mse", "test/mse", "test/patch2x2/mse"} <= set(metrics)
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 16  # 2 epochs of 256 / 32 = 8 steps: the tiny budget
    assert "it/s" not in result.stdout + result.stderr  # no progress bar, tqdm's or Rich's
    # 8-11 s measured on the 2-core machine, start-up and imports included. 120 s: room for that
    # machine shared with other jobs (a load of 8 measured while writing this test) without
    # flaking; the step count above is what tells a tiny run from a full one.
    assert seconds < 120, f"python train.py debug=tiny took {seconds:.0f} s"
