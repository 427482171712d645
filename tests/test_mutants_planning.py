"""The planning pipeline's small rules (hexapod/planning/__init__.py) with hand-made inputs:
which row and point a rounding refusal names, the rate refusal, swaps per row, two swaps of a
strut on one day, near-end warnings and the notes about the whole plan."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import hexapod
from hexapod.case import Deformity
from hexapod.errors import InputError
from hexapod.findings import Note, Violation
from hexapod.planning import (
    near_end,
    plan_notes,
    rate_violations,
    rounding_violations,
    row_swaps,
    two_swaps_a_day,
)
from hexapod.planning.result import PaceReport, Swap

from .conftest import catalogue_with_offsets

SAMPLES = Path(__file__).parent.parent / "sample_cases"
LO = np.array([0.0, 20.0])
HI = np.array([30.0, 60.0])
STEP = np.array([1.0, 0.5])


def _plan_input(mode="new", method="gradual", rate=1.0, structures=("nerve",), notes=()):
    limits = SimpleNamespace(max_rounding_error_mm=0.5, max_rounding_error_deg=0.2,
                             near_end_margin_mm=2.0)
    catalogue = SimpleNamespace(
        limits=limits, strut_sizes=[SimpleNamespace(name="short"), SimpleNamespace(name="long")],
        range_table=lambda: (LO, HI, STEP, np.array([100.0, 110.0])))
    return SimpleNamespace(
        catalogue=catalogue,
        case=SimpleNamespace(mode=mode, correction=SimpleNamespace(
            method=method, rate_mm_per_day=rate, bone_radius_mm=12.0)),
        corresponding_point=np.zeros(3), structure_names=structures,
        structure_points=np.zeros((len(structures), 3)), notes=notes)


def test_rounding_violation_names_first_row_and_point() -> None:
    day = np.array([0, 1, 2, 3, 4])
    per_point = np.array([[0.9, 0.1], [0.1, 0.2], [0.2, 0.6], [0.1, 0.1], [0.7, 0.3]])
    mm = per_point.max(axis=1)
    deg = np.array([0.0, 0.0, 0.1, 0.25, 0.0])
    [v] = rounding_violations(_plan_input(), per_point, mm, deg, day)
    assert (v.kind, v.day, v.strut, v.value, v.limit) == ("rounding", 0, None, 0.9, 0.5)
    assert dict(v.detail) == {"unit": "mm", "point": "corresponding point", "mm": 0.9,
                              "limit_mm": 0.5, "deg": 0.0, "limit_deg": 0.2, "rows": 4}
    # residual: row 0 is the frame as it is, not a rounding
    [v] = rounding_violations(_plan_input(mode="residual"), per_point, mm, deg, day)
    assert (v.day, v.value, v.detail["point"], v.detail["rows"]) == (2, 0.6, "nerve", 3)
    # the angle alone: value and limit are the degrees
    [v] = rounding_violations(_plan_input(mode="residual"), per_point * 0.1, mm * 0.1, deg, day)
    assert (v.day, v.detail["deg"], v.detail["rows"]) == (3, 0.25, 1)
    assert (v.detail["unit"], v.value, v.limit) == ("deg", 0.25, 0.2)
    # exactly at the bounds: fine
    assert rounding_violations(_plan_input(), np.full((5, 2), 0.5), np.full(5, 0.5),
                               np.full(5, 0.2), day) == []


def _report(max_rate, cortex=0.5):
    return PaceReport(names=("nerve",), path_mm=np.zeros((1, 1)),
                      stage_days=np.array([3]), pace_setter="nerve", max_mm_per_day=max_rate,
                      cortex_max_mm_per_day=cortex)


def test_rate_violation() -> None:
    assert rate_violations(_plan_input(rate=1.0), _report(1.0)) == []
    assert rate_violations(_plan_input(rate=1.0), _report(1.0 + 1e-12)) == []
    assert rate_violations(_plan_input(rate=1.0), _report(1.25)) == [
        Violation("rate", None, None, 1.25, 1.0, {"point": "nerve"})]
    assert rate_violations(_plan_input(rate=1.0, method="acute"), _report(9.0)) == []


def test_row_swaps_and_two_a_day() -> None:
    size = np.array([[0, 0, 1, 0, 0, 0], [1, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 1],
                     [0, 0, 0, 0, 0, 1]])
    readings = np.arange(24.0).reshape(4, 6)
    swaps = row_swaps(_plan_input(), size, readings)
    assert swaps == ((), (Swap(1, "short", "long", 6.0),),
                     (Swap(3, "long", "short", 14.0), Swap(6, "short", "long", 17.0)),
                     (Swap(1, "long", "short", 18.0),))
    assert two_swaps_a_day(swaps, np.array([0, 1, 2, 3])) == []
    assert two_swaps_a_day(swaps, np.array([0, 1, 2, 2])) == []
    assert two_swaps_a_day(swaps, np.array([0, 1, 1, 1])) == [
        Violation("two_swaps_a_day", 1, 1, 2.0, 1.0)]


def test_near_end_warnings() -> None:
    size = np.array([[0, 0, 1, 1, 0, 1]])
    readings = np.array([[2.0, 2.5, 22.0, 58.0, 28.0, 40.0]])
    near, warnings = near_end(_plan_input(), readings, size)
    assert near.tolist() == [[True, False, True, True, True, False]]
    [row] = warnings
    assert [(w.kind, w.strut, w.value, w.limit) for w in row] == [
        ("near_end", 1, 2.0, 2.0), ("near_end", 3, 22.0, 2.0), ("near_end", 4, 58.0, 2.0),
        ("near_end", 5, 28.0, 2.0)]
    assert dict(row[1].detail) == {"size": "long", "min_mm": 20.0, "max_mm": 60.0}
    assert dict(row[3].detail) == {"size": "short", "min_mm": 0.0, "max_mm": 30.0}


def test_plan_notes() -> None:
    lengths = np.array([[150.0] * 6, [150.375] * 6, [150.75] * 6])
    first = Note("residual_start", {"x": 1})
    notes = plan_notes(_plan_input(notes=(first,)), _report(1.0, cortex=1.5), lengths,
                       ((), (), ()))
    assert notes == (first, Note("cortex_faster", {"bone_radius_mm": 12.0, "mm_per_day": 1.5}),
                     Note("scale_step", {"max_change_mm": 0.375,
                                         "step_mm": 0.5}))
    # a whole step per adjustment, the cortex within the rate, no structures named
    big = np.array([[150.0] * 6, [150.5] * 6])
    assert plan_notes(_plan_input(structures=()), _report(1.0, cortex=1.5), big, ((), ())) == ()
    assert plan_notes(_plan_input(), _report(1.0, cortex=1.0), big, ((), ())) == ()
    swaps = ((), (Swap(2, "short", "long", 21.0), Swap(5, "long", "short", 29.0)))
    notes = plan_notes(_plan_input(method="acute"), _report(9.0, cortex=9.0), lengths[:2],
                       swaps)
    assert notes == (Note("acute"), Note("acute_swaps", {"swaps": (
        (2, "short", "long", 21.0), (5, "long", "short", 29.0))}))
    assert plan_notes(_plan_input(method="acute"), _report(9.0), lengths[:2], ((), ())) == (
        Note("acute"),)


# --- prepare and the notes of a plan (mutation run of hexapod/planning/__init__.py) ----------

def test_a_case_without_a_catalogue_says_how_to_attach_one() -> None:
    case = hexapod.load_case(SAMPLES / "right_tibia_chronic.toml")
    with pytest.raises(InputError, match=(
            r"^case.catalogue is missing: load the case with hexapod.load_case, or attach one "
            r"with dataclasses.replace\(case, catalogue=...\)$")):
        hexapod.plan(dataclasses.replace(case, catalogue=None))


def test_readings_of_no_frame_are_refused_on_the_first_of_one_row() -> None:
    case = hexapod.load_case(SAMPLES / "total_residual.toml")
    frame = dataclasses.replace(case.frame, strut_readings_mm=(100, 200, 100, 200, 100, 200),
                                strut_sizes=None)
    with pytest.raises(hexapod.PlanRefused) as info:
        hexapod.plan(dataclasses.replace(case, frame=frame))
    (v,) = info.value.violations
    assert (v.kind, v.day, v.strut, v.value, v.limit) == ("assembly", 0, None, None, None)
    assert set(v.detail) == {"row", "rows", "start"}
    assert (v.detail["row"], v.detail["rows"]) == (0, 1)
    assert v.detail["start"].startswith("the six strut readings do not describe a frame")


def test_one_adjustment_smaller_than_the_scale_step_is_noted() -> None:
    case = hexapod.load_case(SAMPLES / "pure_lengthening.toml")
    case = dataclasses.replace(
        case, deformity=Deformity(axial_translation_mm=0.3, axial_translation_dir="short"),
        correction=dataclasses.replace(case.correction, adjustments_per_day=1))
    result = hexapod.plan(case, suggest=False)
    assert len(result.day) == 2  # the start and one adjustment
    (note,) = [n for n in result.notes if n.kind == "scale_step"]
    assert note.detail["step_mm"] == 1.0 and 0.0 < note.detail["max_change_mm"] < 0.3


def test_a_residual_plan_refuses_a_rounding_on_its_first_adjustment() -> None:
    day = np.array([0, 1, 2])
    per_point = np.array([[0.0, 0.0], [0.2, 0.9], [0.1, 0.1]])
    [v] = rounding_violations(_plan_input(mode="residual"), per_point,
                              per_point.max(axis=1), np.zeros(3), day)
    assert (v.day, v.value, v.detail["point"], v.detail["rows"]) == (1, 0.9, "nerve", 1)


def test_a_millimetre_deviation_exactly_at_its_bound_is_within_it() -> None:
    # the angle breaks its bound, the millimetres sit on theirs: the angle is reported
    day = np.array([0, 1])
    per_point = np.array([[0.5, 0.5], [0.1, 0.1]])
    [v] = rounding_violations(_plan_input(), per_point, np.array([0.5, 0.1]),
                              np.array([0.25, 0.0]), day)
    assert (v.day, v.detail["unit"], v.value, v.limit) == (0, "deg", 0.25, 0.2)


def test_the_frame_reached_is_solved_from_the_readings_plus_their_offsets() -> None:
    from hexapod.clinical import build_plan_input

    catalogue = catalogue_with_offsets((3.0, -2.0, 5.0, 1.0),  # rows re-picked, solved again
                                       limits={"max_rounding_error_mm": 0.5})
    case = hexapod.load_case(SAMPLES / "right_tibia_chronic.toml")
    result = hexapod.plan(build_plan_input(case, catalogue), suggest=False)
    offsets = np.array([3.0, -2.0, 5.0, 1.0])[np.asarray(result.size_index)]
    reached = result.plan_input.frame.solve_pose(result.readings_mm + offsets,
                                                 guess=result.poses)
    np.testing.assert_allclose(result.achieved_poses, reached, atol=1e-9)
    assert float(np.max(result.deviation_mm)) <= 0.5


def test_a_residual_plan_starts_from_the_readings_as_measured() -> None:
    # readings between two scale marks: the first row is the frame as it is, not a rounding
    case = hexapod.load_case(SAMPLES / "total_residual.toml")
    readings = (152.4, 139.0, 147.6, 161.0, 144.3, 150.0)
    case = dataclasses.replace(case, frame=dataclasses.replace(case.frame,
                                                               strut_readings_mm=readings))
    result = hexapod.plan(case, suggest=False)
    np.testing.assert_array_equal(result.readings_mm[0], readings)
    later = result.readings_mm[1:]
    np.testing.assert_array_equal(later, np.round(later))  # the adjustments are on the marks


def _offset_case(offsets: tuple[float, ...], axial_mm: float = 30.0) -> object:
    """The right tibia lengthened ``axial_mm`` (swaps needed) on the bundled catalogue with
    these reading offsets (mm) of its four sizes."""
    from hexapod.clinical import build_plan_input

    case = hexapod.load_case(SAMPLES / "right_tibia_chronic.toml")
    case = dataclasses.replace(case, deformity=dataclasses.replace(
        case.deformity, axial_translation_mm=axial_mm))
    return build_plan_input(case, catalogue_with_offsets(offsets))


def test_without_suggestions_a_refusal_carries_none() -> None:
    case = hexapod.load_case(SAMPLES / "right_tibia_chronic.toml")
    case = dataclasses.replace(case, frame=dataclasses.replace(case.frame,
                                                               neutral_strut_mm=100.0))
    with pytest.raises(hexapod.PlanRefused) as info:
        hexapod.plan(case, suggest=False)  # struts out of range; another neutral strut plans
    assert info.value.suggestions == ()
    assert info.value.violations[0].kind == "strut_range"
    with pytest.raises(hexapod.PlanRefused) as info:
        hexapod.plan(case)
    assert info.value.suggestions  # looked for only when asked


def test_swaps_between_sizes_with_different_offsets_keep_the_length_continuous() -> None:
    # the change per adjustment is checked on the set lengths (reading + its size's offset)
    # and on the readings: across a swap the reading jumps by the offsets' difference (here
    # at most 2 mm), the length does not
    offsets = np.array([0.0, 0.0, 2.0, 2.0])  # a swap short -> medium: 2 mm
    result = hexapod.plan(_offset_case(tuple(offsets)), suggest=False)
    assert result.swap_count >= 1
    lengths = result.readings_mm + offsets[result.size_index]
    limit = float(result.plan_input.catalogue.limits.max_change_per_adjustment_mm)
    length_steps = np.abs(np.diff(lengths, axis=0))
    assert float(np.max(length_steps)) <= 1.0 + 1e-9  # 1 mm a day, one adjustment at most
    swapped = np.diff(result.size_index, axis=0) != 0
    jumps = np.abs(np.diff(result.readings_mm, axis=0))[swapped]
    assert float(np.max(jumps)) > 1.5 and float(np.max(jumps)) <= limit


def test_a_rounded_row_on_another_assembly_branch_is_refused() -> None:
    from hexapod import kinematics as kin
    from hexapod import transforms as tf
    from hexapod.planning import ASSEMBLY_TOLERANCE_MM, assemble

    from .conftest import spec_frame

    frame = spec_frame()
    ref, mov = frame.reference_joints, frame.moving_joints
    rng = np.random.default_rng(3)

    def near_twist(n: int) -> np.ndarray:  # the spec frame is singular at a 90 degree twist
        rotvec = rng.normal(size=(n, 3)) * np.radians(2e-5)
        rotvec[:, 2] = np.radians(90.0 + rng.uniform(-2e-5, 2e-5, n))
        trans = rng.normal(size=(n, 3)) * 5e-5 + np.array([0.0, 0.0, -150.0])
        return tf.from_rotation_translation(tf.rotation_from_rotvec(rotvec), trans)

    truth, guess = near_twist(3000), near_twist(3000)
    lengths = kin.strut_lengths(ref, mov, truth)
    status = kin.solve_pose_status(ref, mov, lengths, guess)
    crossed = int(np.flatnonzero(status.converged & ~status.same_branch)[0])
    fine = int(np.flatnonzero(status.converged & status.same_branch)[0])
    plan_input = SimpleNamespace(frame=SimpleNamespace(
        solve_pose_status=lambda set_lengths, guess: kin.solve_pose_status(ref, mov, set_lengths,
                                                                           guess)))
    day = np.array([0, 3, 5])
    rows = [fine, crossed, crossed]
    with pytest.raises(hexapod.PlanRefused) as info:
        assemble(plan_input, lengths[rows], guess[rows], day)  # type: ignore[arg-type]
    (v,) = info.value.violations
    assert (v.kind, v.day, v.strut, v.limit) == ("assembly", 3, None, ASSEMBLY_TOLERANCE_MM)
    assert dict(v.detail) == {"row": 1, "rows": 2, "other_branch": True}
    nowhere = lengths[[fine, fine]].copy()
    nowhere[1] = [20.0, 400.0, 20.0, 400.0, 20.0, 400.0]
    with pytest.raises(hexapod.PlanRefused) as info:
        assemble(plan_input, nowhere, guess[[fine, fine]], day[:2])  # type: ignore[arg-type]
    (v,) = info.value.violations
    assert dict(v.detail) == {"row": 1, "rows": 1, "other_branch": False} and v.value > 1.0


def test_an_acute_step_may_change_sizes_but_the_frame_as_mounted_keeps_its_own() -> None:
    # 112 mm only the short size holds (90-125; medium from 116), 128 mm only the medium
    case = hexapod.load_case(SAMPLES / "acute_fracture_reduction.toml")
    case = dataclasses.replace(
        case, frame=dataclasses.replace(case.frame, strut_readings_mm=(112.0,) * 6,
                                        strut_sizes=None),
        deformity=Deformity(axial_translation_mm=25.0, axial_translation_dir="short"))
    result = hexapod.plan(case, suggest=False)
    np.testing.assert_array_equal(result.readings_mm, [[112.0] * 6, [128.0] * 6])
    names = [s.name for s in result.plan_input.catalogue.strut_sizes]
    assert [names[i] for i in result.size_index[0]] == ["short"] * 6
    assert [names[i] for i in result.size_index[1]] == ["medium"] * 6
    (note,) = [n for n in result.notes if n.kind == "acute_swaps"]
    assert [s[:3] for s in note.detail["swaps"]] == [(k, "short", "medium") for k in range(1, 7)]
