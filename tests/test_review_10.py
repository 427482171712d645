"""Review of the issue #10 changes (the neutral reading, the ring fit's start values, the
structures a resume moves): rules no test pinned, and two defects found by hostile use,
each fixed: a ring fit from start values that overflow, a structure moved past the
position bound, a motion that is no transform, a finished patient told he is behind."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from hexapod.calibration import ChordObservations, fit_ring
from hexapod.case import StructureAtRisk
from hexapod.clinical import build_plan_input
from hexapod.errors import CaseError, InputError
from hexapod.io.case_file import read_case
from hexapod.io.loading import load_case
from hexapod.planning import plan, prepare
from hexapod.readback import move_structures
from hexapod.resume import position_on, resume_from_plan, resume_plan_input

from .conftest import catalogue_with_offsets

ROOT = Path(__file__).parent.parent / "sample_cases"
#: Offsets (mm) of x-short, short, medium and long, all different.
OFFSETS = (4.0, 5.0, 6.0, 7.0)
PROX = ([90, 90, 210, 210, 330, 330], [-1, 1, -1, 1, -1, 1])


# --- the neutral reading of a chronic case --------------------------------------------------

@pytest.mark.parametrize(("reading", "holders"), [
    (169.0, "medium, long"), (178.0, "medium, long"),  # the long's first, the medium's last
    (116.0, "short, medium"), (125.0, "short, medium"),
    (90.0, "x-short, short"), (96.0, "x-short, short")])
def test_a_neutral_reading_at_the_end_of_a_scale_is_on_both_sizes(reading: float,
                                                                   holders: str) -> None:
    # a scale's ends are on it: the refusal names the key, not the generic reading rule
    case = read_case(ROOT / "right_tibia_chronic.toml")
    case = dataclasses.replace(case, frame=dataclasses.replace(case.frame,
                                                               neutral_strut_mm=reading))
    with pytest.raises(CaseError) as info:
        build_plan_input(case, catalogue_with_offsets(OFFSETS))
    assert info.value.field == "frame.neutral_strut_mm"
    assert f"({holders})" in info.value.message


@pytest.mark.parametrize(("reading", "offset"), [(168.5, 6.0), (178.5, 7.0), (125.5, 6.0)])
def test_a_neutral_reading_just_off_a_scale_end_plans_on_the_one_size(reading: float,
                                                                      offset: float) -> None:
    case = read_case(ROOT / "right_tibia_chronic.toml")
    case = dataclasses.replace(case, frame=dataclasses.replace(case.frame,
                                                               neutral_strut_mm=reading))
    plan_input = build_plan_input(case, catalogue_with_offsets(OFFSETS))
    np.testing.assert_allclose(plan_input.frame.strut_lengths(plan_input.target_pose),
                               [reading + offset] * 6, atol=1e-9)


# --- the ring fit's start values ------------------------------------------------------------

def _two_chords() -> ChordObservations:
    return ChordObservations.from_joints(*PROX, [[1, 2], [1, 3]], [15.08, 162.99])


@pytest.mark.parametrize(("radius", "spacing"), [(np.inf, 10.0), (-np.inf, 10.0),
                                                 (np.nan, np.nan)])
def test_an_infinite_start_radius_is_refused(radius: float, spacing: float) -> None:
    # 0 < 10 < 2 inf holds: only the finiteness check refuses it
    with pytest.raises(ValueError, match=r"^the start values must be a ring"):
        fit_ring(_two_chords(), radius, spacing)


@pytest.mark.parametrize(("radius", "spacing"), [(1e308, 1.0), (1e-300, 1e-300),
                                                 (1e308, 1e308), (1e154, 1.0), (0.5, 0.4)])
def test_a_start_value_that_is_no_measurable_ring_is_refused(radius: float,
                                                             spacing: float) -> None:
    # these passed the first check and then failed inside numpy's least squares
    with pytest.raises(ValueError, match=r"^the start values must be a ring: 1 <= radius "
                                         r"<= 10000 and 0 < spacing < 2 radius, got radius"):
        fit_ring(_two_chords(), radius, spacing)


# --- the structures a resume moves ----------------------------------------------------------

def test_a_resume_on_a_left_limb_moves_its_structures_on_the_left() -> None:
    # the resumed case, planned from scratch, puts its structures where the resume moved
    # them: a medial sign taken from the wrong limb mirrors them through the sagittal plane
    original = plan(prepare(load_case(ROOT / "left_tibia_chronic.toml")))
    assert original.plan_input.case.patient.side == "left"
    assert original.plan_input.case.structures_at_risk
    row = len(original.day) // 2
    resumed = resume_from_plan(original, original.readings_mm[row], None, original.dates[row])
    again = build_plan_input(resumed.case, resumed.catalogue)
    np.testing.assert_allclose(again.structure_points, resumed.structure_points, atol=1e-9)
    assert not np.allclose(resumed.structure_points, original.plan_input.structure_points,
                           atol=0.5)


def test_a_structure_the_correction_moves_past_the_position_bound_is_named(
        ) -> None:
    # a resume re-states the case with its structures where the frame has moved them: one
    # moved past the bound every case is held to is refused by name, not by a number the
    # user never entered
    case = load_case(ROOT / "pure_lengthening.toml")  # 10 mm of lengthening
    case = dataclasses.replace(case, structures_at_risk=(
        StructureAtRisk("far", axial_mm=495.0, axial_dir="distal"),))
    plan_input = prepare(case)
    plan(plan_input)  # the case plans
    at_end = np.round(plan_input.frame.strut_lengths(plan_input.target_pose))
    with pytest.raises(InputError) as info:
        resume_plan_input(plan_input, at_end, None, dt.date(2027, 1, 20))
    assert info.value.field == "structures_at_risk"
    assert info.value.message == (
        "'far' is moved 505.0 mm from the origin along one axis, beyond the 500 mm a "
        "structure at risk may be: place it nearer the origin, or leave it out")


@pytest.mark.parametrize("motion", [np.eye(3), np.diag([2.0, 2.0, 2.0, 1.0]),
                                    np.stack([np.eye(4)] * 2)])
def test_move_structures_refuses_a_motion_that_is_no_transform_by_name(
        motion: np.ndarray) -> None:
    nerve = (StructureAtRisk("n", ap_mm=20.0, ap_dir="medial"),)
    with pytest.raises(InputError, match=r"^motion_in_anatomy"):
        move_structures(nerve, motion, "right")


# --- where readings sit on a prescription ---------------------------------------------------

def test_readings_of_the_last_rows_that_read_alike_complete_the_prescription() -> None:
    d = [dt.date(2026, 12, 16), dt.date(2026, 12, 17), dt.date(2026, 12, 17)]
    rows = [[159.0] * 6, [160.0] * 6, [160.0] * 6]  # the last adjustment rounds to nothing
    where = position_on(rows, tuple(d), [9, 10, 10], ("20:00", "12:00", "16:00"),
                        [160.0] * 6, dt.date(2027, 1, 20))
    assert where.complete is True and where.days_behind == 0
