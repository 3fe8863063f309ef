"""The commands a user types: a real multirun in a subprocess, and the real TensorBoard server."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import run_sweep

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    sweep = tmp_path_factory.mktemp("sweep") / "multirun"
    result = run_sweep(sweep, "masking=pixel,patch2x2", subprocess_=True)  # as a user types it
    assert result.returncode == 0, result.stderr[-3000:]
    return sweep


def job_dirs(sweep: Path) -> dict[str, Path]:
    jobs = [p for p in sweep.iterdir() if p.is_dir() and (p / ".hydra").is_dir()]
    return {
        next(part for part in p.name.split(",") if part.startswith("masking=")): p for p in jobs
    }


def test_multirun_writes_one_named_folder_per_job(sweep_dir):
    jobs = job_dirs(sweep_dir)
    assert set(jobs) == {"masking=pixel", "masking=patch2x2"}
    for name, job in jobs.items():
        metrics = json.loads((job / "metrics.json").read_text())
        for key in ("val/mse", "test/mse", "test/nmse", "test/rate_failed", "test/psnr"):
            assert isinstance(metrics[key], float), key
        assert (job / "checkpoints" / "last.ckpt").exists()
        assert name.split("=")[1] in (job / ".hydra" / "overrides.yaml").read_text()


def test_event_files_hold_learning_curves_first_and_hparams(sweep_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    for name, job in job_dirs(sweep_dir).items():
        guidance = {"scalars": 0, "images": 0, "tensors": 0}
        events = EventAccumulator(str(job), size_guidance=guidance).Reload()
        tags = events.Tags()
        scalars = tags["scalars"]
        assert "val/mse" in scalars and "train/loss" in scalars
        # No straight `epoch` line, no single-dot test cards, no flat baseline cards: the Time
        # Series tab opens its first two groups, train/ and val/, on the learning curves.
        assert "epoch" not in scalars
        assert not [t for t in scalars if t.startswith("test/")]
        assert not [t for t in scalars if t.startswith("val/mse_") and t != "val/mse_over_bayes"]
        assert sorted({t.split("/", 1)[0] for t in scalars})[:2] == ["train", "val"]
        assert len(events.Scalars("val/mse")) >= 2  # one point per epoch
        # train/loss is written every log_every_n_steps=4 steps (16 steps: 256 images / 32 x 2).
        assert [e.step for e in events.Scalars("train/loss")] == [3, 7, 11, 15]
        assert "val_images/reconstructions" in tags["images"]
        assert "val_images/attention_layer1_head0" in tags["images"]
        # Every final metric, baselines and other test sets included, in one text summary.
        assert "summary/text_summary" in tags["tensors"]
        text = events.Tensors("summary/text_summary")[-1].tensor_proto.string_val[0].decode()
        assert "mse_bayes" in text and "test/pixel" in text
        # The HParams tab's data: the run's settings against its key final metrics, the test
        # metrics first (the page shows the first five), the swept setting and seed marked.
        content = events.PluginTagToContent("hparams")
        experiment = HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
        metric_names = [m.display_name for m in experiment.metric_infos]
        assert metric_names[:5] == [
            "test/mse",
            "test/nmse",
            "test/rate_perfect",
            "test/rate_failed",
            "val/mse",
        ]
        # Each metric's value is the scalar it names (a single value, grouped after the curves).
        metrics = json.loads((job / "metrics.json").read_text())
        for info in experiment.metric_infos:
            assert events.Scalars(info.name.tag)[-1].value == pytest.approx(
                metrics[info.display_name]
            )
        set_ones = {i.display_name for i in experiment.hparam_infos if i.differs}
        assert set_ones == {"masking", "seed"}
        start = HParamsPluginData.FromString(content["_hparams_/session_start_info"])
        hparams = {k.split(" ", 1)[1]: v for k, v in start.session_start_info.hparams.items()}
        assert hparams["masking"].string_value == name.split("=")[1]
        assert hparams["data"].string_value == "uniform_noise"  # as typed, not UniformNoise
        assert hparams["optimizer"].string_value == "adam"
        assert hparams["seed"].number_value == 0
        assert hparams["model.dim"].number_value == 32
        assert hparams["fresh_masks"].WhichOneof("kind") == "bool_value"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tensorboard_server_shows_both_runs(sweep_dir):
    port = free_port()
    tensorboard = Path(sys.executable).with_name("tensorboard")
    server = subprocess.Popen(
        [str(tensorboard), "--logdir", str(sweep_dir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        deadline = time.time() + 90
        runs: dict = {}
        while time.time() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/data/plugin/scalars/tags"
                with urllib.request.urlopen(url, timeout=5) as response:
                    runs = json.load(response)
                if len([r for r, tags in runs.items() if "val/mse" in tags]) == 2:
                    break
            except OSError:
                pass
            time.sleep(1)
        with_val = sorted(r for r, tags in runs.items() if "val/mse" in tags)
        assert len(with_val) == 2, runs
        assert any("masking=pixel" in r for r in with_val)
        assert any("masking=patch2x2" in r for r in with_val)
        run = next(r for r in with_val if "masking=pixel" in r)
        query = urllib.parse.urlencode({"run": run, "tag": "val/mse"})
        url = f"http://127.0.0.1:{port}/data/plugin/scalars/scalars?{query}"
        with urllib.request.urlopen(url, timeout=10) as response:
            points = json.load(response)
        assert len(points) >= 2 and all(0 < p[2] < 1 for p in points)
        # What the HParams page is given: masking among the first five hparams it shows.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/data/plugin/hparams/experiment",
            data=json.dumps({"experimentName": ""}).encode(),
            headers={"Content-Type": "application/json", "X-XSRF-Protected": "1"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            experiment = json.load(response)
        shown = [h["displayName"] for h in experiment["hparamInfos"]][:5]
        assert "masking" in shown, shown
        assert experiment["metricInfos"][0]["displayName"] == "test/mse"
    finally:
        server.terminate()
        server.wait(timeout=30)
