"""Plan results (hexapod/planning/result.py): every array read-only, the summary's plain
data for JSON, and which constraint set the days."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from hexapod.clinical import build_plan_input
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.planning import plan
from hexapod.planning.result import PaceReport, Summary

ROOT = Path(__file__).parent.parent
PLAN_ARRAYS = ("day", "adjustment", "stage", "poses", "joint_lengths_mm", "readings_mm",
               "size_index", "achieved_poses", "deviation_mm", "deviation_deg", "near_end",
               "condition")


@pytest.fixture(scope="module")
def staged():
    case = read_case(ROOT / "sample_cases" / "staged_lengthen_first.toml")
    return plan(build_plan_input(case, load_catalogue(case.frame.hardware)))


def test_every_array_of_a_plan_and_its_pace_is_read_only(staged) -> None:
    for name in PLAN_ARRAYS:
        arr = getattr(staged, name)
        assert isinstance(arr, np.ndarray) and not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr.flat[0] = arr.flat[0]
    for name in ("path_mm", "stage_days"):
        assert not getattr(staged.pace, name).flags.writeable, name
    fresh = PaceReport(("a",), np.zeros((1, 2)), np.array([3]), "a", 1.0, 1.0)
    assert not fresh.path_mm.flags.writeable and not fresh.stage_days.flags.writeable


def test_days_set_by_is_the_longest_stages_or_none(staged) -> None:
    pace = staged.pace
    k = int(np.argmax(pace.stage_days))
    assert staged._days_set_by() == (pace.days_set_by[k], pace.days_set_by_strut[k] or None)
    longest_second = dataclasses.replace(pace, stage_days=np.array([2, 9]),
                                         days_set_by=("rate", "change_per_adjustment"),
                                         days_set_by_strut=(0, 4))
    assert dataclasses.replace(staged, pace=longest_second)._days_set_by() == (
        "change_per_adjustment", 4)
    by_rate = dataclasses.replace(longest_second, days_set_by=("change_per_adjustment", "rate"),
                                  days_set_by_strut=(4, 0))
    assert dataclasses.replace(staged, pace=by_rate)._days_set_by() == ("rate", None)
    for empty in (dataclasses.replace(pace, days_set_by=(), days_set_by_strut=()),
                  dataclasses.replace(pace, stage_days=np.zeros(0, dtype=int))):
        assert dataclasses.replace(staged, pace=empty)._days_set_by() == ("none", None)


def test_summary_as_plain_data() -> None:
    summary = Summary(days=12, adjustments=48, true_angle_deg=10.123456789,
                      plane_from_coronal_deg=-0.0000004, max_sar_mm_per_day=1.0,
                      pace_set_by="nerve", cortex_max_mm_per_day=1.23456789012,
                      final_residual_mm=0.0, final_residual_deg=2.5e-7,
                      max_rounding_deviation_mm=0.3333333333, swaps=1, days_set_by="rate",
                      days_set_by_strut=None, stages=("lengthen_first", "rest"),
                      stage_days=(4, 8), start_date=dt.date(2026, 12, 1),
                      first_correction_date=dt.date(2026, 12, 8),
                      last_correction_date=dt.date(2026, 12, 19))
    data = summary.as_dict()
    assert data == {
        "days": 12, "adjustments": 48, "true_angle_deg": 10.123457,
        "plane_from_coronal_deg": -0.0, "max_sar_mm_per_day": 1.0, "pace_set_by": "nerve",
        "cortex_max_mm_per_day": 1.234568, "final_residual_mm": 0.0,
        "final_residual_deg": 0.0, "max_rounding_deviation_mm": 0.333333, "swaps": 1,
        "days_set_by": "rate", "days_set_by_strut": None,
        "stages": ["lengthen_first", "rest"], "stage_days": [4, 8],
        "start_date": "2026-12-01", "first_correction_date": "2026-12-08",
        "last_correction_date": "2026-12-19"}
    assert isinstance(data["stages"], list) and isinstance(data["days"], int)
    assert dataclasses.replace(summary, first_correction_date=None).as_dict()[
        "first_correction_date"] is None
