"""Read and validate case files (TOML, or JSON with the same structure): contract section 3.

Every problem is a :class:`~hexapod.errors.CaseError` naming the key path, the value found and
what is allowed; nothing here raises anything else for bad input.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from hexapod.case import (
    DIRECTIONS,
    STAGE_COMPONENTS,
    Case,
    CorrectionSettings,
    Deformity,
    FrameSpec,
    Mounting,
    Patient,
    StructureAtRisk,
)
from hexapod.errors import CaseError

MODES = ("chronic", "residual")
REFERENCES = ("proximal", "distal")
SIDES = ("right", "left")
METHODS = ("gradual", "acute")
STAGE_WORDS = ("lengthen_first", *STAGE_COMPONENTS)

_SECTIONS: dict[str, tuple[str, ...]] = {
    "": ("schema_version", "mode", "patient", "frame", "deformity", "mounting", "correction",
         "structures_at_risk"),
    "patient": ("name", "id", "side", "bone"),
    "frame": ("hardware", "proximal_ring_mm", "distal_ring_mm", "reference", "neutral_strut_mm",
              "strut_readings_mm", "strut_sizes"),
    "deformity": ("ap_angulation_deg", "ap_angulation_dir", "ap_translation_mm",
                  "ap_translation_dir", "lat_angulation_deg", "lat_angulation_dir",
                  "lat_translation_mm", "lat_translation_dir", "axial_rotation_deg",
                  "axial_rotation_dir", "axial_translation_mm", "axial_translation_dir"),
    "mounting": ("ap_offset_mm", "ap_offset_dir", "lat_offset_mm", "lat_offset_dir",
                 "axial_offset_mm", "axial_offset_dir", "rotary_offset_deg", "rotary_offset_dir"),
    "correction": ("method", "rate_mm_per_day", "adjustments_per_day", "latency_days",
                   "start_date", "extra_lengthening_mm", "stages", "bone_radius_mm"),
    "structures_at_risk": ("name", "ap_mm", "ap_dir", "lat_mm", "lat_dir", "axial_mm",
                           "axial_dir"),
}

#: Largest angle (exclusive, degrees) accepted for any angulation or rotation.
MAX_ANGLE_DEG = 90.0


class _Reader:
    def __init__(self, source: str | None) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> CaseError:
        return CaseError(path, message, self.source)

    def section(self, data: dict[str, Any], name: str, required: bool = True) -> dict[str, Any]:
        if name not in data:
            if required:
                raise self.fail(name, "missing (required section)")
            return {}
        value = data[name]
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table, got {_show(value)}")
        return value

    def no_unknown(self, data: dict[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(f"{path}{key}",
                                f"unknown key; allowed here: {', '.join(allowed)}")

    def number(self, data: dict[str, Any], key: str, path: str, *, default: float | None = None,
               minimum: float | None = None, exclusive_minimum: float | None = None,
               below: float | None = None, integer: bool = False) -> float:
        full = f"{path}{key}"
        if key not in data:
            if default is None:
                raise self.fail(full, "missing (required)")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(full, f"must be a number, got {_show(value)}")
        if not math.isfinite(value):
            raise self.fail(full, f"must be finite, got {_show(value)}")
        if integer and value != int(value):
            raise self.fail(full, f"must be a whole number, got {_show(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(full, f"must be >= {minimum:g}, got {_show(value)}")
        if exclusive_minimum is not None and not value > exclusive_minimum:
            raise self.fail(full, f"must be > {exclusive_minimum:g}, got {_show(value)}")
        if below is not None and not value < below:
            raise self.fail(full, f"must be < {below:g}, got {_show(value)}")
        return float(value)

    def word(self, data: dict[str, Any], key: str, path: str, allowed: tuple[str, ...],
             default: str | None = None) -> str:
        full = f"{path}{key}"
        if key not in data:
            if default is None:
                raise self.fail(full, f"missing (required); allowed: {', '.join(allowed)}")
            return default
        value = data[key]
        if value not in allowed:
            raise self.fail(full, f"{_show(value)} is not allowed; allowed: {', '.join(allowed)}")
        return str(value)

    def text(self, data: dict[str, Any], key: str, path: str) -> str:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise self.fail(f"{path}{key}", f"must be text, got {_show(value)}")
        return value

    def magnitude(self, data: dict[str, Any], name: str, unit: str, path: str,
                  parameter: str, angle: bool = False) -> tuple[float, str | None]:
        """A non-negative magnitude ``name_unit`` and its direction ``name_dir``."""
        value = self.number(data, f"{name}_{unit}", path, default=0.0, minimum=0.0,
                            below=MAX_ANGLE_DEG if angle else None)
        allowed = DIRECTIONS[parameter]
        dir_key = f"{name}_dir"
        if value == 0:
            if dir_key in data and data[dir_key] not in allowed:
                raise self.fail(f"{path}{dir_key}", f"{_show(data[dir_key])} is not allowed; "
                                f"allowed: {', '.join(allowed)}")
            return 0.0, data.get(dir_key)
        if dir_key not in data:
            raise self.fail(f"{path}{dir_key}", f"missing: {path}{name}_{unit} is {value:g}, so "
                            f"say which way; allowed: {', '.join(allowed)}")
        return value, self.word(data, dir_key, path, allowed)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _date(reader: _Reader, data: dict[str, Any], key: str, path: str) -> dt.date:
    full = f"{path}{key}"
    if key not in data:
        raise reader.fail(full, "missing (required); give a date as YYYY-MM-DD")
    value = data[key]
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise reader.fail(full, f"must be a date YYYY-MM-DD, got {_show(value)}")


def parse_case(data: Any, source: str | None = None) -> Case:
    """Validate a parsed case document (dict from TOML or JSON) and build a :class:`Case`."""
    r = _Reader(source)
    if not isinstance(data, dict):
        raise r.fail("", "a case file must be a table of keys at the top level")
    r.no_unknown(data, _SECTIONS[""], "")
    if "schema_version" not in data:
        raise r.fail("schema_version", "missing (required); this program reads schema_version = 1")
    if data["schema_version"] != 1 or isinstance(data["schema_version"], bool):
        raise r.fail("schema_version",
                     f"{_show(data['schema_version'])} is not supported; allowed: 1")
    mode = r.word(data, "mode", "", MODES)

    pat = r.section(data, "patient")
    r.no_unknown(pat, _SECTIONS["patient"], "patient.")
    side = r.word(pat, "side", "patient.", SIDES)
    patient = Patient(side=side,  # type: ignore[arg-type]
                      name=r.text(pat, "name", "patient."), id=r.text(pat, "id", "patient."),
                      bone=r.text(pat, "bone", "patient."))

    fr = r.section(data, "frame")
    r.no_unknown(fr, _SECTIONS["frame"], "frame.")
    hardware = fr.get("hardware", "tsf-like")
    if not isinstance(hardware, str) or not hardware:
        raise r.fail("frame.hardware", f"must be a catalogue name or path, got {_show(hardware)}")
    readings = None
    neutral = None
    if mode == "chronic":
        neutral = r.number(fr, "neutral_strut_mm", "frame.", exclusive_minimum=0.0)
        if "strut_readings_mm" in fr:
            raise r.fail("frame.strut_readings_mm", "is for residual mode; chronic mode starts "
                         "from frame.neutral_strut_mm")
    else:
        raw = fr.get("strut_readings_mm")
        if raw is None:
            raise r.fail("frame.strut_readings_mm",
                         "missing: residual mode needs the six scale readings now (mm)")
        if not isinstance(raw, list) or len(raw) != 6 or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                and v > 0 for v in raw):
            raise r.fail("frame.strut_readings_mm",
                         f"must list six positive readings (struts 1..6, mm), got {_show(raw)}")
        readings = tuple(float(v) for v in raw)
        if "neutral_strut_mm" in fr:
            raise r.fail("frame.neutral_strut_mm", "is for chronic mode; residual mode starts "
                         "from frame.strut_readings_mm")
    sizes = fr.get("strut_sizes")
    if sizes is not None and (not isinstance(sizes, list) or len(sizes) != 6
                              or not all(isinstance(s, str) for s in sizes)):
        raise r.fail("frame.strut_sizes", f"must list six strut size names, got {_show(sizes)}")
    frame = FrameSpec(
        proximal_ring_mm=r.number(fr, "proximal_ring_mm", "frame.", exclusive_minimum=0.0),
        distal_ring_mm=r.number(fr, "distal_ring_mm", "frame.", exclusive_minimum=0.0),
        reference=r.word(fr, "reference", "frame.", REFERENCES),  # type: ignore[arg-type]
        hardware=hardware, neutral_strut_mm=neutral, strut_readings_mm=readings,
        strut_sizes=tuple(sizes) if sizes is not None else None)

    de = r.section(data, "deformity", required=False)
    r.no_unknown(de, _SECTIONS["deformity"], "deformity.")
    dvals: dict[str, Any] = {}
    for name, unit, angle in (("ap_angulation", "deg", True), ("ap_translation", "mm", False),
                              ("lat_angulation", "deg", True), ("lat_translation", "mm", False),
                              ("axial_rotation", "deg", True),
                              ("axial_translation", "mm", False)):
        value, direction = r.magnitude(de, name, unit, "deformity.", name, angle)
        dvals[f"{name}_{unit}"] = value
        dvals[f"{name}_dir"] = direction if value else None
    deformity = Deformity(**dvals)

    mo = r.section(data, "mounting", required=False)
    r.no_unknown(mo, _SECTIONS["mounting"], "mounting.")
    mvals: dict[str, Any] = {}
    for name, unit, angle in (("ap_offset", "mm", False), ("lat_offset", "mm", False),
                              ("axial_offset", "mm", False), ("rotary_offset", "deg", True)):
        value, direction = r.magnitude(mo, name, unit, "mounting.", name, angle)
        mvals[f"{name}_{unit}"] = value
        mvals[f"{name}_dir"] = direction if value else None
    mounting = Mounting(**mvals)

    co = r.section(data, "correction")
    r.no_unknown(co, _SECTIONS["correction"], "correction.")
    stages_raw = co.get("stages", [])
    if not isinstance(stages_raw, list) or not all(isinstance(s, str) for s in stages_raw):
        raise r.fail("correction.stages",
                     f"must be a list of stage names, got {_show(stages_raw)}")
    for s in stages_raw:
        if s not in STAGE_WORDS:
            raise r.fail("correction.stages",
                         f"{_show(s)} is not allowed; allowed: {', '.join(STAGE_WORDS)}")
    if len(set(stages_raw)) != len(stages_raw) or (
            "lengthen_first" in stages_raw and "length" in stages_raw):
        raise r.fail("correction.stages", f"names a component twice: {_show(stages_raw)}")
    if "lengthen_first" in stages_raw and stages_raw[0] != "lengthen_first":
        raise r.fail("correction.stages", "lengthen_first must come first")
    correction = CorrectionSettings(
        start_date=_date(r, co, "start_date", "correction."),
        method=r.word(co, "method", "correction.", METHODS, "gradual"),  # type: ignore[arg-type]
        rate_mm_per_day=r.number(co, "rate_mm_per_day", "correction.", default=1.0,
                                 exclusive_minimum=0.0, below=5.0 + 1e-9),
        adjustments_per_day=int(r.number(co, "adjustments_per_day", "correction.", default=1,
                                         minimum=1, below=7, integer=True)),
        latency_days=int(r.number(co, "latency_days", "correction.", default=7, minimum=0,
                                  below=366, integer=True)),
        extra_lengthening_mm=r.number(co, "extra_lengthening_mm", "correction.", default=0.0,
                                      minimum=0.0, below=200.0),
        stages=tuple(stages_raw),
        bone_radius_mm=r.number(co, "bone_radius_mm", "correction.", default=15.0,
                                exclusive_minimum=0.0, below=100.0))

    sars_raw = data.get("structures_at_risk", [])
    if not isinstance(sars_raw, list):
        raise r.fail("structures_at_risk", "must be an array of tables [[structures_at_risk]]")
    sars = []
    for i, sar in enumerate(sars_raw):
        path = f"structures_at_risk[{i}]."
        if not isinstance(sar, dict):
            raise r.fail(f"structures_at_risk[{i}]", "must be a table")
        r.no_unknown(sar, _SECTIONS["structures_at_risk"], path)
        sar_name = sar.get("name")
        if not isinstance(sar_name, str) or not sar_name.strip():
            raise r.fail(f"{path}name", "missing (required): say what the structure is")
        vals: dict[str, Any] = {}
        for axis in ("ap", "lat", "axial"):
            value, direction = r.magnitude(sar, axis, "mm", path, axis)
            vals[f"{axis}_mm"] = value
            vals[f"{axis}_dir"] = direction if value else None
        sars.append(StructureAtRisk(name=sar_name, **vals))
    names = [s.name for s in sars]
    if len(set(names)) != len(names):
        raise r.fail("structures_at_risk", f"names must be unique, got {names}")
    return Case(mode=mode, patient=patient, frame=frame,  # type: ignore[arg-type]
                deformity=deformity, mounting=mounting, correction=correction,
                structures_at_risk=tuple(sars))


def read_case(path: str | Path) -> Case:
    """Read a case file: ``.json`` as JSON, anything else as TOML."""
    p = Path(path)
    label = str(path)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError as exc:
        raise CaseError("", f"case file {label} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError("", f"cannot read case file {label}: {exc}") from exc
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CaseError("", f"{label} is not valid JSON: {exc}") from exc
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CaseError("", f"{label} is not valid TOML: {exc}") from exc
    return parse_case(data, label)


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
