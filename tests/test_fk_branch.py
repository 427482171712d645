"""Forward kinematics near a singular configuration, and the caller's arrays.

``FKResult.same_branch`` promises that a converged pose's Jacobian determinant has the
sign it has at the guess. The spec frame is singular at a twist of 90 degrees about the
ring axis; lengths just beside it, with guesses just on the other side, make Newton cross
the singular surface, often on its last step. Those poses must not be reported as on the
guess's branch.
"""

from __future__ import annotations

import numpy as np
import pytest

from hexapod import _fk_kernel as fk
from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.geometry import FrameGeometry

from .conftest import random_poses

TWIST_SINGULAR_DEG = 90.0  # the spec frame's Jacobian changes sign at this twist


def _det_positive(frame: FrameGeometry, poses: np.ndarray) -> np.ndarray:
    jac = kin.jacobian(frame.reference_joints, frame.moving_joints, poses)
    return np.asarray(np.linalg.det(jac) > 0)


def _near_twist_singularity(rng: np.random.Generator, n: int, spread_deg: float) -> np.ndarray:
    rotvec = rng.normal(size=(n, 3)) * np.radians(spread_deg)
    rotvec[:, 2] = np.radians(TWIST_SINGULAR_DEG + rng.uniform(-spread_deg, spread_deg, n))
    trans = rng.normal(size=(n, 3)) * 2.5 * spread_deg + np.array([0.0, 0.0, -150.0])
    return tf.from_rotation_translation(tf.rotation_from_rotvec(rotvec), trans)


def test_the_twist_singularity_is_where_the_test_assumes(frame: FrameGeometry) -> None:
    below = _near_twist_singularity(np.random.default_rng(0), 1, 0.0)
    below[0, :3, :3] = tf.rotation_from_rotvec(np.radians([0.0, 0.0, 89.9]))
    above = below.copy()
    above[0, :3, :3] = tf.rotation_from_rotvec(np.radians([0.0, 0.0, 90.1]))
    assert _det_positive(frame, below)[0] != _det_positive(frame, above)[0]


@pytest.mark.parametrize("tolerance_mm, spread_deg", [(1e-10, 2e-5), (1e-10, 2e-6),
                                                      (1e-2, 0.02), (1e-1, 0.2)])
def test_same_branch_means_the_determinant_sign_of_the_guess(
        frame: FrameGeometry, tolerance_mm: float, spread_deg: float) -> None:
    rng = np.random.default_rng(3)
    truth = _near_twist_singularity(rng, 3000, spread_deg)
    guess = _near_twist_singularity(rng, 3000, spread_deg)
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, truth)
    status = kin.solve_pose_status(frame.reference_joints, frame.moving_joints, lengths, guess,
                                   tolerance_mm=tolerance_mm)
    crossed = _det_positive(frame, status.poses) != _det_positive(frame, guess)
    assert np.any(status.converged & crossed)  # the test does reach the other branch
    wrong = np.flatnonzero(status.converged & status.same_branch & crossed)
    assert wrong.size == 0, f"{wrong.size} crossed det J = 0 but same_branch: {wrong[:5]}"
    # in chunks of 256 the last poses of each chunk finish in the pool: the same flags
    pooled = fk._forward(frame.reference_joints, frame.moving_joints, lengths, guess,
                         tolerance_mm, 60, -1.0, None, chunk=256)[0]
    for flag in ("converged", "same_branch", "singular"):
        np.testing.assert_array_equal(getattr(pooled, flag), getattr(status, flag))


# converged poses whose det J has the other sign than at the guess
_LENGTHS_LOOSE = [180.19438322810765, 229.07549470412306, 180.19155675491467,
                  229.03390008658715, 180.17353818008107, 229.06201000787442]
_GUESS_LOOSE = [[2.1712995475904753e-04, -9.9999997070966407e-01, -1.0693574490554298e-04,
                 3.1898820473228943e-02],
                [9.9999996627484977e-01, 2.1714518914425074e-04, -1.4247198354001367e-04,
                 -7.5832193638671027e-03],
                [1.4249519994951525e-04, -1.0690480636377843e-04, 9.9999998413323998e-01,
                 -1.4999222290186566e+02],
                [0.0, 0.0, 0.0, 1.0]]
_LENGTHS_TIGHT = [180.27764772889634, 229.12880883878063, 180.27756432061312,
                  229.1287899232077, 180.277632778653, 229.12887626128358]
_GUESS_TIGHT = [[-1.2765218714141745e-07, -9.9999999999996270e-01, 2.4191266244420456e-07,
                 1.2236181723169010e-05],
                [9.9999999999984657e-01, -1.2765205668397379e-07, 5.3927490817443235e-07,
                 3.0989304639642360e-05],
                [-5.3927487729376330e-07, 2.4191273128378879e-07, 9.9999999999982525e-01,
                 -1.4999996460014262e+02],
                [0.0, 0.0, 0.0, 1.0]]


@pytest.mark.parametrize("shape", [(), (3,)])  # (): the single-pose kernel; (3,): batched
@pytest.mark.parametrize("lengths, guess, tolerance_mm", [
    (_LENGTHS_LOOSE, _GUESS_LOOSE, 1e-2), (_LENGTHS_TIGHT, _GUESS_TIGHT, 1e-10)])
def test_a_crossing_on_the_last_step_is_reported(
        frame: FrameGeometry, lengths: list[float], guess: list[list[float]],
        tolerance_mm: float, shape: tuple[int, ...]) -> None:
    start = np.broadcast_to(np.array(guess), (*shape, 4, 4))
    status = kin.solve_pose_status(frame.reference_joints, frame.moving_joints,
                                   np.broadcast_to(np.array(lengths), (*shape, 6)), start,
                                   tolerance_mm=tolerance_mm)
    assert np.all(status.converged)
    assert np.all(_det_positive(frame, status.poses) != _det_positive(frame, start))
    assert not np.any(status.same_branch)


def test_fk_leaves_the_callers_arrays_and_earlier_results_alone(frame: FrameGeometry) -> None:
    # 4097 poses: the last chunk of the default size holds one pose
    rng = np.random.default_rng(8)
    ref, mov = frame.reference_joints, frame.moving_joints
    truth = random_poses(rng, (4097,), angle_deg=10.0, shift_mm=10.0)
    lengths = kin.strut_lengths(ref, mov, truth)
    guess = truth @ random_poses(rng, (4097,), height=0.0, angle_deg=2.0, shift_mm=2.0)
    lengths.setflags(write=False)
    guess.setflags(write=False)
    lengths_before, guess_before = lengths.copy(), guess.copy()
    first, cond = fk._forward(ref, mov, lengths, guess, 1e-10, 60, -1.0, 90.0)
    kept = [np.array(a) for a in (first.poses, first.residual_mm, first.converged,
                                  first.same_branch, first.singular, cond)]
    again, cond_again = fk._forward(ref, mov, lengths[::-1], guess[::-1], 1e-10, 60, -1.0, 90.0)
    fk._forward(ref, mov, lengths[:100] * 1.1, None, 1e-10, 60, -1.0, 90.0, chunk=7)
    for before, now in zip(kept, (first.poses, first.residual_mm, first.converged,
                                  first.same_branch, first.singular, cond), strict=True):
        np.testing.assert_array_equal(now, before)
    np.testing.assert_array_equal(lengths, lengths_before)
    np.testing.assert_array_equal(guess, guess_before)
    np.testing.assert_allclose(again.poses[::-1], first.poses, atol=1e-11)
    np.testing.assert_allclose(cond_again[::-1], cond, rtol=1e-9)
    assert np.all(first.converged) and np.all(first.same_branch)


@pytest.mark.parametrize("side", [-1.0, 1.0])
def test_fk_flags_do_not_depend_on_chunk_or_kernel_for_wide_poses(frame: FrameGeometry,
                                                                  side: float) -> None:
    rng = np.random.default_rng(21)
    ref, mov = frame.reference_joints, frame.moving_joints
    truth = random_poses(rng, (400,), angle_deg=25.0, shift_mm=30.0, side=side)
    lengths = kin.strut_lengths(ref, mov, truth)
    guess = truth @ random_poses(rng, (400,), height=0.0, angle_deg=8.0, shift_mm=8.0)
    whole, cond = fk._forward(ref, mov, lengths, guess, 1e-10, 60, side, 90.0)
    for chunk in (5, 97):
        part, part_cond = fk._forward(ref, mov, lengths, guess, 1e-10, 60, side, 90.0,
                                      chunk=chunk)
        np.testing.assert_allclose(part.poses, whole.poses, atol=1e-11)
        np.testing.assert_allclose(part_cond, cond, rtol=1e-9)
        for flag in ("converged", "same_branch", "singular"):
            np.testing.assert_array_equal(getattr(part, flag), getattr(whole, flag))
    for i in range(0, 400, 10):
        one = fk._forward(ref, mov, lengths[i], guess[i], 1e-10, 60, side, None)[0]
        for flag in ("converged", "same_branch", "singular"):
            assert bool(getattr(one, flag)) == bool(getattr(whole, flag)[i]), (i, flag)


@pytest.mark.parametrize("spread_deg", [2.0, 0.05])
def test_the_condition_guard_decides_as_the_exact_condition_number(
        frame: FrameGeometry, spread_deg: float) -> None:
    # the guard of solve_pose skips the inverse where an upper bound already proves a pose
    # well conditioned: it must pass and refuse exactly the poses the exact number does
    rng = np.random.default_rng(5)
    poses = np.concatenate([_near_twist_singularity(rng, 300, spread_deg),
                            random_poses(rng, (300,), angle_deg=10.0)])
    lengths = kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    args = (frame.reference_joints, frame.moving_joints, lengths, poses, 1e-10, 60, -1.0, 90.0)
    _, exact = fk._forward(*args, chunk=128)
    median = float(np.median(exact[:300]))  # half of the near-singular poses above it
    for limit in (median, kin.NUMERICAL_CONDITION_LIMIT):
        _, guarded = fk._forward(*args, chunk=128, condition_limit=limit)
        np.testing.assert_array_equal(guarded <= limit, exact <= limit)
        above = exact > limit
        # reported as computed without the bound (to rounding: a few poses left above the
        # bound are solved by LAPACK rather than by the batched elimination)
        np.testing.assert_allclose(guarded[above], exact[above], rtol=1e-5)
        assert np.all(guarded[~above] >= exact[~above] * (1 - 1e-12))  # an upper bound
    assert 100 < (exact > median).sum() < 300
    bounded = guarded != exact  # at the default limit most poses need no inverse
    assert bounded.sum() >= 300 and np.all(guarded[bounded] > 10 * exact[bounded])
