"""The calibration fits (:mod:`hexapod.calibration`) against known values: every statistic
they report, the steps Gauss-Newton must shorten, the ring it cannot fit and the inputs it
refuses. Built from the survivors of a mutation run (see docs/testing.md)."""

from __future__ import annotations

import numpy as np
import pytest

from hexapod.calibration import (
    ChordObservations,
    ParameterFit,
    chord_distances,
    fit_ring,
    fit_strut_offset,
)

from .test_calibration import ALL_PAIRS, DIST, PROX, _chord_oracle

#: Readings 100-130 mm and a residual pattern orthogonal to a line through them: a fit of
#: ``d = a r + b + k E`` gives back ``a`` and ``b`` exactly, with line residuals ``k E``.
R4 = np.array([100.0, 110.0, 120.0, 130.0])
E4 = np.array([1.0, -1.0, -1.0, 1.0])


def _observations(layout: tuple[list[int], list[int]], pairs: list[list[int]],
                  distances: np.ndarray | list[float]) -> ChordObservations:
    return ChordObservations.from_joints(*layout, pairs, distances)


# --- the strut offset ------------------------------------------------------------------------

def test_strut_statistics_known_values() -> None:
    k = 0.5
    fit = fit_strut_offset(R4, 1.0 * R4 + 6.0 + k * E4, instrument_sd_mm=1e-6)
    assert fit.offset.value == pytest.approx(6.0, abs=1e-12)
    sd = np.sqrt(4 * k**2 / 3)  # n - 1 degrees of freedom
    assert fit.offset.standard_error_mm == pytest.approx(sd / 2.0, rel=1e-12)
    assert fit.offset.residual_mm == pytest.approx(k, rel=1e-12)
    assert fit.offset.count == 4
    np.testing.assert_allclose(fit.residuals_mm, k * E4, atol=1e-12)
    np.testing.assert_allclose(fit.standardized, k * E4 / (sd * np.sqrt(0.75)), rtol=1e-12)
    assert fit.slope == pytest.approx(1.0, abs=1e-12)
    spread = np.sum((R4 - R4.mean()) ** 2)
    # the line's residuals have n - 2 degrees of freedom
    assert fit.slope_standard_error == pytest.approx(np.sqrt(4 * k**2 / 2 / spread), rel=1e-12)


@pytest.mark.parametrize(("sigmas", "consistent"), [(2.5, True), (3.5, False)])
def test_a_slope_is_consistent_within_three_standard_errors(sigmas: float,
                                                            consistent: bool) -> None:
    se = np.sqrt(4 / 2 / np.sum((R4 - R4.mean()) ** 2))  # k = 1
    fit = fit_strut_offset(R4, (1.0 + sigmas * se) * R4 + 6.0 + E4, instrument_sd_mm=1e-6)
    assert fit.slope_standard_error == pytest.approx(se, rel=1e-12)
    assert fit.slope_consistent is consistent


def test_two_readings_give_a_slope_and_one_degree_of_freedom() -> None:
    fit = fit_strut_offset([100.0, 120.0], [106.5, 126.0], instrument_sd_mm=0.01)
    assert fit.slope == pytest.approx(19.5 / 20.0, rel=1e-12)
    sd = np.sqrt(2 * 0.25**2 / 1)  # residuals +-0.25 mm, n - 1 = 1
    assert fit.offset.standard_error_mm == pytest.approx(sd / np.sqrt(2), rel=1e-12)
    np.testing.assert_allclose(fit.standardized, [1.0, -1.0], rtol=1e-12)
    # no scatter left for a line through two points: its error is the caliper's
    assert fit.slope_standard_error == pytest.approx(0.01 / np.sqrt(200.0), rel=1e-12)


def test_one_reading_gives_the_offset_with_the_caliper_error_and_no_slope() -> None:
    fit = fit_strut_offset([150.0], [156.3])
    assert fit.offset.value == pytest.approx(6.3, abs=1e-12)
    assert fit.offset.standard_error_mm == 0.05
    np.testing.assert_array_equal(fit.standardized, [0.0])
    assert np.isnan(fit.slope) and np.isnan(fit.slope_standard_error)
    assert fit.slope_consistent is True


def test_strut_results_are_read_only_floats() -> None:
    fit = fit_strut_offset([100, 110, 120], [106, 116, 127])
    for arr in (fit.residuals_mm, fit.standardized):
        assert arr.dtype == np.float64 and not arr.flags.writeable


@pytest.mark.parametrize(("readings", "distances"), [([100.0, 110.0], [106.0]),
                                                     ([100.0], [106.0, 116.0]), ([], [])])
def test_readings_and_distances_must_pair_up(readings: list[float],
                                             distances: list[float]) -> None:
    with pytest.raises(ValueError, match=r"^readings and distances must be two lists of the "
                                         r"same length >= 1$"):
        fit_strut_offset(readings, distances)


@pytest.mark.parametrize("bad", ["value", "standard_error_mm", "residual_mm"])
@pytest.mark.parametrize("number", [np.nan, np.inf])
def test_a_fitted_number_must_be_finite(bad: str, number: float) -> None:
    values = {"value": 1.0, "standard_error_mm": 0.1, "residual_mm": 0.1, "count": 3}
    with pytest.raises(ValueError, match=r"^a fitted number must be finite$"):
        ParameterFit(**(values | {bad: number}))  # type: ignore[arg-type]


def test_a_fit_counts_at_least_one_measurement() -> None:
    assert ParameterFit(1.0, 0.1, 0.1, 1).count == 1
    with pytest.raises(ValueError, match=r"^a fit uses at least one measurement$"):
        ParameterFit(1.0, 0.1, 0.1, 0)


# --- chord observations ----------------------------------------------------------------------

@pytest.mark.parametrize("joints", [[[0, 2]], [[1, 7]], [[7, 1]], [[0, 0]]])
def test_joints_are_strut_numbers_1_to_6(joints: list[list[int]]) -> None:
    with pytest.raises(ValueError, match=r"^joints are named by strut numbers 1\.\.6$"):
        _observations(PROX, joints, [50.0])


def test_joints_given_as_whole_floats_are_taken() -> None:
    obs = _observations(PROX, [[1.0, 3.0]], [50.0])  # type: ignore[list-item]
    assert obs.centre_a_deg.tolist() == [90.0] and obs.centre_b_deg.tolist() == [210.0]
    assert obs.side_a.dtype == np.float64 and obs.distances_mm.dtype == np.float64


@pytest.mark.parametrize("shapes", [((2,), (2,), (2,), (2,), (3,)), ((2, 1),) * 5, ((),) * 5])
def test_chord_observations_are_five_lists_of_one_length(
        shapes: tuple[tuple[int, ...], ...]) -> None:
    with pytest.raises(ValueError, match=r"^chord observations must be five arrays of the "
                                         r"same shape \(n,\)$"):
        ChordObservations(*(np.zeros(shape) for shape in shapes))


def test_chord_observations_are_read_only() -> None:
    arrays = [np.zeros(2) for _ in range(5)]
    obs = ChordObservations(*arrays)
    assert not any(getattr(obs, f).flags.writeable for f in obs.__dataclass_fields__)


# --- the ring fit ----------------------------------------------------------------------------

@pytest.mark.parametrize(("layout", "pairs", "truth", "guess"), [
    (DIST, [[2, 4], [3, 6]], (70.0, 1.0), (74.0, 26.0)),  # the first step: spacing < 0
    (PROX, [[1, 4], [2, 5], [3, 6], [4, 6]], (68.0, 5.8), (65.0, 39.0)),
    (PROX, ALL_PAIRS, (80.0, 150.0), (80.0, 20.0)),  # the first step: spacing > 2 radius
])
def test_a_step_that_leaves_the_geometry_is_shortened_and_the_fit_reaches_the_truth(
        layout: tuple[list[int], list[int]], pairs: list[list[int]],
        truth: tuple[float, float], guess: tuple[float, float]) -> None:
    obs = _observations(layout, pairs, _chord_oracle(*truth, layout, pairs))
    predicted, jac = chord_distances(obs, *guess)  # Gauss-Newton's first step, unshortened
    step = np.linalg.lstsq(jac, obs.distances_mm - predicted, rcond=None)[0]
    first = np.array(guess) + step
    assert not 0 < first[1] < 2 * first[0]
    fit = fit_ring(obs, *guess)
    assert fit.converged is True
    assert fit.radius.value == pytest.approx(truth[0], abs=1e-8)
    assert fit.spacing.value == pytest.approx(truth[1], abs=1e-8)


def test_a_ring_measured_with_its_pairs_the_wrong_way_round_does_not_converge() -> None:
    # distances of joints swapped within their pairs (a spacing of -15 mm): every step
    # heads for a spacing below zero and is shortened until none is left
    pairs = [[1, 3], [2, 5]]
    obs = _observations(PROX, pairs, np.zeros(2))
    obs = _observations(PROX, pairs, chord_distances(obs, 80.0, -15.0)[0])
    fit = fit_ring(obs, 80.0, 15.0)
    assert fit.converged is False
    assert 0 < fit.spacing.value < 1e-6  # the last valid iterate
    assert fit.radius.value == pytest.approx(80.0, abs=1e-6)


def test_ring_statistics_known_values() -> None:
    # eight distances of a 90 mm / 14 mm ring, with a residual pattern added
    pairs = [[1, 2], [1, 3], [2, 5], [3, 4], [1, 6], [4, 6], [2, 4], [3, 5]]
    exact = np.array(_chord_oracle(90.0, 14.0, PROX, pairs))
    noise = 0.2 * np.array([1.0, -1.0, 0.5, -0.5, 1.0, 0.0, -1.0, 0.25])
    obs = _observations(PROX, pairs, exact + noise)
    fit = fit_ring(obs, 88.0, 15.0, instrument_sd_mm=1e-6)
    assert fit.converged is True
    # the oracle: least squares by finite differences of the distances, not the code's own
    radius, spacing = fit.radius.value, fit.spacing.value
    h = 1e-6
    jac = np.stack([(np.array(_chord_oracle(radius + h, spacing, PROX, pairs))
                     - np.array(_chord_oracle(radius - h, spacing, PROX, pairs))) / (2 * h),
                    (np.array(_chord_oracle(radius, spacing + h, PROX, pairs))
                     - np.array(_chord_oracle(radius, spacing - h, PROX, pairs))) / (2 * h)],
                   axis=1)
    residuals = obs.distances_mm - np.array(_chord_oracle(radius, spacing, PROX, pairs))
    assert np.max(np.abs(jac.T @ residuals)) < 1e-6  # normal equations: a least-squares fit
    np.testing.assert_allclose(fit.residuals_mm, residuals, atol=1e-9)
    sd = np.sqrt(np.sum(residuals**2) / (8 - 2))
    cov = np.linalg.inv(jac.T @ jac)
    assert fit.radius.standard_error_mm == pytest.approx(sd * np.sqrt(cov[0, 0]), rel=1e-5)
    assert fit.spacing.standard_error_mm == pytest.approx(sd * np.sqrt(cov[1, 1]), rel=1e-5)
    assert fit.radius.residual_mm == pytest.approx(np.sqrt(np.mean(residuals**2)), rel=1e-9)
    leverage = np.einsum("ij,jk,ik->i", jac, cov, jac)
    np.testing.assert_allclose(fit.standardized, residuals / (sd * np.sqrt(1 - leverage)),
                               rtol=1e-5)
    assert 0 < leverage.min() and leverage.max() < 1


def test_two_distances_that_fix_the_ring_alone_have_no_standardized_residual() -> None:
    # each of two distances fixes the fit alone (leverage 1): nothing can show it wrong
    pairs = [[1, 2], [1, 3]]
    obs = _observations(PROX, pairs, _chord_oracle(90.0, 14.0, PROX, pairs))
    fit = fit_ring(obs, 88.0, 15.0)
    assert fit.converged is True
    np.testing.assert_array_equal(fit.standardized, [0.0, 0.0])
    assert fit.standardized.dtype == np.float64 and not fit.standardized.flags.writeable
    assert fit.radius.standard_error_mm > 0  # the caliper's floor through the geometry


@pytest.mark.parametrize(("radius", "spacing"), [(30.0, 100.0), (50.0, 100.0), (50.0, 0.0),
                                                 (50.0, -5.0), (np.nan, 10.0), (50.0, np.inf),
                                                 (-50.0, 10.0)])
def test_start_values_that_are_no_ring_are_refused(radius: float, spacing: float) -> None:
    # before, a spacing of 2 radius or more failed inside numpy's least squares
    obs = _observations(PROX, [[1, 2], [1, 3]], _chord_oracle(90.0, 14.0, PROX, [[1, 2], [1, 3]]))
    with pytest.raises(ValueError, match=r"^the start values must be a ring: 1 <= radius <= "
                                         r"10000 and 0 < spacing < 2 radius, got radius"):
        fit_ring(obs, radius, spacing)
    fit = fit_ring(obs, 50.0, 99.9)  # just inside: it runs, and reaches the ring
    assert fit.converged is True and fit.spacing.value == pytest.approx(14.0, abs=1e-9)


@pytest.mark.parametrize(("radius", "spacing"), [(1.0, 0.5), (10_000.0, 14.0), (90.0, 0.5)])
def test_start_values_at_the_ends_of_the_allowed_ring_are_taken(radius: float,
                                                                spacing: float) -> None:
    pairs = [[1, 2], [1, 3]]
    obs = _observations(PROX, pairs, _chord_oracle(90.0, 14.0, PROX, pairs))
    fit = fit_ring(obs, radius, spacing)  # runs: no refusal of the start
    assert fit.radius.count == 2 and np.isfinite(fit.radius.value)


def test_measurements_given_as_columns_are_read_as_lists() -> None:
    fit = fit_strut_offset([[100.0], [110.0], [120.0]], [[106.0], [116.0], [127.0]])
    assert fit.residuals_mm.shape == (3,) and fit.standardized.shape == (3,)
    obs = _observations(PROX, [[1, 2], [1, 3]], np.array([[15.0], [160.0]]))
    assert obs.distances_mm.shape == (2,)
