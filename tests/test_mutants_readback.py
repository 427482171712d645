"""Reading a frame back (:mod:`hexapod.readback`) and the projected angles of a deformity
(:func:`hexapod.anatomy.true_angulation`): the exact refusals, the tilt limit, the default
of no extra lengthening, the direction words of moved structures and the guess that picks
the assembly. Built from the survivors of a mutation run (see docs/testing.md)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.anatomy import true_angulation
from hexapod.case import StructureAtRisk
from hexapod.clinical import PlanInput
from hexapod.errors import GeometryError, InputError
from hexapod.io.loading import load_case
from hexapod.planning import Plan, plan, prepare
from hexapod.readback import (
    Remaining,
    move_structures,
    moved_structures,
    nearest_row,
    remaining_correction,
    ring_pose_from_readings,
    signed_from_distal_in_proximal,
)

from .test_resume import SAMPLE

TILTED = "the distal fragment is tilted 90° or more from the proximal one; its angulation " \
         "cannot be read as AP and lateral views"


def _tilted(degrees: float) -> np.ndarray:
    return tf.from_rotation_translation(tf.rotation_about_axis([1, 0, 0], np.radians(degrees)))


@pytest.mark.parametrize("degrees", [89.92, 90.0, 95.0, 180.0])
def test_a_fragment_tilted_past_89_9_degrees_cannot_be_read(degrees: float) -> None:
    with pytest.raises(GeometryError, match=f"^{re.escape(TILTED)}$"):
        signed_from_distal_in_proximal(_tilted(degrees), "right")


def test_a_fragment_tilted_89_85_degrees_is_read() -> None:
    signed = signed_from_distal_in_proximal(_tilted(89.85), "right")
    assert signed[1] == pytest.approx(89.85, abs=1e-9)  # distal end anterior: apex posterior


def test_a_pose_of_another_shape_is_refused_by_name() -> None:
    with pytest.raises(InputError, match=r"^distal_in_proximal must have shape \(\.\.\., 4, "
                                         r"4\), got \(3, 3\)$"):
        signed_from_distal_in_proximal(np.eye(3), "right")


def test_a_ring_pose_that_is_no_transform_is_refused_by_name() -> None:
    frames = {"start_ring_pose": np.eye(4), "reference_ring_in_anatomy": np.eye(4),
              "start_fragment_in_anatomy": np.eye(4)}
    with pytest.raises(InputError, match=r"^ring_pose: bottom row must be \[0, 0, 0, 1\]$"):
        remaining_correction(2 * np.eye(4), **frames, reference="proximal", side="right")


def test_without_extra_lengthening_the_remaining_is_the_deformity_now() -> None:
    start_fragment = tf.from_translation([0.0, 0.0, -12.0])  # 12 mm long
    remaining = remaining_correction(np.eye(4), start_ring_pose=np.eye(4),
                                     reference_ring_in_anatomy=np.eye(4),
                                     start_fragment_in_anatomy=start_fragment,
                                     reference="proximal", side="right")
    assert remaining.extra_lengthening_mm == 0.0
    np.testing.assert_allclose(remaining.signed, [0, 0, 0, 0, 0, -12.0], atol=1e-12)
    np.testing.assert_array_equal(remaining.signed, remaining.deformity_now)


def test_remaining_refuses_signed_parameters_that_are_not_six_finite_numbers() -> None:
    good = np.zeros(6)
    for bad in (np.zeros(5), np.array([0, 0, np.nan, 0, 0, 0.0])):
        with pytest.raises(InputError, match=r"^signed parameters must be six finite numbers$"):
            Remaining(bad, 0.0, np.eye(4), good, np.eye(4), np.eye(4), 0.0)


@pytest.mark.parametrize("side", ["right", "left"])
def test_moved_structures_name_each_direction_at_half_a_millimetre(side: str) -> None:
    # a structure at the origin moved under 1 mm along each axis, both ways: every word
    m = -1.0 if side == "right" else 1.0
    origin = StructureAtRisk("a")
    for shift, words in (([m * 0.5, 0.3, 0.4], ("medial", "anterior", "proximal")),
                         ([-m * 0.5, -0.3, -0.4], ("lateral", "posterior", "distal")),
                         ([0.0, 0.0, 0.0], (None, None, None))):
        remaining = Remaining(np.zeros(6), 0.0, np.eye(4), np.zeros(6), np.eye(4),
                              tf.from_translation(shift), 0.0)
        (moved,) = moved_structures(remaining, (origin,), side)
        assert (moved.ap_dir, moved.lat_dir, moved.axial_dir) == words
        assert (moved.ap_mm, moved.lat_mm, moved.axial_mm) == pytest.approx(np.abs(shift))


@pytest.fixture(scope="module")
def sample() -> tuple[PlanInput, Plan]:
    plan_input = prepare(load_case(SAMPLE))
    return plan_input, plan(plan_input)


def test_readings_are_solved_from_the_guess_given(sample: tuple[PlanInput, Plan]) -> None:
    # the mirror image through the reference ring's plane has the same six lengths: the
    # guess decides which of the two assemblies the readings are read as
    plan_input, prescription = sample
    pose, readings = prescription.achieved_poses[20], prescription.readings_mm[20]
    flip = np.diag([1.0, 1.0, -1.0, 1.0])
    mirror = flip @ pose @ flip
    np.testing.assert_allclose(ring_pose_from_readings(plan_input, readings), pose, atol=1e-6)
    np.testing.assert_allclose(ring_pose_from_readings(plan_input, readings, guess=mirror),
                               mirror, atol=1e-6)


@pytest.mark.parametrize(("rows", "now", "message"), [
    (np.zeros((0, 6)), np.zeros(6), r"previous readings must have shape \(n, 6\), n >= 1, "
                                    r"got \(0, 6\)"),
    (np.zeros((2, 6)), np.zeros(5), r"readings must have shape \(6,\), got \(5,\)"),
    (np.zeros((2, 6)), np.array([np.inf] * 6), "readings contain NaN or infinite values"),
])
def test_nearest_row_refusals_say_what_is_wrong(rows: np.ndarray, now: np.ndarray,
                                                message: str) -> None:
    with pytest.raises(InputError, match=f"^{message}$"):
        nearest_row(rows, now)


@pytest.mark.parametrize(("ap", "lat", "true", "plane"), [
    (0.0, 0.0, 0.0, 0.0), (10.0, 0.0, 10.0, 0.0), (0.0, 10.0, 10.0, 90.0),
    (0.0, -10.0, 10.0, 90.0), (-10.0, 0.0, 10.0, 0.0),
    (10.0, 10.0, np.degrees(np.arctan(np.sqrt(2) * np.tan(np.radians(10.0)))), 45.0),
])
def test_true_angulation_and_its_plane_known_values(ap: float, lat: float, true: float,
                                                    plane: float) -> None:
    assert true_angulation(ap, lat) == pytest.approx((true, plane), abs=1e-12)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_a_structure_moved_past_the_position_bound_on_any_axis_is_refused(axis: int) -> None:
    words = (("ap_mm", "ap_dir", "medial"), ("lat_mm", "lat_dir", "anterior"),
             ("axial_mm", "axial_dir", "proximal"))[axis]
    at_bound = StructureAtRisk("edge", **{words[0]: 500.0, words[1]: words[2]})
    (kept,) = move_structures((at_bound,), np.eye(4), "left")  # the bound itself is allowed
    assert getattr(kept, words[0]) == 500.0
    shift = np.zeros(3)
    shift[axis] = 0.5  # medial on a left limb, anterior, proximal: 0.5 mm further out
    with pytest.raises(InputError) as info:
        move_structures((at_bound,), tf.from_translation(shift), "left")
    assert info.value.field == "structures_at_risk"
    assert info.value.message.startswith("'edge' is moved 500.5 mm from the origin")
