"""Write a follow-up case file: residual mode, pre-filled from a case (outputs layer).

At a follow-up visit the frame is described by the six strut readings taken then; the
deformity left is measured on new X-rays. :func:`followup_case_text` writes everything else
(patient, frame, sizes, mounting, correction settings, structures at risk) from the original
case and leaves the ``[deformity]`` section to fill: its values are ``"?"`` so that the file
does not load, and cannot be planned, until every one has been entered.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from hexapod.case import Case, StructureAtRisk
from hexapod.errors import InputError

#: The placeholder written for every deformity value and direction still to fill.
TO_FILL = "?"

#: ``[deformity]`` keys in file order: key, comment.
_DEFORMITY_KEYS: tuple[tuple[str, str], ...] = (
    ("ap_angulation_deg", "AP view, degrees"),
    ("ap_angulation_dir", "varus | valgus"),
    ("ap_translation_mm", "AP view, mm"),
    ("ap_translation_dir", "medial | lateral"),
    ("lat_angulation_deg", "lateral view, degrees"),
    ("lat_angulation_dir", "apex_anterior | apex_posterior"),
    ("lat_translation_mm", "lateral view, mm"),
    ("lat_translation_dir", "anterior | posterior"),
    ("axial_rotation_deg", "clinical exam, degrees"),
    ("axial_rotation_dir", "internal | external"),
    ("axial_translation_mm", "mm"),
    ("axial_translation_dir", "short (overlap) | long (gap)"),
)


def _value(value: Any) -> str:
    """A TOML value: strings as basic strings, numbers without a needless ``.0``."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        raise InputError(f"cannot write a flag {value!r} as a case value")
    if isinstance(value, int | float):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise InputError(f"cannot write {value!r} in a case file")


def _line(key: str, value: Any, comment: str = "") -> str:
    text = f"{key} = {_value(value)}"
    return f"{text:<27} # {comment}" if comment else text


def _magnitudes(obj: Any, names: Sequence[tuple[str, str]], decimals: int | None = None
                ) -> list[str]:
    """``name_unit`` and ``name_dir`` lines of a dataclass, directions only where non-zero;
    values rounded to ``decimals`` when given."""
    lines = []
    for name, unit in names:
        value = getattr(obj, f"{name}_{unit}")
        if decimals is not None:
            value = round(value, decimals)
        lines.append(_line(f"{name}_{unit}", value))
        direction = getattr(obj, f"{name}_dir")
        if value and direction:
            lines.append(_line(f"{name}_dir", direction))
    return lines


def followup_case_text(case: Case, readings_mm: Sequence[float], visit: dt.date, *,
                       sizes: Sequence[str] | None = None, source: str = "",
                       hardware: str | None = None,
                       predicted: dict[str, Any] | None = None,
                       structures: Sequence[StructureAtRisk] | None = None) -> str:
    """The text of a residual-mode case file for a follow-up visit.

    Parameters
    ----------
    case : Case
        The original case: patient, rings, reference, hardware, mounting, correction settings
        and structures at risk are copied from it.
    readings_mm : sequence of six float
        The strut readings at the visit (mm).
    visit : datetime.date
        The visit; the new prescription's ``start_date`` (with no latency).
    sizes : sequence of six str, optional
        The fitted strut sizes; default: the case's ``frame.strut_sizes`` (none if absent).
    source : str
        Name of the original case file, for the header comment.
    hardware : str, optional
        The catalogue name or path to write (e.g. a path made absolute); default the case's.
    predicted : dict, optional
        ``[deformity]`` keys the frame reading predicts (see
        :func:`hexapod.io.readback_words.case_keys`), written as a comment for comparison.
    structures : sequence of StructureAtRisk, optional
        The structures at risk where they are now (see
        :func:`hexapod.readback.moved_structures`); default: the case's, at its start.

    Returns
    -------
    str
        TOML text that :func:`hexapod.io.case_file.read_case` loads once every ``"?"`` of
        ``[deformity]`` is replaced.
    """
    readings = [float(r) for r in readings_mm]
    if len(readings) != 6:
        raise InputError(f"give six strut readings (struts 1..6), got {len(readings)}")
    fitted = list(sizes) if sizes is not None else (
        list(case.frame.strut_sizes) if case.frame.strut_sizes else None)
    if fitted is not None and len(fitted) != 6:
        raise InputError(f"give six strut sizes (struts 1..6), got {len(fitted)}")
    lines = _head_lines(case, readings, fitted, visit, source, hardware)
    lines += _deformity_lines(predicted)
    lines += _tail_lines(case, visit, structures)
    return "\n".join(lines) + "\n"


def _head_lines(case: Case, readings: list[float], fitted: list[str] | None, visit: dt.date,
                source: str, hardware: str | None) -> list[str]:
    """The header comment, the mode, ``[patient]`` and ``[frame]``."""
    p, f = case.patient, case.frame
    lines = [
        "# hexapod case file (schema_version 1): follow-up visit of "
        f"{source or 'a case'}, {visit.isoformat()}.",
        "# Residual mode: the frame is described by the six strut readings taken at the visit.",
        "# BEFORE USE: fill every \"?\" of [deformity] from the new X-rays, check the rest, then:",
        "#   hexapod check THIS_FILE",
        "schema_version = 1",
        'mode = "residual"',
        "",
        "[patient]",
        _line("name", p.name), _line("id", p.id), _line("side", p.side), _line("bone", p.bone),
        "",
        "[frame]",
        _line("hardware", hardware or f.hardware),
        _line("proximal_ring_mm", f.proximal_ring_mm),
        _line("distal_ring_mm", f.distal_ring_mm),
        _line("reference", f.reference, "the ring (and fragment) that stays still"),
        _line("strut_readings_mm", readings, f"read at the visit, {visit.isoformat()}"),
    ]
    if fitted is not None:
        lines.append(_line("strut_sizes", fitted, "fitted at the visit"))
    return lines


def _deformity_lines(predicted: dict[str, Any] | None) -> list[str]:
    """``[deformity]`` to fill from the new X-rays, with the frame's prediction as a comment."""
    lines = [
        "",
        "[deformity]                 # FILL IN from the new X-rays: the deformity left now, the",
        "                            # DISTAL fragment relative to the PROXIMAL one; 0 if none",
        *(_line(key, TO_FILL, comment) for key, comment in _DEFORMITY_KEYS),
    ]
    if predicted:
        lines.append("# The frame reading predicts, if the original mounting and X-ray "
                     "measurements were exact:")
        keys = [k for k, v in predicted.items() if v is not None]
        lines += ["#   " + ", ".join(f"{k} = {_value(predicted[k])}" for k in keys[i:i + 2])
                  for i in range(0, len(keys), 2)]
    return lines


def _tail_lines(case: Case, visit: dt.date,
                structures: Sequence[StructureAtRisk] | None) -> list[str]:
    """``[mounting]``, ``[correction]`` (no latency, starting at the visit) and the structures
    at risk (where the frame reading puts them, when known)."""
    c = case.correction
    lines = [
        "",
        "[mounting]                  # as in the original case: the reference ring has not moved",
        *_magnitudes(case.mounting, (("ap_offset", "mm"), ("lat_offset", "mm"),
                                     ("axial_offset", "mm"), ("rotary_offset", "deg"))),
        "",
        "[correction]",
        _line("method", c.method),
        _line("rate_mm_per_day", c.rate_mm_per_day),
        _line("adjustments_per_day", c.adjustments_per_day),
        _line("latency_days", 0, f"the bone is already cut (the original case had "
                                 f"{c.latency_days})"),
        _line("start_date", visit, "day 1 of the new prescription"),
        _line("extra_lengthening_mm", c.extra_lengthening_mm,
              "gap wanted at the end, as in the original case"),
        _line("stages", list(c.stages)),
        _line("bone_radius_mm", c.bone_radius_mm),
    ]
    where = ("where the frame reading puts it now" if structures is not None
             else "at the original start: it has moved with its fragment since")
    for s in (structures if structures is not None else case.structures_at_risk):
        lines += ["", f"[[structures_at_risk]]      # position {where}", _line("name", s.name),
                  *_magnitudes(s, (("ap", "mm"), ("lat", "mm"), ("axial", "mm")), 1)]
    return lines
