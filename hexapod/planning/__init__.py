"""The correction planner (maths core): from a :class:`~hexapod.clinical.PlanInput` to a
verified :class:`Plan`, as a short pipeline.

1. :mod:`~hexapod.planning.pace` -- days per stage from the rate at the pacing points;
2. :mod:`~hexapod.planning.path` -- the ring pose of every row along the screw path;
3. :mod:`~hexapod.planning.sizes` -- each strut's size on each row, fewest swaps;
4. :mod:`~hexapod.planning.rounding` -- readings rounded to the scale, verified by forward
   kinematics;
5. :mod:`~hexapod.planning.safety` -- every limit of the catalogue on every row;
6. :mod:`~hexapod.planning.advice` -- a neutral strut that would need fewer swaps.

A case that breaks a limit raises :class:`~hexapod.errors.PlanRefused` with every
:class:`~hexapod.findings.Violation` found.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod.case import Case
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import GeometryError, InputError, PlanRefused
from hexapod.findings import Note, RowWarning, Violation
from hexapod.planning import clock, path, remedies, rounding, safety, sizes
from hexapod.planning.advice import neutral_strut_advice, suggest_neutral_strut
from hexapod.planning.pace import pace_report
from hexapod.planning.result import PaceReport, Plan, Summary, Swap

__all__ = ["PaceReport", "Plan", "Summary", "Swap", "neutral_strut_advice", "plan", "prepare",
           "suggest_neutral_strut"]

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
_TOL = 1e-9
#: Largest length residual (mm) of a forward-kinematics solution (the solver's tolerance).
ASSEMBLY_TOLERANCE_MM = 1e-10


def prepare(case: Case) -> PlanInput:
    """The case in frames and millimetres, with the catalogue attached to it.

    Raises
    ------
    InputError
        The case has no catalogue (see :func:`hexapod.load_case`).
    PlanRefused
        The frame cannot take the case's start or end (an ``assembly`` violation on day 0:
        residual readings that describe no frame, a neutral strut too short for the rings).
    """
    if case.catalogue is None:
        raise InputError("case.catalogue is missing: load the case with hexapod.load_case, or "
                         "attach one with dataclasses.replace(case, catalogue=...)")
    try:
        return build_plan_input(case, case.catalogue)
    except GeometryError as exc:
        raise PlanRefused([Violation("assembly", 0, None, None, None,
                                     {"row": 0, "rows": 1, "start": str(exc)})]) from exc


def plan(case: Case | PlanInput, *, suggest: bool = True) -> Plan:
    """Plan the correction of a case.

    Parameters
    ----------
    case : Case or PlanInput
        A case with its catalogue (:func:`hexapod.load_case`), or the case already in frames
        and millimetres (:func:`hexapod.clinical.build_plan_input`).

    Returns
    -------
    Plan
        Row 0 is the frame at the start, then one row per adjustment; every row verified by
        forward kinematics of its rounded readings.

    Raises
    ------
    PlanRefused
        With every violation found: a reading outside every strut size, a missed swap window,
        a rounding deviation over the bound, a safety limit crossed, an unsafe rate, two swaps
        of one strut on one day; with ``suggest``, also the changes to the case that were
        checked to give a plan (:mod:`~hexapod.planning.remedies`).
    """
    plan_input = case if isinstance(case, PlanInput) else prepare(case)
    try:
        return _plan(plan_input)
    except PlanRefused as exc:
        if not suggest or exc.suggestions:
            raise
        found = remedies.find_remedies(plan_input, exc.violations, _plan)
        raise PlanRefused(exc.violations, found) from exc


def _plan(plan_input: PlanInput) -> Plan:
    """The pipeline of :func:`plan`, without suggestions."""
    settings = plan_input.case.correction
    report = pace_report(plan_input)
    poses, day, adjustment, stage = path.rows(plan_input, report.stage_days)
    lengths = joint_lengths(plan_input, poses)
    size_index = fit_sizes(plan_input, lengths, day)
    keep_first = (np.asarray(plan_input.case.frame.strut_readings_mm, dtype=float)
                  if plan_input.case.mode == "residual" else None)
    readings = rounding.round_readings(plan_input, poses, lengths, size_index,
                                       rounding.key_points_in_ring(plan_input, poses),
                                       keep_first)
    readings, achieved = verify(plan_input, poses, lengths, size_index, readings, day)
    set_lengths = readings + plan_input.catalogue.range_table()[3][size_index]
    per_point, deviation_mm, deviation_deg = rounding.deviation(plan_input, poses, achieved)
    found = rounding_violations(plan_input, per_point, deviation_mm, deviation_deg, day)
    checks, cond = safety.safety_checks(plan_input, poses, readings, set_lengths, day)
    found += checks + rate_violations(plan_input, report)
    swaps = row_swaps(plan_input, size_index, readings)
    found += two_swaps_a_day(swaps, day)
    if found:
        raise PlanRefused(found)
    near, warnings = near_end(plan_input, readings, size_index)
    return Plan(plan_input=plan_input, day=day, adjustment=adjustment, stage=stage,
                dates=clock.row_dates(settings, day), times=clock.row_times(settings, adjustment),
                poses=poses, joint_lengths_mm=lengths, readings_mm=readings,
                size_index=size_index, achieved_poses=achieved, deviation_mm=deviation_mm,
                deviation_deg=deviation_deg, near_end=near, swaps=swaps, warnings=warnings,
                pace=report, condition=cond,
                notes=plan_notes(plan_input, report, lengths, swaps))


def joint_lengths(plan_input: PlanInput, poses: Array) -> Array:
    """Exact joint-centre distances of the planned poses; in residual mode row 0 is the
    frame's own (the lengths its readings set)."""
    lengths = np.array(plan_input.frame.strut_lengths(poses, check=False))
    if plan_input.case.mode == "residual":
        lengths[0] = plan_input.start_lengths
    return lengths


def fit_sizes(plan_input: PlanInput, lengths: Array, day: IntArray) -> IntArray:
    """Each strut's size on each row with the fewest swaps; refuses with ``strut_range`` or
    ``swap_window`` violations when a strut has no fitting. On an acute step a strut may change
    size whatever its reading: the surgeon fits the other size in theatre."""
    cat = plan_input.catalogue
    lo, hi, _, offsets = cat.range_table()
    acute = plan_input.case.correction.method == "acute"
    free = (np.arange(len(lengths)) > 0) if acute else None  # the acute step is set in theatre
    total, choice = sizes.fit_sizes(lengths, lo, hi, offsets,
                                    float(cat.limits.near_end_margin_mm),
                                    sizes.fixed_sizes(plan_input), free, day)
    found = sizes.unfittable(plan_input, lengths, day, total)
    if found:
        raise PlanRefused(found)
    return sizes.spread_swaps(lengths, lo, hi, offsets, float(cat.limits.near_end_margin_mm),
                              sizes.fixed_sizes(plan_input), free, day, choice)


def verify(plan_input: PlanInput, poses: Array, lengths: Array, size_index: IntArray,
           readings: Array, day: IntArray) -> tuple[Array, Array]:
    """Forward kinematics of the rounded readings; rows whose key points land further than
    the catalogue's rounding bound from the plan are re-picked by their exact displacement
    (:func:`~hexapod.planning.rounding.repair_rows`). Returns (readings, achieved poses)."""
    offsets = plan_input.catalogue.range_table()[3]
    achieved = assemble(plan_input, readings + offsets[size_index], poses, day)
    _, deviation_mm, deviation_deg = rounding.deviation(plan_input, poses, achieved)
    limits = plan_input.catalogue.limits
    bound, bound_deg = float(limits.max_rounding_error_mm), float(limits.max_rounding_error_deg)
    bad = np.nonzero((deviation_mm > bound) | (deviation_deg > bound_deg))[0]
    if plan_input.case.mode == "residual":
        bad = bad[bad > 0]
    if bad.size:
        readings = rounding.repair_rows(plan_input, poses, lengths, size_index, readings, bad,
                                        bound, bound_deg)
        achieved = assemble(plan_input, readings + offsets[size_index], poses, day)
    return readings, achieved


def assemble(plan_input: PlanInput, set_lengths: Array, poses: Array, day: IntArray) -> Array:
    """Forward kinematics of what the patient actually sets, from the planned poses; refuses
    with an ``assembly`` violation naming the first row whose readings reach no frame near its
    planned pose (Newton does not converge, or converges on another assembly branch)."""
    status = plan_input.frame.solve_pose_status(set_lengths, guess=poses)
    bad = np.nonzero(~(status.converged & status.same_branch))[0]
    if bad.size:
        j = int(bad[0])
        raise PlanRefused([Violation("assembly", int(day[j]), None,
                                     float(status.residual_mm[j]), ASSEMBLY_TOLERANCE_MM,
                                     {"row": j, "rows": int(bad.size),
                                      "other_branch": bool(status.converged[j])})])
    return np.asarray(status.poses)


def rounding_violations(plan_input: PlanInput, per_point: Array, deviation_mm: Array,
                        deviation_deg: Array, day: IntArray) -> list[Violation]:
    """A ``rounding`` violation at the first row whose rounded readings move a key point or
    turn the ring more than the catalogue's bound (row 0 of a residual case is the frame as it
    is, not a rounding)."""
    limits = plan_input.catalogue.limits
    max_mm = float(limits.max_rounding_error_mm)
    max_deg = float(limits.max_rounding_error_deg)
    start_row = 1 if plan_input.case.mode == "residual" else 0
    bad = np.nonzero((deviation_mm[start_row:] > max_mm)
                     | (deviation_deg[start_row:] > max_deg))[0]
    if not bad.size:
        return []
    j = int(bad[0]) + start_row
    names, _ = rounding.key_points(plan_input)
    in_mm = bool(deviation_mm[j] > max_mm)  # value and limit are those of the bound broken
    return [Violation("rounding", int(day[j]), None,
                      float(deviation_mm[j] if in_mm else deviation_deg[j]),
                      max_mm if in_mm else max_deg,
                      {"unit": "mm" if in_mm else "deg",
                       "point": names[int(np.argmax(per_point[j]))],
                       "mm": float(deviation_mm[j]), "limit_mm": max_mm,
                       "deg": float(deviation_deg[j]), "limit_deg": max_deg,
                       "rows": int(bad.size)})]


def rate_violations(plan_input: PlanInput, report: PaceReport) -> list[Violation]:
    """A ``rate`` violation when a pacing point would move faster than the rate."""
    settings = plan_input.case.correction
    if settings.method != "gradual" or report.max_mm_per_day <= settings.rate_mm_per_day + _TOL:
        return []
    return [Violation("rate", None, None, report.max_mm_per_day, settings.rate_mm_per_day,
                      {"point": report.pace_setter})]


def row_swaps(plan_input: PlanInput, size_index: IntArray, readings: Array
              ) -> tuple[tuple[Swap, ...], ...]:
    """The strut change-outs on each row (none on row 0)."""
    names = [s.name for s in plan_input.catalogue.strut_sizes]
    out: list[tuple[Swap, ...]] = [()]
    for j in range(1, len(size_index)):
        changed = np.nonzero(size_index[j] != size_index[j - 1])[0]
        out.append(tuple(Swap(int(i) + 1, names[size_index[j - 1, i]], names[size_index[j, i]],
                              float(readings[j, i])) for i in changed))
    return tuple(out)


def two_swaps_a_day(swaps: tuple[tuple[Swap, ...], ...], day: IntArray) -> list[Violation]:
    """A ``two_swaps_a_day`` violation for each strut that would be swapped twice on one day."""
    seen: dict[tuple[int, int], int] = {}
    for j, row in enumerate(swaps):
        for sw in row:
            key = (sw.strut, int(day[j]))
            seen[key] = seen.get(key, 0) + 1
    return [Violation("two_swaps_a_day", d, s, float(n), 1.0)
            for (s, d), n in seen.items() if n > 1]


def near_end(plan_input: PlanInput, readings: Array, size_index: IntArray
             ) -> tuple[NDArray[np.bool_], tuple[tuple[RowWarning, ...], ...]]:
    """Readings within the catalogue's margin of their size's end, as a mask and as one
    ``near_end`` warning per strut and row."""
    cat = plan_input.catalogue
    lo, hi, _, _ = cat.range_table()
    margin = float(cat.limits.near_end_margin_mm)
    lo_r, hi_r = lo[size_index], hi[size_index]
    near = (readings <= lo_r + margin + _TOL) | (readings >= hi_r - margin - _TOL)
    names = [s.name for s in cat.strut_sizes]
    warnings = tuple(
        tuple(RowWarning("near_end", int(i) + 1, float(readings[j, i]), margin,
                         {"size": names[size_index[j, i]], "min_mm": float(lo_r[j, i]),
                          "max_mm": float(hi_r[j, i])})
              for i in np.nonzero(near[j])[0])
        for j in range(len(readings)))
    return near, warnings


def plan_notes(plan_input: PlanInput, report: PaceReport, lengths: Array,
               swaps: tuple[tuple[Swap, ...], ...]) -> tuple[Note, ...]:
    """The remarks about the whole plan: how the start was found, an acute step (and the struts
    to change size on it, one at a time in strut order), the cortex moving faster than the
    structures that set the pace, adjustments below the scale step."""
    settings = plan_input.case.correction
    notes = list(plan_input.notes)
    if settings.method == "acute":
        notes.append(Note("acute"))
        if swaps[-1]:
            notes.append(Note("acute_swaps", {"swaps": tuple(
                (s.strut, s.from_size, s.to_size, s.reading_mm) for s in swaps[-1])}))
    gradual = settings.method == "gradual"
    if (len(plan_input.structure_names) and gradual
            and report.cortex_max_mm_per_day > settings.rate_mm_per_day + _TOL):
        notes.append(Note("cortex_faster", {"bone_radius_mm": settings.bone_radius_mm,
                                            "mm_per_day": report.cortex_max_mm_per_day}))
    per_adj = float(np.max(np.abs(np.diff(lengths, axis=0)), initial=0.0))
    step = float(np.min(plan_input.catalogue.range_table()[2]))
    if gradual and len(lengths) > 1 and per_adj < step - _TOL:
        notes.append(Note("scale_step", {"max_change_mm": per_adj, "step_mm": step}))
    return tuple(notes)
