"""Findings: typed reasons, cautions and remarks about a plan, no English (maths core).

A refusal is a list of :class:`Violation`, a row's caution a :class:`RowWarning`, a remark about
the whole plan a :class:`Note`; each has a ``kind`` from a fixed vocabulary and its numbers. The
outputs layer (:mod:`hexapod.io.messages`) turns them into sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: Kinds of :class:`Violation` (contract section 4).
VIOLATION_KINDS = (
    "strut_range",            # a reading outside every strut size (or the fitted one)
    "swap_window",            # readings jump past the overlap window: no row to swap on
    "change_per_adjustment",  # a strut changes more than the catalogue allows in one step
    "singular",               # the frame is near a singular configuration
    "ring_gap",               # the rings come too close
    "strut_collision",        # two struts come closer than a strut's diameter
    "joint_angle",            # a universal joint bends past its limit
    "rounding",               # rounding the readings moves the fragment too far from the plan
    "rate",                   # a pacing point would move faster than the rate
    "assembly",               # a row's rounded readings do not assemble (forward kinematics)
    "two_swaps_a_day",        # one strut would need two swaps on one day
    "plan_length",            # the correction would take longer than any plan may last
)

#: Kinds of :class:`RowWarning`.
WARNING_KINDS = ("near_end",)

#: Kinds of :class:`Note`.
NOTE_KINDS = (
    "chronic_neutral",   # the correction ends in the neutral frame: height_mm, reading_mm
    "residual_start",    # the start pose came from forward kinematics: moving_ring
    "acute",             # one step; the rate does not apply
    "acute_swaps",       # struts that change size on the acute step, in the order to fit them
    "cortex_faster",     # the structures at risk set the pace; the cortex moves faster
    "scale_step",        # adjustments smaller than the scale step
    "neutral_strut",     # another neutral strut reading needs fewer swaps
)


def _frozen(detail: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(detail or {}))


@dataclass(frozen=True)
class Violation:
    """One reason a case cannot be planned safely.

    Attributes
    ----------
    kind : str
        One of :data:`VIOLATION_KINDS`.
    day : int or None
        Day of correction (0 = the start) of the first row that breaks the limit.
    strut : int or None
        Strut number 1..6, when one strut is at fault.
    value, limit : float or None
        The value found and the limit it breaks, in the limit's unit (mm, mm/day, degrees or
        a plain number for the condition number).
    detail : mapping
        Further typed facts for the message (e.g. ``rows``: how many rows break the limit,
        ``point``: which point moves too fast, ``other_strut``: the second strut of a clash).
    """

    kind: str
    day: int | None = None
    strut: int | None = None
    value: float | None = None
    limit: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in VIOLATION_KINDS:
            raise ValueError(f"unknown violation kind {self.kind!r}")
        object.__setattr__(self, "detail", _frozen(self.detail))


@dataclass(frozen=True)
class RowWarning:
    """A caution printed on one row (kind ``near_end``: a reading near its size's end)."""

    kind: str
    strut: int
    value: float
    limit: float
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in WARNING_KINDS:
            raise ValueError(f"unknown warning kind {self.kind!r}")
        object.__setattr__(self, "detail", _frozen(self.detail))


@dataclass(frozen=True)
class Note:
    """A remark about the whole plan; ``detail`` holds its numbers."""

    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in NOTE_KINDS:
            raise ValueError(f"unknown note kind {self.kind!r}")
        object.__setattr__(self, "detail", _frozen(self.detail))
