"""Forward kinematics on hostile batches (no assembly, wide tilts, twists towards the twist
singularity, nearly flat frames, guesses on both sides): a pose's flags, and the answer of a
converged pose, must not depend on the chunk size or on the other poses of its batch."""

from __future__ import annotations

import numpy as np
import pytest

from hexapod import _fk_kernel as fk
from hexapod import kinematics as kin
from hexapod import transforms as tf

from .conftest import random_poses, spec_frame


def hostile_lengths(rng: np.random.Generator) -> np.ndarray:
    """Reachable poses, wide tilts, twists towards the twist singularity, nearly flat frames,
    and lengths with no assembly, shuffled (n, 6)."""
    frame = spec_frame()
    ref, mov = frame.reference_joints, frame.moving_joints
    twist = np.zeros((30, 3))
    twist[:, 2] = np.radians(np.linspace(60.0, 120.0, 30))
    height = np.linspace(0.01, 5.0, 10)
    parts = [
        kin.strut_lengths(ref, mov, random_poses(rng, (150,), angle_deg=20.0, shift_mm=20.0)),
        kin.strut_lengths(ref, mov, random_poses(rng, (30,), angle_deg=40.0, shift_mm=40.0)),
        kin.strut_lengths(ref, mov, tf.from_rotation_translation(
            tf.rotation_from_rotvec(twist), np.tile([0.0, 0.0, -150.0], (30, 1)))),
        kin.strut_lengths(ref, mov, tf.from_translation(
            np.stack([0 * height, 0 * height, -height], axis=-1))),
        np.tile([20.0, 400.0, 20.0, 400.0, 20.0, 400.0], (8, 1)),
        np.ones((4, 6)),
        np.full((4, 6), 5000.0),
    ]
    lengths = np.concatenate(parts)
    return lengths[rng.permutation(len(lengths))]


@pytest.mark.parametrize("max_iterations", [1, 2, 3, 60])
def test_hostile_batch_does_not_depend_on_the_chunk(max_iterations: int) -> None:
    # guesses on both sides of the reference ring; poses still iterating when a chunk pools
    # them must keep their iterates, start signs and iteration budget
    frame = spec_frame()
    ref, mov = frame.reference_joints, frame.moving_joints
    rng = np.random.default_rng(14)
    lengths = hostile_lengths(rng)
    n = len(lengths)
    guesses = random_poses(rng, (n,), angle_deg=10.0)
    guesses[: n // 3, 2, 3] *= -1.0
    whole, whole_cond = fk._forward(ref, mov, lengths, guesses, 1e-10, max_iterations, -1.0,
                                    90.0, chunk=10**6)
    if max_iterations == 60:
        assert 0 < whole.converged.sum() < n
    # a pose that has not converged keeps a last iterate that rounding can move (see the
    # expected failure below); a converged one agrees to the solver's tolerance, and to
    # 1e-11 mm where well conditioned (a flat frame 0.01 mm apart, condition 1.6e4, moves
    # by 1.02e-11 mm, in the code before the pool too); every pose of a short run agrees
    trusted = whole.converged & (whole_cond <= kin.NUMERICAL_CONDITION_LIMIT)
    compare = np.ones(n, dtype=bool) if max_iterations < 60 else trusted & (whole_cond < 1e3)
    for chunk in (7, 64, n - 1):
        part, cond = fk._forward(ref, mov, lengths, guesses, 1e-10, max_iterations, -1.0,
                                 90.0, chunk=chunk)
        for flag in ("converged", "same_branch", "singular"):
            np.testing.assert_array_equal(getattr(part, flag), getattr(whole, flag))
        np.testing.assert_allclose(part.poses[compare], whole.poses[compare], rtol=0,
                                   atol=1e-11)
        np.testing.assert_allclose(part.poses[trusted], whole.poses[trusted], rtol=0,
                                   atol=1e-10)
        np.testing.assert_allclose(cond[compare], whole_cond[compare], rtol=1e-8)


def test_identical_rows_without_an_assembly_get_identical_flags() -> None:
    # the last iterate of a pose that does not converge depends on how its step was solved
    # (alone, by LAPACK for a few, by the vectorised elimination for many), so only its flags
    # are promised: not converged, on its branch or not, the same for every identical row
    frame = spec_frame()
    ones = np.ones((fk.FK_CHUNK + 1, 6))  # 1 mm struts: no assembly; the last row is alone
    result = kin.solve_pose_status(frame.reference_joints, frame.moving_joints, ones,
                                   moving_side=-1.0)
    assert not result.converged.any() and (result.residual_mm > 50.0).all()
    for flag in ("same_branch", "singular"):
        values = getattr(result, flag)
        assert (values == values[0]).all()


@pytest.mark.parametrize("max_iterations", [5, 6, 8])
def test_pooled_poses_stop_at_max_iterations(max_iterations: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # poses near the guess converge in a few iterations, so each chunk pools its few poses
    # with no assembly early; they must still stop at max_iterations, as unpooled
    frame = spec_frame()
    ref, mov = frame.reference_joints, frame.moving_joints
    rng = np.random.default_rng(3)
    lengths = kin.strut_lengths(ref, mov, random_poses(rng, (300,), angle_deg=0.3,
                                                       shift_mm=0.3))
    lengths[::37] = [20.0, 400.0, 20.0, 400.0, 20.0, 400.0]
    whole, _ = fk._forward(ref, mov, lengths, None, 1e-10, max_iterations, -1.0, None,
                           chunk=10**6)
    firsts: list[int] = []
    real = fk._Pool.add

    def spy(self: fk._Pool, first: int, state: tuple[np.ndarray, ...]) -> None:
        firsts.append(first)
        real(self, first, state)

    monkeypatch.setattr(fk._Pool, "add", spy)
    part, _ = fk._forward(ref, mov, lengths, None, 1e-10, max_iterations, -1.0, None,
                          chunk=40)
    assert firsts and max(firsts) < max_iterations  # pooled before the budget ran out
    assert not whole.converged[::37].any()
    for flag in ("converged", "same_branch", "singular"):
        np.testing.assert_array_equal(getattr(part, flag), getattr(whole, flag))
    np.testing.assert_allclose(part.poses, whole.poses, rtol=0, atol=1e-11)
    np.testing.assert_allclose(part.residual_mm, whole.residual_mm, rtol=1e-12)
    # one more iteration moves a pose with no assembly: the budget is what stopped it
    longer, _ = fk._forward(ref, mov, lengths, None, 1e-10, max_iterations + 1, -1.0, None,
                            chunk=40)
    assert np.abs(longer.poses[::37] - part.poses[::37]).max() > 1e-6
