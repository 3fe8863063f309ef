"""Train one model, or sweep many: `python train.py [overrides]`, `python train.py a=1,2 -m`.

Composing the config imports neither torch nor Lightning: `--help` and `--cfg job` stay instant.
"""

import sys

import hydra
from omegaconf import DictConfig

from vit_inpaint.config import resolvers
from vit_inpaint.config.errors import one_line_config_errors
from vit_inpaint.config.hydra_callbacks import write_unreported_sweep

resolvers.register()  # before Hydra composes: where a launch writes its record and log


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from vit_inpaint.config.validate import ConfigError
    from vit_inpaint.storage.run_folder import Launch, discard_launch, in_multirun
    from vit_inpaint.training import train

    try:
        return train(cfg)
    except BaseException as error:
        if not Launch.began:  # refused or failed before training: remove what this launch wrote
            # (a multirun job keeps a folder of its own: the sweep report lists it as failed)
            discard_launch(keep_own_folder=in_multirun())
        if in_multirun():
            raise  # Hydra marks the job failed, runs the others and the report says so
        if isinstance(error, ConfigError):
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        from vit_inpaint.tasks.base import NonFiniteLossError

        if isinstance(error, NonFiniteLossError):
            print(f"error: {error}", file=sys.stderr)
            sys.exit(1)
        if isinstance(error, OSError):  # a full disk, a folder made read-only, ... mid-run
            from vit_inpaint.storage.run_folder import write_failure

            print(f"error: {write_failure(error, cfg.paths.output_dir)}", file=sys.stderr)
            sys.exit(1)
        raise


if __name__ == "__main__":
    with one_line_config_errors():  # a user's config error: one `error:` line, exit status 2
        try:
            main()
        finally:
            # Hydra skips on_multirun_end once a job has failed; the launcher has returned, so
            # every job has ended and the sweep's report can be written now.
            write_unreported_sweep()
