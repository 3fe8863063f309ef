"""The biharmonic fill of one whole image, gray or colour, in numpy over its hidden pixels only:
the prior the photo inpainter corrects, and the chroma of a colour photograph it fills.

The hidden pixels get the values that minimise the sum over the image of (Laplacian of u)^2, the
visible pixels held fixed (models/biharmonic.py says why, and solves the same for small windows).
The minimiser solves the normal equations M L L u = 0 at the hidden pixels M, L the Laplacian
with the image's edge repeated (the grid graph's Laplacian, symmetric). L L couples a pixel p to
pixels up to two steps away; with d(p) the number of p's neighbours inside the image: d(p)^2 +
d(p) with itself, -(d(p) + d(q)) with a neighbour q, 2 with a diagonal neighbour, 1 two steps
along a row or column.

Nothing here is image-sized but the first look at the mask (and, when many pixels are hidden, the
coarse first guess): each hidden pixel's 12 neighbours are found once (a position map when many
pixels are hidden, a binary search of the sorted hidden pixels when few are), and every
conjugate-gradient iteration is 12 gathers over the hidden pixels, so its cost grows with them,
not with the image; a colour image's channels are one solve with three right-hand sides (the
matrix is the mask's alone). How it is solved depends on the number n of hidden pixels:
    n < DIRECT_FROM          conjugate gradients in numpy (scattered pixels and small holes
                             converge in tens of iterations; scipy's import alone would cost
                             a third of a second)
    n < ITERATIVE_FROM       scipy's sparse LU factorisation, exact: a hole many pixels across
                             takes conjugate gradients hundreds of iterations (a 200x200 hole:
                             30.7 s) and the factorisation 2.3 s (1 MP photo, 3% painted in
                             blobs and scribbles: 8.5 s against 0.22 s)
    from ITERATIVE_FROM      scipy's conjugate gradients from the coarse start: the factors of
                             1.8 million unknowns would need 35 million entries (420 MB+)
Nothing here imports torch: the filling tool runs without it (fill/model.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Conjugate gradients stop when each channel's residual has fallen below IMAGE_TOLERANCE times
# its right-hand side's (scipy's `rtol`): 1e-5 keeps the hidden-pixel error within 1% of
# scikit-image's on the test photographs (1e-3: up to 30% off); a hole 64 pixels across takes
# about 2,000 iterations from a poor start, far fewer from the coarse one below.
IMAGE_TOLERANCE = 1e-5
IMAGE_MAX_ITERATIONS = 10_000
AXIAL = ((-1, 0), (1, 0), (0, -1), (0, 1))
DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))
TWO_STEPS = ((-2, 0), (2, 0), (0, -2), (0, 2))
# Below this share of hidden pixels (in the hidden pixels' bounding box) a hole is a few pixels
# across and the solve starts from each pixel's visible neighbours; above, from the coarse fill.
COARSE_START_SHARE = 0.01
COARSEST = 48  # below this many pixels a side the coarse fill starts from push-pull
DIRECT_FROM = 1_000  # hidden pixels from which the solve is scipy's sparse LU (docstring)
ITERATIVE_FROM = 100_000  # ... and from which it is scipy's conjugate gradients


@dataclass
class Stencil:
    """The normal matrix over the hidden pixels (rows, cols), as gathers: neighbours[k] is the
    unknown of each pixel's k-th neighbour (n where it is visible or outside the image), weights[k]
    its entry: an (n, 1) tensor for the 4 axial neighbours, whose entries vary near the image's
    border, a number for the 8 others (memory: 1.8 million unknowns, 29 MB an array)."""

    rows: np.ndarray
    cols: np.ndarray
    diagonal: np.ndarray  # (n, 1) float32
    neighbours: list  # 12 (n,) int32 arrays
    weights: list  # 4 (n, 1) float32 arrays, then 8 numbers
    rhs: np.ndarray  # (n, C) float32: -(L L v) at the hidden pixels, v the visible values
    visible_mean: np.ndarray  # (n, C): mean of each pixel's visible neighbours (a first guess)


def _degree(rows: np.ndarray, cols: np.ndarray, height: int, width: int) -> np.ndarray:
    """How many of each pixel's 4 neighbours are inside the image."""
    inside = 4 - (rows == 0) - (rows == height - 1) - (cols == 0) - (cols == width - 1)
    return inside.astype(np.float32)


def unknown_of(mask: np.ndarray, linear: np.ndarray):
    """A function from pixels' linear indices (all inside the image) to their unknown's number,
    -1 for a visible pixel."""
    n, size = linear.size, mask.size
    if n > size // 64:  # many hidden: a position map (one image-sized int32 array) is fastest
        position = np.full(size, -1, dtype=np.int32)
        position[linear] = np.arange(n, dtype=np.int32)
        return lambda q: position[q]

    def search(q):
        found = np.minimum(np.searchsorted(linear, q), n - 1)
        return np.where(linear[found] == q, found, -1).astype(np.int32)

    return search


def build_stencil(values: np.ndarray, mask: np.ndarray) -> Stencil:
    """values (H, W, C) float32 (hidden ones never read), mask (H, W) bool -> the Stencil."""
    height, width = mask.shape
    linear = np.flatnonzero(mask)
    rows, cols = np.divmod(linear, width)
    n, channels = linear.size, values.shape[2]
    number = unknown_of(mask, linear)
    own = _degree(rows, cols, height, width)
    flat = values.reshape(-1, channels)
    rhs = np.zeros((n, channels), dtype=np.float32)
    seen = np.zeros((n, channels), dtype=np.float32)
    seen_count = np.zeros((n, 1), dtype=np.float32)
    neighbours, weights = [], []
    for di, dj in (*AXIAL, *DIAGONAL, *TWO_STEPS):
        qi, qj = rows + di, cols + dj
        inside = (qi >= 0) & (qi < height) & (qj >= 0) & (qj < width)
        q = np.clip(qi, 0, height - 1) * width + np.clip(qj, 0, width - 1)
        unknown = np.where(inside, number(q), -1)
        if (di, dj) in AXIAL:
            weight = -(own + _degree(qi, qj, height, width))
        else:
            weight = np.full(n, 2.0 if (di, dj) in DIAGONAL else 1.0, dtype=np.float32)
        visible = (inside & (unknown < 0))[:, None]
        rhs -= np.where(visible, weight[:, None] * flat[q], 0.0)
        seen += np.where(visible, flat[q], 0.0)
        seen_count += visible
        neighbours.append(np.where(unknown < 0, n, unknown).astype(np.int32))
        axial = (di, dj) in AXIAL
        weights.append(weight[:, None] if axial else float(weight[0]))
    fallback = seen.sum(0) / max(float(seen_count.sum()), 1.0)  # deep inside a hole
    visible_mean = np.where(seen_count > 0, seen / np.maximum(seen_count, 1.0), fallback)
    diagonal = (own * own + own)[:, None]
    return Stencil(rows, cols, diagonal, neighbours, weights, rhs, visible_mean.astype(np.float32))


def _apply(stencil: Stencil, x: np.ndarray) -> np.ndarray:
    """The normal matrix times x (n, C)."""
    padded = np.concatenate([x, np.zeros((1, x.shape[1]), x.dtype)])  # row n: visible, 0
    out = stencil.diagonal * x
    for index, weight in zip(stencil.neighbours, stencil.weights, strict=True):
        out += weight * padded[index]
    return out


def _norms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("nc,nc->c", x, x))


def conjugate_gradients(stencil: Stencil, start, tolerance: float, max_iterations: int):
    """Jacobi-preconditioned conjugate gradients, each channel (column) its own solve; stops when
    every channel's residual is below `tolerance` times its right-hand side's."""
    b = stencil.rhs
    x = np.array(start, dtype=np.float32)
    residual = b - _apply(stencil, x)
    inverse_diagonal = 1.0 / stencil.diagonal
    z = inverse_diagonal * residual
    direction = z
    rz = np.einsum("nc,nc->c", residual, z)
    stop = tolerance * _norms(b)
    for _ in range(max_iterations):
        if (_norms(residual) <= stop).all():
            break
        product = _apply(stencil, direction)
        step = rz / np.maximum(np.einsum("nc,nc->c", direction, product), 1e-30)
        x += step * direction
        residual -= step * product
        z = inverse_diagonal * residual
        rz, previous = np.einsum("nc,nc->c", residual, z), rz
        direction = z + (rz / np.maximum(previous, 1e-30)) * direction
    return x


def normal_matrix(stencil: Stencil, dtype=np.float32):
    """The normal matrix as scipy's compressed sparse rows (int32 indices); frees the stencil's
    neighbour lists, which the solves that take this matrix no longer need."""
    from scipy import sparse

    n = stencil.rows.size
    columns = np.stack([np.arange(n, dtype=np.int32), *stencil.neighbours], 1)
    stencil.neighbours.clear()  # memory back before the solve
    entries = np.concatenate(
        [stencil.diagonal]
        + [w if isinstance(w, np.ndarray) else np.full((n, 1), w, np.float32)
           for w in stencil.weights],
        axis=1,
    )  # fmt: skip
    kept = columns < n
    pointers = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(kept.sum(axis=1, dtype=np.int32), out=pointers[1:])
    return sparse.csr_array((entries[kept].astype(dtype), columns[kept], pointers), shape=(n, n))


def direct_solve(stencil: Stencil) -> np.ndarray:
    """The exact solution (n, C) by scipy's sparse LU factorisation (SuperLU, COLAMD ordering),
    factorised once for all channels."""
    from scipy.sparse.linalg import splu

    factors = splu(normal_matrix(stencil, np.float64).tocsc(), permc_spec="COLAMD")
    return factors.solve(stencil.rhs.astype(np.float64))


def scipy_conjugate_gradients(stencil: Stencil, start, tolerance: float, max_iterations: int):
    """conjugate_gradients with scipy's compiled sparse matrix, a channel at a time; the same
    stopping rule (scipy's rtol)."""
    from scipy import sparse
    from scipy.sparse.linalg import cg

    normal = normal_matrix(stencil)
    precondition = sparse.diags_array(1.0 / stencil.diagonal[:, 0])
    rhs, first = stencil.rhs, np.asarray(start)
    solved = [
        cg(normal, rhs[:, c], x0=first[:, c], rtol=tolerance, maxiter=max_iterations,
           M=precondition)[0]
        for c in range(rhs.shape[1])
    ]  # fmt: skip
    return np.stack(solved, axis=1)


def solve(stencil: Stencil, values: np.ndarray, mask: np.ndarray, tolerance: float):
    """The hidden pixels' values (n, C), by the method the module's docstring gives for n."""
    n = stencil.rows.size
    if DIRECT_FROM <= n < ITERATIVE_FROM:
        return direct_solve(stencil)
    start = _start(values, mask, stencil, tolerance)
    iterate = conjugate_gradients if n < DIRECT_FROM else scipy_conjugate_gradients
    return iterate(stencil, start, tolerance, IMAGE_MAX_ITERATIONS)


def biharmonic_fill(image: np.ndarray, mask: np.ndarray, tolerance: float = IMAGE_TOLERANCE):
    """image (H, W) or (H, W, C), mask (H, W) bool (True = hidden) -> float64 of image's shape:
    the visible pixels as given, the hidden ones the smoothest fill, each channel on its own.
    Hidden values of `image` are never read."""
    mask = np.asarray(mask, dtype=bool)
    image = np.asarray(image)
    if not mask.any() or mask.all():
        return np.where(_channels(mask), 0.0, _channels(image)).astype(np.float64)[
            ..., slice(None) if image.ndim == 3 else 0
        ]
    # Solved for the image less its visible pixels' mean (per channel), added back at the end:
    # constants are what L L leaves unchanged, so this changes no solution, but what is left for
    # conjugate gradients to find is the detail only. A fill that is nearly flat (one visible
    # pixel: the exact fill is its value everywhere) is then found exactly instead of being
    # chased, badly conditioned, across a whole image.
    offset = _channels(image)[~mask].mean(axis=0)
    values = np.where(_channels(mask), 0.0, _channels(image) - offset).astype(np.float32)
    stencil = build_stencil(values, mask)
    solution = solve(stencil, values, mask, tolerance)
    out = _channels(image).astype(np.float64)  # the visible pixels exactly as given
    out[stencil.rows, stencil.cols] = np.asarray(solution, dtype=np.float64) + offset
    return _as_input(out, image)


def _channels(x: np.ndarray) -> np.ndarray:
    return x[..., None] if x.ndim == 2 else x


def _as_input(x: np.ndarray, image: np.ndarray) -> np.ndarray:
    return x[..., 0] if image.ndim == 2 else x


def _start(values: np.ndarray, mask: np.ndarray, stencil: Stencil, tolerance: float):
    """The first guess at the hidden pixels (n, C): for holes a few pixels across, the mean of
    each pixel's visible neighbours; where many pixels are hidden, the coarse fill over the
    hidden pixels' bounding box (and two pixels around it, all the solve reads)."""
    rows, cols = stencil.rows, stencil.cols
    top, bottom = max(int(rows.min()) - 2, 0), int(rows.max()) + 3
    left, right = max(int(cols.min()) - 2, 0), int(cols.max()) + 3
    box = (slice(top, bottom), slice(left, right))
    if rows.size < COARSE_START_SHARE * mask[box].size:
        return stencil.visible_mean
    coarse = coarse_start(values[box], mask[box], tolerance)
    return np.ascontiguousarray(coarse[rows - top, cols - left])


def coarse_start(values: np.ndarray, mask: np.ndarray, tolerance: float) -> np.ndarray:
    """A first guess of every pixel of (H, W, C) values: the biharmonic fill of the image halved
    (each 2x2 block the mean of its visible pixels, hidden when all four are), itself started
    from the image halved again, and so on, brought back up bilinearly. A hole many pixels across,
    which conjugate gradients from a local guess take thousands of iterations to fill (their
    information moves a pixel or two an iteration), is then solved mostly at the coarse levels,
    where it is small; what is left at each level is detail near the hole's border."""
    height, width = mask.shape
    if min(height, width) < 2 * COARSEST:
        return _flat_start(values, mask)
    even = ((0, height % 2), (0, width % 2))
    visible = np.pad(~mask, even, mode="edge").astype(np.float32)[..., None]
    weighted = np.pad(values, (*even, (0, 0)), mode="edge") * visible
    blocks = (visible.shape[0] // 2, 2, visible.shape[1] // 2, 2, -1)
    count = visible.reshape(blocks).sum(axis=(1, 3))
    coarse_values = weighted.reshape(blocks).sum(axis=(1, 3)) / np.maximum(count, 1.0)
    coarse = biharmonic_fill(coarse_values, count[..., 0] == 0, tolerance).astype(np.float32)
    up = upsample_twice(coarse)
    return np.where(mask[..., None], up[:height, :width], values)


def upsample_twice(x: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (2H, 2W, C) bilinearly, each new pixel from its four nearest old ones
    (torch's interpolate(scale_factor=2, mode="bilinear"), edges repeated)."""
    for axis in (0, 1):
        before = np.concatenate([x.take([0], axis), x.take(range(x.shape[axis] - 1), axis)], axis)
        after = np.concatenate([x.take(range(1, x.shape[axis]), axis), x.take([-1], axis)], axis)
        near_before, near_after = 0.75 * x + 0.25 * before, 0.75 * x + 0.25 * after
        x = np.stack([near_before, near_after], axis + 1)
        shape = list(near_before.shape)
        shape[axis] *= 2
        x = x.reshape(shape)
    return x


def _flat_start(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The coarsest level's first guess: every hidden pixel the visible pixels' mean (the solve
    at the level above, 50 to 100 pixels a side, then needs a few hundred cheap iterations)."""
    seen = values[~mask]
    mean = seen.mean(axis=0) if len(seen) else np.zeros(values.shape[-1], values.dtype)
    return np.where(mask[..., None], mean, values).astype(np.float32)
