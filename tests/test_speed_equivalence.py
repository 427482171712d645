"""The fast planning paths give exactly what the plain row-by-row versions give: the rounding
choice (bulk rows plus a loop over the rows that break the direction or change rule), the size
fit and the neutral-strut suggestion. The plain versions live here as the oracles."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import hexapod
from hexapod import transforms as tf
from hexapod.clinical import PlanInput, build_plan_input, reading_to_length
from hexapod.errors import GeometryError, InputError, PlanRefused
from hexapod.planning import advice, fit_sizes, joint_lengths, path, prepare, rounding, sizes
from hexapod.planning.pace import pace_report
from hexapod.planning.sizes import SWAP_COST
from tests.test_planning_random import CATALOGUE, random_case

ROOT = Path(__file__).parent.parent
SAMPLES = sorted((ROOT / "sample_cases").glob("*.toml"))


def oracle_round_readings(plan_input: PlanInput, poses: np.ndarray, lengths: np.ndarray,
                          size_index: np.ndarray, key_points_ring: np.ndarray,
                          keep_first: np.ndarray | None) -> np.ndarray:
    """The rounding rule one row at a time (the version before the bulk choice)."""
    cand, score = rounding.rounding_scores(plan_input, poses, lengths, size_index,
                                           key_points_ring)
    off = plan_input.catalogue.range_table()[3][size_index]
    cand_len = cand + off[:, None, :]
    gradual = plan_input.case.correction.method == "gradual"
    limit = float(plan_input.catalogue.limits.max_change_per_adjustment_mm) if gradual else np.inf
    out = np.empty((len(lengths), 6))
    start = 0
    prev_len = None
    if keep_first is not None:
        out[0] = keep_first
        start = 1
        prev_len = keep_first + off[0]
    for j in range(start, len(lengths)):
        s = score[j]
        if prev_len is not None:
            ok = rounding._allowed(cand_len[j] - prev_len, lengths[j] - lengths[j - 1], limit)
            if np.isfinite(s[ok]).any():
                s = np.where(ok, s, np.inf)
        best = int(np.argmin(s))
        out[j] = cand[j, best]
        prev_len = cand_len[j, best]
    return out


def oracle_choice(cand_len: np.ndarray, score: np.ndarray, lengths: np.ndarray, limit: float,
                  first_len: np.ndarray | None) -> np.ndarray:
    """Row-by-row candidate indices, the same rule as :func:`oracle_round_readings`."""
    best = np.zeros(len(score), dtype=np.int64)
    prev_len = first_len
    for j in range(1 if first_len is not None else 0, len(score)):
        s = score[j]
        if prev_len is not None:
            ok = rounding._allowed(cand_len[j] - prev_len, lengths[j] - lengths[j - 1], limit)
            if np.isfinite(s[ok]).any():
                s = np.where(ok, s, np.inf)
        best[j] = int(np.argmin(s))
        prev_len = cand_len[j, best[j]]
    return best


def _rounding_inputs(plan_input: PlanInput) -> tuple:
    report = pace_report(plan_input)
    poses, day, _, _ = path.rows(plan_input, report.stage_days)
    lengths = joint_lengths(plan_input, poses)
    size_index = fit_sizes(plan_input, lengths, day)
    keep_first = (np.asarray(plan_input.case.frame.strut_readings_mm, dtype=float)
                  if plan_input.case.mode == "residual" else None)
    return (plan_input, poses, lengths, size_index,
            rounding.key_points_in_ring(plan_input, poses), keep_first)


def _plan_inputs() -> list[tuple[str, PlanInput]]:
    found = [(p.stem, prepare(hexapod.load_case(p))) for p in SAMPLES]
    for seed in range(40):
        try:
            found.append((f"random {seed}", build_plan_input(random_case(seed), CATALOGUE)))
        except (GeometryError, InputError):
            continue
    return found


@pytest.mark.parametrize(("name", "plan_input"), _plan_inputs(), ids=lambda v: str(v)[:20])
def test_rounding_equals_the_row_by_row_rule(name: str, plan_input: PlanInput) -> None:
    try:
        args = _rounding_inputs(plan_input)
    except PlanRefused:
        pytest.skip("no size fitting")
    np.testing.assert_array_equal(rounding.round_readings(*args), oracle_round_readings(*args))


@pytest.mark.parametrize("seed", range(60))
def test_candidate_choice_equals_the_row_by_row_rule_on_hostile_scores(seed: int) -> None:
    """Random walks with a tight change limit, tied and infinite scores, reversals: many
    rows break the bulk choice, some chains run for several rows."""
    rng = np.random.default_rng(seed)
    n = 1 if seed < 4 else int(rng.integers(1, 120))  # a plan of its start row only
    step = 0.5 * np.diff(np.r_[0, np.cumsum(rng.integers(-1, 2, size=6))]).clip(0.5, 1)
    lengths = 150 + np.cumsum(rng.normal(scale=0.4, size=(n, 6)) * (rng.random((n, 6)) < 0.7),
                              axis=0)
    floor = np.floor(lengths / step) * step
    combos = ((np.arange(64)[:, None] >> np.arange(6)) & 1).astype(float)
    cand_len = floor[:, None, :] + combos[None] * step
    score = np.round(rng.random((n, 64)) * 4) / 4  # many ties
    score[rng.random((n, 64)) < 0.3] = np.inf
    score[rng.random(n) < 0.1] = np.inf  # rows with no candidate at all
    limit = [0.5, 1.0, np.inf][seed % 3]
    first = None if seed % 2 else cand_len[0, int(rng.integers(64))] + step * 2
    got = rounding.choose_candidates(cand_len, score, lengths, limit, first)
    want = oracle_choice(cand_len, score, lengths, limit, first)
    start = 0 if first is None else 1
    np.testing.assert_array_equal(got[start:], want[start:])


def oracle_fit_sizes(lengths: np.ndarray, lo: np.ndarray, hi: np.ndarray, offsets: np.ndarray,
                      margin: float, fixed: np.ndarray | None,
                      free_rows: np.ndarray | None = None, day: np.ndarray | None = None,
                      swap_penalty: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The size fit one numpy step per row on the full state array (the first version)."""
    reading = lengths[..., None] - offsets  # (..., n, 6, S)
    inside = (reading >= lo - 1e-9) & (reading <= hi + 1e-9)
    near = ((reading <= lo + margin) | (reading >= hi - margin)).astype(float)
    n, sizes = lengths.shape[-2], len(lo)
    if day is None:
        day = np.arange(n)
    free = np.zeros(n, dtype=bool) if free_rows is None else free_rows
    cost = np.where(inside[..., 0, :, :], near[..., 0, :, :], np.inf)
    if fixed is not None:
        cost = np.where(np.arange(sizes) == fixed[:, None], cost, np.inf)
    costs = np.stack([cost, np.full_like(cost, np.inf)], axis=-1)  # (..., 6, S, swapped today)
    back = np.zeros((*lengths.shape[:-2], n, 6, sizes, 2), dtype=np.int64)  # 2 * size + flag
    size_ids = np.broadcast_to(np.arange(sizes)[:, None], costs.shape)
    for j in range(1, n):
        ins = inside[..., j, :, :]
        if day[j] != day[j - 1]:  # a new day: yesterday's swaps do not count
            flag = np.argmin(costs, axis=-1)
            base = np.min(costs, axis=-1)
            stay = np.stack([base, np.full_like(base, np.inf)], axis=-1)
            stay_from = np.stack([2 * size_ids[..., 0] + flag, 2 * size_ids[..., 1] + 1], -1)
            source = base
            source_flag = flag
        else:
            stay = costs
            stay_from = 2 * size_ids + np.arange(2)
            source = costs[..., 0]
            source_flag = np.zeros_like(source, dtype=np.int64)
        masked = source if free[j] else np.where(ins, source, np.inf)
        src = np.argmin(masked, axis=-1)  # (..., 6)
        swap = np.take_along_axis(masked, src[..., None], axis=-1)[..., 0] + SWAP_COST
        if swap_penalty is not None:
            swap = swap + swap_penalty[j]
        swap_from = 2 * src + np.take_along_axis(source_flag, src[..., None], axis=-1)[..., 0]
        swap = np.broadcast_to(swap[..., None], stay.shape[:-1])
        use_swap = swap < stay[..., 1]
        new = np.stack([stay[..., 0], np.where(use_swap, swap, stay[..., 1])], axis=-1)
        back[..., j, :, :, 0] = stay_from[..., 0]
        back[..., j, :, :, 1] = np.where(use_swap, swap_from[..., None], stay_from[..., 1])
        costs = np.where(ins[..., None], new + near[..., j, :, :, None], np.inf)
    flat = costs.reshape(*costs.shape[:-2], -1)  # (..., 6, 2S) as 2 * size + flag
    best = np.argmin(flat, axis=-1)
    total = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]
    choice = np.empty((*lengths.shape[:-2], n, 6), dtype=np.int64)
    cur = best
    for j in range(n - 1, -1, -1):
        choice[..., j, :] = cur // 2
        step = back[..., j, :, :, :].reshape(*back.shape[:-4], 6, -1)
        cur = np.take_along_axis(step, cur[..., None], axis=-1)[..., 0]
    choice = np.where(np.isfinite(total)[..., None, :], choice, -1)
    return total, choice


@pytest.mark.parametrize("seed", range(40))
def test_size_fit_equals_the_full_state_version(seed: int) -> None:
    """Random walks across the catalogue's sizes, batches (), (3,), (2, 2), fitted or free
    sizes, rows on shared days, free (acute) rows and swap penalties."""
    rng = np.random.default_rng(seed)
    lo, hi, _, offsets = CATALOGUE.range_table()
    batch = [(), (3,), (2, 2)][seed % 3]
    n = int(rng.integers(1, 60))
    start = rng.uniform(80, 280, size=(*batch, 1, 6))
    lengths = start + np.cumsum(rng.normal(scale=rng.uniform(0.5, 12), size=(*batch, n, 6)),
                                axis=-2)
    fixed = None if seed % 4 else np.array([cat for cat in rng.integers(0, len(lo), 6)])
    free = None if seed % 5 else rng.random(n) < 0.2
    day = None if seed % 2 else np.sort(rng.integers(0, max(1, n // 2), n))
    penalty = None if seed % 3 != 1 else rng.integers(0, 3, size=(n, 6)) * sizes.SPREAD_COST
    margin = float(rng.choice([0.0, 5.0]))
    got = sizes.fit_sizes(lengths, lo, hi, offsets, margin, fixed, free, day, penalty)
    want = oracle_fit_sizes(lengths, lo, hi, offsets, margin, fixed, free, day, penalty)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[1].shape == (*batch, n, 6)


def oracle_spread_swaps(lengths: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                        offsets: np.ndarray, margin: float, fixed: np.ndarray | None,
                        free_rows: np.ndarray | None, day: np.ndarray,
                        choice: np.ndarray) -> np.ndarray:
    """One refit per strut, in strut order (the first version)."""
    days = sizes.swap_days(choice, day)
    if sum(len(d) for d in days) < 2:
        return choice
    out = choice.copy()
    for strut in range(6):
        others = [d for i, ds in enumerate(days) if i != strut for d in ds]
        busy = np.array([others.count(int(d)) for d in day], dtype=float)
        penalty = np.zeros((len(day), 6))
        penalty[:, strut] = sizes.SPREAD_COST * busy
        total, refit = oracle_fit_sizes(lengths, lo, hi, offsets, margin, fixed, free_rows,
                                        day, penalty)
        if np.isfinite(total[strut]):
            out[:, strut] = refit[:, strut]
            days[strut] = sizes.swap_days(out, day)[strut]
    return out


@pytest.mark.parametrize("seed", range(100))
def test_spread_swaps_equals_one_refit_at_a_time(seed: int) -> None:
    """Walks that cross the overlap windows several times, a few rows a day."""
    rng = np.random.default_rng(seed)
    lo, hi, _, offsets = CATALOGUE.range_table()
    n = int(rng.integers(8, 80))
    centre = rng.choice([120.5, 173.5], size=6)  # inside an overlap window of the catalogue
    lengths = centre + np.cumsum(rng.normal(scale=3.0, size=(n, 6)), axis=0)
    lengths = np.clip(lengths, lo[0] + 1, hi[-1] - 1)
    day = np.arange(n) // int(rng.integers(1, 4))
    free = None if seed % 4 else rng.random(n) < 0.1
    margin = float(rng.choice([0.0, 5.0]))
    total, choice = sizes.fit_sizes(lengths, lo, hi, offsets, margin, None, free, day)
    if not np.isfinite(total).all():
        pytest.skip("no fitting for this walk")
    got = sizes.spread_swaps(lengths, lo, hi, offsets, margin, None, free, day, choice)
    want = oracle_spread_swaps(lengths, lo, hi, offsets, margin, None, free, day, choice)
    np.testing.assert_array_equal(got, want)


def oracle_neutral_candidates(plan_input: PlanInput, poses: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate through one batched size fit (the first version)."""
    cat = plan_input.catalogue
    geo = plan_input.geometry
    lo, hi, _, offsets = cat.range_table()
    usable, heights = [], []
    for reading in np.arange(np.ceil(lo[0]), np.floor(hi[-1]) + 1):
        try:
            height = geo.neutral_height(reading_to_length(cat, float(reading)))
        except (InputError, GeometryError):
            continue
        usable.append(float(reading))
        heights.append(height)
    left = poses @ tf.invert(plan_input.target_pose)
    moved = left[None] @ geo.neutral_pose(np.array(heights))[:, None]
    lengths = plan_input.frame.strut_lengths(moved, check=False)
    total, _ = oracle_fit_sizes(lengths, lo, hi, offsets, float(cat.limits.near_end_margin_mm),
                                None)
    feasible = np.isfinite(total).all(axis=1)
    swaps = np.where(feasible, np.sum(np.where(np.isfinite(total), total, 0) // SWAP_COST,
                                      axis=1), np.inf)
    return np.array(usable), swaps


def oracle_pick(readings: np.ndarray, swaps: np.ndarray, mine: float
                ) -> tuple[float, int] | None:
    if not np.isfinite(swaps).any():
        return None
    best = float(np.min(swaps))
    tied = readings[swaps == best]
    return float(tied[np.argmin(np.abs(tied - mine))]), int(best)


def _advice_cases() -> list[tuple[str, PlanInput]]:
    found = [(p.stem, prepare(hexapod.load_case(p))) for p in SAMPLES]
    for seed in range(12):
        case = random_case(1000 + seed)
        big = dataclasses.replace(case, deformity=dataclasses.replace(
            case.deformity, axial_translation_mm=10 + 5 * seed))  # long struts: swaps needed
        for c in (case, big):
            try:
                found.append((f"random {seed}", build_plan_input(c, CATALOGUE)))
            except (GeometryError, InputError):
                continue
    for seed, axial in ((2000, 150), (2001, 110), (2002, 150), (2003, 110), (2004, 110),
                        (2004, 150)):  # every candidate needs 1-6 swaps
        case = random_case(seed)
        case = dataclasses.replace(case, deformity=dataclasses.replace(
            case.deformity, axial_translation_mm=axial))
        found.append((f"long {seed} {axial}", build_plan_input(case, CATALOGUE)))
    return found


@pytest.mark.parametrize(("name", "plan_input"), _advice_cases(), ids=lambda v: str(v)[:20])
def test_neutral_suggestion_equals_fitting_every_candidate(name: str,
                                                           plan_input: PlanInput) -> None:
    """The pruned search picks what fitting every candidate picks, for the case's own neutral
    strut and for others across the catalogue (other ties, other levels)."""
    try:
        poses = path.rows(plan_input, pace_report(plan_input).stage_days)[0]
    except PlanRefused:
        pytest.skip("no schedule")
    readings, swaps = oracle_neutral_candidates(plan_input, poses)
    got_readings, got_swaps = advice.neutral_candidates(plan_input, poses)
    np.testing.assert_array_equal(got_readings, readings)
    np.testing.assert_array_equal(got_swaps, swaps)
    for mine in (plan_input.case.frame.neutral_strut_mm or 150.0, 90.0, 135.5, 200.0, 280.0):
        _, pruned = advice.fewest_swap_candidates(plan_input, poses, mine)
        assert advice.pick_neutral(readings, pruned, mine) == oracle_pick(readings, swaps, mine)
        known = np.isfinite(pruned)
        np.testing.assert_array_equal(pruned[known], swaps[known])  # exact where fitted


@pytest.mark.parametrize("seed", range(300))
def test_nearest_fewest_search_picks_what_fitting_all_picks(seed: int,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Synthetic candidates: swaps at or above each one's level, some infeasible; the search
    must pick like the full table and fit nothing outside, whatever the batch size."""
    monkeypatch.setattr(advice, "_FIT_BATCH", [1, 2, 8][seed % 3])
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 120))
    readings = np.sort(rng.choice(np.arange(80.0, 200.0), size=count, replace=False))
    level = rng.integers(0, 4, size=count)
    swaps = (level + rng.choice(3, size=count, p=[0.1, 0.45, 0.45])).astype(float)
    swaps[rng.random(count) < 0.2] = np.inf
    outside = np.isinf(swaps) & (rng.random(count) < 0.5)
    mine = float([rng.uniform(80, 200), readings[int(rng.integers(count))],
                  np.floor(rng.uniform(80, 200)) + 0.5][seed // 3 % 3])  # half-way: equal distances
    asked: list[int] = []

    def fit(group: np.ndarray) -> np.ndarray:
        asked.extend(int(i) for i in group)
        return swaps[group]

    got = advice.nearest_fewest(readings, outside, level, mine, fit)
    assert advice.pick_neutral(readings, got, mine) == oracle_pick(readings, swaps, mine)
    assert not outside[asked].any() and len(set(asked)) == len(asked)


@pytest.mark.parametrize("batch", [1, 2, 8])
def test_nearest_fewest_takes_the_lower_of_two_equally_near(batch: int,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(advice, "_FIT_BATCH", batch)
    readings = np.array([99.0, 100.0, 101.0, 102.0])
    swaps = np.array([1.0, 0.0, 0.0, 0.0])
    got = advice.nearest_fewest(readings, np.zeros(4, dtype=bool), np.zeros(4, dtype=np.int64),
                                100.5, lambda group: swaps[group])
    assert advice.pick_neutral(readings, got, 100.5) == (100.0, 0)
