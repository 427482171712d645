"""Behaviours of the pose helpers that the algebraic laws in test_transforms.py leave open.

Each test checks against values worked out by hand or exact at a boundary: the validators'
verdict and message exactly at their tolerance and on each entry of large (chunked) batches,
float32 and integer inputs computed in double precision, batched axes, and the planar screw
whose logarithm is known in closed form.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.errors import InputError

#: A power of two, so that deviations equal to it (or to an eighth of it) are exact.
TOL = 2.0**-20


def _identities(n: int) -> np.ndarray:
    return np.broadcast_to(np.eye(4), (n, 4, 4)).copy()


def _rows(pose: np.ndarray) -> np.ndarray:
    """The ``(16, n)`` layout of :func:`tf.rigid_rows_ok`: row ``4 i + j`` holds entry (i, j)."""
    return np.ascontiguousarray(pose.reshape(-1, 16).T)


# --- check_transform: dtype, default name, empty batch --------------------------------------


def test_check_transform_returns_floats_for_integer_input() -> None:
    single = tf.check_transform(np.eye(4, dtype=np.int64))
    assert single.dtype == np.float64
    batch = tf.check_transform(np.broadcast_to(np.eye(4, dtype=np.int64), (100, 4, 4)))
    assert batch.dtype == np.float64 and batch.shape == (100, 4, 4)


def test_check_transform_names_the_pose_by_default() -> None:
    with pytest.raises(InputError, match=r"^pose must have shape \(\.\.\., 4, 4\), got \(3, 3\)$"):
        tf.check_transform(np.eye(3))


def test_check_transform_accepts_an_empty_batch() -> None:
    empty = tf.check_transform(np.empty((0, 4, 4)))
    assert empty.shape == (0, 4, 4)


# --- check_transform: exactly at the tolerance (the full test, fewer than 64 poses) ---------


def test_bottom_row_exactly_at_the_tolerance_is_accepted() -> None:
    pose = np.eye(4)
    pose[3, 0] = TOL
    tf.check_transform(pose, tolerance=TOL)
    pose[3, 0] = np.nextafter(TOL, 1.0)
    with pytest.raises(InputError, match=r"^pose: bottom row must be \[0, 0, 0, 1\]$"):
        tf.check_transform(pose, tolerance=TOL)


def test_homogeneous_one_exactly_at_the_tolerance_is_accepted() -> None:
    pose = np.eye(4)
    pose[3, 3] = 1.0 + TOL  # |1 + TOL - 1| == TOL exactly
    tf.check_transform(pose, tolerance=TOL)
    pose[3, 3] = 1.0 + 2.0 * TOL
    with pytest.raises(InputError, match="bottom row"):
        tf.check_transform(pose, tolerance=TOL)


def test_gram_error_exactly_at_the_tolerance_is_accepted() -> None:
    # rows (1, 0, 0), (TOL, 1, 0), (0, 0, 1): the worst Gram entry is row0 . row1 = TOL exactly
    # (|row1|^2 - 1 = TOL^2), and the determinant is 1
    pose = np.eye(4)
    pose[1, 0] = TOL
    tf.check_transform(pose, tolerance=TOL)
    pose[1, 0] = 2.0 * TOL
    with pytest.raises(InputError,
                       match=r"^pose: rotation block is not orthonormal \(error 1\.91e-06\)$"):
        tf.check_transform(pose, tolerance=TOL)


# --- rigid_rows_ok: its documented bounds, exactly ------------------------------------------


def test_quick_test_bounds_are_inclusive() -> None:
    pose = np.eye(4)
    pose[3, 0] = TOL  # bottom row within the tolerance itself
    assert tf.rigid_rows_ok(_rows(pose), TOL)
    pose[3, 0] = np.nextafter(TOL, 1.0)
    assert not tf.rigid_rows_ok(_rows(pose), TOL)
    # third rotation row off the cross product of the first two by exactly tolerance / 8
    pose = np.eye(4)
    pose[2, 0] = TOL / 8.0
    assert tf.rigid_rows_ok(_rows(pose), TOL)
    pose[2, 0] = np.nextafter(TOL / 8.0, 1.0)
    assert not tf.rigid_rows_ok(_rows(pose), TOL)


# --- check_transform on large batches (the chunked quick path) ------------------------------

#: Positions in a batch of 2 chunks and a bit: first, inside the first chunk, last of the
#: first chunk, first of the second, and in the last partial chunk.
N_LARGE = 2 * tf.CHECK_CHUNK + 7
BAD_AT = [0, 100, tf.CHECK_CHUNK - 1, tf.CHECK_CHUNK, N_LARGE - 1]


@pytest.mark.parametrize("entry", [(0, 3), (1, 3), (2, 3)])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_large_batch_non_finite_translation_is_refused(entry: tuple[int, int],
                                                       value: float) -> None:
    poses = _identities(N_LARGE)
    for index in BAD_AT:
        bad = poses.copy()
        bad[(index, *entry)] = value
        assert not tf.rigid_rows_ok(_rows(bad[index:index + 1]))
        with pytest.raises(InputError, match=r"^frames contains NaN or infinite values$"):
            tf.check_transform(bad, name="frames")
    tf.check_transform(poses, name="frames")


@pytest.mark.parametrize("column", [0, 1, 2, 3])
def test_large_batch_bottom_row_is_checked_entry_by_entry(column: int) -> None:
    poses = _identities(N_LARGE)
    for index in BAD_AT:
        bad = poses.copy()
        bad[index, 3, column] += 0.5
        assert not tf.rigid_rows_ok(_rows(bad[index:index + 1]))
        with pytest.raises(InputError,
                           match=r"^moving_in_reference: bottom row must be \[0, 0, 0, 1\]$"):
            tf.check_transform(bad, name="moving_in_reference")


def test_large_batch_uses_the_given_tolerance() -> None:
    # rotation rows off by 1e-8: inside the default 1e-6, outside a tolerance of 1e-10
    poses = _identities(100)
    poses[37, 0, :3] *= 1.0 + 1e-8
    tf.check_transform(poses)
    with pytest.raises(InputError, match=r"^ring: rotation block is not orthonormal"):
        tf.check_transform(poses, name="ring", tolerance=1e-10)
    # and a loose tolerance accepts what the default refuses
    poses[37, 0, :3] *= 1.0 + 1e-4
    with pytest.raises(InputError, match="orthonormal"):
        tf.check_transform(poses)
    tf.check_transform(poses, tolerance=1e-3)


def test_large_batch_is_examined_chunk_by_chunk_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    quick = tf.rigid_rows_ok

    def counting(rows: np.ndarray, tolerance: float = 1e-6) -> bool:
        seen.append(rows.shape[1])
        return quick(rows, tolerance)

    monkeypatch.setattr(tf, "rigid_rows_ok", counting)
    tf.check_transform(_identities(N_LARGE))
    assert seen == [tf.CHECK_CHUNK, tf.CHECK_CHUNK, 7]


def test_large_batch_checks_raise_no_floating_point_warnings() -> None:
    # the quick test multiplies the raw entries: inf * 0 and 1e200 ** 2 must stay silent and
    # the verdict must come from the full test
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = _identities(64)
        huge[5, 0, 0] = 1e200
        assert not tf.rigid_rows_ok(_rows(huge))
        with pytest.raises(InputError, match="orthonormal"):
            tf.check_transform(huge)
        infinite = _identities(64)
        infinite[5, 0, 1] = np.inf
        assert not tf.rigid_rows_ok(_rows(infinite))
        with pytest.raises(InputError, match="NaN or infinite"):
            tf.check_transform(infinite)


# --- rotation_about_axis ----------------------------------------------------------------------


def _about_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _about_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _about_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_rotation_about_axis_normalises_each_axis_of_a_batch() -> None:
    axes = np.array([[0.0, 0.0, 2.0], [0.0, 3.0, 0.0], [5.0, 0.0, 0.0]])
    angles = np.array([0.3, -1.2, 2.5])
    expected = np.stack([_about_z(0.3), _about_y(-1.2), _about_x(2.5)])
    np.testing.assert_allclose(tf.rotation_about_axis(axes, angles), expected, atol=1e-15)
    np.testing.assert_allclose(tf.rotation_about_axis(axes[:2], angles[:2]), expected[:2],
                               atol=1e-15)
    np.testing.assert_allclose(tf.rotation_about_axis(axes[:, None, :], angles[:, None]),
                               expected[:, None], atol=1e-15)


@pytest.mark.parametrize("axis", [[0.0, 0.0, 0.0], [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
def test_rotation_about_a_zero_axis_is_refused(axis: list) -> None:
    with pytest.raises(InputError, match=r"^rotation axis must be non-zero$"):
        tf.rotation_about_axis(axis, 0.5)


# --- float32 input is computed in double precision --------------------------------------------

ANGLE32 = np.float32(0.3)
ANGLE = float(ANGLE32)  # the same number in double precision


def test_rotation_z_of_float32_angle_is_double() -> None:
    np.testing.assert_allclose(tf.rotation_z(ANGLE32), _about_z(ANGLE), rtol=0, atol=2e-16)


def test_rotation_from_float32_rotvec_is_double() -> None:
    rotvec = np.array([0.0, 0.0, 0.3], dtype=np.float32)
    np.testing.assert_allclose(tf.rotation_from_rotvec(rotvec), _about_z(ANGLE), rtol=0,
                               atol=2e-16)


def test_rotation_about_float32_axis_is_double() -> None:
    axis = np.array([1.0, 2.0, 3.0], dtype=np.float32)  # exactly (1, 2, 3)
    rot = tf.rotation_about_axis(axis, 1.0)
    exact_axis = np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0)
    np.testing.assert_allclose(rot @ exact_axis, exact_axis, rtol=0, atol=2e-16)
    # and it turns a perpendicular unit vector by 1 rad
    perp = np.array([3.0, 0.0, -1.0]) / np.sqrt(10.0)
    assert float(perp @ rot @ perp) == pytest.approx(np.cos(1.0), abs=4e-16)


def test_exp_of_float32_rotation_vector_is_double() -> None:
    pose = tf.exp([0.0, 0.0, 5.0], np.array([0.0, 0.0, 0.3], dtype=np.float32))
    expected = np.eye(4)
    expected[:3, :3] = _about_z(ANGLE)
    expected[2, 3] = 5.0  # a translation along the rotation axis is unchanged
    np.testing.assert_allclose(pose, expected, rtol=0, atol=2e-16)


def test_rotation_angle_of_float32_matrix_is_double() -> None:
    rot32 = _about_z(0.3).astype(np.float32)
    c, s = float(rot32[0, 0]), float(rot32[1, 0])
    expected = np.arctan2(s, c)  # the angle of the matrix as given, in double precision
    assert tf.rotation_angle(rot32) == pytest.approx(expected, rel=0, abs=2e-16)
    pose32 = np.eye(4, dtype=np.float32)
    pose32[:3, :3] = rot32
    assert tf.rotation_angle(pose32) == pytest.approx(expected, rel=0, abs=2e-16)


# --- swing_rotation near opposite directions ---------------------------------------------------


def test_swing_rotation_at_the_opposite_threshold_is_a_half_turn() -> None:
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([-1.0, 1e-15, 0.0])  # |a x b| is exactly the threshold 1e-15
    assert np.linalg.norm(np.cross(a, b)) == 1e-15
    rot = tf.swing_rotation(a, b)
    np.testing.assert_allclose(rot, _about_z(np.pi - 1e-15), rtol=0, atol=4e-16)
    np.testing.assert_allclose(rot @ a, b, rtol=0, atol=4e-16)
    with pytest.raises(InputError,
                       match=r"^opposite directions have no unique smallest rotation$"):
        tf.swing_rotation(a, np.array([-1.0, 9e-16, 0.0]))


# --- the logarithm -----------------------------------------------------------------------------


def test_log_of_the_identity_is_zero_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rho, phi = tf.log(np.eye(4))
        assert rho.tolist() == [0.0, 0.0, 0.0] and phi.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("angle", [0.0099, 0.0101, 0.05, 0.5])
def test_log_of_a_planar_motion_matches_the_closed_form(angle: float) -> None:
    # rotation by theta about z and a translation t in the xy-plane: t = V rho with
    # V = alpha I + beta J on the plane (J a quarter turn), alpha = sin(theta) / theta and
    # beta = (1 - cos theta) / theta = 2 sin(theta / 2)**2 / theta; so
    # rho = (alpha I - beta J) t / (alpha**2 + beta**2)
    t = np.array([700.0, -400.0])
    alpha = np.sin(angle) / angle
    beta = 2.0 * np.sin(angle / 2.0) ** 2 / angle
    rho_xy = (alpha * t - beta * np.array([-t[1], t[0]])) / (alpha**2 + beta**2)
    pose = np.eye(4)
    pose[:3, :3] = _about_z(angle)
    pose[:2, 3] = t
    rho, phi = tf.log(pose)
    np.testing.assert_allclose(phi, [0.0, 0.0, angle], rtol=0, atol=1e-17)
    np.testing.assert_allclose(rho, [*rho_xy, 0.0], rtol=0, atol=2e-12)


# --- the series below 1e-4 and 1e-2 rad, against the closed forms --------------------------

#: Inside the 1e-4 series of sin x / x and (1 - cos x) / x**2, inside the 1e-2 series of
#: (x - sin x) / x**3 only, and just above both.
SERIES_ANGLES = [9e-5, 9.9e-3, 1.01e-2, 0.5]


@pytest.mark.parametrize("angle", SERIES_ANGLES)
def test_rotation_from_rotvec_near_zero_matches_sine_and_cosine(angle: float) -> None:
    rot = tf.rotation_from_rotvec([0.0, 0.0, angle])
    assert rot[1, 0] == pytest.approx(np.sin(angle), rel=4e-16, abs=0)
    assert rot[0, 1] == pytest.approx(-np.sin(angle), rel=4e-16, abs=0)
    assert rot[0, 0] == pytest.approx(np.cos(angle), rel=0, abs=2.3e-16)


@pytest.mark.parametrize("angle", SERIES_ANGLES)
def test_exp_of_a_planar_twist_matches_the_closed_form(angle: float) -> None:
    # rho = (0, 1, 0), phi = (0, 0, theta): the translation is V rho = (-beta, alpha, 0) with
    # alpha = sin(theta) / theta and beta = (1 - cos theta) / theta = 2 sin(theta / 2)**2 / theta
    alpha = np.sin(angle) / angle
    beta = 2.0 * np.sin(angle / 2.0) ** 2 / angle
    pose = tf.exp([0.0, 1.0, 0.0], [0.0, 0.0, angle])
    assert pose[0, 3] == pytest.approx(-beta, rel=1e-15, abs=0)
    assert pose[1, 3] == pytest.approx(alpha, rel=2.3e-16, abs=0)
    assert pose[2, 3] == 0.0


@pytest.mark.parametrize("angle", SERIES_ANGLES)
def test_rotvec_near_zero_is_the_angle(angle: float) -> None:
    rotvec = tf.rotvec_from_rotation(_about_z(angle))
    assert rotvec[2] == pytest.approx(angle, rel=4e-16, abs=0)
    assert rotvec[0] == 0.0 and rotvec[1] == 0.0


def test_zero_rotation_vector_raises_no_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(tf.rotation_from_rotvec([0.0, 0.0, 0.0]), np.eye(3))
        np.testing.assert_array_equal(tf.exp([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]),
                                      tf.from_translation([1.0, 2.0, 3.0]))
        np.testing.assert_array_equal(tf.rotvec_from_rotation(np.eye(3)), [0.0, 0.0, 0.0])


def test_rotvec_of_float32_matrix_is_double() -> None:
    rot32 = _about_z(0.3).astype(np.float32)
    expected = np.arctan2(float(rot32[1, 0]), float(rot32[0, 0]))
    rotvec = tf.rotvec_from_rotation(rot32)
    assert rotvec.dtype == np.float64
    assert rotvec[2] == pytest.approx(expected, rel=0, abs=2e-16)


def test_invert_of_float32_pose_is_double() -> None:
    pose32 = np.eye(4, dtype=np.float32)
    pose32[:3, :3] = _about_z(0.3)
    pose32[:3, 3] = [120.1, -35.7, 8.3]
    c, s = float(pose32[0, 0]), float(pose32[1, 0])
    tx, ty, tz = (float(v) for v in pose32[:3, 3])
    expected = np.array([[c, s, 0.0, -(c * tx + s * ty)],
                         [-s, c, 0.0, s * tx - c * ty],
                         [0.0, 0.0, 1.0, -tz],
                         [0.0, 0.0, 0.0, 1.0]])
    np.testing.assert_allclose(tf.invert(pose32), expected, rtol=0, atol=3e-14)


def test_from_rotation_translation_broadcasts_a_batch_of_rotations() -> None:
    angles = np.array([0.1, 0.2, 0.3])
    rots = tf.rotation_z(angles)
    poses = tf.from_rotation_translation(rots, [1.0, 2.0, 3.0])
    assert poses.shape == (3, 4, 4)
    for k, angle in enumerate(angles):
        expected = np.eye(4)
        expected[:3, :3] = _about_z(angle)
        expected[:3, 3] = [1.0, 2.0, 3.0]
        np.testing.assert_array_equal(poses[k], expected)
    rotations_only = tf.from_rotation_translation(rots)
    assert rotations_only.shape == (3, 4, 4)
    np.testing.assert_array_equal(rotations_only[:, :3, 3], np.zeros((3, 3)))


# --- check_points ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (1, 3), (4, 2, 3)])
def test_check_points_accepts_any_batch_of_points_as_floats(shape: tuple[int, ...]) -> None:
    points = np.arange(int(np.prod(shape))).reshape(shape)  # integers
    checked = tf.check_points(points)
    assert checked.dtype == np.float64 and checked.shape == shape
    np.testing.assert_array_equal(checked, points)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 2)), r"^points must have shape \(\.\.\., 3\), got \(2, 2\)$"),
    (np.zeros((3, 2)), r"^points must have shape \(\.\.\., 3\), got \(3, 2\)$"),
    (5.0, r"^points must have shape \(\.\.\., 3\), got \(\)$"),
    ([[0.0, np.nan, 0.0]], r"^points contains NaN or infinite values$"),
])
def test_check_points_refuses_with_the_default_name(bad: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        tf.check_points(bad)


def test_check_points_with_a_count_names_the_points() -> None:
    joints = np.zeros((6, 3))
    assert tf.check_points(joints, "moving_joints", count=6).shape == (6, 3)
    with pytest.raises(InputError, match=r"^moving_joints must have shape \(6, 3\), got \(5, 3\)$"):
        tf.check_points(joints[:5], "moving_joints", count=6)
