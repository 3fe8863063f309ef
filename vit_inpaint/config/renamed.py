"""Old spellings of renamed options: they keep working, with a warning that names the new one.

    data=random              ->  data=uniform_noise      (`random` also named a masking strategy)
    masking=random           ->  masking=random_pixels
    loss_on_visible=true     ->  loss_pixels=all         (it meant every pixel, not visible ones)

The old config files set `deprecated.<group>` to their message (conf/data/random.yaml,
conf/masking/random.yaml); `loss_on_visible` stays a key of conf/train.yaml, null unless given.
"""

from __future__ import annotations

from omegaconf import DictConfig, open_dict


def translate_old_names(cfg: DictConfig) -> list[str]:
    """Moves old spellings in `cfg` onto the new ones; returns one warning per old spelling."""
    notes = [str(note) for note in (cfg.get("deprecated") or {}).values()]
    old_loss = cfg.get("loss_on_visible")
    if old_loss is not None:
        new = "all" if old_loss else "hidden"
        notes.append(f"loss_on_visible={str(old_loss).lower()} is now loss_pixels={new}")
        with open_dict(cfg):
            cfg.loss_pixels = new
            cfg.loss_on_visible = None
    return [f"{note} (the old spelling still works, for now)" for note in notes]
