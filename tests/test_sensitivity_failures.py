"""Sensitivity samples whose noisy reading is not a positive length: with
readings so uncertain that many lengths go below zero, the failed count and the figures do
not depend on the chunk size (a chunk can be left with one sample, or none), and two kept
samples are enough for a figure."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from hexapod import kinematics as kin
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.sensitivity import Uncertainty, _normals, analyse

CASES = Path(__file__).parent.parent / "sample_cases"


@pytest.fixture(scope="module")
def plan_input() -> PlanInput:
    return build_plan_input(read_case(CASES / "right_tibia_chronic.toml"), load_catalogue())


def test_negative_readings_fail_alike_whatever_the_chunk(plan_input: PlanInput) -> None:
    unc = Uncertainty(reading_mm=60.0)
    geo = plan_input.geometry
    ends = np.stack([plan_input.start_pose, plan_input.target_pose])
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, ends)
    noisy = lengths + _normals(4, 0, 300)[:, 10:22].reshape(-1, 2, 6) * 60.0
    negative = int(np.sum(~np.all(noisy > 0, axis=(1, 2))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = analyse(plan_input, unc, samples=300, seed=4)
        for chunk in (1, 2, 7):
            other = analyse(plan_input, unc, samples=300, seed=4, chunk=chunk)
            assert other.failed_samples == whole.failed_samples
            np.testing.assert_allclose(other.residual_far_samples, whole.residual_far_samples,
                                       rtol=1e-9, atol=1e-9)
    assert 20 < negative <= whole.failed_samples < 290


def test_two_kept_samples_make_a_figure(plan_input: PlanInput) -> None:
    result = analyse(plan_input, Uncertainty(reading_mm=60.0), samples=12, seed=0, chunk=5)
    assert result.failed_samples == 10 and result.residual_far_samples.shape == (2,)
    far = result.residual_far_samples
    assert result.far_end_mc == (float(np.mean(far)), float(np.percentile(far, 95)))
