"""Strut sizes: which size each strut wears on each row, with the fewest swaps (maths core).

A strut can be swapped for another size only on a row whose reading lies inside both sizes'
ranges (their overlap window). A dynamic programme over the rows finds, for every strut, the
fitting with the fewest swaps and then the fewest readings near a size's end.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod.clinical import PlanInput
from hexapod.findings import Violation

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Cost of one swap in the dynamic programme: more than any count of near-end rows.
SWAP_COST = 1_000_000.0
_TOL = 1e-9


def fit_sizes(lengths: Array, lo: Array, hi: Array, offsets: Array, margin: float,
             fixed: IntArray | None) -> tuple[Array, IntArray]:
    """Fewest swaps, then fewest near-end readings, for every strut (and leading batch).

    Parameters
    ----------
    lengths : (..., n, 6) joint-centre distances per row.
    lo, hi, offsets : (S,) per strut size.
    fixed : (6,) size indices fitted at row 0, or None to choose.

    Returns
    -------
    cost : (..., 6) -- ``swaps * 1e6 + near-end rows`` (inf when infeasible).
    choice : (..., n, 6) fitted size per row (-1 when infeasible).
    """
    reading = lengths[..., None] - offsets  # (..., n, 6, S)
    inside = (reading >= lo - _TOL) & (reading <= hi + _TOL)
    near = ((reading <= lo + margin) | (reading >= hi - margin)).astype(float)
    n = lengths.shape[-2]
    sizes = len(lo)
    cost = np.where(inside[..., 0, :, :], near[..., 0, :, :], np.inf)
    if fixed is not None:
        cost = np.where(np.arange(sizes) == fixed[:, None], cost, np.inf)
    back = np.zeros((*lengths.shape[:-2], n, 6, sizes), dtype=np.int64)
    back[..., 0, :, :] = np.arange(sizes)
    stay_index = np.broadcast_to(np.arange(sizes), cost.shape)
    for j in range(1, n):
        ins = inside[..., j, :, :]
        masked = np.where(ins, cost, np.inf)
        src = np.argmin(masked, axis=-1)
        swap = np.take_along_axis(masked, src[..., None], axis=-1) + SWAP_COST
        use_swap = swap < cost
        new = np.where(use_swap, swap, cost) + near[..., j, :, :]
        back[..., j, :, :] = np.where(use_swap, src[..., None], stay_index)
        cost = np.where(ins, new, np.inf)
    best = np.argmin(cost, axis=-1)
    total = np.take_along_axis(cost, best[..., None], axis=-1)[..., 0]
    choice = np.empty((*lengths.shape[:-2], n, 6), dtype=np.int64)
    cur = best
    for j in range(n - 1, -1, -1):
        choice[..., j, :] = cur
        cur = np.take_along_axis(back[..., j, :, :], cur[..., None], axis=-1)[..., 0]
    choice = np.where(np.isfinite(total)[..., None, :], choice, -1)
    return total, choice


def fixed_sizes(plan_input: PlanInput) -> IntArray | None:
    """Size index of each strut fitted now (``frame.strut_sizes``), or None to choose."""
    names = plan_input.case.frame.strut_sizes
    if names is None:
        return None
    cat = plan_input.catalogue
    return np.array([cat.strut_size_index(s) for s in names], dtype=np.int64)


def unfittable(plan_input: PlanInput, lengths: Array, day: IntArray, total: Array
               ) -> list[Violation]:
    """Why each strut with no feasible fitting has none: a reading outside every size
    (``strut_range``), the fitted size unable to reach the readings (``strut_range`` with
    ``detail["fitted"]``), or readings that jump past every overlap window (``swap_window``)."""
    cat = plan_input.catalogue
    lo, hi, _, offsets = cat.range_table()
    found = []
    for strut in range(6):
        if np.isfinite(total[strut]):
            continue
        reading = lengths[:, strut, None] - offsets
        inside = (reading >= lo - _TOL) & (reading <= hi + _TOL)
        outside = np.nonzero(~inside.any(axis=1))[0]
        fitted = plan_input.case.frame.strut_sizes
        if outside.size:
            j = int(outside[0])
            value = float(lengths[j, strut] - offsets[0])
            limit = float(lo[0]) if value < lo[0] else float(hi[-1])
            found.append(Violation("strut_range", int(day[j]), strut + 1, value, limit,
                                   {"catalogue": cat.name, "min_mm": float(lo[0]),
                                    "max_mm": float(hi[-1])}))
        elif fitted is not None:
            found.append(Violation("strut_range", None, strut + 1, None, None,
                                   {"fitted": fitted[strut], "catalogue": cat.name}))
        else:
            found.append(Violation("swap_window", None, strut + 1, None, None,
                                   {"catalogue": cat.name}))
    return found
