"""The case model (:mod:`hexapod.case`): positions of structures at risk on both limbs, the
bounds and words it refuses with their field, and the stages a deformity can drop. Built from
the survivors of a mutation run (see docs/testing.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from hexapod import policy
from hexapod.case import (
    MAX_HARDWARE_CHARS,
    MAX_SIZE_NAME_CHARS,
    STAGE_COMPONENTS,
    Case,
    Deformity,
    Patient,
    StructureAtRisk,
    _signed,
    check_size_name,
    field_names,
    medial_sign,
)
from hexapod.errors import InputError
from hexapod.io.case_file import read_case

from .test_mutants_clinical import CASES


@pytest.mark.parametrize(("side", "medial_x"), [("right", -1.0), ("left", 1.0)])
def test_a_structure_s_position_in_the_anatomical_frame(side: str, medial_x: float) -> None:
    # +x is the patient's right, +y anterior, +z proximal; medial is -x on a right leg
    s = StructureAtRisk("nerve", ap_mm=20.0, ap_dir="medial", lat_mm=5.0, lat_dir="anterior",
                        axial_mm=30.0, axial_dir="proximal")
    np.testing.assert_array_equal(s.position(side), [medial_x * 20.0, 5.0, 30.0])
    t = StructureAtRisk("artery", ap_mm=20.0, ap_dir="lateral", lat_mm=5.0,
                        lat_dir="posterior", axial_mm=30.0, axial_dir="distal")
    np.testing.assert_array_equal(t.position(side), [-medial_x * 20.0, -5.0, -30.0])


@pytest.mark.parametrize("axis", ["ap", "lat", "axial"])
def test_a_structure_further_than_the_policy_allows_is_refused(axis: str) -> None:
    words = {"ap": "medial", "lat": "anterior", "axial": "proximal"}
    most = policy.MAX_POSITION_MM
    at_most = StructureAtRisk("n", **{f"{axis}_mm": most, f"{axis}_dir": words[axis]})
    assert getattr(at_most, f"{axis}_mm") == most  # the bound itself is allowed
    with pytest.raises(InputError) as info:
        StructureAtRisk("n", **{f"{axis}_mm": most + 0.5, f"{axis}_dir": words[axis]})
    assert info.value.field == f"{axis}_mm"
    assert f"{most:g}" in info.value.message


@pytest.mark.parametrize("name", ["", "a" * (MAX_SIZE_NAME_CHARS + 1), "médium", "long size",
                                  "x/short", 5, None])
def test_a_size_name_is_a_short_word(name: object) -> None:
    with pytest.raises(InputError) as info:
        check_size_name("strut_sizes[2]", name)
    assert info.value.field == "strut_sizes[2]"
    assert info.value.message.startswith("must be a strut size name (a word of letters, digits, "
                                         "_ or -), got ")
    assert info.value.message.endswith(repr(name) if isinstance(name, str) else f"{name}")


@pytest.mark.parametrize("name", ["a" * MAX_SIZE_NAME_CHARS, "x-short", "size_2", "L"])
def test_size_names_up_to_the_longest_are_taken(name: str) -> None:
    assert check_size_name("strut_sizes[0]", name) == name


@pytest.mark.parametrize("version", [2, 0, True, "1", 1.5])
def test_only_schema_version_1_is_read(version: object) -> None:
    case = read_case(CASES / "right_tibia_chronic.toml")
    with pytest.raises(InputError) as info:
        dataclasses.replace(case, schema_version=version)
    assert info.value.field == "schema_version"
    assert info.value.message.endswith("is not supported; allowed: 1")


def test_a_deformity_without_several_components_drops_each() -> None:
    d = Deformity(ap_angulation_deg=10.0, ap_angulation_dir="varus", ap_translation_mm=3.0,
                  ap_translation_dir="medial", axial_rotation_deg=5.0,
                  axial_rotation_dir="internal", axial_translation_mm=8.0,
                  axial_translation_dir="short")
    assert d.without("translation", "length") == Deformity(
        ap_angulation_deg=10.0, ap_angulation_dir="varus", axial_rotation_deg=5.0,
        axial_rotation_dir="internal")
    assert d.without(*STAGE_COMPONENTS) == Deformity()
    with pytest.raises(InputError, match=r"^unknown correction component 'width'; allowed: "
                                         r"length, translation, angulation, rotation$"):
        d.without("width")


def test_field_names_are_the_attributes_in_order() -> None:
    assert field_names(Patient) == ("side", "name", "id", "bone")
    assert field_names(Case)[:3] == ("mode", "patient", "frame")


def _frame(**changes: object) -> object:
    return dataclasses.replace(read_case(CASES / "right_tibia_chronic.toml").frame, **changes)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"mode": "acute"}, "mode", "'acute' is not allowed; allowed: chronic, residual"),
    ({"schema_version": 2}, "schema_version", "2 is not supported; allowed: 1"),
    ({"patient": "Smith"}, "patient", "must be a Patient"),
    ({"frame": None}, "frame", "must be a FrameSpec"),
    ({"deformity": {}}, "deformity", "must be a Deformity"),
    ({"mounting": 0}, "mounting", "must be a Mounting"),
    ({"correction": None}, "correction", "must be a CorrectionSettings"),
    ({"frame": _frame(neutral_strut_mm=None)}, "frame.neutral_strut_mm", "missing (required)"),
    ({"frame": _frame(strut_readings_mm=(150.0,) * 6)}, "frame.strut_readings_mm",
     "is for residual mode; chronic mode starts from frame.neutral_strut_mm"),
    ({"mode": "residual"}, "frame.strut_readings_mm",
     "missing: residual mode needs the six scale readings now (mm)"),
    ({"mode": "residual", "frame": _frame(strut_readings_mm=(150.0,) * 6)},
     "frame.neutral_strut_mm",
     "is for chronic mode; residual mode starts from frame.strut_readings_mm"),
])
def test_a_case_names_the_key_of_what_is_wrong_and_what_is_allowed(
        changes: dict[str, object], field: str, message: str) -> None:
    case = read_case(CASES / "right_tibia_chronic.toml")
    with pytest.raises(InputError) as info:
        dataclasses.replace(case, **changes)  # type: ignore[arg-type]
    assert (info.value.field, info.value.message) == (field, message)


_FRAME_REFUSALS = [
    ({"hardware": "tsf\0like"}, "hardware",
     "must not contain control characters, got 'tsf\\x00like'"),
    ({"hardware": ""}, "hardware", "missing (required): say what it is"),
    ({"neutral_strut_mm": 0.0}, "neutral_strut_mm", "must be > 0, got 0.0"),
    ({"neutral_strut_mm": 5000.0}, "neutral_strut_mm", "must be <= 1000, got 5000.0"),
    ({"strut_readings_mm": (150.0,) * 5}, "strut_readings_mm",
     "must list six positive readings (struts 1..6, mm), got (150.0, 150.0, 150.0, 150.0, "
     "150.0)"),
    ({"strut_readings_mm": "150"}, "strut_readings_mm",
     "must list six positive readings (struts 1..6, mm), got '150'"),
    ({"strut_readings_mm": (150.0,) * 5 + (0.0,)}, "strut_readings_mm[5]",
     "must be > 0, got 0.0"),
    ({"strut_readings_mm": (150.0,) * 5 + (5000.0,)}, "strut_readings_mm[5]",
     "must be <= 1000, got 5000.0"),
    ({"strut_sizes": ("medium",) * 5}, "strut_sizes",
     "must list six strut size names, got ('medium', 'medium', 'medium', 'medium', 'medium')"),
    ({"strut_sizes": "medium"}, "strut_sizes", "must list six strut size names, got 'medium'"),
    ({"strut_sizes": ("medium",) * 5 + ("",)}, "strut_sizes[5]",
     "must be a strut size name (a word of letters, digits, _ or -), got ''"),
    ({"proximal_ring_mm": 0.0}, "proximal_ring_mm", "must be > 0, got 0.0"),
]

_CORRECTION_REFUSALS = [
    ({"start_date": "2026-12-01"}, "start_date",
     "must be a date YYYY-MM-DD, got '2026-12-01'"),
    ({"start_date": policy.LATEST_START_DATE + dt.timedelta(days=1)}, "start_date",
     f"must be between {policy.EARLIEST_START_DATE} and {policy.LATEST_START_DATE}, got "
     f"{policy.LATEST_START_DATE + dt.timedelta(days=1)}"),
    ({"start_date": policy.EARLIEST_START_DATE - dt.timedelta(days=1)}, "start_date",
     f"must be between {policy.EARLIEST_START_DATE} and {policy.LATEST_START_DATE}, got "
     f"{policy.EARLIEST_START_DATE - dt.timedelta(days=1)}"),
    ({"rate_mm_per_day": 0.0}, "rate_mm_per_day", "must be > 0, got 0.0"),
    ({"adjustments_per_day": 0}, "adjustments_per_day", "must be >= 1, got 0"),
    ({"latency_days": -1}, "latency_days", "must be >= 0, got -1"),
    ({"latency_days": 2.5}, "latency_days", "must be a whole number, got 2.5"),
    ({"latency_days": 1000}, "latency_days", "must be <= 365, got 1000"),
    ({"extra_lengthening_mm": -1.0}, "extra_lengthening_mm", "must be >= 0, got -1.0"),
    ({"extra_lengthening_mm": 1e4}, "extra_lengthening_mm", "must be <= 200, got 10000.0"),
    ({"bone_radius_mm": 0.0}, "bone_radius_mm", "must be > 0, got 0.0"),
    ({"bone_radius_mm": 1e4}, "bone_radius_mm", "must be < 100, got 10000.0"),
    ({"stages": "length"}, "stages", "must be a list of stage names, got 'length'"),
    ({"stages": ("length", 5)}, "stages", "must be a list of stage names, got ('length', 5)"),
    ({"stages": ("width",)}, "stages", "'width' is not allowed; allowed: lengthen_first, "
                                       "length, translation, angulation, rotation"),
    ({"stages": ("length", "length")}, "stages", "names a component twice: ['length', "
                                                 "'length']"),
    ({"stages": ("lengthen_first", "length")}, "stages",
     "names a component twice: ['lengthen_first', 'length']"),
    ({"stages": ("rotation", "lengthen_first")}, "stages", "lengthen_first must come first"),
]


@pytest.mark.parametrize(("part", "changes", "field", "message"),
                         [("frame", *r) for r in _FRAME_REFUSALS]
                         + [("correction", *r) for r in _CORRECTION_REFUSALS])
def test_frame_and_correction_refusals_name_the_field_and_what_is_allowed(
        part: str, changes: dict[str, object], field: str, message: str) -> None:
    original = getattr(read_case(CASES / "right_tibia_chronic.toml"), part)
    with pytest.raises(InputError) as info:
        dataclasses.replace(original, **changes)
    assert (info.value.field, info.value.message) == (field, message)


def test_the_bounds_themselves_are_allowed() -> None:
    case = read_case(CASES / "right_tibia_chronic.toml")
    for date in (policy.EARLIEST_START_DATE, policy.LATEST_START_DATE):
        assert dataclasses.replace(case.correction, start_date=date).start_date == date
    assert dataclasses.replace(case.correction, latency_days=0).latency_days == 0
    assert dataclasses.replace(case.correction, extra_lengthening_mm=0.0,
                               ).extra_lengthening_mm == 0.0


def test_a_case_built_from_whole_numbers_and_lists_holds_floats_and_tuples() -> None:
    # a case built in code with ints and lists prints and compares like one read from a file
    case = read_case(CASES / "right_tibia_chronic.toml")
    frame = dataclasses.replace(case.frame, neutral_strut_mm=160, proximal_ring_mm=155,
                                strut_sizes=["medium"] * 6)  # type: ignore[arg-type]
    assert type(frame.neutral_strut_mm) is float and type(frame.proximal_ring_mm) is float
    assert frame.strut_sizes == ("medium",) * 6
    residual = dataclasses.replace(case.frame, neutral_strut_mm=None,
                                   strut_readings_mm=[150, 151, 152, 153, 154, 155])
    assert residual.strut_readings_mm == (150.0, 151.0, 152.0, 153.0, 154.0, 155.0)
    assert all(type(v) is float for v in residual.strut_readings_mm)
    correction = dataclasses.replace(
        case.correction, rate_mm_per_day=1, extra_lengthening_mm=5, bone_radius_mm=15,
        latency_days=7.0, adjustments_per_day=2.0, stages=["lengthen_first"])
    for name in ("rate_mm_per_day", "extra_lengthening_mm", "bone_radius_mm"):
        assert type(getattr(correction, name)) is float
    assert type(correction.latency_days) is int and type(correction.adjustments_per_day) is int
    assert correction.stages == ("lengthen_first",)
    when = dt.datetime(2026, 12, 1, 9, 30)
    assert type(dataclasses.replace(case.correction, start_date=when).start_date) is dt.date


def test_the_words_of_a_direction_are_listed_when_one_is_missing_or_wrong() -> None:
    with pytest.raises(InputError) as info:
        Deformity(ap_angulation_deg=10.0)
    assert (info.value.field, info.value.message) == (
        "ap_angulation_dir", "missing: ap_angulation_deg is 10, so say which way; allowed: "
                             "varus, valgus")
    with pytest.raises(InputError, match=r"^ap_translation_dir must be one of medial, "
                                         r"lateral, got 'up'$"):
        _signed(5.0, "up", "ap_translation", "medial")
    with pytest.raises(InputError, match=r"^side must be 'right' or 'left', got 'up'$"):
        medial_sign("up")


def test_at_most_the_policy_s_structures_at_risk_each_named_once() -> None:
    case = read_case(CASES / "right_tibia_chronic.toml")
    most = policy.MAX_STRUCTURES_AT_RISK
    many = [StructureAtRisk(f"s{i}") for i in range(most + 1)]
    assert dataclasses.replace(case, structures_at_risk=many[:most]).structures_at_risk == (
        tuple(many[:most]))  # a list is held as a tuple
    with pytest.raises(InputError) as info:
        dataclasses.replace(case, structures_at_risk=tuple(many))
    assert (info.value.field, info.value.message) == (
        "structures_at_risk", f"at most {most} allowed, got {most + 1}")
    with pytest.raises(InputError) as info:
        dataclasses.replace(case, structures_at_risk=(StructureAtRisk("a"), StructureAtRisk("a")))
    assert (info.value.field, info.value.message) == (
        "structures_at_risk", "names must be unique, got ['a', 'a']")


def test_a_hardware_path_may_be_as_long_as_a_file_path() -> None:
    frame = read_case(CASES / "right_tibia_chronic.toml").frame
    longest = "h" * MAX_HARDWARE_CHARS
    assert dataclasses.replace(frame, hardware=longest).hardware == longest
    with pytest.raises(InputError) as info:
        dataclasses.replace(frame, hardware=longest + "h")
    assert info.value.field == "hardware"
