"""The correction path: the ring pose of every row along the screw path of each stage
(maths core)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod import transforms as tf
from hexapod.clinical import PlanInput

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]


def rows(plan_input: PlanInput, stage_days: IntArray) -> tuple[Array, IntArray, IntArray,
                                                              IntArray]:
    """Planned ``moving_ring_in_reference_ring`` of every row, with its day, adjustment and stage.

    Row 0 is the start. A gradual stage of ``d`` days has ``d * adjustments_per_day`` rows, the
    fragment moving by equal fractions of the stage's screw motion; an acute correction is one
    row that jumps from the start to the end. The last row is set to the exact target pose.

    Returns
    -------
    poses : ndarray (n, 4, 4)
    day, adjustment, stage : int arrays (n,)
    """
    settings = plan_input.case.correction
    way = plan_input.waypoints_in_anatomy
    if settings.method == "acute":
        poses = np.stack([plan_input.start_pose, plan_input.target_pose])
        return (poses, np.array([0, 1]), np.array([0, 1]), np.array([0, max(len(way) - 2, 0)]))
    per_day = settings.adjustments_per_day
    fragments = [way[0][None]]
    days = [np.zeros(1, dtype=np.int64)]
    adjust = [np.zeros(1, dtype=np.int64)]
    stage = [np.zeros(1, dtype=np.int64)]
    day0 = 0
    for k in range(len(way) - 1):
        steps = int(stage_days[k]) * per_day
        if steps == 0:
            continue
        motion = way[k + 1] @ tf.invert(way[k])
        fragments.append(tf.power(motion, np.arange(1, steps + 1) / steps) @ way[k])
        j = np.arange(steps)
        days.append(day0 + j // per_day + 1)
        adjust.append(j % per_day + 1)
        day0 += int(stage_days[k])
        stage.append(np.full(steps, k, dtype=np.int64))
    poses = plan_input.ring_pose_from_fragment(np.concatenate(fragments))
    poses[-1] = plan_input.target_pose  # exact end, free of accumulated rounding
    return poses, np.concatenate(days), np.concatenate(adjust), np.concatenate(stage)
