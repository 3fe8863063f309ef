"""Train one model, or sweep many: `python train.py [overrides]`, `python train.py a=1,2 -m`.

Composing the config imports neither torch nor Lightning: `--help` and `--cfg job` stay instant.
"""

import sys

import hydra
from omegaconf import DictConfig

from vit_inpaint.config import resolvers
from vit_inpaint.config.schema import one_line_type_errors

resolvers.register()  # before Hydra composes: hydra.run.dir follows a resumed checkpoint


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from vit_inpaint.config.validate import ConfigError
    from vit_inpaint.training import discard_refused_run, in_multirun, train

    try:
        return train(cfg)
    except ConfigError as error:
        if in_multirun():
            raise  # Hydra marks the job failed, runs the others and the report says so
        discard_refused_run()
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    with one_line_type_errors():  # a value of the wrong type: one `error:` line, exit status 2
        main()
