"""What config/hydra_private.py relies on in Hydra's private code, checked against the installed
Hydra: a release that moves or changes any of it fails here, not in a user's run."""

from __future__ import annotations

import copy
import inspect

from vit_inpaint.config import hydra_private


def test_run_and_report_is_there_and_wrapping_it_runs_the_wrapper():
    import hydra._internal.utils as hydra_utils

    assert list(inspect.signature(hydra_utils.run_and_report).parameters) == ["func"]
    calls = []

    def wrap(func):
        return lambda: calls.append("wrapper") or func()

    original = hydra_utils.run_and_report
    with hydra_private.wrapped_run_and_report(wrap):
        assert hydra_utils.run_and_report(lambda: "ran") == "ran"
    assert calls == ["wrapper"] and hydra_utils.run_and_report is original


def test_a_copy_of_the_config_store_is_the_store_hydra_reads():
    from hydra._internal.core_plugins.structured_config_source import StructuredConfigSource
    from hydra.core.config_store import ConfigStore

    hydra_private.config_store_copies_itself()
    assert copy.deepcopy(ConfigStore.instance()) is ConfigStore.instance()
    # Why a copy may be the store: Hydra's structured-config source reads the singleton itself.
    assert "ConfigStore.instance()" in inspect.getsource(StructuredConfigSource)


def test_a_basic_sweeps_jobs_and_folder_names_are_predicted_as_hydra_makes_them():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    (batch,) = hydra_private.basic_sweep_batches(parser.parse_overrides(["seed=1,2", "threads=1"]))
    assert batch == [["seed=1", "threads=1"], ["seed=2", "threads=1"]]
    name = hydra_private.overrides_dirname(parser.parse_overrides(batch[1]), [], ",", "=")
    assert name == "seed=2,threads=1"
    # The sweeper the project's config names is the class this module says it is.
    from hydra import compose, initialize_config_dir

    from tests.conftest import CONF

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", return_hydra_config=True)
    assert cfg.hydra.sweeper._target_ == hydra_private.BASIC_SWEEPER
    module, _, name = hydra_private.BASIC_SWEEPER.rpartition(".")
    assert getattr(__import__(module, fromlist=[name]), name).__name__ == "BasicSweeper"
