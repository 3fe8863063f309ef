"""The inpaint tool's --side-by-side grid (vit_inpaint/viz/comparison.py): panels in rows of four,
titled, and zooms around the places with the most hidden pixels."""

from __future__ import annotations

import numpy as np

from vit_inpaint.viz.comparison import COLUMNS, PANEL, comparison_grid, zoom_boxes
from vit_inpaint.viz.figures import title_height
from vit_inpaint.viz.pictures import PANEL_GAP, to_uint8


def test_the_zooms_go_where_most_pixels_are_hidden_and_do_not_overlap():
    mask = np.zeros((120, 180), dtype=bool)
    mask[70:85, 130:150] = True  # the most
    mask[10:20, 10:20] = True
    mask[100, 5] = True
    boxes = zoom_boxes(mask)
    side = 20  # a sixth of the shorter side
    assert [b[2] for b in boxes] == [side, side]
    (t1, l1, _), (t2, l2, _) = boxes
    assert mask[t1 : t1 + side, l1 : l1 + side].sum() >= 200
    assert mask[t2 : t2 + side, l2 : l2 + side].sum() == 100
    assert zoom_boxes(np.zeros((50, 50), dtype=bool)) == []


def test_the_grid_shows_each_fill_full_size_and_zoomed_in():
    rng = np.random.default_rng(0)
    image = rng.random((160, PANEL, 3))  # as wide as a panel: the full views are not resized
    mask = np.zeros((160, PANEL), dtype=bool)
    mask[40:60, 100:130] = True
    fills = {
        name: np.where(mask[..., None], value, image)
        for name, value in (
            ("model", 0.2),
            ("biharmonic", 0.4),
            ("Telea", 0.6),
            ("Navier-Stokes", 0.8),
        )
    }
    grid = comparison_grid(image, mask, fills)
    assert grid.shape[1] == COLUMNS * PANEL + (COLUMNS - 1) * PANEL_GAP
    top = title_height(PANEL)
    column = PANEL + PANEL_GAP
    first = grid[top : top + 160]
    np.testing.assert_array_equal(first[:, :PANEL], to_uint8(image))  # the original
    assert (first[:, column : column + PANEL][mask] == [255, 0, 0]).all()  # hidden in red
    model = first[:, 2 * column : 2 * column + PANEL]
    np.testing.assert_array_equal(model, to_uint8(fills["model"]))
    # Two rows of full views, then two rows for each of the two zooms (square panels).
    assert grid.shape[0] == 2 * (top + 160) + 2 * 2 * (top + PANEL)
    zoom = grid[2 * (top + 160) + top :][:PANEL, 2 * column : 2 * column + PANEL]
    # The model's fill (0.2: 51 of 255), enlarged around the hole.
    assert (zoom == 51).all(axis=-1).mean() > 0.3
    # The model's change to the biharmonic fill: -0.2 x 4 below mid-gray on the hidden pixels.
    change = grid[2 * top + 160 : 2 * top + 320][:, 2 * column : 2 * column + PANEL]
    assert (change[mask] == 0).all() and (change[~mask] == 128).all()  # 0.5 - 0.8: clipped
