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
#: Cost of a swap on a day another strut already swaps on: less than a swap, more than the
#: near-end rows of any plan shorter than 10,000 rows.
SPREAD_COST = 10_000.0
_TOL = 1e-9


def fit_sizes(lengths: Array, lo: Array, hi: Array, offsets: Array, margin: float,
              fixed: IntArray | None, free_rows: NDArray[np.bool_] | None = None,
              day: IntArray | None = None, swap_penalty: Array | None = None
              ) -> tuple[Array, IntArray]:
    """Fewest swaps, then fewest near-end readings, for every strut (and leading batch).

    The state of a strut on a row is its size and whether it was already swapped that day:
    a second swap of one strut on one day is never chosen.

    Parameters
    ----------
    lengths : (..., n, 6) joint-centre distances per row.
    lo, hi, offsets : (S,) per strut size.
    fixed : (6,) size indices fitted at row 0, or None to choose.
    free_rows : (n,) bool, optional
        Rows on which a strut may be swapped whatever its reading (an acute step, set in
        theatre: the surgeon fits the other size); elsewhere a swap needs the reading inside
        both sizes.
    day : (n,) int, optional
        Day of each row (default: every row its own day).
    swap_penalty : (n, 6), optional
        Extra cost of a swap of each strut on each row (see :func:`spread_swaps`).

    Returns
    -------
    cost : (..., 6) -- ``swaps * 1e6 + near-end rows`` (inf when infeasible).
    choice : (..., n, 6) fitted size per row (-1 when infeasible).
    """
    batch, n, sizes = lengths.shape[:-2], lengths.shape[-2], len(lo)
    m = int(np.prod(batch, dtype=np.int64)) * 6
    # rows first, then (batch, strut) flattened: the loop below indexes one row at a time
    reading = np.moveaxis(lengths.reshape(m // 6, n, 6), 1, 0).reshape(n, m, 1) - offsets
    inside = (reading >= lo - _TOL) & (reading <= hi + _TOL)  # (n, m, S)
    near = ((reading <= lo + margin) | (reading >= hi - margin)).astype(float)
    start = np.ones((m, sizes), dtype=bool)  # sizes a strut may wear at row 0
    if fixed is not None:
        start = np.arange(sizes) == np.tile(fixed, m // 6)[:, None]
    # A strut that one allowed size holds on every row needs no swap (a swap costs more than
    # any count of near-end rows): its fit is that size, the fewest near-end rows, the
    # smaller size on ties -- what the programme's first minimum gives. Only the others run.
    holds = inside.all(axis=0) & start
    simple = holds.any(axis=1)
    total = np.full(m, np.inf)
    picked = np.empty((n, m), dtype=np.int64)
    held = np.where(holds, near.sum(axis=0), np.inf)[simple]
    picked[:, simple] = np.argmin(held, axis=1)
    total[simple] = np.min(held, axis=1)
    rest = np.nonzero(~simple)[0]
    if rest.size:
        new_day = np.ones(n, dtype=bool) if day is None else np.r_[True, np.diff(day) != 0]
        free = np.zeros(n, dtype=bool) if free_rows is None else np.asarray(free_rows, bool)
        penalty = (None if swap_penalty is None
                   else np.tile(np.asarray(swap_penalty, dtype=float), (1, m // 6))[:, rest])
        total[rest], picked[:, rest] = _programme(inside[:, rest], near[:, rest], start[rest],
                                                  new_day, free, penalty)
    choice = np.moveaxis(picked.reshape(n, m // 6, 6), 0, 1).reshape(*batch, n, 6)
    total = total.reshape(*batch, 6)
    choice = np.where(np.isfinite(total)[..., None, :], choice, -1)
    return total, choice


def _programme(inside: NDArray[np.bool_], near: Array, start: NDArray[np.bool_],
               new_day: NDArray[np.bool_], free: NDArray[np.bool_], penalty: Array | None
               ) -> tuple[Array, IntArray]:
    """The dynamic programme of :func:`fit_sizes` for ``m`` struts: ``inside``/``near``
    (n, m, S), sizes allowed at row 0 ``start`` (m, S), rows starting a day ``new_day`` (n,),
    free rows (n,), swap penalty (n, m) or None. Returns the cost (m,) and the size of every
    row (n, m)."""
    n, m, sizes = inside.shape
    # near-end count where the reading is inside the size, inf outside: adding it to a cost
    # (never negative) is the programme's ``where(inside, cost + near, inf)``
    step_cost = np.where(inside, near, np.inf)
    c0 = np.where(inside[0] & start, near[0], np.inf)  # (m, S): not swapped today
    c1 = np.full_like(c0, np.inf)  # swapped today
    back = np.zeros((n, m, 2 * sizes), dtype=np.int64)  # from (2 * size + flag), per flag
    ids = 2 * np.arange(sizes)
    stay_ids = np.broadcast_to(ids, c0.shape)
    swapped_ids = ids + 1
    nothing = np.full_like(c0, np.inf)
    rows = np.arange(m)
    for j in range(1, n):
        ins = inside[j]
        if new_day[j]:  # yesterday's swaps do not count
            flag = c1 < c0
            stay0 = np.minimum(c0, c1)
            stay1 = nothing
            from0 = ids + flag
            source = stay0
        else:
            flag = None
            stay0, stay1 = c0, c1
            from0 = stay_ids
            source = c0
        masked = source if free[j] else np.where(ins, source, np.inf)
        src = np.argmin(masked, axis=1)
        swap = masked[rows, src] + SWAP_COST
        if penalty is not None:
            swap = swap + penalty[j]
        swap_from = 2 * src if flag is None else 2 * src + flag[rows, src]
        use_swap = swap[:, None] < stay1
        back[j, :, 0::2] = from0
        back[j, :, 1::2] = np.where(use_swap, swap_from[:, None], swapped_ids)
        c0 = stay0 + step_cost[j]
        c1 = np.where(use_swap, swap[:, None], stay1) + step_cost[j]
    flat = np.stack([c0, c1], axis=-1).reshape(m, 2 * sizes)  # 2 * size + flag
    cur = np.argmin(flat, axis=1)
    total = flat[rows, cur]
    picked = np.empty((n, m), dtype=np.int64)
    for j in range(n - 1, -1, -1):
        picked[j] = cur
        cur = back[j, rows, cur]
    return total, picked // 2


def swap_days(choice: IntArray, day: IntArray) -> list[list[int]]:
    """For each strut, the days on which its size changes."""
    rows = [np.nonzero(np.diff(choice[:, i]))[0] + 1 for i in range(6)]
    return [[int(day[j]) for j in r] for r in rows]


def spread_swaps(lengths: Array, lo: Array, hi: Array, offsets: Array, margin: float,
                 fixed: IntArray | None, free_rows: NDArray[np.bool_] | None, day: IntArray,
                 choice: IntArray) -> IntArray:
    """The fitting ``choice`` re-fitted strut by strut so that swaps of different struts fall
    on different days where their windows allow (clinics change one or two struts a day): the
    number of swaps stays the fewest, ties go to days no other strut swaps on."""
    days = swap_days(choice, day)
    if sum(len(d) for d in days) < 2:
        return choice
    out = choice.copy()
    strut = 0
    while strut < 6:
        # A strut none of whose swaps falls on another strut's swap day keeps its fit: the
        # penalty only raises paths that swap on those days, its own path keeps its cost and
        # every first minimum along it (so no fit is run for it). The others are independent
        # in the fit: each gets its own penalty column from today's swap days, all in one
        # fit; strut by strut in order, a refit is the one-at-a-time refit as long as no
        # earlier refit moved its swap days.
        if not any(_clashes(days, i) for i in range(strut, 6)):
            break
        penalty = np.zeros((len(day), 6))
        for i in range(strut, 6):
            for d in (d for k, ds in enumerate(days) if k != i for d in ds):
                penalty[:, i] += SPREAD_COST * (day == d)
        total, refit = fit_sizes(lengths, lo, hi, offsets, margin, fixed, free_rows, day,
                                 penalty)
        while strut < 6:
            moved = False
            if _clashes(days, strut) and np.isfinite(total[strut]):
                out[:, strut] = refit[:, strut]
                new_days = swap_days(out, day)[strut]
                moved = new_days != days[strut]
                days[strut] = new_days
            strut += 1
            if moved:
                break
    return out


def _clashes(days: list[list[int]], strut: int) -> bool:
    """Whether a swap day of ``strut`` is also another strut's swap day."""
    others = {d for k, ds in enumerate(days) if k != strut for d in ds}
    return any(d in others for d in days[strut])


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
            k = cat.strut_size_index(fitted[strut])
            leaves = np.nonzero(~inside[:, k])[0]  # the first row the fitted size cannot hold
            j = int(leaves[0]) if leaves.size else 0
            value = float(reading[j, k])
            limit = float(lo[k]) if value < lo[k] else float(hi[k])
            found.append(Violation("strut_range", int(day[j]), strut + 1, value, limit,
                                   {"fitted": fitted[strut], "catalogue": cat.name,
                                    "min_mm": float(lo[k]), "max_mm": float(hi[k])}))
        else:
            found.append(Violation("swap_window", None, strut + 1, None, None,
                                   {"catalogue": cat.name}))
    return found
