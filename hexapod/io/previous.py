"""A previous prescription read back (files layer): the JSON written by ``hexapod plan`` or
``hexapod resume`` (contract section 4), checked key by key, and where a visit's readings are
on it, in words.

The date of a prescription is its first row's date (``rows[0].date``: the start date of a first
plan, the visit date of a resumed one); a revised prescription "replaces" that date.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hexapod.case import Case
from hexapod.errors import KeyPathError
from hexapod.resume import FAR_FROM_PRESCRIPTION_MM, Position, Revision, position_on


class PrescriptionError(KeyPathError):
    """A previous prescription (JSON) is invalid: names the key path and what is allowed."""

    kind = "prescription"


@dataclass(frozen=True, eq=False)
class Previous:
    """The rows of a previous prescription.

    Attributes
    ----------
    source : str
        The file it was read from.
    revision : Revision
        Its own revision (1 when the file has no ``revision`` key).
    readings_mm : ndarray (n, 6)
        Each row's readings (mm). Read-only.
    dates : tuple of datetime.date
    days : tuple of int
    times : tuple of str
    sizes : tuple of (tuple of six str, or None)
        Each row's strut sizes, None where the file has none.
    patient : dict
        ``case.patient`` as written (may be empty).
    """

    source: str
    revision: Revision
    readings_mm: NDArray[np.float64]
    dates: tuple[dt.date, ...]
    days: tuple[int, ...]
    times: tuple[str, ...]
    sizes: tuple[tuple[str, ...] | None, ...]
    patient: dict[str, Any]

    def __post_init__(self) -> None:
        self.readings_mm.setflags(write=False)

    @property
    def date(self) -> dt.date:
        """The prescription's date: its first row's."""
        return self.dates[0]

    def next_revision(self) -> Revision:
        """The revision of a prescription that replaces this one."""
        return self.revision.next(self.date)

    def position(self, readings_mm: Any, visit: dt.date) -> Position:
        """Where readings taken on ``visit`` are on this prescription."""
        return position_on(self.readings_mm, self.dates, self.days, self.times, readings_mm,
                           visit)


def _int(value: Any, path: str, source: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise PrescriptionError(path, f"must be a whole number >= {least}, got {value!r}",
                                source)
    return value


def _row(row: Any, i: int, source: str) -> tuple[list[float], dt.date, int, str,
                                                 tuple[str, ...] | None]:
    """One entry of ``rows``: readings, date, day, time and sizes."""
    where = f"rows[{i}]"
    if not isinstance(row, dict):
        raise PrescriptionError(where, "must be an object", source)
    for key in ("date", "day", "readings_mm"):
        if key not in row:
            raise PrescriptionError(f"{where}.{key}", "is missing", source)
    readings = row["readings_mm"]
    if (not isinstance(readings, list) or len(readings) != 6
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       and math.isfinite(v) for v in readings)):
        raise PrescriptionError(f"{where}.readings_mm",
                                f"must be six finite numbers (mm), got {readings!r}", source)
    try:
        date = dt.date.fromisoformat(row["date"])
    except (TypeError, ValueError):
        raise PrescriptionError(f"{where}.date", f"must be a date YYYY-MM-DD, got "
                                f"{row['date']!r}", source) from None
    day = _int(row["day"], f"{where}.day", source, 0)
    time = row.get("time", "")
    if not isinstance(time, str):
        raise PrescriptionError(f"{where}.time", f"must be text, got {time!r}", source)
    sizes = row.get("strut_sizes")
    if sizes is not None and (not isinstance(sizes, list) or len(sizes) != 6
                              or not all(isinstance(s, str) for s in sizes)):
        raise PrescriptionError(f"{where}.strut_sizes", f"must be six size names, got "
                                f"{sizes!r}", source)
    return ([float(v) for v in readings], date, day, time,
            tuple(sizes) if sizes is not None else None)


def parse_previous(data: Any, source: str = "<prescription>") -> Previous:
    """A previous prescription from its parsed JSON document.

    Raises
    ------
    PrescriptionError
        At the key path of the first problem.
    """
    if not isinstance(data, dict):
        raise PrescriptionError("", f"{source} must hold a JSON object (a prescription "
                                "written by hexapod plan --format json)", source)
    if data.get("refused"):
        raise PrescriptionError("refused", "this file is a refused plan, not a prescription",
                                source)
    if "schema_version" not in data:
        raise PrescriptionError("schema_version", "is missing (is this a prescription written "
                                "by hexapod plan --format json?)", source)
    if data["schema_version"] != 1:
        raise PrescriptionError("schema_version", f"must be 1, got {data['schema_version']!r}",
                                source)
    number = _int(data.get("revision", 1), "revision", source, 1)
    replaces = None
    if number > 1:
        if "replaces" not in data:
            raise PrescriptionError("replaces", f"is missing (revision {number} replaces a "
                                    "prescription)", source)
        try:
            replaces = dt.date.fromisoformat(data["replaces"])
        except (TypeError, ValueError):
            raise PrescriptionError("replaces", f"must be a date YYYY-MM-DD, got "
                                    f"{data['replaces']!r}", source) from None
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        raise PrescriptionError("rows", "must be a non-empty list of rows", source)
    parsed = [_row(row, i, source) for i, row in enumerate(rows)]
    case = data.get("case", {})
    patient = case.get("patient", {}) if isinstance(case, dict) else {}
    return Previous(
        source=source, revision=Revision(number, replaces),
        readings_mm=np.array([p[0] for p in parsed], dtype=float),
        dates=tuple(p[1] for p in parsed), days=tuple(p[2] for p in parsed),
        times=tuple(p[3] for p in parsed), sizes=tuple(p[4] for p in parsed),
        patient=dict(patient) if isinstance(patient, dict) else {})


def read_previous(path: str | Path) -> Previous:
    """Read a previous prescription (JSON written by ``hexapod plan`` or ``hexapod resume``).

    Raises
    ------
    PrescriptionError
        The file is missing, not JSON, or not a prescription (with the key path).
    """
    label = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise PrescriptionError("", f"no previous prescription {label}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PrescriptionError("", f"cannot read previous prescription {label}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PrescriptionError("", f"{label} is not JSON ({exc}); give the file written by "
                                "hexapod plan --format json") from None
    return parse_previous(data, label)


def check_same_patient(previous: Previous, case: Case) -> None:
    """Refuse a previous prescription written for another patient (by id, else by name) or
    for the other leg (by side)."""
    mine = case.patient
    theirs_side = previous.patient.get("side", "")
    if theirs_side and theirs_side != mine.side:
        raise PrescriptionError("case.patient.side", f"is {theirs_side!r}, but the case is for "
                                f"the {mine.side} side: not this leg's prescription",
                                previous.source)
    for key, value in (("id", mine.id), ("name", mine.name)):
        theirs = previous.patient.get(key, "")
        if value and theirs:
            if theirs != value:
                raise PrescriptionError(f"case.patient.{key}", f"is {theirs!r}, but the case is "
                                        f"for {value!r}: not this patient's prescription",
                                        previous.source)
            return


def position_lines(previous: Previous, position: Position, visit: dt.date) -> list[str]:
    """Where the readings are on the previous prescription, in words."""
    p = position
    when = "the start" if p.day == 0 else f"day {p.day}" + (f" {p.time}" if p.time else "")
    diff = ", ".join(f"{i + 1} {v:+g} mm" for i, v in enumerate(np.round(p.difference_mm, 3)))
    if p.complete:
        pace = "at the end of the previous prescription: it is complete"
    elif p.days_behind > 0:
        pace = f"{p.days_behind} day(s) behind the previous prescription"
    elif p.days_behind < 0:
        pace = f"{-p.days_behind} day(s) ahead of the previous prescription"
    else:
        pace = "on schedule with the previous prescription"
    return [
        f"previous prescription: revision {previous.revision.number} of "
        f"{previous.date.isoformat()} ({previous.source})",
        f"the readings are nearest its row of {p.date.isoformat()}, {when} (row {p.row})",
        f"readings now minus that row, struts 1..6: {diff}",
        f"on {visit.isoformat()} the patient is {pace}",
        *([far_warning(p)] if p.far else []),
    ]


def far_warning(position: Position) -> str:
    """The warning for readings far from every row of the previous prescription."""
    worst = int(np.argmax(np.abs(position.difference_mm)))
    return (f"warning: the readings are far from every row of the previous prescription "
            f"(strut {worst + 1} is {abs(float(position.difference_mm[worst])):.1f} mm from the "
            f"nearest row, more than {FAR_FROM_PRESCRIPTION_MM:g} mm): check the readings, the "
            f"frame and that this is its prescription")


def follow_up_dict(previous: Previous, position: Position, visit: dt.date) -> dict[str, Any]:
    """The ``follow_up`` object of a resumed prescription's JSON."""
    p = position
    return {
        "visit": visit.isoformat(),
        "previous_revision": previous.revision.number,
        "previous_date": previous.date.isoformat(),
        "nearest_row": {"row": p.row, "date": p.date.isoformat(), "day": p.day,
                        "time": p.time,
                        "readings_mm": [float(v) for v in previous.readings_mm[p.row]]},
        "difference_mm": [float(v) for v in p.difference_mm],
        "days_behind": p.days_behind,
        "complete": p.complete,
        "warning": far_warning(p) if p.far else None,
        "lines": position_lines(previous, p, visit),
    }
