"""Rounding of readings (hexapod/planning/rounding.py): candidates written out bit by bit,
the first-order score against exact forward kinematics, the direction and change-limit rule,
and the deviation of key points for known motions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.frame import Frame
from hexapod.planning import rounding

from .conftest import random_poses, spec_frame

LO = np.array([20.0, 40.0])
HI = np.array([95.0, 120.0])
INC = np.array([1.0, 0.5])
OFF = np.array([100.0, 90.0])


def _plan_input(method="gradual", limit=1.0, hi=HI):
    geo = spec_frame()
    mount = tf.from_rotation_translation(tf.rotation_from_rotvec(np.array([0.2, 0.1, -0.4])),
                                         np.array([3.0, -4.0, 20.0]))
    start = random_poses(np.random.default_rng(5), (), side=geo.moving_side)
    return SimpleNamespace(
        geometry=geo,
        frame=Frame(geo.reference_joints, geo.moving_joints, geo.reference),
        catalogue=SimpleNamespace(
            range_table=lambda: (LO, hi, INC, OFF),
            limits=SimpleNamespace(max_change_per_adjustment_mm=limit)),
        case=SimpleNamespace(correction=SimpleNamespace(method=method)),
        reference_ring_in_anatomy=mount, start_pose=start,
        corresponding_point=np.array([1.0, 2.0, -30.0]), structure_names=("nerve", "artery"),
        structure_points=np.array([[20.0, 0.0, -60.0], [-15.0, 10.0, -80.0]]))


SIZE = np.array([0, 1, 0, 1, 1, 0])


def _setup(n=3, seed=11):
    pi = _plan_input()
    poses = random_poses(np.random.default_rng(seed), (n,), side=pi.geometry.moving_side)
    lengths = kin.strut_lengths(pi.geometry.reference_joints, pi.geometry.moving_joints, poses)
    size_index = np.broadcast_to(SIZE, (n, 6))
    key = np.random.default_rng(seed + 1).normal(size=(n, 2, 3)) * 40.0
    return pi, poses, lengths, size_index, key


def test_candidates_are_every_floor_ceil_choice() -> None:
    pi, poses, lengths, size_index, key = _setup()
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    assert cand.shape == (3, 64, 6) and score.shape == (3, 64)
    for n in range(3):
        for c in range(64):
            for i in range(6):
                inc, off = INC[SIZE[i]], OFF[SIZE[i]]
                floor = np.floor((lengths[n, i] - off) / inc) * inc
                assert cand[n, c, i] == pytest.approx(floor + ((c >> i) & 1) * inc, abs=1e-9)


def test_score_is_the_first_order_displacement() -> None:
    pi, poses, lengths, size_index, key = _setup()
    geo = pi.geometry
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    off = OFF[SIZE]
    for n in range(3):
        for c in (0, 5, 22, 63):
            achieved = kin.solve_pose(geo.reference_joints, geo.moving_joints,
                                      cand[n, c] + off, guess=poses[n], max_condition=None)
            follow = achieved @ tf.invert(poses[n])  # the motion of everything on the ring
            points = np.vstack([key[n], tf.apply(poses[n], geo.moving_joints)])
            exact = np.max(np.linalg.norm(tf.apply(follow, points) - points, axis=-1))
            # first order: the error is second order in the (sub-millimetre) change
            assert score[n, c] == pytest.approx(exact, rel=0.05, abs=0.01), (n, c)


def test_candidate_outside_the_size_scores_inf() -> None:
    pi, poses, lengths, size_index, key = _setup()
    hi = HI.copy()
    # strut 1 (size 0): the ceiling of its reading on row 0 lies just past the end
    hi[0] = np.floor(lengths[0, 0] - OFF[0]) + 0.5
    pi = _plan_input(hi=hi)
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    over = (cand > hi[SIZE] + 1e-9).any(axis=-1)
    assert over[0].any()
    assert np.all(np.isinf(score[over])) and np.all(np.isfinite(score[~over]))


def test_allowed_direction_and_limit() -> None:
    move = np.array([0.6, -0.4, 0.0, 1e-12, 0.9, -0.9])
    steps = np.array([
        [1.0, 0.0, 0.0, 0.0, 1.0, -1.0],    # follows every direction, within 1 mm
        [-0.5, 0.0, 0.0, 0.0, 1.0, -1.0],   # strut 1 moves against its exact change
        [1.0, 0.5, 0.0, 0.0, 1.0, -1.0],    # strut 2 moves against
        [1.0, 0.0, 0.5, 0.0, 1.0, -1.0],    # strut 3 moves though its length stays
        [1.0, 0.0, 0.0, 0.5, 1.0, -1.0],    # strut 4: an exact change of 1e-12 is none
        [1.5, 0.0, 0.0, 0.0, 1.0, -1.0],    # strut 1 beyond the limit
        [1.0, 0.0, 0.0, 0.0, 1.0, -1.5],    # strut 6 beyond the limit
        [1.0 + 1e-12, 0.0, 1e-12, -1e-12, 1.0, -1.0],  # within the tolerances
    ])
    assert rounding._allowed(steps, move, 1.0).tolist() == [True, False, False, False, False,
                                                            False, False, True]
    assert rounding._allowed(steps, move, np.inf).tolist() == [True, False, False, False,
                                                               False, True, True, True]


def test_round_readings_picks_the_best_allowed_candidate() -> None:
    pi, poses, lengths, size_index, _ = _path(n=6, seed=7, limit=1.0)
    key = rounding.key_points_in_ring(pi, poses)
    out = rounding.round_readings(pi, poses, lengths, size_index, key, None)
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    assert np.isfinite(score).all()  # inside the sizes: the scores decide
    off = OFF[SIZE]
    exact = lengths - off
    assert np.all(np.isin(np.round((out - exact) / INC[SIZE]).astype(int) + 0, [-1, 0, 1]))
    assert np.all(np.abs(out - exact) < INC[SIZE] + 1e-9)
    # row 0: the best score of all 64
    assert np.allclose(out[0], cand[0, np.argmin(score[0])])
    for j in range(1, 6):
        ok = [bool(rounding._allowed(c + off - out[j - 1] - off, lengths[j] - lengths[j - 1],
                                     1.0)) for c in cand[j]]
        allowed = [k for k in range(64) if ok[k] and np.isfinite(score[j, k])]
        pick = min(allowed, key=lambda k: score[j, k]) if allowed else int(np.argmin(score[j]))
        np.testing.assert_allclose(out[j], cand[j, pick], atol=1e-12)
    first = out[0] + INC[SIZE]
    kept = rounding.round_readings(pi, poses, lengths, size_index, key, first)
    np.testing.assert_array_equal(kept[0], first)


def test_acute_has_no_change_limit() -> None:
    pi, poses, lengths, size_index, key = _setup(n=2, seed=4)
    poses[1] = tf.from_rotation_translation(np.eye(3), np.array([0.9, -0.6, 0.8])) @ poses[0]
    geo = pi.geometry
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, poses)
    off = OFF[SIZE]
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    acute = rounding.round_readings(_plan_input(method="acute", limit=0.0), poses, lengths,
                                    size_index, key, None)
    ok = rounding._allowed(cand[1] - acute[0], lengths[1] - lengths[0], np.inf)
    assert ok.any()
    best = np.flatnonzero(ok)[np.argmin(score[1][ok])]
    np.testing.assert_array_equal(acute[1], cand[1, best])
    # gradual with a limit of 0 mm: no candidate keeps every strut still here, so the rule
    # gives way and the best score of all stands
    stuck = rounding.round_readings(_plan_input(method="gradual", limit=0.0), poses, lengths,
                                    size_index, key, None)
    assert not rounding._allowed(cand[1] + off - stuck[0] - off, lengths[1] - lengths[0],
                                 0.0).any()
    np.testing.assert_array_equal(stuck[1], cand[1, np.argmin(score[1])])


def test_key_points_and_deviation_known_motions() -> None:
    pi = _plan_input()
    names, key = rounding.key_points(pi)
    assert names == ("corresponding point", "nerve", "artery")
    np.testing.assert_array_equal(key, np.vstack([pi.corresponding_point,
                                                  pi.structure_points]))
    start = pi.start_pose
    shift = tf.from_rotation_translation(np.eye(3), np.array([0.0, 3.0, 4.0]))
    planned = np.stack([start, start])
    achieved = np.stack([start, shift @ start])  # 5 mm off in the ring frame on row 1
    per_point, worst, deg = rounding.deviation(pi, planned, achieved)
    np.testing.assert_allclose(per_point, [[0, 0, 0], [5, 5, 5]], atol=1e-9)
    np.testing.assert_allclose(worst, [0, 5], atol=1e-9)
    np.testing.assert_allclose(deg, [0, 0], atol=1e-6)
    turn = start @ tf.from_rotation_translation(
        tf.rotation_from_rotvec(np.array([0.0, np.radians(7.0), 0.0])), np.zeros(3))
    _, _, deg = rounding.deviation(pi, planned[:1], turn[None])
    np.testing.assert_allclose(deg, [7.0], atol=1e-9)
    # key points in the ring frame: at the start, the anatomical points mapped through M^-1;
    # after a motion of the ring, moved with it
    ring = rounding.key_points_in_ring(pi, np.stack([start, shift @ start]))
    at_start = tf.apply(tf.invert(pi.reference_ring_in_anatomy), key)
    np.testing.assert_allclose(ring[0], at_start, atol=1e-9)
    np.testing.assert_allclose(ring[1], at_start + [0.0, 3.0, 4.0], atol=1e-9)
    motion = rounding.relative_motion(pi, np.stack([shift @ start]))
    np.testing.assert_allclose(
        motion[0], pi.reference_ring_in_anatomy @ shift @ tf.invert(pi.reference_ring_in_anatomy),
        atol=1e-9)


# --- repair_rows: re-picking a row by its exact displacement ---------------------------------

def _path(n: int = 16, seed: int = 21, limit: float = 2.0, method: str = "gradual",
          hi: np.ndarray = HI):
    """A plan input and ``n`` poses on a screw path, their exact lengths, sizes and rounded
    readings (a valid chain of the direction and change-limit rule)."""
    pi = _plan_input(method=method, limit=limit, hi=hi)
    side = pi.geometry.moving_side
    start, end = random_poses(np.random.default_rng(seed), (2,), side=side, angle_deg=4.0)
    poses = tf.power(end @ tf.invert(start), np.linspace(0.0, 1.0, n)) @ start
    geo = pi.geometry
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, poses)
    size_index = np.broadcast_to(SIZE, (n, 6))
    readings = rounding.round_readings(pi, poses, lengths, size_index,
                                       rounding.key_points_in_ring(pi, poses), None)
    return pi, poses, lengths, size_index, readings


def _follows(step: np.ndarray, move: np.ndarray, limit: float) -> bool:
    """The direction and change-limit rule for one row, strut by strut."""
    for s, m in zip(step, move, strict=True):
        if abs(s) > limit + 1e-9:
            return False
        if abs(m) < 1e-9 and abs(s) > 1e-9:
            return False
        if (m >= 1e-9 and s < -1e-9) or (m <= -1e-9 and s > 1e-9):
            return False
    return True


def _exact_worst(pi, planned: np.ndarray, achieved: np.ndarray) -> tuple[float, float]:
    """Largest key-point displacement (mm) between two ring poses, and the turn (degrees):
    a point ``p`` of the anatomy rides with the moving ring, so it is ``P P0^-1 M^-1 p`` in
    the reference ring frame at ring pose ``P`` (``M``: reference ring in anatomy)."""
    points = np.vstack([pi.corresponding_point, pi.structure_points])
    at_start = tf.apply(tf.invert(pi.reference_ring_in_anatomy), points)
    carry = tf.invert(pi.start_pose)
    worst = max(float(np.linalg.norm(tf.apply(achieved @ carry, q) - tf.apply(planned @ carry, q)))
                for q in at_start)
    rel = tf.invert(planned) @ achieved
    turn = np.degrees(np.arccos(np.clip((np.trace(rel[:3, :3]) - 1) / 2, -1, 1)))
    return worst, float(turn)


def _repaired_by_hand(pi, poses, lengths, readings, rows, bound_mm, bound_deg=np.inf,
                      worst_first=False, size_index=None):
    """repair_rows written as a plain loop over the 64 candidates of each row (with
    ``worst_first``, the allowed candidate farthest from the plan instead)."""
    geo = pi.geometry
    lo_s, hi_s, inc_s, off_s = pi.catalogue.range_table()
    gradual = pi.case.correction.method == "gradual"
    limit = pi.catalogue.limits.max_change_per_adjustment_mm if gradual else np.inf
    sizes = np.broadcast_to(SIZE, lengths.shape) if size_index is None else size_index
    out = readings.copy()
    for j in rows:
        if j == 0:
            continue
        off, inc = off_s[sizes[j]], inc_s[sizes[j]]
        best, best_worst = None, (-np.inf if worst_first else np.inf)
        for c in range(64):
            floor = np.floor((lengths[j] - off) / inc + 1e-9) * inc
            cand = floor + np.array([(c >> i) & 1 for i in range(6)]) * inc
            if np.any(cand < lo_s[sizes[j]] - 1e-9) or np.any(cand > hi_s[sizes[j]] + 1e-9):
                continue
            if not _follows(cand + off - out[j - 1] - off_s[sizes[j - 1]],
                            lengths[j] - lengths[j - 1], limit):
                continue
            if j + 1 < len(out) and not _follows(
                    out[j + 1] + off_s[sizes[j + 1]] - cand - off,
                    lengths[j + 1] - lengths[j], limit):
                continue
            status = kin.solve_pose_status(geo.reference_joints, geo.moving_joints, cand + off,
                                           guess=poses[j])
            if not (status.converged and status.same_branch):
                continue
            worst, turn = _exact_worst(pi, poses[j], np.asarray(status.poses))
            if turn <= bound_deg and (worst > best_worst if worst_first else worst < best_worst):
                best, best_worst = cand, worst
        if best is not None and (worst_first or best_worst <= bound_mm):
            out[j] = best
    return out


def test_repair_rows_picks_the_exactly_best_allowed_candidate() -> None:
    pi, poses, lengths, size_index, readings = _path()
    # rows 2 and 4 set to the allowed candidate farthest from the plan: repair must move them
    readings = _repaired_by_hand(pi, poses, lengths, readings, [2, 15], np.inf,
                                 worst_first=True)
    rows = np.array([1, 2, 15])  # 15: the last row, with no next row to respect
    repaired = rounding.repair_rows(pi, poses, lengths, size_index, readings, rows, np.inf)
    expected = _repaired_by_hand(pi, poses, lengths, readings, rows, np.inf)
    np.testing.assert_allclose(repaired, expected, atol=1e-12)
    assert not np.array_equal(repaired, readings)  # the exact choice differs somewhere
    others = [j for j in range(16) if j not in (1, 2, 15)]
    np.testing.assert_array_equal(repaired[others], readings[others])  # other rows kept
    # the input is not changed in place
    before = readings.copy()
    rounding.repair_rows(pi, poses, lengths, size_index, readings, rows, np.inf)
    np.testing.assert_array_equal(readings, before)


def test_repair_rows_keeps_row_zero_and_rows_without_a_candidate_within_the_bound() -> None:
    pi, poses, lengths, size_index, readings = _path()
    rows = np.arange(16)
    same = rounding.repair_rows(pi, poses, lengths, size_index, readings, rows, 0.0)
    np.testing.assert_array_equal(same, readings)  # no candidate is exactly on the plan
    kept = rounding.repair_rows(pi, poses, lengths, size_index, readings, np.array([0]), np.inf)
    np.testing.assert_array_equal(kept, readings)
    # a bound just above the best candidate's displacement of row 1 takes it; just below not
    best = _repaired_by_hand(pi, poses, lengths, readings, [1], np.inf)
    status = kin.solve_pose_status(pi.geometry.reference_joints, pi.geometry.moving_joints,
                                   best[1] + OFF[SIZE], guess=poses[1])
    worst, _ = _exact_worst(pi, poses[1], np.asarray(status.poses))
    above = rounding.repair_rows(pi, poses, lengths, size_index, readings, np.array([1]),
                                 worst + 1e-9)
    below = rounding.repair_rows(pi, poses, lengths, size_index, readings, np.array([1]),
                                 worst - 1e-9)
    np.testing.assert_allclose(above[1], best[1], atol=1e-12)
    np.testing.assert_array_equal(below, readings)


def test_repair_rows_respects_the_degree_bound() -> None:
    pi, poses, lengths, size_index, readings = _path()
    rows = np.array([1, 2, 3, 15])
    for bound_deg in (0.0, 0.004, 0.01, np.inf):
        got = rounding.repair_rows(pi, poses, lengths, size_index, readings, rows, np.inf,
                                   bound_deg)
        expected = _repaired_by_hand(pi, poses, lengths, readings, rows, np.inf, bound_deg)
        np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=str(bound_deg))


@pytest.mark.parametrize(("seed", "limit", "method", "hi0"), [
    (1, 2.0, "gradual", 95.0), (2, 1.0, "gradual", 95.0), (3, 0.5, "gradual", 95.0),
    (4, 1.0, "acute", 95.0), (5, 1.0, "gradual", 71.0), (6, 0.5, "acute", 71.0)])
def test_repair_rows_equals_the_loop_on_varied_rows(seed: int, limit: float, method: str,
                                                      hi0: float) -> None:
    # sizes that change along the path (strut 2 swaps at row 8), tight and absent change
    # limits, an upper end of size 0 that cuts some candidates, rows set to the candidate
    # farthest from the plan, and rows to repair that include row 0 and the last two
    hi = np.array([hi0, HI[1]])
    pi, poses, lengths, _, _ = _path(seed=seed, limit=limit, method=method, hi=hi)
    size_index = np.broadcast_to(SIZE, (16, 6)).copy()
    size_index[8:, 1] = 0
    readings = rounding.round_readings(pi, poses, lengths, size_index,
                                       rounding.key_points_in_ring(pi, poses), None)
    rng = np.random.default_rng(seed)
    spoilt = sorted(rng.choice(np.arange(1, 16), 5, replace=False).tolist())
    readings = _repaired_by_hand(pi, poses, lengths, readings, spoilt, np.inf,
                                 worst_first=True, size_index=size_index)
    rows = np.array(sorted({0, 14, 15, *spoilt, *rng.choice(np.arange(1, 16), 3).tolist()}))
    for bound in (np.inf, 0.05):
        got = rounding.repair_rows(pi, poses, lengths, size_index, readings, rows, bound)
        expected = _repaired_by_hand(pi, poses, lengths, readings, rows, bound,
                                     size_index=size_index)
        np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=f"bound {bound}")



@pytest.mark.parametrize(("seed", "spoilt"), [(7, [13, 14, 15]), (5, list(range(1, 16, 2)))])
def test_repair_rows_every_row_against_the_loop(seed: int, spoilt: list[int]) -> None:
    # every row repaired in order: some have no allowed candidate (the later ones are still
    # repaired), and the last but one must respect the last (seed 7: its best candidate
    # alone would step against the last row's reading)
    pi, poses, lengths, size_index, readings = _path(seed=seed, limit=1.0)
    readings = _repaired_by_hand(pi, poses, lengths, readings, spoilt, np.inf, worst_first=True)
    rows = np.arange(16)
    got = rounding.repair_rows(pi, poses, lengths, size_index, readings, rows, np.inf)
    np.testing.assert_allclose(got, _repaired_by_hand(pi, poses, lengths, readings, rows, np.inf),
                               atol=1e-12)


def test_allowed_at_exactly_the_tolerances() -> None:
    tol = 1e-9
    # a change of exactly the tolerance is a change (lengthening): any forward step goes
    assert rounding._allowed(np.array([0.5, 0, 0, 0, 0, 0]), np.array([tol, 0, 0, 0, 0, 0]),
                             1.0)
    # steps exactly the tolerance against the direction, or off a still strut, are allowed
    move = np.array([0.6, -0.4, 0.0, 0.0, 0.0, 0.0])
    assert rounding._allowed(np.array([-tol, tol, tol, -tol, 0.0, 0.0]), move, 1.0)
    # a step of exactly the limit plus the tolerance is allowed, the next float above not
    edge = 1.0 + tol
    assert rounding._allowed(np.array([edge, 0, 0, 0, 0, 0]), move, 1.0)
    assert not rounding._allowed(np.array([np.nextafter(edge, 2.0), 0, 0, 0, 0, 0]), move, 1.0)
    assert rounding._allowed(np.array([0.6, -edge, 0, 0, 0, 0]), move, 1.0)


def _choose_by_hand(cand_len, score, lengths, limit, first_len):
    """choose_candidates as the rule reads: row by row, the lowest score among the candidates
    that follow every strut's direction and the limit from the previous row's choice (the
    first lowest), or the lowest of all when no allowed candidate has a finite score."""
    n = len(score)
    chosen = np.zeros(n, dtype=int)
    chosen[0] = int(np.argmin(score[0]))
    prev = cand_len[0, chosen[0]] if first_len is None else first_len
    for j in range(1, n):
        move = lengths[j] - lengths[j - 1]
        best, best_score = None, np.inf
        for c in range(cand_len.shape[1]):
            if np.isfinite(score[j, c]) and score[j, c] < best_score \
                    and _follows(cand_len[j, c] - prev, move, limit):
                best, best_score = c, score[j, c]
        chosen[j] = int(np.argmin(score[j])) if best is None else best
        prev = cand_len[j, chosen[j]]
    return chosen


@pytest.mark.parametrize("seed", range(8))
def test_choose_candidates_equals_the_row_by_row_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, inc = 60, 0.5
    steps = rng.choice([-0.7, -0.3, 0.0, 0.2, 0.45, 0.9], size=(n - 1, 6))
    steps[rng.random(steps.shape) < 0.1] = 5e-10  # below the tolerance: a still strut
    lengths = 150.0 + np.vstack([np.zeros(6), np.cumsum(steps, axis=0)])
    floor = np.floor(lengths / inc) * inc
    cand_len = floor[:, None, :] + ((np.arange(64)[:, None] >> np.arange(6)) & 1) * inc
    score = rng.random((n, 64))
    score[rng.random(score.shape) < 0.15] = np.inf
    score[7] = np.inf  # a row with no finite candidate at all
    score[11, :] = 0.5  # ties: the first lowest
    for limit in (0.5, 1.0, np.inf):
        for first_len in (None, cand_len[0, 9] + inc):
            got = rounding.choose_candidates(cand_len, score, lengths, limit, first_len)
            expected = _choose_by_hand(cand_len, score, lengths, limit, first_len)
            start = 0 if first_len is None else 1  # row 0 is fixed by first_len
            np.testing.assert_array_equal(got[start:], expected[start:],
                                          err_msg=f"limit {limit}, first {first_len}")


def test_choose_candidates_two_rows_from_a_fixed_first_row() -> None:
    # row 1's lowest score steps forward from row 0's own best but back from the fixed
    # first row: the rule judges the step from the fixed row
    lengths = np.array([[10.0] * 6, [10.4] * 6])
    cand_len = np.full((2, 64, 6), 11.0)
    cand_len[0] = 10.5
    cand_len[1, 5] = 10.6
    score = np.ones((2, 64))
    score[0, 0] = 0.0
    score[1, 5] = 0.0
    assert rounding.choose_candidates(cand_len, score, lengths, 1.0, None)[1] == 5
    fixed = np.full(6, 10.8)
    assert rounding.choose_candidates(cand_len, score, lengths, 1.0, fixed)[1] == 0


def test_choose_candidates_re_picks_at_exactly_the_bounds() -> None:
    # row 1's best steps back 2e-9 (not allowed); the second best sits exactly at a bound
    tol, limit = 1e-9, 1.0
    lengths = np.zeros((2, 6))
    lengths[1] = 0.5
    for edge in (-tol, limit + tol):
        cand_len = np.zeros((2, 64, 6))
        cand_len[1] = 0.5
        cand_len[1, 1, 0] = -2 * tol
        cand_len[1, 2, 0] = edge
        score = np.ones((2, 64))
        score[0, 0] = score[1, 1] = 0.0
        score[1, 2] = 0.5
        assert rounding.choose_candidates(cand_len, score, lengths, limit, None)[1] == 2, edge


def test_choose_candidates_at_exactly_the_bounds() -> None:
    # strut lengths near 0 so that steps of exactly the tolerance and of exactly the limit
    # plus the tolerance are exact in floating point
    tol, limit = 1e-9, 1.0
    lengths = np.zeros((2, 6))
    lengths[1] = 0.5  # every strut lengthens
    cand_len = np.zeros((2, 64, 6))
    cand_len[1] = 0.5
    cand_len[1, 1, 0] = -tol  # a step back of exactly the tolerance: allowed
    cand_len[1, 2, 0] = limit + tol  # a step of exactly the limit plus the tolerance: allowed
    score = np.ones((2, 64))
    score[0, 0] = 0.0
    for c in (1, 2):
        only = score.copy()
        only[1, c] = 0.0
        assert rounding.choose_candidates(cand_len, only, lengths, limit, None)[1] == c
        assert rounding.choose_candidates(cand_len, only, lengths, limit, cand_len[0, 0])[1] == c
    low, high = rounding._step_bounds(np.array([tol, -tol, 0.5 * tol, np.nan]), limit)
    most = limit + tol
    np.testing.assert_array_equal(low, [-tol, -most, -tol, -most])
    np.testing.assert_array_equal(high, [most, tol, tol, most])


@pytest.mark.parametrize("method", ["gradual", "acute"])
def test_round_readings_keeps_the_change_limit_only_when_gradual(method: str) -> None:
    # a path whose limit of 0.5 mm excludes some rows' best candidates (all inside the sizes)
    pi, poses, lengths, size_index, _ = _path(seed=1, limit=0.5, method=method, n=10)
    key = rounding.key_points_in_ring(pi, poses)
    out = rounding.round_readings(pi, poses, lengths, size_index, key, None)
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    assert np.isfinite(score).all()
    off = OFF[SIZE]
    chosen = _choose_by_hand(cand + off, score, lengths,
                             0.5 if method == "gradual" else np.inf, None)
    np.testing.assert_array_equal(out, cand[np.arange(10), chosen])
    free = _choose_by_hand(cand + off, score, lengths, np.inf, None)
    assert (method == "gradual") == (not np.array_equal(chosen, free))


def test_largest_displacement_over_many_blocks() -> None:
    rng = np.random.default_rng(3)
    n = 2 * rounding._BLOCK_ROWS + 37  # three blocks, the last one short
    twist = rng.normal(size=(n, 5, 6))
    lever = rng.normal(size=(n, 4, 3)) * 50
    got = rounding._largest_displacement(twist, lever)
    moved = twist[:, :, None, :3] + np.cross(twist[:, :, None, 3:], lever[:, None, :, :])
    np.testing.assert_allclose(got, np.max(np.linalg.norm(moved, axis=-1), axis=-1),
                               rtol=1e-12)


def test_round_readings_from_fixed_first_readings_across_a_size_change() -> None:
    pi, poses, lengths, _, _ = _path(n=8, seed=7, limit=1.0)
    size_index = np.broadcast_to(SIZE, (8, 6)).copy()
    size_index[3:, 1] = 0  # strut 2 changes size (and offset) from row 3
    key = rounding.key_points_in_ring(pi, poses)
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    off = OFF[size_index]
    free = rounding.round_readings(pi, poses, lengths, size_index, key, None)
    np.testing.assert_array_equal(
        free, cand[np.arange(8), _choose_by_hand(cand + off[:, None, :], score, lengths, 1.0,
                                                 None)])
    # the frame as it is now: each strut one scale step ahead in the direction it moves
    first = free[0] + INC[SIZE] * np.sign(lengths[1] - lengths[0])
    kept = rounding.round_readings(pi, poses, lengths, size_index, key, first)
    chosen = _choose_by_hand(cand + off[:, None, :], score, lengths, 1.0, first + off[0])
    np.testing.assert_array_equal(kept[0], first)
    np.testing.assert_array_equal(kept[1:], cand[np.arange(1, 8), chosen[1:]])
    assert not np.array_equal(kept[1:], free[1:])  # the fixed row changes the chain


def test_a_candidate_exactly_at_a_sizes_end_is_inside() -> None:
    pi, poses, lengths, size_index, _ = _path(n=3, seed=7)
    key = rounding.key_points_in_ring(pi, poses)
    cand, score = rounding.rounding_scores(pi, poses, lengths, size_index, key)
    assert np.isfinite(score[0]).all()
    size0 = SIZE == 0
    # size 0's lower end at the lowest of its struts' ceilings (candidate 63: all ceilings),
    # its upper end at the highest of their floors (candidate 0: all floors)
    for column, end in ((63, "lo"), (0, "hi")):
        lo, hi = LO.copy(), HI.copy()
        values = cand[0, column, size0]
        if end == "lo":
            lo[0] = values.min()
        else:
            hi[0] = values.max()
        at_end = SimpleNamespace(**vars(pi))
        at_end.catalogue = SimpleNamespace(range_table=lambda lo=lo, hi=hi: (lo, hi, INC, OFF),
                                           limits=pi.catalogue.limits)
        _, edge = rounding.rounding_scores(at_end, poses, lengths, size_index, key)
        assert np.isfinite(edge[0, column]), end  # exactly at the end: inside
        past = ((cand[0][:, size0] < lo[0]) | (cand[0][:, size0] > hi[0])).any(axis=1)
        assert past.any() and np.all(np.isinf(edge[0, past])), end
        assert np.all(np.isfinite(edge[0, ~past])), end
