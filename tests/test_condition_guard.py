"""The condition guard of solve_pose (an upper bound instead of the inverse where it proves a
pose well conditioned): its decisions against a condition number computed from the singular
values, the bound's least ratio to the number, and the limits and guesses it refuses."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hexapod import _fk_kernel as fk
from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.errors import InputError, SingularFrameError
from hexapod.geometry import FrameGeometry, mean_joint_radius

from .conftest import random_poses


def _svd_condition(frame: FrameGeometry, poses: np.ndarray) -> np.ndarray:
    jac = kin.jacobian(frame.reference_joints, frame.moving_joints, poses).copy()
    jac[..., 3:6] /= mean_joint_radius(frame.reference_joints, frame.moving_joints)
    s = np.linalg.svd(jac, compute_uv=False)
    return np.asarray(np.sqrt(np.sum(s**2, -1)) * np.sqrt(np.sum(s**-2.0, -1)))


def _near_twist(rng: np.random.Generator, spreads: tuple[float, ...], n: int) -> np.ndarray:
    out = []
    for spread in spreads:  # the spec frame is singular at a twist of 90 degrees
        rotvec = rng.normal(size=(n, 3)) * np.radians(spread)
        rotvec[:, 2] = np.radians(90.0 + rng.uniform(-spread, spread, n))
        trans = rng.normal(size=(n, 3)) * 2.5 * spread + np.array([0.0, 0.0, -150.0])
        out.append(tf.from_rotation_translation(tf.rotation_from_rotvec(rotvec), trans))
    return np.concatenate(out)


@pytest.mark.parametrize("n", [3, 9, 40])
@pytest.mark.parametrize("limit", [1.0, 6.0, 700.0, 1e4, 1e6, 1e9, 1e300, np.inf])
def test_the_guard_refuses_as_the_singular_values_do(frame: FrameGeometry, n: int,
                                                     limit: float) -> None:
    rng = np.random.default_rng(n)
    poses = np.concatenate([random_poses(rng, (n,), angle_deg=10.0),
                            _near_twist(rng, (1.0, 1e-2, 1e-4), n)])
    rng.shuffle(poses)
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    svd = _svd_condition(frame, poses)
    refused = ~(svd <= limit)
    if np.isfinite(limit):  # no pose within rounding of the limit
        assert np.abs(np.log(svd / limit)).min() > 0.01
    for m in (1, 2, len(poses)):  # the per-pose path and the batched one
        expect = refused[:m]
        if expect.any():
            number = f"{svd[np.argmax(expect)]:.3g}"
            with pytest.raises(SingularFrameError, match=re.escape(
                    f"{expect.sum()} pose(s) near a singular configuration (Jacobian "
                    f"condition number {number} > ")):
                kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths[:m],
                               poses[:m], max_condition=limit)
        else:
            kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths[:m],
                           poses[:m], max_condition=limit)


def test_the_bound_is_an_upper_bound_and_at_least_88_times_the_number(
        frame: FrameGeometry) -> None:
    # sqrt(6) |J|^6 / |det J| >= sqrt(6) 6^3 / 6 |J| |J^-1| at equal singular values: never
    # within rounding of the exact number, so no decision can flip on the bound's rounding
    rng = np.random.default_rng(4)
    poses = np.concatenate([random_poses(rng, (300,), angle_deg=20.0),
                            _near_twist(rng, (3.0, 0.3), 100)])
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    scale = mean_joint_radius(frame.reference_joints, frame.moving_joints)
    args = (frame.reference_joints, frame.moving_joints, lengths, poses, 1e-10, 60, -1.0, scale)
    bound = fk._forward(*args, condition_limit=np.inf)[1]
    assert bound is not None
    ratio = bound / _svd_condition(frame, poses)
    assert ratio.min() >= np.sqrt(6) * 36 * (1 - 1e-9)


@pytest.mark.parametrize("limit", [np.nan, -1.0, 0.0, "1e6"])
def test_a_limit_that_is_no_positive_number_is_refused(frame: FrameGeometry,
                                                       limit: float) -> None:
    poses = random_poses(np.random.default_rng(0), (3,))
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    with pytest.raises(InputError, match=r"^max_condition must be a number > 0 or None"):
        kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, poses,
                       max_condition=limit)  # type: ignore[arg-type]


def test_a_guess_batch_not_matching_the_lengths_is_an_input_error(
        frame: FrameGeometry) -> None:
    poses = random_poses(np.random.default_rng(0), (3,))
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    for guess in (poses[:2], poses[:0]):
        with pytest.raises(InputError, match=r"^guess of shape \(\d, 4, 4\) does not match"):
            kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, guess)


def test_the_guard_inverts_only_the_poses_its_bound_cannot_clear(
        frame: FrameGeometry, monkeypatch: pytest.MonkeyPatch) -> None:
    # well-conditioned poses are cleared by the bound (no inverse); near-singular ones are not
    inverted: list[int] = []
    real = fk._solve_batch

    def spy(aug: np.ndarray, work: object = None, identity: bool = False) -> object:
        if identity:
            inverted.append(aug.shape[-1])
        return real(aug, work, identity)  # type: ignore[arg-type]

    monkeypatch.setattr(fk, "_solve_batch", spy)
    rng = np.random.default_rng(8)
    poses = np.concatenate([random_poses(rng, (20,), angle_deg=8.0),
                            _near_twist(rng, (1e-4,), 3)])
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths[:20], poses[:20])
    assert inverted == []
    with pytest.raises(SingularFrameError):
        kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, poses)
    assert inverted == [3]


@pytest.mark.parametrize("limit", [np.float32(1e6), np.int64(10**6), 10**6])
def test_a_limit_of_any_real_number_type_is_taken(frame: FrameGeometry, limit: object) -> None:
    poses = random_poses(np.random.default_rng(0), (3,))
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, poses,
                            max_condition=limit)  # type: ignore[arg-type]
    np.testing.assert_allclose(solved, poses, atol=1e-9)


def test_the_bound_is_sqrt6_frobenius_norm_to_the_sixth_over_the_determinant(
        frame: FrameGeometry) -> None:
    # the documented number, from numpy's determinant: a looser bound (a larger constant or
    # power) would send every pose to the inverse, and a tighter one could clear a pose
    # whose exact number is above the limit
    rng = np.random.default_rng(11)
    poses = random_poses(rng, (25,), angle_deg=15.0)
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    scale = mean_joint_radius(frame.reference_joints, frame.moving_joints)
    jac = kin.jacobian(frame.reference_joints, frame.moving_joints, poses).copy()
    jac[..., 3:6] /= scale
    expected = np.sqrt(6.0) * np.sum(jac**2, axis=(-2, -1))**3 / np.abs(np.linalg.det(jac))
    args = (frame.reference_joints, frame.moving_joints, lengths, poses, 1e-10, 60, -1.0, scale)
    bound = fk._forward(*args, condition_limit=1e300)[1]
    assert bound is not None
    np.testing.assert_allclose(bound, expected, rtol=1e-7)
    assert np.all(expected < 1e300)  # every pose took the bound, none the inverse
