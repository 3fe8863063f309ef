"""The speed benchmark runs end to end on a tiny budget and reports what it says it reports.

(Its figures are measured by `make bench` and recorded in BENCHMARKS.md, never asserted here.)"""

import json

import pytest

from vit_inpaint import bench

pytestmark = pytest.mark.slow


@pytest.mark.filterwarnings("ignore:The number of training batches")  # 4 batches, on purpose
def test_benchmark_times_every_loop_and_writes_its_ratios(tmp_path, capsys):
    out = tmp_path / "bench.json"
    bench.main(
        ["--rounds", "1", "--epochs", "2", "--num-train", "256", "--batch-sizes", "64"]
        + ["--floor", "--json", str(out)]
    )
    results = json.loads(out.read_text())
    (row,) = results["compare"].values()
    for name in ("naive", "bare", "project", "lightning"):
        assert row[f"{name}_epoch_s"] > 0
        assert row[f"{name}_samples_per_s"] == pytest.approx(256 / row[f"{name}_epoch_s"])
    assert row["project/bare"] == pytest.approx(row["project_epoch_s"] / row["bare_epoch_s"])
    assert row["lightning/bare"] == pytest.approx(row["lightning_epoch_s"] / row["bare_epoch_s"])
    assert row["epochs_measured"] == 1  # epoch 0 of each run is warm-up
    printed = capsys.readouterr().out
    assert "machine:" in printed and "project/bare" in printed


@pytest.mark.parametrize("args", [["--epochs", "1"], ["--rounds", "0"], ["--num-train", "0"]])
def test_bad_arguments_stop_before_any_timing(args, capsys):
    with pytest.raises(SystemExit) as stop:
        bench.main(args)
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err
