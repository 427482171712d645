"""Pacing (hexapod/planning/pace.py): cortex circle, helix lengths of known motions, days per
stage from the rate, the step bound of a strut changing size, and the fewest days that keep
every strut within its bound."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.clinical import build_plan_input
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.planning import pace

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("axis", [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.6, 0.0, 0.8],
                                  [0.95, 0.31224989991991997, 0.0]])
def test_cortex_points_circle(axis: list[float]) -> None:
    centre = np.array([3.0, -2.0, 40.0])
    unit = np.array(axis) / np.linalg.norm(axis)
    pts = pace.cortex_points(centre, unit, 15.0)
    assert pts.shape == (720, 3)
    np.testing.assert_allclose(np.linalg.norm(pts - centre, axis=1), 15.0, atol=1e-9)
    np.testing.assert_allclose((pts - centre) @ unit, 0.0, atol=1e-9)
    # evenly spaced: neighbours 0.5 degree apart
    step = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    np.testing.assert_allclose(step, 2 * 15.0 * np.sin(np.radians(0.25)), rtol=1e-9)


def _turn_about(point, axis, deg):
    rot = tf.rotation_from_rotvec(np.radians(deg) * np.asarray(axis, dtype=float))
    return tf.from_rotation_translation(rot, point - rot @ point)


def _plan_input(structures=(), rate=1.0):
    centre = np.array([0.0, 0.0, 0.0])
    # stage 0: 12 mm along the bone axis z; stage 1: 20 degrees about the bone axis through
    # the corresponding point; stage 2: nothing moves
    way0 = np.eye(4)
    way1 = tf.from_rotation_translation(np.eye(3), np.array([0.0, 0.0, 12.0]))
    way2 = _turn_about(np.array([0.0, 0.0, 12.0]), [0.0, 0.0, 1.0], 20.0) @ way1
    names = tuple(n for n, _ in structures)
    points = np.array([p for _, p in structures], dtype=float).reshape(-1, 3)
    return SimpleNamespace(
        case=SimpleNamespace(correction=SimpleNamespace(bone_radius_mm=15.0,
                                                        rate_mm_per_day=rate)),
        waypoints_in_anatomy=np.stack([way0, way1, way2, way2]),
        corresponding_point=centre, moving_axis=np.array([0.0, 0.0, 1.0]),
        structure_names=names, structure_points=points)


def test_stage_paths_of_a_slide_and_a_turn() -> None:
    names, path, cortex = pace.stage_paths(_plan_input())
    assert names == (pace.CORRESPONDING_POINT, pace.CORTEX)
    arc = 15.0 * np.radians(20.0)
    np.testing.assert_allclose(path, [[12.0, 12.0], [0.0, arc], [0.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(cortex, [12.0, arc, 0.0], atol=1e-9)
    # named structures pace instead: a point 40 mm from the axis moves 40 * 20 degrees
    names, path, cortex = pace.stage_paths(_plan_input(
        (("nerve", [40.0, 0.0, -5.0]), ("artery", [0.0, 0.0, 30.0]))))
    assert names == ("nerve", "artery")
    np.testing.assert_allclose(path, [[12.0, 12.0], [40.0 * np.radians(20.0), 0.0],
                                      [0.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(cortex, [12.0, arc, 0.0], atol=1e-9)


def test_rate_days() -> None:
    path = np.array([[10.0, 3.0], [0.0, 1e-12], [2.5, 1.0], [10.0 + 1e-12, 0.0],
                     [0.01, 0.0]])
    assert pace.rate_days(path, 1.0).tolist() == [10, 0, 3, 10, 1]
    assert pace.rate_days(path, 0.75).tolist() == [14, 0, 4, 14, 1]
    assert pace.rate_days(np.zeros((0, 2)), 1.0).tolist() == []
    assert pace.rate_days(np.zeros((2, 0)), 1.0).tolist() == [0, 0]


def _catalogue(lo, hi, offsets, limit=1.0):
    return SimpleNamespace(range_table=lambda: (np.array(lo), np.array(hi), None,
                                                np.array(offsets)),
                           limits=SimpleNamespace(max_change_per_adjustment_mm=limit))


def test_step_bounds() -> None:
    cat = _catalogue([0.0, 20.0, 40.0], [30.0, 50.0, 70.0], [100.0, 100.0, 100.0], limit=1.0)
    pi = SimpleNamespace(catalogue=cat)
    lengths = np.full((5, 6), 110.0)
    lengths[:, 1] = np.linspace(110.0, 140.0, 5)   # 10..40: crosses from size 0 to 1
    lengths[:, 2] = np.linspace(125.0, 145.0, 5)   # 25..45: inside size 1 all along
    lengths[:, 3] = np.linspace(120.0, 130.0, 5)   # 20..30: exactly the overlap, one size
    # windows 30 - 20 = 10 and 50 - 40 = 10: wider than the limit, the limit stands
    np.testing.assert_allclose(pace.step_bounds(pi, lengths), np.ones(6))
    narrow = SimpleNamespace(catalogue=_catalogue([0.0, 29.5, 49.0], [30.0, 50.0, 70.0],
                                                  [100.0, 100.0, 100.0], limit=2.0))
    np.testing.assert_allclose(pace.step_bounds(narrow, lengths),
                               [2.0, 0.5, 0.5, 2.0, 2.0, 2.0])
    # no overlap at all (a gap between sizes): the limit only
    gap = SimpleNamespace(catalogue=_catalogue([0.0, 40.0], [30.0, 70.0], [100.0, 100.0],
                                               limit=2.0))
    np.testing.assert_allclose(pace.step_bounds(gap, lengths), np.full(6, 2.0))
    one = SimpleNamespace(catalogue=_catalogue([0.0], [90.0], [100.0], limit=3.0))
    np.testing.assert_allclose(pace.step_bounds(one, lengths), np.full(6, 3.0))


@pytest.fixture(scope="module")
def femur():
    case = read_case(ROOT / "sample_cases" / "femur_valgus_internal_rotation.toml")
    return build_plan_input(case, load_catalogue(case.frame.hardware))


def _max_change(pi, stage, steps):
    """Largest change of any strut between equal fractions of the stage's screw path,
    computed here from the motion's rotation vector and translation (no tf.power)."""
    way = pi.waypoints_in_anatomy
    motion = way[stage + 1] @ tf.invert(way[stage])
    geo = pi.geometry
    out = []
    for i in range(steps + 1):
        frac = i / steps
        rho, phi = tf.log(motion)
        part = tf.exp(frac * rho, frac * phi)
        ring = pi.ring_pose_from_fragment(part @ way[stage])
        out.append(kin.strut_lengths(geo.reference_joints, geo.moving_joints, ring,
                                     check=False))
    return np.max(np.abs(np.diff(np.array(out), axis=0)), axis=0)


def test_change_days_is_the_fewest_that_keeps_the_bound(femur) -> None:
    pi = femur
    per_day = pi.case.correction.adjustments_per_day
    fine = pace.stage_lengths(pi, 0, 64)
    assert fine.shape == (65, 6)
    np.testing.assert_allclose(fine[0], pi.start_lengths, atol=1e-9)
    bound = pace.step_bounds(pi, fine)
    days, strut = pace.change_days(pi, 0, 1)
    assert np.all(_max_change(pi, 0, days * per_day) <= bound + 1e-9)
    over = _max_change(pi, 0, (days - 1) * per_day) > bound + 1e-9
    assert over.any()
    assert strut == int(np.argmax(_max_change(pi, 0, days * per_day) / bound)) + 1
    # asked for more days than it needs: those days, and no strut set them
    assert pace.change_days(pi, 0, days + 5) == (days + 5, 0)


def test_schedule_and_pace_report(femur) -> None:
    pi = femur
    days, set_by, struts = pace.schedule(pi)
    names, path, cortex = pace.stage_paths(pi)
    rate = pi.case.correction.rate_mm_per_day
    assert np.all(days >= np.ceil(path.max(axis=1) / rate - 1e-9))
    for k in range(len(days)):
        expect_rate = int(np.ceil(path[k].max() / rate - 1e-9))
        assert (set_by[k] == "rate") == (days[k] == expect_rate and struts[k] == 0)
        assert set_by[k] in ("rate", "change_per_adjustment", "swap_window")
    report = pace.pace_report(pi)
    np.testing.assert_array_equal(report.stage_days, days)
    assert report.days_set_by == set_by and report.days_set_by_strut == struts
    per_day = np.max(path / days[:, None], axis=0)
    assert report.max_mm_per_day == pytest.approx(per_day.max())
    assert report.pace_setter == names[int(np.argmax(per_day))]
    assert report.cortex_max_mm_per_day == pytest.approx(np.max(cortex / days))
    assert report.max_mm_per_day <= rate + 1e-9


def test_change_days_adds_days_when_the_fine_estimate_is_short(monkeypatch) -> None:
    # strut 2 lengthens 1.5 mm on a ramp 1/2048 of the stage long, inside one of the 512 fine
    # steps: the fine speed sees the ramp as 1.5 mm in 1/512 of the stage, four times slower
    # than it is, so the first guess of days breaks the bound and days are added one by one
    # until the largest step keeps it
    t0, width = 0.5 + 0.25 / 512, 1.0 / 2048

    def ramp(t: np.ndarray) -> np.ndarray:
        return 1.5 * np.clip((t - t0) / width, 0.0, 1.0)

    def lengths(plan_input, stage, steps):
        t = np.linspace(0.0, 1.0, steps + 1)
        out = np.full((steps + 1, 6), 150.0)
        out[:, 1] += ramp(t)
        # slow and steady, but from one size into the next through a 0.5 mm window: a
        # narrower bound than strut 2's, still not the strut that sets the days
        out[:, 4] = 108.0 + 3.0 * t
        return out

    monkeypatch.setattr(pace, "stage_lengths", lengths)
    pi = SimpleNamespace(catalogue=_catalogue([0.0, 9.5], [10.0, 90.0], [100.0, 100.0],
                                              limit=1.0),
                         case=SimpleNamespace(correction=SimpleNamespace(adjustments_per_day=2)))

    def largest_step(d: int) -> float:
        return float(np.max(np.diff(ramp(np.linspace(0.0, 1.0, 2 * d + 1)))))

    fewest = next(d for d in range(1, 10_000) if largest_step(d) <= 1.0 + 1e-9)
    first_guess = int(np.ceil(1.5 * 512 / 2))  # the fine speed, 1.5 mm per 1/512
    assert largest_step(first_guess) > 1.0 and fewest > first_guess
    assert pace.change_days(pi, 0, 1) == (fewest, 2)
    assert pace.change_days(pi, 0, fewest + 3) == (fewest + 3, 0)


def test_nothing_to_correct_is_one_still_stage_of_no_days() -> None:
    import dataclasses

    from hexapod.case import Deformity

    case = read_case(ROOT / "sample_cases" / "staged_lengthen_first.toml")
    still = dataclasses.replace(case, deformity=Deformity(), correction=dataclasses.replace(
        case.correction, extra_lengthening_mm=0.0))
    pi = build_plan_input(still, load_catalogue(case.frame.hardware))
    days, set_by, struts = pace.schedule(pi)
    assert days.tolist() == [0] and set_by == ("none",) and struts == (0,)


def test_stage_lengths_run_from_one_waypoint_to_the_next() -> None:
    case = read_case(ROOT / "sample_cases" / "staged_lengthen_first.toml")
    pi = build_plan_input(case, load_catalogue(case.frame.hardware))
    geo = pi.geometry
    way = pi.waypoints_in_anatomy
    assert len(way) == 3
    for stage in (0, 1):
        lengths = pace.stage_lengths(pi, stage, 8)
        for end, point in ((0, way[stage]), (-1, way[stage + 1])):
            ring = pi.ring_pose_from_fragment(point)
            np.testing.assert_allclose(
                lengths[end], kin.strut_lengths(geo.reference_joints, geo.moving_joints, ring),
                atol=1e-9)


def test_an_acute_correction_has_no_days_and_its_pace_is_the_whole_path() -> None:
    case = read_case(ROOT / "sample_cases" / "acute_fracture_reduction.toml")
    pi = build_plan_input(case, load_catalogue(case.frame.hardware))
    report = pace.pace_report(pi)
    names, path, cortex = pace.stage_paths(pi)
    assert report.stage_days.dtype == np.int64 and report.stage_days.tolist() == [0] * len(path)
    assert report.days_set_by == ("acute",) * len(path)
    assert report.days_set_by_strut == (0,) * len(path)
    assert report.max_mm_per_day == pytest.approx(float(np.max(path)))
    assert report.pace_setter == names[int(np.argmax(np.sum(path, axis=0)))]
    assert report.cortex_max_mm_per_day == pytest.approx(float(np.sum(cortex)))


def test_plan_length_is_refused_past_the_policy_bound_only() -> None:
    from hexapod import policy
    from hexapod.errors import PlanRefused

    pace._refuse_too_long(np.array([policy.MAX_PLAN_DAYS - 10, 10]))  # exactly the bound
    with pytest.raises(PlanRefused) as info:
        pace._refuse_too_long(np.array([policy.MAX_PLAN_DAYS - 10, 11]))
    (v,) = info.value.violations
    assert (v.kind, v.value, v.limit) == ("plan_length", policy.MAX_PLAN_DAYS + 1.0,
                                         float(policy.MAX_PLAN_DAYS))


def test_step_bounds_take_the_narrowest_positive_window() -> None:
    lengths = np.full((5, 6), 110.0)
    lengths[:, 1] = np.linspace(110.0, 160.0, 5)  # crosses sizes
    # windows: 30 - 30 = 0 (sizes that only touch: no window), 50 - 49.2 = 0.8, 70 - 69 = 1.0
    cat = _catalogue([0.0, 30.0, 49.2, 69.0], [30.0, 50.0, 70.0, 90.0],
                     [100.0] * 4, limit=2.0)
    np.testing.assert_allclose(pace.step_bounds(SimpleNamespace(catalogue=cat), lengths),
                               [2.0, 0.8, 2.0, 2.0, 2.0, 2.0])
    later = _catalogue([0.0, 25.0, 49.2, 69.0], [30.0, 50.0, 70.0, 90.0], [100.0] * 4,
                       limit=2.0)  # windows 5, 0.8, 1: the narrowest is not the first
    np.testing.assert_allclose(pace.step_bounds(SimpleNamespace(catalogue=later), lengths),
                               [2.0, 0.8, 2.0, 2.0, 2.0, 2.0])
    touching = _catalogue([0.0, 30.0], [30.0, 90.0], [100.0] * 2, limit=2.0)  # no window
    np.testing.assert_allclose(pace.step_bounds(SimpleNamespace(catalogue=touching), lengths),
                               np.full(6, 2.0))


def test_schedule_names_a_swap_window_when_the_setting_strut_crosses_sizes(monkeypatch) -> None:
    # stage 0: strut 3 sets the days and its bound is a narrow swap window; stage 1: strut 2
    # sets them at the plain limit; stage 2: the rate does
    bounds = {0: np.array([1.0, 1.0, 0.4, 1.0, 1.0, 1.0]),
              1: np.array([0.4, 1.0, 1.0, 1.0, 1.0, 1.0])}
    setter = {0: (30, 3), 1: (40, 2), 2: (5, 0)}
    monkeypatch.setattr(pace, "change_days", lambda pi, k, at_least: setter[k])
    monkeypatch.setattr(pace, "stage_lengths",
                        lambda pi, k, steps: np.full((steps + 1, 6), float(k)))
    monkeypatch.setattr(pace, "step_bounds", lambda pi, lengths: bounds[int(lengths[0, 0])])
    pi = SimpleNamespace(case=SimpleNamespace(correction=SimpleNamespace(rate_mm_per_day=1.0)),
                         catalogue=SimpleNamespace(limits=SimpleNamespace(
                             max_change_per_adjustment_mm=1.0)))
    days, set_by, struts = pace.schedule(pi, np.array([[10.0], [20.0], [5.0]]))
    assert days.tolist() == [30, 40, 5]
    assert set_by == ("swap_window", "change_per_adjustment", "rate")
    assert struts == (3, 2, 0)


def test_pace_of_stages_of_one_and_several_days(monkeypatch) -> None:
    names = ("corresponding point", "cortex")
    path = np.array([[3.0, 2.0], [6.0, 9.0]])
    monkeypatch.setattr(pace, "stage_paths", lambda pi: (names, path, np.array([2.5, 9.0])))
    monkeypatch.setattr(pace, "schedule", lambda pi, p: (np.array([1, 3]), ("rate", "rate"),
                                                         (0, 0)))
    pi = SimpleNamespace(case=SimpleNamespace(correction=SimpleNamespace(method="gradual")))
    report = pace.pace_report(pi)
    assert report.max_mm_per_day == 3.0  # stage 0: 3 mm in its one day
    assert report.cortex_max_mm_per_day == 3.0  # max(2.5 / 1, 9 / 3)
    assert report.pace_setter == "corresponding point"  # 3 / 1 against max(2 / 1, 9 / 3)
    assert report.stage_days.tolist() == [1, 3]


def test_rate_days_are_integers_and_a_reading_at_a_sizes_start_is_inside() -> None:
    assert pace.rate_days(np.array([[2.5, 1.0]]), 1.0).dtype == np.int64
    narrow = SimpleNamespace(catalogue=_catalogue([0.0, 29.5, 49.0], [30.0, 50.0, 70.0],
                                                  [100.0, 100.0, 100.0], limit=2.0))
    lengths = np.full((5, 6), 110.0)
    lengths[:, 4] = np.linspace(129.5, 145.0, 5)  # readings 29.5..45: size 1 from its start
    np.testing.assert_allclose(pace.step_bounds(narrow, lengths), np.full(6, 2.0))


def test_the_cortex_paces_by_its_fastest_sample_even_the_first() -> None:
    # a tilt about x through the centre plus 3 mm along z: the cortex sample at +y (the
    # first of the circle) moves farthest, alone
    pi = _plan_input()
    rot = tf.rotation_from_rotvec(np.radians(10.0) * np.array([1.0, 0.0, 0.0]))
    pi.waypoints_in_anatomy = np.stack([np.eye(4), tf.from_rotation_translation(
        rot, np.array([0.0, 0.0, 3.0]))])
    _, path, cortex = pace.stage_paths(pi)
    samples = pace.cortex_points(pi.corresponding_point, pi.moving_axis, 15.0)
    np.testing.assert_allclose(samples[0], [0.0, 15.0, 0.0], atol=1e-12)
    # the +y sample: 15 mm from the tilt axis, turned 10 degrees, lifted 3 mm more
    lifted = np.array([0.0, 15.0 * np.cos(np.radians(10)), 15.0 * np.sin(np.radians(10)) + 3])
    assert path[0, 1] == cortex[0] and path[0, 1] >= np.linalg.norm(lifted - samples[0])
    second = tf.point_path_length(pi.waypoints_in_anatomy[1], samples[1:])
    assert path[0, 1] > np.max(second)  # strictly faster than every other sample


def test_the_strut_that_sets_the_days_is_the_one_nearest_its_own_bound(monkeypatch) -> None:
    # strut 1 crosses sizes (bound: the 0.5 mm window) and moves 10 mm; strut 2 stays in one
    # size (bound 1 mm) and moves 18 mm: 10 days of 2 steps, 0.5 mm (all of its bound) for
    # strut 1, 0.9 mm (90 % of its) for strut 2, so strut 1 sets them
    def lengths(plan_input, stage, steps):
        t = np.linspace(0.0, 1.0, steps + 1)
        out = np.full((steps + 1, 6), 150.0)
        out[:, 0] = 105.0 + 10.0 * t
        out[:, 1] = 120.0 + 18.0 * t
        return out

    monkeypatch.setattr(pace, "stage_lengths", lengths)
    pi = SimpleNamespace(catalogue=_catalogue([0.0, 9.5], [10.0, 90.0], [100.0, 100.0],
                                              limit=1.0),
                         case=SimpleNamespace(correction=SimpleNamespace(adjustments_per_day=2)))
    assert pace.change_days(pi, 0, 1) == (10, 1)
