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
    result = run_sweep(sweep, "masking=pixel,patch2x2")
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


def test_event_files_hold_val_mse_curves_and_hparams(sweep_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    for name, job in job_dirs(sweep_dir).items():
        events = EventAccumulator(str(job), size_guidance={"scalars": 0, "images": 0}).Reload()
        tags = events.Tags()
        assert "val/mse" in tags["scalars"] and "train/loss" in tags["scalars"]
        assert "test/mse" in tags["scalars"]
        assert len(events.Scalars("val/mse")) >= 2  # one point per epoch
        # train/loss is written every log_every_n_steps=4 steps (16 steps: 256 images / 32 x 2).
        assert [e.step for e in events.Scalars("train/loss")] == [3, 7, 11, 15]
        assert "val/reconstructions" in tags["images"]
        assert "val/attention_last_layer" in tags["images"]
        # The HParams tab's data: the run's settings against its final metrics, not hp_metric.
        content = events.PluginTagToContent("hparams")
        experiment = HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
        metric_tags = {m.name.tag for m in experiment.metric_infos}
        assert {"val/mse", "test/mse", "test/nmse", "test/rate_failed"} <= metric_tags
        assert "hp_metric" not in metric_tags
        start = HParamsPluginData.FromString(content["_hparams_/session_start_info"])
        hparams = start.session_start_info.hparams
        assert hparams["masking"].string_value == name.split("=")[1]
        assert hparams["optimizer"].string_value == "adam"
        assert hparams["seed"].number_value == 0


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
    finally:
        server.terminate()
        server.wait(timeout=30)
