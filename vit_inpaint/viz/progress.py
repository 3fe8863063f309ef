"""The console's progress bars: Lightning's, with each test loader named after its mask
("Testing patch2x2 (own masks)", "Testing pixel", ...) rather than "Testing DataLoader 0-3"."""

from __future__ import annotations

from lightning.pytorch.callbacks import TQDMProgressBar


class ProgressBar(TQDMProgressBar):
    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        # Read before Lightning's hook, which records the loader as the current one.
        changed = self._current_eval_dataloader_idx != dataloader_idx
        super().on_test_batch_start(trainer, pl_module, batch, batch_idx, dataloader_idx)
        names = test_set_names(trainer, pl_module)
        if changed and self.test_progress_bar is not None and dataloader_idx < len(names):
            self.test_progress_bar.set_description(
                f"{self.test_description} {names[dataloader_idx]}"
            )


def test_set_names(trainer, pl_module) -> list[str]:
    """The names of the test loaders, in the order the data module serves them: an inpainting
    run's own masks, then every kind of mask (data/masking.py TEST_SETS); [] for other tasks."""
    from vit_inpaint.data.masking import TEST_SETS

    own = getattr(pl_module.hparams, "masking", None)
    if own is None or len(trainer.test_dataloaders or []) != len(TEST_SETS):
        return []
    return [name or f"{own} (own masks)" for name in TEST_SETS]
