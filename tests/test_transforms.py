"""Algebraic laws of the pose helpers, over random and near-identity inputs and batch shapes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import RigidTransform, Rotation

from hexapod import transforms as tf
from hexapod.errors import InputError

SHAPES = [(), (1,), (3, 1, 2)]


def _random(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    rv = rng.normal(size=(*shape, 3)) * scale
    t = rng.normal(size=(*shape, 3)) * 50 * scale
    return tf.from_rotation_translation(tf.rotation_from_rotvec(rv), t)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 1e-7])
def test_exp_log_round_trip(shape: tuple[int, ...], scale: float) -> None:
    rng = np.random.default_rng(1)
    pose = _random(rng, shape, scale)
    rho, phi = tf.log(pose)
    assert rho.shape == (*shape, 3)
    np.testing.assert_allclose(tf.exp(rho, phi), pose, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_inverse_composes_to_identity(shape: tuple[int, ...]) -> None:
    pose = _random(np.random.default_rng(2), shape)
    np.testing.assert_allclose(pose @ tf.invert(pose), np.broadcast_to(np.eye(4), pose.shape),
                               atol=1e-12)


def test_power_endpoints_and_additivity() -> None:
    pose = _random(np.random.default_rng(3), (5,))
    np.testing.assert_allclose(tf.power(pose, 0.0), np.broadcast_to(np.eye(4), pose.shape),
                               atol=1e-12)
    np.testing.assert_allclose(tf.power(pose, 1.0), pose, atol=1e-10)
    # one-parameter subgroup: T^a T^b = T^(a+b)
    np.testing.assert_allclose(tf.power(pose, 0.3) @ tf.power(pose, 0.45), tf.power(pose, 0.75),
                               atol=1e-10)


def test_power_matches_scipy_rigid_transform() -> None:
    rng = np.random.default_rng(4)
    pose = _random(rng, (20,), scale=0.5)  # angles well below pi, where the log is unique
    for s in (0.1, 0.5, 0.9):
        expected = (RigidTransform.from_matrix(pose) ** s).as_matrix()
        # scipy's power is accurate to ~1e-7 here (its 10th power misses T by 5e-7) ...
        np.testing.assert_allclose(tf.power(pose, s), expected, atol=2e-6)
    # ... ours to rounding: (T ** 0.1) ** 10 == T
    tenth = tf.power(pose, 0.1)
    np.testing.assert_allclose(np.linalg.matrix_power(tenth, 10), pose, atol=1e-11)


def test_point_path_length_is_helix_length() -> None:
    # rotation of 30 deg about an axis through q along z, plus 4 mm along the axis
    q = np.array([10.0, -5.0, 0.0])
    theta = np.radians(30)
    rot = tf.from_rotation_translation(tf.rotation_z(theta))
    pose = tf.from_translation(q + [0, 0, 4.0]) @ rot @ tf.from_translation(-q)
    point = np.array([30.0, -5.0, 7.0])  # 20 mm from the axis
    expected = np.hypot(20.0 * theta, 4.0)
    assert tf.point_path_length(pose, point) == pytest.approx(expected, rel=1e-12)
    # and numerically: sum of small chords along the path
    s = np.linspace(0, 1, 20001)
    pts = tf.apply(tf.power(pose, s), point)
    chord = np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1))
    assert chord == pytest.approx(expected, rel=1e-7)


def test_rotation_angle_small_and_large() -> None:
    for angle in (1e-9, 1e-4, 0.5, 3.0, np.pi):
        rot = tf.rotation_about_axis([1.0, 2.0, 3.0], angle)
        assert tf.rotation_angle(rot) == pytest.approx(angle, rel=1e-9, abs=1e-15)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, 3, elements=st.floats(-3.1, 3.1)),
       arrays(np.float64, 3, elements=st.floats(-200, 200)))
def test_rotvec_round_trip_property(rotvec: np.ndarray, trans: np.ndarray) -> None:
    if np.linalg.norm(rotvec) > 3.1:
        rotvec = rotvec / np.linalg.norm(rotvec) * 3.1
    rot = tf.rotation_from_rotvec(rotvec)
    np.testing.assert_allclose(rot, Rotation.from_rotvec(rotvec).as_matrix(), atol=1e-12)
    pose = tf.from_rotation_translation(rot, trans)
    tf.check_transform(pose)
    np.testing.assert_allclose(tf.exp(*tf.log(pose)), pose, atol=1e-9)


@pytest.mark.parametrize("bad, match", [
    (np.eye(3), "shape"),
    (np.full((4, 4), np.nan), "NaN"),
    (np.diag([1.0, 1.0, -1.0, 1.0]), "reflection"),
    (np.diag([2.0, 1.0, 1.0, 1.0]), "orthonormal"),
    (np.vstack([np.eye(4)[:3], [1, 0, 0, 1]]), "bottom row"),
])
def test_check_transform_rejects(bad: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        tf.check_transform(bad)


def test_swing_rotation_is_smallest_and_batched() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(4, 3))
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b = rng.normal(size=(4, 3))
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    rot = tf.swing_rotation(a, b)
    np.testing.assert_allclose((rot @ a[..., None])[..., 0], b, atol=1e-12)
    # smallest: its angle is the angle between the directions
    np.testing.assert_allclose(tf.rotation_angle(rot), np.arccos(np.sum(a * b, axis=-1)),
                               atol=1e-12)
    np.testing.assert_allclose(tf.swing_rotation(a[0], a[0]), np.eye(3), atol=1e-15)
    with pytest.raises(InputError, match="opposite"):
        tf.swing_rotation(a[0], -a[0])


@pytest.mark.parametrize("angle", [0.0, 1e-9, 9.99e-5, 1.0001e-4, 1.06e-4, 3e-3, 9.99e-3,
                                   1.001e-2, 0.3, 3.1])
def test_log_exp_round_trip_across_the_series_switches(angle: float) -> None:
    # the case hypothesis found: 1.06e-4 rad, where (1 - a / 2b) / x**2 used to cancel
    axis = np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0)
    pose = tf.from_rotation_translation(tf.rotation_from_rotvec(axis * angle), [0.0, 2.0, 2.0])
    np.testing.assert_allclose(tf.exp(*tf.log(pose)), pose, atol=1e-12)
    rho, phi = tf.log(pose)
    np.testing.assert_allclose(phi, axis * angle, atol=1e-15)
    # known value: a pure rotation's translation (0, 2, 2) is rho = V^-1 t; check V rho = t
    # against a 2000-step numerical integral of the screw path
    s = np.linspace(0.0, 1.0, 2001)
    mid = (s[1:] + s[:-1]) / 2
    rots = tf.rotation_from_rotvec(phi * mid[:, None])
    np.testing.assert_allclose(np.mean(rots @ rho, axis=0), [0.0, 2.0, 2.0], atol=1e-6)


def _twists(rng: np.random.Generator, shape: tuple[int, ...], angle: np.ndarray | float
            ) -> tuple[np.ndarray, np.ndarray]:
    axis = rng.normal(size=(*shape, 3))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    return rng.normal(size=(*shape, 3)) * 40.0, axis * np.asarray(angle)[..., None]


@pytest.mark.parametrize("angle", ["random", 1e-12, 1e-7, 1e-4, 2.5, np.pi - 1e-3,
                                   np.pi - 1e-7])
@pytest.mark.parametrize("shape", SHAPES)
def test_log_of_exp_is_identity(shape: tuple[int, ...], angle: str | float) -> None:
    rng = np.random.default_rng(11)
    size = rng.uniform(0.0, np.pi - 1e-3, size=shape) if angle == "random" else angle
    rho, phi = _twists(rng, shape, size)
    back_rho, back_phi = tf.log(tf.exp(rho, phi))
    assert back_phi.shape == (*shape, 3) and back_rho.shape == (*shape, 3)
    np.testing.assert_allclose(back_phi, phi, atol=1e-12)
    # near pi the translation part is amplified by the angle's conditioning
    atol = 1e-9 if angle != np.pi - 1e-7 else 1e-4
    np.testing.assert_allclose(back_rho, rho, atol=atol)


def test_rotvec_at_pi_is_a_valid_log() -> None:
    rng = np.random.default_rng(12)
    axis = rng.normal(size=(50, 3))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    rot = tf.rotation_from_rotvec(axis * np.pi)
    back = tf.rotvec_from_rotation(rot)
    np.testing.assert_allclose(np.linalg.norm(back, axis=-1), np.pi, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(back * axis, axis=-1)), np.pi, atol=1e-12)
    np.testing.assert_allclose(tf.rotation_from_rotvec(back), rot, atol=1e-12)


def test_rotvec_matches_scipy_at_every_angle() -> None:
    rng = np.random.default_rng(13)
    axis = rng.normal(size=(2000, 3))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    rv = axis * rng.uniform(0.0, np.pi - 1e-6, size=(2000, 1))
    rot = Rotation.from_rotvec(rv).as_matrix()
    np.testing.assert_allclose(tf.rotvec_from_rotation(rot), rv, atol=1e-12)


def test_rotvec_rejects_wrong_shape() -> None:
    with pytest.raises(InputError, match="shape"):
        tf.rotvec_from_rotation(np.eye(4)[:3])


@pytest.mark.parametrize("shape", SHAPES)
def test_invert_twice_is_identity(shape: tuple[int, ...]) -> None:
    pose = _random(np.random.default_rng(14), shape)
    np.testing.assert_allclose(tf.invert(tf.invert(pose)), pose, atol=1e-12)
    assert tf.invert(pose).shape == pose.shape


@pytest.mark.parametrize("shape", SHAPES)
def test_apply_after_compose(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(15)
    a, b = _random(rng, shape), _random(rng, shape)
    points = rng.normal(size=(*shape, 3)) * 100
    np.testing.assert_allclose(tf.apply(a @ b, points), tf.apply(a, tf.apply(b, points)),
                               atol=1e-10)
    homogeneous = np.concatenate([points, np.ones((*shape, 1))], axis=-1)
    np.testing.assert_allclose(tf.apply(a, points), (a @ homogeneous[..., None])[..., :3, 0],
                               atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_power_and_path_length_batch_shapes(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(16)
    pose = _random(rng, shape, 0.5)
    fraction = rng.uniform(0, 1, size=shape)
    points = rng.normal(size=(*shape, 3)) * 50
    powered = tf.power(pose, fraction)
    lengths = tf.point_path_length(pose, points)
    assert powered.shape == (*shape, 4, 4) and lengths.shape == shape
    flat_pose, flat_s, flat_p = pose.reshape(-1, 4, 4), fraction.reshape(-1), points.reshape(-1, 3)
    for i in range(flat_s.size):  # the plain loop is the oracle
        np.testing.assert_allclose(powered.reshape(-1, 4, 4)[i],
                                   tf.power(flat_pose[i], flat_s[i]), atol=1e-13)
        assert lengths.reshape(-1)[i] == tf.point_path_length(flat_pose[i], flat_p[i])
    # one fraction for the whole batch broadcasts
    assert tf.power(pose, 0.5).shape == (*shape, 4, 4)


def test_transforms_import_without_scipy() -> None:
    code = "import hexapod.transforms, sys; print('scipy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr


def test_quick_rigid_test_never_accepts_what_the_full_test_rejects() -> None:
    rng = np.random.default_rng(17)
    base = _random(rng, (4000,))
    noisy = base.copy()
    noisy[:, :3, :3] += rng.normal(size=(4000, 3, 3)) * 10.0 ** rng.uniform(-9, -5, (4000, 1, 1))
    for pose in noisy[:400]:
        rows = pose.reshape(16, 1).copy()
        if tf.rigid_rows_ok(rows):
            tf.check_transform(pose)  # must not raise
    with pytest.raises(InputError, match="orthonormal"):
        tf.check_transform(noisy)
