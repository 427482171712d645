"""Safety geometry (hexapod/planning/safety.py) against oracles computed here: a brute-force
segment distance, ring gaps and joint angles of tilted rings worked out by hand, and each
refusal of ``safety_checks`` with its day, strut, value and limit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.frame import Frame
from hexapod.planning import safety

from .conftest import spec_frame


def _brute_distance(p0, p1, q0, q1, samples=4001):
    """Min over a fine grid of s of the exact distance from p(s) to segment q (and the same
    with the roles swapped): an upper bound within |d| / samples of the true distance."""
    def one_way(a0, a1, b0, b1):
        s = np.linspace(0.0, 1.0, samples)[:, None]
        pts = a0 + s * (a1 - a0)
        d2 = b1 - b0
        e = d2 @ d2
        t = np.clip((pts - b0) @ d2 / e, 0.0, 1.0) if e > 0 else np.zeros(samples)
        return np.min(np.linalg.norm(pts - (b0 + t[:, None] * d2), axis=1))
    return min(one_way(p0, p1, q0, q1), one_way(q0, q1, p0, p1))


def _segments(rng, n):
    # long segments and short ones (a * e - b^2 below 1 mm^4 for the latter)
    scale = np.where(np.arange(n) % 2 == 0, 50.0, 0.6)[:, None]
    p0, p1, q0, q1 = (rng.normal(size=(n, 3)) * scale for _ in range(4))
    # special shapes: parallel, collinear overlapping, crossing, touching at an end
    p0[0], p1[0], q0[0], q1[0] = [0, 0, 0], [10, 0, 0], [0, 5, 0], [10, 5, 0]
    p0[1], p1[1], q0[1], q1[1] = [0, 0, 0], [10, 0, 0], [5, 0, 0], [20, 0, 0]
    p0[2], p1[2], q0[2], q1[2] = [-5, 0, 0], [5, 0, 0], [0, -5, 3], [0, 5, 3]
    p0[3], p1[3], q0[3], q1[3] = [0, 0, 0], [10, 0, 0], [13, 4, 0], [20, 9, 0]
    p0[4], p1[4], q0[4], q1[4] = [0, 0, 0], [10, 0, 0], [-3, 4, 0], [-9, 1, 0]
    p0[5], p1[5], q0[5], q1[5] = [0, 0, 0], [10, 0, 0], [4, 7, 2], [6, 7, 2]
    p0[6], p1[6], q0[6], q1[6] = [0, 0, 0], [0, 0, 10], [2, 0, 15], [-2, 0, 15]
    p0[7], p1[7], q0[7], q1[7] = [0, 0, 0], [0, 0, 10], [2, 0, -15], [-2, 0, -15]
    p0[8], p1[8], q0[8], q1[8] = [0, 0, 0], [10, 0, 0], [12, 1, 0], [12, 1, 0.5]
    return p0, p1, q0, q1


def test_segment_distance_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    p0, p1, q0, q1 = _segments(rng, 400)
    got = safety._segment_distances(p0, p1, q0, q1)
    assert got.shape == (400,)
    for k in range(400):
        oracle = _brute_distance(p0[k], p1[k], q0[k], q1[k])
        slack = (np.linalg.norm(p1[k] - p0[k]) + np.linalg.norm(q1[k] - q0[k])) / 4000
        assert oracle - slack - 1e-9 <= got[k] <= oracle + 1e-9, k


def test_segment_distance_known_values_and_batch_shape() -> None:
    p0, p1, q0, q1 = _segments(np.random.default_rng(1), 9)
    got = safety._segment_distances(p0, p1, q0, q1)
    np.testing.assert_allclose(got[:9], [5.0, 0.0, 3.0, 5.0, 5.0, np.hypot(7, 2), 5.0, 15.0,
                                         np.hypot(2, 1)], atol=1e-12)
    batch = safety._segment_distances(p0.reshape(3, 3, 3), p1.reshape(3, 3, 3),
                                      q0.reshape(3, 3, 3), q1.reshape(3, 3, 3))
    np.testing.assert_allclose(batch.reshape(9), got, atol=1e-12)


def test_first_row_counts_rows_and_names_the_strut() -> None:
    mask = np.zeros((5, 6), dtype=bool)
    mask[2, 3] = mask[2, 5] = mask[4, 0] = True
    values = np.arange(30.0).reshape(5, 6)
    day = np.array([0, 1, 5, 6, 9])
    [v] = safety.first_row("joint_angle", mask, values, 40.0, day, per_strut=True)
    assert (v.kind, v.day, v.strut, v.value, v.limit) == ("joint_angle", 5, 4, 15.0, 40.0)
    assert dict(v.detail) == {"rows": 2}
    [w] = safety.first_row("singular", mask[:, 0], values[:, 0], 3.0, day, per_strut=False)
    assert (w.day, w.strut, w.value, w.detail["rows"]) == (9, None, 24.0, 1)
    assert safety.first_row("singular", np.zeros(5, bool), values[:, 0], 3.0, day, False) == []


def _plan_input(method="gradual", rp=80.0, rd=100.0, **limits):
    lim = dict(max_change_per_adjustment_mm=1.0, max_condition_number=1e9,
               min_ring_gap_mm=-1e9, strut_diameter_mm=0.0, max_joint_angle_deg=180.0)
    lim.update(limits)
    geometry = spec_frame(rp=rp, rd=rd)
    return SimpleNamespace(
        geometry=geometry,
        frame=Frame(geometry.reference_joints, geometry.moving_joints, geometry.reference),
        catalogue=SimpleNamespace(limits=SimpleNamespace(**lim)),
        case=SimpleNamespace(correction=SimpleNamespace(method=method)))


def test_change_per_adjustment_uses_readings_and_lengths() -> None:
    pi = _plan_input(max_change_per_adjustment_mm=1.0)
    day = np.array([0, 1, 2, 3])
    lengths = np.full((4, 6), 150.0)
    readings = np.full((4, 6), 100.0)
    assert safety.change_per_adjustment(pi, readings, lengths, day) == []
    readings[2:, 4] += 1.0  # exactly the limit: allowed
    assert safety.change_per_adjustment(pi, readings, lengths, day) == []
    lengths[3:, 1] -= 1.25  # a joint-centre distance that moves 1.25 mm on day 3
    [v] = safety.change_per_adjustment(pi, readings, lengths, day)
    assert (v.kind, v.day, v.strut, v.value, v.limit) == ("change_per_adjustment", 3, 2, 1.25,
                                                          1.0)
    readings[1:, 0] += 1.5  # a reading that moves 1.5 mm on day 1
    [v] = safety.change_per_adjustment(pi, readings, lengths, day)
    assert (v.day, v.strut, v.value, v.detail["rows"]) == (1, 1, 1.5, 2)
    assert safety.change_per_adjustment(_plan_input("acute"), readings, lengths, day) == []
    assert safety.change_per_adjustment(pi, readings[:1], lengths[:1], day[:1]) == []


def _tilted(theta_deg, height, side):
    rot = tf.rotation_from_rotvec(np.array([np.radians(theta_deg), 0.0, 0.0]))
    return tf.from_rotation_translation(rot, np.array([0.0, 0.0, side * height]))


@pytest.mark.parametrize("reference", ["proximal", "distal"])
def test_ring_gap_of_a_tilted_ring(reference: str) -> None:
    geo = spec_frame(rp=80.0, rd=100.0, reference=reference)
    pi = SimpleNamespace(geometry=geo)
    side = geo.moving_side
    poses = np.stack([_tilted(0.0, 150.0, side), _tilted(10.0, 150.0, side),
                      _tilted(-20.0, 120.0, side)])
    r_mov, r_ref = geo.moving_radius_mm, geo.reference_radius_mm
    assert r_mov != r_ref
    # the moving circle dips r_mov sin(theta) below the moving ring's centre plane; the
    # reference circle rises r_ref sin(theta) + (1 - cos(theta)) h towards the tilted plane
    expect = [min(h - r_mov * abs(np.sin(np.radians(t))),
                  h * np.cos(np.radians(t)) - r_ref * abs(np.sin(np.radians(t))))
              for t, h in [(0.0, 150.0), (10.0, 150.0), (-20.0, 120.0)]]
    np.testing.assert_allclose(safety.ring_gap(pi, poses), expect, atol=1e-9)


def _angles_oracle(geo, pose):
    """Plain loop: angle of each strut from the reference ring's axis and from the moving
    ring's axis, the larger one."""
    out = []
    axis_ref = np.array([0.0, 0.0, geo.moving_side])
    axis_mov = -geo.moving_side * pose[:3, 2]
    for i in range(6):
        end = pose[:3, :3] @ geo.moving_joints[i] + pose[:3, 3]
        u = end - geo.reference_joints[i]
        u = u / np.linalg.norm(u)
        a = np.degrees(np.arccos(np.clip(u @ axis_ref, -1, 1)))
        b = np.degrees(np.arccos(np.clip(-u @ axis_mov, -1, 1)))
        out.append(max(a, b))
    return out


def test_joint_angles_known_values_and_oracle() -> None:
    geo = spec_frame(rp=100.0, rd=100.0)
    side = geo.moving_side
    # struts parallel to the axis: distal joints straight below proximal ones needs equal
    # joint circles; with the pair-shifted joints, check a sideways shift with the loop oracle
    poses = np.stack([_tilted(0.0, 150.0, side), _tilted(12.0, 140.0, side),
                      _tilted(-25.0, 160.0, side)])
    poses[1, 0, 3] = 30.0
    got = safety.joint_angles(SimpleNamespace(geometry=geo), poses)
    assert got.shape == (3, 6)
    for n in range(3):
        np.testing.assert_allclose(got[n], _angles_oracle(geo, poses[n]), atol=1e-9)
    same = SimpleNamespace(reference_joints=geo.reference_joints,
                           moving_joints=geo.reference_joints, moving_side=side)
    shift = tf.from_rotation_translation(np.eye(3), np.array([40.0, 0.0, side * 120.0]))
    np.testing.assert_allclose(safety.joint_angles(SimpleNamespace(geometry=same), shift[None]),
                               np.full((1, 6), np.degrees(np.arctan2(40.0, 120.0))), atol=1e-9)
    # a pure tilt of 15 degrees: the moving ring's end of the strut at the tilt's axis
    # (the loop oracle; the moving end decides on some struts, the reference end on others)
    tilt = _tilted(15.0, 150.0, side)
    ang = safety.joint_angles(SimpleNamespace(geometry=same), tilt[None])
    np.testing.assert_allclose(ang[0], _angles_oracle(same, tilt), atol=1e-9)


def test_safety_checks_name_each_refusal() -> None:
    geo = spec_frame(rp=80.0, rd=100.0)
    side = geo.moving_side
    poses = np.stack([_tilted(0.0, 150.0, side), _tilted(5.0, 150.0, side),
                      _tilted(30.0, 150.0, side)])
    day = np.array([0, 1, 2])
    readings = np.full((3, 6), 100.0)
    lengths = np.full((3, 6), 150.0)
    base = _plan_input()
    found, cond = safety.safety_checks(base, poses, readings, lengths, day)
    assert found == [] and cond.shape == (3,) and np.all(cond >= 1.0)
    gap = safety.ring_gap(SimpleNamespace(geometry=geo), poses)
    joint = safety.joint_angles(SimpleNamespace(geometry=geo), poses)
    dist, ii, jj = safety.strut_clearance(SimpleNamespace(geometry=geo), poses)
    assert dist.shape == (3, 15) and ii.tolist() == [p[0] for p in safety._PAIRS]

    glimit = float(gap[1]) + 1e-6  # rows 1 and 2 break it
    [v] = safety.safety_checks(_plan_input(min_ring_gap_mm=glimit), poses, readings, lengths,
                               day)[0]
    assert (v.kind, v.day, v.strut, v.value, v.limit, v.detail["rows"]) == (
        "ring_gap", 1, None, gap[1], glimit, 2)

    climit = float(cond[0]) + 1e-6
    found = safety.safety_checks(_plan_input(max_condition_number=climit), poses, readings,
                                 lengths, day)[0]
    bad = np.nonzero(cond > climit)[0]
    assert [(v.kind, v.day, v.value) for v in found] == [("singular", int(bad[0]),
                                                          cond[bad[0]])]
    assert found[0].detail["rows"] == bad.size

    alimit = float(joint[0].max()) + 1e-6
    [v] = safety.safety_checks(_plan_input(max_joint_angle_deg=alimit), poses, readings,
                               lengths, day)[0]
    row = int(np.nonzero((joint > alimit).any(axis=1))[0][0])
    strut = int(np.nonzero(joint[row] > alimit)[0][0])
    assert (v.kind, v.day, v.strut, v.value, v.limit) == ("joint_angle", row, strut + 1,
                                                          joint[row, strut], alimit)

    dlimit = float(np.sort(dist[2])[1])  # two pairs on the last row are closer
    found = safety.safety_checks(_plan_input(strut_diameter_mm=dlimit), poses, readings,
                                 lengths, day)[0]
    [v] = [f for f in found if f.kind == "strut_collision"]
    j, k = map(int, np.argwhere(dist < dlimit)[0])
    assert (v.day, v.strut, v.detail["other_strut"], v.value, v.limit) == (
        j, int(ii[k]) + 1, int(jj[k]) + 1, dist[j, k], dlimit)
    ends = tf.apply(poses[j], geo.moving_joints)
    assert v.value == pytest.approx(_brute_distance(
        geo.reference_joints[ii[k]], ends[ii[k]], geo.reference_joints[jj[k]], ends[jj[k]]),
        abs=0.1)

    readings[2, 3] += 2.0
    [v] = safety.safety_checks(base, poses, readings, lengths, day)[0]
    assert (v.kind, v.day, v.strut) == ("change_per_adjustment", 2, 4)


def test_a_value_exactly_at_its_limit_is_allowed() -> None:
    geo = spec_frame(rp=80.0, rd=100.0)
    side = geo.moving_side
    poses = np.stack([_tilted(0.0, 150.0, side), _tilted(5.0, 150.0, side),
                      _tilted(30.0, 150.0, side)])
    day = np.array([0, 1, 2])
    readings = np.full((3, 6), 100.0)
    lengths = np.full((3, 6), 150.0)
    pi = SimpleNamespace(geometry=geo)
    _, cond = safety.safety_checks(_plan_input(), poses, readings, lengths, day)
    gap = safety.ring_gap(pi, poses)
    joint = safety.joint_angles(pi, poses)
    dist, _, _ = safety.strut_clearance(pi, poses)
    limits = [dict(max_condition_number=float(cond.max())),
              dict(min_ring_gap_mm=float(gap.min())),
              dict(max_joint_angle_deg=float(joint.max())),
              dict(strut_diameter_mm=float(dist.min()))]
    for limit in limits:
        found, _ = safety.safety_checks(_plan_input(**limit), poses, readings, lengths, day)
        assert found == [], limit


def test_change_per_adjustment_of_a_single_step_plan() -> None:
    # two rows: the start and one adjustment of 1.5 mm
    readings = np.array([[100.0] * 6, [101.5] + [100.0] * 5])
    lengths = readings + 50.0
    [v] = safety.change_per_adjustment(_plan_input(), readings, lengths, np.array([0, 1]))
    assert (v.kind, v.day, v.strut, v.value) == ("change_per_adjustment", 1, 1, 1.5)


def test_ring_gap_samples_the_whole_circle_every_five_degrees() -> None:
    # a tilt about a horizontal axis 5 degrees from x: the lowest points of each circle are
    # at 95 and 275 degrees, which a sampling every 5 degrees over one turn hits exactly
    geo = spec_frame(rp=80.0, rd=100.0)
    side = geo.moving_side
    theta = np.radians(10.0)
    axis = np.array([np.cos(np.radians(5.0)), np.sin(np.radians(5.0)), 0.0])
    pose = tf.from_rotation_translation(tf.rotation_from_rotvec(theta * axis),
                                        np.array([0.0, 0.0, side * 150.0]))
    expect = min(150.0 - geo.moving_radius_mm * np.sin(theta),
                 150.0 * np.cos(theta) - geo.reference_radius_mm * np.sin(theta))
    np.testing.assert_allclose(safety.ring_gap(SimpleNamespace(geometry=geo), pose[None]),
                               [expect], atol=1e-9)
