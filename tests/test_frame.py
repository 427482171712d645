"""Frame: the round trip of its kinematics on real cases, its own side, and the strut sizes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.clinical import build_plan_input
from hexapod.errors import InputError
from hexapod.frame import Frame
from hexapod.hardware import Quantity
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue

from .conftest import random_poses

ROOT = Path(__file__).parent.parent
CAT = load_catalogue()


def _case(name: str, side: str):  # type: ignore[no-untyped-def]
    case = read_case(ROOT / "sample_cases" / f"{name}.toml")
    return dataclasses.replace(case, patient=dataclasses.replace(case.patient, side=side))


@pytest.mark.parametrize("name", ["right_tibia_chronic", "distal_tibia_distal_reference"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_round_trip_around_each_case_start(name: str, side: str) -> None:
    case = _case(name, side)
    plan_input = build_plan_input(case, CAT)
    frame = Frame.from_catalogue(CAT, case.frame.proximal_ring_mm, case.frame.distal_ring_mm,
                                 case.frame.reference)
    assert frame.reference == case.frame.reference
    np.testing.assert_array_equal(frame.reference_joints, plan_input.geometry.reference_joints)
    near = random_poses(np.random.default_rng(3), (50,), height=0.0, angle_deg=4.0,
                        shift_mm=4.0, side=0.0)
    poses = plan_input.start_pose @ near
    solved = frame.solve_pose(frame.strut_lengths(poses))  # no guess: the frame's own side
    np.testing.assert_allclose(solved, poses, atol=1e-9)
    status = frame.solve_pose_status(frame.strut_lengths(poses))
    assert status.converged.all() and status.same_branch.all()
    np.testing.assert_allclose(status.poses, poses, atol=1e-9)


@pytest.mark.parametrize("reference, z", [("proximal", -130.0), ("distal", 130.0)])
def test_default_guess_is_on_the_moving_side(reference: str, z: float) -> None:
    frame = Frame.from_catalogue(CAT, 155, 155, reference)  # type: ignore[arg-type]
    assert frame.moving_side == np.sign(z)
    pose = frame.neutral_pose(130.0)
    assert pose[2, 3] == z
    lengths = frame.strut_lengths(pose)
    np.testing.assert_allclose(lengths, frame.neutral_lengths(130.0), atol=1e-12)
    assert frame.neutral_height(float(lengths[0])) == pytest.approx(130.0, abs=1e-12)
    assert frame.solve_pose(lengths)[2, 3] == pytest.approx(z, abs=1e-9)
    assert frame.solve_pose_status(lengths).poses[2, 3] == pytest.approx(z, abs=1e-9)
    # the kernel has no default side (the wrong one gives the mirror image, z = -z): without
    # a guess it must be told, and told the other side it returns exactly that mirror
    with pytest.raises(InputError, match="moving_side"):
        kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths)
    with pytest.raises(InputError, match="moving_side"):
        kin.solve_pose_status(frame.reference_joints, frame.moving_joints, lengths)
    mirror = kin.solve_pose(frame.reference_joints, frame.moving_joints, lengths,
                            moving_side=-frame.moving_side)
    assert mirror[2, 3] == pytest.approx(-z, abs=1e-9)


def test_rings_by_anatomy_whatever_the_reference() -> None:
    prox = Frame.from_catalogue(CAT, 155, 180, "proximal")
    dist = Frame.from_catalogue(CAT, 155, 180, "distal")
    np.testing.assert_array_equal(prox.proximal_joints, dist.proximal_joints)
    np.testing.assert_array_equal(prox.distal_joints, dist.distal_joints)
    np.testing.assert_array_equal(prox.proximal_joints, CAT.proximal_joints(155))
    np.testing.assert_array_equal(dist.distal_joints, CAT.distal_joints(180))
    assert prox.reference_joints is prox.proximal_joints
    assert dist.reference_joints is dist.distal_joints


def test_jacobian_and_condition_match_the_kernels() -> None:
    frame = Frame.from_catalogue(CAT, 155, 155)
    poses = random_poses(np.random.default_rng(4), (3, 2), height=140.0)
    np.testing.assert_array_equal(
        frame.jacobian(poses), kin.jacobian(frame.reference_joints, frame.moving_joints, poses))
    np.testing.assert_array_equal(
        frame.condition_number(poses),
        kin.condition_number(frame.reference_joints, frame.moving_joints, poses))
    assert frame.condition_number(poses).shape == (3, 2)


def _offset_catalogue():  # type: ignore[no-untyped-def]
    sizes = tuple(dataclasses.replace(s, reading_to_length_offset_mm=Quantity(off, "default"))
                  for s, off in zip(CAT.strut_sizes, (12.5, -3.0, 40.0, 7.25), strict=False))
    return dataclasses.replace(CAT, strut_sizes=sizes)


def test_strut_table_from_the_catalogue() -> None:
    cat = _offset_catalogue()
    frame = Frame.from_catalogue(cat, 155, 155)
    low, high, increment, offset = cat.range_table()
    np.testing.assert_array_equal(frame.min_reading_mm, low)
    np.testing.assert_array_equal(frame.max_reading_mm, high)
    np.testing.assert_array_equal(frame.increment_mm, increment)
    np.testing.assert_array_equal(frame.offset_mm, offset)
    assert frame.size_names == tuple(s.name for s in cat.strut_sizes)
    for arr in (frame.offset_mm, frame.reference_joints, frame.moving_joints):
        assert not arr.flags.writeable


def test_reading_length_round_trip_with_offsets() -> None:
    cat = _offset_catalogue()
    frame = Frame.from_catalogue(cat, 155, 155)
    names = frame.size_names
    sizes = [0, 1, 2, 0, 1, 2]
    readings = np.array([[100.0, 110.0, 120.0, 130.0, 140.0, 150.0],
                         [101.0, 111.0, 121.0, 131.0, 141.0, 151.0]])
    lengths = frame.reading_to_length(readings, sizes)
    expected_offset = np.array([cat.strut_sizes[i].offset_mm for i in sizes])
    np.testing.assert_allclose(lengths, readings + expected_offset, atol=0)
    assert lengths[0, 0] == 112.5 and lengths[0, 1] == 107.0  # known values
    by_name = frame.reading_to_length(readings, [names[i] for i in sizes])
    np.testing.assert_array_equal(by_name, lengths)
    np.testing.assert_allclose(frame.length_to_reading(lengths, sizes), readings, atol=1e-12)
    assert frame.reading_to_length(100.0, names[2]) == 140.0


@pytest.mark.parametrize("sizes, match", [("giant", "unknown"), (9, "outside"), (1.5, "name"),
                                          (True, "name")])
def test_bad_sizes(sizes: object, match: str) -> None:
    frame = Frame.from_catalogue(CAT, 155, 155)
    with pytest.raises(InputError, match=match):
        frame.reading_to_length(100.0, sizes)  # type: ignore[arg-type]


def test_bad_frames() -> None:
    joints = CAT.proximal_joints(155)
    with pytest.raises(InputError, match="no strut-size table"):
        Frame(joints, joints).reading_to_length(100.0, 0)
    with pytest.raises(InputError, match="reference"):
        Frame(joints, joints, "middle")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="shape"):
        Frame(joints, joints, "proximal", np.zeros(2), np.ones(2), np.ones(2), np.zeros(2),
              ("a",))
    with pytest.raises(InputError, match="increments"):
        Frame(joints, joints, "proximal", np.zeros(1), np.ones(1), np.zeros(1), np.zeros(1),
              ("a",))
    with pytest.raises(InputError, match="min_reading_mm > max"):
        Frame(joints, joints, "proximal", np.ones(1), np.zeros(1), np.ones(1), np.zeros(1),
              ("a",))
    with pytest.raises(InputError, match="unique"):
        Frame(joints, joints, "proximal", np.zeros(2), np.ones(2), np.ones(2), np.zeros(2),
              ("a", "a"))
    with pytest.raises(InputError, match="NaN"):
        Frame(joints, joints, "proximal", np.zeros(1), np.ones(1), np.ones(1), [np.nan], ("a",))


def test_frame_is_frozen() -> None:
    frame = Frame.from_catalogue(CAT, 155, 155)
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.reference = "distal"  # type: ignore[misc]
    assert tf.check_transform(frame.neutral_pose(120.0)).shape == (4, 4)
