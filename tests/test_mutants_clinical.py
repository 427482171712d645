"""Rules of hexapod.clinical that the mutation run found unchecked: stage names and the
stages dropped, the plan input's stage poses and notes, and why a case is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.case import Case, Deformity
from hexapod.clinical import build_plan_input, reading_to_length, stage_plan, stage_waypoints
from hexapod.errors import CaseError, InputError
from hexapod.hardware import Catalogue
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue

from .conftest import catalogue_with_offsets

CASES = Path(__file__).parent.parent / "sample_cases"


def _case(name: str = "right_tibia_chronic", **correction: object) -> Case:
    case = read_case(CASES / f"{name}.toml")
    if correction:
        case = dataclasses.replace(case, correction=dataclasses.replace(case.correction,
                                                                        **correction))
    return case


def test_an_unknown_stage_lists_the_allowed_ones() -> None:
    with pytest.raises(InputError, match=r"^unknown stage 'twist'; allowed: lengthen_first, "
                                         r"length, translation, angulation, rotation$"):
        stage_plan(("twist",))


def test_stage_names_follow_the_stages_and_drop_a_still_one() -> None:
    case = _case(stages=("rotation", "angulation"))
    assert stage_waypoints(case)[1] == ("rotation", "angulation", "length+translation")
    still = dataclasses.replace(case, deformity=dataclasses.replace(
        case.deformity, axial_rotation_deg=0.0, axial_rotation_dir=None))
    waypoints, names = stage_waypoints(still)
    assert names == ("angulation", "length+translation")  # the rotation stage moves nothing
    assert waypoints.shape == (3, 4, 4)


def test_nothing_to_correct_is_one_still_stage() -> None:
    case = dataclasses.replace(_case(), deformity=Deformity())
    waypoints, names = stage_waypoints(case)
    assert names == ("none",)
    assert waypoints.shape == (2, 4, 4)
    np.testing.assert_array_equal(waypoints[0], waypoints[1])
    np.testing.assert_allclose(waypoints[0], np.eye(4), atol=1e-12)


def test_stage_poses_run_from_the_start_to_the_target_through_each_stage() -> None:
    pi = build_plan_input(_case(stages=("lengthen_first",)), load_catalogue())
    assert pi.stage_poses.shape == (3, 4, 4)
    np.testing.assert_allclose(pi.stage_poses[0], pi.start_pose, atol=1e-9)
    np.testing.assert_allclose(pi.stage_poses[-1], pi.target_pose, atol=1e-9)
    np.testing.assert_allclose(pi.stage_poses[1],
                               pi.ring_pose_from_fragment(pi.waypoints_in_anatomy[1]),
                               atol=1e-9)
    # the length stage moves the ring along the bone only: no turn between stage 0 and 1
    turn = tf.invert(pi.stage_poses[0]) @ pi.stage_poses[1]
    np.testing.assert_allclose(turn[:3, :3], np.eye(3), atol=1e-12)


def test_a_chronic_plan_notes_the_neutral_frame() -> None:
    cat = load_catalogue()
    pi = build_plan_input(_case(), cat)
    (note,) = pi.notes
    assert note.kind == "chronic_neutral" and note.detail["reading_mm"] == 150.0
    lengths = pi.frame.geometry.neutral_lengths(note.detail["height_mm"])
    np.testing.assert_allclose(lengths, reading_to_length(cat, 150.0), atol=1e-9)


@pytest.mark.parametrize("reference, moving", [("proximal", "distal"), ("distal", "proximal")])
def test_a_residual_plan_notes_which_ring_moves(reference: str, moving: str) -> None:
    case = _case("acute_fracture_reduction")
    case = dataclasses.replace(case, frame=dataclasses.replace(case.frame, reference=reference))
    (note,) = build_plan_input(case, load_catalogue()).notes
    assert note.kind == "residual_start" and dict(note.detail) == {"moving_ring": moving}


@pytest.mark.parametrize("name, field, value, message", [
    ("right_tibia_chronic", "neutral_strut_mm", None,
     r"^chronic mode needs frame.neutral_strut_mm$"),
    ("acute_fracture_reduction", "strut_readings_mm", None,
     r"^residual mode needs six frame.strut_readings_mm$"),
    ("acute_fracture_reduction", "strut_readings_mm", (155.0,) * 5,
     r"^residual mode needs six frame.strut_readings_mm$"),
])
def test_the_planner_refuses_a_frame_without_its_mode_s_numbers(
        name: str, field: str, value: object, message: str) -> None:
    # a validated Case refuses these first (tests/test_case.py); the planner keeps its own
    # check for a frame changed after validation, which this simulates
    case = _case(name)
    frame = dataclasses.replace(case.frame)
    object.__setattr__(frame, field, value)
    object.__setattr__(case, "frame", frame)
    with pytest.raises(InputError, match=message):
        build_plan_input(case, load_catalogue())


def _offset_catalogue() -> Catalogue:
    """The bundled catalogue with a different reading offset on each size (1, 2, 3, 4 mm)."""
    return catalogue_with_offsets((1.0, 2.0, 3.0, 4.0))


@pytest.mark.parametrize("reading, size, length", [
    (96.0, "x-short", 97.0), (75.0, "x-short", 76.0),  # a size's scale ends are on it
    (75.0, None, 76.0), (289.0, None, 293.0),  # the first size's start, the last one's end
    (100.0, None, 102.0), (200.0, None, 204.0)])  # held by one size only
def test_a_reading_at_the_end_of_a_scale_is_on_it(reading: float, size: str | None,
                                                  length: float) -> None:
    assert reading_to_length(_offset_catalogue(), reading, size) == length


@pytest.mark.parametrize("reading, message", [
    (74.0, r"^reading 74 mm is outside every strut size of 'tsf-like' \(75-289 mm\)$"),
    (289.5, r"^reading 289.5 mm is outside every strut size of 'tsf-like' \(75-289 mm\)$"),
])
def test_a_reading_outside_every_size_gives_the_whole_range(reading: float,
                                                            message: str) -> None:
    with pytest.raises(InputError, match=message):
        reading_to_length(load_catalogue(), reading)


def test_a_reading_two_sizes_hold_with_different_offsets_needs_the_size() -> None:
    with pytest.raises(InputError, match=(
            r"^reading 92 mm fits sizes with different reading offsets \(x-short, short\); "
            r"name the fitted sizes \(frame.strut_sizes in a case file, --sizes on the "
            r"command line\)$")):
        reading_to_length(_offset_catalogue(), 92.0)
    assert reading_to_length(load_catalogue(), 92.0) == 92.0  # the same offsets: no doubt


@pytest.mark.parametrize("sizes", [None, ("medium",) * 6, ("long",) * 6])
def test_a_neutral_reading_two_sizes_hold_with_different_offsets_is_refused(
        sizes: tuple[str, ...] | None) -> None:
    # the sizes at the end of correction are the plan's, so naming the sizes fitted now
    # cannot settle the length: the reading must, whatever the case names
    case = _case()
    case = dataclasses.replace(case, frame=dataclasses.replace(
        case.frame, neutral_strut_mm=170.0, strut_sizes=sizes))
    with pytest.raises(CaseError) as info:
        build_plan_input(case, catalogue_with_offsets((4.0, 5.0, 6.0, 7.0)))
    assert info.value.field == "frame.neutral_strut_mm"
    assert info.value.message == (
        "170 mm is on the scales of sizes with different reading offsets (medium, long), so "
        "the frame at the end of correction is not known; choose a neutral reading that only "
        "one of them holds")
    # one size holds 165 mm: its offset gives the end frame's struts
    case = dataclasses.replace(case, frame=dataclasses.replace(case.frame,
                                                               neutral_strut_mm=165.0))
    plan_input = build_plan_input(case, catalogue_with_offsets((4.0, 5.0, 6.0, 7.0)))
    np.testing.assert_allclose(plan_input.frame.strut_lengths(plan_input.target_pose),
                               [171.0] * 6, atol=1e-9)
