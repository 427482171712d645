"""What a plan is made of: typed results, no English (maths core).

The plan, its pace and its summary; the findings it carries (:class:`Note`,
:class:`RowWarning`, and the :class:`Violation` of a refusal) are in :mod:`hexapod.findings`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hexapod.anatomy import true_angulation
from hexapod.findings import Note, RowWarning, Violation
from hexapod.frame import Frame

if TYPE_CHECKING:  # pragma: no cover
    from hexapod.clinical import PlanInput

__all__ = ["Note", "PaceReport", "Plan", "RowWarning", "Summary", "Swap", "Violation"]

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

@dataclass(frozen=True)
class Swap:
    """A strut change-out: on this row strut ``strut`` (1..6) of size ``from_size`` is replaced by
    one of size ``to_size`` set to ``reading_mm``."""

    strut: int
    from_size: str
    to_size: str
    reading_mm: float


def read_only(*arrays: np.ndarray) -> None:
    """Mark arrays read-only (results are never edited in place)."""
    for arr in arrays:
        arr.setflags(write=False)


@dataclass(frozen=True, eq=False)
class PaceReport:
    """Which point set the number of days, and how fast each paced point moves.

    Attributes
    ----------
    names : tuple of str
        The pacing points (structures at risk, or the corresponding point and the cortex).
    path_mm : ndarray (stages, points)
        Path length of each pacing point in each stage (mm, along its helix).
    stage_days : int array (stages,)
    pace_setter : str
        The pacing point that moves fastest.
    max_mm_per_day, cortex_max_mm_per_day : float
    days_set_by : tuple of str
        Per stage, the constraint that set its days: ``rate``, ``change_per_adjustment``,
        ``swap_window``, ``acute`` or ``none``.
    days_set_by_strut : tuple of int
        Per stage, the strut (1..6) whose change set the days, or 0.
    """

    names: tuple[str, ...]
    path_mm: Array
    stage_days: IntArray
    pace_setter: str
    max_mm_per_day: float
    cortex_max_mm_per_day: float
    days_set_by: tuple[str, ...] = ()
    days_set_by_strut: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        read_only(self.path_mm, self.stage_days)


@dataclass(frozen=True)
class Summary:
    """The contract's summary block plus the pace report (numbers only)."""

    days: int
    adjustments: int
    true_angle_deg: float
    plane_from_coronal_deg: float
    max_sar_mm_per_day: float
    pace_set_by: str
    cortex_max_mm_per_day: float
    final_residual_mm: float
    final_residual_deg: float
    max_rounding_deviation_mm: float
    swaps: int
    days_set_by: str
    days_set_by_strut: int | None
    stages: tuple[str, ...]
    stage_days: tuple[int, ...]
    start_date: dt.date
    first_correction_date: dt.date | None
    last_correction_date: dt.date

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: floats rounded to 1e-6, dates as ISO text."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, float):
                value = round(value, 6)
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


@dataclass(frozen=True, eq=False)
class Plan:
    """A verified prescription; arrays have one entry per row (row 0 = the start), read-only.

    Attributes
    ----------
    plan_input : PlanInput
    day, adjustment, stage : int arrays (n,)
        Day of correction (0 = start), adjustment within the day (0 on row 0), stage index.
    dates : tuple of datetime.date
    times : tuple of str
        Clock time of each adjustment, "HH:MM" ("" on row 0 and on an acute step).
    poses : ndarray (n, 4, 4)
        Planned ``moving_ring_in_reference_ring``.
    joint_lengths_mm : ndarray (n, 6)
        Exact joint-centre distances of the planned poses.
    readings_mm : ndarray (n, 6)
        Scale readings to set, rounded to each strut's increment.
    size_index : int array (n, 6)
        Fitted size of each strut (index into ``catalogue.strut_sizes``).
    achieved_poses : ndarray (n, 4, 4)
        Forward kinematics of the rounded readings.
    deviation_mm, deviation_deg : ndarray (n,)
        Achieved vs planned: largest displacement of the corresponding point and every structure
        at risk (mm), and the rotation between them (degrees).
    near_end : bool array (n, 6)
        Reading within the catalogue's margin of its size's end.
    swaps : tuple (per row) of tuples of Swap
    warnings : tuple (per row) of tuples of RowWarning
    pace : PaceReport
    condition : ndarray (n,)
        Scaled Jacobian condition number of each planned pose.
    notes : tuple of Note
    """

    plan_input: PlanInput
    day: IntArray
    adjustment: IntArray
    stage: IntArray
    dates: tuple[dt.date, ...]
    times: tuple[str, ...]
    poses: Array
    joint_lengths_mm: Array
    readings_mm: Array
    size_index: IntArray
    achieved_poses: Array
    deviation_mm: Array
    deviation_deg: Array
    near_end: NDArray[np.bool_]
    swaps: tuple[tuple[Swap, ...], ...]
    warnings: tuple[tuple[RowWarning, ...], ...]
    pace: PaceReport
    condition: Array
    notes: tuple[Note, ...] = ()

    def __post_init__(self) -> None:
        read_only(self.day, self.adjustment, self.stage, self.poses, self.joint_lengths_mm,
                  self.readings_mm, self.size_index, self.achieved_poses, self.deviation_mm,
                  self.deviation_deg, self.near_end, self.condition)

    @property
    def days(self) -> int:
        """Days of correction (the last row's day)."""
        return int(self.day[-1])

    @property
    def frame(self) -> Frame:
        """The frame planned: joints, strut sizes and kinematics (see :class:`hexapod.Frame`)."""
        return self.plan_input.frame

    @property
    def size_names(self) -> list[list[str]]:
        """Fitted size name of each strut on each row."""
        names = [s.name for s in self.plan_input.catalogue.strut_sizes]
        return [[names[i] for i in row] for row in self.size_index]

    @property
    def swap_count(self) -> int:
        """Strut change-outs in the whole plan."""
        return int(sum(len(s) for s in self.swaps))

    def _days_set_by(self) -> tuple[str, int | None]:
        """The constraint (and strut) that set the days of the longest stage."""
        if not len(self.pace.stage_days) or not self.pace.days_set_by:
            return "none", None
        k = int(np.argmax(self.pace.stage_days))
        strut = self.pace.days_set_by_strut[k]
        return self.pace.days_set_by[k], strut or None

    @property
    def summary(self) -> Summary:
        """The contract's summary block plus the pace report."""
        d = self.plan_input.case.deformity
        true, plane = true_angulation(d.ap_angulation_deg, d.lat_angulation_deg)
        return Summary(
            days=self.days, adjustments=int(len(self.day) - 1), true_angle_deg=true,
            plane_from_coronal_deg=plane, max_sar_mm_per_day=self.pace.max_mm_per_day,
            pace_set_by=self.pace.pace_setter,
            cortex_max_mm_per_day=self.pace.cortex_max_mm_per_day,
            final_residual_mm=float(self.deviation_mm[-1]),
            final_residual_deg=float(self.deviation_deg[-1]),
            max_rounding_deviation_mm=float(np.max(self.deviation_mm)),
            swaps=self.swap_count, days_set_by=self._days_set_by()[0],
            days_set_by_strut=self._days_set_by()[1], stages=tuple(self.plan_input.stage_names),
            stage_days=tuple(int(x) for x in self.pace.stage_days), start_date=self.dates[0],
            first_correction_date=self.dates[1] if len(self.dates) > 1 else None,
            last_correction_date=self.dates[-1])
