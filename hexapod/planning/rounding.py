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
#: Rows per block of the displacement score (64 candidates x 8 bytes x 256 rows: 128 KiB).
_BLOCK_ROWS = 256


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
    return cand, np.where(valid, _largest_displacement(twist, lever), np.inf)


def _largest_displacement(twist: Array, lever: Array) -> Array:
    """Largest norm over the points of ``t + w x lever`` for twists (n, C, 6) ``(t, w)`` and
    levers (n, P, 3): shape (n, C). Component by component, one point at a time (no
    (n, C, P, 3) temporaries), with the same floating-point operations as ``np.cross`` and
    ``np.linalg.norm`` (the square root taken once, of the largest square: it is monotonic)."""
    largest = np.zeros(twist.shape[:2])
    for a in range(0, len(twist), _BLOCK_ROWS):  # blocks that stay in cache
        tx, ty, tz, wx, wy, wz = (np.ascontiguousarray(twist[a:a + _BLOCK_ROWS, :, k])
                                  for k in range(6))
        out = largest[a:a + _BLOCK_ROWS]
        for p in range(lever.shape[1]):
            lx, ly, lz = (lever[a:a + _BLOCK_ROWS, p, k, None] for k in range(3))
            dx = tx + (wy * lz - wz * ly)
            dy = ty + (wz * lx - wx * lz)
            dz = tz + (wx * ly - wy * lx)
            np.maximum(out, dx * dx + dy * dy + dz * dz, out=out)
    return np.asarray(np.sqrt(largest))


def round_readings(plan_input: PlanInput, poses: Array, lengths: Array, size_index: IntArray,
                   key_points_ring: Array, keep_first: Array | None) -> Array:
    """Readings (n, 6) rounded to each strut's increment: per row the best-scoring candidate
    (see :func:`rounding_scores`) that moves no strut against the direction of its exact
    length and, in a gradual correction, no strut more than the change-per-adjustment limit
    (always possible when the exact change is within it and the limit is a whole number of
    scale steps). ``keep_first`` fixes row 0 (residual mode: the readings the frame has now)."""
    cand, score = rounding_scores(plan_input, poses, lengths, size_index, key_points_ring)
    off = plan_input.catalogue.range_table()[3][size_index]
    gradual = plan_input.case.correction.method == "gradual"
    limit = float(plan_input.catalogue.limits.max_change_per_adjustment_mm) if gradual else np.inf
    first = None if keep_first is None else np.asarray(keep_first, dtype=float)
    best = choose_candidates(cand + off[:, None, :], score, lengths, limit,
                             None if first is None else first + off[0])
    out = np.take_along_axis(cand, best[:, None, None], axis=1)[:, 0]
    if first is not None:
        out[0] = first
    return out


def choose_candidates(cand_len: Array, score: Array, lengths: Array, limit: float,
                      first_len: Array | None) -> IntArray:
    """Index of the chosen candidate of every row (row 0 unused when ``first_len`` fixes it).

    The rule of :func:`round_readings` is a chain: a row's choice depends on the previous
    row's. Each row's unconstrained best (first lowest score) is also its constrained choice
    whenever the previous row chose its own unconstrained best and the rule allows the step
    between the two (the rule only removes candidates, so the first minimum survives), or when
    every score of the row is infinite. Those rows are taken in bulk; the rule is applied one
    row at a time only from a row where the bulk choice breaks it until the chain returns to
    the unconstrained best.

    Parameters
    ----------
    cand_len : (n, 64, 6) candidate set lengths (mm).
    score : (n, 64) candidate scores (inf: not allowed by the size).
    lengths : (n, 6) exact joint-centre distances (mm).
    limit : largest change of a strut in one row (mm; inf for none).
    first_len : (6,) set lengths of row 0 when they are fixed, else None.
    """
    n = len(score)
    best = np.argmin(score, axis=1)
    rows = np.arange(n)
    chosen = cand_len[rows, best]  # (n, 6)
    prev = chosen[:-1].copy()
    if first_len is not None and n > 1:
        prev[0] = first_len
    low, high = _step_bounds(np.diff(lengths, axis=0), limit)
    step = chosen[1:] - prev
    on_track = (((step >= low) & (step <= high)).all(axis=1)
                | ~np.isfinite(score[1:]).any(axis=1))
    broken = np.nonzero(~on_track)[0] + 1  # rows whose bulk choice breaks the rule
    k = 0
    while k < len(broken):
        j = int(broken[k])
        prev_len = first_len if (j == 1 and first_len is not None) else cand_len[j - 1, best[j - 1]]
        while j < n:
            s = score[j]
            step = cand_len[j] - prev_len
            ok = ((step >= low[j - 1]) & (step <= high[j - 1])).all(axis=1)
            if np.isfinite(s[ok]).any():
                s = np.where(ok, s, np.inf)
            pick = int(np.argmin(s))
            if pick == best[j]:
                break  # back on the bulk chain: the next rows follow it again
            best[j] = pick
            prev_len = cand_len[j, pick]
            j += 1
        k = int(np.searchsorted(broken, j, side="right"))
    return best


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


def _step_bounds(move: Array, limit: float) -> tuple[Array, Array]:
    """The steps :func:`_allowed` allows, as bounds: ``low <= step <= high`` per strut, for
    exact changes ``move`` (..., 6). With ``d = limit + tol`` (never below ``tol``): a
    lengthening strut may step in [-tol, d], a shortening one in [-d, tol], a still one in
    [-tol, tol] (a NaN change only within the limit)."""
    direction = np.sign(np.where(np.abs(move) < _TOL, 0.0, move))
    most = limit + _TOL
    low = np.select([direction > 0, direction < 0, direction == 0], [-_TOL, -most, -_TOL],
                    -most)
    high = np.select([direction > 0, direction < 0, direction == 0], [most, _TOL, _TOL], most)
    return low, high


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
        if np.isfinite(worst[best]) and worst[best] <= bound_mm:  # inf: every one excluded
            out[j] = options[best]
    return out
