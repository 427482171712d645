"""Sensitivity to measurement error: zero in, zero out; Monte Carlo agrees with the
linearisation; parameters that cannot matter do not; reproducible with a seed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hexapod import kinematics as kin
from hexapod.clinical import build_plan_input
from hexapod.errors import InputError
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.sensitivity import (
    Uncertainty,
    analyse,
    fragment_and_mounting,
    one_at_a_time,
)
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
CAT = load_catalogue()


def _pi(name: str):  # type: ignore[no-untyped-def]
    return build_plan_input(read_case(ROOT / "sample_cases" / f"{name}.toml"), CAT)


ZERO = Uncertainty(0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("side, medial", [("right", -1.0), ("left", 1.0)])
def test_fragment_and_mounting_known_values(side: str, medial: float) -> None:
    # contract: +x right, +y anterior, +z proximal; + means varus, apex posterior, internal,
    # medial, anterior, short, and for the mounting medial, anterior, proximal, medial
    a10, a5 = np.radians(10.0), np.radians(5.0)
    params = np.array([[10.0, 0, 0, 0, 0, 0, 0, 0, 0, 0],   # varus: distal end medial
                       [0, 5.0, 0, 0, 0, 0, 0, 0, 0, 0],    # apex posterior: distal end anterior
                       [0, 0, 15.0, 5.0, 3.0, 10.0, 0, 0, 0, 0],
                       [0, 0, 0, 0, 0, 0, 4.0, 10.0, 90.0, 5.0]])
    fragment, mount = fragment_and_mounting(params, side, "proximal")
    down = fragment[:, :3, :3] @ np.array([0.0, 0.0, -1.0])
    np.testing.assert_allclose(down[0], [medial * np.sin(a10), 0.0, -np.cos(a10)], atol=1e-15)
    np.testing.assert_allclose(down[1], [0.0, np.sin(a5), -np.cos(a5)], atol=1e-15)
    # internal rotation turns anterior (+y) toward medial; translations by their words
    c, s = np.cos(np.radians(15.0)), np.sin(np.radians(15.0))
    np.testing.assert_allclose(fragment[2, :3, :3] @ [0.0, 1.0, 0.0], [medial * s, c, 0.0],
                               atol=1e-15)
    np.testing.assert_allclose(fragment[2, :3, 3], [medial * 5.0, 3.0, 10.0], atol=1e-15)
    np.testing.assert_allclose(fragment[3], np.eye(4), atol=1e-15)
    np.testing.assert_allclose(mount[:3, :3, 3], 0.0, atol=1e-15)
    c5, s5 = np.cos(np.radians(5.0)), np.sin(np.radians(5.0))
    np.testing.assert_allclose(mount[3, :3, 3], [medial * 4.0, 10.0, 90.0], atol=1e-15)
    np.testing.assert_allclose(mount[3, :3, :3] @ [0.0, 1.0, 0.0], [medial * s5, c5, 0.0],
                               atol=1e-15)
    # a distal reference sees the proximal fragment move: the inverse pose
    inverse, _ = fragment_and_mounting(params, side, "distal")
    np.testing.assert_allclose(inverse @ fragment, np.broadcast_to(np.eye(4), (4, 4, 4)),
                               atol=1e-12)


def test_zero_uncertainty_zero_residual() -> None:
    result = analyse(_pi("right_tibia_chronic"), ZERO, samples=200)
    for pair in (result.origin_mc, result.far_end_mc, result.angle_mc, result.origin_lin):
        assert pair[1] < 1e-9


def test_monte_carlo_agrees_with_linearisation_for_small_errors() -> None:
    small = Uncertainty(0.2, 0.2, 0.5, 0.2, 0.2, 0.1)
    result = analyse(_pi("right_tibia_chronic"), small, samples=40000, seed=3)
    for mc, lin in ((result.origin_mc, result.origin_lin), (result.far_end_mc,
                                                            result.far_end_lin),
                    (result.angle_mc, result.angle_lin)):
        assert mc[0] == pytest.approx(lin[0], rel=0.03)
        assert mc[1] == pytest.approx(lin[1], rel=0.05)


def test_reproducible_with_seed() -> None:
    pi = _pi("right_tibia_chronic")
    a = analyse(pi, Uncertainty(), samples=500, seed=7)
    b = analyse(pi, Uncertainty(), samples=500, seed=7)
    c = analyse(pi, Uncertainty(), samples=500, seed=8)
    np.testing.assert_array_equal(a.residual_far_samples, b.residual_far_samples)
    assert not np.array_equal(a.residual_far_samples, c.residual_far_samples)


def test_rotary_and_offsets_cannot_affect_pure_lengthening() -> None:
    pi = _pi("pure_lengthening")
    rows = {name: (o, f, a) for name, _, o, f, a in one_at_a_time(pi)}
    for name in ("rotary frame offset", "AP-view frame offset", "lateral-view frame offset",
                 "axial frame offset"):
        assert rows[name] == pytest.approx((0, 0, 0), abs=1e-9), name
    only_rotary = Uncertainty(0, 0, 0, 0, 5.0, 0)
    only_rotary = dataclasses.replace(only_rotary, mounting_mm=0.0)
    result = analyse(pi, only_rotary, samples=300)
    assert result.far_end_mc[1] < 1e-9


def test_unit_errors_in_deformity_leave_unit_residuals() -> None:
    rows = {name: (o, f, a) for name, _, o, f, a in one_at_a_time(_pi("right_tibia_chronic"))}
    assert rows["AP-view translation"] == pytest.approx((1.0, 1.0, 0.0), abs=1e-9)
    assert rows["axial rotation"][2] == pytest.approx(1.0, abs=1e-9)
    assert rows["AP-view angulation"][2] == pytest.approx(1.0, abs=0.02)
    assert len(rows) == 13


def test_dominant_parameter_named() -> None:
    only_lat = Uncertainty(0, 0, 0, 0, 0, 0)
    only_lat = dataclasses.replace(only_lat, translation_mm=2.0)
    result = analyse(_pi("right_tibia_chronic"), only_lat, samples=1000)
    assert result.share[0][0].endswith("translation")
    assert sum(s for _, s in result.share) == pytest.approx(1.0)


def test_bad_uncertainty() -> None:
    with pytest.raises(InputError, match="mounting_mm"):
        Uncertainty(mounting_mm=-1)


def test_cli_sensitivity() -> None:
    runner = CliRunner()
    case = str(ROOT / "sample_cases/right_tibia_chronic.toml")
    result = runner.invoke(main, ["sensitivity", case, "--samples", "2000",
                                  "--mounting-sd", "1mm,1deg"])
    assert result.exit_code == 0, result.output
    assert "at the far end" in result.output and "rotary frame offset" in result.output
    bad = runner.invoke(main, ["sensitivity", case, "--mounting-sd", "lots"])
    assert bad.exit_code == 2 and "--mounting-sd" in bad.output


def test_same_figures_whatever_the_chunk_size() -> None:
    pi = _pi("right_tibia_chronic")
    a = analyse(pi, Uncertainty(), samples=9000, seed=5, chunk=9000)
    b = analyse(pi, Uncertainty(), samples=9000, seed=5, chunk=1000)
    c = analyse(pi, Uncertainty(), samples=9000, seed=5, chunk=4097)
    for other in (b, c):
        np.testing.assert_allclose(other.residual_far_samples, a.residual_far_samples,
                                   rtol=1e-12, atol=1e-12)
        for name in ("origin_mc", "far_end_mc", "angle_mc", "origin_lin", "far_end_lin",
                     "angle_lin"):
            np.testing.assert_allclose(getattr(other, name), getattr(a, name), rtol=1e-12)
    assert a.residual_far_samples.shape == (9000,) and not a.residual_far_samples.flags.writeable


def test_failed_samples_are_counted_and_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    pi = _pi("right_tibia_chronic")
    whole = analyse(pi, Uncertainty(), samples=600, seed=2, chunk=250)
    real = kin.solve_pose_status
    calls = []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        converged = np.array(result.converged)
        same = np.array(result.same_branch)
        if not calls:
            converged[3, 1] = False  # sample 3: its target readings have no solution
            same[7, 0] = False  # sample 7: its start readings left the planned branch
        calls.append(1)
        return dataclasses.replace(result, converged=converged, same_branch=same)

    monkeypatch.setattr(kin, "solve_pose_status", failing)
    result = analyse(pi, Uncertainty(), samples=600, seed=2, chunk=250)
    assert result.failed_samples == 2 and whole.failed_samples == 0
    keep = np.ones(600, dtype=bool)
    keep[[3, 7]] = False
    np.testing.assert_array_equal(result.residual_far_samples, whole.residual_far_samples[keep])
    assert result.far_end_mc[0] == pytest.approx(float(np.mean(
        whole.residual_far_samples[keep])), rel=1e-12)
    assert result.far_end_lin == whole.far_end_lin  # the linearised draws are not affected


def test_large_reading_errors_fail_some_samples_without_killing_the_run() -> None:
    pi = _pi("right_tibia_chronic")
    result = analyse(pi, Uncertainty(reading_mm=40.0), samples=400, seed=1)
    assert 0 < result.failed_samples < 400
    assert result.residual_far_samples.shape == (400 - result.failed_samples,)
    assert np.isfinite(result.far_end_mc).all()


def test_first_order_guess_is_one_newton_step_ahead() -> None:
    from hexapod.sensitivity import _first_order_poses

    pi = _pi("right_tibia_chronic")
    geo = pi.geometry
    ends = np.stack([pi.start_pose, pi.target_pose])
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, ends)
    error = np.random.default_rng(4).normal(size=(50, 2, 6)) * 0.5
    guess = _first_order_poses(geo, ends, error)
    miss = kin.strut_lengths(geo.reference_joints, geo.moving_joints, guess) - (lengths + error)
    # a first-order step leaves a second-order residual: (0.5 mm)^2 / (strut length) scale
    assert float(np.max(np.abs(miss))) < 0.02 < float(np.max(np.abs(error)))
    np.testing.assert_allclose(_first_order_poses(geo, ends, 0 * error),
                               np.broadcast_to(ends, (50, 2, 4, 4)), atol=1e-12)


def test_left_out_samples_are_stated_in_the_output() -> None:
    from hexapod.io.outputs import sensitivity_lines

    pi = _pi("right_tibia_chronic")
    noisy = analyse(pi, Uncertainty(reading_mm=40.0), samples=400, seed=1)
    text = "\n".join(sensitivity_lines(noisy))
    assert f"{noisy.failed_samples} of the 400 samples were left out" in text
    clean = analyse(pi, Uncertainty(), samples=400, seed=1)
    assert clean.failed_samples == 0 and "left out" not in "\n".join(sensitivity_lines(clean))
