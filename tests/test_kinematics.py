"""Inverse and forward kinematics: closed forms, round trips, batch shapes, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexapod import _fk_kernel as fk
from hexapod import _fk_single as single
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
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, moving_side=-1.0)
    assert solved.shape == (*shape, 4, 4)
    for pose, length in zip(flat, lengths.reshape(-1, 6), strict=True):
        single = kin.solve_pose(frame.reference_joints, frame.moving_joints, length,
                                moving_side=-1.0)
        np.testing.assert_allclose(single, pose, atol=1e-9)


def test_round_trip_thousands(frame: FrameGeometry, rng: np.random.Generator) -> None:
    poses = random_poses(rng, (5000,), angle_deg=8.0, shift_mm=10.0)
    lengths = ik(frame, poses)
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, moving_side=-1.0)
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
    solved = kin.solve_pose(frame.reference_joints, frame.moving_joints, ik(frame, poses),
                            moving_side=-1.0)
    np.testing.assert_allclose(solved, poses, atol=1e-9)


def test_guess_selects_mirror_assembly(frame: FrameGeometry) -> None:
    lengths = ik(frame, frame.neutral_pose(150.0))
    below = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, moving_side=-1.0)
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
        kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths, moving_side=-1.0)


def test_bad_joints_and_poses(frame: FrameGeometry) -> None:
    with pytest.raises(InputError, match=r"\(6, 3\)"):
        kin.strut_lengths(np.zeros((5, 3)), frame.moving_joints, np.eye(4))
    with pytest.raises(InputError, match="orthonormal"):
        kin.strut_lengths(frame.reference_joints, frame.moving_joints, np.diag([2, 1, 1, 1.0]))
    with pytest.raises(InputError, match="shape"):
        kin.strut_lengths(frame.reference_joints, frame.moving_joints, np.eye(3), check=False)


SHAPES = [(), (1,), (3, 1, 2), (23,)]  # 23: not a multiple of the test chunk sizes


@pytest.mark.parametrize("shape", SHAPES)
def test_chunked_ik_equals_unchunked_and_loop(frame: FrameGeometry, rng: np.random.Generator,
                                              shape: tuple[int, ...]) -> None:
    poses = random_poses(rng, shape)
    ref, mov = frame.reference_joints, frame.moving_joints
    whole = kin._lengths_unchecked(ref, mov, poses, chunk=10**6)
    for chunk, check in ((1, True), (4, False), (7, True)):
        np.testing.assert_allclose(kin._lengths_unchecked(ref, mov, poses, chunk=chunk,
                                                          check=check), whole, atol=1e-12)
    loop = [[np.linalg.norm(p[:3, :3] @ m + p[:3, 3] - b) for b, m in zip(ref, mov, strict=True)]
            for p in poses.reshape(-1, 4, 4)]
    np.testing.assert_allclose(whole.reshape(-1, 6), loop, atol=1e-12)
    assert whole.shape == (*shape, 6)


def test_ik_with_out_of_plane_joints(rng: np.random.Generator) -> None:
    ref = rng.normal(size=(6, 3)) * 80
    mov = rng.normal(size=(6, 3)) * 80  # z != 0: the kernel must not skip the z products
    poses = random_poses(rng, (9,))
    loop = [[np.linalg.norm(p[:3, :3] @ m + p[:3, 3] - b) for b, m in zip(ref, mov, strict=True)]
            for p in poses]
    np.testing.assert_allclose(kin.strut_lengths(ref, mov, poses), loop, atol=1e-12)


@pytest.mark.parametrize("bad, match", [
    (np.diag([1.0, 1.0, -1.0, 1.0]), "reflection"),
    (np.diag([1.0, 1.0 + 1e-5, 1.0, 1.0]), "orthonormal"),
    (np.vstack([np.eye(4)[:3], [0, 0, 1e-3, 1]]), "bottom row"),
])
@pytest.mark.parametrize("where", [0, 4100, 9999])
def test_checked_ik_finds_one_bad_pose_in_any_chunk(frame: FrameGeometry, bad: np.ndarray,
                                                     match: str, where: int) -> None:
    poses = np.broadcast_to(frame.neutral_pose(150.0), (10000, 4, 4)).copy()
    poses[where] = bad @ frame.neutral_pose(150.0) if match != "bottom row" else bad
    with pytest.raises(InputError, match=match):
        kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)
    with pytest.raises(InputError, match=match):
        tf.check_transform(poses)
    kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses, check=False)


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("entry", [(0, 0), (2, 3)])
def test_checked_ik_rejects_non_finite(frame: FrameGeometry, value: float,
                                       entry: tuple[int, int]) -> None:
    poses = np.broadcast_to(frame.neutral_pose(150.0), (5000, 4, 4)).copy()
    poses[4321][entry] = value
    with pytest.raises(InputError, match="NaN or infinite"):
        kin.strut_lengths(frame.reference_joints, frame.moving_joints, poses)


def test_rigid_rows_quick_test_is_sufficient(rng: np.random.Generator) -> None:
    poses = random_poses(rng, (300,), angle_deg=60.0)
    assert tf.rigid_rows_ok(poses.reshape(-1, 16).T.copy())
    # a deviation the full test tolerates but the quick one does not: "look closer" only
    poses[7, 0, 0] += 5e-7
    assert not tf.rigid_rows_ok(poses.reshape(-1, 16).T.copy())
    tf.check_transform(poses)


@pytest.mark.parametrize("shape", SHAPES)
def test_chunked_fk_equals_unchunked_and_loop(frame: FrameGeometry, rng: np.random.Generator,
                                              shape: tuple[int, ...]) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(rng, shape, angle_deg=6.0)
    lengths = ik(frame, poses)
    whole, _ = fk._forward(ref, mov, lengths, None, 1e-10, 60, -1.0, None, chunk=10**6)
    for chunk in (1, 4, 5):
        part, _ = fk._forward(ref, mov, lengths, None, 1e-10, 60, -1.0, None, chunk=chunk)
        np.testing.assert_allclose(part.poses, whole.poses, atol=1e-12)
        np.testing.assert_array_equal(part.converged, whole.converged)
    assert whole.poses.shape == (*shape, 4, 4) and whole.converged.shape == shape
    flat = lengths.reshape(-1, 6)
    for i, pose in enumerate(whole.poses.reshape(-1, 4, 4)):
        np.testing.assert_allclose(pose, kin.solve_pose(ref, mov, flat[i], moving_side=-1.0),
                                   atol=1e-12)
    np.testing.assert_allclose(whole.poses, poses, atol=1e-9)
    assert whole.converged.all() and whole.same_branch.all() and not whole.singular.any()
    assert float(np.max(whole.residual_mm, initial=0.0)) < 1e-10


def test_fk_pose_result_does_not_depend_on_its_chunk(frame: FrameGeometry) -> None:
    # wide poses converge at different iterations, so chunks of different sizes drop their
    # converged poses at different points (before or after a solve) and mix batched
    # elimination with per-system LAPACK: every pose's answer and flags must not change
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(11), (700,), angle_deg=20.0)
    lengths = ik(frame, poses)
    lengths[5] = [20, 400, 20, 400, 20, 400.0]  # one pose with no assembly
    whole, whole_cond = fk._forward(ref, mov, lengths, None, 1e-10, 60, -1.0, 90.0,
                                    chunk=700)
    for chunk in (3, 64, 333):
        part, cond = fk._forward(ref, mov, lengths, None, 1e-10, 60, -1.0, 90.0, chunk=chunk)
        np.testing.assert_allclose(part.poses, whole.poses, atol=1e-11)
        np.testing.assert_allclose(cond, whole_cond, rtol=1e-9)
        for flag in ("converged", "same_branch", "singular"):
            np.testing.assert_array_equal(getattr(part, flag), getattr(whole, flag))
    singles = [fk._forward(ref, mov, x, None, 1e-10, 60, -1.0, None)[0] for x in lengths[:40]]
    np.testing.assert_array_equal([s.same_branch for s in singles], whole.same_branch[:40])
    np.testing.assert_array_equal([s.converged for s in singles], whole.converged[:40])
    ok = np.ones(700, dtype=bool)
    ok[5] = False
    np.testing.assert_array_equal(whole.converged, ok)
    # at this spread a few poses reach another assembly of the same lengths from the
    # default start: their lengths, not their poses, are the invariant
    np.testing.assert_allclose(ik(frame, whole.poses[ok]), lengths[ok], atol=1e-9)
    assert float(np.max(whole.residual_mm[ok])) < 1e-10 and whole.residual_mm[5] > 1.0
    # the condition numbers against numpy's SVD of the scaled Jacobian
    jac = kin.jacobian(ref, mov, whole.poses[ok][:50])
    jac[..., 3:] /= 90.0
    sv = np.linalg.svd(jac, compute_uv=False)
    expected = np.sqrt(np.sum(sv**2, axis=-1) * np.sum(sv**-2.0, axis=-1))
    np.testing.assert_allclose(whole_cond[ok][:50], expected, rtol=1e-9)


def test_fk_pools_the_last_poses_of_each_chunk(frame: FrameGeometry,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # once most of a chunk has converged, its last poses continue in a shared pool with
    # those of other chunks: each keeps its iterates, its start's branch signs and its
    # iteration count (a pose with no assembly still stops at max_iterations)
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(np.random.default_rng(11), (700,), angle_deg=20.0)
    lengths = ik(frame, poses)
    lengths[5] = [20, 400, 20, 400, 20, 400.0]
    whole, whole_cond = fk._forward(ref, mov, lengths, None, 1e-10, 60, -1.0, 90.0,
                                    chunk=700)
    added: list[tuple[int, int]] = []
    waiting: list[int] = []  # poses left queued after each add: memory stays bounded
    real = fk._Pool.add

    def spy(self: fk._Pool, first: int, state: tuple[np.ndarray, ...]) -> None:
        added.append((first, state[0].size))
        real(self, first, state)
        waiting.extend(sum(part[0].size for part in g) for g in self.groups.values())

    monkeypatch.setattr(fk._Pool, "add", spy)
    for chunk in (50, 100):
        added.clear()
        pooled, cond = fk._forward(ref, mov, lengths, None, 1e-10, 60, -1.0, 90.0,
                                   chunk=chunk)
        assert len({first for first, _ in added}) >= 2  # pooled at different iterations
        assert sum(size for _, size in added) < 700 // 3
        assert 0 < max(waiting) < chunk
        np.testing.assert_allclose(pooled.poses, whole.poses, atol=1e-11)
        np.testing.assert_allclose(cond, whole_cond, rtol=1e-9)
        np.testing.assert_allclose(pooled.residual_mm, whole.residual_mm, rtol=1e-9,
                                   atol=1e-11)  # a step's rounding depends on its batch
        for flag in ("converged", "same_branch", "singular"):
            np.testing.assert_array_equal(getattr(pooled, flag), getattr(whole, flag))
    assert not whole.converged[5] and whole.residual_mm[5] > 1.0


def _pool_runs(added: list[tuple[int, int]], chunk: int) -> list[tuple[int, int]]:
    """The runs (iteration, poses) the pool should make of the poses queued: a key is run
    when it holds a full chunk, and what is left at the end, key by key; in full chunks but
    for the last of each run (a plain-loop oracle of :class:`hexapod._fk_kernel._Pool`)."""
    runs: list[tuple[int, int]] = []
    queued: dict[int, int] = {}

    def run(first: int) -> None:
        total = queued.pop(first)
        runs.extend((first, min(chunk, total - s)) for s in range(0, total, chunk))

    for first, size in added:
        queued[first] = queued.get(first, 0) + size
        if queued[first] >= chunk:
            run(first)
    for first in sorted(queued):
        run(first)
    return runs


def test_the_pool_runs_each_pose_once_in_full_chunks_on_the_batch_workspace(
        frame: FrameGeometry, monkeypatch: pytest.MonkeyPatch) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = ik(frame, random_poses(np.random.default_rng(11), (700,), angle_deg=20.0))
    added: list[tuple[int, int]] = []
    runs: list[tuple[int, int]] = []
    made: list[fk._Workspace] = []
    real_add, real_chunk, real_workspace = fk._Pool.add, fk._newton_chunk, fk._Workspace

    def add(self: fk._Pool, first: int, state: tuple[np.ndarray, ...]) -> None:
        added.append((first, state[0].size))
        real_add(self, first, state)

    def newton_chunk(*args: Any) -> tuple[np.ndarray, ...]:
        runs.append((args[8], args[2].shape[-1]))
        return real_chunk(*args)  # type: ignore[no-any-return]

    def workspace(*args: Any) -> fk._Workspace:
        made.append(real_workspace(*args))
        return made[-1]

    monkeypatch.setattr(fk._Pool, "add", add)
    monkeypatch.setattr(fk, "_newton_chunk", newton_chunk)
    monkeypatch.setattr(fk, "_Workspace", workspace)
    for chunk in (50, 100):
        added.clear(), runs.clear(), made.clear()
        fk._forward(ref, mov, lengths, None, 1e-10, 60, -1.0, 90.0, chunk=chunk)
        assert len(added) >= 5 and runs == _pool_runs(added, chunk)
        assert [w.size for w in made] == [chunk]  # the pool reuses the chunks' workspace
    for n in (50, 2):  # one chunk has nothing to pool with; two poses take the per-pose kernel
        added.clear(), runs.clear(), made.clear()
        fk._forward(ref, mov, lengths[:n], None, 1e-10, 60, -1.0, 90.0, chunk=50)
        assert sum(size for _, size in added) == 0 and runs == []
        assert [w.size for w in made] == ([50] if n == 50 else [])


def test_fk_reports_a_failing_pose_and_solves_the_others(frame: FrameGeometry,
                                                          rng: np.random.Generator) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = random_poses(rng, (4, 5))
    lengths = ik(frame, poses)
    lengths[2, 3] = [20, 400, 20, 400, 20, 400.0]  # no assembly has these
    result = kin.solve_pose_status(ref, mov, lengths, moving_side=-1.0)
    expected = np.ones((4, 5), dtype=bool)
    expected[2, 3] = False
    np.testing.assert_array_equal(result.converged, expected)
    assert result.residual_mm[2, 3] > 1.0
    np.testing.assert_allclose(result.poses[expected], poses[expected], atol=1e-9)
    assert not result.poses.flags.writeable and not result.converged.flags.writeable
    with pytest.raises(ConvergenceError, match=r"1 of 20 .*index \(2, 3\)"):
        kin.solve_pose(ref, mov, lengths, moving_side=-1.0)


def test_fk_branch_flag_follows_the_guess(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = ik(frame, frame.neutral_pose(150.0))
    mirror = kin.solve_pose_status(ref, mov, lengths, guess=tf.from_translation([0, 0, 140.0]))
    assert mirror.poses[2, 3] == pytest.approx(150.0) and mirror.same_branch


def _beyond_singularity(frame: FrameGeometry, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """A reachable pose whose det J has the other sign than the neutral pose's, and a pose
    ``offset`` steps before the sign change on the screw from the neutral pose to it."""
    ref, mov = frame.reference_joints, frame.moving_joints
    neutral = frame.neutral_pose(150.0)
    sign0 = np.sign(np.linalg.det(kin.jacobian(ref, mov, neutral)))
    poses = random_poses(np.random.default_rng(7), (4000,), angle_deg=25.0)
    others = poses[np.sign(np.linalg.det(kin.jacobian(ref, mov, poses))) != sign0]
    other = others[17]
    path = tf.power(other @ tf.invert(neutral), np.linspace(0, 1, 2001)) @ neutral
    dets = np.sign(np.linalg.det(kin.jacobian(ref, mov, path)))
    return other, path[np.flatnonzero(dets != sign0)[0] - offset]


def test_fk_stays_on_the_guess_side_of_a_singularity(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    other, guess = _beyond_singularity(frame, 20)
    result = kin.solve_pose_status(ref, mov, ik(frame, other), guess=guess)
    assert result.converged and result.same_branch
    assert not np.allclose(result.poses, other, atol=1e-3)  # another assembly, on its side
    np.testing.assert_allclose(ik(frame, result.poses), ik(frame, other), atol=1e-9)
    signs = np.sign(np.linalg.det(kin.jacobian(ref, mov, np.stack([guess, result.poses]))))
    assert signs[0] == signs[1]


def test_fk_branch_flag_catches_a_crossed_singularity(frame: FrameGeometry,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # without the step caps, Newton from this guess jumps across the singular configuration
    monkeypatch.setattr(fk, "MAX_STEP_MM", 1e9)
    monkeypatch.setattr(fk, "MAX_STEP_RAD", 1e9)
    ref, mov = frame.reference_joints, frame.moving_joints
    other, guess = _beyond_singularity(frame, 20)
    result = kin.solve_pose_status(ref, mov, ik(frame, np.stack([other, guess])),
                                   guess=np.stack([guess, guess]))
    np.testing.assert_allclose(result.poses[0], other, atol=1e-9)
    np.testing.assert_array_equal(result.same_branch, [False, True])
    assert result.converged.all()


def test_batched_solve_falls_back_to_pivoting_per_system(rng: np.random.Generator) -> None:
    mats = rng.normal(size=(5, 6, 6))
    mats[1, 0, 0] = 0.0  # the fixed order meets a zero pivot: solved again with pivoting
    mats[2, 0, 0] = 1e-14  # growth without pivoting
    mats[3, :, 0] = 0.0  # singular
    rhs = rng.normal(size=(5, 6, 2))
    aug = np.concatenate([mats, rhs], axis=2).transpose(1, 2, 0).copy()
    x, det = fk._solve_batch(aug)
    ok = [0, 1, 2, 4]
    np.testing.assert_allclose(x.transpose(2, 0, 1)[ok], np.linalg.solve(mats[ok], rhs[ok]),
                               atol=1e-10)
    np.testing.assert_allclose(det[ok], np.linalg.det(mats[ok]), rtol=1e-9)
    assert np.isnan(x[..., 3]).all()


@pytest.mark.parametrize("scale", [1e-9, 0.05, 0.1, 0.14, 0.5, 3.0])
def test_rotation_steps_match_rodrigues(rng: np.random.Generator, scale: float) -> None:
    omega = rng.normal(size=(3, 7))
    omega *= scale / np.linalg.norm(omega, axis=0)
    expected = tf.rotation_from_rotvec(omega.T)
    np.testing.assert_allclose(fk._rotation_step(omega).transpose(2, 0, 1), expected,
                               atol=2e-16)
    for i in range(7):
        np.testing.assert_allclose(single.rotation_single(*omega[:, i]), expected[i], atol=2e-16)


def test_single_pose_kernel_reports_failure(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    result = kin.solve_pose_status(ref, mov, [20, 400, 20, 400, 20, 400.0], moving_side=-1.0)
    assert result.poses.shape == (4, 4) and not result.converged
    assert result.residual_mm > 1.0
    near_flat = kin.solve_pose_status(ref, mov, ik(frame, frame.neutral_pose(1e-4)),
                                      guess=frame.neutral_pose(1e-4))
    assert not near_flat.converged or near_flat.residual_mm < 1e-10


@pytest.mark.parametrize("count", [1, 12])
def test_unconverged_residual_belongs_to_the_returned_pose(frame: FrameGeometry,
                                                           count: int) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    lengths = np.broadcast_to(ik(frame, random_poses(np.random.default_rng(9), ())), (count, 6))
    # too few steps
    result = kin.solve_pose_status(ref, mov, lengths, max_iterations=2, moving_side=-1.0)
    assert not result.converged.any()
    achieved = ik(frame, result.poses)
    np.testing.assert_allclose(result.residual_mm, np.max(np.abs(achieved - lengths), axis=-1),
                               rtol=1e-9)


def test_condition_guard_names_the_first_bad_index(frame: FrameGeometry) -> None:
    ref, mov = frame.reference_joints, frame.moving_joints
    poses = np.stack([frame.neutral_pose(150.0), frame.neutral_pose(150.0),
                      frame.neutral_pose(0.2)])  # nearly flat: condition number about 370
    lengths = ik(frame, poses)
    guess = np.stack([frame.neutral_pose(150.0)] * 2 + [frame.neutral_pose(0.2)])
    with pytest.raises(SingularFrameError, match=r"1 pose.*index \(2,\)"):
        kin.solve_pose(ref, mov, lengths, guess=guess, max_condition=100.0)
    solved = kin.solve_pose(ref, mov, lengths, guess=guess, max_condition=None)
    np.testing.assert_allclose(solved, poses, atol=1e-9)
