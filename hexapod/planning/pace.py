"""Pacing: how far each pacing point travels in each stage, and the days the rate allows
(maths core).

The pacing points are the structures at risk when the case names any; otherwise the
corresponding point and the outer cortex (a circle of ``bone_radius_mm`` around the
corresponding point, perpendicular to the moving fragment). Along a screw path every point
moves at constant speed within a stage, so the rate alone asks for
``ceil(longest helix / rate)`` days per stage.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod import transforms as tf
from hexapod.clinical import PlanInput
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


def pace_report(plan_input: PlanInput, stage_days: NDArray[np.int64] | None = None
                ) -> PaceReport:
    """The pace of a plan with ``stage_days`` (default: the days the rate alone asks for; an
    acute correction has none, and its pace is the whole path in its one step)."""
    settings = plan_input.case.correction
    names, path, cortex_path = stage_paths(plan_input)
    acute = settings.method == "acute"
    if stage_days is None:
        stage_days = (np.zeros(len(path), dtype=np.int64) if acute
                      else rate_days(path, settings.rate_mm_per_day))
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
                      cortex_max_mm_per_day=cortex_rate)
