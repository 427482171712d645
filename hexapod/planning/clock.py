"""The calendar of a plan: clock times of the day's adjustments and each row's date (maths core)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from numpy.typing import NDArray

from hexapod.case import CorrectionSettings


def adjustment_times(per_day: int) -> tuple[str, ...]:
    """Clock times ("HH:MM") of ``per_day`` adjustments spread from 08:00 to 20:00, to the
    nearest 30 minutes; one adjustment a day is at 08:00."""
    if per_day == 1:
        return ("08:00",)
    minutes = [8 * 60 + round(k * 720 / (per_day - 1) / 30) * 30 for k in range(per_day)]
    return tuple(f"{m // 60:02d}:{m % 60:02d}" for m in minutes)


def row_dates(settings: CorrectionSettings, day: NDArray[np.int64]) -> tuple[dt.date, ...]:
    """Date of each row: the start date on day 0, then day ``d`` of correction falls on
    ``start_date + latency_days + d - 1``."""
    first = settings.first_day
    return tuple(settings.start_date if d == 0 else first + dt.timedelta(days=int(d) - 1)
                 for d in day)


def row_times(settings: CorrectionSettings, adjustment: NDArray[np.int64]) -> tuple[str, ...]:
    """Clock time of each row ("" on row 0 and on an acute step)."""
    clock = ("",) if settings.method == "acute" else adjustment_times(
        settings.adjustments_per_day)
    return tuple("" if a == 0 else clock[int(a) - 1] for a in adjustment)
