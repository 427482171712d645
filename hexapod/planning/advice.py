"""Advice: another neutral strut reading that would need fewer swaps (maths core)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from hexapod import transforms as tf
from hexapod.clinical import PlanInput, reading_to_length
from hexapod.errors import GeometryError, InputError
from hexapod.planning.result import Array, Note, Plan
from hexapod.planning.sizes import SWAP_COST, fit_sizes

_TOL = 1e-9  # the size fit's tolerance on a reading (sizes.fit_sizes)
#: Slack (mm) of the closed-form length bounds: far above their rounding (about 1e-13 mm).
_BOUND_SLACK_MM = 1e-6
#: Candidates per batched size fit (its back-pointers take about 400 B per candidate and row).
_FIT_BATCH = 8


def usable_readings(plan_input: PlanInput) -> tuple[Array, Array]:
    """Every whole-mm neutral strut reading the catalogue allows and its neutral ring height
    (mm), by the same reading-to-length and neutral-height rules as the case itself."""
    cat = plan_input.catalogue
    lo, hi, _, _ = cat.range_table()
    usable, heights = [], []
    for reading in np.arange(np.ceil(lo[0]), np.floor(hi[-1]) + 1):
        try:
            height = plan_input.geometry.neutral_height(reading_to_length(cat, float(reading)))
        except (InputError, GeometryError):
            continue
        usable.append(float(reading))
        heights.append(height)
    return np.array(usable), np.array(heights)


def candidate_lengths(plan_input: PlanInput, poses: Array, heights: Array) -> Array:
    """Joint-centre distances (mm) of the rows ``poses`` (n, 4, 4) planned from a neutral frame
    at each of ``heights`` (C,): every row's pose is ``(row pose) @ inv(target) @ N(h)``, only
    ``N(h)`` changing with the candidate. Shape (C, n, 6)."""
    left = poses @ tf.invert(plan_input.target_pose)
    moved = left[None] @ plan_input.geometry.neutral_pose(heights)[:, None]  # (C, n, 4, 4)
    return plan_input.frame.strut_lengths(moved, check=False)


def swap_counts(plan_input: PlanInput, lengths: Array) -> Array:
    """Fewest swaps of each candidate's rows (C, n, 6), inf where no size fitting exists.
    Candidates whose every strut stays inside one size need none (no size fit is run)."""
    cat = plan_input.catalogue
    lo, hi, _, offsets = cat.range_table()
    out = np.zeros(len(lengths))
    # fl(x - c) is monotonic in x: a strut's extremes decide whether a size holds every row
    low = lengths.min(axis=1)[..., None] - offsets  # (C, 6, S)
    high = lengths.max(axis=1)[..., None] - offsets
    one_size = ((low >= lo - _TOL) & (high <= hi + _TOL)).any(axis=-1).all(axis=-1)
    rest = np.nonzero(~one_size)[0]
    for a in range(0, len(rest), _FIT_BATCH):
        batch = rest[a:a + _FIT_BATCH]
        total, _ = fit_sizes(lengths[batch], lo, hi, offsets,
                             float(cat.limits.near_end_margin_mm), None)
        feasible = np.isfinite(total).all(axis=1)
        out[batch] = np.where(feasible, np.sum(np.where(np.isfinite(total), total, 0)
                                               // SWAP_COST, axis=1), np.inf)
    return out


def neutral_candidates(plan_input: PlanInput, poses: Array) -> tuple[Array, Array]:
    """Every whole-mm neutral strut reading the catalogue allows, and the swaps each needs
    (inf where no size fitting exists) for the rows ``poses`` of this case's path.

    Returns
    -------
    readings : ndarray (C,)
    swaps : ndarray (C,)
    """
    readings, heights = usable_readings(plan_input)
    if not len(readings):
        return np.zeros(0), np.zeros(0)
    return readings, swap_counts(plan_input, candidate_lengths(plan_input, poses, heights))


def length_bounds(plan_input: PlanInput, poses: Array, heights: Array) -> tuple[Array, Array]:
    """Smallest and largest joint-centre distance (mm) of each strut over the rows, for every
    candidate height, shape (C, 6) each, within :data:`_BOUND_SLACK_MM` of
    :func:`candidate_lengths`.

    ``N(h)`` is a translation by ``h`` along the moving side's axis, so a joint's offset from
    its reference joint is ``v + h u`` (``u`` a unit vector per row) and the squared length
    ``|v|^2 + h (2 v.u + h)``: no pose product per candidate.
    """
    geo = plan_input.geometry
    left = poses @ tf.invert(plan_input.target_pose)
    rot = left[:, :3, :3]
    v = rot @ geo.moving_joints.T + left[:, :3, 3, None] - geo.reference_joints.T  # (n, 3, 6)
    u = geo.moving_side * rot[:, :, 2]  # (n, 3)
    vu2 = np.ascontiguousarray(2.0 * np.einsum("nkj,nk->jn", v, u))  # (6, n)
    vv = np.ascontiguousarray(np.einsum("nkj,nkj->jn", v, v))
    low, high = np.empty((len(heights), 6)), np.empty((len(heights), 6))
    for c, h in enumerate(heights):
        squared = vv + h * (vu2 + h)  # (6, n)
        low[c], high[c] = squared.min(axis=1), squared.max(axis=1)
    return np.sqrt(np.maximum(low, 0.0)), np.sqrt(high)


def fewest_swap_candidates(plan_input: PlanInput, poses: Array, mine: float
                           ) -> tuple[Array, Array]:
    """The candidates of :func:`neutral_candidates` with their swaps exact wherever they
    decide :func:`pick_neutral` (inf elsewhere, and for the infeasible): the same pick as
    with every candidate fitted.

    A strut none of whose sizes can hold all its readings (by :func:`length_bounds`, with
    slack) needs at least one swap, so a candidate needs at least as many swaps as it has such
    struts (its level). Levels are fitted in increasing order while not above the fewest swaps
    found, each nearest to ``mine`` first (the lower reading first at equal distance); a level
    stops once a candidate with as many swaps as the level is nearer than all it has left. A
    candidate with a reading outside every size (with slack) has no fitting at all.
    """
    readings, heights = usable_readings(plan_input)
    if not len(readings):
        return readings, np.full(0, np.inf)
    lo, hi, _, offsets = plan_input.catalogue.range_table()
    low, high = length_bounds(plan_input, poses, heights)
    slack = _TOL + _BOUND_SLACK_MM
    low_r, high_r = low[..., None] - offsets, high[..., None] - offsets  # (C, 6, S)
    outside = ((low_r.max(axis=-1) < lo.min() - slack)
               | (high_r.min(axis=-1) > hi.max() + slack)).any(axis=-1)
    level_of = ((low_r < lo - slack) | (high_r > hi + slack)).all(axis=-1).sum(axis=1)
    return readings, nearest_fewest(
        readings, outside, level_of, mine,
        lambda group: swap_counts(plan_input, candidate_lengths(plan_input, poses,
                                                                heights[group])))


def nearest_fewest(readings: Array, outside: NDArray[np.bool_], level_of: NDArray[np.int64],
                   mine: float, fit: Callable[[NDArray[np.int64]], Array]) -> Array:
    """The search of :func:`fewest_swap_candidates`: swaps of the candidates ``fit`` was
    asked for (it returns the exact swaps of a group of candidate indices), inf elsewhere.
    ``outside`` candidates have no fitting; every other needs at least ``level_of`` swaps."""
    swaps = np.full(len(readings), np.inf)
    order = np.lexsort((readings, np.abs(readings - mine)))  # nearest first, lower on ties
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    done = np.zeros(len(readings), dtype=bool)
    for level in range(int(np.max(level_of, initial=0)) + 1):
        if level > np.min(swaps, initial=np.inf):
            break
        queue = order[~outside[order] & (level_of[order] == level)]
        for a in range(0, len(queue), _FIT_BATCH):
            group = queue[a:a + _FIT_BATCH]
            swaps[group] = fit(group)
            done[group] = True
            tied = done & (swaps == level)
            if tied.any() and (a + _FIT_BATCH >= len(queue)
                               or rank[tied].min() < rank[queue[a + _FIT_BATCH]]):
                return swaps
    return swaps


def suggest_neutral_strut(plan_input: PlanInput, plan_result: Plan) -> tuple[float, int] | None:
    """Chronic mode: the neutral strut reading (whole mm) that needs the fewest swaps, the
    nearest to the surgeon's own on ties; ``None`` in residual mode or when none is feasible.

    Returns
    -------
    (reading_mm, swaps)
    """
    case = plan_input.case
    if case.mode != "chronic" or case.frame.neutral_strut_mm is None:
        return None
    mine = case.frame.neutral_strut_mm
    candidates, swaps = fewest_swap_candidates(plan_input, np.asarray(plan_result.poses), mine)
    return pick_neutral(candidates, swaps, mine)


def pick_neutral(candidates: Array, swaps: Array, mine: float) -> tuple[float, int] | None:
    """The candidate with the fewest swaps, the nearest to ``mine`` on ties (the lower
    reading when two are as near); ``None`` when none is feasible."""
    if not np.isfinite(swaps).any():
        return None
    best = float(np.min(swaps))
    tied = candidates[swaps == best]
    return float(tied[np.argmin(np.abs(tied - mine))]), int(best)


def neutral_strut_advice(plan_result: Plan) -> Note | None:
    """A ``neutral_strut`` note when another neutral strut reading needs fewer swaps than the
    plan's; ``None`` otherwise. Its detail: ``reading_mm``, ``swaps``, ``current_mm``,
    ``current_swaps``."""
    plan_input = plan_result.plan_input
    suggestion = suggest_neutral_strut(plan_input, plan_result)
    mine = plan_input.case.frame.neutral_strut_mm
    if suggestion is None or mine is None:
        return None
    reading, swaps = suggestion
    ours = plan_result.swap_count
    if reading == mine or swaps >= ours:
        return None
    return Note("neutral_strut", {"reading_mm": reading, "swaps": swaps, "current_mm": mine,
                                  "current_swaps": ours})
