"""Sensitivity figures where the mutation run found them unchecked: the variance share of each
parameter against the far-end displacement of each error worked out by applying its twist,
the linearised Jacobian against a finer finite difference, the block random numbers, the
95th percentile, the documented defaults and the refusals."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import ConvergenceError, InputError
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.sensitivity import (
    PARAMETERS,
    RANDOM_BLOCK,
    Uncertainty,
    _error_transform,
    _far_point,
    _linearised,
    _normals,
    analyse,
    nominal_parameters,
)

CASES = Path(__file__).parent.parent / "sample_cases"


@pytest.fixture(scope="module")
def plan_input() -> PlanInput:
    return build_plan_input(read_case(CASES / "right_tibia_chronic.toml"), load_catalogue())


UNEVEN = Uncertainty(angulation_deg=0.5, translation_mm=2.0, rotation_deg=3.0,
                     mounting_mm=1.0, mounting_deg=4.0, reading_mm=0.3)


def test_the_linearised_twists_are_derivatives_of_the_error(plan_input: PlanInput) -> None:
    jac, sd, factor = _linearised(plan_input, UNEVEN)
    nominal = nominal_parameters(plan_input)
    planned = plan_input.target_pose @ tf.invert(plan_input.start_pose)
    step = 1e-6
    for k in range(10):
        delta = np.zeros(10)
        delta[k] = step
        plus = tf.log(_error_transform(plan_input, nominal - delta, planned))
        minus = tf.log(_error_transform(plan_input, nominal + delta, planned))
        column = np.concatenate([plus[0] - minus[0], plus[1] - minus[1]]) / (2 * step)
        np.testing.assert_allclose(jac[:, k], column, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(sd, np.concatenate([UNEVEN.vector(), np.full(12, 0.3)]))
    np.testing.assert_allclose(factor @ factor.T, (jac * sd**2) @ jac.T, atol=1e-12)


def test_the_variance_share_is_each_error_s_far_end_displacement(
        plan_input: PlanInput) -> None:
    result = analyse(plan_input, UNEVEN, samples=50, far_end_mm=120.0)
    jac, sd, _ = _linearised(plan_input, UNEVEN)
    far = _far_point(plan_input, 120.0)
    eps = 1e-7
    variance: dict[str, float] = {}
    names = [p[0] for p in PARAMETERS] + ["strut readings"] * 12
    for k, name in enumerate(names):  # move the far point by a small multiple of the twist
        moved = tf.apply(tf.exp(eps * jac[:3, k], eps * jac[3:, k]), far)
        shift = float(np.sum(((moved - far) / eps) ** 2))
        variance[name] = variance.get(name, 0.0) + shift * sd[k] ** 2
    total = sum(variance.values())
    share = dict(result.share)
    assert set(share) == set(variance) and "strut readings" in share
    for name, v in variance.items():
        assert share[name] == pytest.approx(v / total, rel=1e-5, abs=1e-9), name
    values = [v for _, v in result.share]
    assert values == sorted(values, reverse=True) and sum(values) == pytest.approx(1.0)


def test_the_95th_percentile_is_of_the_kept_samples(plan_input: PlanInput) -> None:
    result = analyse(plan_input, UNEVEN, samples=400)
    far = result.residual_far_samples
    assert result.far_end_mc == (float(np.mean(far)), float(np.percentile(far, 95)))
    origin = result.residual_origin_samples
    assert result.origin_mc[1] == float(np.percentile(origin, 95))


def test_each_block_of_samples_has_its_own_random_numbers() -> None:
    draws = _normals(7, 0, 2 * RANDOM_BLOCK)
    for block in (0, 1):
        rng = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(block,)))
        expected = rng.standard_normal((RANDOM_BLOCK, 28))
        np.testing.assert_array_equal(draws[block * RANDOM_BLOCK:(block + 1) * RANDOM_BLOCK],
                                      expected)
    np.testing.assert_array_equal(_normals(7, RANDOM_BLOCK - 3, RANDOM_BLOCK + 2),
                                  draws[RANDOM_BLOCK - 3:RANDOM_BLOCK + 2])


def test_the_documented_defaults(plan_input: PlanInput) -> None:
    params = inspect.signature(analyse).parameters
    assert params["samples"].default == 20000 and params["seed"].default == 0
    assert params["far_end_mm"].default == 150.0
    # and in what a call without them gives (a wrapper's signature could hide a default)
    result = analyse(plan_input, UNEVEN)
    assert (result.samples, result.far_end_mm) == (20000, 150.0)
    seeded = analyse(plan_input, UNEVEN, samples=20000, seed=0, far_end_mm=150.0)
    assert result.far_end_mc == seeded.far_end_mc and result.share == seeded.share


@pytest.mark.parametrize("samples, chunk, message", [
    (1, 10, r"^samples must be at least 2$"), (0, 10, r"^samples must be at least 2$"),
    (5, 0, r"^chunk must be at least 1$")])
def test_too_few_samples_or_an_empty_chunk_is_refused(plan_input: PlanInput, samples: int,
                                                      chunk: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        analyse(plan_input, Uncertainty(), samples=samples, chunk=chunk)


def test_two_samples_in_chunks_of_one_are_enough(plan_input: PlanInput) -> None:
    result = analyse(plan_input, Uncertainty(), samples=2, chunk=1)
    assert result.samples == 2 and result.failed_samples == 0
    assert result.residual_far_samples.shape == (2,)


@pytest.mark.parametrize("reading_sd, samples, failed", [(5000.0, 30, 30), (60.0, 3, 2)])
def test_readings_too_uncertain_for_the_frame_are_refused(
        plan_input: PlanInput, reading_sd: float, samples: int, failed: int) -> None:
    # fewer than two samples left: no figure can be made (lengths below zero count as failed)
    with pytest.raises(ConvergenceError, match=(
            rf"^forward kinematics failed for {failed} of {samples} samples: the reading "
            r"errors are too large for this frame$")):
        analyse(plan_input, Uncertainty(reading_mm=reading_sd), samples=samples, seed=0)


def test_a_sample_whose_noisy_reading_is_not_a_length_counts_as_failed(
        plan_input: PlanInput) -> None:
    # a reading error of -1e4 sd (0.5 mm each) makes a length negative: that sample is no
    # frame at all, and is left out like one whose forward kinematics fails
    import warnings

    from hexapod import kinematics as kin
    from hexapod.sensitivity import _monte_carlo_chunk

    geo = plan_input.geometry
    ends = np.stack([plan_input.start_pose, plan_input.target_pose])
    ends_lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, ends)
    normals = _normals(3, 0, 5)
    normals[2, 13] = -1e4  # sample 2: strut 4 at the start, far below zero
    far = _far_point(plan_input, 150.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = _monte_carlo_chunk(plan_input, normals, Uncertainty().vector(), 0.5, ends,
                                  ends_lengths, far)
        alone = _monte_carlo_chunk(plan_input, normals[[0, 1, 3, 4]], Uncertainty().vector(),
                                   0.5, ends, ends_lengths, far)
        none = _monte_carlo_chunk(plan_input, normals[[2]], Uncertainty().vector(), 0.5, ends,
                                  ends_lengths, far)
    assert np.shape(kept) == (3, 4) and np.shape(none) == (3, 0)
    np.testing.assert_allclose(kept, alone, atol=1e-12)


@pytest.mark.parametrize("case, side", [("right_tibia_chronic", -1.0),
                                        ("distal_tibia_distal_reference", 1.0)])
def test_the_far_end_is_along_the_moving_fragment_away_from_the_reference(
        case: str, side: float) -> None:
    # +z points proximally: the moving fragment of a proximal reference is the distal one,
    # whose far end lies distally of the osteotomy (and the other way round), on its axis
    from hexapod.sensitivity import one_at_a_time

    pi = build_plan_input(read_case(CASES / f"{case}.toml"), load_catalogue())
    fragment = pi.waypoints_in_anatomy[-1]
    far = tf.apply(fragment, _far_point(pi, 120.0)) - fragment[:3, 3]
    np.testing.assert_allclose(far, [0.0, 0.0, side * 120.0], atol=1e-9)
    rows = {row[0]: row[2:] for row in one_at_a_time(pi, 120.0)}
    # 1 degree about the origin moves the far end by about 120 mm x 1 degree (the view's axis
    # is not quite square to a fragment already angulated)
    assert rows["AP-view angulation"][1] == pytest.approx(120 * np.radians(1.0), rel=0.1)
    if side < 0:  # the distal fragment ends on the anatomical axis: turning about it
        assert rows["axial rotation"][1] < 1e-9  # leaves its far end where it is


def test_exact_measurements_leave_no_residual_in_a_staged_case() -> None:
    pi = build_plan_input(read_case(CASES / "staged_lengthen_first.toml"), load_catalogue())
    assert len(pi.waypoints_in_anatomy) == 3
    zero = Uncertainty(angulation_deg=0, translation_mm=0, rotation_deg=0, mounting_mm=0,
                       mounting_deg=0, reading_mm=0)
    result = analyse(pi, zero, samples=4)
    for figure in (result.origin_mc, result.far_end_mc, result.angle_mc, result.origin_lin,
                   result.far_end_lin, result.angle_lin):
        assert figure == pytest.approx((0.0, 0.0), abs=1e-9)


@pytest.mark.parametrize("case", ["right_tibia_chronic", "distal_tibia_distal_reference"])
def test_the_joint_radius_rows_grow_the_ring_they_name(case: str) -> None:
    from hexapod import kinematics as kin
    from hexapod.sensitivity import _residuals, one_at_a_time

    pi = build_plan_input(read_case(CASES / f"{case}.toml"), load_catalogue())
    assert inspect.signature(one_at_a_time).parameters["far_end_mm"].default == 150.0
    rows = {row[0]: row[2:] for row in one_at_a_time(pi)}
    geo = pi.geometry
    ends = np.stack([pi.start_pose, pi.target_pose])
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, ends)
    reference_is = pi.reference
    for ring in ("proximal", "distal"):
        ref, mov = geo.reference_joints.copy(), geo.moving_joints.copy()
        grown = ref if ring == reference_is else mov  # the named ring, 1 mm larger radius
        radius = np.hypot(grown[:, 0], grown[:, 1])[:, None]
        grown[:, :2] *= (radius + 1.0) / radius
        poses = kin.solve_pose(ref, mov, lengths, guess=ends, max_condition=None)
        error = _error_transform(pi, nominal_parameters(pi), poses[1] @ tf.invert(poses[0]))
        expected = [float(v) for v in _residuals(error, _far_point(pi, 150.0))]
        np.testing.assert_allclose(rows[f"{ring} ring joint radius"], expected, rtol=1e-9)
    assert rows["proximal ring joint radius"] != rows["distal ring joint radius"]


@pytest.mark.parametrize("case", ["right_tibia_chronic", "distal_tibia_distal_reference"])
def test_the_strut_reading_row_is_the_worst_of_six_final_readings(case: str) -> None:
    from hexapod import kinematics as kin
    from hexapod.sensitivity import _residuals, one_at_a_time

    pi = build_plan_input(read_case(CASES / f"{case}.toml"), load_catalogue())
    rows = one_at_a_time(pi, 130.0)
    geo = pi.geometry
    ends = np.stack([pi.start_pose, pi.target_pose])
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, ends)
    each = []
    for strut in range(6):  # 1 mm more on one strut's final reading
        bumped = lengths.copy()
        bumped[1, strut] += 1.0
        poses = kin.solve_pose(geo.reference_joints, geo.moving_joints, bumped, guess=ends)
        error = _error_transform(pi, nominal_parameters(pi), poses[1] @ tf.invert(poses[0]))
        each.append([float(v) for v in _residuals(error, _far_point(pi, 130.0))])
    worst = max(each, key=lambda r: r[1])
    assert rows[-1][0] == "strut reading (one strut, worst of six)" and rows[-1][1] == "mm"
    np.testing.assert_allclose(rows[-1][2:], worst, rtol=1e-9)
    assert 0.1 < worst[1] < 5.0


def test_the_one_at_a_time_rows_and_their_units(plan_input: PlanInput) -> None:
    from hexapod.sensitivity import one_at_a_time

    rows = one_at_a_time(plan_input)
    assert [(r[0], r[1]) for r in rows] == [
        *((name, unit) for name, unit, _ in PARAMETERS),
        ("proximal ring joint radius", "mm"), ("distal ring joint radius", "mm"),
        ("strut reading (one strut, worst of six)", "mm")]
    result = analyse(plan_input, UNEVEN, samples=10, far_end_mm=120.0)
    assert result.one_at_a_time == one_at_a_time(plan_input, 120.0)
