"""Inverse and forward kinematics: closed forms, round trips, batch shapes, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.errors import ConvergenceError, InputError, SingularFrameError
from hexapod.geometry import FrameGeometry, neutral_strut_length

from .conftest import random_poses, spec_frame


def ik(frame: FrameGeometry, pose: np.ndarray) -> np.ndarray:
    return kin.strut_lengths(frame.reference_joints, frame.moving_joints, pose)


def test_neutral_closed_form(frame: FrameGeometry) -> None:
    np.testing.assert_allclose(ik(frame, frame.neutral_pose(150.0)), 158.680, atol=5e-4)
    assert neutral_strut_length(100, 100, np.radians(30), 150) == pytest.approx(158.680, abs=5e-4)
    assert frame.neutral_height(float(ik(frame, frame.neutral_pose(150.0))[0])) == \
        pytest.approx(150.0, abs=1e-12)


@pytest.mark.parametrize("height, expected", [(160.0, 168.165), (140.0, 149.263)])
def test_distraction_closed_form(frame: FrameGeometry, height: float, expected: float) -> None:
    np.testing.assert_allclose(ik(frame, frame.neutral_pose(height)), expected, atol=5e-4)


def test_axial_rotation_alternates(frame: FrameGeometry) -> None:
    pose = tf.from_rotation_translation(tf.rotation_z(np.radians(5.0)), [0, 0, -150.0])
    lengths = ik(frame, pose)
    np.testing.assert_allclose(lengths[0::2], 156.121, atol=5e-4)
    np.testing.assert_allclose(lengths[1::2], 161.607, atol=5e-4)


def test_unequal_radii() -> None:
    frame = spec_frame(rp=100.0, rd=110.0)
    np.testing.assert_allclose(ik(frame, frame.neutral_pose(150.0)), 159.836, atol=5e-4)


def test_distal_reference_mirrors_sides() -> None:
    prox_ref = spec_frame()
    dist_ref = spec_frame(reference="distal")
    # the same physical frame: distal ring 150 mm below the proximal one
    a = ik(prox_ref, prox_ref.neutral_pose(150.0))
    b = ik(dist_ref, dist_ref.neutral_pose(150.0))
    np.testing.assert_allclose(a, b, atol=1e-12)
    assert dist_ref.neutral_pose(150.0)[2, 3] == 150.0


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2)])
def test_batch_equals_plain_loop(frame: FrameGeometry, rng: np.random.Generator,
                                 shape: tuple[int, ...]) -> None:
    poses = random_poses(rng, shape)
    lengths = ik(frame, poses)
    assert lengths.shape == (*shape, 6)
    flat = poses.reshape(-1, 4, 4)
    oracle = np.array([[np.linalg.norm(p[:3, :3] @ m + p[:3, 3] - b)
                        for b, m in zip(frame.reference_joints, frame.moving_joints, strict=True)]
                       for p in flat])
    np.testing.assert_allclose(lengths.reshape(-1, 6), oracle, atol=1e-12)
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths)
    assert solved.shape == (*shape, 4, 4)
    for pose, length in zip(flat, lengths.reshape(-1, 6), strict=True):
        single = kin.solve_pose(frame.reference_joints, frame.moving_joints, length)
        np.testing.assert_allclose(single, pose, atol=1e-9)


def test_round_trip_thousands(frame: FrameGeometry, rng: np.random.Generator) -> None:
    poses = random_poses(rng, (5000,), angle_deg=8.0, shift_mm=10.0)
    lengths = ik(frame, poses)
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths)
    np.testing.assert_allclose(solved[..., :3, 3], poses[..., :3, 3], atol=1e-9)
    angle = tf.rotation_angle(tf.invert(solved) @ poses)
    assert float(np.max(angle)) < 1e-9
    np.testing.assert_allclose(ik(frame, solved), lengths, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(-0.3, 0.3), min_size=3, max_size=3),
       st.lists(st.floats(-20, 20), min_size=3, max_size=3),
       st.floats(120, 200), st.sampled_from(["proximal", "distal"]))
def test_round_trip_property(rotvec: list[float], shift: list[float], height: float,
                             reference: str) -> None:
    frame = spec_frame(reference=reference)
    pose = frame.neutral_pose(height) @ tf.from_rotation_translation(
        tf.rotation_from_rotvec(np.array(rotvec)), np.array(shift))
    lengths = ik(frame, pose)
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths,
                            moving_side=frame.moving_side)
    np.testing.assert_allclose(solved, pose, atol=1e-9)


def test_near_identity_perturbations(frame: FrameGeometry, rng: np.random.Generator) -> None:
    base = frame.neutral_pose(150.0)
    tiny = random_poses(rng, (200,), height=0.0, angle_deg=1e-6, shift_mm=1e-6, side=0.0)
    poses = base @ tiny
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, ik(frame, poses))
    np.testing.assert_allclose(solved, poses, atol=1e-9)


def test_guess_selects_mirror_assembly(frame: FrameGeometry) -> None:
    lengths = ik(frame, frame.neutral_pose(150.0))
    below = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths)
    above = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths,
                           guess=tf.from_translation([0, 0, 140.0]))
    assert below[2, 3] == pytest.approx(-150.0)
    assert above[2, 3] == pytest.approx(150.0)


def test_jacobian_matches_finite_differences(frame: FrameGeometry,
                                             rng: np.random.Generator) -> None:
    pose = random_poses(rng, ())
    jac = kin.jacobian(frame.reference_joints, frame.moving_joints, pose)
    eps = 1e-6
    for k in range(6):
        twist = np.zeros(6)
        twist[k] = eps
        moved = pose.copy()
        moved[:3, :3] = tf.rotation_from_rotvec(twist[3:]) @ pose[:3, :3]
        moved[:3, 3] += twist[:3]
        numeric = (ik(frame, moved) - ik(frame, pose)) / eps
        np.testing.assert_allclose(jac[:, k], numeric, atol=1e-4)


def test_condition_number_neutral_is_moderate(frame: FrameGeometry) -> None:
    cond = kin.condition_number(frame.reference_joints, frame.moving_joints,
                                frame.neutral_pose(150.0))
    assert 1.0 < float(cond) < 10.0


def test_singular_configuration_detected(frame: FrameGeometry) -> None:
    # rings coplanar: every strut horizontal, no stiffness along z
    pose = frame.neutral_pose(0.0)
    cond = kin.condition_number(frame.reference_joints, frame.moving_joints, pose)
    assert float(cond) > 1e8
    lengths = ik(frame, frame.neutral_pose(1e-4))
    with pytest.raises((SingularFrameError, ConvergenceError)):
        kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths,
                       guess=frame.neutral_pose(1e-4))


@pytest.mark.parametrize("lengths, error, match", [
    (np.full(5, 150.0), InputError, "shape"),
    (np.array([150, 150, np.nan, 150, 150, 150.0]), InputError, "NaN"),
    (np.array([150, 150, -1, 150, 150, 150.0]), InputError, "> 0"),
    (np.array([20, 400, 20, 400, 20, 400.0]), ConvergenceError, "did not converge"),
])
def test_bad_lengths(frame: FrameGeometry, lengths: np.ndarray, error: type,
                     match: str) -> None:
    with pytest.raises(error, match=match):
        kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths)


def test_bad_joints_and_poses(frame: FrameGeometry) -> None:
    with pytest.raises(InputError, match=r"\(6, 3\)"):
        kin.strut_lengths(np.zeros((5, 3)), frame.moving_joints, np.eye(4))
    with pytest.raises(InputError, match="orthonormal"):
        kin.strut_lengths(frame.reference_joints, frame.moving_joints, np.diag([2, 1, 1, 1.0]))
    with pytest.raises(InputError, match="shape"):
        kin.strut_lengths(frame.reference_joints, frame.moving_joints, np.eye(3), check=False)
