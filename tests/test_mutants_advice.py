"""The neutral-strut suggestion (hexapod.planning.advice) where the mutation run found it
unchecked: strut sizes whose readings are offset from the joint-centre distance (each size
its own offset), and a catalogue with no usable neutral reading at all. The oracle fits
every candidate (tests/test_speed_equivalence.py)."""

from __future__ import annotations

import dataclasses
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hexapod.clinical import PlanInput, build_plan_input
from hexapod.hardware import Catalogue
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import parse_catalogue
from hexapod.planning import advice, path
from hexapod.planning.pace import pace_report

from .test_speed_equivalence import oracle_neutral_candidates, oracle_pick

CASES = Path(__file__).parent.parent / "sample_cases"


def _catalogue(offsets: list[float], ranges: list[tuple[float, float]] | None = None
               ) -> Catalogue:
    text = resources.files("hexapod").joinpath("data/tsf-like.toml").read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    for i, size in enumerate(data["strut_sizes"]):
        size["reading_to_length_offset_mm"] = {"value": offsets[i], "provenance": "measured"}
        if ranges is not None:
            size["min_reading_mm"]["value"], size["max_reading_mm"]["value"] = ranges[i]
    return parse_catalogue(data, "offsets.toml")


def _plan_input(catalogue: Catalogue, axial_mm: float = 60.0) -> PlanInput:
    case = read_case(CASES / "right_tibia_chronic.toml")
    case = dataclasses.replace(case, deformity=dataclasses.replace(
        case.deformity, axial_translation_mm=axial_mm))  # long struts: swaps needed
    return build_plan_input(case, catalogue)


@pytest.mark.parametrize("offsets", [[3.0, -2.0, 5.0, 1.0], [-4.0, 6.0, -1.0, 2.5],
                                     [25.0, 25.0, 25.0, 25.0], [-20.0, -20.0, -20.0, -20.0]])
def test_the_suggestion_with_reading_offsets_equals_fitting_every_candidate(
        offsets: list[float]) -> None:
    plan_input = _plan_input(_catalogue(offsets))
    poses = path.rows(plan_input, pace_report(plan_input).stage_days)[0]
    readings, swaps = oracle_neutral_candidates(plan_input, poses)
    assert np.isfinite(swaps).any() and len(set(swaps[np.isfinite(swaps)])) > 1
    got_readings, got_swaps = advice.neutral_candidates(plan_input, poses)
    np.testing.assert_array_equal(got_readings, readings)
    np.testing.assert_array_equal(got_swaps, swaps)
    for mine in (150.0, 90.0, 135.5, 200.0, 280.0):
        _, pruned = advice.fewest_swap_candidates(plan_input, poses, mine)
        assert advice.pick_neutral(readings, pruned, mine) == oracle_pick(readings, swaps, mine)
        known = np.isfinite(pruned)
        np.testing.assert_array_equal(pruned[known], swaps[known])


def test_no_usable_neutral_reading_gives_no_candidates() -> None:
    plan_input = _plan_input(_catalogue([0.0] * 4), axial_mm=10.0)
    poses = path.rows(plan_input, pace_report(plan_input).stage_days)[0]
    # struts too short to reach between the rings at any reading: no neutral frame
    tiny = _catalogue([0.0] * 4, [(5.0, 8.0), (7.0, 10.0), (9.0, 12.0), (11.0, 14.0)])
    short = dataclasses.replace(plan_input, catalogue=tiny)
    readings, swaps = advice.neutral_candidates(short, poses)
    assert readings.shape == swaps.shape == (0,)
    readings, swaps = advice.fewest_swap_candidates(short, poses, 150.0)
    assert readings.shape == swaps.shape == (0,)
    assert advice.pick_neutral(readings, swaps, 150.0) is None
