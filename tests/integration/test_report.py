"""The sweep report on real multiruns: tables that match metrics.json, figures, failed runs, CLI.

Every test here reads a real sweep or starts `python -m vit_inpaint.cli.report`: all slow. The
tables themselves, on hand-written run folders, are tested fast in test_report_tables.py."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ONE_EPOCH, ROOT, job_dir, run_sweep
from vit_inpaint.report.write import write_report

FIGURES = ("val_curves.png", "cross_eval.png", "reconstructions.png", "attention.png")
REPORT_FILES = ("report.md", *FIGURES)
CONFIGURATIONS = ("masking=pixel", "masking=patch2x2")
SEEDS = ("seed=0", "seed=1")
# The main table's headers (report/tables.py table_columns) -> the metrics.json key.
TEST_MSE = "test mse (pixel² on [0,1])"
MAIN = {
    TEST_MSE: "test/mse",
    "mse / Bayes (1 = optimal)": "test/mse_over_bayes",
    "Bayes limit mse": "test/mse_bayes",
    "psnr (dB)": "test/psnr",
}
MAIN_RATES = {
    "perfect (% of images)": "test/rate_perfect",
    "failed (% of images)": "test/rate_failed",
}
BASELINES = ("mean_fill", "visible_mean", "biharmonic", "linear")

pytestmark = pytest.mark.slow


def run_report_cli(folder: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "vit_inpaint.cli.report", str(folder)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def seeds_sweep(tmp_path_factory) -> Path:
    """A real multirun: two masks x two seeds, tiny budget."""
    sweep = tmp_path_factory.mktemp("report") / "seeds"
    result = run_sweep(sweep, "masking=pixel,patch2x2", "seed=0,1")
    assert result.returncode == 0, result.stderr[-3000:]
    return sweep


def copy_without_report(sweep: Path, destination: Path) -> Path:
    """The sweep without its report (the multirun wrote one): a test sees only what it writes."""
    shutil.copytree(sweep, destination, ignore=shutil.ignore_patterns(*REPORT_FILES))
    return destination


@pytest.fixture
def sweep_copy(seeds_sweep, tmp_path) -> Path:
    """A copy a test may change."""
    return copy_without_report(seeds_sweep, tmp_path / "sweep")


@pytest.fixture(scope="module")
def report(seeds_sweep, tmp_path_factory) -> tuple[Path, str]:
    """write_report on a copy of the sweep: (its folder, the Markdown it returned)."""
    sweep = copy_without_report(seeds_sweep, tmp_path_factory.mktemp("report") / "sweep")
    return sweep, write_report(sweep)


def metrics_of(sweep: Path, configuration: str) -> list[dict[str, float]]:
    return [
        json.loads((job_dir(sweep, configuration, s) / "metrics.json").read_text()) for s in SEEDS
    ]


def parse_table(markdown: str, first_header: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table whose first header cell is `first_header`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip("|").split("|")])
    header, _rule, *rows = table
    return [dict(zip(header, row, strict=True)) for row in rows]


def parse_cell(cell: str) -> tuple[float, float | None]:
    """'0.0912 ± 0.0018' -> (mean, std); '7.4% ± 0.6%' -> fractions; a lone value -> (x, None)."""

    def number(text: str) -> float:
        text = text.strip().strip("*")
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)

    mean, _, std = cell.partition("±")
    return number(mean), (number(std) if std else None)


def rows_by_configuration(markdown: str, every_metric: bool = False) -> dict[str, dict[str, str]]:
    """The main table's rows, or the all-metrics table's, by configuration."""
    if every_metric:
        markdown = markdown.split("## All metrics", 1)[1]
    return {row["configuration"]: row for row in parse_table(markdown, "configuration")}


def assert_matches(cell: str, values: list[float], percent: bool = False) -> None:
    mean, std = parse_cell(cell)
    # The table rounds: 4 significant digits for means, 2 for std, 0.1 point for percentages.
    tolerance = {"abs": 6e-4} if percent else {"rel": 1e-3}
    assert mean == pytest.approx(statistics.fmean(values), **tolerance), cell
    if len(values) > 1:
        assert std == pytest.approx(
            statistics.stdev(values), **(tolerance if percent else {"rel": 0.05})
        ), cell
    else:
        assert std is None, cell


def test_the_multirun_ends_with_its_report(seeds_sweep):
    # Written by the sweep's Hydra callback (vit_inpaint/hydra_callbacks.py), not by this test.
    report = (seeds_sweep / "report.md").read_text()
    assert set(rows_by_configuration(report)) == set(CONFIGURATIONS)


def test_one_row_per_configuration_with_mean_and_std_over_two_seeds(report):
    sweep, markdown = report

    assert (sweep / "report.md").read_text() == markdown
    rows = rows_by_configuration(markdown)
    assert set(rows) == set(CONFIGURATIONS)
    for row in rows.values():
        assert row["seeds"] == "2"
        assert row["status"] == "ok"
        assert "±" in row[TEST_MSE] and "±" in row["psnr (dB)"]
    assert "4 run(s) in 2 configuration(s), 0 failed" in markdown


def test_table_numbers_are_the_metrics_files_averaged_over_seeds(report):
    sweep, markdown = report
    main, every = rows_by_configuration(markdown), rows_by_configuration(markdown, True)

    for configuration in CONFIGURATIONS:
        runs = metrics_of(sweep, configuration)
        row = main[configuration]
        for header, key in MAIN.items():
            assert_matches(row[header], [m[key] for m in runs])
        for header, key in MAIN_RATES.items():
            assert_matches(row[header], [m[key] for m in runs], percent=True)
        # The best classical baseline: the one with the lowest mean, named in its cell.
        means = {b: statistics.fmean(m[f"test/mse_{b}"] for m in runs) for b in BASELINES}
        best = min(means, key=means.get)
        cell, name = row["best classical baseline mse"].rsplit(" ", 1)
        assert name == f"({best})"
        assert_matches(cell, [m[f"test/mse_{best}"] for m in runs])
        # Every metric beside the test masks' is in the all-metrics table, under its key.
        row = every[configuration]
        for key in ("val/mse", "test/mse", "test/nmse", "test/mse_over_bayes", "test/psnr"):
            assert_matches(row[key], [m[key] for m in runs])
        for key in ("test/rate_perfect", "test/rate_acceptable", "test/rate_failed"):
            assert_matches(row[key], [m[key] for m in runs], percent=True)
        for key in (f"test/mse_{b}" for b in (*BASELINES, "bayes")):
            assert_matches(row[key], [m[key] for m in runs])


def test_bold_marks_the_best_configuration_of_a_column(report):
    _, markdown = report
    rows = rows_by_configuration(markdown)

    for header, lower in ((TEST_MSE, True), ("psnr (dB)", False), ("Bayes limit mse", None)):
        means = {c: parse_cell(rows[c][header])[0] for c in CONFIGURATIONS}
        bold = {c for c in CONFIGURATIONS if rows[c][header].startswith("**")}
        if lower is None or len(set(means.values())) == 1:  # a reference, or a tie: no winner
            assert not bold, header
        else:
            assert bold == {(min if lower else max)(means, key=means.get)}, header
    assert "- **Bold**: the best configuration of a column" in markdown


def test_the_report_opens_with_what_the_sweep_found(report):
    _, markdown = report

    findings = markdown.split("\n\n")[1]  # under the title
    # Uniform noise: the Bayes limit is mean fill; a tiny budget leaves the models above it.
    assert "The visible pixels say nothing about the hidden ones" in findings
    assert "over 2 and 2 seeds" in findings


def test_cross_eval_matrix_is_the_test_mask_metrics_averaged_over_seeds(report):
    sweep, markdown = report

    matrix = {
        row["train mask \\ test mask"]: row
        for row in parse_table(markdown, "train mask \\ test mask")
    }
    assert set(matrix) == {"pixel", "patch2x2"}
    assert list(matrix) == ["pixel", "patch2x2"]  # the columns' order: own masks on the diagonal
    for train_mask, row in matrix.items():
        runs = metrics_of(sweep, f"masking={train_mask}")
        for test_mask in ("pixel", "patch2x2", "block2x2"):
            assert_matches(row[test_mask], [m[f"test/{test_mask}/mse"] for m in runs])
    for test_mask in ("pixel", "patch2x2", "block2x2"):  # bold: the lowest of each column
        means = {train: parse_cell(row[test_mask])[0] for train, row in matrix.items()}
        bold = {train for train, row in matrix.items() if row[test_mask].startswith("**")}
        assert bold == {min(means, key=means.get)}, test_mask
    assert "The diagonal (a model tested on the kind of mask it was trained on)" in markdown


def test_figures_are_non_empty_png_images_linked_from_the_report(report):
    from matplotlib.image import imread

    sweep, markdown = report

    for name in FIGURES:
        image = imread(sweep / name)  # fails on anything but a valid PNG
        assert image.ndim == 3 and image.shape[2] in (3, 4), name
        assert image.shape[0] > 100 and image.shape[1] > 100, (name, image.shape)
        assert image[..., :3].std() > 0.05, f"{name} is blank"
        assert f"]({name})" in markdown


def test_a_failed_job_shows_as_failed(tmp_path):
    sweep = tmp_path / "heads"
    # model.dim=32 (debug=tiny): 3 heads fail config validation; Hydra still runs every job of
    # the sweep, then reports the failure with a non-zero exit.
    result = run_sweep(sweep, "model.heads=4,3", budget=ONE_EPOCH)
    assert result.returncode != 0
    assert "model.heads (3)" in result.stderr
    failed, finished = job_dir(sweep, "model.heads=3"), job_dir(sweep, "model.heads=4")
    assert (failed / ".hydra").is_dir() and not (failed / "metrics.json").exists()
    assert (finished / "metrics.json").exists()
    # The sweep wrote its own report despite the failure (hydra_callbacks.SweepReport).
    auto = (sweep / "report.md").read_text()
    assert "model.heads=3" in auto and "failed" in auto

    markdown = write_report(sweep)

    rows = rows_by_configuration(markdown)
    assert set(rows) == {"model.heads=3", "model.heads=4"}
    assert rows["model.heads=3"]["status"] == "failed"
    assert rows["model.heads=3"][TEST_MSE] == "—"
    assert rows["model.heads=4"]["status"] == "ok"
    metrics = json.loads((finished / "metrics.json").read_text())
    assert_matches(rows["model.heads=4"][TEST_MSE], [metrics["test/mse"]])
    assert "2 run(s) in 2 configuration(s), 1 failed" in markdown
    assert "1 of 2 runs failed or could not be read (model.heads=3)" in markdown.split("\n\n")[1]


def test_a_configuration_with_one_failed_seed_averages_the_other(sweep_copy):
    (job_dir(sweep_copy, "masking=pixel", "seed=1") / "metrics.json").unlink()

    rows = rows_by_configuration(write_report(sweep_copy))

    pixel = rows["masking=pixel"]
    assert pixel["status"] == "1 of 2 failed"
    assert pixel["seeds"] == "1"
    seed0 = json.loads(
        (job_dir(sweep_copy, "masking=pixel", "seed=0") / "metrics.json").read_text()
    )
    assert_matches(pixel[TEST_MSE], [seed0["test/mse"]])  # no "±": one seed left
    assert rows["masking=patch2x2"]["status"] == "ok"


def test_runs_without_baselines_or_cross_eval_skip_those_parts(sweep_copy):
    # Metrics as runs wrote them before baselines and cross-evaluation existed.
    for metrics_file in sweep_copy.glob("*/metrics.json"):
        metrics = json.loads(metrics_file.read_text())
        kept = {k: v for k, v in metrics.items() if k.count("/") == 1 and "/mse_" not in k}
        assert "test/mse" in kept and len(kept) < len(metrics)
        metrics_file.write_text(json.dumps(kept))

    markdown = write_report(sweep_copy)

    header = rows_by_configuration(markdown)["masking=pixel"].keys()
    assert TEST_MSE in header
    assert not [h for h in header if "bayes" in h.lower() or "baseline" in h]
    header = rows_by_configuration(markdown, every_metric=True)["masking=pixel"].keys()
    assert "test/mse" in header
    assert not [h for h in header if "bayes" in h.lower() or "mse_" in h]
    assert "No cross-evaluation metrics" in markdown
    assert not (sweep_copy / "cross_eval.png").exists()
    assert "cross_eval.png: skipped" in markdown
    for name in ("val_curves.png", "reconstructions.png", "attention.png"):
        assert (sweep_copy / name).exists()


# A single configuration is named by all its overrides: a long label must not crush the figures.
@pytest.mark.filterwarnings("error:constrained_layout not applied")
def test_a_single_run_folder_gives_one_row(seeds_sweep, tmp_path):
    run = tmp_path / "run"  # like outputs/runs/<time>/: the folder itself holds .hydra/
    shutil.copytree(job_dir(seeds_sweep, "masking=pixel", "seed=0"), run)
    # The run was started with debug=tiny; give it the long command line of a user who typed the
    # same budget override by override (the settings it ran with), so its label is long.
    typed = ["masking=pixel", "seed=0", "data.num_train=256", "data.num_val=128"]
    typed += ["data.num_test=128", "data.batch_size=32", "trainer.max_epochs=2", "model.dim=32"]
    typed += ["model.depth=1", "callbacks.progress_bar=null", "trainer.log_every_n_steps=4"]
    (run / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in typed))

    markdown = write_report(run)
    rows = parse_table(markdown, "configuration")

    assert len(rows) == 1 and rows[0]["status"] == "ok"
    assert "seeds" not in rows[0]  # one run: plain values, no seed column
    metrics = json.loads((run / "metrics.json").read_text())
    (every,) = rows_by_configuration(markdown, every_metric=True).values()
    assert_matches(every["val/mse"], [metrics["val/mse"]])
    assert (run / "report.md").exists()


def test_cli_prints_the_table_and_exits_0(sweep_copy):
    result = run_report_cli(sweep_copy)

    assert result.returncode == 0, result.stderr[-3000:]
    assert set(rows_by_configuration(result.stdout)) == set(CONFIGURATIONS)
    assert (sweep_copy / "report.md").read_text() == result.stdout


def test_cli_refuses_a_missing_folder_and_writes_nothing(tmp_path):
    missing = tmp_path / "no-such-sweep"

    result = run_report_cli(missing)

    assert result.returncode == 2
    assert f"{missing} does not exist" in result.stderr
    assert not missing.exists()
    assert result.stdout == ""


def test_cli_refuses_a_folder_without_jobs_and_writes_nothing(tmp_path):
    (tmp_path / "not-a-job").mkdir()  # a subfolder without .hydra/ is no job

    result = run_report_cli(tmp_path)

    assert result.returncode == 2
    assert "holds no job folders" in result.stderr and str(tmp_path) in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["not-a-job"]
    assert not any((tmp_path / "not-a-job").iterdir())


def test_importing_the_report_loads_no_heavy_library():
    code = (
        "import sys, vit_inpaint.cli.report, vit_inpaint.report.write; "
        "print(sorted(m for m in ('torch', 'lightning', 'matplotlib', 'tensorboard') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- Folders the report cannot fully read or write (fake jobs: no training needed) ------------


def fake_job(sweep: Path, mask: str, metrics: dict[str, float] | None = None) -> Path:
    """A job folder as a finished run leaves it, without events or checkpoints."""
    job = sweep / f"masking={mask}"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(f"- masking={mask}\n")
    (job / ".hydra" / "config.yaml").write_text(
        f"masking:\n  name: {mask}\ndata:\n  images:\n    _target_: a.b.Photos\n"
    )
    (job / "metrics.json").write_text(json.dumps(metrics or {"test/mse": 0.25, "val/mse": 0.5}))
    return job


def damaged_sweep(folder: Path) -> Path:
    """One good job and one of each kind of unreadable job."""
    sweep = folder / "damaged"
    fake_job(sweep, "pixel", {"test/mse": 0.125, "val/mse": 0.5, "test/pixel/mse": 0.125})
    metrics = fake_job(sweep, "patch2x2") / "metrics.json"
    metrics.unlink()
    metrics.mkdir()  # metrics.json is a folder
    (fake_job(sweep, "block2x2") / ".hydra" / "config.yaml").write_text("masking: [unclosed\n")
    (fake_job(sweep, "random") / "metrics.json").write_text("{not json")
    return sweep


def unprivileged() -> list[str]:
    """A command prefix under which file permissions hold: root ignores them, unless it runs
    without the capabilities that override them."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, which ignores permissions, and setpriv is missing")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


def test_cli_marks_unreadable_jobs_and_reports_the_others(tmp_path):
    sweep = damaged_sweep(tmp_path)

    result = run_report_cli(sweep)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    rows = rows_by_configuration(result.stdout)
    assert rows["masking=pixel"]["status"] == "ok"
    assert_matches(rows["masking=pixel"][TEST_MSE], [0.125])
    assert rows["masking=patch2x2"]["status"] == "unreadable: metrics.json: is a folder"
    assert rows["masking=block2x2"]["status"].startswith("unreadable: .hydra/config.yaml: ")
    assert rows["masking=random"]["status"].startswith(
        "unreadable: metrics.json: not a flat JSON object of numbers"
    )
    for label in ("masking=patch2x2", "masking=block2x2", "masking=random"):
        assert rows[label][TEST_MSE] == "—"
    assert "4 run(s) in 4 configuration(s), 0 failed, 3 unreadable (left out)" in result.stdout
    assert (sweep / "report.md").read_text() == result.stdout


def test_cli_refuses_a_read_only_sweep_folder_with_one_error_line(tmp_path):
    sweep = damaged_sweep(tmp_path)
    (sweep / "report.md").write_text("the previous report")
    before = sorted(p.name for p in sweep.iterdir())
    sweep.chmod(0o555)
    try:
        command = [*unprivileged(), sys.executable, "-m", "vit_inpaint.cli.report", str(sweep)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        sweep.chmod(0o755)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    error_line = result.stderr.strip().splitlines()[-1]
    assert error_line.startswith("python -m vit_inpaint.cli.report: error: "), error_line
    assert str(sweep) in error_line and "cannot write" in error_line
    assert result.stdout == ""
    assert sorted(p.name for p in sweep.iterdir()) == before
    assert (sweep / "report.md").read_text() == "the previous report"


def test_end_of_sweep_report_on_a_read_only_folder_logs_a_warning(tmp_path):
    sweep = damaged_sweep(tmp_path)
    code = (
        "import logging, sys\n"
        "from pathlib import Path\n"
        "from vit_inpaint.launch.hydra_callbacks import SweepReport\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "SweepReport._write(Path(sys.argv[1]), echo=True)\n"
        "print('the sweep goes on')\n"
    )
    sweep.chmod(0o555)
    try:
        command = [*unprivileged(), sys.executable, "-c", code, str(sweep)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        sweep.chmod(0o755)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "the sweep goes on" in result.stdout
    assert "Traceback" not in result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warning) == 1 and "cannot write the report" in warning[0], result.stderr
    assert not (sweep / "report.md").exists()


def test_a_failure_while_writing_leaves_the_previous_report_and_figures(tmp_path, monkeypatch):
    from vit_inpaint.report.runs import ReportError
    from vit_inpaint.storage import atomic

    sweep = damaged_sweep(tmp_path)
    write_report(sweep)
    previous = {p.name: p.read_bytes() for p in sweep.iterdir() if p.is_file()}
    # No events and no model: the other figures are skipped.
    assert set(previous) == {"report.md", "cross_eval.png"}
    (sweep / "masking=pixel" / "metrics.json").write_text('{"test/mse": 0.5}')

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(ReportError, match="No space left on device"):
        write_report(sweep)

    assert {p.name: p.read_bytes() for p in sweep.iterdir() if p.is_file()} == previous


def test_the_report_pictures_say_which_checkpoint_they_show(seeds_sweep):
    """TensorBoard's pictures show the last epoch, the report's the best one, which may come
    early: each row of the report's pictures names its checkpoint and epoch."""
    import torch

    from vit_inpaint.report.replay import predict
    from vit_inpaint.report.runs import find_job_dirs, group_jobs, read_job

    configurations, _ = group_jobs([read_job(p) for p in find_job_dirs(seeds_sweep)])
    for configuration in configurations:
        prediction = predict(configuration, 2)
        best = configuration.finished[0].checkpoint
        epoch = torch.load(best, weights_only=True)["epoch"] + 1  # Lightning counts from 0
        assert prediction.label.endswith(f"best val/mse, epoch {epoch}"), prediction.label
