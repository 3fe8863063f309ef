"""What the explorer's "Inside the ViT" tab says about each shipped model, on its default view.

    python scripts/explore_lessons.py

For each shipped model: a new image (seed 0, lengthscale 1, the page's defaults), the first 2x2
patch hidden (patch 5, inside the grid, on the 8x8 model), and the sentences the page writes
under the attention panels and under the lesson, with their numbers.
"""

from __future__ import annotations

import argparse

from vit_inpaint.explore import inside_vit, models
from vit_inpaint.explore.page import Page


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python scripts/explore_lessons.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)
    page = Page()
    for name in models.SHIPPED_MODELS:
        model = page.model(name)
        size = model.image_size
        mask = inside_vit.patch_mask(size, model.patch_size, 5 if size == 8 else 0)
        image = inside_vit.sample_image(model, 1.0, seed=0)
        view = inside_vit.show(model, image, mask, lengthscale=1.0)
        print(f"{name}:")
        for part in ("attention", "lesson", "fills"):
            print(f"  {part}: {view.sentences[part]}")


if __name__ == "__main__":
    main()
