"""Pacing: how far each pacing point travels in each stage, and the fewest days that keep
every constraint (maths core).

The pacing points are the structures at risk when the case names any; otherwise the
corresponding point and the outer cortex (a circle of ``bone_radius_mm`` around the
corresponding point, perpendicular to the moving fragment). Along a screw path every point
moves at constant speed within a stage, so the rate alone asks for
``ceil(longest helix / rate)`` days per stage. A rotation far from the bone axis can move the
struts faster than the bone, so the days are raised until no strut changes more than the
catalogue's limit in one adjustment (and, for a strut changing size, less than the narrowest
overlap window, so that a row falls inside it for the swap); :func:`schedule` says which
constraint set them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod import policy
from hexapod import transforms as tf
from hexapod.clinical import PlanInput
from hexapod.errors import PlanRefused
from hexapod.findings import Violation
from hexapod.planning.result import PaceReport

Array = NDArray[np.float64]

#: Names of the automatic pacing points (used when the case names no structure at risk).
CORRESPONDING_POINT = "corresponding point"
CORTEX = "cortex"

_CORTEX_SAMPLES = 720
_TOL = 1e-9


def cortex_points(centre: Array, axis: Array, radius: float) -> Array:
    """Points (mm, anatomical frame) on the circle of the bone's outer cortex of ``radius``
    around ``centre``, perpendicular to the unit ``axis``; shape (720, 3)."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    phi = np.linspace(0.0, 2 * np.pi, _CORTEX_SAMPLES, endpoint=False)
    return np.asarray(centre + radius * (np.cos(phi)[:, None] * e1
                                         + np.sin(phi)[:, None] * e2), dtype=float)


def stage_paths(plan_input: PlanInput) -> tuple[tuple[str, ...], Array, Array]:
    """Helix length (mm) of every pacing point and of the cortex in every stage.

    Returns
    -------
    names : tuple of str
        The pacing points.
    path_mm : ndarray (stages, points)
        Longest path of each pacing point (the cortex as its fastest sample).
    cortex_mm : ndarray (stages,)
        Longest path of any cortex sample.
    """
    settings = plan_input.case.correction
    way = plan_input.waypoints_in_anatomy
    start_inv = tf.invert(way[0])
    cortex = cortex_points(plan_input.corresponding_point, plan_input.moving_axis,
                           settings.bone_radius_mm)
    named = len(plan_input.structure_names) > 0
    if named:
        names = plan_input.structure_names
        points = plan_input.structure_points
    else:
        names = (CORRESPONDING_POINT, CORTEX)
        points = np.vstack([plan_input.corresponding_point[None], cortex])
    stages = len(way) - 1
    path = np.zeros((stages, len(names)))
    cortex_path = np.zeros(stages)
    for k in range(stages):
        motion = way[k + 1] @ tf.invert(way[k])
        lengths = tf.point_path_length(motion, tf.apply(way[k] @ start_inv, points))
        path[k] = lengths if named else [lengths[0], float(np.max(lengths[1:]))]
        cortex_path[k] = float(np.max(tf.point_path_length(
            motion, tf.apply(way[k] @ start_inv, cortex))))
    return tuple(names), path, cortex_path


def rate_days(path_mm: Array, rate_mm_per_day: float) -> NDArray[np.int64]:
    """Fewest days per stage that keep every pacing point within the rate (0 for a stage in
    which nothing moves)."""
    longest = np.max(path_mm, axis=1, initial=0.0)
    days = np.ceil(longest / rate_mm_per_day - 1e-9).astype(np.int64)
    return np.where(longest > _TOL, np.maximum(days, 1), 0)


def stage_lengths(plan_input: PlanInput, stage: int, steps: int) -> Array:
    """Joint-centre distances (mm) at ``steps + 1`` equal fractions of one stage's screw path
    (its start included), shape (steps + 1, 6)."""
    way = plan_input.waypoints_in_anatomy
    motion = way[stage + 1] @ tf.invert(way[stage])
    fragments = tf.power(motion, np.arange(steps + 1) / steps) @ way[stage]
    return plan_input.frame.strut_lengths(plan_input.ring_pose_from_fragment(fragments),
                                          check=False)


def step_bounds(plan_input: PlanInput, lengths: Array) -> Array:
    """Largest change (mm) each strut may make in one adjustment over a stage: the catalogue's
    limit, and for a strut whose readings cross from one size to another, also the narrowest
    overlap window (so that some row falls inside it for the swap). Shape (6,)."""
    cat = plan_input.catalogue
    lo, hi, _, offsets = cat.range_table()
    bound = np.full(6, float(cat.limits.max_change_per_adjustment_mm))
    reading = lengths[..., None] - offsets  # (m, 6, S)
    inside = (reading >= lo - _TOL) & (reading <= hi + _TOL)
    one_size = np.all(inside, axis=0).any(axis=-1)  # a size holds every reading of the strut
    windows = hi[:-1] - lo[1:]
    if windows.size and (windows > 0).any():
        narrowest = float(np.min(windows[windows > 0]))
        bound = np.where(one_size, bound, np.minimum(bound, narrowest))
    return bound


def change_days(plan_input: PlanInput, stage: int, at_least: int) -> tuple[int, int]:
    """Fewest days (>= ``at_least``) for one stage so that no strut changes more than its
    :func:`step_bounds` in one adjustment; returns (days, the strut that needs them, 1..6, or
    0 when the bound is not what sets them)."""
    per_day = plan_input.case.correction.adjustments_per_day
    fine = stage_lengths(plan_input, stage, 512)
    bound = step_bounds(plan_input, fine)
    speed = np.max(np.abs(np.diff(fine, axis=0)), axis=0) * 512  # mm per whole stage
    days = max(at_least, int(np.max(np.ceil(speed / (per_day * bound) - 1e-9))))
    while True:
        change = np.max(np.abs(np.diff(stage_lengths(plan_input, stage, days * per_day),
                                       axis=0)), axis=0)
        over = change > bound + _TOL
        if not over.any():
            break
        days += 1
    setter = int(np.argmax(change / bound)) + 1 if days > at_least else 0
    return days, setter


def schedule(plan_input: PlanInput, path: Array | None = None
             ) -> tuple[NDArray[np.int64], tuple[str, ...], tuple[int, ...]]:
    """Days of each stage: the fewest that keep every pacing point within the rate, every
    strut within the change per adjustment and give every swap a row in its window.

    ``path`` is :func:`stage_paths`' path lengths, when the caller has them. A correction
    longer than :data:`hexapod.policy.MAX_PLAN_DAYS` is refused (``plan_length``) as soon as
    the rate alone asks for more, before the per-adjustment search, and again after it.

    Returns
    -------
    stage_days : int array (stages,)
    set_by : tuple of str
        Per stage, the constraint that set its days: ``rate``, ``change_per_adjustment``,
        ``swap_window`` or ``none`` (nothing moves).
    set_by_strut : tuple of int
        Per stage, the strut (1..6) whose change set the days, or 0.
    """
    settings = plan_input.case.correction
    if path is None:
        path = stage_paths(plan_input)[1]
    days = rate_days(path, settings.rate_mm_per_day)
    _refuse_too_long(days)
    set_by, struts = [], []
    limit = float(plan_input.catalogue.limits.max_change_per_adjustment_mm)
    for k in range(len(days)):
        if days[k] == 0:
            set_by.append("none")
            struts.append(0)
            continue
        need, strut = change_days(plan_input, k, int(days[k]))
        if strut:
            fine = stage_lengths(plan_input, k, 64)
            crossing = step_bounds(plan_input, fine)[strut - 1] < limit - _TOL
            set_by.append("swap_window" if crossing else "change_per_adjustment")
        else:
            set_by.append("rate")
        days[k] = need
        struts.append(strut)
    _refuse_too_long(days)
    return days, tuple(set_by), tuple(struts)


def _refuse_too_long(stage_days: NDArray[np.int64]) -> None:
    """A ``plan_length`` refusal when the stages add up to more than the policy allows."""
    total = int(np.sum(stage_days))
    if total > policy.MAX_PLAN_DAYS:
        raise PlanRefused([Violation("plan_length", None, None, float(total),
                                     float(policy.MAX_PLAN_DAYS))])


def pace_report(plan_input: PlanInput) -> PaceReport:
    """The pace of a plan: its days (see :func:`schedule`; an acute correction has none, and
    its pace is the whole path in its one step) and how fast every pacing point moves."""
    settings = plan_input.case.correction
    names, path, cortex_path = stage_paths(plan_input)
    acute = settings.method == "acute"
    if acute:
        stage_days = np.zeros(len(path), dtype=np.int64)
        set_by: tuple[str, ...] = ("acute",) * len(path)
        set_by_strut: tuple[int, ...] = (0,) * len(path)
    else:
        stage_days, set_by, set_by_strut = schedule(plan_input, path)
    if acute:
        per_day = np.max(path, axis=0) if len(path) else np.zeros(len(names))
        per_point = np.sum(path, axis=0)
        cortex_rate = float(np.sum(cortex_path))
    else:
        safe_days = np.maximum(stage_days, 1)[:, None]
        per_day = np.max(path / safe_days, axis=0)
        per_point = per_day
        cortex_rate = float(np.max(cortex_path / safe_days[:, 0], initial=0.0))
    setter = names[int(np.argmax(per_point))] if len(names) else ""
    return PaceReport(names=names, path_mm=path, stage_days=np.array(stage_days, dtype=np.int64),
                      pace_setter=setter, max_mm_per_day=float(np.max(per_day, initial=0.0)),
                      cortex_max_mm_per_day=cortex_rate, days_set_by=set_by,
                      days_set_by_strut=set_by_strut)
