"""Resume a correction from the frame as it is at a follow-up visit (maths core).

At a visit the surgeon reads the six struts. Forward kinematics of the readings (with the
fitted sizes' reading offsets) gives the ring pose now; the moving fragment has moved rigidly
with its ring (:func:`hexapod.readback.fragment_in_anatomy`), so a new
:class:`~hexapod.clinical.PlanInput` runs from there to the SAME target as the original case
(its ``target_pose``, the end of the original correction, not a re-measured one), through the
stages still to do, starting on the visit date with no latency, in residual mode (row 0 is the
frame as it is: its readings). :func:`hexapod.planning.plan` paces and checks it by the usual
rules.

A revised prescription carries a :class:`Revision` (contract section 4): ``number`` 1 for a
first plan, and from 2 on the date of the prescription it replaces. :func:`position_on` says
where readings are on a previous prescription: the nearest row, each strut's difference and how
many days the patient is behind it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod import transforms as tf
from hexapod.case import Case, Deformity, StructureAtRisk
from hexapod.clinical import PlanInput, reading_to_length
from hexapod.errors import GeometryError, InputError
from hexapod.readback import fragment_in_anatomy, nearest_row, signed_from_distal_in_proximal

if TYPE_CHECKING:  # pragma: no cover
    from hexapod.planning import Plan

Array = NDArray[np.float64]

#: Per signed parameter (order of :mod:`hexapod.readback`): case field stem, unit, the
#: direction word of + and of -.
_SIGNED_FIELDS = (("ap_angulation", "deg", "varus", "valgus"),
                  ("lat_angulation", "deg", "apex_posterior", "apex_anterior"),
                  ("axial_rotation", "deg", "internal", "external"),
                  ("ap_translation", "mm", "medial", "lateral"),
                  ("lat_translation", "mm", "anterior", "posterior"),
                  ("axial_translation", "mm", "short", "long"))


@dataclass(frozen=True)
class Revision:
    """Which revision of a patient's prescription a plan is.

    Attributes
    ----------
    number : int
        1 for a first plan, previous + 1 for a revised one.
    replaces : datetime.date or None
        From revision 2 on: the date of the prescription this one replaces (its first row's
        date); None for revision 1.
    """

    number: int = 1
    replaces: dt.date | None = None

    def __post_init__(self) -> None:
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise InputError(f"revision must be a whole number >= 1, got {self.number!r}")
        if (self.number == 1) != (self.replaces is None):
            raise InputError("a revision from 2 on names the date of the prescription it "
                             "replaces, and revision 1 replaces none")

    def next(self, first_date: dt.date) -> Revision:
        """The revision that replaces this one, whose first row was on ``first_date``."""
        return Revision(self.number + 1, first_date)


@dataclass(frozen=True, eq=False)
class Position:
    """Where six readings are on a previous prescription.

    Attributes
    ----------
    row : int
        Index of the nearest row (see :func:`hexapod.readback.nearest_row`).
    date : datetime.date
        That row's date.
    day : int
        That row's day of correction (0 = the start).
    time : str
        That row's clock time ("" on the start row).
    difference_mm : ndarray (6,)
        Readings now minus that row's readings (mm; + = longer than prescribed). Read-only.
    days_behind : int
        Visit date minus the row's date (days): > 0 behind the prescription, < 0 ahead of it.
    """

    row: int
    date: dt.date
    day: int
    time: str
    difference_mm: Array
    days_behind: int

    def __post_init__(self) -> None:
        if np.shape(self.difference_mm) != (6,):
            raise InputError("difference_mm must have six values")
        self.difference_mm.setflags(write=False)


def position_on(readings_by_row: ArrayLike, dates: tuple[dt.date, ...], days: ArrayLike,
                times: tuple[str, ...], readings_mm: ArrayLike, visit: dt.date) -> Position:
    """The row of a prescription nearest to the readings at a visit.

    Parameters
    ----------
    readings_by_row : array_like (n, 6)
        The prescription's readings (mm), row 0 the start.
    dates, days, times
        Each row's date, day of correction and clock time.
    readings_mm : array_like (6,)
        The readings at the visit (mm).
    visit : datetime.date
        The visit date.
    """
    rows = np.asarray(readings_by_row, dtype=float)
    day = np.asarray(days)
    if not len(dates) == len(day) == len(times) == len(rows):
        raise InputError("every row needs its readings, date, day and time")
    row, diff = nearest_row(rows, readings_mm)
    return Position(row=row, date=dates[row], day=int(day[row]), time=times[row],
                    difference_mm=np.array(diff), days_behind=(visit - dates[row]).days)


def deformity_from_signed(signed: ArrayLike) -> Deformity:
    """A :class:`~hexapod.case.Deformity` from the six signed parameters of
    :func:`hexapod.readback.signed_from_distal_in_proximal` (degrees and mm), unrounded."""
    values = np.asarray(signed, dtype=float)
    if values.shape != (6,) or not np.all(np.isfinite(values)):
        raise InputError(f"expected six finite signed parameters, got {values!r}")
    fields: dict[str, Any] = {}
    for value, (stem, unit, plus, minus) in zip(values, _SIGNED_FIELDS, strict=True):
        fields[f"{stem}_{unit}"] = abs(float(value))
        fields[f"{stem}_dir"] = (plus if value > 0 else minus) if value else None
    return Deformity(**fields)


def _moved_structures(case: Case, motion: Array) -> tuple[StructureAtRisk, ...]:
    """The case's structures at risk moved with the moving fragment (anatomical frame)."""
    m = -1.0 if case.patient.side == "right" else 1.0
    out = []
    for s in case.structures_at_risk:
        x, y, z = tf.apply(motion, s.position(case.patient.side))
        ap = float(m * x)
        out.append(StructureAtRisk(
            name=s.name, ap_mm=abs(ap), ap_dir=("medial" if ap > 0 else "lateral") if ap else None,
            lat_mm=abs(float(y)),
            lat_dir=("anterior" if y > 0 else "posterior") if y else None,
            axial_mm=abs(float(z)),
            axial_dir=("proximal" if z > 0 else "distal") if z else None))
    return tuple(out)


def ring_pose_of_readings(plan_input: PlanInput, readings_mm: ArrayLike,
                          sizes: tuple[str, ...] | None, guess: ArrayLike | None = None
                          ) -> tuple[Array, Array]:
    """``moving_ring_in_reference_ring`` (4x4, mm) of six readings by forward kinematics from
    ``guess`` (default: the case's start pose), and the joint-centre distances (6,) they set.

    Raises
    ------
    InputError
        Not six finite readings or six sizes; a reading outside every size.
    GeometryError
        No frame has these readings.
    """
    pi = plan_input
    readings = np.asarray(readings_mm, dtype=float)
    if readings.shape != (6,) or not np.all(np.isfinite(readings)):
        raise InputError(f"give six finite readings (struts 1..6, mm), got {readings.tolist()}")
    fitted = sizes if sizes is not None else (None,) * 6
    if len(fitted) != 6:
        raise InputError(f"give six strut sizes (struts 1..6), got {len(fitted)}")
    lengths = np.array([reading_to_length(pi.catalogue, float(r), s)
                        for r, s in zip(readings, fitted, strict=True)])
    start = pi.start_pose if guess is None else np.asarray(guess, dtype=float)
    try:
        pose = pi.frame.solve_pose(lengths, guess=start)
    except GeometryError as exc:
        raise GeometryError(f"the six strut readings do not describe a frame: {exc}") from exc
    return np.asarray(pose, dtype=float), lengths


def resume_plan_input(plan_input: PlanInput, readings_mm: ArrayLike,
                      sizes: tuple[str, ...] | None, date: dt.date, *,
                      guess: ArrayLike | None = None, first_stage: int = 0) -> PlanInput:
    """The correction of ``plan_input`` resumed from six readings at a visit.

    Parameters
    ----------
    plan_input : PlanInput
        The original case in frames and millimetres.
    readings_mm : array_like (6,)
        The readings at the visit, struts 1..6 (mm).
    sizes : tuple of six str or None
        The fitted strut sizes; None: the case's ``frame.strut_sizes``, else the size whose
        range holds each reading.
    date : datetime.date
        The visit: row 0 and day 1 of the resumed plan fall on it (no latency).
    guess : array_like (4, 4), optional
        Ring pose to start forward kinematics from (the assembly branch); default the
        original start pose.
    first_stage : int
        The original stage the frame is in: the resumed plan runs to the end of that stage,
        then through the later ones (default 0: all of them, from the frame now).

    Returns
    -------
    PlanInput
        Residual mode; start pose the frame now, target pose the original's (exactly); the
        case's deformity is the deformity now under the original mounting, its structures at
        risk where the frame has moved them.
    """
    pi = plan_input
    case = pi.case
    way = pi.waypoints_in_anatomy
    if not 0 <= first_stage < len(way) - 1:
        raise InputError(f"first_stage must be 0..{len(way) - 2}, got {first_stage}")
    fitted = tuple(sizes) if sizes is not None else case.frame.strut_sizes
    ring_now, _ = ring_pose_of_readings(pi, readings_mm, fitted, guess)
    mount = pi.reference_ring_in_anatomy
    fragment_now = fragment_in_anatomy(ring_now, pi.start_pose, mount, way[0])
    motion = fragment_now @ tf.invert(way[0])
    waypoints = np.concatenate([fragment_now[None], way[first_stage + 1:]])
    stage_poses = np.array(pi.ring_pose_from_fragment(waypoints))
    stage_poses[0], stage_poses[-1] = ring_now, pi.target_pose
    d_in_p = fragment_now if pi.reference == "proximal" else tf.invert(fragment_now)
    deformity = deformity_from_signed(signed_from_distal_in_proximal(d_in_p, case.patient.side))
    readings = tuple(float(r) for r in np.asarray(readings_mm, dtype=float))
    new_case = dataclasses.replace(
        case, mode="residual", deformity=deformity,
        frame=dataclasses.replace(case.frame, neutral_strut_mm=None,
                                  strut_readings_mm=readings, strut_sizes=fitted),
        correction=dataclasses.replace(case.correction, start_date=date, latency_days=0),
        structures_at_risk=_moved_structures(case, motion))
    return dataclasses.replace(
        pi, case=new_case, distal_in_proximal=np.array(d_in_p), waypoints_in_anatomy=waypoints,
        stage_names=pi.stage_names[first_stage:], start_pose=ring_now,
        target_pose=np.array(pi.target_pose), stage_poses=stage_poses,
        corresponding_point=tf.apply(motion, pi.corresponding_point),
        moving_axis=motion[:3, :3] @ pi.moving_axis,
        structure_points=(tf.apply(motion, pi.structure_points) if len(pi.structure_points)
                          else np.zeros((0, 3))),
        start_lengths=pi.frame.strut_lengths(ring_now),
        notes=())


def resume_from_plan(original: Plan, readings_mm: ArrayLike, sizes: tuple[str, ...] | None,
                     date: dt.date) -> PlanInput:
    """:func:`resume_plan_input` placed by the original :class:`~hexapod.planning.Plan`: forward
    kinematics starts from its row nearest the readings, the resumed plan does the stage of
    the adjustment after that row and the later ones, and without ``sizes`` the struts are the
    sizes that row prescribes."""
    row, _ = nearest_row(original.readings_mm, readings_mm)
    after = min(row + 1, len(original.day) - 1)
    stage = int(original.stage[after]) if after else 0
    fitted = tuple(sizes) if sizes is not None else tuple(original.size_names[row])
    return resume_plan_input(original.plan_input, readings_mm, fitted, date,
                             guess=original.achieved_poses[row], first_stage=stage)
