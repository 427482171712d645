"""The plan's calendar (hexapod/planning/clock.py): each row's clock time and date, checked
against values written out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from hexapod.case import CorrectionSettings
from hexapod.planning.clock import adjustment_times, row_dates, row_times

START = dt.date(2026, 3, 2)


@pytest.mark.parametrize(("per_day", "times"), [
    (2, ("08:00", "20:00")),
    (3, ("08:00", "14:00", "20:00")),
    (5, ("08:00", "11:00", "14:00", "17:00", "20:00")),
    # 720 min / 5 = 144 min steps, rounded to the half hour: 144, 288, 432, 576 -> 150, 300,
    # 420, 570
    (6, ("08:00", "10:30", "13:00", "15:00", "17:30", "20:00")),
])
def test_adjustment_times_spread_from_eight_to_twenty(per_day: int,
                                                     times: tuple[str, ...]) -> None:
    assert adjustment_times(per_day) == times


def test_row_times_pick_the_adjustment_of_each_row() -> None:
    settings = CorrectionSettings(start_date=START, adjustments_per_day=4)
    adjustment = np.array([0, 1, 2, 3, 4, 1, 4], dtype=np.int64)
    assert row_times(settings, adjustment) == (
        "", "08:00", "12:00", "16:00", "20:00", "08:00", "20:00")


def test_row_times_of_an_acute_correction_are_blank() -> None:
    settings = CorrectionSettings(start_date=START, method="acute", adjustments_per_day=3)
    assert row_times(settings, np.array([0, 1], dtype=np.int64)) == ("", "")


def test_row_dates_start_then_latency() -> None:
    settings = CorrectionSettings(start_date=START, latency_days=7)
    dates = row_dates(settings, np.array([0, 1, 1, 2, 30], dtype=np.int64))
    assert dates == (START, dt.date(2026, 3, 9), dt.date(2026, 3, 9), dt.date(2026, 3, 10),
                     dt.date(2026, 4, 7))
