"""Resume a correction from the frame as it is at a follow-up visit (maths core).

At a visit the surgeon reads the six struts. Forward kinematics of the readings (with the
fitted sizes' reading offsets) gives the ring pose now; the moving fragment has moved rigidly
with its ring (:func:`hexapod.readback.fragment_in_anatomy`), so a new
:class:`~hexapod.clinical.PlanInput` runs from there to the SAME target as the original case
(its ``target_pose``, the end of the original correction, not a re-measured one), through the
stages still to do, starting on the visit date (keeping the latency still to wait when the
visit is before the original first correction day), in residual mode (row 0 is the
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
from hexapod.case import Deformity
from hexapod.clinical import PlanInput
from hexapod.errors import InputError
from hexapod.hardware import Catalogue
from hexapod.readback import (
    fragment_in_anatomy,
    move_structures,
    nearest_row,
    ring_pose_from_readings,
    signed_from_distal_in_proximal,
)

if TYPE_CHECKING:  # pragma: no cover
    from hexapod.planning import Plan

Array = NDArray[np.float64]

#: Readings with some strut farther than this from every row of a previous prescription
#: (mm) are not on it: the position is reported with a warning (a reading misread, another
#: frame, or a prescription not followed).
FAR_FROM_PRESCRIPTION_MM = 10.0

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
    number : int or None
        1 for a first plan, previous + 1 for a revised one; None when unknown (a resumed
        prescription whose previous one was not given).
    replaces : datetime.date or None
        From revision 2 on: the date of the prescription this one replaces (its first row's
        date); None for revision 1.
    """

    number: int | None = 1
    replaces: dt.date | None = None

    def __post_init__(self) -> None:
        if self.number is None:
            if self.replaces is not None:
                raise InputError("a revision of unknown number names no date it replaces")
            return
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise InputError(f"revision must be a whole number >= 1, got {self.number!r}")
        if (self.number == 1) != (self.replaces is None):
            raise InputError("a revision from 2 on names the date of the prescription it "
                             "replaces, and revision 1 replaces none")

    def next(self, first_date: dt.date) -> Revision:
        """The revision that replaces this one, whose first row was on ``first_date``."""
        if self.number is None:
            raise InputError("the revision after one of unknown number is unknown")
        return Revision(self.number + 1, first_date)


@dataclass(frozen=True, eq=False)
class Position:
    """Where six readings are on a previous prescription.

    Attributes
    ----------
    row : int
        Index of the nearest row (see :func:`hexapod.readback.nearest_row`); of consecutive
        rows that read alike, the last whose date is on or before the visit.
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
        The start row holds until the day before the first correction day (latency: 0 during
        it); 0 when the prescription is complete.
    complete : bool
        The nearest row is the last, near the readings (no strut farther than
        :data:`FAR_FROM_PRESCRIPTION_MM`), and the visit is on or after its date: the
        prescription is finished.
    run_start : int or None
        The first of the consecutive rows that read alike with ``row`` (None: ``row``).
    """

    row: int
    date: dt.date
    day: int
    time: str
    difference_mm: Array
    days_behind: int
    complete: bool = False
    run_start: int | None = None

    def __post_init__(self) -> None:
        if np.shape(self.difference_mm) != (6,):
            raise InputError("difference_mm must have six values")
        self.difference_mm.setflags(write=False)

    @property
    def fitted_row(self) -> int:
        """The row whose strut sizes are taken as fitted: the first of the rows that read
        alike with ``row``. A swap those rows prescribe does not show in the readings, so it
        is taken as not done: a resumed plan prescribes it again rather than assume a strut
        whose scale may not carry the rest."""
        return self.row if self.run_start is None else self.run_start

    @property
    def far(self) -> bool:
        """Some strut is more than :data:`FAR_FROM_PRESCRIPTION_MM` from the nearest row."""
        return bool(np.max(np.abs(self.difference_mm)) > FAR_FROM_PRESCRIPTION_MM)


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
        The visit date, not before the prescription's first row.

    Raises
    ------
    InputError
        (field ``date``) The visit is before the prescription starts.
    """
    rows = np.asarray(readings_by_row, dtype=float)
    day = np.asarray(days)
    if not len(dates) == len(day) == len(times) == len(rows):
        raise InputError("every row needs its readings, date, day and time")
    if visit < dates[0]:
        raise InputError(f"the visit {visit.isoformat()} is before the previous prescription "
                         f"starts ({dates[0].isoformat()})", "date")
    row, diff = nearest_row(rows, readings_mm)
    first = row  # the first of the rows that read alike: before any swap among them
    # rows that read alike (adjustments that round to nothing): the one due by the visit
    while (row + 1 < len(rows) and dates[row + 1] <= visit
           and np.array_equal(rows[row + 1], rows[row])):
        row += 1
    due = dates[row]
    if row == 0 and len(dates) > 1:  # the start readings stand until the first correction day
        due = max(due, dates[1] - dt.timedelta(days=1))
    complete = (row == len(rows) - 1 and visit >= dates[row]
                and float(np.max(np.abs(diff))) <= FAR_FROM_PRESCRIPTION_MM)
    behind = 0 if complete else (visit - due).days
    if row == 0:
        behind = max(behind, 0)
    return Position(row=row, date=dates[row], day=int(day[row]), time=times[row],
                    difference_mm=np.array(diff), days_behind=behind, complete=complete,
                    run_start=first)


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


def sizes_at_visit(catalogue: Catalogue, readings_mm: ArrayLike,
                   sizes: tuple[str, ...] | None,
                   preferred: tuple[str | None, ...] | None = None) -> tuple[str, ...]:
    """The strut sizes fitted at a visit, struts 1..6.

    Parameters
    ----------
    catalogue : Catalogue
        The hardware.
    readings_mm : array_like (6,)
        The readings at the visit (mm).
    sizes : tuple of six str or None
        The sizes the clinic names: each must hold its reading. None: the clinic may swap a
        strut at the visit, so each strut gets ``preferred`` (e.g. the size the previous
        prescription sets at the nearest row) when that holds its reading, else the smallest
        size whose range holds it.
    preferred : tuple of six (str or None), optional

    Raises
    ------
    InputError
        (field ``sizes``) A named size does not hold its reading; (field ``readings``) a
        reading no size holds.
    """
    readings = np.asarray(readings_mm, dtype=float)
    if readings.shape != (6,) or not np.all(np.isfinite(readings)):
        raise InputError(f"give six finite readings (struts 1..6, mm), got {readings.tolist()}",
                         "readings")
    if sizes is not None:
        if len(sizes) != 6:
            raise InputError(f"give six strut sizes (struts 1..6), got {len(sizes)}", "sizes")
        for i, (reading, name) in enumerate(zip(readings, sizes, strict=True)):
            size = catalogue.strut_size(name)
            if not size.holds(reading):
                raise InputError(f"strut {i + 1} reads {reading:g} mm, outside the range of "
                                 f"size {name!r} ({size.min_mm:g}-{size.max_mm:g} mm)", "sizes")
        return tuple(sizes)
    wanted = preferred if preferred is not None else (None,) * 6
    fitted = []
    for i, (reading, kept) in enumerate(zip(readings, wanted, strict=True)):
        holders = [s.name for s in catalogue.sizes_holding(reading)]
        if not holders:
            lo, hi = catalogue.strut_sizes[0].min_mm, catalogue.strut_sizes[-1].max_mm
            raise InputError(f"strut {i + 1} reads {reading:g} mm, outside every strut size of "
                             f"'{catalogue.name}' ({lo:g}-{hi:g} mm)", "readings")
        fitted.append(kept if kept in holders else holders[0])
    return tuple(fitted)


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
        The fitted strut sizes, each holding its reading; None: chosen by
        :func:`sizes_at_visit` (the case's ``frame.strut_sizes`` where they hold the readings).
    date : datetime.date
        The visit, not before the case's start date: row 0 falls on it, and day 1 on the later
        of the visit and the original first correction day (the latency still to wait is kept).
    guess : array_like (4, 4), optional
        Ring pose to start forward kinematics from (the assembly branch); default the
        original start pose.
    first_stage : int
        The original stage the frame is in: the resumed plan runs to the end of that stage,
        then through the later ones (default 0: all of them, from the frame now).

    Raises
    ------
    InputError
        (field ``date``) The visit is before the case's start date; (``sizes``) a size does
        not hold its reading.

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
    correction = case.correction
    if date < correction.start_date:
        raise InputError(f"the visit {date.isoformat()} is before the case's start date "
                         f"({correction.start_date.isoformat()})", "date")
    waiting = max((correction.first_day - date).days, 0)
    fitted = sizes_at_visit(pi.catalogue, readings_mm, sizes, case.frame.strut_sizes)
    ring_now = ring_pose_from_readings(pi, readings_mm, fitted, guess)
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
        correction=dataclasses.replace(correction, start_date=date, latency_days=waiting),
        structures_at_risk=move_structures(case.structures_at_risk, motion, case.patient.side))
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
                     date: dt.date, preferred: tuple[str | None, ...] | None = None
                     ) -> PlanInput:
    """:func:`resume_plan_input` placed by the original :class:`~hexapod.planning.Plan`: forward
    kinematics starts from its row nearest the readings, the resumed plan does the stage of
    the adjustment after that row and the later ones, and without ``sizes`` each strut is
    ``preferred`` (default: the size that row prescribes) where that holds its reading, else
    the smallest size that does (:func:`sizes_at_visit`)."""
    row, _ = nearest_row(original.readings_mm, readings_mm)
    after = min(row + 1, len(original.day) - 1)
    stage = int(original.stage[after]) if after else 0
    wanted = preferred if preferred is not None else tuple(original.size_names[row])
    fitted = sizes_at_visit(original.plan_input.catalogue, readings_mm, sizes, wanted)
    return resume_plan_input(original.plan_input, readings_mm, fitted, date,
                             guess=original.achieved_poses[row], first_stage=stage)
