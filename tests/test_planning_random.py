"""Hundreds of ordinary random cases plan, and every plan keeps every constraint with the
fewest days (seeded; the planner must plan ordinary cases instead of refusing them)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from hexapod.case import (
    Case,
    CorrectionSettings,
    Deformity,
    FrameSpec,
    Mounting,
    Patient,
    StructureAtRisk,
)
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import GeometryError, PlanRefused
from hexapod.io.catalogue_file import load_catalogue
from hexapod.planning import Plan, pace, plan

CATALOGUE = load_catalogue("tsf-like")
CASES = 400


def _word(rng: np.random.Generator, words: tuple[str, str]) -> str:
    return words[int(rng.integers(2))]


def random_case(seed: int) -> Case:
    """An ordinary case: both sides and references, chronic or residual, gradual or acute,
    1-6 adjustments a day, 0.5-1.5 mm/day, up to 15 degrees and 12 mm."""
    rng = np.random.default_rng(seed)
    side = _word(rng, ("right", "left"))
    reference = _word(rng, ("proximal", "distal"))
    mode = _word(rng, ("chronic", "residual"))
    d = Deformity(
        ap_angulation_deg=float(rng.uniform(0, 15)), ap_angulation_dir=_word(rng, ("varus",
                                                                                 "valgus")),
        lat_angulation_deg=float(rng.uniform(0, 15)),
        lat_angulation_dir=_word(rng, ("apex_anterior", "apex_posterior")),
        ap_translation_mm=float(rng.uniform(0, 12)), ap_translation_dir=_word(rng, ("medial",
                                                                                   "lateral")),
        lat_translation_mm=float(rng.uniform(0, 12)),
        lat_translation_dir=_word(rng, ("anterior", "posterior")),
        axial_rotation_deg=float(rng.uniform(0, 15)),
        axial_rotation_dir=_word(rng, ("internal", "external")),
        axial_translation_mm=float(rng.uniform(0, 12)),
        axial_translation_dir=_word(rng, ("short", "long")))
    mounting = Mounting(ap_offset_mm=float(rng.uniform(0, 10)), ap_offset_dir="lateral",
                        lat_offset_mm=float(rng.uniform(0, 10)), lat_offset_dir="anterior",
                        axial_offset_mm=float(rng.uniform(60, 110)),
                        axial_offset_dir="proximal" if reference == "proximal" else "distal")
    if mode == "chronic":
        frame = FrameSpec(155, 155, reference, neutral_strut_mm=float(rng.integers(140, 171)))
    else:
        frame = FrameSpec(155, 155, reference, strut_readings_mm=tuple(
            float(r) for r in rng.integers(140, 171, size=6)))
    method = "acute" if rng.uniform() < 0.1 else "gradual"
    correction = CorrectionSettings(
        start_date=dt.date(2026, 12, 1), method=method,
        rate_mm_per_day=float(rng.uniform(0.5, 1.5)),
        adjustments_per_day=int(rng.integers(1, 7)))
    sars = ()
    if rng.uniform() < 0.5:
        sars = (StructureAtRisk("nerve", ap_mm=float(rng.uniform(0, 25)), ap_dir="lateral",
                                axial_mm=float(rng.uniform(0, 40)), axial_dir="proximal"),)
    return Case(mode=mode, patient=Patient(side=side), frame=frame,  # type: ignore[arg-type]
                deformity=d, mounting=mounting, correction=correction, structures_at_risk=sars)


def _within_sizes(pi: PlanInput, result_days: int | None = None) -> bool:
    """Do the exact readings of the whole path stay inside the catalogue's sizes?"""
    lo, hi, _, offsets = CATALOGUE.range_table()
    for k in range(len(pi.waypoints_in_anatomy) - 1):
        readings = pace.stage_lengths(pi, k, 64) - offsets[0]
        if readings.min() < lo[0] or readings.max() > hi[-1]:
            return False
    return True


def check_constraints(result: Plan) -> None:
    """Rate, change per adjustment, swaps inside their windows, one swap a day per strut."""
    pi = result.plan_input
    settings = pi.case.correction
    lo, hi, _, _ = CATALOGUE.range_table()
    limit = float(CATALOGUE.limits.max_change_per_adjustment_mm)
    if settings.method == "gradual":
        assert result.pace.max_mm_per_day <= settings.rate_mm_per_day + 1e-9
        assert np.max(np.abs(np.diff(result.readings_mm, axis=0)), initial=0) <= limit + 1e-9
    for j, row in enumerate(result.swaps):
        struts = [s.strut for s in row]
        assert len(struts) == len(set(struts))
        for sw in row:
            before = result.size_index[j - 1, sw.strut - 1]
            if settings.method == "gradual":  # inside both sizes: the overlap window
                assert lo[before] - 1e-9 <= sw.reading_mm <= hi[before] + 1e-9
    days_of_swaps = [(s.strut, int(result.day[j])) for j, row in enumerate(result.swaps)
                     for s in row]
    assert len(days_of_swaps) == len(set(days_of_swaps))


def check_minimal_days(result: Plan) -> None:
    """One day fewer in any stage breaks the rate or the change per adjustment."""
    pi = result.plan_input
    settings = pi.case.correction
    if settings.method != "gradual":
        return
    _, path, _ = pace.stage_paths(pi)
    limit = float(CATALOGUE.limits.max_change_per_adjustment_mm)
    for k, days in enumerate(result.pace.stage_days):
        if days <= 1:
            continue
        fewer = int(days) - 1
        too_fast = np.max(path[k]) / fewer > settings.rate_mm_per_day + 1e-9
        lengths = pace.stage_lengths(pi, k, fewer * settings.adjustments_per_day)
        bound = pace.step_bounds(pi, pace.stage_lengths(pi, k, 64))
        too_big = bool(np.any(np.max(np.abs(np.diff(lengths, axis=0)), axis=0) > bound + 1e-9))
        assert too_fast or too_big, (k, days)
        assert limit >= bound.min()


@pytest.mark.parametrize("block", range(4))
def test_ordinary_random_cases_plan_with_every_constraint_and_fewest_days(block: int) -> None:
    refused = []
    planned = 0
    for seed in range(block * CASES // 4, (block + 1) * CASES // 4):
        case = random_case(seed)
        try:
            pi = build_plan_input(case, CATALOGUE)
        except GeometryError:  # residual readings of no frame: not a planning question
            continue
        if not _within_sizes(pi):
            continue
        try:
            result = plan(pi)
        except PlanRefused as exc:
            refused.append((seed, [v.kind for v in exc.violations]))
            continue
        planned += 1
        check_constraints(result)
        check_minimal_days(result)
    assert planned >= CASES // 8, planned
    assert not refused, refused


def test_random_case_generator_is_seeded() -> None:
    assert random_case(7) == random_case(7)
    assert dataclasses.replace(random_case(7)) != random_case(8)
