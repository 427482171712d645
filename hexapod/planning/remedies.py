"""Remedies: what would make a refused case plannable, each checked by planning it (maths core).

For a refusal the planner tries, in order, the changes a surgeon could make: another neutral
strut reading (chronic), another fitted size for a named strut (residual), larger rings, a staged
order that lengthens first, a lower rate, more adjustments a day. A change is offered only when
the case planned with it gives a plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from hexapod import policy
from hexapod.case import Case
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import GeometryError, HexapodError, InputError
from hexapod.findings import Violation
from hexapod.planning import path
from hexapod.planning.advice import neutral_candidates
from hexapod.planning.pace import pace_report

#: Kinds of :class:`Suggestion`, each with the case keys it changes.
SUGGESTION_KINDS = ("neutral_strut", "strut_size", "ring_size", "stages", "rate",
                    "adjustments_per_day")

#: How many neutral readings whose sizes fit are planned, at the most (twice as many for a
#: refusal of the frame's shape).
_NEUTRAL_TRIES = 3
#: Violations of the frame's shape, which another neutral height or larger rings can cure.
_SHAPE = frozenset({"ring_gap", "strut_collision", "joint_angle", "singular"})
#: Spacing (mm) of the neutral readings tried for a refusal of the frame's shape.
_SHAPE_STEP_MM = 5


@dataclass(frozen=True)
class Suggestion:
    """A change to the case that was checked to give a plan.

    Attributes
    ----------
    kind : str
        One of :data:`SUGGESTION_KINDS`.
    changes : mapping
        Case keys and their new values, e.g. ``{"frame.neutral_strut_mm": 170.0}``,
        ``{"frame.strut_sizes": ("medium", ..)}``, ``{"correction.stages": ("lengthen_first",)}``.
    days : int
        Days of correction of the plan with the change.
    unmeasured : tuple of str
        Catalogue key paths of the numbers a clinic can measure (``hexapod calibrate``: ring
        joint geometry, strut reading offsets) that the suggested plan relies on and that are
        not measured; listed only for a catalogue that holds measured numbers, so that a clinic
        that calibrated some of its hardware is told when a suggestion rests on the rest.
    """

    kind: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    days: int = 0
    unmeasured: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SUGGESTION_KINDS:
            raise ValueError(f"unknown suggestion kind {self.kind!r}")
        object.__setattr__(self, "changes", MappingProxyType(dict(self.changes)))


def apply_suggestion(case: Case, suggestion: Suggestion) -> Case:
    """The case with the suggestion's changes made (keys ``section.key``)."""
    sections: dict[str, dict[str, Any]] = {}
    for key, value in suggestion.changes.items():
        section, name = key.split(".")
        sections.setdefault(section, {})[name] = value
    updates = {section: dataclasses.replace(getattr(case, section), **values)
               for section, values in sections.items()}
    return dataclasses.replace(case, **updates)


def _candidates(plan_input: PlanInput, violations: tuple[Violation, ...]
                ) -> Iterator[Suggestion]:
    """Changes worth trying for these violations, most specific first."""
    case, cat = plan_input.case, plan_input.catalogue
    kinds = {v.kind for v in violations}
    sizing = bool(kinds & {"strut_range", "swap_window"})
    shape = bool(kinds & _SHAPE)
    if (sizing or shape) and case.mode == "chronic" and case.frame.neutral_strut_mm is not None:
        yield from _neutral_candidates(plan_input, sizing)
    fitted = case.frame.strut_sizes
    if sizing and fitted is not None:
        names = [s.name for s in cat.strut_sizes]
        holding = _sizes_holding_the_start(plan_input)
        if holding is not None and holding != tuple(fitted):
            yield Suggestion("strut_size", {"frame.strut_sizes": holding})
        for v in violations:
            if v.strut is None:
                continue
            for name in names:
                if name != fitted[v.strut - 1]:
                    new = tuple(name if i == v.strut - 1 else s for i, s in enumerate(fitted))
                    yield Suggestion("strut_size", {"frame.strut_sizes": new})
    rings = sorted(r.diameter_mm for r in cat.rings)
    if kinds & (_SHAPE | {"strut_range", "rounding"}):
        for ring in rings:
            if ring > max(case.frame.proximal_ring_mm, case.frame.distal_ring_mm):
                yield Suggestion("ring_size", {"frame.proximal_ring_mm": ring,
                                               "frame.distal_ring_mm": ring})
    if not case.correction.stages:
        yield Suggestion("stages", {"correction.stages": ("lengthen_first",)})
    if "plan_length" in kinds:
        rate = case.correction.rate_mm_per_day
        for higher in (1.5 * rate, 2.0 * rate, 3.0 * rate):
            if higher <= policy.MAX_RATE_MM_PER_DAY:
                yield Suggestion("rate", {"correction.rate_mm_per_day": round(higher, 3)})
    if "rate" in kinds:
        rate = case.correction.rate_mm_per_day
        for lower in (0.75 * rate, 0.5 * rate):
            yield Suggestion("rate", {"correction.rate_mm_per_day": round(lower, 3)})
    if "change_per_adjustment" in kinds:
        for more in range(case.correction.adjustments_per_day + 1, 7):
            yield Suggestion("adjustments_per_day", {"correction.adjustments_per_day": more})
    if "rounding" in kinds:  # other rows, other roundings: nearest count first
        mine_per_day = case.correction.adjustments_per_day
        for other in sorted(set(range(1, 7)) - {mine_per_day}, key=lambda k: abs(k - mine_per_day)):
            yield Suggestion("adjustments_per_day", {"correction.adjustments_per_day": other})


#: Endings of the catalogue keys of numbers a clinic measures itself (``hexapod calibrate``).
_MEASURABLE = (".joint_radius_offset_mm", ".pair_spacing_mm", ".reading_to_length_offset_mm",
               "_joints_mm")


def _unmeasured(result: Any) -> tuple[str, ...]:
    """The measurable catalogue numbers a plan relies on that are not measured, when its
    catalogue holds any measured number (see :attr:`Suggestion.unmeasured`)."""
    plan_input = getattr(result, "plan_input", None)
    if plan_input is None:
        return ()
    cat = plan_input.catalogue
    if not any(q.provenance == "measured" for _, q in cat.quantities()):
        return ()
    frame = plan_input.case.frame
    used = [s.name for s in cat.strut_sizes
            if any(s.name in row for row in result.size_names)]
    return tuple(key for key, q in cat.plan_quantities(frame.proximal_ring_mm,
                                                       frame.distal_ring_mm, used)
                 if key.endswith(_MEASURABLE) and q.provenance != "measured")


def _neutral_candidates(plan_input: PlanInput, sizing: bool) -> Iterator[Suggestion]:
    """Neutral strut readings whose strut sizes fit the whole path. For a sizing refusal the
    fewest swaps first, then the nearest to the surgeon's reading; for a refusal of the frame's
    shape (a joint bent too far, rings too close, struts clashing, near-singular) readings
    spread out from the surgeon's, nearest first, since the fix is a taller or shorter frame."""
    mine = plan_input.case.frame.neutral_strut_mm
    if mine is None:
        return
    poses = path.rows(plan_input, pace_report(plan_input).stage_days)[0]
    readings, swaps = neutral_candidates(plan_input, poses)
    fits = np.isfinite(swaps)
    if sizing:
        order = np.lexsort((np.abs(readings - mine), swaps))
        picks = order[fits[order]][:_NEUTRAL_TRIES]
    else:
        distance = np.abs(readings - mine)
        spread = fits & (distance > 0) & (np.round(distance) % _SHAPE_STEP_MM == 0)
        picks = np.nonzero(spread)[0][np.argsort(distance[spread], kind="stable")]
        picks = picks[:2 * _NEUTRAL_TRIES]
    for i in picks:
        yield Suggestion("neutral_strut", {"frame.neutral_strut_mm": float(readings[i])})


def _sizes_holding_the_start(plan_input: PlanInput) -> tuple[str, ...] | None:
    """For a case with fitted sizes, each strut's smallest size whose scale holds its reading
    now (None when some reading fits no size)."""
    readings = plan_input.case.frame.strut_readings_mm
    if readings is None:
        return None
    holding = []
    for reading in readings:
        sizes = plan_input.catalogue.sizes_holding(reading)
        if not sizes:
            return None
        holding.append(sizes[0].name)
    return tuple(holding)


def find_remedies(plan_input: PlanInput, violations: tuple[Violation, ...],
                  planner: Callable[[PlanInput], Any], most: int = 3,
                  attempts: int = 40) -> list[Suggestion]:
    """Up to ``most`` suggestions (at most one of each kind), each checked by planning the
    changed case with ``planner``; at most ``attempts`` plans are tried in all.

    Parameters
    ----------
    plan_input : PlanInput
        The refused case.
    violations : tuple of Violation
        Why it was refused.
    planner : callable
        Plans a PlanInput and raises a :class:`~hexapod.errors.HexapodError` when it cannot.
    """
    found: list[Suggestion] = []
    tried = 0
    for candidate in _candidates(plan_input, violations):
        if len(found) >= most or tried >= attempts:
            break
        if any(s.kind == candidate.kind for s in found):
            continue
        tried += 1
        try:
            changed = apply_suggestion(plan_input.case, candidate)
            result = planner(build_plan_input(changed, plan_input.catalogue))
        except (HexapodError, GeometryError, InputError, ValueError):
            continue
        found.append(dataclasses.replace(candidate, days=int(np.max(result.day)),
                                         unmeasured=_unmeasured(result)))
    return found
