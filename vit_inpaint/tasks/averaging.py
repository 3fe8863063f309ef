"""An exponential moving average (EMA) of the weights: Lightning's EMAWeightAveraging, with the
best checkpoint's averaged weights tested.

    callbacks:
      ema:
        _target_: vit_inpaint.tasks.averaging.EMA
        decay: 0.99

Lightning's callback validates and checkpoints the averaged weights (the checkpoint's state_dict
holds them; the raw weights ride along as `current_model_state`, for resuming). But when the same
Trainer then tests a checkpoint (`trainer.test(ckpt_path="best")`, what train.py does), its
on_load_checkpoint puts the *raw* weights back into the module: the test split would score
weights that were never validated. Here loading outside fitting keeps the state_dict, the
averaged weights the checkpoint was chosen for.
"""

from __future__ import annotations

from lightning.pytorch.callbacks import EMAWeightAveraging
from lightning.pytorch.trainer.states import TrainerFn


class EMA(EMAWeightAveraging):
    """EMAWeightAveraging (decay, update_starting_at_step, ...) whose test uses the average."""

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if trainer.state.fn == TrainerFn.FITTING:  # resuming: the raw weights, and the average
            super().on_load_checkpoint(trainer, pl_module, checkpoint)
        # Testing, validating, predicting: the module already holds the averaged state_dict.
