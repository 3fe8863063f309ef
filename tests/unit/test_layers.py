"""The layer check `make lint` runs (scripts/check_layers.py): the package passes it, and an import
back up a layer, at the top of a file or inside a function, fails it."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check_layers():
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts/check_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_imports_only_down_its_layers():
    assert check_layers().climbs(ROOT) == []


def test_an_import_back_up_a_layer_is_named(tmp_path):
    layers = check_layers()
    package = tmp_path / "vit_inpaint"
    for folder in ("data", "tasks", "config"):
        (package / folder).mkdir(parents=True)
    (package / "tasks" / "registry.py").write_text("X = 1\n")
    # Down a layer: fine. Up a layer, even lazily inside a function: named with its line.
    (package / "tasks" / "module.py").write_text("from vit_inpaint.data import sources\n")
    (package / "data" / "sources.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from vit_inpaint.tasks import registry\n"
        "def f():\n"
        "    from vit_inpaint.tasks.registry import X\n"
        "    return X\n"
    )
    (package / "config" / "choices.py").write_text("from ..data import sources\n")
    found = layers.climbs(tmp_path)
    assert found == [
        "vit_inpaint/config/choices.py:1: vit_inpaint.config.choices imports "
        "vit_inpaint.data.sources (up a layer)",
        "vit_inpaint/data/sources.py:5: vit_inpaint.data.sources imports "
        "vit_inpaint.tasks.registry.X (up a layer)",
    ]
    assert layers.main(["--root", str(tmp_path)]) == 1
    shutil.rmtree(package / "config")
    (package / "data" / "sources.py").write_text("X = 1\n")
    assert layers.main(["--root", str(tmp_path)]) == 0
