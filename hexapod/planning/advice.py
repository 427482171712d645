"""Advice: another neutral strut reading that would need fewer swaps (maths core)."""

from __future__ import annotations

import numpy as np

from hexapod import transforms as tf
from hexapod.clinical import PlanInput, reading_to_length
from hexapod.errors import GeometryError, InputError
from hexapod.planning.result import Array, Note, Plan
from hexapod.planning.sizes import SWAP_COST, fit_sizes


def neutral_candidates(plan_input: PlanInput, poses: Array) -> tuple[Array, Array]:
    """Every whole-mm neutral strut reading the catalogue allows, and the swaps each needs
    (inf where no size fitting exists) for the rows ``poses`` of this case's path.

    Every row's pose is ``(row pose) @ inv(target) @ N(h)``: only the neutral pose ``N(h)``
    changes with the candidate, so all candidates are fitted in one batched size fit.

    Returns
    -------
    readings : ndarray (C,)
    swaps : ndarray (C,)
    """
    cat = plan_input.catalogue
    geo = plan_input.geometry
    lo, hi, _, offsets = cat.range_table()
    usable = []
    heights_list = []
    for reading in np.arange(np.ceil(lo[0]), np.floor(hi[-1]) + 1):
        try:  # the same reading-to-length and neutral-height rules as the case itself
            height = geo.neutral_height(reading_to_length(cat, float(reading)))
        except (InputError, GeometryError):
            continue
        usable.append(float(reading))
        heights_list.append(height)
    if not usable:
        return np.zeros(0), np.zeros(0)
    left = poses @ tf.invert(plan_input.target_pose)
    moved = left[None] @ geo.neutral_pose(np.array(heights_list))[:, None]  # (C, n, 4, 4)
    lengths = plan_input.frame.strut_lengths(moved, check=False)
    total, _ = fit_sizes(lengths, lo, hi, offsets, float(cat.limits.near_end_margin_mm), None)
    feasible = np.isfinite(total).all(axis=1)
    swaps = np.where(feasible, np.sum(np.where(np.isfinite(total), total, 0) // SWAP_COST,
                                      axis=1), np.inf)
    return np.array(usable), swaps


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
    candidates, swaps = neutral_candidates(plan_input, np.asarray(plan_result.poses))
    if not np.isfinite(swaps).any():
        return None
    best = float(np.min(swaps))
    tied = candidates[swaps == best]
    pick = float(tied[np.argmin(np.abs(tied - case.frame.neutral_strut_mm))])
    return pick, int(best)


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
