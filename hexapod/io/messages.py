"""The findings of a plan in words (outputs layer): violations, row warnings and notes.

The maths core gives each finding a ``kind`` and its numbers (:mod:`hexapod.findings`); every
sentence the program prints about them is made here, and nowhere else.
"""

from __future__ import annotations

from typing import Any

from hexapod.findings import Note, RowWarning, Violation

_AT_DAY = "day {day}: "


def point_name(name: str, bone_radius_mm: float | None = None) -> str:
    """A pacing point's name as printed ("cortex" gains its bone radius)."""
    if name == "cortex" and bone_radius_mm is not None:
        return f"cortex (bone radius {bone_radius_mm:g} mm)"
    return name


def _strut_range(v: Violation) -> str:
    d = v.detail
    if "fitted" in d:
        return (f"strut {v.strut}: the fitted {d['fitted']} strut ({d['min_mm']:g}-"
                f"{d['max_mm']:g} mm) cannot reach the reading {v.value:.1f} mm planned on day "
                f"{v.day}, and no swap window lets another size take over")
    return (f"strut {v.strut}: reading {v.value:.1f} mm on day {v.day} is outside every strut "
            f"size of '{d['catalogue']}' ({d['min_mm']:g}-{d['max_mm']:g} mm)")


_VIOLATIONS: dict[str, Any] = {
    "strut_range": _strut_range,
    "swap_window": lambda v: (f"strut {v.strut}: its readings jump past the overlap window "
                              "between two strut sizes, so no swap day exists"),
    "change_per_adjustment": lambda v: (
        f"day {v.day}: strut {v.strut} changes {v.value:.2f} mm in one adjustment "
        f"(limit {v.limit:g} mm; {v.detail['rows']} adjustment(s) over it)"),
    "singular": lambda v: (f"day {v.day}: frame near a singular configuration (Jacobian "
                           f"condition number {v.value:.1f} > {v.limit:g})"),
    "ring_gap": lambda v: (f"day {v.day}: rings {v.value:.1f} mm apart at their closest "
                           f"(minimum {v.limit:g} mm)"),
    "strut_collision": lambda v: (
        f"day {v.day}: struts {v.strut} and {v.detail['other_strut']} come {v.value:.1f} mm "
        f"apart (strut diameter {v.limit:g} mm)"),
    "joint_angle": lambda v: (f"day {v.day}: strut {v.strut} universal joint at "
                              f"{v.value:.1f}° (limit {v.limit:g}°)"),
    "rounding": lambda v: (
        f"day {v.day}: rounding the readings moves the {v.detail['point']} "
        f"{v.detail['mm']:.2f} mm and turns the ring {v.detail['deg']:.2f}° from the plan "
        f"(bound {v.detail['limit_mm']:g} mm and {v.detail['limit_deg']:g}°: the "
        + ("millimetres" if v.detail["unit"] == "mm" else "degrees") + " are over)"),
    "rate": lambda v: (f"{v.detail['point']} would move {v.value:.2f} mm/day "
                       f"(rate {v.limit:g} mm/day)"),
    "assembly": lambda v: (
        f"the frame cannot be built as entered: {v.detail['start']}" if "start" in v.detail
        else f"day {v.day}: the rounded readings of row {v.detail['row']} reach no frame near "
        "the planned pose (" + ("another assembly of the frame" if v.detail["other_branch"]
                                else f"length residual {v.value:.3g} mm") + ")"),
    "two_swaps_a_day": lambda v: f"day {v.day}: strut {v.strut} would need two swaps in one day",
    "plan_length": lambda v: (f"the correction would take {v.value:g} days at this rate "
                              f"(at most {v.limit:g} days; raise the rate, or correct in "
                              "stages with re-planning)"),
}


def violation_message(violation: Violation) -> str:
    """One sentence naming the day, the strut, the value and the limit of a violation."""
    return str(_VIOLATIONS[violation.kind](violation))


def violation_to_dict(violation: Violation) -> dict[str, Any]:
    """A violation as the contract's JSON object (section 4), with its detail."""
    return {"kind": violation.kind, "day": violation.day, "strut": violation.strut,
            "value": violation.value, "limit": violation.limit,
            "message": violation_message(violation), "detail": dict(violation.detail)}


def _value_text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def suggestion_message(suggestion: Any) -> str:
    """A checked remedy in words: the case keys to change and the days of the plan it gives."""
    changes = ", ".join(f"{key} = {_value_text(value)}"
                        for key, value in suggestion.changes.items())
    text = f"this would plan ({suggestion.days} days): {changes}"
    if suggestion.unmeasured:
        text += (f"; it relies on numbers not measured in this catalogue: "
                 f"{', '.join(suggestion.unmeasured)} (measure them with `hexapod calibrate` "
                 "before relying on this plan)")
    return text


def suggestion_to_dict(suggestion: Any) -> dict[str, Any]:
    """A suggestion as JSON: kind, the changed case keys, the days and a message."""
    return {"kind": suggestion.kind,
            "changes": {k: list(v) if isinstance(v, tuple) else v
                        for k, v in suggestion.changes.items()},
            "days": suggestion.days, "unmeasured": list(suggestion.unmeasured),
            "message": suggestion_message(suggestion)}


def refusal_lines(refusal: Any) -> list[str]:
    """A refused case in words: every violation, then every checked suggestion."""
    lines = ["the case cannot be planned safely:"]
    lines += [f"  - {violation_message(v)}" for v in refusal.violations]
    if refusal.suggestions:
        lines.append("checked by planning, each of these changes gives a plan:")
        lines += [f"  - {suggestion_message(s)}" for s in refusal.suggestions]
    return lines


def warning_message(warning: RowWarning) -> str:
    """A row warning in words (``near_end``)."""
    d = warning.detail
    return (f"strut {warning.strut} reading {warning.value:g} mm is within {warning.limit:g} mm "
            f"of the end of its {d['size']} size ({d['min_mm']:g}-{d['max_mm']:g} mm)")


def note_message(note: Note) -> str:
    """A note about the whole plan in words."""
    d = note.detail
    if note.kind == "chronic_neutral":
        return (f"chronic: the correction ends in the neutral frame, rings {d['height_mm']:.1f} "
                f"mm apart, all struts reading {d['reading_mm']:g} mm")
    if note.kind == "residual_start":
        return ("residual: the current ring pose is the forward-kinematics solution reached by "
                f"Newton's method from the neutral frame with the moving ring {d['moving_ring']} "
                "of the reference ring")
    if note.kind == "acute":
        return "acute: the whole correction in one step; the rate does not apply"
    if note.kind == "acute_swaps":
        steps = "; ".join(f"strut {n}: a {b} strut set to {r:g} mm in place of the {a} one"
                          for n, a, b, r in d["swaps"])
        return (f"acute step: these struts change size, each fitted at its new reading as the "
                f"frame is set to the acute row: {steps}")
    if note.kind == "cortex_faster":
        return (f"the structures at risk are the points paced by the rate; the cortex at the "
                f"osteotomy (bone radius {d['bone_radius_mm']:g} mm) moves up to "
                f"{d['mm_per_day']:.2f} mm/day, faster than the rate")
    if note.kind == "scale_step":
        return (f"each adjustment changes a strut by at most {d['max_change_mm']:.2f} mm, less "
                f"than the {d['step_mm']:g} mm scale step: readings change on some adjustments "
                "only")
    if note.kind == "neutral_strut":
        return (f"a neutral strut of {d['reading_mm']:g} mm needs {d['swaps']} swap(s) "
                f"(this plan, {d['current_mm']:g} mm: {d['current_swaps']})")
    raise ValueError(f"no words for note kind {note.kind!r}")  # pragma: no cover


def days_set_by_message(kind: str, strut: int | None, limit_mm: float) -> str:
    """Why the plan has as many days as it has, when it is not the rate."""
    if kind == "change_per_adjustment":
        return (f"pace set by the change per adjustment of strut {strut} (at most "
                f"{limit_mm:g} mm a turn); the rate alone would allow fewer days")
    if kind == "swap_window":
        return (f"pace set by strut {strut}'s size change: small enough steps for one "
                "adjustment to fall inside the overlap window of its two sizes")
    return f"pace set by: {kind}"


def finding_to_dict(finding: Note | RowWarning) -> dict[str, Any]:
    """A note or row warning as JSON: its kind, its message and its numbers."""
    message = note_message(finding) if isinstance(finding, Note) else warning_message(finding)
    return {"kind": finding.kind, "message": message, "detail": dict(finding.detail)}
