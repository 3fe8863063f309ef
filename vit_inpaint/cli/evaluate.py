"""How well does a model inpaint photographs it never saw, against the classical tools?

    python -m vit_inpaint.cli.evaluate [--ckpt CKPT] [--out-dir DIR] [--scales 4 1]
    python -m vit_inpaint.cli.evaluate --photos my_photos/ other.jpg [--masks my_masks/]

Writes evaluation.csv, evaluation.md and evaluation.png into --out-dir (default
outputs/evaluation) and prints evaluation.md; evaluation/photos.py says what they hold. Every
input is checked before a model is loaded or anything is written: a bad argument is one `error:`
line, exit status 2; a photograph file that cannot be read is skipped with a line saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vit_inpaint.data.settings import INPAINTER_SPLITS
from vit_inpaint.evaluation.photo_inputs import mask_files, photo_sources, read_photos, refuse_seen
from vit_inpaint.evaluation.photo_tables import csv_text, figure_png, markdown
from vit_inpaint.evaluation.photos import BINS, CLASSICAL, KINDS, check_scales, evaluate
from vit_inpaint.fill.model import SHIPPED
from vit_inpaint.storage.atomic import write_all_atomic
from vit_inpaint.storage.images import FileError
from vit_inpaint.storage.outputs import check_writable, folders_made, refuse_inputs, same_file

DESCRIPTION = __doc__.split("\n\n")[0]
OUTPUTS = ("evaluation.md", "evaluation.csv", "evaluation.png")
HEADING = "# Inpainting evaluation: "  # evaluation.md's first line: how an earlier one is known


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.cli.evaluate", description=DESCRIPTION
    )
    parser.add_argument("--ckpt", type=Path, help="checkpoint (default: the shipped inpainter)")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("outputs/evaluation"),
        help="folder for evaluation.{csv,md,png} (default: outputs/evaluation, as `make evaluate`)",
    )
    _add_what_to_evaluate(parser)
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the generated masks, 0 or more (default: 0)"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (on stderr by default)"
    )
    return parser


def _add_what_to_evaluate(parser: argparse.ArgumentParser) -> None:
    """The photographs, masks, scales and methods compared."""
    parser.add_argument(
        "--scales",
        type=int,
        nargs="+",
        help="downscale factors (default: 4 1; with --masks: 1, a shrunk mask hiding a block "
        "where it hides any of its pixels)",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=list(KINDS),
        choices=KINDS,
        help="generated mask kinds: holes of 2, 4 or 8 pixels, random dropout, thin strokes, "
        "blobs (disks 3-12 px in radius), brush scribbles 3-6 px wide (default: all)",
    )
    parser.add_argument(
        "--bins",
        type=int,
        default=len(BINS),
        help="how many 10%% coverage bins, from 0-10%% (default: 6)",
    )
    parser.add_argument(
        "--photos",
        nargs="+",
        metavar="PHOTO",
        help="image files, folders (every image file in them, by name; PNG, JPEG, TIFF, 8 or "
        "16 bits, gray or colour) or bundled photographs' names (default: the inpainter's test "
        "photographs: " + " ".join(INPAINTER_SPLITS["test"]) + ")",
    )
    parser.add_argument(
        "--masks",
        nargs="+",
        metavar="MASK",
        help="the user's masks instead of generated ones, white (non-zero) = hidden as for the "
        "inpaint tool: a file per photograph in the same order, or a folder with a file named "
        "like each photograph",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(CLASSICAL),
        choices=CLASSICAL,
        help="classical methods to compare with",
    )


def main(argv: list[str] | None = None) -> int:
    """parse -> check (every input, before a model is loaded or anything written) -> run ->
    write; returns 0, or exits with status 2 and an `error:` line on bad input."""
    import time

    parser = build_parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    photos, scales, outputs, inpainter = _checked(parser, args)
    results = evaluate(
        inpainter.fill, photos, scales, args.kinds, BINS[: args.bins], args.seed, args.methods,
        progress=not args.no_progress,
    )  # fmt: skip
    _write(parser, args, outputs, inpainter, photos, results, time.perf_counter() - started)
    return 0


def _checked(parser: argparse.ArgumentParser, args):
    """(photos, scales, outputs, inpainter) once every argument is checked; parser.error
    otherwise."""
    scales = args.scales or ([1] if args.masks else [4, 1])
    if not 1 <= args.bins <= len(BINS):
        parser.error(f"argument --bins: must be between 1 and {len(BINS)}, got {args.bins}")
    if any(s < 1 for s in scales):
        parser.error(f"argument --scales: factors must be >= 1, got {scales}")
    if args.seed < 0:
        parser.error(f"argument --seed: must be >= 0, got {args.seed}")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        parser.error(f"argument --out-dir: {args.out_dir} is a file, not a folder")

    # The shipped inpainter's photographs are known now, also when it is named by its path; a
    # checkpoint's are read with it below.
    shipped = args.ckpt is None or same_file(args.ckpt, SHIPPED)
    shipped_seen = None if shipped else []
    try:
        sources = photo_sources(args.photos or INPAINTER_SPLITS["test"], shipped_seen)
    except (OSError, ValueError) as err:  # OSError: a folder that cannot be listed
        parser.error(f"argument --photos: {err}")
    try:
        masks = mask_files(sources, args.masks) if args.masks else None
        photos, skipped = read_photos(sources, masks)
    except (OSError, ValueError) as err:  # mask count, names; FileError: bad mask file or size
        parser.error(f"argument --masks: {err}")
    for line in skipped:
        print(line, file=sys.stderr)
    if not photos:
        parser.error(f"argument --photos: none of the {len(sources)} files could be read")
    try:
        check_scales(photos, scales)
    except ValueError as err:
        parser.error(f"argument --scales: {err}")
    outputs = {name: args.out_dir / name for name in OUTPUTS}
    inputs = {
        "--photos": [s for s in sources if isinstance(s, Path)],
        "--masks": [m for m in masks or [] if isinstance(m, Path)],
        "--ckpt": [args.ckpt] if args.ckpt is not None else [],
    }
    try:  # before the evaluation, which takes minutes: its results must have a place to go
        check_out_dir(args.out_dir, outputs, inputs)
    except FileError as err:
        parser.error(f"argument --out-dir: {err}")
    return photos, scales, outputs, _checked_inpainter(parser, args, sources, shipped)


def _checked_inpainter(parser: argparse.ArgumentParser, args, sources, shipped: bool):
    """The --ckpt inpainter, refusing photographs its checkpoint records it saw."""
    from vit_inpaint.fill.model import load_inpainter

    try:
        inpainter = load_inpainter(args.ckpt)
    except FileError as err:
        parser.error(f"argument --ckpt: {err}")
    if not shipped and inpainter.photos is not None:
        try:  # the photographs this checkpoint records it trained and was selected on
            refuse_seen([s for s in sources if isinstance(s, str)], inpainter.photos)
        except ValueError as err:
            parser.error(f"argument --photos: {err} (as {args.ckpt} records)")
    elif not shipped:
        print(
            f"note: {args.ckpt} does not record the photographs it trained on (a run before "
            "they were recorded, or not of data=photos): make sure --photos holds none of them",
            file=sys.stderr,
        )
    return inpainter


def _write(parser, args, outputs, inpainter, photos, results, seconds: float) -> None:
    header = f"{HEADING}{inpainter.source}\n\n"
    header += f"Test photographs: {', '.join(photo.name for photo in photos)}; "
    header += f"masks: {' '.join(args.masks)}." if args.masks else f"seed {args.seed}."
    header += f" The evaluation took {seconds:.1f} s."
    text = markdown(results, header)
    contents = {"evaluation.md": text, "evaluation.csv": csv_text(results)}
    contents["evaluation.png"] = figure_png(results)
    try:
        with folders_made(args.out_dir):
            write_all_atomic({outputs[name]: data for name, data in contents.items()})
    except OSError as err:  # the disk filled up during the evaluation, say: nothing replaced
        parser.error(f"argument --out-dir: cannot write {err.filename or args.out_dir}: {err}")
    print(text)


def check_out_dir(out_dir: Path, outputs: dict[str, Path], inputs: dict[str, list[Path]]):
    """FileError unless the evaluation's outputs can be written in out_dir without losing a file:
    none of them an input (through links too), none replacing a file this tool did not write
    (an earlier evaluation's files are replaced: its evaluation.md says it is one), and the folder
    writable with room for a write."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FileError(f"{out_dir} is a file, not a folder")
    refuse_inputs({f"{out_dir}/{name}": path for name, path in outputs.items()}, inputs)
    existing = [path for path in outputs.values() if os.path.lexists(path)]
    for path in existing:
        if path.is_symlink() or not path.is_file():
            raise FileError(f"{path}: not a regular file the tool wrote; choose another folder")
    report = outputs["evaluation.md"]
    if existing and not _is_evaluation(report):
        raise FileError(
            f"{existing[0]}: a file this tool did not write (no evaluation.md of an earlier "
            "evaluation beside it) would be replaced; choose another folder"
        )
    check_writable(out_dir)


def _is_evaluation(path: Path) -> bool:
    """Whether `path` is an evaluation.md this tool wrote (its first line)."""
    try:
        with path.open("rb") as file:
            return file.readline(200).startswith(HEADING.encode())
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
