"""What a launch of train.py does around its runs: the config groups' schemas for Hydra
(schema.py), the checks across groups before a run (validate.py), and Hydra's callbacks: the
sweep's checks and report (hydra_callbacks.py). Importing it makes the schemas known to Hydra."""

from vit_inpaint.launch import schema

schema.register()
