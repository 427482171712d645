"""Plan outputs as text: the prescription table, CSV and JSON (contract section 4), and
atomic file writing."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hexapod import transforms as tf
from hexapod.errors import PlanRefused
from hexapod.findings import Note
from hexapod.io.case_file import case_to_dict
from hexapod.io.hardware_text import plan_provenance, provenance_line
from hexapod.io.messages import (
    days_set_by_message,
    finding_to_dict,
    note_message,
    point_name,
    suggestion_to_dict,
    violation_to_dict,
    warning_message,
)
from hexapod.io.words import describe_deformity
from hexapod.planning import Plan
from hexapod.resume import Revision


def _matrix(m: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in m]


#: What a resumed prescription says of its revision when no previous prescription was given.
UNKNOWN_REVISION = "revision unknown: give --previous PLAN.json to number it"


@dataclass(frozen=True)
class FollowUpRevision(Revision):
    """The revision of a resumed prescription with the lines that say where the visit's
    readings were on the previous prescription (printed on the sheet's summary page)."""

    lines: tuple[str, ...] = ()


def revision_text(revision: Revision | None) -> str:
    """``"revision 1"``, ``"revision 2, replaces the prescription of 2026-12-01"``, or
    :data:`UNKNOWN_REVISION` when the number is unknown."""
    rev = revision or Revision()
    if rev.number is None:
        return UNKNOWN_REVISION
    if rev.replaces is None:
        return f"revision {rev.number}"
    return f"revision {rev.number}, replaces the prescription of {rev.replaces.isoformat()}"


def plan_to_dict(plan: Plan, extra_notes: list[Note] | None = None,
                 revision: Revision | None = None,
                 follow_up: dict[str, Any] | None = None) -> dict[str, Any]:
    """The plan as the contract's JSON document (schema_version 1), with its ``revision``
    (1 by default, null when unknown), from revision 2 the date it ``replaces``, and with a
    ``follow_up`` object when given (where the visit's readings were on the previous
    prescription)."""
    pi = plan.plan_input
    sizes = plan.size_names
    rows = []
    for j in range(len(plan.day)):
        rows.append({
            "day": int(plan.day[j]),
            "date": plan.dates[j].isoformat(),
            "adjustment": int(plan.adjustment[j]),
            "time": plan.times[j],
            "stage": pi.stage_names[int(plan.stage[j])] if j else None,
            "moving_ring_in_reference_ring": _matrix(plan.poses[j]),
            "joint_lengths_mm": [float(v) for v in plan.joint_lengths_mm[j]],
            "readings_mm": [float(v) for v in plan.readings_mm[j]],
            "strut_sizes": sizes[j],
            "swaps": [{"strut": s.strut, "from_size": s.from_size, "to_size": s.to_size,
                       "reading_mm": s.reading_mm} for s in plan.swaps[j]],
            "warnings": [warning_message(w) for w in plan.warnings[j]],
            "warning_items": [finding_to_dict(w) for w in plan.warnings[j]],
            "near_end": [bool(v) for v in plan.near_end[j]],
            "deviation_mm": float(plan.deviation_mm[j]),
            "deviation_deg": float(plan.deviation_deg[j]),
        })
    cat = pi.catalogue
    notes = [*plan.notes, *(extra_notes or [])]
    summary = plan.summary.as_dict()
    summary["pace_set_by"] = point_name(summary["pace_set_by"], pi.case.correction.bone_radius_mm)
    rev = revision or Revision()
    dated = {"replaces": rev.replaces.isoformat()} if rev.replaces is not None else {}
    extra = {"follow_up": follow_up} if follow_up is not None else {}
    return {
        "schema_version": 1,
        "revision": rev.number,
        **dated,
        **extra,
        "case": case_to_dict(pi.case),
        "geometry": {
            "reference_joints_mm": _matrix(pi.geometry.reference_joints),
            "moving_joints_mm": _matrix(pi.geometry.moving_joints),
            "reference_ring_in_anatomy": _matrix(pi.reference_ring_in_anatomy),
            "reference_ring": pi.reference,
            "hardware": cat.name,
            "strut_colours": list(cat.colour_names),
        },
        "deformity": {"distal_in_proximal": _matrix(pi.distal_in_proximal)},
        "hardware_provenance": plan_provenance(plan),
        "rows": rows,
        "summary": summary,
        "notes": [note_message(n) for n in notes],
        "note_items": [finding_to_dict(n) for n in notes],
    }


def plan_to_json(plan: Plan, extra_notes: list[Note] | None = None,
                 revision: Revision | None = None,
                 follow_up: dict[str, Any] | None = None) -> str:
    return json.dumps(plan_to_dict(plan, extra_notes, revision, follow_up), indent=1) + "\n"


def refusal_to_json(refusal: PlanRefused) -> str:
    """A refused case as the contract's JSON document (section 4): ``refused``, every
    violation with its kind, day, strut, value, limit and message, and the suggestions."""
    return json.dumps({"schema_version": 1, "refused": True,
                       "violations": [violation_to_dict(v) for v in refusal.violations],
                       "suggestions": [suggestion_to_dict(s) for s in refusal.suggestions]},
                      indent=1) + "\n"


CSV_FIELDS = ("date", "day", "adjustment", "time",
              *(f"strut{i}_reading_mm" for i in range(1, 7)),
              *(f"strut{i}_size" for i in range(1, 7)),
              *(f"strut{i}_length_mm" for i in range(1, 7)),
              "deviation_mm", "deviation_deg", "swaps", "warnings")


def plan_to_csv(plan: Plan) -> str:
    """One header row, then one row per adjustment (row 0 = the start)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    sizes = plan.size_names
    for j in range(len(plan.day)):
        writer.writerow([
            plan.dates[j].isoformat(), int(plan.day[j]), int(plan.adjustment[j]), plan.times[j],
            *(f"{v:g}" for v in plan.readings_mm[j]), *sizes[j],
            *(f"{v:.6f}" for v in plan.joint_lengths_mm[j]),
            f"{plan.deviation_mm[j]:.6f}", f"{plan.deviation_deg[j]:.6f}",
            "; ".join(_swap_text(s) for s in plan.swaps[j]),
            "; ".join(warning_message(w) for w in plan.warnings[j]),
        ])
    return buf.getvalue()


def _swap_text(swap: Any) -> str:
    return (f"swap strut {swap.strut} {swap.from_size} -> {swap.to_size}, "
            f"set {swap.reading_mm:g} mm")


def _fmt_reading(value: float, near: bool) -> str:
    return f"{value:g}{'*' if near else ''}"


def summary_lines(plan: Plan) -> list[str]:
    """Plain-language summary of a plan."""
    s = plan.summary
    pi = plan.plan_input
    c = pi.case.correction
    lines = []
    if s.days == 0 and c.method == "gradual":
        lines.append("nothing to correct: the frame is at its target from the start")
    elif c.method == "acute":
        lines.append("acute correction in one step")
    else:
        lines.append(f"{s.days} days of correction, {c.adjustments_per_day} adjustment(s) a "
                     f"day, from {s.first_correction_date} to {s.last_correction_date}")
        lines.append(f"rate {c.rate_mm_per_day:g} mm/day; fastest point: "
                     f"{point_name(s.pace_set_by, c.bone_radius_mm)} at "
                     f"{s.max_sar_mm_per_day:.2f} mm/day")
        if s.days_set_by != "rate":
            lines.append(days_set_by_message(s.days_set_by, s.days_set_by_strut,
                                             float(pi.catalogue.limits
                                                   .max_change_per_adjustment_mm)))
        if len(pi.stage_names) > 1:
            lines.append("stages: " + ", ".join(
                f"{n} ({d} days)" for n, d in zip(pi.stage_names, s.stage_days, strict=True)))
    lines.append(f"true angulation {s.true_angle_deg:.1f}°; strut swaps: {s.swaps}")
    lines.append(f"final residual after rounding: {s.final_residual_mm:.2f} mm / "
                 f"{s.final_residual_deg:.2f}° (largest on any row "
                 f"{s.max_rounding_deviation_mm:.2f} mm)")
    return lines


def plan_to_table(plan: Plan, extra_notes: list[Note] | None = None,
                  revision: Revision | None = None,
                  header_lines: list[str] | None = None) -> str:
    """The prescription as a fixed-width text table with a header (its revision, and the
    ``header_lines`` given, e.g. where a visit's readings were on the previous prescription)
    and a summary."""
    pi = plan.plan_input
    cat = pi.catalogue
    pat = pi.case.patient
    out = []
    who = ", ".join(x for x in (pat.name, pat.id) if x)
    out.append(f"hexapod prescription{(' - ' + who) if who else ''}")
    out.append(revision_text(revision))
    out += header_lines or []
    out += describe_deformity(pi.case)
    out.append(f"frame: {pi.case.frame.proximal_ring_mm:g} mm proximal ring, "
               f"{pi.case.frame.distal_ring_mm:g} mm distal ring, hardware '{cat.name}'")
    out.append(provenance_line(plan))
    out += summary_lines(plan)
    out += [f"note: {note_message(n)}" for n in (*plan.notes, *(extra_notes or []))]
    out.append("")
    colours = cat.colour_names
    heads = [f"{i + 1} {colours[i]}" for i in range(6)]
    width = max(9, *(len(h) for h in heads))
    header = f"{'date':<10}  {'day':>5}  {'time':<5}  " + "  ".join(f"{h:>{width}}" for h in heads)
    out.append(header + "  notes")
    out.append("-" * (len(header) + 7))
    sizes = plan.size_names
    for j in range(len(plan.day)):
        cells = "  ".join(f"{_fmt_reading(plan.readings_mm[j, i], plan.near_end[j, i]):>{width}}"
                          for i in range(6))
        notes = []
        if j == 0:
            notes.append("start: " + ", ".join(f"{i + 1} {sizes[0][i]}" for i in range(6)))
        notes += [_swap_text(s) for s in plan.swaps[j]]
        day = "start" if j == 0 else str(int(plan.day[j]))
        out.append((f"{plan.dates[j].isoformat():<10}  {day:>5}  {plan.times[j]:<5}  {cells}  "
                    + "; ".join(notes)).rstrip())
    out.append("")
    out.append("* reading within "
               f"{float(cat.limits.near_end_margin_mm):g} mm of the end of its strut size")
    return "\n".join(out) + "\n"


def write_output(path: str | Path, writer: Callable[[Path], None] | str | bytes,
                 force: bool = False) -> Path:
    """Write a file atomically: to a temporary file beside it, then rename over.

    Parameters
    ----------
    path : path of the output
    writer : the text or bytes to write, or a callable that writes to the temporary path it is
        given
    force : replace an existing regular file (never a folder, link or device)

    Raises
    ------
    InputError
        The file exists and ``force`` is false, it is not a regular file, or its folder does
        not exist or is not writable.
    """
    from hexapod.io.files import write_atomic

    return write_atomic(path, writer, force)


def pose_lines(moving_in_reference: np.ndarray, geometry: Any) -> list[str]:
    """A ring pose in words: centre offset, projected tilts and twist, in the reference ring's
    axes (+x right of the master tab when viewed from proximal, +y toward the tab, +z proximal)."""
    rot = moving_in_reference[:3, :3]
    t = moving_in_reference[:3, 3]
    axis = rot[:, 2]
    tilt_x = np.degrees(np.arctan2(axis[0], axis[2]))
    tilt_y = np.degrees(np.arctan2(axis[1], axis[2]))
    # twist: rotation left after removing the smallest rotation that tilts +z onto the axis
    twist = tf.swing_rotation(np.array([0.0, 0.0, 1.0]), axis).T @ rot
    twist_deg = np.degrees(np.arctan2(twist[1, 0], twist[0, 0]))
    moving = "distal" if geometry.reference == "proximal" else "proximal"
    return [
        f"{moving} (moving) ring centre in the {geometry.reference} ring frame: "
        f"x {t[0]:+.2f} mm, y {t[1]:+.2f} mm, z {t[2]:+.2f} mm",
        f"ring axis tilted {tilt_x:+.2f}° in the x-z plane and {tilt_y:+.2f}° in the y-z plane "
        f"(true tilt {np.degrees(np.arccos(np.clip(axis[2], -1, 1))):.2f}°)",
        f"twist about the ring axis {twist_deg:+.2f}° (counter-clockwise viewed from proximal)",
        "moving_ring_in_reference_ring =",
        *("  [" + ", ".join(f"{v:10.5f}" for v in row) + "]" for row in moving_in_reference),
    ]


def sensitivity_lines(result: Any) -> list[str]:
    """A sensitivity analysis in words and a one-at-a-time table."""
    r = result
    lines = [
        f"residual deformity expected from measurement error ({r.samples} Monte Carlo samples; "
        "linearised in brackets)",
        f"  at the origin:            mean {r.origin_mc[0]:.2f} mm, 95% {r.origin_mc[1]:.2f} mm "
        f"[{r.origin_lin[0]:.2f}, {r.origin_lin[1]:.2f}]",
        f"  at the far end ({r.far_end_mm:g} mm): mean {r.far_end_mc[0]:.2f} mm, 95% "
        f"{r.far_end_mc[1]:.2f} mm [{r.far_end_lin[0]:.2f}, {r.far_end_lin[1]:.2f}]",
        f"  angle:                    mean {r.angle_mc[0]:.2f}°, 95% {r.angle_mc[1]:.2f}° "
        f"[{r.angle_lin[0]:.2f}, {r.angle_lin[1]:.2f}]",
        "largest share of the far-end residual: "
        + ", ".join(f"{name} {100 * s:.0f}%" for name, s in r.share[:3]),
    ]
    if r.failed_samples:
        lines.append(f"{r.failed_samples} of the {r.samples} samples were left out: their "
                     "strut lengths reach no frame near the planned one (forward kinematics "
                     "did not converge, or converged on another assembly of the frame)")
    lines += [
        "",
        "one at a time: a unit error (1 mm or 1°) in ... leaves a residual of",
        f"  {'parameter':<42} {'origin mm':>10} {'far end mm':>11} {'angle °':>8}",
    ]
    for name, unit, origin, far, angle in r.one_at_a_time:
        lines.append(f"  {name + ' (1 ' + unit + ')':<42} {origin:>10.2f} {far:>11.2f} "
                     f"{angle:>8.2f}")
    return lines
