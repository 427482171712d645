"""Sensitivity to measurement error: zero in, zero out; Monte Carlo agrees with the
linearisation; parameters that cannot matter do not; reproducible with a seed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hexapod import transforms as tf
from hexapod.anatomy import distal_in_proximal, reference_ring_in_anatomy
from hexapod.clinical import build_plan_input
from hexapod.errors import InputError
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.sensitivity import (
    Uncertainty,
    analyse,
    fragment_and_mounting,
    nominal_parameters,
    one_at_a_time,
)
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
CAT = load_catalogue()


def _pi(name: str):  # type: ignore[no-untyped-def]
    return build_plan_input(read_case(ROOT / "sample_cases" / f"{name}.toml"), CAT)


ZERO = Uncertainty(0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("name", ["right_tibia_chronic", "distal_tibia_distal_reference",
                                  "total_residual"])
def test_batched_builder_matches_clinical_model(name: str) -> None:
    pi = _pi(name)
    fragment, mount = fragment_and_mounting(nominal_parameters(pi), pi.case.patient.side,
                                            pi.reference)
    np.testing.assert_allclose(fragment, pi.waypoints_in_anatomy[0], atol=1e-12)
    np.testing.assert_allclose(mount, reference_ring_in_anatomy(pi.case.mounting,
                                                                pi.case.patient.side),
                               atol=1e-12)
    d = distal_in_proximal(pi.case.deformity, pi.case.patient.side)
    expected = d if pi.reference == "proximal" else tf.invert(d)
    np.testing.assert_allclose(fragment, expected, atol=1e-12)


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
