"""Rounding: the readings the patient sets, rounded to each strut's scale step (maths core).

Each row picks, among the 64 floor/ceil combinations of its six exact readings, the one that
keeps the pose closest to the planned one (the largest displacement of the key points and the
moving joints, to first order through the Jacobian), never moving a strut against the
direction its exact length moves, and never outside the fitted size.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod import transforms as tf
from hexapod.anatomy import motion_in_anatomy
from hexapod.clinical import PlanInput

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

_TOL = 1e-9
#: The 64 floor (0) / ceil (1) choices for six struts, shape (64, 6).
_COMBOS = ((np.arange(64)[:, None] >> np.arange(6)) & 1).astype(float)


def rounding_scores(plan_input: PlanInput, poses: Array, lengths: Array,
                    size_index: IntArray, key_points_ring: Array) -> tuple[Array, Array]:
    """The 64 floor/ceil candidates of every row and how far each moves the key points.

    Returns
    -------
    candidates : ndarray (n, 64, 6)
        Candidate readings (mm).
    score : ndarray (n, 64)
        Largest first-order displacement (mm) of the key points and moving joints; inf for a
        candidate outside the fitted size.
    """
    geo = plan_input.geometry
    lo_s, hi_s, inc_s, off_s = plan_input.catalogue.range_table()
    inc, off = inc_s[size_index], off_s[size_index]
    floor = np.floor((lengths - off) / inc + 1e-9) * inc
    cand = floor[:, None, :] + _COMBOS[None] * inc[:, None, :]  # (n, 64, 6)
    lo, hi = lo_s[size_index][:, None], hi_s[size_index][:, None]
    valid = ((cand >= lo - _TOL) & (cand <= hi + _TOL)).all(axis=-1)
    jac = plan_input.frame.jacobian(poses)
    delta_len = cand + off[:, None, :] - lengths[:, None, :]  # (n, 64, 6)
    twist = np.einsum("nij,nkj->nki", np.linalg.inv(jac), delta_len)  # (n, 64, 6)
    moving = tf.apply(poses[:, None], geo.moving_joints)  # (n, 6, 3)
    lever = np.concatenate([key_points_ring, moving], axis=1) - poses[:, None, :3, 3]
    disp = twist[:, :, None, :3] + np.cross(twist[:, :, None, 3:], lever[:, None])
    score = np.max(np.linalg.norm(disp, axis=-1), axis=-1)
    return cand, np.where(valid, score, np.inf)


def round_readings(plan_input: PlanInput, poses: Array, lengths: Array, size_index: IntArray,
                   key_points_ring: Array, keep_first: Array | None) -> Array:
    """Readings (n, 6) rounded to each strut's increment: per row the best-scoring candidate
    (see :func:`rounding_scores`) that moves no strut against the direction of its exact
    length and, in a gradual correction, no strut more than the change-per-adjustment limit
    (always possible when the exact change is within it and the limit is a whole number of
    scale steps). ``keep_first`` fixes row 0 (residual mode: the readings the frame has now)."""
    cand, score = rounding_scores(plan_input, poses, lengths, size_index, key_points_ring)
    off = plan_input.catalogue.range_table()[3][size_index]
    cand_len = cand + off[:, None, :]
    gradual = plan_input.case.correction.method == "gradual"
    limit = float(plan_input.catalogue.limits.max_change_per_adjustment_mm) if gradual else np.inf
    out = np.empty((len(lengths), 6))
    start = 0
    prev_len = None
    if keep_first is not None:
        out[0] = keep_first
        start = 1
        prev_len = keep_first + off[0]
    for j in range(start, len(lengths)):
        s = score[j]
        if prev_len is not None:
            ok = _allowed(cand_len[j] - prev_len, lengths[j] - lengths[j - 1], limit)
            if np.isfinite(s[ok]).any():
                s = np.where(ok, s, np.inf)
        best = int(np.argmin(s))
        out[j] = cand[j, best]
        prev_len = cand_len[j, best]
    return out

def relative_motion(plan_input: PlanInput, ring_poses: Array) -> Array:
    """Motion of the moving fragment in the anatomical frame since the start, per ring pose."""
    return motion_in_anatomy(ring_poses @ tf.invert(plan_input.start_pose),
                             plan_input.reference_ring_in_anatomy)


def key_points(plan_input: PlanInput) -> tuple[tuple[str, ...], Array]:
    """The points whose displacement rounding must keep small: the corresponding point and
    every structure at risk, anatomical frame at the start (mm), shape (K, 3)."""
    names = ("corresponding point", *plan_input.structure_names)
    return names, np.vstack([plan_input.corresponding_point[None], plan_input.structure_points])


def key_points_in_ring(plan_input: PlanInput, poses: Array) -> Array:
    """The key points moved along the planned rows, in the reference ring frame, (n, K, 3)."""
    _, key = key_points(plan_input)
    motion = relative_motion(plan_input, poses)
    return tf.apply(tf.invert(plan_input.reference_ring_in_anatomy),
                    tf.apply(motion[:, None], key))


def deviation(plan_input: PlanInput, planned: Array, achieved: Array) -> tuple[Array, Array,
                                                                               Array]:
    """How far the achieved poses are from the planned ones.

    Returns
    -------
    per_point_mm : ndarray (n, K)
        Displacement of each key point (see :func:`key_points`).
    deviation_mm : ndarray (n,)
        The largest of them.
    deviation_deg : ndarray (n,)
        Rotation between the planned and achieved ring poses.
    """
    _, key = key_points(plan_input)
    moved_plan = tf.apply(relative_motion(plan_input, planned)[:, None], key)
    moved_real = tf.apply(relative_motion(plan_input, achieved)[:, None], key)
    per_point = np.linalg.norm(moved_real - moved_plan, axis=-1)
    return (per_point, np.max(per_point, axis=1),
            np.degrees(tf.rotation_angle(tf.invert(planned) @ achieved)))


def _allowed(step: Array, move: Array, limit: float) -> NDArray[np.bool_]:
    """Candidates whose change from the previous row (``step``, (..., 6)) follows the
    direction of the exact change ``move`` (6,) and stays within ``limit``."""
    direction = np.sign(np.where(np.abs(move) < _TOL, 0.0, move))
    against = ((direction > 0) & (step < -_TOL)) | ((direction < 0) & (step > _TOL)) \
        | ((direction == 0) & (np.abs(step) > _TOL)) | (np.abs(step) > limit + _TOL)
    return np.asarray(~against.any(axis=-1))


def repair_rows(plan_input: PlanInput, poses: Array, lengths: Array, size_index: IntArray,
                readings: Array, rows: IntArray, bound_mm: float,
                bound_deg: float = np.inf) -> Array:
    """Re-pick the readings of ``rows`` by the exact (forward-kinematics) displacement of the
    key points instead of the first-order score, among the candidates that keep the direction
    and change-limit rules with both neighbouring rows and turn the ring at most ``bound_deg``.
    Rows with no better candidate keep their readings. Returns the new readings (n, 6)."""
    cand, score = rounding_scores(plan_input, poses, lengths, size_index,
                                  key_points_in_ring(plan_input, poses))
    off = plan_input.catalogue.range_table()[3][size_index]
    gradual = plan_input.case.correction.method == "gradual"
    limit = float(plan_input.catalogue.limits.max_change_per_adjustment_mm) if gradual else np.inf
    out = readings.copy()
    for j in rows:
        if j == 0:
            continue
        ok = np.isfinite(score[j]) & _allowed(cand[j] + off[j] - out[j - 1] - off[j - 1],
                                              lengths[j] - lengths[j - 1], limit)
        if j + 1 < len(out):
            ok &= _allowed(out[j + 1] + off[j + 1] - cand[j] - off[j],
                           lengths[j + 1] - lengths[j], limit)
        if not ok.any():
            continue
        options = cand[j][ok]
        status = plan_input.frame.solve_pose_status(options + off[j], guess=poses[j])
        achieved = np.asarray(status.poses)
        planned = np.broadcast_to(poses[j], achieved.shape)
        _, worst, turned = deviation(plan_input, planned, achieved)
        worst = np.where(status.converged & status.same_branch & (turned <= bound_deg), worst,
                         np.inf)
        best = int(np.argmin(worst))
        if worst[best] <= bound_mm:
            out[j] = options[best]
    return out
