"""The neutral-strut suggestion (hexapod.planning.advice) where the mutation run found it
unchecked: strut sizes whose readings are offset from the joint-centre distance (each size
its own offset), and a catalogue with no usable neutral reading at all. The oracle fits
every candidate (tests/test_speed_equivalence.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hexapod.clinical import PlanInput, build_plan_input
from hexapod.hardware import Catalogue
from hexapod.io.case_file import read_case
from hexapod.planning import advice, path
from hexapod.planning.pace import pace_report

from .conftest import catalogue_with_offsets
from .test_speed_equivalence import oracle_neutral_candidates, oracle_pick

CASES = Path(__file__).parent.parent / "sample_cases"


def _plan_input(catalogue: Catalogue, axial_mm: float = 50.0) -> PlanInput:
    case = read_case(CASES / "right_tibia_chronic.toml")
    case = dataclasses.replace(case, deformity=dataclasses.replace(
        case.deformity, axial_translation_mm=axial_mm))  # long struts: swaps needed
    return build_plan_input(case, catalogue)


@pytest.mark.parametrize("offsets", [[3.0, -2.0, 5.0, 1.0], [-4.0, 6.0, -1.0, 2.5],
                                     [25.0, 25.0, 25.0, 25.0], [-20.0, -20.0, -20.0, -20.0]])
def test_the_suggestion_with_reading_offsets_equals_fitting_every_candidate(
        offsets: list[float]) -> None:
    plan_input = _plan_input(catalogue_with_offsets(offsets))
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
    plan_input = _plan_input(catalogue_with_offsets([0.0] * 4), axial_mm=10.0)
    poses = path.rows(plan_input, pace_report(plan_input).stage_days)[0]
    # struts too short to reach between the rings at any reading: no neutral frame
    tiny = catalogue_with_offsets([0.0] * 4, [(5.0, 8.0), (7.0, 10.0), (9.0, 12.0), (11.0, 14.0)])
    short = dataclasses.replace(plan_input, catalogue=tiny)
    readings, swaps = advice.neutral_candidates(short, poses)
    assert readings.shape == swaps.shape == (0,)
    readings, swaps = advice.fewest_swap_candidates(short, poses, 150.0)
    assert readings.shape == swaps.shape == (0,)
    assert advice.pick_neutral(readings, swaps, 150.0) is None


@pytest.mark.parametrize("suggestion, note", [
    (None, False),
    ("mine, fewer", False),  # the best is the surgeon's own reading: nothing to advise
    ("other, as many", False),  # another reading, but no fewer swaps than the plan's
    ("other, more", False),
    ("other, fewer", True),
])
def test_advice_only_for_another_reading_with_fewer_swaps(
        monkeypatch: pytest.MonkeyPatch, suggestion: str | None, note: bool) -> None:
    import hexapod
    from hexapod.planning import plan

    plan_input = _plan_input(catalogue_with_offsets([0.0] * 4), axial_mm=30.0)  # two swaps
    result = plan(plan_input, suggest=False)
    mine, ours = plan_input.case.frame.neutral_strut_mm, result.swap_count
    assert mine == 150.0 and ours >= 1
    value = None if suggestion is None else {
        "mine, fewer": (mine, ours - 1), "other, as many": (mine + 5, ours),
        "other, more": (mine + 5, ours + 1), "other, fewer": (mine + 5, ours - 1)}[suggestion]
    monkeypatch.setattr(advice, "suggest_neutral_strut", lambda *args: value)
    got = advice.neutral_strut_advice(result)
    if not note:
        assert got is None
        return
    assert got == hexapod.Note("neutral_strut", {"reading_mm": 155.0, "swaps": ours - 1,
                                                 "current_mm": 150.0, "current_swaps": ours})


def test_the_search_stops_once_the_nearest_candidate_meets_its_level(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # every candidate needs no swap: the first batch (nearest first) decides, no other is fitted
    monkeypatch.setattr(advice, "_FIT_BATCH", 4)
    readings = np.arange(100.0, 110.0)
    asked: list[int] = []

    def fit(group: np.ndarray) -> np.ndarray:
        asked.extend(int(i) for i in group)
        return np.zeros(len(group))

    swaps = advice.nearest_fewest(readings, np.zeros(10, dtype=bool),
                                  np.zeros(10, dtype=np.int64), 104.2, fit)
    assert asked == [4, 5, 3, 6]  # 104, 105, 103, 106
    assert advice.pick_neutral(readings, swaps, 104.2) == (104.0, 0)


def test_only_candidates_that_no_single_size_holds_are_fitted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # sizes (mm): x-short 75-96, short 90-125, medium 116-178, long 169-289; tolerance 1e-9
    plan_input = _plan_input(catalogue_with_offsets([0.0] * 4), axial_mm=10.0)
    tol = advice._TOL
    one_size = [(130.0, 131.0),  # medium (and short) hold it
                (116.0 - tol, 170.0),  # medium holds it only with the tolerance at its start
                (120.0, 178.0 + tol),  # ... at its end
                (250.0, 260.0)]  # long
    needs_swaps = [(100.0, 170.0 + k / 2) for k in range(10)]  # short, then medium: a swap
    spans = one_size + needs_swaps
    lengths = np.empty((len(spans), 3, 6))
    for c, (low, high) in enumerate(spans):
        middle = 120.0 if c >= len(one_size) else (low + high) / 2  # 120: both sizes hold it
        lengths[c] = np.array([low, middle, high])[:, None]
    fitted: list[list[int]] = []
    real = advice.fit_sizes

    def spy(batch: np.ndarray, *args: Any) -> Any:
        fitted.append([float(b[2, 0]) for b in batch])  # each candidate's top length
        return real(batch, *args)

    monkeypatch.setattr(advice, "fit_sizes", spy)
    swaps = advice.swap_counts(plan_input, lengths)
    np.testing.assert_array_equal(swaps, [0, 0, 0, 0] + [6] * 10)  # a swap on each strut
    tops = [170 + k / 2 for k in range(10)]
    assert fitted == [tops[:advice._FIT_BATCH], tops[advice._FIT_BATCH:]]  # batches of 8
