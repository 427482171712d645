"""Batched 6x6 linear solves for the forward-kinematics kernel (maths core, private).

Systems are stored batch-last, ``aug`` (6, 6 + k, n) = ``[A | y]``, and eliminated with one
numpy call per step over the whole batch, in work arrays reused across calls; a system the
fixed row order does not suit is solved again alone with LAPACK's partial pivoting.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

_MAX_MULTIPLIER = 16.0  # elimination multipliers above this: solved again, with pivoting
_LAPACK_BELOW = 8  # batches of at most this many systems go to LAPACK directly


class _Workspace:
    """Work arrays for chunks of up to ``size`` poses, reused by every Newton iteration:
    a fresh temporary of more than about 128 kB is mapped from the system and costs a page
    fault per 4 kB on first use, which at a chunk of 4096 poses is as slow as the
    arithmetic itself."""

    def __init__(self, size: int, extra: int = 6) -> None:
        self.size = size
        self.aug = np.empty((6, 6 + extra, size))
        self.original = np.empty((6, 6 + extra, size))
        self.lever = np.empty((3, 6, size))
        self.vec = np.empty((3, 6, size))
        self.unit = np.empty((3, 6, size))
        self.length = np.empty((6, size))
        self.six = np.empty((6, size))
        self.block = np.empty((5, 6 + extra, size))
        self.factor = np.empty((15, size))
        self.x = np.empty((6, extra, size))
        self.turn = np.empty((3, 3, size))
        self.rotations = (np.empty((3, 3, size)), np.empty((3, 3, size)))

    def get(self, name: str, m: int, columns: int | None = None) -> Array:
        """View of work array ``name`` for ``m`` poses (and ``columns`` of ``aug``)."""
        arr: Array = getattr(self, name)
        if columns is not None:
            arr = arr[:, :columns]
        return arr[..., :m]


def _solve_batch(aug: Array, work: _Workspace | None = None,
                 identity: bool = False) -> tuple[Array, Array]:
    """Solve ``A x = y`` for a batch stored last: ``aug`` (6, 6 + k, n) holds ``[A | y]``.

    Gaussian elimination vectorised over the batch in the given row order (callers order
    the rows as partial pivoting would at a typical pose, see :func:`_pivot_order`). A
    system that needs a multiplier larger than :data:`_MAX_MULTIPLIER` in that order (so
    that rounding errors could grow; partial pivoting keeps them at most 1), or has no
    finite answer, is solved again by itself with LAPACK's partial pivoting; so each
    system's answer depends on that system alone. With ``identity`` the right-hand sides are
    the identity (``x`` is the inverse): column ``j`` of it is zero above row ``j`` and the
    elimination of column ``k`` cannot change its columns after ``k``, so they are skipped.
    Destroys ``aug``. Returns ``x`` of shape
    (6, k, n) (NaN for a singular system) and ``det A`` (n,) up to the sign of the callers'
    fixed row order.
    """
    n, cols = aug.shape[-1], aug.shape[1]
    if n <= _LAPACK_BELOW:  # a few systems: per-system LAPACK costs fewer numpy calls
        x = _solve_lapack(aug)
        return x, np.asarray(np.linalg.det(aug[:, :6].transpose(2, 0, 1)), dtype=float)
    if work is None or work.size < n or work.block.shape[1] < cols:
        work = _Workspace(n, cols - 6)
    original = work.get("original", n, cols)
    np.copyto(original, aug)
    factor, block = work.get("factor", n), work.get("block", n)
    inverse_pivot, x = work.get("six", n), work.x[:, :cols - 6, :n]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        used = 0
        for k in range(5):  # eliminate column k below the diagonal, all rows in one call
            f = factor[used:used + 5 - k]
            used += 5 - k
            np.divide(1.0, aug[k, k], out=inverse_pivot[k])
            np.multiply(aug[k + 1:, k], inverse_pivot[k], out=f)
            end = 7 + k if identity else cols  # identity: its columns after k stay as they are
            update = block[:5 - k, :end - k - 1]
            np.multiply(f[:, None], aug[k, None, k + 1:end], out=update)
            aug[k + 1:, k + 1:end] -= update
        np.divide(1.0, aug[5, 5], out=inverse_pivot[5])
        largest = np.max(np.abs(factor, out=factor), axis=0)
        det = aug[0, 0] * aug[1, 1]
        for k in range(2, 6):
            det *= aug[k, k]
        np.multiply(aug[5, 6:], inverse_pivot[5], out=x[5])
        for k in range(4, -1, -1):  # back substitution, one row at a time
            known = block[:5 - k, :cols - 6]
            np.multiply(aug[k, k + 1:6, None], x[k + 1:], out=known)
            np.subtract(aug[k, 6:], np.sum(known, axis=0), out=x[k])
            x[k] *= inverse_pivot[k]
    weak = ~(largest <= _MAX_MULTIPLIER) | ~np.isfinite(det)
    if weak.any():
        x[..., weak] = _solve_lapack(original[..., weak])
        det[weak] = np.linalg.det(original[:, :6, weak].transpose(2, 0, 1))
    return x, det


def _solve_lapack(aug: Array) -> Array:
    """Partial-pivoting solve of each system of ``aug`` (6, 6 + k, m); NaN where singular."""
    mats = np.ascontiguousarray(aug[:, :6].transpose(2, 0, 1))
    rhs = np.ascontiguousarray(aug[:, 6:].transpose(2, 0, 1))
    try:
        return np.asarray(np.linalg.solve(mats, rhs).transpose(1, 2, 0))
    except np.linalg.LinAlgError:
        out = np.full((6, aug.shape[1] - 6, aug.shape[-1]), np.nan)
        for i in range(aug.shape[-1]):
            try:
                out[..., i] = np.linalg.solve(mats[i], rhs[i])
            except np.linalg.LinAlgError:
                pass
        return out
