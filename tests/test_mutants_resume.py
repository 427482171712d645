"""Resuming from readings (:mod:`hexapod.resume`): the exact refusals, where readings sit on
a short prescription, and every part of a resumed plan input (sizes, offsets, the guess,
the stage poses and the deformity matrix). Built from the survivors of a mutation run (see
docs/testing.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from hexapod.anatomy import distal_in_proximal
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import InputError
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.io.loading import load_case
from hexapod.planning import plan, prepare
from hexapod.resume import (
    Position,
    Revision,
    deformity_from_signed,
    position_on,
    resume_from_plan,
    sizes_at_visit,
)
from hexapod.resume import resume_plan_input as resume

from .conftest import catalogue_with_offsets
from .test_resume import C91, STAGED

D1, D5, D8 = dt.date(2026, 12, 1), dt.date(2026, 12, 5), dt.date(2026, 12, 8)
#: Readings that both the medium (116-178 mm) and the long (169-289 mm) size hold.
OVERLAP = (175.0, 174.0, 176.0, 173.0, 175.5, 174.5)
#: Reading-to-length offsets of x-short, short, medium and long (mm), all different.
OFFSETS = (4.0, 5.0, 6.0, 7.0)


def test_the_revision_after_an_unknown_one_is_refused_by_name() -> None:
    with pytest.raises(InputError, match=r"^the revision after one of unknown number is "
                                         r"unknown$"):
        Revision(None).next(D1)


def test_a_position_has_six_read_only_differences() -> None:
    where = Position(0, D1, 0, "", np.zeros(6), 0)
    assert not where.difference_mm.flags.writeable
    assert Position(3, D1, 3, "08:00", np.zeros(6), 0).fitted_row == 3  # no run: its own row
    with pytest.raises(InputError, match=r"^difference_mm must have six values$"):
        Position(0, D1, 0, "", np.zeros(5), 0)


def test_every_row_needs_its_date_day_and_time() -> None:
    with pytest.raises(InputError, match=r"^every row needs its readings, date, day and time$"):
        position_on([[150.0] * 6] * 2, (D1,), [0, 1], ("", "08:00"), [150.0] * 6, D5)


def test_a_prescription_of_one_row_is_complete_at_it() -> None:
    where = position_on([[150.0] * 6], (D1,), [0], ("",), [150.0] * 6, D5)
    assert (where.row, where.days_behind, where.complete) == (0, 0, True)


def test_on_two_rows_the_start_readings_stand_until_the_day_before_the_first() -> None:
    rows, days, times = [[150.0] * 6, [151.0] * 6], [0, 1], ("", "08:00")
    assert position_on(rows, (D1, D8), days, times, [150.0] * 6, D5).days_behind == 0
    assert position_on(rows, (D1, D8), days, times, [150.0] * 6, D8).days_behind == 1


def test_readings_exactly_10_mm_from_the_last_row_complete_it() -> None:
    rows = [[150.0] * 6, [152.0] * 6]
    where = position_on(rows, (D1, D8), [0, 1], ("", "08:00"), [152.0] * 5 + [162.0], D8)
    assert where.complete is True and where.far is False


@pytest.mark.parametrize("signed", [np.zeros(5), np.zeros((2, 6)), [0, 0, 0, np.nan, 0, 0]])
def test_deformity_from_signed_refuses_anything_but_six_finite_numbers(signed: object) -> None:
    with pytest.raises(InputError, match=r"^expected six finite signed parameters, got "):
        deformity_from_signed(signed)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def staged() -> PlanInput:
    return prepare(load_case(STAGED))


def test_the_stage_a_resume_starts_in_is_one_of_the_case(staged: PlanInput) -> None:
    stages = len(staged.stage_names)
    assert stages == 2
    with pytest.raises(InputError, match=f"^first_stage must be 0..{stages - 1}, got 5$"):
        resume(staged, staged.start_lengths, None, D8, first_stage=5)


def test_a_visit_on_the_start_date_resumes(staged: PlanInput) -> None:
    start = staged.case.correction.start_date
    readings = plan(staged).readings_mm[0]
    resumed = resume(staged, readings, None, start)
    assert resumed.case.correction.start_date == start
    assert resumed.case.correction.latency_days == staged.case.correction.latency_days


def test_a_resumed_plan_input_is_consistent_in_every_part(staged: PlanInput) -> None:
    original = plan(staged)
    row = 12
    resumed = resume(staged, original.readings_mm[row], None, original.dates[row],
                     first_stage=int(original.stage[row + 1]))
    np.testing.assert_allclose(resumed.start_pose, original.achieved_poses[row], atol=1e-6)
    # the stage poses: the frame now, each later waypoint's ring pose, the original target
    assert resumed.stage_poses.shape == (len(resumed.waypoints_in_anatomy), 4, 4)
    np.testing.assert_array_equal(resumed.stage_poses[0], resumed.start_pose)
    np.testing.assert_array_equal(resumed.stage_poses[-1], staged.target_pose)
    np.testing.assert_allclose(resumed.stage_poses[1:-1], resumed.ring_pose_from_fragment(
        resumed.waypoints_in_anatomy[1:-1]), atol=1e-9)
    # the deformity matrix is the deformity the resumed case names
    side = resumed.case.patient.side
    np.testing.assert_allclose(resumed.distal_in_proximal,
                               distal_in_proximal(resumed.case.deformity, side), atol=1e-9)
    assert not np.allclose(resumed.distal_in_proximal, staged.distal_in_proximal, atol=0.1)
    # the moving fragment's point and axis where it is now; no note of the original's start
    now = resumed.waypoints_in_anatomy[0]
    np.testing.assert_allclose(resumed.corresponding_point, now[:3, 3], atol=1e-9)
    np.testing.assert_allclose(resumed.moving_axis, now[:3, 2], atol=1e-12)
    assert not np.allclose(resumed.moving_axis, staged.moving_axis, atol=1e-3)
    assert staged.notes and resumed.notes == ()


@pytest.fixture(scope="module")
def c91_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("c91") / "c.json"
    path.write_text(json.dumps(C91))
    return path


def test_readings_both_sizes_hold_keep_the_sizes_the_case_names(c91_path: Path) -> None:
    case = read_case(c91_path)
    case = dataclasses.replace(case, frame=dataclasses.replace(case.frame,
                                                               strut_sizes=("long",) * 6))
    plan_input = build_plan_input(case, load_catalogue("tsf-like"))
    resumed = resume(plan_input, OVERLAP, None, D8)
    assert resumed.case.frame.strut_sizes == ("long",) * 6


@pytest.mark.parametrize(("size", "offset"), [("medium", 6.0), ("long", 7.0)])
def test_the_frame_is_read_with_the_offsets_of_the_sizes_fitted(c91_path: Path, size: str,
                                                                offset: float) -> None:
    case = read_case(c91_path)  # a neutral reading only the medium size holds
    case = dataclasses.replace(case, frame=dataclasses.replace(
        case.frame, neutral_strut_mm=165.0, strut_sizes=("medium",) * 6))
    plan_input = build_plan_input(case, catalogue_with_offsets(OFFSETS))
    resumed = resume(plan_input, OVERLAP, (size,) * 6, D8)
    np.testing.assert_allclose(resumed.start_lengths, np.array(OVERLAP) + offset, atol=1e-9)
    np.testing.assert_allclose(resumed.frame.strut_lengths(resumed.start_pose),
                               np.array(OVERLAP) + offset, atol=1e-9)


def test_the_guess_picks_the_assembly_the_readings_are_read_as(staged: PlanInput) -> None:
    original = plan(staged)
    pose, readings = original.achieved_poses[12], original.readings_mm[12]
    flip = np.diag([1.0, 1.0, -1.0, 1.0])  # the mirror image has the same six lengths
    resumed = resume(staged, readings, None, original.dates[12], guess=flip @ pose @ flip)
    np.testing.assert_allclose(resumed.start_pose, flip @ pose @ flip, atol=1e-6)


@pytest.mark.parametrize(("number", "replaces", "message"), [
    (None, D1, "a revision of unknown number names no date it replaces"),
    (0, None, "revision must be a whole number >= 1, got 0"),
    (1.0, None, "revision must be a whole number >= 1, got 1.0"),
    (2, None, "a revision from 2 on names the date of the prescription it replaces, and "
              "revision 1 replaces none"),
    (1, D1, "a revision from 2 on names the date of the prescription it replaces, and "
            "revision 1 replaces none"),
])
def test_a_revision_says_what_is_wrong_with_it(number: object, replaces: dt.date | None,
                                               message: str) -> None:
    with pytest.raises(InputError, match=f"^{message}$"):
        Revision(number, replaces)  # type: ignore[arg-type]


def test_sizes_at_visit_hold_readings_at_both_ends_of_their_scales() -> None:
    cat = load_catalogue("tsf-like")
    readings = (75.0, 96.0, 125.0, 178.0, 169.0, 289.0)  # each the end of some scale
    named = ("x-short", "x-short", "short", "medium", "long", "long")
    assert sizes_at_visit(cat, readings, named) == named
    assert sizes_at_visit(cat, readings, None) == ("x-short", "x-short", "short", "medium",
                                                   "medium", "long")


@pytest.mark.parametrize(("readings", "sizes", "field", "message"), [
    ((150.0,) * 5 + (300.0,), None, "readings",
     "strut 6 reads 300 mm, outside every strut size of 'tsf-like' (75-289 mm)"),
    ((74.0,) + (150.0,) * 5, None, "readings",
     "strut 1 reads 74 mm, outside every strut size of 'tsf-like' (75-289 mm)"),
    ((150.0,) * 5 + (np.nan,), None, "readings",
     "give six finite readings (struts 1..6, mm), got [150.0, 150.0, 150.0, 150.0, 150.0, nan]"),
    ((150.0,) * 6, ("medium",) * 5, "sizes", "give six strut sizes (struts 1..6), got 5"),
    ((150.0,) * 6, ("medium",) * 5 + ("long",), "sizes",
     "strut 6 reads 150 mm, outside the range of size 'long' (169-289 mm)"),
])
def test_sizes_at_visit_refusals_name_the_option_and_the_strut(
        readings: tuple[float, ...], sizes: tuple[str, ...] | None, field: str,
        message: str) -> None:
    with pytest.raises(InputError) as info:
        sizes_at_visit(load_catalogue("tsf-like"), readings, sizes)
    assert (info.value.field, info.value.message) == (field, message)


@pytest.mark.parametrize(("row", "first_stage"), [(79, 0), (80, 1), (81, 1)])
def test_a_resume_on_the_plan_does_the_stage_of_the_next_adjustment(
        staged: PlanInput, row: int, first_stage: int) -> None:
    # row 80 is the last of the lengthening: its next adjustment is the first of stage 2
    # (rows 77-79 read alike, so readings of row 79 are placed on row 77)
    original = plan(staged)
    assert list(original.stage[79:83]) == [0, 0, 1, 1]
    resumed = resume_from_plan(original, original.readings_mm[row], None, original.dates[row])
    assert resumed.stage_names == staged.stage_names[first_stage:]


@pytest.mark.parametrize(("visit", "row", "behind"), [
    (dt.date(2026, 12, 9), 1, 0), (dt.date(2026, 12, 10), 2, 0), (dt.date(2026, 12, 11), 3, 0),
    (dt.date(2026, 12, 14), 3, 3)])
def test_readings_several_rows_share_are_placed_on_the_one_due_by_the_visit(
        visit: dt.date, row: int, behind: int) -> None:
    # rows 1-3 read alike (adjustments that round to nothing): a patient at them is on
    # schedule until the last of them is due, and behind from then on
    rows = [[150.0] * 6, [151.0] * 6, [151.0] * 6, [151.0] * 6, [152.0] * 6]
    dates = tuple(dt.date(2026, 12, d) for d in (1, 9, 10, 11, 12))
    where = position_on(rows, dates, [0, 1, 2, 3, 4], ("",) + ("08:00",) * 4, [151.0] * 6,
                        visit)
    assert (where.row, where.days_behind, where.complete) == (row, behind, False)
    assert where.date == dates[row] and where.day == row
    assert where.fitted_row == 1  # the sizes before any swap rows 1-3 prescribe
    alone = position_on(rows, dates, [0, 1, 2, 3, 4], ("",) + ("08:00",) * 4, [152.0] * 6,
                        visit)
    assert alone.fitted_row == alone.row == 4 and alone.run_start == 4


@pytest.mark.parametrize(("row", "first_stage"), [(38, 0), (39, 0), (40, 1)])
def test_a_resume_two_rows_before_a_stage_does_the_stage_it_is_in(row: int,
                                                                  first_stage: int) -> None:
    # 0.5 mm once a day: rows 38-40 each read differently; row 41 starts stage 2
    case = load_case(STAGED)
    case = dataclasses.replace(case, correction=dataclasses.replace(
        case.correction, rate_mm_per_day=0.5, adjustments_per_day=1))
    staged = prepare(case)
    original = plan(staged)
    assert list(original.stage[38:42]) == [0, 0, 0, 1]
    resumed = resume_from_plan(original, original.readings_mm[row], None, original.dates[row])
    assert resumed.stage_names == staged.stage_names[first_stage:]
