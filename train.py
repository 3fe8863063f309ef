"""Train one model, or sweep many: `python train.py [overrides]`, `python train.py a=1,2 -m`.

Composing the config imports neither torch nor Lightning: `--help` and `--cfg job` stay instant.
"""

import logging
import sys

import hydra
from omegaconf import DictConfig

from vit_inpaint.config import resolvers
from vit_inpaint.config.errors import one_line_config_errors
from vit_inpaint.launch import schema
from vit_inpaint.launch.hydra_callbacks import write_unreported_sweep
from vit_inpaint.storage.launch_folders import LaunchFolders, current, in_multirun

resolvers.register()  # before Hydra composes: where a launch writes its record and log
schema.register()  # the config groups' schemas (importing vit_inpaint.launch also does)


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from vit_inpaint.storage.run_folder import Launch
    from vit_inpaint.training import train

    launch = Launch()
    try:
        return train(cfg, launch=launch).optimized  # what a sweeper (Optuna) optimises
    except BaseException as error:
        if not launch.began:  # refused or failed before training: remove what this launch wrote
            # (a multirun job keeps a folder of its own: the sweep report lists it as failed)
            current().discard_launch(keep_own_folder=in_multirun())
        line, status = _error_line(error, cfg)
        if line is None:
            raise  # not a user's error: its traceback is what a developer needs
        if in_multirun():
            # Each failed job says why, in one line here and in its train.log; Hydra marks the
            # job failed, runs the others, and the sweep ends with one line for them all.
            from hydra.core.hydra_config import HydraConfig

            from vit_inpaint.errors import JobFailed

            overrides = ",".join(HydraConfig.get().overrides.task)
            logging.getLogger(__name__).error("error: %s", line)
            print(f"error: job {overrides}: {line}", file=sys.stderr)
            raise JobFailed(line) from None
        print(f"error: {line}", file=sys.stderr)
        sys.exit(status)


def _error_line(error: BaseException, cfg: DictConfig) -> tuple[str | None, int]:
    """A user's error as one line and its exit status: a setting that cannot work (2), a loss
    that became NaN, a file-system failure mid-run (1); (None, 1) for anything else."""
    from vit_inpaint.errors import ConfigError, NonFiniteLossError

    if isinstance(error, ConfigError):
        return str(error), 2
    if isinstance(error, NonFiniteLossError):
        return str(error), 1
    if isinstance(error, OSError):  # a full disk, a folder made read-only, ... mid-run
        from vit_inpaint.storage.run_folder import write_failure

        return write_failure(error, cfg.paths.output_dir), 1
    return None, 1


if __name__ == "__main__":
    # This launch's claims on its folders, and what it made, are its own (LaunchFolders): a
    # second launch in the same process (the tests run many) starts with none of them.
    with LaunchFolders().active() as folders, one_line_config_errors():
        try:
            main()
        finally:
            # Hydra skips on_multirun_end once a job has failed; the launcher has returned, so
            # every job has ended and the sweep's report can be written now.
            write_unreported_sweep(folders)
