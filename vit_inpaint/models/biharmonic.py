"""The biharmonic fill of a whole image: the smooth classical inpainting the photo inpainter
corrects (`model.prior=biharmonic`), solved fast enough to run on every training batch and on a
whole photograph.

The hidden pixels get the values that make the image as smooth as possible: they minimise the
sum over the image of (Laplacian of u)^2, the visible pixels held fixed. Its minimiser solves the
biharmonic equation at every hidden pixel (the 13-point stencil of scikit-image's
`inpaint_biharmonic`, which builds the same equation, row by row, and factors it; the two differ
only within two pixels of the image's border, where each truncates the stencil its own way).

Both solvers run Jacobi-preconditioned conjugate gradients on the normal equations (the
Laplacian with the image's edge repeated is symmetric, so they read M L L u = 0 on the hidden
pixels M); the hidden regions of photographs with holes, missing pixels and strokes are a few
pixels across, so they converge in tens to a hundred or so iterations:

    biharmonic_windows   a batch of small windows in torch, each image its own solve (training:
                         every batch's windows; cheap because the windows are small)
    biharmonic_fill      one whole image, gray or colour, over its hidden pixels only: the cost
                         grows with the hidden pixels, not the image (the filling tool;
                         models/biharmonic_image.py, imported from here)
"""

from __future__ import annotations

from vit_inpaint.models.biharmonic_image import IMAGE_TOLERANCE, biharmonic_fill

__all__ = ["IMAGE_TOLERANCE", "biharmonic_fill", "biharmonic_windows"]

# Conjugate gradients stop when the residual of the normal equations has fallen this much, or
# after MAX_ITERATIONS: at 1e-3 each window's fill is within 3e-4 of the exact solve (every
# pixel; 1e-5 root-mean-square), far below 1/255, at a third of the iterations of 1e-6.
TOLERANCE = 1e-3
# A window is at most 64x64 pixels: 1,000 iterations fill it.
MAX_ITERATIONS = 1000
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
