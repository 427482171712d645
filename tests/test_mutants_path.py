"""The correction path (hexapod/planning/path.py): rows, days, adjustments and stages of a
two-stage plan, with each row's pose worked out by hand (a slide, then a turn in place)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.planning.path import rows

#: a fixed mounting: ring pose = MOUNT @ fragment pose
MOUNT = tf.from_rotation_translation(tf.rotation_from_rotvec(np.array([0.1, -0.2, 0.3])),
                                     np.array([5.0, -7.0, -150.0]))


def _slide(x):
    return tf.from_rotation_translation(np.eye(3), np.array([x, 0.0, 0.0]))


def _turn(deg):
    return tf.from_rotation_translation(
        tf.rotation_from_rotvec(np.array([0.0, 0.0, np.radians(deg)])), np.zeros(3))


def _plan_input(method, per_day, target_nudge=0.0):
    # stage 0 slides the fragment 12 mm along x; stage 1 turns it 30 degrees about its own z
    way = np.stack([np.eye(4), _slide(12.0), _slide(12.0) @ _turn(30.0)])
    target = MOUNT @ way[-1]
    target = target.copy()
    target[2, 3] += target_nudge
    return SimpleNamespace(
        case=SimpleNamespace(correction=SimpleNamespace(method=method,
                                                        adjustments_per_day=per_day)),
        waypoints_in_anatomy=way, start_pose=MOUNT @ way[0], target_pose=target,
        ring_pose_from_fragment=lambda fragment: MOUNT @ fragment)


def test_two_gradual_stages_row_by_row() -> None:
    pi = _plan_input("gradual", per_day=2, target_nudge=1e-6)
    poses, day, adjust, stage = rows(pi, np.array([2, 3]))
    assert day.tolist() == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert adjust.tolist() == [0, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]
    assert stage.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    expect = [MOUNT] + [MOUNT @ _slide(12.0 * i / 4) for i in range(1, 5)] + [
        MOUNT @ _slide(12.0) @ _turn(30.0 * i / 6) for i in range(1, 7)]
    np.testing.assert_allclose(poses[:-1], np.stack(expect)[:-1], atol=1e-9)
    # the last row is the exact target, not the end of the interpolation
    np.testing.assert_array_equal(poses[-1], pi.target_pose)


def test_a_stage_of_no_days_is_skipped() -> None:
    pi = _plan_input("gradual", per_day=1)
    poses, day, adjust, stage = rows(pi, np.array([0, 3]))
    assert day.tolist() == [0, 1, 2, 3]
    assert adjust.tolist() == [0, 1, 1, 1]
    assert stage.tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(poses[1], MOUNT @ _slide(12.0) @ _turn(10.0), atol=1e-9)


@pytest.mark.parametrize("stages", [1, 2])
def test_acute_is_one_jump(stages: int) -> None:
    pi = _plan_input("acute", per_day=3)
    if stages == 1:
        pi.waypoints_in_anatomy = pi.waypoints_in_anatomy[[0, 2]]
    poses, day, adjust, stage = rows(pi, np.array([5] * stages))
    np.testing.assert_array_equal(poses, np.stack([pi.start_pose, pi.target_pose]))
    assert day.tolist() == [0, 1] and adjust.tolist() == [0, 1]
    assert stage.tolist() == [0, stages - 1]


def test_three_stages_of_one_two_and_one_day() -> None:
    pi = _plan_input("gradual", per_day=1)
    way = pi.waypoints_in_anatomy
    pi.waypoints_in_anatomy = np.concatenate([way, (_slide(-5.0) @ way[-1])[None]])
    pi.target_pose = MOUNT @ pi.waypoints_in_anatomy[-1]
    poses, day, adjust, stage = rows(pi, np.array([1, 2, 1]))
    assert day.tolist() == [0, 1, 2, 3, 4]
    assert adjust.tolist() == [0, 1, 1, 1, 1]
    assert stage.tolist() == [0, 0, 1, 1, 2]
    assert day.dtype == adjust.dtype == stage.dtype == np.int64
    np.testing.assert_allclose(poses[1], MOUNT @ _slide(12.0), atol=1e-9)
    np.testing.assert_allclose(poses[2], MOUNT @ _slide(12.0) @ _turn(15.0), atol=1e-9)
    np.testing.assert_allclose(poses[4], pi.target_pose, atol=1e-12)
