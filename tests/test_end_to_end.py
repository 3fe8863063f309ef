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
        # The HParams tab's data: the run's settings against its final metrics, not hp_metric;
        # the test metrics first (the page shows the first five), the swept setting marked.
        content = events.PluginTagToContent("hparams")
        experiment = HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
        metric_tags = [m.name.tag for m in experiment.metric_infos]
        assert metric_tags[:5] == [
            "test/mse",
            "test/nmse",
            "test/rate_perfect",
            "test/rate_failed",
            "val/mse",
        ]
        assert "hp_metric" not in metric_tags
        set_ones = {i.display_name for i in experiment.hparam_infos if i.differs}
        assert "masking" in set_ones and "optimizer" not in set_ones
        start = HParamsPluginData.FromString(content["_hparams_/session_start_info"])
        hparams = {k.split(" ", 1)[1]: v for k, v in start.session_start_info.hparams.items()}
        assert hparams["masking"].string_value == name.split("=")[1]
        assert hparams["optimizer"].string_value == "adam"
        assert hparams["seed"].string_value.strip() == "0"
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
        assert experiment["metricInfos"][0]["name"]["tag"] == "test/mse"
    finally:
        server.terminate()
        server.wait(timeout=30)
