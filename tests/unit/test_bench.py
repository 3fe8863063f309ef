"""The speed benchmark: its loops train what it says they train, and its report is made of the
times they measured. (Its figures are measured by `make bench` and recorded in BENCHMARKS.md,
never asserted here.)"""

import inspect
import json
from collections import Counter

import pytest

from vit_inpaint.benchmarks import epochs as loops
from vit_inpaint.cli import bench

# Epoch times the fake loops below "measure": (warm-up epoch, every later epoch in round 0).
# Later rounds are 10% and 20% slower, so the median of rounds 0-2 is the round-1 time.
FAKE_TIMES = {"naive": 0.4, "bare": 0.1, "project": 0.2, "lightning": 0.15}
WARM_UP = 100.0  # far off every other time: a median that counted it would show


def fake_loops(monkeypatch):
    """Replaces the four timed loops by fakes with their signatures; returns the calls made."""
    calls = []
    rounds = Counter()

    def measured(name, epochs):
        r = rounds[name]
        rounds[name] += 1
        return [WARM_UP] + [FAKE_TIMES[name] * (1 + 0.1 * r)] * (epochs - 1)

    def naive(images, masks, model_cfg, batch_size, epochs, device="cpu"):
        calls.append(("naive", len(images), batch_size, epochs))
        return measured("naive", epochs)

    def bare(images, masks, model_cfg, batch_size, epochs, device="cpu"):
        calls.append(("bare", len(images), batch_size, epochs))
        return measured("bare", epochs)

    def project(
        num_train, image_size, model_cfg, batch_size, epochs, out, device="cpu", extra_overrides=()
    ):
        name = "lightning" if extra_overrides == loops.BAREBONES else "project"
        assert extra_overrides in ((), loops.BAREBONES)
        calls.append((name, num_train, batch_size, epochs))
        return measured(name, epochs)

    for fake, real in ((naive, loops.run_naive), (bare, loops.run_bare)):
        assert list(inspect.signature(fake).parameters) == list(inspect.signature(real).parameters)
    assert list(inspect.signature(project).parameters) == list(
        inspect.signature(loops.run_project).parameters
    )
    monkeypatch.setattr(loops, "run_naive", naive)
    monkeypatch.setattr(loops, "run_bare", bare)
    monkeypatch.setattr(loops, "run_project", project)
    return calls


def test_the_report_is_the_median_of_the_measured_epochs_without_warm_up(
    monkeypatch, tmp_path, capsys
):
    calls = fake_loops(monkeypatch)
    # platform.processor() may run `uname -p`: this test starts no subprocess.
    monkeypatch.setattr(loops, "machine", lambda device="cpu": "a test machine")
    # Not under test, and a full collection per loop costs seconds in a test session's heap.
    monkeypatch.setattr(loops.gc, "collect", lambda: 0)
    out = tmp_path / "bench.json"

    bench.main(
        ["--rounds", "3", "--epochs", "3", "--num-train", "256", "--batch-sizes", "64"]
        + ["--floor", "--json", str(out)]
    )

    # Every loop ran once per round, with the configured data, batch size and epochs, and each
    # round started with the next loop (a fixed order would bias the ratios).
    order = ["naive", "bare", "project", "lightning"]
    assert [c[0] for c in calls] == order + order[1:] + order[:1] + order[2:] + order[:2]
    assert {c[1:] for c in calls} == {(256, 64, 3)}
    (row,) = json.loads(out.read_text())["compare"].values()
    # 3 rounds x (3 epochs - 1 warm-up) = 6 measured epochs per loop; their median is the
    # round-1 time, 1.1x the round-0 one. rel=1e-9: these are exact sums and ratios of floats.
    assert row["epochs_measured"] == 6
    for name, time in FAKE_TIMES.items():
        assert row[f"{name}_epoch_s"] == pytest.approx(1.1 * time, rel=1e-9)
        assert row[f"{name}_samples_per_s"] == pytest.approx(256 / (1.1 * time), rel=1e-9)
    assert row["project/bare"] == pytest.approx(2.0, rel=1e-9)
    assert row["naive/project"] == pytest.approx(2.0, rel=1e-9)
    assert row["lightning/bare"] == pytest.approx(1.5, rel=1e-9)
    printed = capsys.readouterr().out
    assert "machine: a test machine" in printed
    assert "project/bare 2.000  naive/project 2.000  lightning/bare 1.500" in printed
    assert "bare   110.0 ms/epoch" in printed


@pytest.mark.parametrize("args", [["--epochs", "1"], ["--rounds", "0"], ["--num-train", "0"]])
def test_bad_arguments_stop_before_any_timing(args, capsys):
    with pytest.raises(SystemExit) as stop:
        bench.main(args)
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_bench_process_splits_the_cost_into_an_epoch_and_a_fixed_part(monkeypatch, capsys):
    """scripts/bench_process.py --epochs 30 5: each program's medians at the two epoch counts
    give its cost an epoch and its fixed cost; the fixed cost train.py adds is printed less what
    importing Lightning adds beyond torch."""
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "scripts"))
    import bench_process

    seconds = {"train.py": (3.0, 0.4), "plain loop": (1.0, 0.3)}  # fixed, an epoch

    def fake_timed(command):
        if command[1] == "-c":
            return {"import lightning": 4.0, "import torch": 1.5}[command[2]]
        name = "train.py" if command[1] == "train.py" else "plain loop"
        epochs = int(command[-1].split("=")[-1])
        fixed, per_epoch = seconds[name]
        return fixed + per_epoch * epochs

    monkeypatch.setattr(bench_process, "timed", fake_timed)
    monkeypatch.setattr(sys, "argv", ["bench_process.py"])
    bench_process.main(["--rounds", "2", "--epochs", "30", "5"])
    out = capsys.readouterr().out
    assert "train.py: 0.400 s an epoch, 3.00 s fixed" in out
    assert "plain loop: 0.300 s an epoch, 1.00 s fixed" in out
    assert "an epoch: train.py / plain loop 1.33" in out
    # 3.0 - 1.0 = 2.0 s more fixed cost, 2.5 s of it importing Lightning: -0.5 s beyond.
    assert "beyond that -0.50 s" in out


@pytest.mark.parametrize(
    "argv, error",
    [
        (["--rounds", "0", "--epochs", "30", "5"], "--rounds: at least 1, got 0"),
        (["--epochs", "5", "5"], "two different positive counts"),
        (["--epochs", "0", "5"], "two different positive counts"),
    ],
)
def test_bench_process_refuses_what_it_cannot_measure(argv, error, monkeypatch, capsys):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "scripts"))
    import bench_process

    monkeypatch.setattr(bench_process, "timed", lambda command: pytest.fail("ran " + str(command)))
    with pytest.raises(SystemExit):
        bench_process.main(argv)
    assert error in capsys.readouterr().err
