"""Read and validate case files (TOML, or JSON with the same structure): contract section 3.

Every problem is a :class:`~hexapod.errors.CaseError` naming the key path, the value found and
what is allowed; nothing here raises anything else for bad input. The rules on values live in
the case types (:mod:`hexapod.case`), which check themselves; this reader checks the file's
shape (sections, unknown keys, types of values) and adds the key path to the types' messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hexapod import policy
from hexapod.case import (
    DIRECTIONS,
    METHODS,
    MODES,
    REFERENCES,
    SIDES,
    STAGE_COMPONENTS,
    STAGE_WORDS,
    Case,
    CorrectionSettings,
    Deformity,
    FrameSpec,
    Mounting,
    Patient,
    StructureAtRisk,
    field_names,
)
from hexapod.checks import check_word, show
from hexapod.errors import CaseError, InputError
from hexapod.io.documents import read_document

__all__ = ["DIRECTIONS", "METHODS", "MODES", "REFERENCES", "SIDES", "STAGE_COMPONENTS",
           "STAGE_WORDS", "case_to_dict", "parse_case", "read_case"]

T = TypeVar("T")

#: Largest angle (exclusive, degrees) accepted for any angulation or rotation.
MAX_ANGLE_DEG = policy.MAX_ANGLE_DEG

_SECTIONS: dict[str, tuple[str, ...]] = {
    "": ("schema_version", "mode", "patient", "frame", "deformity", "mounting", "correction",
         "structures_at_risk"),
    "patient": field_names(Patient),
    "frame": field_names(FrameSpec),
    "deformity": field_names(Deformity),
    "mounting": field_names(Mounting),
    "correction": field_names(CorrectionSettings),
    "structures_at_risk": field_names(StructureAtRisk),
}

_show = show


class _Reader:
    def __init__(self, source: str | None) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> CaseError:
        return CaseError(path, message, self.source)

    def build(self, prefix: str, make: Callable[..., T], **values: Any) -> T:
        """``make(**values)``, with an :class:`InputError` turned into a :class:`CaseError` at
        ``prefix`` + the error's field."""
        try:
            return make(**values)
        except CaseError:
            raise
        except InputError as exc:
            raise self.fail(f"{prefix}{exc.field or ''}".rstrip("."), exc.message) from None

    def section(self, data: dict[str, Any], name: str, required: bool = True) -> dict[str, Any]:
        if name not in data:
            if required:
                raise self.fail(name, "missing (required section)")
            return {}
        value = data[name]
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table, got {_show(value)}")
        self.no_unknown(value, _SECTIONS[name], f"{name}.")
        return value

    def no_unknown(self, data: dict[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(f"{path}{key}",
                                f"unknown key; allowed here: {', '.join(allowed)}")

    def required(self, data: dict[str, Any], key: str, path: str, what: str = "") -> Any:
        if key not in data:
            raise self.fail(f"{path}{key}", f"missing (required){what}")
        return data[key]


def _date(reader: _Reader, data: dict[str, Any], key: str, path: str) -> dt.date:
    value = reader.required(data, key, path, "; give a date as YYYY-MM-DD")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise reader.fail(f"{path}{key}", f"must be a date YYYY-MM-DD, got {_show(value)}")


def _list(reader: _Reader, value: Any, path: str, what: str) -> Any:
    if value is None or isinstance(value, list):
        return tuple(value) if value is not None else None
    raise reader.fail(path, f"must be a list of {what}, got {_show(value)}")


def _frame(r: _Reader, fr: dict[str, Any]) -> FrameSpec:
    given = ("proximal_ring_mm", "distal_ring_mm", "neutral_strut_mm", "hardware")
    values: dict[str, Any] = {k: fr[k] for k in given if k in fr}
    for key in ("proximal_ring_mm", "distal_ring_mm"):
        r.required(fr, key, "frame.")
    values["reference"] = r.required(fr, "reference", "frame.",
                                     f"; allowed: {', '.join(REFERENCES)}")
    values["strut_readings_mm"] = _list(r, fr.get("strut_readings_mm"),
                                        "frame.strut_readings_mm", "six readings (mm)")
    values["strut_sizes"] = _list(r, fr.get("strut_sizes"), "frame.strut_sizes",
                                  "six strut size names")
    return r.build("frame.", FrameSpec, **values)


def _directed(r: _Reader, data: dict[str, Any], prefix: str, make: Callable[..., T]) -> T:
    """A section of magnitudes and direction words, checked by its type."""
    return r.build(prefix, make, **data)


def _correction(r: _Reader, co: dict[str, Any]) -> CorrectionSettings:
    values = {k: v for k, v in co.items() if k != "start_date"}
    values["start_date"] = _date(r, co, "start_date", "correction.")
    values["stages"] = _list(r, co.get("stages", []), "correction.stages", "stage names")
    return r.build("correction.", CorrectionSettings, **values)


def _structures(r: _Reader, data: dict[str, Any]) -> tuple[StructureAtRisk, ...]:
    sars_raw = data.get("structures_at_risk", [])
    if not isinstance(sars_raw, list):
        raise r.fail("structures_at_risk", "must be an array of tables [[structures_at_risk]]")
    if len(sars_raw) > policy.MAX_STRUCTURES_AT_RISK:
        raise r.fail("structures_at_risk", f"at most {policy.MAX_STRUCTURES_AT_RISK} allowed, "
                     f"got {len(sars_raw)}")
    sars = []
    for i, sar in enumerate(sars_raw):
        path = f"structures_at_risk[{i}]"
        if not isinstance(sar, dict):
            raise r.fail(path, "must be a table")
        r.no_unknown(sar, _SECTIONS["structures_at_risk"], f"{path}.")
        r.required(sar, "name", f"{path}.", ": say what the structure is")
        sars.append(_directed(r, sar, f"{path}.", StructureAtRisk))
    return tuple(sars)


def parse_case(data: Any, source: str | None = None) -> Case:
    """Validate a parsed case document (dict from TOML or JSON) and build a :class:`Case`."""
    r = _Reader(source)
    if not isinstance(data, dict):
        raise r.fail("", "a case file must be a table of keys at the top level")
    r.no_unknown(data, _SECTIONS[""], "")
    version = r.required(data, "schema_version", "",
                         "; this program reads schema_version = 1")
    if isinstance(version, bool) or version != 1:
        raise r.fail("schema_version", f"{_show(version)} is not supported; allowed: 1")
    mode = r.required(data, "mode", "", f"; allowed: {', '.join(MODES)}")
    r.build("", check_word, field="mode", value=mode, allowed=MODES)
    pat = r.section(data, "patient")
    r.required(pat, "side", "patient.", f"; allowed: {', '.join(SIDES)}")
    patient = r.build("patient.", Patient, **pat)
    frame = _frame(r, r.section(data, "frame"))
    deformity = _directed(r, r.section(data, "deformity", required=False), "deformity.",
                          Deformity)
    mounting = _directed(r, r.section(data, "mounting", required=False), "mounting.", Mounting)
    correction = _correction(r, r.section(data, "correction"))
    sars = _structures(r, data)
    return r.build("", Case, mode=mode, patient=patient, frame=frame, deformity=deformity,
                   mounting=mounting, correction=correction, structures_at_risk=sars)


def read_case(path: str | Path) -> Case:
    """Read a case file: ``.json`` as JSON, anything else as TOML."""
    p = Path(path)
    label = str(path)
    data = read_document(p, "case file", CaseError)
    try:
        return parse_case(data, label)
    except CaseError as exc:
        if exc.source is None and label:
            raise CaseError(exc.path, exc.message, label) from None
        raise
    except RecursionError:
        raise CaseError("", f"{label} nests tables or lists too deeply") from None


def case_to_dict(case: Case) -> dict[str, Any]:
    """The case as plain data with explicit units (for JSON output), same keys as the file."""
    def drop_none(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if v is not None and v != ""}

    d, m, c, f = case.deformity, case.mounting, case.correction, case.frame
    out: dict[str, Any] = {
        "schema_version": 1,
        "mode": case.mode,
        "patient": drop_none({"name": case.patient.name, "id": case.patient.id,
                              "side": case.patient.side, "bone": case.patient.bone}),
        "frame": drop_none({"hardware": f.hardware, "proximal_ring_mm": f.proximal_ring_mm,
                            "distal_ring_mm": f.distal_ring_mm, "reference": f.reference,
                            "neutral_strut_mm": f.neutral_strut_mm,
                            "strut_readings_mm": list(f.strut_readings_mm)
                            if f.strut_readings_mm else None,
                            "strut_sizes": list(f.strut_sizes) if f.strut_sizes else None}),
        "deformity": drop_none(vars(d).copy()),
        "mounting": drop_none(vars(m).copy()),
        "correction": {"method": c.method, "rate_mm_per_day": c.rate_mm_per_day,
                       "adjustments_per_day": c.adjustments_per_day,
                       "latency_days": c.latency_days, "start_date": c.start_date.isoformat(),
                       "extra_lengthening_mm": c.extra_lengthening_mm,
                       "stages": list(c.stages), "bone_radius_mm": c.bone_radius_mm},
        "structures_at_risk": [drop_none(vars(s).copy()) for s in case.structures_at_risk],
    }
    return out
