"""The biharmonic fill of a whole image: the smooth classical inpainting the photo inpainter
corrects (`model.prior=biharmonic`), solved fast enough to run on every training batch and on a
whole photograph.

The hidden pixels get the values that make the image as smooth as possible: they minimise the
sum over the image of (Laplacian of u)^2, the visible pixels held fixed. Its minimiser solves the
biharmonic equation at every hidden pixel (the 13-point stencil of scikit-image's
`inpaint_biharmonic`, which builds the same equation, row by row, and factors it; the two differ
only within two pixels of the image's border, where each truncates the stencil its own way).

Both solvers below run conjugate gradients on the normal equations (the Laplacian with the
image's edge repeated is symmetric, so they read M L L u = 0 on the hidden pixels M), with a
Jacobi preconditioner, from the push-pull fill (models/pushpull.py); the hidden regions of
photographs with holes, missing pixels and strokes are a few pixels across, so they converge in
tens to a hundred or so iterations:

    biharmonic_windows   a batch of small windows in torch, each image its own solve (training:
                         every batch's windows; cheap because the windows are small)
    biharmonic_fill      one whole image in scipy.sparse, over its hidden pixels only: the cost
                         grows with the hidden pixels, not the image (the filling tool)
"""

from __future__ import annotations

import numpy as np

# Conjugate gradients stop when the residual of the normal equations has fallen this much, or
# after MAX_ITERATIONS. Windows: at 1e-3 each window's fill is within 3e-4 of the exact solve
# (every pixel; 1e-5 root-mean-square), far below 1/255, at a third of the iterations of 1e-6.
# A whole image is one solve whose residual mixes every hole: 1e-5 there keeps the hidden-pixel
# error within 1% of scikit-image's on the test photographs (1e-3: up to 30% off).
TOLERANCE = 1e-3
IMAGE_TOLERANCE = 1e-5
# A window is at most 64x64 pixels: 1,000 iterations fill it. A whole image's solve takes more
# where a hole is tens of pixels across (one 64 pixels across: about 2,000).
MAX_ITERATIONS = 1000
IMAGE_MAX_ITERATIONS = 10_000
RESIDUAL_FLOOR = 1e-7  # a window's preconditioned residual norm below which it is solved


def _laplacian(u):
    """The 5-point Laplacian of each (B, H, W) image, its edge repeated beyond the border."""
    import torch.nn.functional as F

    p = F.pad(u[:, None], (1, 1, 1, 1), mode="replicate")[:, 0]
    return p[:, :-2, 1:-1] + p[:, 2:, 1:-1] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:] - 4 * u


def biharmonic_windows(values, mask, tolerance: float = TOLERANCE, max_iterations=MAX_ITERATIONS):
    """values (B, H, W) torch tensor (hidden pixels are never read), mask (B, H, W) bool ->
    (B, H, W) of values' dtype: each image's smoothest fill, solved on its own."""
    import torch
    import torch.nn.functional as F

    from vit_inpaint.models.pushpull import pushpull_fill

    values = torch.where(mask, 0.0, values)
    hidden = mask.to(values.dtype)
    x = torch.where(mask, pushpull_fill(values, mask, steps=0), values)
    # Jacobi: the diagonal of L L at a pixel with d neighbours inside the image is d^2 + d.
    inside = F.pad(torch.ones_like(values)[:, None], (1, 1, 1, 1))[:, 0]
    degree = inside[:, :-2, 1:-1] + inside[:, 2:, 1:-1] + inside[:, 1:-1, :-2] + inside[:, 1:-1, 2:]
    inverse_diagonal = hidden / (degree * degree + degree)
    residual = -hidden * _laplacian(_laplacian(x))
    z = inverse_diagonal * residual
    direction = z
    rz = (residual * z).sum((1, 2))
    # Relative to each window's first residual, with a floor: a window whose start is already
    # its solution (a flat one, say) would otherwise chase float32 rounding to the last iteration.
    stop = (tolerance * rz.sqrt()).clamp_min(RESIDUAL_FLOOR)
    for _ in range(max_iterations):
        if bool((rz.sqrt() <= stop).all()):
            break
        product = hidden * _laplacian(_laplacian(direction))
        step = rz / (direction * product).sum((1, 2)).clamp_min(1e-30)
        x = x + step[:, None, None] * direction
        residual = residual - step[:, None, None] * product
        z = inverse_diagonal * residual
        rz, previous = (residual * z).sum((1, 2)), rz
        direction = z + (rz / previous.clamp_min(1e-30))[:, None, None] * direction
    return x


def _laplacian_numpy(u: np.ndarray) -> np.ndarray:
    """_laplacian of one (H, W) numpy image."""
    p = np.pad(u, 1, mode="edge")
    return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u


# The normal matrix L L (L: the Laplacian, its edge repeated, i.e. the grid graph's Laplacian)
# couples a pixel p to pixels up to two steps away. With d(p) the number of p's neighbours inside
# the image: d(p)^2 + d(p) with itself, -(d(p) + d(q)) with a neighbour q, 2 with a diagonal
# neighbour (the two pixels next to both), 1 two steps along a row or column (the one between).
AXIAL = ((-1, 0), (1, 0), (0, -1), (0, 1))
DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))
TWO_STEPS = ((-2, 0), (2, 0), (0, -2), (0, 2))


def biharmonic_fill(
    image: np.ndarray, mask: np.ndarray, tolerance: float = IMAGE_TOLERANCE
) -> np.ndarray:
    """image (H, W), mask (H, W) bool (True = hidden) -> float64 (H, W): the visible pixels as
    given, the hidden ones the smoothest fill. Hidden values of `image` are never read.

    The normal equations over the hidden pixels only (the 13-point stencil above, built with
    index arithmetic, no loop over pixels) in float32, the cost growing with the hidden pixels:
    a 3000x3000 image with 20% hidden has 1.8 million unknowns, 23 million matrix entries.
    """
    from scipy import sparse
    from scipy.sparse.linalg import cg

    height, width = mask.shape
    i, j = (index.astype(np.int32) for index in np.nonzero(mask))
    n = i.size
    if n == 0:
        return np.asarray(image, dtype=np.float64).copy()
    # Solved for the image less its visible pixels' mean, added back at the end: constants are
    # what L L leaves unchanged, so this changes no solution, but what is left for conjugate
    # gradients to find is the detail only. A fill that is nearly flat (one visible pixel: the
    # exact fill is its value everywhere) is then found exactly instead of being chased, badly
    # conditioned, across a whole image.
    offset = float(np.mean(image[~mask])) if n < mask.size else 0.0
    values = np.where(mask, 0.0, image - offset).astype(np.float32)
    # What the visible pixels impose, the right-hand side -(L L v) at the hidden pixels, and the
    # push-pull start: first, so that their image-sized temporaries are gone before the matrix.
    rhs = -_laplacian_numpy(_laplacian_numpy(values))[i, j]
    start = _coarse_start(values, mask, tolerance)[i, j]
    position = np.full(mask.shape, -1, dtype=np.int32)  # each hidden pixel's unknown
    position[i, j] = np.arange(n, dtype=np.int32)
    inside = np.pad(np.ones(mask.shape, dtype=np.float32), 1)
    degree = inside[:-2, 1:-1] + inside[2:, 1:-1] + inside[1:-1, :-2] + inside[1:-1, 2:]
    del inside
    own = degree[i, j]
    # Each hidden pixel's row: itself, then its 12 neighbours up to two steps away, those hidden
    # (an entry for a visible neighbour is dropped); built as (n, 13) arrays and compressed row by
    # row into scipy's CSR arrays directly, the least memory for 23 million entries.
    offsets = ((0, 0), *AXIAL, *DIAGONAL, *TWO_STEPS)
    columns = np.empty((n, len(offsets)), dtype=np.int32)
    entries = np.empty((n, len(offsets)), dtype=np.float32)
    kept = np.zeros((n, len(offsets)), dtype=bool)
    for k, (di, dj) in enumerate(offsets):
        qi, qj = i + di, j + dj
        inside_image = (qi >= 0) & (qi < height) & (qj >= 0) & (qj < width)
        qi[~inside_image] = 0
        qj[~inside_image] = 0
        kept[:, k] = inside_image & mask[qi, qj]
        columns[:, k] = position[qi, qj]
        if k == 0:
            entries[:, k] = own * own + own
        elif (di, dj) in AXIAL:
            entries[:, k] = -(own + degree[qi, qj])
        else:
            entries[:, k] = 2.0 if (di, dj) in DIAGONAL else 1.0
    del position, degree, qi, qj, inside_image
    pointers = np.zeros(n + 1, dtype=np.int32)  # fewer than 2**31 entries up to 165 Mpx hidden
    np.cumsum(kept.sum(axis=1, dtype=np.int32), out=pointers[1:])
    normal = sparse.csr_array((entries[kept], columns[kept], pointers), shape=(n, n))
    del columns, entries, kept
    precondition = sparse.diags_array(1.0 / normal.diagonal())  # Jacobi
    solution, _ = cg(
        normal, rhs, x0=start, rtol=tolerance, maxiter=IMAGE_MAX_ITERATIONS, M=precondition
    )
    del normal
    out = values.astype(np.float64)
    out[i, j] = solution
    out += offset
    out[~mask] = image[~mask]  # the visible pixels exactly as given, not shifted and back
    return out


# Below this many pixels a side, the solve starts from the push-pull fill; above, from the same
# solve on the image halved.
COARSEST = 48


def _coarse_start(values: np.ndarray, mask: np.ndarray, tolerance: float) -> np.ndarray:
    """A first guess of every pixel: the biharmonic fill of the image halved (each 2x2 block the
    mean of its visible pixels, hidden when all four are), itself started from the image halved
    again, and so on, brought back up bilinearly. A hole many pixels across, which conjugate
    gradients from a local guess take thousands of iterations to fill (their information moves
    a pixel or two an iteration), is then solved mostly at the coarse levels, where it is small;
    what is left at each level is detail near the hole's border."""
    import torch
    import torch.nn.functional as F

    height, width = mask.shape
    if min(height, width) < 2 * COARSEST:
        return _pushpull(values, mask)
    even = ((0, height % 2), (0, width % 2))
    visible = np.pad(~mask, even, mode="edge").astype(np.float32)
    weighted = np.pad(values, even, mode="edge") * visible
    blocks = (visible.shape[0] // 2, 2, visible.shape[1] // 2, 2)
    count = visible.reshape(blocks).sum(axis=(1, 3))
    coarse_values = weighted.reshape(blocks).sum(axis=(1, 3)) / np.maximum(count, 1.0)
    coarse = biharmonic_fill(coarse_values, count == 0, tolerance).astype(np.float32)
    up = F.interpolate(torch.from_numpy(coarse)[None, None], scale_factor=2, mode="bilinear")
    return np.where(mask, up[0, 0].numpy()[:height, :width], values)


def _pushpull(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import torch

    from vit_inpaint.models.pushpull import pushpull_fill

    filled = pushpull_fill(torch.from_numpy(values)[None], torch.from_numpy(mask)[None], steps=0)
    return filled[0].numpy()
