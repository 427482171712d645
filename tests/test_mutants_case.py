"""The case model (:mod:`hexapod.case`): positions of structures at risk on both limbs, the
bounds and words it refuses with their field, and the stages a deformity can drop. Built from
the survivors of a mutation run (see docs/testing.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hexapod import policy
from hexapod.case import (
    MAX_SIZE_NAME_CHARS,
    STAGE_COMPONENTS,
    Case,
    Deformity,
    Patient,
    StructureAtRisk,
    check_size_name,
    field_names,
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
