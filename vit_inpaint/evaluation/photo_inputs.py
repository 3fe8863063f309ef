"""The photographs and masks a user names to `python -m vit_inpaint.cli.evaluate`: --photos
(bundled photographs' names, image files, folders of them) and --masks, checked and read before
any model is loaded (the evaluation itself: evaluation/photos.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vit_inpaint.data.settings import INPAINTER_SPLITS
from vit_inpaint.evaluation.photos import Photo

# The files of a folder given to --photos that are read (imageio reads them through Pillow or
# tifffile); anything else there (notes, sidecar files) is no photograph.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")


def refuse_seen(names: list[str], seen: list[str] | None = None) -> None:
    """Raises ValueError naming the photographs among `names` that the inpainter was trained or
    selected on: `seen` (a checkpoint's record), or by default the shipped inpainter's."""
    if seen is None:
        seen = INPAINTER_SPLITS["train"] + INPAINTER_SPLITS["val"]
    seen = [*seen, *(["cat"] if "chelsea" in seen else [])]  # cat: chelsea again
    leaked = sorted(set(names) & set(seen))
    if leaked:
        raise ValueError(
            f"{leaked}: the inpainter was trained or selected on them; evaluate on others "
            f"(the shipped inpainter's test ones: {', '.join(INPAINTER_SPLITS['test'])})"
        )


def photo_sources(arguments: list[str], seen: list[str] | None = None) -> list[str | Path]:
    """The --photos arguments as bundled photographs' names and image files (a folder: its image
    files, sorted by name), each once. A bundled name wins over a file of that name (write
    ./NAME for the file). Raises ValueError for a photograph the inpainter was trained or
    selected on, a name that is neither a bundled photograph nor a file or folder, and a folder
    without images."""

    refuse_seen(arguments, seen)
    sources: dict[str | Path, None] = {}
    for argument in arguments:
        path = Path(argument)
        if _is_bundled_photo(argument):
            sources[argument] = None
        elif os.path.isdir(path):  # os.path: a name too long for the system is no folder
            files = [f for f in path.iterdir() if f.is_file() and not f.name.startswith(".")]
            images = sorted((f for f in files if f.suffix.lower() in IMAGE_SUFFIXES), key=str)
            if not images:
                raise ValueError(
                    f"{path}: the folder holds no image file ({', '.join(IMAGE_SUFFIXES)})"
                )
            sources.update(dict.fromkeys(images))
        elif os.path.exists(path):
            sources[path] = None
        else:
            raise ValueError(
                f"{argument}: neither a bundled photograph (the test ones: "
                f"{', '.join(INPAINTER_SPLITS['test'])}) nor an existing file or folder"
            )
    return list(sources)


def _is_bundled_photo(name: str) -> bool:
    """Whether skimage.data `name` is one photograph (gray or colour; stereo_motorcycle: a pair),
    not a file name, a stack of images (lfw_subset) or a 3-D volume."""
    import skimage.data

    loader = getattr(skimage.data, name, None)
    if not callable(loader) or name.startswith(("_", "download")) or "filename" in name:
        return False  # never a download at run time, nor a file name
    try:
        image = loader()
    except Exception:  # noqa: BLE001 - a loader that needs a download or an argument
        return False
    if isinstance(image, tuple):
        image = image[0]
    shape = getattr(image, "shape", ())
    return len(shape) == 2 or (len(shape) == 3 and shape[-1] in (3, 4))


def mask_files(sources: list[str | Path], arguments: list[str]) -> list[Path | ValueError]:
    """--masks: one mask per photograph, as files in the photographs' order or as one folder
    holding a file named like each photograph (its stem; a bundled photograph's name). Raises
    ValueError when the count does not match; a photograph without exactly one mask in the
    folder gets the ValueError that says so in its place, raised by read_photos only if the
    photograph can be read (a broken one is skipped with a line, as without --masks)."""
    paths = [Path(argument) for argument in arguments]
    if len(paths) == 1 and os.path.isdir(paths[0]):
        folder, found = paths[0], []
        for source in sources:
            stem = source if isinstance(source, str) else source.stem
            matches = sorted(f for f in folder.iterdir() if f.is_file() and f.stem == stem)
            if len(matches) != 1:
                matches = [
                    ValueError(
                        f"{folder}: {len(matches)} files named {stem}.* for the photograph "
                        f"{source} ({', '.join(m.name for m in matches) or 'none'}); it needs "
                        "one mask"
                    )
                ]
            found += matches
        return found
    if len(paths) != len(sources):
        raise ValueError(
            f"{len(paths)} masks for {len(sources)} photographs "
            f"({', '.join(map(str, sources))}): give one per photograph, in the same order, "
            "or a folder of masks named like the photographs"
        )
    return paths


def read_photo(path: Path) -> np.ndarray:
    """An image file as (H, W) gray or (H, W, 3) colour float64 in [0, 1]: read as the inpaint
    tool reads it (storage/images.py), alpha dropped."""
    from vit_inpaint.storage.images import read_image, split_alpha

    colour, _ = split_alpha(read_image(path))
    return colour[..., 0] if colour.ndim == 3 and colour.shape[2] == 1 else colour


def read_photos(
    sources: list[str | Path], masks: list[Path | ValueError] | None = None
) -> tuple[list[Photo], list[str]]:
    """(the photographs that could be read, with their masks; a line per file skipped and why).
    A photograph that cannot be read is skipped with its mask; a mask that cannot be read or
    that does not fit its photograph raises FileError naming both, since it was chosen for it."""
    from vit_inpaint.data.sources import load_photo
    from vit_inpaint.storage.images import FileError, check_mask, read_mask

    photos, skipped = [], []
    for index, source in enumerate(sources):
        pixels = None
        if isinstance(source, Path):
            try:
                pixels = read_photo(source)
            except FileError as err:
                skipped.append(f"skipped {err}")
                continue
        mask = None
        if masks is not None:
            if isinstance(masks[index], ValueError):  # no mask, or several, for a photograph
                raise masks[index]
            mask = read_mask(masks[index])
            shape = load_photo(source).shape if pixels is None else pixels.shape[:2]
            try:
                check_mask(mask, *shape)
            except FileError as err:
                raise FileError(f"{masks[index]}, the mask of {source}: {err}") from None
        photos.append(Photo(str(source), pixels, mask))
    return photos, skipped
