"""Kinematics and the forward-kinematics kernels pinned against independent answers.

Each test fixes a behaviour that a changed comparison, constant, default or message in
``hexapod/kinematics.py`` or the ``_fk_*`` kernels would break: values worked by hand or
with plain numpy loops, exact error messages, batch shapes and the kernels' boundaries.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from hexapod import _fk_kernel as fk
from hexapod import _fk_single as single
from hexapod import _fk_solve as solve
from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.errors import ConvergenceError, InputError, SingularFrameError
from hexapod.frame import Frame
from hexapod.geometry import FrameGeometry

from .conftest import random_poses, spec_frame

NEUTRAL_150 = 158.68047115  # sqrt(2 * 100**2 * (1 - cos 30 deg) + 150**2), spec frame
HORIZ = 2 * 100.0**2 * (1 - np.cos(np.radians(30.0)))  # horizontal offset squared, per strut


def _loop_lengths(frame: FrameGeometry, poses: np.ndarray) -> np.ndarray:
    ref, mov = frame.reference_joints, frame.moving_joints
    flat = [[np.linalg.norm(p[:3, :3] @ m + p[:3, 3] - b) for b, m in zip(ref, mov, strict=True)]
            for p in np.reshape(poses, (-1, 4, 4))]
    return np.reshape(flat, (*np.shape(poses)[:-2], 6))


def _loop_jacobian(frame: FrameGeometry, pose: np.ndarray) -> np.ndarray:
    rows = []
    for b, m in zip(frame.reference_joints, frame.moving_joints, strict=True):
        lever = pose[:3, :3] @ m
        vec = lever + pose[:3, 3] - b
        unit = vec / np.linalg.norm(vec)
        rows.append(np.concatenate([unit, np.cross(lever, unit)]))
    return np.array(rows)


def _frobenius_oracle(jac: np.ndarray, scale: float) -> float:
    scaled = jac.copy()
    scaled[:, 3:] /= scale
    sv = np.linalg.svd(scaled, compute_uv=False)
    return float(np.sqrt(np.sum(sv**2) * np.sum(sv**-2.0)))


def _message(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc.value)


# --- strut_vectors, strut_lengths ------------------------------------------------------------

def test_strut_vectors_at_a_known_pose(frame: FrameGeometry) -> None:
    pose = frame.neutral_pose(150.0)
    vectors = kin.strut_vectors(frame.reference_joints, frame.moving_joints, pose)
    expected = frame.moving_joints + [0.0, 0.0, -150.0] - frame.reference_joints
    np.testing.assert_allclose(vectors, expected, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), NEUTRAL_150, atol=1e-8)
    # strut 1: proximal joint at 75 deg, distal joint at 45 deg, both on the 100 mm circle
    a, b = np.radians(45.0), np.radians(75.0)
    np.testing.assert_allclose(vectors[0], [100 * (np.cos(a) - np.cos(b)),
                                            100 * (np.sin(a) - np.sin(b)), -150.0], atol=1e-12)


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2)])
def test_strut_vectors_batch_equals_loop(frame: FrameGeometry, rng: np.random.Generator,
                                         shape: tuple[int, ...]) -> None:
    poses = random_poses(rng, shape)
    vectors = kin.strut_vectors(frame.reference_joints, frame.moving_joints, poses)
    assert vectors.shape == (*shape, 6, 3)
    loop = [[p[:3, :3] @ m + p[:3, 3] - b
             for b, m in zip(frame.reference_joints, frame.moving_joints, strict=True)]
            for p in poses.reshape(-1, 4, 4)]
    np.testing.assert_allclose(vectors.reshape(-1, 6, 3), loop, atol=1e-12)


def test_strut_vectors_checks_its_input(frame: FrameGeometry) -> None:
    with pytest.raises(InputError, match=r"^moving_in_reference.*orthonormal"):
        kin.strut_vectors(frame.reference_joints, frame.moving_joints, np.diag([2, 1, 1, 1.0]))
    with pytest.raises(InputError, match=r"^moving_joints .*\(6, 3\)"):
        kin.strut_vectors(frame.reference_joints, np.zeros((5, 3)), np.eye(4))
    with pytest.raises(InputError, match=r"^reference_joints .*\(6, 3\)"):
        kin.strut_vectors(np.zeros((6, 2)), frame.moving_joints, np.eye(4))


@pytest.mark.parametrize("shape", [(4,), (3, 3), (2, 4, 3), (16,)])
def test_strut_lengths_names_a_wrong_pose_shape(frame: FrameGeometry,
                                                shape: tuple[int, ...]) -> None:
    for check in (True, False):
        with pytest.raises(InputError) as exc:
            kin.strut_lengths(frame.reference_joints, frame.moving_joints, np.zeros(shape),
                              check=check)
        assert _message(exc) == f"moving_in_reference must have shape (..., 4, 4), got {shape}"


def test_strut_lengths_checks_poses_by_default(frame: FrameGeometry) -> None:
    bad = frame.neutral_pose(150.0)
    bad[0, 0] = 1.001
    with pytest.raises(InputError, match=r"^moving_in_reference"):
        kin.strut_lengths(frame.reference_joints, frame.moving_joints, bad)
    with pytest.raises(InputError, match=r"^moving_in_reference"):
        kin._lengths_unchecked(frame.reference_joints, frame.moving_joints,
                               bad[None].repeat(3, 0), check=True)
    np.testing.assert_allclose(
        kin._lengths_unchecked(frame.reference_joints, frame.moving_joints, bad),
        _loop_lengths(frame, bad), atol=1e-12)  # unchecked by default


def test_ik_with_moving_joints_off_the_plane_but_on_the_x_axis(rng: np.random.Generator
                                                               ) -> None:
    # y = 0 and z != 0 for every moving joint: the z products cannot be skipped
    ref = rng.normal(size=(6, 3)) * 80
    mov = np.zeros((6, 3))
    mov[:, 0] = rng.normal(size=6) * 80
    mov[:, 2] = rng.normal(size=6) * 10
    poses = random_poses(rng, (4,), angle_deg=20.0)
    loop = [[np.linalg.norm(p[:3, :3] @ m + p[:3, 3] - b) for b, m in zip(ref, mov, strict=True)]
            for p in poses]
    np.testing.assert_allclose(kin.strut_lengths(ref, mov, poses), loop, rtol=0, atol=1e-11)


def test_strut_lengths_of_an_empty_batch(frame: FrameGeometry) -> None:
    out = kin.strut_lengths(frame.reference_joints, frame.moving_joints, np.zeros((0, 4, 4)))
    assert out.shape == (0, 6)


def test_ik_chunks_hold_ik_chunk_poses(frame: FrameGeometry, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    seen: list[int] = []
    real = tf.rigid_rows_ok

    def spy(rows: np.ndarray, *args: float) -> bool:
        seen.append(rows.shape[1])
        return real(rows, *args)

    monkeypatch.setattr(tf, "rigid_rows_ok", spy)
    poses = np.broadcast_to(frame.neutral_pose(150.0), (4097, 4, 4))
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    assert kin.IK_CHUNK == 4096 and seen == [4096, 1]
    np.testing.assert_allclose(lengths, NEUTRAL_150, atol=1e-8)


# --- jacobian, condition_number --------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2)])
def test_jacobian_equals_a_cross_product_loop(frame: FrameGeometry, rng: np.random.Generator,
                                              shape: tuple[int, ...]) -> None:
    poses = random_poses(rng, shape, angle_deg=15.0)
    jac = kin.jacobian(frame.reference_joints, frame.moving_joints, poses)
    assert jac.shape == (*shape, 6, 6)
    loop = [_loop_jacobian(frame, p) for p in poses.reshape(-1, 4, 4)]
    np.testing.assert_allclose(jac.reshape(-1, 6, 6), loop, atol=1e-12)
    with pytest.raises(InputError, match=r"^moving_in_reference"):
        kin.jacobian(frame.reference_joints, frame.moving_joints, 2 * np.eye(4))


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2)])
def test_condition_number_equals_numpy_svd(rng: np.random.Generator,
                                           shape: tuple[int, ...]) -> None:
    frame = spec_frame(rp=100.0, rd=120.0)  # mean joint radius 110 mm
    poses = random_poses(rng, shape, angle_deg=15.0)
    ref, mov = frame.reference_joints, frame.moving_joints

    def oracle(scale: float) -> np.ndarray:
        out = []
        for p in poses.reshape(-1, 4, 4):
            jac = _loop_jacobian(frame, p)
            jac[:, 3:] /= scale
            sv = np.linalg.svd(jac, compute_uv=False)
            out.append(sv[0] / sv[-1])
        return np.reshape(out, shape)

    default = kin.condition_number(ref, mov, poses)
    assert default.shape == shape
    np.testing.assert_allclose(default, oracle(110.0), rtol=1e-10)
    np.testing.assert_allclose(kin.condition_number(ref, mov, poses, 40.0), oracle(40.0),
                               rtol=1e-10)
    assert not np.allclose(oracle(40.0), oracle(110.0), rtol=1e-3)
    with pytest.raises(InputError, match=r"^moving_in_reference"):
        kin.condition_number(ref, mov, 2 * np.eye(4))


def test_condition_number_of_coplanar_rings_is_huge(frame: FrameGeometry) -> None:
    import warnings

    with warnings.catch_warnings():  # a singular frame is an answer (inf), not a warning
        warnings.simplefilter("error")
        cond = kin.condition_number(frame.reference_joints, frame.moving_joints,
                                    frame.neutral_pose(0.0))
    assert cond.shape == () and (np.isinf(cond) or float(cond) > 1e12)


# --- default_guess and the moving side ------------------------------------------------------

@pytest.mark.parametrize("side", [-1.0, 1.0, -1, 1])
def test_default_guess_known_values(frame: FrameGeometry, side: float) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    guess = kin.default_guess(ref, mov, np.full(6, NEUTRAL_150), moving_side=side)
    expected = np.eye(4)
    expected[2, 3] = side * 150.0
    np.testing.assert_allclose(guess, expected, atol=1e-7)
    # unequal lengths: the height matches the mean squared length
    lengths = np.array([150.0, 160, 170, 150, 160, 170])
    height = np.sqrt(np.mean(lengths**2) - HORIZ)
    guess = kin.default_guess(ref, mov, lengths, moving_side=side)
    assert guess[2, 3] == pytest.approx(side * height, abs=1e-9)
    # shorter than the horizontal offset: 1 mm from the reference ring, not NaN
    guess = kin.default_guess(ref, mov, np.full(6, 10.0), moving_side=side)
    assert guess[2, 3] == side * 1.0


def test_default_guess_batch_shapes(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    heights = np.array([[[100.0, 120.0]], [[140.0, 150.0]], [[160.0, 200.0]]])
    lengths = np.sqrt(HORIZ + heights[..., None] ** 2) * np.ones(6)
    guess = kin.default_guess(ref, mov, lengths, moving_side=-1.0)
    assert guess.shape == (3, 1, 2, 4, 4)
    np.testing.assert_allclose(guess[..., 2, 3], -heights, atol=1e-9)
    np.testing.assert_array_equal(guess[..., :3, :3], np.broadcast_to(np.eye(3), (3, 1, 2, 3, 3)))
    assert kin.default_guess(ref, mov, lengths[0, 0, 0], moving_side=1.0).shape == (4, 4)


def test_default_guess_needs_a_side(frame: FrameGeometry) -> None:
    with pytest.raises(InputError) as exc:
        kin.default_guess(frame.reference_joints, frame.moving_joints, np.full(6, 150.0))
    assert _message(exc) == ("give a guess or moving_side (-1: moving ring along -z of the "
                             "reference ring, +1: along +z); hexapod.Frame.solve_pose knows it")


@pytest.mark.parametrize("lengths, message", [
    ([150, 150, np.nan, 150, 150, 150], "lengths contain NaN or infinite values"),
    (np.full(5, 150.0), "lengths must have shape (..., 6), got (5,)"),
    ([150, 150, 0.0, 150, 150, 150], "lengths must be > 0 mm"),
])
def test_default_guess_refuses_bad_lengths(frame: FrameGeometry, lengths: object,
                                           message: str) -> None:
    # as solve_pose does: never a NaN start pose or a numpy broadcasting error
    with pytest.raises(InputError) as exc:
        kin.default_guess(frame.reference_joints, frame.moving_joints, lengths,  # type: ignore[arg-type]
                          moving_side=-1.0)
    assert _message(exc) == message


@pytest.mark.parametrize("side", [0.0, 0.5, 2.0, -2.0, np.nan])
def test_moving_side_must_be_one_or_minus_one(frame: FrameGeometry, side: float) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    for call in (lambda: kin.default_guess(ref, mov, np.full(6, 150.0), moving_side=side),
                 lambda: kin.solve_pose(ref, mov, np.full(6, 150.0), moving_side=side),
                 lambda: kin.solve_pose_status(ref, mov, np.full(6, 150.0), moving_side=side)):
        with pytest.raises(InputError) as exc:
            call()
        assert _message(exc) == f"moving_side must be -1 or +1, got {side!r}"


def test_side_of_a_guess() -> None:
    assert kin._side(tf.from_translation([0.0, 0.0, 1e-9]), None) == 1.0
    assert kin._side(tf.from_translation([0.0, 0.0, 0.0]), None) == -1.0
    assert kin._side(tf.from_translation([0.0, 0.0, -5.0]), None) == -1.0
    # a batch of guesses: the side of their mean height
    assert kin._side(tf.from_translation([[0, 0, -1.0], [0, 0, 3.0]]), None) == 1.0
    assert kin._side(tf.from_translation([[0, 0, 1.0], [0, 0, -3.0]]), None) == -1.0
    # an explicit side wins over the guess
    assert kin._side(tf.from_translation([0.0, 0.0, 5.0]), -1.0) == -1.0
    assert isinstance(kin._side(None, 1), float)


# --- lengths ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lengths, message", [
    (150.0, "lengths must have shape (..., 6), got ()"),
    (np.full((2, 5), 150.0), "lengths must have shape (..., 6), got (2, 5)"),
    (np.full(7, 150.0), "lengths must have shape (..., 6), got (7,)"),
    ([150, 150, 150, np.inf, 150, 150], "lengths contain NaN or infinite values"),
    ([150, 150, 150, -np.inf, 150, 150], "lengths contain NaN or infinite values"),
    ([150, 150, 150, 0.0, 150, 150], "lengths must be > 0 mm"),
    ([150, 150, 150, -1e-300, 150, 150], "lengths must be > 0 mm"),
])
def test_bad_lengths_exact_messages(frame: FrameGeometry, lengths: object, message: str) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    for call in (kin.solve_pose, kin.solve_pose_status):
        with pytest.raises(InputError) as exc:
            call(ref, mov, lengths, moving_side=-1.0)  # type: ignore[operator]
        assert _message(exc) == message


def test_a_tiny_positive_length_is_accepted(frame: FrameGeometry) -> None:
    result = kin.solve_pose_status(frame.reference_joints, frame.moving_joints,
                                   [150, 150, 150, 1e-300, 150, 150], moving_side=-1.0)
    assert not result.converged


# --- solve_pose: failures, messages, the condition guard ------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_a_singular_jacobian_is_reported_per_pose(frame: FrameGeometry, n: int) -> None:
    # coplanar rings: every strut horizontal, the Jacobian has no z rows: exactly singular
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = np.full((n, 6), NEUTRAL_150)
    guesses = np.broadcast_to(frame.neutral_pose(150.0), (n, 4, 4)).copy()
    guesses[n - 1] = frame.neutral_pose(0.0)
    result = kin.solve_pose_status(ref, mov, lengths, guess=guesses)
    expected = np.zeros(n, dtype=bool)
    expected[n - 1] = True
    np.testing.assert_array_equal(result.singular, expected)
    np.testing.assert_array_equal(result.converged, ~expected)
    np.testing.assert_array_equal(result.poses[n - 1], frame.neutral_pose(0.0))
    assert result.residual_mm[n - 1] == pytest.approx(NEUTRAL_150 - np.sqrt(HORIZ), abs=1e-9)
    with pytest.raises(SingularFrameError) as exc:
        kin.solve_pose(ref, mov, lengths, guess=guesses)
    assert _message(exc) == (
        "forward kinematics met a singular Jacobian (the frame is at a singular "
        f"configuration for these lengths; first at index ({n - 1},))")


def test_a_singular_scalar_pose_names_the_empty_index(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    result = kin.solve_pose_status(ref, mov, np.full(6, NEUTRAL_150),
                                   guess=frame.neutral_pose(0.0))
    assert result.singular.shape == () and result.singular and not result.converged
    with pytest.raises(SingularFrameError, match=re.escape("first at index ())")):
        kin.solve_pose(ref, mov, np.full(6, NEUTRAL_150), guess=frame.neutral_pose(0.0))


def test_convergence_error_message(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = [20.123456, 400, 20, 400, 20, 400.0]
    status = kin.solve_pose_status(ref, mov, lengths, moving_side=-1.0)
    with pytest.raises(ConvergenceError) as exc:
        kin.solve_pose(ref, mov, lengths, moving_side=-1.0)
    residual = float(status.residual_mm)
    assert residual > 1.0
    assert _message(exc) == (
        "forward kinematics did not converge for 1 of 1 length set(s) (first at index (): "
        "lengths [20.1235, 400.0, 20.0, 400.0, 20.0, 400.0] mm, residual "
        f"{residual:.3g} mm); no assembly of this frame near the start guess has these lengths")


def test_a_failure_before_a_singular_pose_is_the_one_named(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = np.full((3, 6), NEUTRAL_150)
    lengths[1] = [20, 400, 20, 400, 20, 400.0]
    guesses = np.broadcast_to(frame.neutral_pose(150.0), (3, 4, 4)).copy()
    guesses[2] = frame.neutral_pose(0.0)
    residual = float(kin.solve_pose_status(ref, mov, lengths, guess=guesses).residual_mm[1])
    with pytest.raises(ConvergenceError) as exc:
        kin.solve_pose(ref, mov, lengths, guess=guesses)
    assert _message(exc).startswith(
        "forward kinematics did not converge for 2 of 3 length set(s) (first at index (1,): "
        f"lengths [20.0, 400.0, 20.0, 400.0, 20.0, 400.0] mm, residual {residual:.3g} mm)")
    assert abs(residual - NEUTRAL_150 + np.sqrt(HORIZ)) > 1.0  # not the singular pose's


def _cond(frame: FrameGeometry, lengths: np.ndarray, guess: np.ndarray) -> np.ndarray:
    scale = frame.length_scale_mm
    cond = fk._forward(frame.reference_joints, frame.moving_joints, lengths, guess, 1e-10, 60,
                       -1.0, scale)[1]
    assert cond is not None
    return cond


@pytest.mark.parametrize("n", [1, 2, 3])
def test_condition_guard_boundary_and_message(n: int) -> None:
    frame = spec_frame(rp=100.0, rd=120.0)
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(5), (n,), angle_deg=10.0)
    lengths = kin.strut_lengths(ref, mov, poses)
    cond = _cond(frame, lengths, poses)
    # the guard's number: the Frobenius condition of the Jacobian scaled by the mean radius
    expected = [_frobenius_oracle(_loop_jacobian(frame, p), 110.0) for p in poses]
    np.testing.assert_allclose(cond, expected, rtol=1e-9)
    chunked = fk._forward(ref, mov, lengths, poses, 1e-10, 60, -1.0, 110.0, chunk=2)[1]
    np.testing.assert_allclose(chunked, expected, rtol=1e-9)  # every chunk's own numbers
    worst = int(np.argmax(cond))
    limit = float(cond[worst])
    solved = kin.solve_pose(ref, mov, lengths, guess=poses, max_condition=limit)  # equal: ok
    np.testing.assert_allclose(solved, poses, atol=1e-9)
    assert solved.flags.writeable
    below = float(np.nextafter(limit, 0.0))
    with pytest.raises(SingularFrameError) as exc:
        kin.solve_pose(ref, mov, lengths, guess=poses, max_condition=below)
    assert _message(exc) == (
        f"1 pose(s) near a singular configuration (Jacobian condition number {limit:.3g} > "
        f"{below:.3g}; first at index ({worst},))")
    with pytest.raises(SingularFrameError, match=rf"^{n} pose\(s\) .*first at index \(0,\)"):
        kin.solve_pose(ref, mov, lengths, guess=poses, max_condition=1.0)


def test_condition_guard_on_a_scalar_pose(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    pose = frame.neutral_pose(150.0)
    lengths = kin.strut_lengths(ref, mov, pose)
    with pytest.raises(SingularFrameError, match=re.escape("; first at index ())")):
        kin.solve_pose(ref, mov, lengths, moving_side=-1.0, max_condition=1.0)


def test_default_condition_limit_is_a_million(frame: FrameGeometry) -> None:
    # near-flat neutral frames: Frobenius condition numbers about 1.65e5 and 1.65e6
    ref, mov = frame.reference_joints, frame.moving_joints
    assert kin.NUMERICAL_CONDITION_LIMIT == 1e6
    ok, bad = frame.neutral_pose(1e-3), frame.neutral_pose(1e-4)
    assert 1e5 < float(_cond(frame, kin.strut_lengths(ref, mov, ok), ok)) < 1e6
    assert 1e6 < float(_cond(frame, kin.strut_lengths(ref, mov, bad), bad)) < 1e7
    np.testing.assert_allclose(kin.solve_pose(ref, mov, kin.strut_lengths(ref, mov, ok),
                                              guess=ok), ok, atol=1e-6)
    with pytest.raises(SingularFrameError, match=r"condition number 1\.65e"):
        kin.solve_pose(ref, mov, kin.strut_lengths(ref, mov, bad), guess=bad)
    solved = kin.solve_pose(ref, mov, kin.strut_lengths(ref, mov, bad), guess=bad,
                            max_condition=None)
    assert solved[2, 3] == pytest.approx(-1e-4, abs=1e-6)


# --- solve_pose: guesses, defaults, batch shapes ---------------------------------------------

def test_one_guess_is_broadcast_over_the_batch(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(2), (3, 1, 2), height=150.0, angle_deg=3.0)
    lengths = kin.strut_lengths(ref, mov, poses)
    mirror = tf.from_translation([0.0, 0.0, 150.0])  # the other side of the reference ring
    solved = kin.solve_pose(ref, mov, lengths, guess=mirror)
    assert solved.shape == (3, 1, 2, 4, 4)
    assert np.all(solved[..., 2, 3] > 100.0)
    np.testing.assert_allclose(kin.strut_lengths(ref, mov, solved), lengths, atol=1e-9)
    with pytest.raises(InputError, match=r"^guess"):
        kin.solve_pose(ref, mov, lengths, guess=2 * np.eye(4))


@pytest.mark.parametrize("n", [1, 2, 3, 9])
def test_zero_iterations_return_the_default_start(frame: FrameGeometry, n: int) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = np.full((n, 6), NEUTRAL_150)
    lengths[0] = 10.0  # shorter than the joints' horizontal offset: 1 mm from the ring
    lengths[n - 1, :3] = 150.0
    for side in (-1.0, 1.0):
        result = kin.solve_pose_status(ref, mov, lengths, max_iterations=0, moving_side=side)
        assert not result.converged.any()
        expected = [side * np.sqrt(max(np.mean(row**2) - HORIZ, 1.0)) for row in lengths]
        np.testing.assert_allclose(result.poses[:, 2, 3], expected, atol=1e-9)
        np.testing.assert_array_equal(result.poses[:, :3, :3], np.broadcast_to(np.eye(3),
                                                                               (n, 3, 3)))
        np.testing.assert_allclose(result.residual_mm,
                                   np.max(np.abs(_loop_lengths(frame, result.poses) - lengths),
                                          axis=-1), atol=1e-9)


@pytest.mark.parametrize("n", [1, 3])
def test_newton_steps_are_capped(frame: FrameGeometry, n: int) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    # 50 mm away along z: one step moves 10 mm
    lengths = np.full((n, 6), NEUTRAL_150)
    result = kin.solve_pose_status(ref, mov, lengths, guess=frame.neutral_pose(100.0),
                                   max_iterations=1)
    np.testing.assert_allclose(result.poses[:, 2, 3], -110.0, atol=1e-9)
    assert fk.MAX_STEP_MM == 10.0 and fk.MAX_STEP_RAD == 0.1
    # 20 degrees about z: one step turns 0.1 rad
    twisted = tf.from_rotation_translation(tf.rotation_z(np.radians(20.0)), [0, 0, -150.0])
    lengths = np.broadcast_to(kin.strut_lengths(ref, mov, twisted), (n, 6))
    result = kin.solve_pose_status(ref, mov, lengths, guess=frame.neutral_pose(150.0),
                                   max_iterations=1)
    np.testing.assert_allclose(tf.rotation_angle(result.poses), 0.1, atol=1e-12)
    assert np.all(np.linalg.norm(result.poses[:, :3, 3] - [0, 0, -150.0], axis=-1) < 10.0)
    # 50 mm sideways: one step moves 10 mm, mostly along x
    sideways = tf.from_translation([50.0, 0.0, -150.0])
    lengths = np.broadcast_to(kin.strut_lengths(ref, mov, sideways), (n, 6))
    result = kin.solve_pose_status(ref, mov, lengths, guess=frame.neutral_pose(150.0),
                                   max_iterations=1)
    moved = result.poses[:, :3, 3] - [0.0, 0.0, -150.0]
    np.testing.assert_allclose(np.linalg.norm(moved, axis=-1), 10.0, rtol=1e-12)
    assert np.all(moved[:, 0] > 9.0)
    # a small step is taken whole
    near = tf.from_translation([0.5, -0.25, -150.0])
    lengths = np.broadcast_to(kin.strut_lengths(ref, mov, near), (n, 6))
    result = kin.solve_pose_status(ref, mov, lengths, guess=frame.neutral_pose(150.0),
                                   max_iterations=1)
    np.testing.assert_allclose(result.poses[:, :3, 3], [[0.5, -0.25, -150.0]] * n, atol=1e-3)


def test_default_tolerance_and_iterations(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(8), (4,), angle_deg=10.0)
    lengths = kin.strut_lengths(ref, mov, poses)
    result = kin.solve_pose_status(ref, mov, lengths, moving_side=-1.0)
    assert result.converged.all() and float(result.residual_mm.max()) < 1e-10
    loose = kin.solve_pose_status(ref, mov, lengths, moving_side=-1.0, tolerance_mm=1.0)
    assert loose.converged.all() and float(loose.residual_mm.max()) < 1.0
    assert float(loose.residual_mm.max()) > 1e-10  # it stopped early: the tolerance is used


@pytest.mark.parametrize("n", [1, 3])
def test_default_iterations_are_sixty(frame: FrameGeometry, n: int) -> None:
    # from 566 mm too far, the capped steps need exactly 60 iterations to converge
    ref, mov = frame.reference_joints, frame.moving_joints
    geo_frame = Frame(ref, mov)
    lengths = np.full((n, 6), NEUTRAL_150)
    far = tf.from_translation([0.0, 0.0, -716.0])
    assert not kin.solve_pose_status(ref, mov, lengths, guess=far, max_iterations=59
                                     ).converged.any()
    assert kin.solve_pose_status(ref, mov, lengths, guess=far).converged.all()
    assert geo_frame.solve_pose_status(lengths, far).converged.all()
    for solved in (kin.solve_pose(ref, mov, lengths, guess=far),
                   geo_frame.solve_pose(lengths, far)):
        np.testing.assert_allclose(solved[:, 2, 3], -150.0, atol=1e-9)
    with pytest.raises(ConvergenceError):
        kin.solve_pose(ref, mov, lengths, guess=far, max_iterations=59)
    # from 575 mm too far it takes 61: more than the default allows
    farther = tf.from_translation([0.0, 0.0, -725.0])
    assert kin.solve_pose_status(ref, mov, lengths, guess=farther, max_iterations=61
                                 ).converged.all()
    assert not kin.solve_pose_status(ref, mov, lengths, guess=farther).converged.any()
    assert not geo_frame.solve_pose_status(lengths, farther).converged.any()
    for call in (lambda: kin.solve_pose(ref, mov, lengths, guess=farther),
                 lambda: geo_frame.solve_pose(lengths, farther)):
        with pytest.raises(ConvergenceError):
            call()


@pytest.mark.parametrize("picks", [[10, 40], [10, 40, 12]])
def test_default_tolerance_is_a_tenth_of_a_nanometre(frame: FrameGeometry,
                                                      picks: list[int]) -> None:
    # these poses pass a 1e-9 mm tolerance one step early, with residuals of 1.5e-10 to
    # 7.5e-10 mm: the default 1e-10 mm takes that step
    ref, mov = frame.reference_joints, frame.moving_joints
    geo_frame = Frame(ref, mov)
    poses = random_poses(np.random.default_rng(0), (400,), angle_deg=10.0)[picks]
    lengths = _loop_lengths(frame, poses)
    early = kin.solve_pose_status(ref, mov, lengths, moving_side=-1.0, tolerance_mm=1e-9)
    assert np.all(early.residual_mm > 1e-10)
    for status in (kin.solve_pose_status(ref, mov, lengths, moving_side=-1.0),
                   geo_frame.solve_pose_status(lengths)):
        assert np.all(status.residual_mm < 1e-10)
    for solved in (kin.solve_pose(ref, mov, lengths, moving_side=-1.0),
                   geo_frame.solve_pose(lengths)):
        assert np.max(np.abs(_loop_lengths(frame, solved) - lengths)) < 1e-10


def test_condition_message_gives_the_first_bad_value() -> None:
    frame = spec_frame(rp=100.0, rd=120.0)
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(5), (3,), angle_deg=10.0)
    poses[0] = frame.neutral_pose(40.0)  # flatter: a larger condition number than the others
    lengths = kin.strut_lengths(ref, mov, poses)
    cond = _cond(frame, lengths, poses)
    assert f"{cond[0]:.3g}" != f"{cond[-1]:.3g}"  # the first and the last read differently
    with pytest.raises(SingularFrameError) as exc:
        kin.solve_pose(ref, mov, lengths, guess=poses, max_condition=1.0)
    assert _message(exc) == (
        f"3 pose(s) near a singular configuration (Jacobian condition number {cond[0]:.3g} > "
        "1; first at index (0,))")


def test_solve_pose_returns_a_private_writable_array(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = kin.strut_lengths(ref, mov, frame.neutral_pose(150.0))
    solved = kin.solve_pose(ref, mov, lengths, moving_side=-1.0)
    solved[0, 0] = 5.0  # no error: the caller owns it
    again = kin.solve_pose(ref, mov, lengths, moving_side=-1.0)
    np.testing.assert_allclose(again, frame.neutral_pose(150.0), atol=1e-9)


# --- kernels ---------------------------------------------------------------------------------

def test_fk_result_copies_and_freezes_its_arrays() -> None:
    poses = np.broadcast_to(np.eye(4), (2, 4, 4)).copy()
    flags = np.array([True, False])
    residual = np.array([0.0, 2.0])
    result = fk.FKResult(poses, flags, residual, flags, ~flags)
    poses[0, 0, 0] = 7.0
    flags[0] = False
    residual[0] = 9.0
    assert result.poses[0, 0, 0] == 1.0 and result.converged[0] and result.residual_mm[0] == 0.0
    assert result.same_branch[0] and not result.singular[0]
    for name in ("poses", "converged", "residual_mm", "same_branch", "singular"):
        assert not getattr(result, name).flags.writeable


def _spy(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    sizes: list[int] = []
    real = getattr(module, name)

    def spy(*args: object, **kwargs: object) -> object:
        first = args[2] if name == "newton_single" else args[0]
        sizes.append(int(np.shape(first)[-1]) if name != "newton_single" else 1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return sizes


@pytest.mark.parametrize("n, singles, chunks", [(1, 1, []), (2, 2, []), (3, 0, [3])])
def test_batches_of_two_or_fewer_use_the_single_pose_kernel(
        frame: FrameGeometry, monkeypatch: pytest.MonkeyPatch, n: int, singles: int,
        chunks: list[int]) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    single_calls = _spy(monkeypatch, fk, "newton_single")
    chunk_calls = _spy(monkeypatch, fk, "_Chunk")
    poses = random_poses(np.random.default_rng(4), (n,))
    solved = kin.solve_pose(ref, mov, kin.strut_lengths(ref, mov, poses), moving_side=-1.0)
    np.testing.assert_allclose(solved, poses, atol=1e-9)
    assert len(single_calls) == singles and chunk_calls == chunks


def test_fk_chunks_hold_fk_chunk_poses(frame: FrameGeometry,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    chunk_calls = _spy(monkeypatch, fk, "_Chunk")
    lengths = np.full((fk.FK_CHUNK + 1, 6), NEUTRAL_150)
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths,
                            moving_side=-1.0, max_condition=None)
    assert fk.FK_CHUNK == 4096 and chunk_calls == [4096, 1]
    np.testing.assert_allclose(solved[[0, -1], 2, 3], -150.0, atol=1e-9)


def test_fk_with_joints_off_the_ring_plane(rng: np.random.Generator) -> None:
    base = spec_frame()
    lift = np.array([[0, 0, 3.0], [0, 0, -2.0], [0, 0, 1.0], [0, 0, 4.0], [0, 0, -1.0],
                     [0, 0, 2.0]])
    frame = FrameGeometry(base.reference_joints + lift[::-1], base.moving_joints + lift)
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(rng, (5,), angle_deg=5.0)
    lengths = _loop_lengths(frame, poses)
    for batch in (lengths[:1], lengths):
        result = kin.solve_pose_status(ref, mov, batch, moving_side=-1.0)
        assert result.converged.all()
        np.testing.assert_allclose(result.poses, poses[:len(batch)], atol=1e-9)


def test_newton_chunk_without_a_workspace(frame: FrameGeometry) -> None:
    poses = random_poses(np.random.default_rng(6), (5,))
    lengths = _loop_lengths(frame, poses)
    rot = np.broadcast_to(np.eye(3)[:, :, None], (3, 3, 5)).copy()
    trans = np.zeros((3, 5))
    trans[2] = -150.0
    out_rot, out_trans, conv, res, same, sing = fk._newton_chunk(
        frame.reference_joints.T.copy(), frame.moving_joints.T.copy(), lengths.T.copy(), rot,
        trans, 1e-10, 60)
    # the caller's start is left alone
    np.testing.assert_array_equal(rot, np.broadcast_to(np.eye(3)[:, :, None], (3, 3, 5)))
    np.testing.assert_array_equal(trans, [[0.0] * 5, [0.0] * 5, [-150.0] * 5])
    assert conv.all() and same.all() and not sing.any() and float(res.max()) < 1e-10
    np.testing.assert_allclose(out_rot.transpose(2, 0, 1), poses[:, :3, :3], atol=1e-9)
    np.testing.assert_allclose(out_trans.T, poses[:, :3, 3], atol=1e-9)


def test_frobenius_condition_of_a_singular_pose_is_infinite(frame: FrameGeometry) -> None:
    poses = np.stack([frame.neutral_pose(150.0), frame.neutral_pose(0.0)])
    cond = fk._frobenius_condition(frame.reference_joints.T.copy(),
                                   frame.moving_joints.T.copy(),
                                   poses[:, :3, :3].transpose(1, 2, 0).copy(),
                                   poses[:, :3, 3].T.copy(), 100.0)
    assert cond[0] == pytest.approx(_frobenius_oracle(_loop_jacobian(frame, poses[0]), 100.0),
                                    rel=1e-9)
    assert cond[1] == np.inf


def _partial_pivoting_order(mat: np.ndarray) -> np.ndarray:
    mat = mat.copy()
    order = np.arange(6)
    for k in range(6):
        p = k + int(np.argmax(np.abs(mat[k:, k])))
        mat[[k, p]] = mat[[p, k]]
        order[[k, p]] = order[[p, k]]
        mat[k + 1:] -= np.outer(mat[k + 1:, k] / mat[k, k], mat[k])
    return order


@pytest.mark.parametrize("side", [-1.0, 1.0])
@pytest.mark.parametrize("rd", [100.0, 130.0])
def test_pivot_order_is_partial_pivoting_at_45_degrees(side: float, rd: float) -> None:
    base = spec_frame(rp=100.0, rd=rd)
    # joints moved off the symmetric layout (also off the ring planes, so that the two sides
    # differ), so that no two pivot candidates tie
    shake = np.random.default_rng(0).normal(size=(2, 6, 3)) * 5.0
    frame = FrameGeometry(base.reference_joints + shake[0], base.moving_joints + shake[1])
    ref, mov = frame.reference_joints, frame.moving_joints
    horiz = np.sum((mov[:, :2] - ref[:, :2]) ** 2, axis=1)
    orders = {}
    for s in (-1.0, 1.0):
        pose = tf.from_translation([0.0, 0.0, s * np.sqrt(np.mean(horiz))])
        orders[s] = _partial_pivoting_order(_loop_jacobian(frame, pose)).tolist()
    assert orders[-1.0] != orders[1.0]
    order = fk._pivot_order_uncached(ref, mov, side)
    assert order.tolist() == orders[side]
    assert sorted(order.tolist()) == list(range(6))


def test_pivot_order_height_is_at_least_one_mm() -> None:
    # joints almost straight above each other (0.3 mm apart): the order at 1 mm height
    rng = np.random.default_rng(24)
    ref = spec_frame().reference_joints + rng.normal(size=(6, 3)) * [5.0, 5.0, 0.0]
    mov = ref + rng.normal(size=(6, 3)) * [0.3, 0.3, 0.0]
    pinned = FrameGeometry(ref, mov)
    at_1 = _partial_pivoting_order(_loop_jacobian(pinned, tf.from_translation([0, 0, -1.0])))
    rms = np.sqrt(np.mean(np.sum((mov[:, :2] - ref[:, :2]) ** 2, axis=1)))
    assert rms < 1.0
    for height in (rms, 2.0):
        other = _partial_pivoting_order(_loop_jacobian(pinned, tf.from_translation([0, 0,
                                                                                    -height])))
        assert at_1.tolist() != other.tolist()
    np.testing.assert_array_equal(fk._pivot_order_uncached(ref, mov, -1.0), at_1)


def test_pivot_order_cache_is_bounded(frame: FrameGeometry,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cache: dict[bytes, np.ndarray] = {bytes([k]): np.arange(6) for k in range(64)}
    monkeypatch.setattr(fk, "_PIVOT_ORDERS", cache)
    ref, mov = frame.reference_joints, frame.moving_joints
    first = fk._pivot_order(ref, mov, -1.0)
    assert len(cache) == 65  # 64 entries are kept
    assert fk._pivot_order(ref, mov, -1.0) is first  # cached
    fk._pivot_order(ref, mov, 1.0)
    assert len(cache) == 1  # more than 64: cleared before the new entry
    np.testing.assert_array_equal(first, fk._pivot_order_uncached(ref, mov, -1.0))


def test_pivot_order_cache_tells_frames_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fk, "_PIVOT_ORDERS", {})
    shake = np.random.default_rng(0).normal(size=(3, 6, 3)) * 5.0
    base = spec_frame()
    ref = base.reference_joints + shake[0]
    movers = [base.moving_joints + shake[1], base.moving_joints + shake[2]]
    rings = [(ref, movers[0]), (ref, movers[1]), (movers[0], movers[1])]
    expected = [fk._pivot_order_uncached(a, b, -1.0).tolist() for a, b in rings]
    assert expected[0] != expected[1] and expected[0] != expected[2]
    for (a, b), order in zip(rings, expected, strict=True):
        assert fk._pivot_order(a, b, -1.0).tolist() == order
    for (a, b), order in zip(rings, expected, strict=True):  # again, from the cache
        assert fk._pivot_order(a, b, -1.0).tolist() == order


def test_rotation_step_mixing_tiny_and_large_angles(rng: np.random.Generator) -> None:
    omega = rng.normal(size=(3, 5))
    omega *= np.array([0.5, 1e-9, 0.0, 5e-5, 2.0]) / np.linalg.norm(omega, axis=0)
    omega[:, 2] = 0.0
    expected = tf.rotation_from_rotvec(omega.T)
    np.testing.assert_allclose(fk._rotation_step(omega).transpose(2, 0, 1), expected,
                               rtol=0, atol=2e-16)
    out = np.empty((3, 3, 5))
    assert fk._rotation_step(omega, out) is out
    np.testing.assert_allclose(out.transpose(2, 0, 1), expected, rtol=0, atol=2e-16)
    np.testing.assert_array_equal(single.rotation_single(0.0, 0.0, 0.0), np.eye(3))


# --- linear solves -----------------------------------------------------------------------------

def _systems(rng: np.random.Generator, n: int, extra: int = 2) -> tuple[np.ndarray, np.ndarray]:
    mats = rng.normal(size=(n, 6, 6)) + 4 * np.eye(6)  # diagonally heavy: multipliers small
    return mats, rng.normal(size=(n, 6, extra))


def _aug(mats: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return np.concatenate([mats, rhs], axis=2).transpose(1, 2, 0).copy()


@pytest.mark.parametrize("work_size, work_extra", [(None, None), (4, 2), (20, 0), (20, 6)])
def test_batched_solve_equals_numpy(rng: np.random.Generator, work_size: int | None,
                                    work_extra: int | None) -> None:
    mats, rhs = _systems(rng, 12)
    mats[3, 0, 0] = 0.0  # a zero pivot in the fixed order: solved again with pivoting
    mats[5, 0, 0] = 1e-14  # growth without pivoting
    mats[7, :, 2] = 0.0  # singular
    work = None if work_size is None else solve._Workspace(work_size, work_extra or 0)
    x, det = solve._solve_batch(_aug(mats, rhs), work)
    assert x.shape == (6, 2, 12) and det.shape == (12,)
    ok = [i for i in range(12) if i != 7]
    np.testing.assert_allclose(x.transpose(2, 0, 1)[ok], np.linalg.solve(mats[ok], rhs[ok]),
                               atol=1e-10)
    np.testing.assert_allclose(det[ok], np.linalg.det(mats[ok]), rtol=1e-9)
    assert np.isnan(x[..., 7]).all() and det[7] == 0.0


def test_inverse_skips_only_the_identity_columns_it_cannot_change(
        rng: np.random.Generator) -> None:
    """``identity=True`` gives the inverse bit for bit as the full elimination does (the
    skipped columns hold zeros it would subtract), also for a system solved again by LAPACK;
    a right-hand side that is not the identity is wrong under it (so the skip is real)."""
    mats = rng.normal(size=(20, 6, 6)) + 4 * np.eye(6)
    mats[5, 0, 0] = 0.0  # solved again with pivoting
    eye = np.broadcast_to(np.eye(6), (20, 6, 6))
    full = solve._solve_batch(_aug(mats, eye))[0]
    skipped = solve._solve_batch(_aug(mats, eye), solve._Workspace(20, 6), identity=True)[0]
    np.testing.assert_array_equal(skipped, full)
    np.testing.assert_allclose(skipped.transpose(2, 0, 1), np.linalg.inv(mats), atol=1e-12)
    ones = np.ones((20, 6, 6))
    wrong = solve._solve_batch(_aug(mats, ones), identity=True)[0].transpose(2, 0, 1)
    assert not np.allclose(wrong, np.linalg.solve(mats, ones))


@pytest.mark.parametrize("n, direct", [(8, True), (9, False)])
def test_batches_of_eight_or_fewer_go_to_lapack(rng: np.random.Generator,
                                                monkeypatch: pytest.MonkeyPatch, n: int,
                                                direct: bool) -> None:
    calls = _spy(monkeypatch, solve, "_solve_lapack")
    mats, rhs = _systems(rng, n)
    x, det = solve._solve_batch(_aug(mats, rhs))
    assert calls == ([n] if direct else [])
    np.testing.assert_allclose(x.transpose(2, 0, 1), np.linalg.solve(mats, rhs), atol=1e-10)
    np.testing.assert_allclose(det, np.linalg.det(mats), rtol=1e-9)


@pytest.mark.parametrize("multiplier, again", [(16.0, False), (16.000001, True),
                                               (-16.0, False), (-16.000001, True)])
def test_multipliers_above_sixteen_are_solved_again(monkeypatch: pytest.MonkeyPatch,
                                                    multiplier: float, again: bool) -> None:
    calls = _spy(monkeypatch, solve, "_solve_lapack")
    mats = np.broadcast_to(np.eye(6), (9, 6, 6)).copy()
    mats[4, 1, 0] = multiplier  # row 1 minus multiplier * row 0
    rhs = np.arange(9 * 6, dtype=float).reshape(9, 6, 1)
    x, det = solve._solve_batch(_aug(mats, rhs))
    assert solve._MAX_MULTIPLIER == 16.0
    assert calls == ([1] if again else [])
    np.testing.assert_allclose(x.transpose(2, 0, 1), np.linalg.solve(mats, rhs), atol=1e-12)
    np.testing.assert_allclose(det, 1.0, atol=1e-12)


def test_lapack_solve_marks_only_the_singular_systems(rng: np.random.Generator) -> None:
    mats, rhs = _systems(rng, 3, extra=1)
    mats[1] = 0.0
    x = solve._solve_lapack(_aug(mats, rhs))
    assert x.shape == (6, 1, 3)
    assert np.isnan(x[..., 1]).all()
    np.testing.assert_allclose(x.transpose(2, 0, 1)[[0, 2]], np.linalg.solve(mats[[0, 2]],
                                                                               rhs[[0, 2]]),
                               atol=1e-10)


def test_single_solve_with_row_swaps(rng: np.random.Generator) -> None:
    for _ in range(20):
        mat, rhs = rng.normal(size=(6, 6)), rng.normal(size=6)
        x, det = single._solve6([[*mat[i], rhs[i]] for i in range(6)])
        np.testing.assert_allclose(x, np.linalg.solve(mat, rhs), atol=1e-10)
        assert det == pytest.approx(np.linalg.det(mat), rel=1e-9)
    # a permutation with one swap: det -1; zeros on the diagonal need the swaps
    perm = np.eye(6)[[1, 0, 2, 3, 4, 5]]
    x, det = single._solve6([[*perm[i], float(i)] for i in range(6)])
    assert det == -1.0 and x == [1.0, 0.0, 2.0, 3.0, 4.0, 5.0]


def test_single_solve_of_a_singular_system() -> None:
    mat = np.eye(6)
    mat[4] = mat[3]  # two equal rows
    x, det = single._solve6([[*mat[i], 1.0] for i in range(6)])
    assert det == 0.0 and all(np.isnan(x)) and len(x) == 6


@pytest.mark.parametrize("scale", [1e-9, 0.05, 0.1, 0.14, 0.149, 0.151, 0.5])
def test_rotation_steps_to_the_last_bit(rng: np.random.Generator, scale: float) -> None:
    omega = rng.normal(size=(3, 7))
    omega *= scale / np.linalg.norm(omega, axis=0)
    expected = tf.rotation_from_rotvec(omega.T)
    np.testing.assert_allclose(fk._rotation_step(omega).transpose(2, 0, 1), expected, rtol=0,
                               atol=5e-16)
    for i in range(7):
        np.testing.assert_allclose(single.rotation_single(*omega[:, i]), expected[i], rtol=0,
                                   atol=5e-16)


@pytest.mark.parametrize("iterations", [1, 2, 3, 5])
def test_batched_and_single_pose_kernels_take_the_same_steps(frame: FrameGeometry,
                                                             iterations: int) -> None:
    # two implementations of one iteration (numpy over a batch, Python floats for one pose):
    # every iterate of every pose agrees, so a wrong update in either shows
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(12), (4,), angle_deg=15.0, shift_mm=15.0)
    poses[3] = tf.from_rotation_translation(tf.rotation_z(np.radians(25.0)), [0, 0, -150.0])
    lengths = _loop_lengths(frame, poses)
    batch = kin.solve_pose_status(ref, mov, lengths, max_iterations=iterations,
                                  moving_side=-1.0)
    for i in range(4):
        one = kin.solve_pose_status(ref, mov, lengths[i], max_iterations=iterations,
                                    moving_side=-1.0)
        np.testing.assert_allclose(batch.poses[i], one.poses, rtol=0, atol=1e-11)
        assert batch.residual_mm[i] == pytest.approx(float(one.residual_mm), rel=1e-6,
                                                     abs=1e-11)
        assert batch.converged[i] == one.converged and batch.same_branch[i] == one.same_branch
    assert batch.same_branch.all()  # no pose crosses a singularity in these few steps
    if iterations < 5:
        assert not batch.converged.any()
        np.testing.assert_allclose(batch.residual_mm,
                                   np.max(np.abs(_loop_lengths(frame, batch.poses) - lengths),
                                          axis=-1), rtol=1e-9)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("side", [-1.0, 1.0])
def test_an_exact_guess_is_on_its_own_branch(frame: FrameGeometry, n: int, side: float) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(13), (n,), angle_deg=5.0, side=side)
    lengths = kin.strut_lengths(ref, mov, poses)
    result = kin.solve_pose_status(ref, mov, lengths, guess=poses)
    assert result.converged.all() and result.same_branch.all() and not result.singular.any()
    np.testing.assert_allclose(result.poses, poses, atol=1e-12)
    # no iteration: each pose is its own guess, rotation and translation as given
    start = kin.solve_pose_status(ref, mov, lengths, guess=poses, max_iterations=0)
    np.testing.assert_array_equal(start.poses, poses)
    # and so are unconverged poses that stay on their side
    lengths = kin.strut_lengths(ref, mov, random_poses(np.random.default_rng(14), (n,),
                                                       angle_deg=8.0, side=side))
    stopped = kin.solve_pose_status(ref, mov, lengths, max_iterations=1, moving_side=side)
    assert not stopped.converged.any() and stopped.same_branch.all()


@pytest.mark.parametrize("n", [1, 3])
def test_status_arrays_are_read_only(frame: FrameGeometry, n: int) -> None:
    result = kin.solve_pose_status(frame.reference_joints, frame.moving_joints,
                                   np.full((n, 6), NEUTRAL_150), moving_side=-1.0)
    assert result.poses.shape == (n, 4, 4) and result.residual_mm.shape == (n,)
    for name in ("poses", "converged", "residual_mm", "same_branch", "singular"):
        assert not getattr(result, name).flags.writeable
    assert result.converged.dtype == bool and result.singular.dtype == bool


def test_an_empty_batch_with_an_empty_guess_needs_no_side(frame: FrameGeometry) -> None:
    import warnings

    with warnings.catch_warnings():  # no mean of an empty slice
        warnings.simplefilter("error")
        result = kin.solve_pose_status(frame.reference_joints, frame.moving_joints,
                                       np.zeros((0, 6)), guess=np.zeros((0, 4, 4)))
    assert result.poses.shape == (0, 4, 4) and result.converged.shape == (0,)
