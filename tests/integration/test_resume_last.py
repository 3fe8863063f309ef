"""`ckpt_path=last` (storage/resume_last.py): which run it resumes, and the one line where there
is none. The resume itself, after a real kill: tests/integration/test_faults.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import TINY, refused, run_train
from vit_inpaint.config.resolvers import run_dir
from vit_inpaint.storage.resume_last import find_unfinished_run


def fake_run(runs: Path, name: str, overrides: list[str], last=True, finished=False) -> Path:
    """A run folder as train.py leaves it: its record, and a last checkpoint or metrics."""
    run = runs / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if last:
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "last.ckpt").write_bytes(b"x")
    if finished:
        (run / "metrics.json").write_text("{}")
    return run


def test_ckpt_path_last_finds_the_newest_unfinished_run_with_the_same_overrides(tmp_path):
    runs = tmp_path / "runs"
    older = fake_run(runs, "2026-01-01_10-00-00_000001", ["masking=pixel", "seed=1"])
    newer = fake_run(runs, "2026-01-02_10-00-00_000001", ["seed=1", "masking=pixel"])
    fake_run(runs, "2026-01-03_10-00-00_000001", ["masking=pixel", "seed=1"], finished=True)
    fake_run(runs, "2026-01-04_10-00-00_000001", ["masking=pixel", "seed=1"], last=False)
    fake_run(runs, "2026-01-05_10-00-00_000001", ["masking=pixel", "seed=2"])
    # The order of the overrides, and ckpt_path itself, do not matter.
    assert find_unfinished_run(runs, ["masking=pixel", "seed=1", "ckpt_path=last"]) == newer
    (newer / "metrics.json").write_text("{}")  # it finished since
    assert find_unfinished_run(runs, ["masking=pixel", "seed=1"]) == older
    assert find_unfinished_run(runs, ["masking=pixel"]) is None
    assert find_unfinished_run(tmp_path / "nowhere", ["masking=pixel"]) is None


def test_hydra_run_dir_follows_ckpt_path_last_to_the_run_it_found(tmp_path):
    runs = tmp_path / "runs"
    run = fake_run(runs, "2026-01-01_10-00-00_000001", ["masking=pixel"])
    default = str(runs / "2026-02-01_10-00-00_000001")
    assert run_dir("last", default, ["masking=pixel", "ckpt_path=last"]) == str(run)
    assert run_dir("last", default, ["masking=patch2x2", "ckpt_path=last"]) == default
    assert run_dir(str(run / "checkpoints" / "last.ckpt"), default) == str(run)


def test_ckpt_path_last_without_a_last_checkpoint_is_refused_leaving_nothing(tmp_path):
    empty = tmp_path / "empty"
    result = run_train(TINY, f"hydra.run.dir={empty}", "ckpt_path=last")
    refused(result, "ckpt_path=last", str(empty), "no checkpoints/last.ckpt")
    assert not empty.exists()
    # A run folder with no checkpoint yet (killed before its first epoch) is left as it was.
    started = fake_run(tmp_path, "started", [TINY], last=False)
    before = sorted(p.relative_to(started) for p in started.rglob("*"))
    result = run_train(TINY, f"hydra.run.dir={started}", "ckpt_path=last")
    refused(result, "ckpt_path=last", "no checkpoints/last.ckpt")
    assert sorted(p.relative_to(started) for p in started.rglob("*")) == before
