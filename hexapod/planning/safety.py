"""Safety geometry: every limit of the catalogue checked on every row (maths core).

Change per adjustment, the Jacobian's condition number (near-singular frames), the gap between
the rings, clearance between struts and the universal joints' angles. Each broken limit is one
:class:`~hexapod.planning.result.Violation` at its first row.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod import transforms as tf
from hexapod.clinical import PlanInput
from hexapod.findings import Violation

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

_TOL = 1e-9

def _segment_distances(p0: Array, p1: Array, q0: Array, q1: Array) -> Array:
    """Distance between segments p0-p1 and q0-q1, batched over leading axes."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a = np.einsum("...k,...k->...", d1, d1)
    e = np.einsum("...k,...k->...", d2, d2)
    f = np.einsum("...k,...k->...", d2, r)
    c = np.einsum("...k,...k->...", d1, r)
    b = np.einsum("...k,...k->...", d1, d2)
    denom = a * e - b * b
    s = np.where(denom > 1e-12, np.clip((b * f - c * e) / np.where(denom > 1e-12, denom, 1.0),
                                        0, 1), 0.0)
    t = (b * s + f) / e
    t_cl = np.clip(t, 0, 1)
    s = np.where(t < 0, np.clip(-c / a, 0, 1), np.where(t > 1, np.clip((b - c) / a, 0, 1), s))
    t = t_cl
    diff = (p0 + s[..., None] * d1) - (q0 + t[..., None] * d2)
    return np.asarray(np.linalg.norm(diff, axis=-1), dtype=float)


_PAIRS = [(i, j) for i in range(6) for j in range(i + 1, 6)]
_CIRCLE_SAMPLES = 72


def first_row(kind: str, mask: NDArray[np.bool_], values: Array, limit: float, day: IntArray,
              per_strut: bool) -> list[Violation]:
    """One violation at the first row (and strut) where ``mask`` holds, counting the rows.

    ``mask`` and ``values`` are (n,) or (n, 6); ``per_strut`` says whether the column is a strut.
    """
    flat = mask.reshape(len(mask), -1)
    rows, cols = np.nonzero(flat)
    if not rows.size:
        return []
    j, c = int(rows[0]), int(cols[0])
    value = float(values.reshape(len(mask), -1)[j, c])
    return [Violation(kind, int(day[j]), c + 1 if per_strut else None, value, limit,
                      {"rows": int(np.unique(rows).size)})]


def change_per_adjustment(plan_input: PlanInput, readings: Array, lengths: Array,
                          day: IntArray) -> list[Violation]:
    """Largest change of a strut (joint length or reading) from one row to the next, against
    the catalogue's limit; an acute correction is set in theatre in one step and is exempt."""
    if plan_input.case.correction.method != "gradual" or len(day) < 2:
        return []
    worst = np.maximum(np.abs(np.diff(lengths, axis=0)), np.abs(np.diff(readings, axis=0)))
    limit = float(plan_input.catalogue.limits.max_change_per_adjustment_mm)
    return first_row("change_per_adjustment", worst > limit + _TOL, worst, limit, day[1:],
                     per_strut=True)


def condition(plan_input: PlanInput, poses: Array) -> Array:
    """Scaled Jacobian condition number of each pose, shape (n,)."""
    return plan_input.frame.condition_number(poses)


def ring_gap(plan_input: PlanInput, poses: Array) -> Array:
    """Closest approach (mm) of each ring's joint circle to the other ring's plane, per row."""
    geo = plan_input.geometry
    angles = np.linspace(0, 2 * np.pi, _CIRCLE_SAMPLES, endpoint=False)
    circle = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1)
    mov_pts = tf.apply(poses[:, None], geo.moving_radius_mm * circle)  # reference frame
    ref_pts = tf.apply(tf.invert(poses)[:, None], geo.reference_radius_mm * circle)
    return np.asarray(np.minimum(np.min(geo.moving_side * mov_pts[..., 2], axis=1),
                                 np.min(-geo.moving_side * ref_pts[..., 2], axis=1)), dtype=float)


def strut_clearance(plan_input: PlanInput, poses: Array) -> tuple[Array, Array, Array]:
    """Distance (mm) between the axes of every pair of struts on every row.

    Returns
    -------
    distance : ndarray (n, 15)
    first, second : int arrays (15,)
        Strut indices (0..5) of each pair.
    """
    geo = plan_input.geometry
    ends = tf.apply(poses[:, None], geo.moving_joints)  # (n, 6, 3)
    base = np.broadcast_to(geo.reference_joints, ends.shape)
    ii = np.array([p[0] for p in _PAIRS])
    jj = np.array([p[1] for p in _PAIRS])
    return _segment_distances(base[:, ii], ends[:, ii], base[:, jj], ends[:, jj]), ii, jj


def joint_angles(plan_input: PlanInput, poses: Array) -> Array:
    """Bend (degrees) of each strut's universal joints from its ring's axis, the larger of the
    two ends, shape (n, 6)."""
    geo = plan_input.geometry
    ends = tf.apply(poses[:, None], geo.moving_joints)
    unit = ends - geo.reference_joints
    unit /= np.linalg.norm(unit, axis=-1, keepdims=True)
    ang_ref = np.degrees(np.arccos(np.clip(unit @ np.array([0.0, 0.0, geo.moving_side]), -1, 1)))
    mov_axis = -geo.moving_side * poses[:, :3, 2]
    ang_mov = np.degrees(np.arccos(np.clip(np.einsum("nik,nk->ni", -unit, mov_axis), -1, 1)))
    return np.asarray(np.maximum(ang_ref, ang_mov), dtype=float)


def safety_checks(plan_input: PlanInput, poses: Array, readings: Array, lengths: Array,
                  day: IntArray) -> tuple[list[Violation], Array]:
    """Every safety limit of the catalogue on every row.

    Parameters
    ----------
    poses : ndarray (n, 4, 4)
        ``moving_ring_in_reference_ring`` of each row.
    readings, lengths : ndarray (n, 6)
        Scale readings and the joint-centre distances they set (mm).
    day : int array (n,)

    Returns
    -------
    violations : list of Violation
        Kinds ``change_per_adjustment``, ``singular``, ``ring_gap``, ``strut_collision``,
        ``joint_angle``.
    condition : ndarray (n,)
    """
    lim = plan_input.catalogue.limits
    found = change_per_adjustment(plan_input, readings, lengths, day)
    cond = condition(plan_input, poses)
    climit = float(lim.max_condition_number)
    found += first_row("singular", ~(cond <= climit), cond, climit, day, per_strut=False)
    gap = ring_gap(plan_input, poses)
    glimit = float(lim.min_ring_gap_mm)
    found += first_row("ring_gap", gap < glimit, gap, glimit, day, per_strut=False)
    dist, ii, jj = strut_clearance(plan_input, poses)
    dlimit = float(lim.strut_diameter_mm)
    if (dist < dlimit).any():
        j, k = map(int, np.argwhere(dist < dlimit)[0])
        found.append(Violation("strut_collision", int(day[j]), int(ii[k]) + 1,
                               float(dist[j, k]), dlimit, {"other_strut": int(jj[k]) + 1}))
    joint = joint_angles(plan_input, poses)
    alimit = float(lim.max_joint_angle_deg)
    found += first_row("joint_angle", joint > alimit, joint, alimit, day, per_strut=True)
    return found, cond
