"""Resuming at a visit: which plan input a follow-up prescription starts from (maths core).

At a visit the clinic can change a strut's size. Without sizes named, each strut keeps the
size the previous prescription (else the case's plan) sets, where that size holds its reading
now; when the plan cannot be made with those, every strut takes the smallest size that holds
its reading, and the struts that change are reported to be swapped at the visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from numpy.typing import ArrayLike

from hexapod.clinical import PlanInput
from hexapod.errors import PlanRefused
from hexapod.planning import plan
from hexapod.resume import resume_from_plan, resume_plan_input, sizes_at_visit


@dataclass(frozen=True, eq=False)
class Resumed:
    """The plan input of a follow-up prescription and how it was chosen.

    Attributes
    ----------
    plan_input : PlanInput
        From the frame as it is at the visit to the original case's target.
    from_start : bool
        The original case could not be planned, so the visit was placed on the case's own
        stages from its start pose rather than on its plan's rows.
    swaps_at_visit : tuple of (strut 1..6, size now, size to fit)
        Struts to be swapped at the visit (empty unless the sizes as fitted cannot carry the
        plan).
    """

    plan_input: PlanInput
    from_start: bool = False
    swaps_at_visit: tuple[tuple[int, str, str], ...] = ()


def resume_at_visit(plan_input: PlanInput, readings_mm: ArrayLike, visit: dt.date,
                    sizes: tuple[str, ...] | None = None,
                    preferred: tuple[str | None, ...] | None = None) -> Resumed:
    """The follow-up plan input for the readings at a visit (see the module's docstring).

    Parameters
    ----------
    plan_input : PlanInput
        The original case.
    readings_mm : array_like, shape (6,)
        The six readings at the visit (mm).
    visit : datetime.date
    sizes : tuple of six str, optional
        The sizes fitted now, when the clinic names them (each must hold its reading).
    preferred : tuple of six str or None, optional
        The sizes the previous prescription sets at the nearest row.
    """
    try:
        original = plan(plan_input, suggest=False)
    except PlanRefused:
        original = None

    def build(fitted: tuple[str, ...] | None,
              wanted: tuple[str | None, ...] | None) -> PlanInput:
        if original is not None:
            return resume_from_plan(original, readings_mm, fitted, visit, wanted)
        chosen = sizes_at_visit(plan_input.catalogue, readings_mm, fitted,
                                wanted or plan_input.case.frame.strut_sizes)
        return resume_plan_input(plan_input, readings_mm, chosen, visit)

    resumed = build(sizes, preferred)
    kept = resumed.case.frame.strut_sizes
    smallest = sizes_at_visit(plan_input.catalogue, readings_mm, None)
    if sizes is not None or kept is None or tuple(kept) == smallest:
        return Resumed(resumed, original is None)
    try:
        plan(resumed, suggest=False)
    except PlanRefused:
        swaps = tuple((i + 1, a, b) for i, (a, b) in enumerate(zip(kept, smallest, strict=True))
                      if a != b)
        return Resumed(build(smallest, None), original is None, swaps)
    return Resumed(resumed, original is None)
