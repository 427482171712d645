"""Remedies of a refused plan (hexapod/planning/remedies.py): which changes are tried for
which violation, in which order, and how many are planned and kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hexapod import policy
from hexapod.case import Case, CorrectionSettings, Deformity, FrameSpec, Mounting, Patient
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import InputError
from hexapod.findings import Violation
from hexapod.io.catalogue_file import load_catalogue
from hexapod.planning import remedies
from hexapod.planning.remedies import Suggestion, apply_suggestion, find_remedies

CATALOGUE = load_catalogue("tsf-like")
SIZES = [s.name for s in CATALOGUE.strut_sizes]


def _case(rate: float = 1.0, per_day: int = 4, stages: tuple[str, ...] = ()) -> Case:
    frame = FrameSpec(155, 155, "proximal", neutral_strut_mm=160.0)
    return Case(mode="chronic", patient=Patient(side="right"), frame=frame,
                deformity=Deformity(ap_angulation_deg=10, ap_angulation_dir="varus"),
                mounting=Mounting(axial_offset_mm=80, axial_offset_dir="proximal"),
                correction=CorrectionSettings(start_date=dt.date(2026, 12, 1),
                                              rate_mm_per_day=rate, adjustments_per_day=per_day,
                                              stages=stages))


def _pi(case: Case) -> PlanInput:
    return build_plan_input(case, CATALOGUE)


def _listed(plan_input: PlanInput, *kinds: str, strut: int | None = None) -> list[tuple[str, Any]]:
    violations = tuple(Violation(kind, 1, strut, 1.0, 0.5) for kind in kinds)
    return [(s.kind, dict(s.changes)) for s in remedies._candidates(plan_input, violations)]


STAGES = ("stages", {"correction.stages": ("lengthen_first",)})


def test_a_rate_refusal_tries_slower_rates() -> None:
    assert _listed(_pi(_case(rate=0.8)), "rate") == [
        STAGES, ("rate", {"correction.rate_mm_per_day": 0.6}),
        ("rate", {"correction.rate_mm_per_day": 0.4})]


def test_a_plan_length_refusal_tries_faster_rates_up_to_the_policy_bound() -> None:
    assert _listed(_pi(_case(rate=1.0)), "plan_length") == [
        STAGES, ("rate", {"correction.rate_mm_per_day": 1.5}),
        ("rate", {"correction.rate_mm_per_day": 2.0}),
        ("rate", {"correction.rate_mm_per_day": 3.0})]
    # 2 x 2.5 is the bound itself (kept), 3 x 2.5 is past it (not tried)
    rate = policy.MAX_RATE_MM_PER_DAY / 2
    assert _listed(_pi(_case(rate=rate)), "plan_length")[1:] == [
        ("rate", {"correction.rate_mm_per_day": round(1.5 * rate, 3)}),
        ("rate", {"correction.rate_mm_per_day": round(2 * rate, 3)})]


def test_a_change_per_adjustment_refusal_tries_more_adjustments_up_to_six() -> None:
    assert _listed(_pi(_case(per_day=4, stages=("lengthen_first",))),
                   "change_per_adjustment") == [
        ("adjustments_per_day", {"correction.adjustments_per_day": 5}),
        ("adjustments_per_day", {"correction.adjustments_per_day": 6})]
    assert _listed(_pi(_case(per_day=6)), "change_per_adjustment") == [STAGES]


def test_a_rounding_refusal_tries_larger_rings_then_other_counts_nearest_first() -> None:
    assert _listed(_pi(_case(per_day=2)), "rounding") == [
        ("ring_size", {"frame.proximal_ring_mm": 180, "frame.distal_ring_mm": 180}),
        ("ring_size", {"frame.proximal_ring_mm": 205, "frame.distal_ring_mm": 205}),
        ("ring_size", {"frame.proximal_ring_mm": 230, "frame.distal_ring_mm": 230}),
        STAGES] + [("adjustments_per_day", {"correction.adjustments_per_day": k})
                   for k in (1, 3, 4, 5, 6)]


def test_a_staged_case_is_not_offered_staging_again() -> None:
    assert _listed(_pi(_case(stages=("lengthen_first",))), "rate")[0][0] == "rate"


def _residual(sizes: tuple[str, ...], readings: tuple[float, ...]) -> PlanInput:
    """The total-residual sample with these fitted sizes and current readings."""
    from pathlib import Path

    from hexapod.io.case_file import read_case

    case = read_case(Path(__file__).parent.parent / "sample_cases" / "total_residual.toml")
    return _pi(dataclasses.replace(case, frame=dataclasses.replace(
        case.frame, strut_sizes=sizes, strut_readings_mm=readings)))


READINGS = (172.0, 139.0, 148.0, 161.0, 144.0, 150.0)  # 172: medium (to 178) and long (169-)


def test_a_fitted_size_refusal_tries_the_sizes_holding_the_start_then_each_other_size() -> None:
    pi = _residual(("long",) + ("medium",) * 5, READINGS)
    listed = _listed(pi, "strut_range", strut=3)
    assert listed[0] == ("strut_size", {"frame.strut_sizes": ("medium",) * 6})
    per_strut = [("strut_size", {"frame.strut_sizes": ("long", "medium", name, "medium",
                                                       "medium", "medium")})
                 for name in ("x-short", "short", "long")]
    assert listed[1:4] == per_strut
    assert [k for k, _ in listed[4:]] == ["ring_size"] * 3 + ["stages"]
    # no strut named: no per-strut sizes; sizes that already hold the start: not offered
    assert [x for x in _listed(pi, "strut_range") if x[0] == "strut_size"] == [listed[0]]
    held = _residual(("medium",) * 6, READINGS)
    assert [x for x in _listed(held, "swap_window", strut=2) if x[0] == "strut_size"] == [
        ("strut_size", {"frame.strut_sizes": ("medium", name) + ("medium",) * 4})
        for name in ("x-short", "short", "long")]
    # a rounding refusal does not try other sizes
    assert [x for x in _listed(pi, "rounding", strut=3) if x[0] == "strut_size"] == []


def _frame_readings(readings: tuple[float, ...] | None) -> Any:
    return SimpleNamespace(case=SimpleNamespace(frame=SimpleNamespace(
        strut_readings_mm=readings)), catalogue=CATALOGUE)


def test_sizes_holding_the_start_are_the_smallest_that_hold_each_reading() -> None:
    # x-short 75-96, short 90-125, medium 116-178, long 169-289 (mm)
    readings = (75.0, 96.0, 125.0, 178.0, 169.0, 289.0)
    assert remedies._sizes_holding_the_start(_frame_readings(readings)) == (
        "x-short", "x-short", "short", "medium", "medium", "long")
    assert remedies._sizes_holding_the_start(_frame_readings((96.5,) + readings[1:])) == (
        "short", "x-short", "short", "medium", "medium", "long")
    for outside in (74.9, 289.1):
        assert remedies._sizes_holding_the_start(
            _frame_readings(readings[:5] + (outside,))) is None
    assert remedies._sizes_holding_the_start(_frame_readings(None)) is None


def _planner(days: dict[str, int], fails: set[str], calls: list[str]):
    """A stand-in planner: the plan of a changed case lasts ``days[kind]`` days; kinds in
    ``fails`` raise, as a refused plan does."""
    def plan(plan_input: PlanInput) -> Any:
        case = plan_input.case
        if case.correction.stages:
            kind = "stages"
        elif case.correction.rate_mm_per_day != 0.8:
            kind = "rate"
        else:
            kind = "adjustments_per_day"
        calls.append(kind)
        if kind in fails:
            raise InputError("refused")
        return SimpleNamespace(day=np.array([0, days[kind] - 3, days[kind]]))
    return plan


def test_find_remedies_keeps_one_of_each_kind_and_the_days_of_its_plan() -> None:
    pi = _pi(_case(rate=0.8, per_day=4))
    violations = (Violation("rate", 1, None, 1.0, 0.8),
                  Violation("change_per_adjustment", 1, 2, 1.2, 1.0))
    calls: list[str] = []
    found = find_remedies(pi, violations, _planner({"stages": 40, "rate": 70,
                                                    "adjustments_per_day": 30}, set(), calls))
    assert [(s.kind, dict(s.changes), s.days) for s in found] == [
        ("stages", {"correction.stages": ("lengthen_first",)}, 40),
        ("rate", {"correction.rate_mm_per_day": 0.6}, 70),
        ("adjustments_per_day", {"correction.adjustments_per_day": 5}, 30)]
    assert calls == ["stages", "rate", "adjustments_per_day"]  # the second rate: not planned


def test_find_remedies_skips_what_does_not_plan_and_stops_at_most_and_attempts() -> None:
    pi = _pi(_case(rate=0.8, per_day=4))
    violations = (Violation("rate", 1, None, 1.0, 0.8),
                  Violation("change_per_adjustment", 1, 2, 1.2, 1.0))
    days = {"stages": 40, "rate": 70, "adjustments_per_day": 30}
    calls: list[str] = []
    found = find_remedies(pi, violations, _planner(days, {"rate"}, calls))
    assert [s.kind for s in found] == ["stages", "adjustments_per_day"]
    assert calls == ["stages", "rate", "rate", "adjustments_per_day"]  # both rates refused
    calls = []
    assert [s.kind for s in find_remedies(pi, violations, _planner(days, set(), calls),
                                          most=2)] == ["stages", "rate"]
    assert calls == ["stages", "rate"]
    calls = []
    assert [s.kind for s in find_remedies(pi, violations, _planner(days, {"stages"}, calls),
                                          attempts=2)] == ["rate"]
    assert calls == ["stages", "rate"]
    calls = []
    assert find_remedies(pi, violations, _planner(days, set(), calls), most=0) == []
    assert calls == []


def test_suggestions_validate_their_kind_and_cannot_be_changed() -> None:
    with pytest.raises(ValueError, match="unknown suggestion kind 'bogus'"):
        Suggestion("bogus")
    s = Suggestion("rate", {"correction.rate_mm_per_day": 0.5})
    with pytest.raises(TypeError):
        s.changes["correction.rate_mm_per_day"] = 2.0  # type: ignore[index]
    for kind in remedies.SUGGESTION_KINDS:
        assert Suggestion(kind).kind == kind


def test_apply_suggestion_changes_keys_in_one_or_several_sections() -> None:
    case = _case(rate=0.8, per_day=4)
    both = apply_suggestion(case, Suggestion("ring_size", {"frame.proximal_ring_mm": 180,
                                                           "frame.distal_ring_mm": 205}))
    assert (both.frame.proximal_ring_mm, both.frame.distal_ring_mm) == (180, 205)
    assert both.frame.neutral_strut_mm == case.frame.neutral_strut_mm
    two = apply_suggestion(case, Suggestion("rate", {"correction.rate_mm_per_day": 0.4,
                                                     "frame.neutral_strut_mm": 170.0}))
    assert two.correction.rate_mm_per_day == 0.4 and two.frame.neutral_strut_mm == 170.0
    assert two.correction.adjustments_per_day == 4 and two.deformity == case.deformity


def test_larger_rings_are_larger_than_both_of_the_frame() -> None:
    case = _case()
    mixed = dataclasses.replace(case, frame=dataclasses.replace(case.frame,
                                                                distal_ring_mm=180))
    for frame in (mixed.frame, dataclasses.replace(mixed.frame, proximal_ring_mm=180,
                                                   distal_ring_mm=155)):
        pi = _pi(dataclasses.replace(case, frame=frame))
        rings = [v["frame.distal_ring_mm"] for k, v in _listed(pi, "ring_gap")
                 if k == "ring_size"]
        assert rings == [205, 230]


def test_rates_are_offered_to_three_decimals() -> None:
    pi = _pi(_case(rate=0.4444))
    assert [v["correction.rate_mm_per_day"] for k, v in _listed(pi, "rate", "plan_length")
            if k == "rate"] == [0.667, 0.889, 1.333, 0.333, 0.222]


def test_other_sizes_are_offered_for_each_named_strut() -> None:
    # strut 1 fitted long, its neighbours medium; a violation without a strut comes first
    pi = _residual(("long",) + ("medium",) * 5, READINGS)
    violations = (Violation("strut_range", 1, None, 1.0, 0.5),
                  Violation("strut_range", 1, 1, 1.0, 0.5))
    sizes = [dict(s.changes)["frame.strut_sizes"]
             for s in remedies._candidates(pi, violations) if s.kind == "strut_size"]
    assert sizes == [("medium",) * 6] + [(name,) + ("medium",) * 5
                                         for name in ("x-short", "short", "medium")]


def test_neutral_readings_for_a_shape_refusal_spread_out_from_the_surgeons() -> None:
    pi = _pi(_case())
    readings = [v["frame.neutral_strut_mm"] for k, v in _listed(pi, "joint_angle")
                if k == "neutral_strut"]
    distances = [abs(r - 160.0) for r in readings]
    assert 0 < len(readings) <= 2 * remedies._NEUTRAL_TRIES
    assert 160.0 not in readings and all(d % 5 == 0 for d in distances)
    assert distances == sorted(distances)
    # the nearest first, the shorter of two equally near first
    for a, b in itertools.pairwise(readings):
        if abs(a - 160) == abs(b - 160):
            assert a < b


def test_find_remedies_keeps_three_by_default() -> None:
    pi = _pi(_case(rate=0.8, per_day=4))
    violations = (Violation("rate", 1, None, 1.0, 0.8),
                  Violation("change_per_adjustment", 1, 2, 1.2, 1.0),
                  Violation("ring_gap", 0, None, 3.0, 5.0))
    calls: list[str] = []

    def anything(plan_input: PlanInput) -> Any:
        calls.append("plan")
        return SimpleNamespace(day=np.array([0, 9]))

    found = find_remedies(pi, violations, anything)
    assert len(found) == 3 and len(calls) == 3
