"""Train one model, or sweep many: `python train.py [overrides]`, `python train.py a=1,2 -m`.

Composing the config imports neither torch nor Lightning: `--help` and `--cfg job` stay instant.
"""

import hydra
from omegaconf import DictConfig

from vit_inpaint import resolvers

resolvers.register()  # before Hydra composes: hydra.run.dir follows a resumed checkpoint


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from vit_inpaint.training import train

    return train(cfg)


if __name__ == "__main__":
    main()
