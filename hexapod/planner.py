"""Correction planner: screw path, rate, daily adjustments, rounding, strut sizes, safety checks
(maths core).

From a :class:`~hexapod.clinical.PlanInput` the planner makes a :class:`Plan`: row 0 is the
frame at the start, then one row per adjustment. Every row holds the planned pose, the exact
joint-centre distances, the rounded readings the patient sets, the fitted strut sizes and any
swap, and is verified by forward kinematics of its own readings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.anatomy import true_angulation
from hexapod.clinical import PlanInput, reading_to_length
from hexapod.errors import GeometryError, InputError, PlanError

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

_CORTEX_SAMPLES = 720
_SWAP_COST = 1_000_000.0
_TOL = 1e-9


@dataclass(frozen=True)
class Swap:
    """A strut change-out: on this row strut ``strut`` (1..6) of size ``from_size`` is replaced by
    one of size ``to_size`` set to ``reading_mm``."""

    strut: int
    from_size: str
    to_size: str
    reading_mm: float


@dataclass(frozen=True)
class PaceReport:
    """Which point set the number of days, and how fast each paced point moves."""

    names: tuple[str, ...]
    path_mm: Array  # (stages, points): path length of each pacing point in each stage
    stage_days: IntArray
    pace_setter: str
    max_mm_per_day: float
    cortex_max_mm_per_day: float


@dataclass(frozen=True, eq=False)
class Plan:
    """A verified prescription; arrays have one entry per row (row 0 = the start).

    Attributes
    ----------
    plan_input : PlanInput
    day, adjustment, stage : int arrays (n,)
        Day of correction (0 = start), adjustment within the day (0 on row 0), stage index.
    dates : tuple of datetime.date
    times : tuple of str
        Clock time of each adjustment ("" on row 0).
    poses : ndarray (n, 4, 4)
        Planned ``moving_ring_in_reference_ring``.
    joint_lengths_mm : ndarray (n, 6)
        Exact joint-centre distances of the planned poses.
    readings_mm : ndarray (n, 6)
        Scale readings to set, rounded to each strut's increment.
    size_index : int array (n, 6)
        Fitted size of each strut (index into ``catalogue.strut_sizes``).
    achieved_poses : ndarray (n, 4, 4)
        Forward kinematics of the rounded readings.
    deviation_mm, deviation_deg : ndarray (n,)
        Achieved vs planned: largest displacement of the corresponding point and every structure
        at risk (mm), and the rotation between them (degrees).
    near_end : bool array (n, 6)
        Reading within the catalogue's margin of its size's end.
    swaps, warnings : tuple of tuples per row
    """

    plan_input: PlanInput
    day: IntArray
    adjustment: IntArray
    stage: IntArray
    dates: tuple[dt.date, ...]
    times: tuple[str, ...]
    poses: Array
    joint_lengths_mm: Array
    readings_mm: Array
    size_index: IntArray
    achieved_poses: Array
    deviation_mm: Array
    deviation_deg: Array
    near_end: NDArray[np.bool_]
    swaps: tuple[tuple[Swap, ...], ...]
    warnings: tuple[tuple[str, ...], ...]
    pace: PaceReport
    condition: Array
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def days(self) -> int:
        return int(self.day[-1])

    @property
    def size_names(self) -> list[list[str]]:
        names = [s.name for s in self.plan_input.catalogue.strut_sizes]
        return [[names[i] for i in row] for row in self.size_index]

    def summary(self) -> dict[str, object]:
        """The contract's summary block plus the pace report."""
        d = self.plan_input.case.deformity
        true, plane = true_angulation(d.ap_angulation_deg, d.lat_angulation_deg)
        return {
            "days": self.days,
            "adjustments": int(len(self.day) - 1),
            "true_angle_deg": round(true, 6),
            "plane_from_coronal_deg": round(plane, 6),
            "max_sar_mm_per_day": round(self.pace.max_mm_per_day, 6),
            "pace_set_by": self.pace.pace_setter,
            "cortex_max_mm_per_day": round(self.pace.cortex_max_mm_per_day, 6),
            "final_residual_mm": round(float(self.deviation_mm[-1]), 6),
            "final_residual_deg": round(float(self.deviation_deg[-1]), 6),
            "max_rounding_deviation_mm": round(float(np.max(self.deviation_mm)), 6),
            "swaps": int(sum(len(s) for s in self.swaps)),
            "stages": list(self.plan_input.stage_names),
            "stage_days": [int(x) for x in self.pace.stage_days],
            "start_date": self.dates[0].isoformat(),
            "first_correction_date": self.dates[1].isoformat() if len(self.dates) > 1 else None,
            "last_correction_date": self.dates[-1].isoformat(),
        }


def adjustment_times(per_day: int) -> tuple[str, ...]:
    """Clock times of ``per_day`` adjustments spread from 08:00 to 20:00 (to 30 minutes)."""
    if per_day == 1:
        return ("08:00",)
    minutes = [8 * 60 + round(k * 720 / (per_day - 1) / 30) * 30 for k in range(per_day)]
    return tuple(f"{m // 60:02d}:{m % 60:02d}" for m in minutes)


def _cortex_points(centre: Array, axis: Array, radius: float) -> Array:
    """Points on the circle of the bone's outer cortex around the osteotomy."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    phi = np.linspace(0.0, 2 * np.pi, _CORTEX_SAMPLES, endpoint=False)
    return centre + radius * (np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2)


def pace(plan_input: PlanInput) -> PaceReport:
    """Days per stage so that no pacing point moves more than the rate in any day.

    The pacing points are the structures at risk when the case names any; otherwise the
    corresponding point and the outer cortex (a circle of ``bone_radius_mm`` around the
    corresponding point, perpendicular to the moving fragment) -- both move along helices, at
    constant speed within a stage, so each stage's days are
    ``ceil(longest helix / rate)``.
    """
    settings = plan_input.case.correction
    way = plan_input.waypoints_in_anatomy
    start_inv = tf.invert(way[0])
    cortex = _cortex_points(plan_input.corresponding_point, plan_input.moving_axis,
                            settings.bone_radius_mm)
    if len(plan_input.structure_names):
        names = plan_input.structure_names
        points = plan_input.structure_points
    else:
        names = ("corresponding point", f"cortex (bone radius {settings.bone_radius_mm:g} mm)")
        points = np.vstack([plan_input.corresponding_point[None], cortex])
    stages = len(way) - 1
    path = np.zeros((stages, len(names)))
    cortex_path = np.zeros(stages)
    stage_days = np.zeros(stages, dtype=np.int64)
    for k in range(stages):
        motion = way[k + 1] @ tf.invert(way[k])
        moved = tf.apply(way[k] @ start_inv, points)
        lengths = tf.point_path_length(motion, moved)
        if len(plan_input.structure_names):
            path[k] = lengths
        else:
            path[k] = [lengths[0], float(np.max(lengths[1:]))]
        cortex_path[k] = float(np.max(tf.point_path_length(
            motion, tf.apply(way[k] @ start_inv, cortex))))
        longest = float(np.max(path[k]))
        if settings.method == "acute":
            stage_days[k] = 0
        elif longest > _TOL:
            stage_days[k] = max(1, int(np.ceil(longest / settings.rate_mm_per_day - 1e-9)))
    if settings.method == "acute":
        per_day = np.max(path, axis=0) if stages else np.zeros(len(names))
        cortex_rate = float(np.sum(cortex_path))
        per_point = np.sum(path, axis=0)
    else:
        safe_days = np.maximum(stage_days, 1)[:, None]
        per_day = np.max(path / safe_days, axis=0)
        per_point = per_day
        cortex_rate = float(np.max(cortex_path / np.maximum(stage_days, 1)))
    setter = names[int(np.argmax(per_point))] if len(names) else ""
    return PaceReport(names=tuple(names), path_mm=path, stage_days=stage_days,
                      pace_setter=setter, max_mm_per_day=float(np.max(per_day, initial=0.0)),
                      cortex_max_mm_per_day=cortex_rate)


def _path(plan_input: PlanInput, report: PaceReport) -> tuple[Array, IntArray, IntArray,
                                                              IntArray]:
    """Planned ring poses, day, adjustment and stage of every row."""
    settings = plan_input.case.correction
    per_day = settings.adjustments_per_day
    way = plan_input.waypoints_in_anatomy
    fragments = [way[0][None]]
    days = [np.zeros(1, dtype=np.int64)]
    adjust = [np.zeros(1, dtype=np.int64)]
    stage = [np.zeros(1, dtype=np.int64)]
    day0 = 0
    for k in range(len(way) - 1):
        motion = way[k + 1] @ tf.invert(way[k])
        if settings.method == "acute":
            steps = 1
        else:
            steps = int(report.stage_days[k]) * per_day
        if steps == 0:
            continue
        s = np.arange(1, steps + 1) / steps
        fragments.append(tf.power(motion, s) @ way[k])
        if settings.method == "acute":
            days.append(np.ones(1, dtype=np.int64))
            adjust.append(np.ones(1, dtype=np.int64))
        else:
            j = np.arange(steps)
            days.append(day0 + j // per_day + 1)
            adjust.append(j % per_day + 1)
            day0 += int(report.stage_days[k])
        stage.append(np.full(steps, k, dtype=np.int64))
    frag = np.concatenate(fragments)
    poses = plan_input.ring_pose_from_fragment(frag)
    if settings.method == "acute" and len(frag) > 2:
        # one step: jump straight from the start to the end
        poses = poses[[0, -1]]
        return (poses, np.array([0, 1]), np.array([0, 1]), np.array([0, len(way) - 2]))
    poses[-1] = plan_input.target_pose  # exact end, free of accumulated rounding
    return poses, np.concatenate(days), np.concatenate(adjust), np.concatenate(stage)


def _size_dp(lengths: Array, lo: Array, hi: Array, offsets: Array, margin: float,
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
        swap = np.take_along_axis(masked, src[..., None], axis=-1) + _SWAP_COST
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


def _infeasible_reasons(plan_input: PlanInput, lengths: Array, day: IntArray,
                        choice: IntArray, total: Array) -> list[str]:
    cat = plan_input.catalogue
    lo, hi, _, offsets = cat.range_table()
    reasons = []
    for strut in range(6):
        if np.isfinite(total[strut]):
            continue
        reading = lengths[:, strut, None] - offsets
        inside = (reading >= lo - _TOL) & (reading <= hi + _TOL)
        outside = np.nonzero(~inside.any(axis=1))[0]
        if outside.size:
            j = int(outside[0])
            reasons.append(
                f"strut {strut + 1}: reading {lengths[j, strut]:.1f} mm on day {day[j]} is "
                f"outside every strut size of '{cat.name}' ({lo[0]:g}-{hi[-1]:g} mm)")
        elif plan_input.case.frame.strut_sizes is not None:
            fitted = plan_input.case.frame.strut_sizes[strut]
            reasons.append(f"strut {strut + 1}: the fitted {fitted} strut cannot reach the "
                           "planned readings, and no swap window lets another size take over")
        else:
            reasons.append(f"strut {strut + 1}: its readings jump past the overlap window "
                           "between two strut sizes, so no swap day exists")
    return reasons


def _round_readings(plan_input: PlanInput, poses: Array, lengths: Array, size_index: IntArray,
                    key_points_ring: Array, keep_first: Array | None) -> Array:
    """Readings rounded to each strut's increment, chosen row by row among the 64 floor/ceil
    combinations to keep the pose closest to the planned one (largest displacement of the key
    points and the moving joints, to first order), never moving a strut against the direction
    its exact length moves, never outside the fitted size."""
    cat = plan_input.catalogue
    geo = plan_input.geometry
    lo_s, hi_s, inc_s, off_s = cat.range_table()
    inc = inc_s[size_index]
    off = off_s[size_index]
    lo = lo_s[size_index]
    hi = hi_s[size_index]
    exact = lengths - off  # exact readings (n, 6)
    floor = np.floor(exact / inc + 1e-9) * inc
    combos = ((np.arange(64)[:, None] >> np.arange(6)) & 1).astype(float)  # (64, 6)
    cand = floor[:, None, :] + combos[None] * inc[:, None, :]  # (n, 64, 6)
    valid = ((cand >= lo[:, None] - _TOL) & (cand <= hi[:, None] + _TOL)).all(axis=-1)
    jac, _ = kin._jacobian(geo.reference_joints, geo.moving_joints, poses)
    jinv = np.linalg.inv(jac)  # (n, 6, 6)
    delta_len = cand + off[:, None, :] - lengths[:, None, :]  # (n, 64, 6)
    twist = np.einsum("nij,nkj->nki", jinv, delta_len)  # (n, 64, 6)
    moving = tf.apply(poses[:, None], geo.moving_joints)  # (n, 6, 3)
    points = np.concatenate([key_points_ring, moving], axis=1)  # (n, K, 3)
    lever = points - poses[:, None, :3, 3]
    disp = twist[:, :, None, :3] + np.cross(twist[:, :, None, 3:], lever[:, None])
    score = np.max(np.linalg.norm(disp, axis=-1), axis=-1)  # (n, 64)
    score = np.where(valid, score, np.inf)
    n = len(lengths)
    out = np.empty((n, 6))
    cand_len = cand + off[:, None, :]
    start = 0
    if keep_first is not None:
        out[0] = keep_first
        start = 1
    prev_len = None if keep_first is None else keep_first + off[0]
    for j in range(start, n):
        s = score[j]
        if prev_len is not None:
            direction = np.sign(np.where(np.abs(lengths[j] - lengths[j - 1]) < _TOL, 0.0,
                                         lengths[j] - lengths[j - 1]))
            step = cand_len[j] - prev_len
            against = ((direction > 0) & (step < -_TOL)) | ((direction < 0) & (step > _TOL)) \
                | ((direction == 0) & (np.abs(step) > _TOL))
            ok = ~against.any(axis=-1)
            if np.isfinite(s[ok]).any():
                s = np.where(ok, s, np.inf)
        best = int(np.argmin(s))
        out[j] = cand[j, best]
        prev_len = cand_len[j, best]
    return out


def _relative_motion(plan_input: PlanInput, ring_poses: Array) -> Array:
    """Motion of the moving fragment in the anatomical frame since the start, per ring pose."""
    mount = plan_input.reference_ring_in_anatomy
    return np.asarray(mount @ ring_poses @ tf.invert(plan_input.start_pose) @ tf.invert(mount),
                      dtype=float)


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


def safety_checks(plan_input: PlanInput, poses: Array, readings: Array, lengths: Array,
                  day: IntArray) -> tuple[list[str], Array]:
    """Every safety limit of the catalogue on every row; returns (violations, condition)."""
    cat = plan_input.catalogue
    lim = cat.limits
    geo = plan_input.geometry
    problems: list[str] = []

    def first(mask: NDArray[np.bool_], text: str, values: Array) -> None:
        rows, cols = np.nonzero(mask.reshape(len(mask), -1))
        if rows.size:
            j, c = int(rows[0]), int(cols[0])
            problems.append(text.format(day=int(day[j]), strut=c + 1,
                                        value=float(values.reshape(len(mask), -1)[j, c]),
                                        count=int(np.unique(rows).size)))

    if plan_input.case.correction.method == "gradual":
        # an acute correction is set by the surgeon in one step: no per-adjustment limit
        change = np.abs(np.diff(lengths, axis=0))
        change_read = np.abs(np.diff(readings, axis=0))
        worst = np.maximum(change, change_read)
        limit = float(lim.max_change_per_adjustment_mm)
        later = day[1:]
        rows, cols = np.nonzero(worst > limit + _TOL)
        if rows.size:
            j, c = int(rows[0]), int(cols[0])
            problems.append(f"day {int(later[j])}: strut {c + 1} changes {worst[j, c]:.2f} mm "
                            f"in one adjustment (limit {limit:g} mm; "
                            f"{np.unique(rows).size} adjustment(s) over it)")

    jac, _ = kin._jacobian(geo.reference_joints, geo.moving_joints, poses)
    cond = kin._scaled_condition(jac, geo.reference_joints, geo.moving_joints, None)
    climit = float(lim.max_condition_number)
    first((cond > climit)[:, None], "day {day}: frame near a singular configuration (Jacobian "
          f"condition number {{value:.1f}} > {climit:g})", cond[:, None])

    # ring gap: joint circles of each ring against the other ring's plane
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    circle = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1)
    mov_pts = tf.apply(poses[:, None], geo.moving_radius_mm * circle)  # in reference frame
    ref_pts = tf.apply(tf.invert(poses)[:, None], geo.reference_radius_mm * circle)
    gap = np.minimum(np.min(geo.moving_side * mov_pts[..., 2], axis=1),
                     np.min(-geo.moving_side * ref_pts[..., 2], axis=1))
    glimit = float(lim.min_ring_gap_mm)
    first((gap < glimit)[:, None], "day {day}: rings {value:.1f} mm apart at their closest "
          f"(minimum {glimit:g} mm)", gap[:, None])

    ends = tf.apply(poses[:, None], geo.moving_joints)  # (n, 6, 3)
    base = np.broadcast_to(geo.reference_joints, ends.shape)
    ii = np.array([p[0] for p in _PAIRS])
    jj = np.array([p[1] for p in _PAIRS])
    dist = _segment_distances(base[:, ii], ends[:, ii], base[:, jj], ends[:, jj])
    dlimit = float(lim.strut_diameter_mm)
    clash = dist < dlimit
    if clash.any():
        j, k = map(int, np.argwhere(clash)[0])
        problems.append(f"day {int(day[j])}: struts {ii[k] + 1} and {jj[k] + 1} come "
                        f"{dist[j, k]:.1f} mm apart (strut diameter {dlimit:g} mm)")

    unit = ends - base
    unit /= np.linalg.norm(unit, axis=-1, keepdims=True)
    ref_axis = np.array([0.0, 0.0, geo.moving_side])
    ang_ref = np.degrees(np.arccos(np.clip(unit @ ref_axis, -1, 1)))
    mov_axis = -geo.moving_side * poses[:, :3, 2]
    ang_mov = np.degrees(np.arccos(np.clip(np.einsum("nik,nk->ni", -unit, mov_axis), -1, 1)))
    joint = np.maximum(ang_ref, ang_mov)
    alimit = float(lim.max_joint_angle_deg)
    first(joint > alimit, "day {day}: strut {strut} universal joint at {value:.1f}° (limit "
          f"{alimit:g}°)", joint)
    return problems, cond


def plan(plan_input: PlanInput) -> Plan:
    """Plan the correction of a case.

    Raises
    ------
    PlanError
        With every reason found: a reading outside every strut size, a missed swap window, a
        rounding deviation over the bound, a safety limit crossed, an unsafe rate.
    """
    cat = plan_input.catalogue
    geo = plan_input.geometry
    case = plan_input.case
    settings = case.correction
    report = pace(plan_input)
    poses, day, adjustment, stage = _path(plan_input, report)
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, poses, check=False)
    residual = case.mode == "residual"
    if residual:
        lengths[0] = plan_input.start_lengths

    lo, hi, inc, offsets = cat.range_table()
    fixed = None
    if case.frame.strut_sizes is not None:
        fixed = np.array([cat.strut_size_index(s) for s in case.frame.strut_sizes])
    margin = float(cat.limits.near_end_margin_mm)
    total, choice = _size_dp(lengths, lo, hi, offsets, margin, fixed)
    reasons = _infeasible_reasons(plan_input, lengths, day, choice, total)
    if reasons:
        raise PlanError(reasons)
    size_index = choice

    # key points (corresponding point and structures at risk), moved along the plan, in the
    # reference ring frame, for rounding and verification
    motion = _relative_motion(plan_input, poses)
    key_anat = np.vstack([plan_input.corresponding_point[None], plan_input.structure_points])
    key_names = ("corresponding point", *plan_input.structure_names)
    mount_inv = tf.invert(plan_input.reference_ring_in_anatomy)
    key_ring = tf.apply(mount_inv, tf.apply(motion[:, None], key_anat))
    keep_first = np.asarray(case.frame.strut_readings_mm, dtype=float) if residual else None
    readings = _round_readings(plan_input, poses, lengths, size_index, key_ring, keep_first)

    # verify: forward kinematics of what the patient actually sets
    set_lengths = readings + offsets[size_index]
    try:
        achieved = kin.solve_pose(geo.reference_joints, geo.moving_joints, set_lengths,
                                  guess=poses, max_condition=None)
    except GeometryError as exc:
        raise PlanError([f"a row's rounded readings do not assemble: {exc}"]) from exc
    achieved_motion = _relative_motion(plan_input, achieved)
    dev_pts = np.linalg.norm(tf.apply(achieved_motion[:, None], key_anat)
                             - tf.apply(motion[:, None], key_anat), axis=-1)
    deviation_mm = np.max(dev_pts, axis=1)
    deviation_deg = np.degrees(tf.rotation_angle(tf.invert(poses) @ achieved))

    problems: list[str] = []
    max_mm = float(cat.limits.max_rounding_error_mm)
    max_deg = float(cat.limits.max_rounding_error_deg)
    start_row = 1 if residual else 0
    bad = np.nonzero((deviation_mm[start_row:] > max_mm) | (deviation_deg[start_row:] > max_deg))[0]
    if bad.size:
        j = int(bad[0]) + start_row
        worst_point = key_names[int(np.argmax(dev_pts[j]))]
        problems.append(f"day {int(day[j])}: rounding the readings moves the {worst_point} "
                        f"{deviation_mm[j]:.2f} mm / {deviation_deg[j]:.2f}° from the plan "
                        f"(bound {max_mm:g} mm / {max_deg:g}°)")
    safety, cond = safety_checks(plan_input, poses, readings, set_lengths, day)
    problems += safety
    if settings.method == "gradual" and report.max_mm_per_day > settings.rate_mm_per_day + 1e-9:
        problems.append(f"{report.pace_setter} would move {report.max_mm_per_day:.2f} mm/day "
                        f"(rate {settings.rate_mm_per_day:g} mm/day)")
    if problems:
        raise PlanError(problems)

    size_names = [s.name for s in cat.strut_sizes]
    swaps: list[tuple[Swap, ...]] = [()]
    warnings: list[tuple[str, ...]] = []
    lo_r, hi_r = lo[size_index], hi[size_index]
    near = (readings <= lo_r + margin + _TOL) | (readings >= hi_r - margin - _TOL)
    for j in range(len(day)):
        if j:
            changed = np.nonzero(size_index[j] != size_index[j - 1])[0]
            swaps.append(tuple(Swap(int(i) + 1, size_names[size_index[j - 1, i]],
                                    size_names[size_index[j, i]], float(readings[j, i]))
                               for i in changed))
        row_warn = [f"strut {i + 1} reading {readings[j, i]:g} mm is within {margin:g} mm of "
                    f"the end of its {size_names[size_index[j, i]]} size "
                    f"({lo_r[j, i]:g}-{hi_r[j, i]:g} mm)" for i in np.nonzero(near[j])[0]]
        warnings.append(tuple(row_warn))
    per_strut_day: dict[tuple[int, int], int] = {}
    for j, row in enumerate(swaps):
        for sw in row:
            key = (sw.strut, int(day[j]))
            per_strut_day[key] = per_strut_day.get(key, 0) + 1
    twice = [k for k, v in per_strut_day.items() if v > 1]
    if twice:
        raise PlanError([f"day {d}: strut {s} would need two swaps in one day"
                         for s, d in twice])

    first_day = settings.first_day
    dates = tuple(settings.start_date if d == 0 else first_day + dt.timedelta(days=int(d) - 1)
                  for d in day)
    clock = ("",) if settings.method == "acute" else adjustment_times(
        settings.adjustments_per_day)
    times = tuple("" if a == 0 else clock[int(a) - 1] for a in adjustment)
    notes = list(plan_input.notes)
    if settings.method == "acute":
        notes.append("acute: the whole correction in one step; the rate does not apply")
    if (len(plan_input.structure_names) and settings.method == "gradual"
            and report.cortex_max_mm_per_day > settings.rate_mm_per_day + 1e-9):
        notes.append(f"the structures at risk set the pace; the cortex at the osteotomy (bone "
                     f"radius {settings.bone_radius_mm:g} mm) moves up to "
                     f"{report.cortex_max_mm_per_day:.2f} mm/day")
    per_adj = float(np.max(np.abs(np.diff(lengths, axis=0)), initial=0.0))
    if settings.method == "gradual" and len(day) > 1 and per_adj < float(np.min(inc)) - _TOL:
        notes.append(f"each adjustment changes a strut by at most {per_adj:.2f} mm, less than "
                     f"the {float(np.min(inc)):g} mm scale step: readings change on some "
                     "adjustments only")
    return Plan(plan_input=plan_input, day=day, adjustment=adjustment, stage=stage, dates=dates,
                times=times, poses=poses, joint_lengths_mm=lengths, readings_mm=readings,
                size_index=size_index, achieved_poses=achieved, deviation_mm=deviation_mm,
                deviation_deg=deviation_deg, near_end=near, swaps=tuple(swaps),
                warnings=tuple(warnings), pace=report, condition=cond, notes=tuple(notes))


def neutral_strut_note(plan_input: PlanInput, plan_result: Plan) -> str | None:
    """The neutral-strut suggestion in words, when it would save swaps; else ``None``."""
    suggestion = suggest_neutral_strut(plan_input, plan_result)
    if suggestion is None:
        return None
    reading, swaps = suggestion
    mine = plan_input.case.frame.neutral_strut_mm
    ours = int(sum(len(s) for s in plan_result.swaps))
    if mine is None or reading == mine or swaps >= ours:
        return None
    return (f"a neutral strut of {reading:g} mm needs {swaps} swap(s) "
            f"(this plan, {mine:g} mm: {ours})")


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
        return None
    candidates = np.array(usable)
    heights = np.array(heights_list)
    target = plan_input.target_pose
    # every row's pose is (row pose) @ inv(target) @ N(h): only N(h) changes with the candidate
    left = plan_result.poses @ tf.invert(target)
    neutral = geo.neutral_pose(heights)  # (C, 4, 4)
    poses = left[None] @ neutral[:, None]  # (C, n, 4, 4)
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, poses, check=False)
    total, _ = _size_dp(lengths, lo, hi, offsets, float(cat.limits.near_end_margin_mm), None)
    feasible = np.isfinite(total).all(axis=1)
    if not feasible.any():
        return None
    swaps = np.where(feasible, np.sum(np.where(np.isfinite(total), total, 0) // _SWAP_COST,
                                      axis=1), np.inf)
    best = float(np.min(swaps))
    tied = candidates[swaps == best]
    pick = float(tied[np.argmin(np.abs(tied - case.frame.neutral_strut_mm))])
    return pick, int(best)
