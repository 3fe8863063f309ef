"""Old spellings of renamed options, retired: each is refused with one line naming the new one.

    data=random              ->  data=uniform_noise      (`random` also named a masking strategy)
    masking=random           ->  masking=random_pixels
    loss_on_visible=true     ->  loss_pixels=all         (it meant every pixel, not visible ones)

They no longer exist in conf/, so `python train.py --help` and `--cfg job` show only what a user
can set; errors.py turns Hydra's error on one of them into `error: <this line>`.
"""

from __future__ import annotations

# The config file or key Hydra cannot find -> what to write instead.
RETIRED = {
    "data/random": "data=random is now data=uniform_noise",
    "masking/random": "masking=random is now masking=random_pixels",
    "loss_on_visible": "loss_on_visible=true is now loss_pixels=all (false: loss_pixels=hidden)",
}


def retired_name_line(error: BaseException) -> str | None:
    """The one line for Hydra's error on a retired spelling, or None for any other error."""
    from hydra.errors import MissingConfigException

    if isinstance(error, MissingConfigException):
        missing = error.missing_cfg_file
    else:
        missing = getattr(error.__cause__, "full_key", None)
    if missing not in RETIRED:
        return None
    return f"{RETIRED[missing]}: the old spelling was retired"
