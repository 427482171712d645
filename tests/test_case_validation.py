"""The case types check themselves; the case-file reader adds the key path and refuses hostile
files (duplicate keys, devices, pipes, huge or deeply nested files) cleanly."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hexapod import policy
from hexapod.case import (
    Case,
    CorrectionSettings,
    Deformity,
    FrameSpec,
    Mounting,
    Patient,
    StructureAtRisk,
)
from hexapod.errors import CaseError, InputError
from hexapod.io.case_file import parse_case, read_case

SAMPLE = Path(__file__).parent.parent / "sample_cases" / "right_tibia_chronic.toml"
DAY = dt.date(2026, 12, 1)


def _frame(**kw: Any) -> FrameSpec:
    return FrameSpec(**({"proximal_ring_mm": 155, "distal_ring_mm": 155,
                         "reference": "proximal", "neutral_strut_mm": 150} | kw))


@pytest.mark.parametrize("make, field, match", [
    (lambda: Deformity(ap_angulation_deg=95, ap_angulation_dir="varus"), "ap_angulation_deg",
     "< 90"),
    (lambda: Deformity(ap_angulation_deg=-5, ap_angulation_dir="varus"), "ap_angulation_deg",
     ">= 0"),
    (lambda: Deformity(lat_translation_mm=float("nan"), lat_translation_dir="anterior"),
     "lat_translation_mm", "finite"),
    (lambda: Deformity(ap_translation_mm=1e6, ap_translation_dir="medial"), "ap_translation_mm",
     "<= 300"),
    (lambda: Deformity(axial_rotation_deg=5), "axial_rotation_dir", "say which way"),
    (lambda: Deformity(axial_rotation_deg=5, axial_rotation_dir="varus"), "axial_rotation_dir",
     "internal, external"),
    (lambda: Deformity(ap_translation_mm="5", ap_translation_dir="medial"),  # type: ignore
     "ap_translation_mm", "must be a number"),
    (lambda: Deformity(ap_translation_mm=10 ** 400, ap_translation_dir="medial"),
     "ap_translation_mm", "finite"),
    (lambda: Mounting(axial_offset_mm=1e200, axial_offset_dir="proximal"), "axial_offset_mm",
     "<= 500"),
    (lambda: Mounting(rotary_offset_deg=90, rotary_offset_dir="medial"), "rotary_offset_deg",
     "< 90"),
    (lambda: StructureAtRisk("nerve", ap_mm=-1, ap_dir="medial"), "ap_mm", ">= 0"),
    (lambda: StructureAtRisk(" "), "name", "required"),
    (lambda: Patient(side="up"), "side", "right, left"),  # type: ignore[arg-type]
    (lambda: Patient(side="right", name="x" * 201), "name", "at most 200"),
    (lambda: Patient(side="right", id="a\nb"), "id", "control characters"),
    (lambda: _frame(proximal_ring_mm=0), "proximal_ring_mm", "> 0"),
    (lambda: _frame(distal_ring_mm=1e308), "distal_ring_mm", "<= 1000"),
    (lambda: _frame(reference="middle"), "reference", "proximal, distal"),
    (lambda: _frame(neutral_strut_mm=-3), "neutral_strut_mm", "> 0"),
    (lambda: _frame(hardware=""), "hardware", "required"),
    (lambda: _frame(strut_readings_mm=(1, 2, 3)), "strut_readings_mm", "six"),
    (lambda: _frame(strut_readings_mm=(1, 2, 3, 4, 5, float("inf"))), "strut_readings_mm[5]",
     "finite"),
    (lambda: _frame(strut_sizes=("m",) * 5 + ("giant size",)), "strut_sizes[5]", "word"),
    (lambda: CorrectionSettings(DAY, rate_mm_per_day=0), "rate_mm_per_day", "> 0"),
    (lambda: CorrectionSettings(DAY, rate_mm_per_day=1e-9), "rate_mm_per_day", ">= 0.1"),
    (lambda: CorrectionSettings(DAY, rate_mm_per_day=6), "rate_mm_per_day", "<= 5"),
    (lambda: CorrectionSettings(DAY, adjustments_per_day=0), "adjustments_per_day", ">= 1"),
    (lambda: CorrectionSettings(DAY, adjustments_per_day=7), "adjustments_per_day", "< 7"),
    (lambda: CorrectionSettings(DAY, adjustments_per_day=1.5), "adjustments_per_day",
     "whole number"),
    (lambda: CorrectionSettings(DAY, latency_days=400), "latency_days", "<= 365"),
    (lambda: CorrectionSettings(DAY, method="fast"), "method",  # type: ignore[arg-type]
     "gradual, acute"),
    (lambda: CorrectionSettings(dt.date(9999, 12, 31)), "start_date", "2199-12-31"),
    (lambda: CorrectionSettings(dt.date(1, 1, 1)), "start_date", "1900-01-01"),
    (lambda: CorrectionSettings("2026-01-01"), "start_date", "date"),  # type: ignore[arg-type]
    (lambda: CorrectionSettings(DAY, bone_radius_mm=100), "bone_radius_mm", "< 100"),
    (lambda: CorrectionSettings(DAY, extra_lengthening_mm=201), "extra_lengthening_mm",
     "<= 200"),
    (lambda: CorrectionSettings(DAY, stages=("length", "length")), "stages", "twice"),
    (lambda: CorrectionSettings(DAY, stages=("length", "lengthen_first")), "stages", "first"),
    (lambda: CorrectionSettings(DAY, stages=("sideways",)), "stages", "not allowed"),
    (lambda: Case("chronic", Patient("right"), _frame(neutral_strut_mm=None), Deformity(),
                  Mounting(), CorrectionSettings(DAY)), "frame.neutral_strut_mm", "missing"),
    (lambda: Case("residual", Patient("right"), _frame(), Deformity(), Mounting(),
                  CorrectionSettings(DAY)), "frame.strut_readings_mm", "missing"),
    (lambda: Case("chronic", Patient("right"), _frame(), Deformity(), Mounting(),
                  CorrectionSettings(DAY), (StructureAtRisk("a"), StructureAtRisk("a"))),
     "structures_at_risk", "unique"),
])
def test_each_type_names_its_bad_field(make: Any, field: str, match: str) -> None:
    with pytest.raises(InputError, match=match) as info:
        make()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_zero_magnitude_drops_its_direction_and_values_become_floats() -> None:
    d = Deformity(ap_angulation_deg=0, ap_angulation_dir="varus", ap_translation_mm=3,
                  ap_translation_dir="medial")
    assert d.ap_angulation_dir is None
    assert isinstance(d.ap_translation_mm, float)
    c = CorrectionSettings(dt.datetime(2026, 1, 2, 3, 4), adjustments_per_day=2.0)
    assert c.start_date == dt.date(2026, 1, 2) and type(c.start_date) is dt.date
    assert isinstance(c.adjustments_per_day, int)


def test_limits_themselves_are_accepted() -> None:
    d = Deformity(ap_translation_mm=policy.MAX_TRANSLATION_MM, ap_translation_dir="medial")
    assert d.ap_translation_mm == policy.MAX_TRANSLATION_MM
    m = Mounting(axial_offset_mm=policy.MAX_OFFSET_MM, axial_offset_dir="distal")
    assert m.axial_offset_mm == policy.MAX_OFFSET_MM
    c = CorrectionSettings(policy.LATEST_START_DATE, rate_mm_per_day=policy.MIN_RATE_MM_PER_DAY,
                           latency_days=policy.MAX_LATENCY_DAYS)
    assert (c.rate_mm_per_day, c.latency_days) == (policy.MIN_RATE_MM_PER_DAY,
                                                   policy.MAX_LATENCY_DAYS)
    assert len(Patient("left", name="é" * policy.MAX_NAME_CHARS).name) == policy.MAX_NAME_CHARS


def _sample() -> dict[str, Any]:
    return tomllib.loads(SAMPLE.read_text("utf-8"))


@pytest.mark.parametrize("section, key, value, path, match", [
    ("deformity", "ap_angulation_deg", 95, "deformity.ap_angulation_deg", "< 90"),
    ("mounting", "axial_offset_mm", 1e200, "mounting.axial_offset_mm", "<= 500"),
    ("correction", "rate_mm_per_day", 1e-9, "correction.rate_mm_per_day", ">= 0.1"),
    ("correction", "start_date", dt.date(9999, 12, 31), "correction.start_date", "2199"),
    ("patient", "name", "x" * 10 ** 6, "patient.name", "at most 200"),
    ("frame", "strut_sizes", ["m", "m", "m", "m", "m", 7], "frame.strut_sizes[5]", "word"),
    ("frame", "proximal_ring_mm", 10 ** 300, "frame.proximal_ring_mm", "<= 1000"),
])
def test_reader_adds_the_key_path_to_the_types_message(section: str, key: str, value: Any,
                                                       path: str, match: str) -> None:
    data = _sample()
    data[section][key] = value
    with pytest.raises(CaseError, match=match) as info:
        parse_case(data, "c.toml")
    assert info.value.path == path
    assert f"case key '{path}'" in str(info.value)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_json_duplicate_key_is_refused_with_its_path(tmp_path: Path) -> None:
    text = ('{"schema_version": 1, "deformity": {"ap_angulation_deg": 10, '
            '"ap_angulation_deg": 25}}')
    with pytest.raises(CaseError, match="given twice") as info:
        read_case(_write(tmp_path, "c.json", text.encode()))
    assert info.value.path == "deformity.ap_angulation_deg"


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    plain = read_case(SAMPLE)
    assert read_case(_write(tmp_path, "c.toml", b"\xef\xbb\xbf" + SAMPLE.read_bytes())) == plain


@pytest.mark.parametrize("content, match", [
    (b"a = " + b"[" * 5000 + b"]" * 5000, "too deeply"),
    (b"schema_version = " + b"9" * 5000, "thousands of digits"),
    (b"\xff\xfe garbage", "not UTF-8"),
    (b"a = 1\x00", "NUL"),
    (b"x" * (policy.MAX_CASE_FILE_BYTES + 1), "at most"),
])
def test_hostile_files_are_refused(tmp_path: Path, content: bytes, match: str) -> None:
    with pytest.raises(CaseError, match=match):
        read_case(_write(tmp_path, "c.toml", content))


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="too deeply"):
        read_case(_write(tmp_path, "c.json", b"[" * 100000 + b"]" * 100000))


def test_folder_device_and_fifo_are_refused_without_waiting(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="folder"):
        read_case(tmp_path)
    with pytest.raises(CaseError, match="not a regular file"):
        read_case("/dev/zero")
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(CaseError, match="not a regular file"):
        read_case(fifo)  # no writer: an open without O_NONBLOCK would wait forever


@pytest.mark.parametrize("section, make, key, value", [
    ("deformity", Deformity, "lat_angulation_deg", 91.0),
    ("mounting", Mounting, "rotary_offset_dir", "sideways"),
    ("correction", lambda **kw: CorrectionSettings(DAY, **kw), "adjustments_per_day", 0),
])
def test_reader_and_type_give_the_same_message(section: str, make: Any, key: str,
                                               value: Any) -> None:
    with pytest.raises(InputError) as typed:
        make(**{key: value, **({"rotary_offset_deg": 2} if section == "mounting" else {})})
    data = _sample()
    data[section][key] = value
    with pytest.raises(CaseError) as read:
        parse_case(data)
    assert read.value.message == typed.value.message
    assert read.value.path == f"{section}.{typed.value.field}"
