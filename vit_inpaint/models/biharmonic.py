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
Jacobi preconditioner, from the push-pull fill (models/prior.py); the hidden regions of
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
# after MAX_ITERATIONS. At 1e-3 the fill is within 3e-4 of the exact solve on training windows
# (every pixel; 1e-5 root-mean-square), far below 1/255, at a third of the iterations of 1e-6.
TOLERANCE = 1e-3
MAX_ITERATIONS = 1000
# A weight on staying near the starting fill: it makes the problem well posed for an image with
# no visible pixel at all (every constant is then equally smooth), and changes nothing visible
# otherwise (the Laplacian terms are of order 1, this one 1e-9).
ANCHOR = 1e-9


NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # of the 5-point Laplacian


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

    from vit_inpaint.models.prior import pushpull_fill

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
    stop = tolerance * rz.sqrt()
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


def _laplacian_rows(mask: np.ndarray):
    """The rows of the 5-point Laplacian that involve a hidden pixel, as sparse triplets over the
    pixels of the batch (flat indices): (row, column, coefficient) arrays.

    mask (B, H, W) bool. A neighbour beyond an image's border is the border pixel itself (the
    image's edge repeated, as scipy.ndimage.laplace and scikit-image do), so a border row's
    centre weight is -3 (-2 in a corner); rows never cross from one image of the batch to
    another.
    """
    batch, height, width = mask.shape
    # Pixels whose Laplacian sees a hidden pixel: hidden ones and their 4 neighbours.
    near = mask.copy()
    near[:, 1:] |= mask[:, :-1]
    near[:, :-1] |= mask[:, 1:]
    near[:, :, 1:] |= mask[:, :, :-1]
    near[:, :, :-1] |= mask[:, :, 1:]
    b, i, j = np.nonzero(near)
    rows = np.arange(len(b))
    centre = (b * height + i) * width + j
    triplet_rows, columns, values = [rows], [centre], [np.full(len(b), -4.0)]
    for di, dj in NEIGHBOURS:
        ni = np.clip(i + di, 0, height - 1)
        nj = np.clip(j + dj, 0, width - 1)
        triplet_rows.append(rows)
        columns.append((b * height + ni) * width + nj)
        values.append(np.ones(len(b)))
    return np.concatenate(triplet_rows), np.concatenate(columns), np.concatenate(values), len(b)


def biharmonic_fill(
    images: np.ndarray,
    mask: np.ndarray,
    start: np.ndarray | None = None,
    tolerance: float = TOLERANCE,
) -> np.ndarray:
    """images (B, H, W) or (H, W), mask of the same shape (True = hidden) -> float64 of that
    shape: the visible pixels as given, the hidden ones the smoothest fill. Hidden values of
    `images` are never read. start: a first guess of the hidden values (default: the push-pull
    fill of each image)."""
    from scipy import sparse
    from scipy.sparse.linalg import cg

    single = images.ndim == 2
    if single:
        images, mask = images[None], mask[None]
        start = None if start is None else start[None]
    values = np.where(mask, 0.0, images.astype(np.float64))
    hidden = np.flatnonzero(mask)
    if hidden.size == 0:
        return values[0] if single else values
    if start is None:
        start = _pushpull(values, mask)
    rows, columns, coefficients, n_rows = _laplacian_rows(mask)
    flat_mask = mask.reshape(-1)
    is_unknown = flat_mask[columns]
    # Column index among the hidden pixels (for the unknown part of each row).
    position = np.full(flat_mask.size, -1, dtype=np.int64)
    position[hidden] = np.arange(hidden.size)
    laplacian = sparse.csr_array(
        (coefficients[is_unknown], (rows[is_unknown], position[columns[is_unknown]])),
        shape=(n_rows, hidden.size),
    )
    # What the visible pixels add to each row: L_v v, moved to the right-hand side.
    known = np.bincount(
        rows[~is_unknown],
        weights=coefficients[~is_unknown] * values.reshape(-1)[columns[~is_unknown]],
        minlength=n_rows,
    )
    x0 = start.reshape(-1)[hidden]
    normal = (laplacian.T @ laplacian).tocsr()
    normal = normal + ANCHOR * sparse.eye_array(hidden.size, format="csr")
    rhs = -(laplacian.T @ known) + ANCHOR * x0
    # Jacobi preconditioner: the normal matrix's diagonal (20 inside the image).
    diagonal = normal.diagonal()
    precondition = sparse.diags_array(1.0 / diagonal)
    solution, _ = cg(normal, rhs, x0=x0, rtol=tolerance, maxiter=MAX_ITERATIONS, M=precondition)
    out = values.reshape(-1).copy()
    out[hidden] = solution
    out = out.reshape(values.shape)
    return out[0] if single else out


def _pushpull(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import torch

    from vit_inpaint.models.prior import pushpull_fill

    filled = pushpull_fill(torch.from_numpy(values), torch.from_numpy(mask), steps=0)
    return filled.numpy()
