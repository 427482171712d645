"""Frame geometry, the Frame object and the single-value checks pinned against hand values.

Each test fixes a behaviour that a changed comparison, constant, default or message in
``hexapod/geometry.py``, ``hexapod/frame.py`` or ``hexapod/checks.py`` would break.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hexapod import checks
from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.errors import ConvergenceError, GeometryError, InputError, SingularFrameError
from hexapod.frame import Frame
from hexapod.geometry import FrameGeometry, mean_joint_radius, neutral_strut_length, ring_joints
from hexapod.io.loading import load_case

from .conftest import DIST_CENTRES, DIST_SIDES, PROX_CENTRES, PROX_SIDES, spec_frame

ROOT = Path(__file__).parent.parent


def _message(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc.value)


# --- ring_joints ---------------------------------------------------------------------------

def test_ring_joints_known_values() -> None:
    # spacing 100 mm on a 100 mm circle: the pair's joints are +-30 degrees off its centre
    joints = ring_joints(100.0, 100.0, [0, 0, 90, 90, 180, 180], [-1, 1, -1, 1, -1, 1])
    angles = np.radians([-30, 30, 60, 120, 150, 210])
    np.testing.assert_allclose(joints, np.stack([100 * np.cos(angles), 100 * np.sin(angles),
                                                 np.zeros(6)], axis=-1), atol=1e-12)
    assert joints.shape == (6, 3) and joints.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(joints[0] - joints[1]), 100.0, rtol=1e-12)
    lifted = ring_joints(50.0, 10.0, PROX_CENTRES, PROX_SIDES, height_mm=7.5)
    np.testing.assert_array_equal(lifted[:, 2], 7.5)
    np.testing.assert_allclose(np.linalg.norm(lifted[:, :2], axis=1), 50.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(lifted[0] - lifted[1]), 10.0, rtol=1e-12)


@pytest.mark.parametrize("radius", [0.0, -1.0, np.nan])
def test_ring_joints_radius_must_be_positive(radius: float) -> None:
    with pytest.raises(InputError) as exc:
        ring_joints(radius, 10.0, PROX_CENTRES, PROX_SIDES)
    assert _message(exc) == f"joint radius must be > 0 mm, got {radius}"


@pytest.mark.parametrize("spacing", [0.0, -5.0, 200.0, 250.0, np.nan])
def test_ring_joints_spacing_inside_the_circle(spacing: float) -> None:
    with pytest.raises(InputError) as exc:
        ring_joints(100.0, spacing, PROX_CENTRES, PROX_SIDES)
    assert _message(exc) == f"joint pair spacing must be in (0, 200.0) mm, got {spacing}"


def test_ring_joints_of_a_small_ring() -> None:
    joints = ring_joints(0.5, 0.5, PROX_CENTRES, PROX_SIDES)  # any radius above 0 mm
    np.testing.assert_allclose(np.linalg.norm(joints[:, :2], axis=1), 0.5, rtol=1e-12)


def test_ring_joints_spacing_just_inside_is_accepted() -> None:
    joints = ring_joints(100.0, np.nextafter(200.0, 0.0), PROX_CENTRES, PROX_SIDES)
    assert np.all(np.isfinite(joints))
    assert np.all(np.isfinite(ring_joints(100.0, 1e-9, PROX_CENTRES, PROX_SIDES)))


@pytest.mark.parametrize("centres, sides", [
    (PROX_CENTRES[:5], PROX_SIDES), (PROX_CENTRES, PROX_SIDES[:5]),
    ([PROX_CENTRES], PROX_SIDES), (PROX_CENTRES, [PROX_SIDES]),
])
def test_ring_joints_six_struts(centres: list[int], sides: list[int]) -> None:
    with pytest.raises(InputError) as exc:
        ring_joints(100.0, 10.0, centres, sides)
    assert _message(exc) == "pair centres and sides must list six struts"


def test_mean_joint_radius_over_several_sets() -> None:
    a = ring_joints(100.0, 10.0, PROX_CENTRES, PROX_SIDES, height_mm=30.0)  # z is ignored
    b = ring_joints(130.0, 10.0, DIST_CENTRES, DIST_SIDES)
    assert mean_joint_radius(a) == pytest.approx(100.0, rel=1e-12)
    assert mean_joint_radius(a, b) == pytest.approx(115.0, rel=1e-12)
    assert mean_joint_radius(a, a, b) == pytest.approx(110.0, rel=1e-12)


def test_neutral_strut_length_by_hand() -> None:
    # Rp 3, Rd 4, a right angle between the joints: horizontal 5, height 12 -> 13
    assert neutral_strut_length(3.0, 4.0, np.pi / 2, 12.0) == pytest.approx(13.0, abs=1e-12)
    assert neutral_strut_length(3.0, 4.0, np.pi, 0.0) == pytest.approx(7.0, abs=1e-12)
    assert neutral_strut_length(3.0, 3.0, 0.0, -4.0) == pytest.approx(4.0, abs=1e-12)
    assert isinstance(neutral_strut_length(3.0, 4.0, 1.0, 2.0), float)


# --- FrameGeometry -------------------------------------------------------------------------

def test_frame_geometry_rings_and_sides() -> None:
    prox = ring_joints(100.0, 50.0, PROX_CENTRES, PROX_SIDES)
    dist = ring_joints(120.0, 50.0, DIST_CENTRES, DIST_SIDES)
    default = FrameGeometry(prox, dist)
    assert default.reference == "proximal" and default.moving_side == -1.0
    for reference, side, first, second in (("proximal", -1.0, prox, dist),
                                           ("distal", 1.0, dist, prox)):
        geo = FrameGeometry.from_rings(prox, dist, reference)  # type: ignore[arg-type]
        assert geo.reference == reference and geo.moving_side == side
        np.testing.assert_array_equal(geo.reference_joints, first)
        np.testing.assert_array_equal(geo.moving_joints, second)
        np.testing.assert_array_equal(geo.proximal_joints, prox)
        np.testing.assert_array_equal(geo.distal_joints, dist)
        assert geo.reference_radius_mm == pytest.approx(100.0 if side < 0 else 120.0)
        assert geo.moving_radius_mm == pytest.approx(120.0 if side < 0 else 100.0)
        assert geo.length_scale_mm == pytest.approx(110.0, rel=1e-12)
        assert not geo.reference_joints.flags.writeable
        assert not geo.moving_joints.flags.writeable
    assert FrameGeometry.from_rings(prox, dist).reference == "proximal"
    prox_copy = prox.copy()
    geo = FrameGeometry(prox_copy, dist)
    prox_copy[0, 0] = 999.0  # the geometry keeps its own copy
    assert geo.reference_joints[0, 0] == prox[0, 0]


@pytest.mark.parametrize("shape", [(5, 3), (7, 3), (2, 6, 3)])
def test_frame_geometry_needs_six_joints_per_ring(shape: tuple[int, ...]) -> None:
    six = spec_frame().reference_joints
    with pytest.raises(InputError) as exc:
        FrameGeometry(np.ones(shape), six)
    assert _message(exc) == f"reference_joints must have shape (6, 3), got {shape}"
    with pytest.raises(InputError) as exc:
        FrameGeometry(six, np.ones(shape))
    assert _message(exc) == f"moving_joints must have shape (6, 3), got {shape}"


def test_frame_geometry_bad_reference() -> None:
    joints = spec_frame().reference_joints
    with pytest.raises(InputError) as exc:
        FrameGeometry(joints, joints, "middle")  # type: ignore[arg-type]
    assert _message(exc) == "reference must be 'proximal' or 'distal', got 'middle'"


@pytest.mark.parametrize("reference, sign", [("proximal", -1.0), ("distal", 1.0)])
def test_neutral_pose_batch_shapes(reference: str, sign: float) -> None:
    geo = spec_frame(reference=reference)
    assert geo.neutral_pose(150.0).shape == (4, 4)
    heights = np.arange(6.0).reshape(3, 1, 2) * 10 + 100
    poses = geo.neutral_pose(heights)
    assert poses.shape == (3, 1, 2, 4, 4)
    np.testing.assert_array_equal(poses[..., 2, 3], sign * heights)
    np.testing.assert_array_equal(poses[..., :2, 3], 0.0)
    np.testing.assert_array_equal(poses[..., :3, :3], np.broadcast_to(np.eye(3),
                                                                      (3, 1, 2, 3, 3)))
    lengths = geo.neutral_lengths(heights)
    assert lengths.shape == (3, 1, 2, 6) and geo.neutral_lengths(150.0).shape == (6,)
    horiz = 2 * 100.0**2 * (1 - np.cos(np.radians(30.0)))
    np.testing.assert_allclose(lengths, np.broadcast_to(np.sqrt(horiz + heights[..., None] ** 2),
                                                          (3, 1, 2, 6)), rtol=1e-12)


def _lifted(reference: str, prox_z: float, dist_z: float) -> FrameGeometry:
    prox = ring_joints(100.0, 2 * 100 * np.sin(np.radians(15)), PROX_CENTRES, PROX_SIDES, prox_z)
    dist = ring_joints(100.0, 2 * 100 * np.sin(np.radians(15)), DIST_CENTRES, DIST_SIDES, dist_z)
    return FrameGeometry.from_rings(prox, dist, reference)  # type: ignore[arg-type]


@pytest.mark.parametrize("reference", ["proximal", "distal"])
def test_neutral_lengths_and_height_with_joints_off_the_ring_plane(reference: str) -> None:
    # joints 4 mm below the proximal ring's plane and 6 mm above the distal one's
    geo = _lifted(reference, -4.0, 6.0)
    horiz = 2 * 100.0**2 * (1 - np.cos(np.radians(30.0)))
    gap = 150.0 - 4.0 - 6.0  # joint centres 140 mm apart along z at ring height 150
    expected = np.sqrt(horiz + gap**2)
    np.testing.assert_allclose(geo.neutral_lengths(150.0), expected, rtol=1e-12)
    np.testing.assert_allclose(kin.strut_lengths(geo.reference_joints, geo.moving_joints,
                                                 geo.neutral_pose(150.0)), expected, rtol=1e-12)
    assert geo.neutral_height(float(expected)) == pytest.approx(150.0, abs=1e-9)


def test_joint_heights_may_vary_if_each_strut_spans_the_same_height() -> None:
    # every strut's joints are 3 mm apart along z, though the joints sit at different heights
    geo = spec_frame()
    ref, mov = geo.reference_joints.copy(), geo.moving_joints.copy()
    ref[:, 2] = np.arange(6.0)
    mov[:, 2] = np.arange(6.0) + 3.0
    tilted = FrameGeometry(ref, mov)
    horiz = 2 * 100.0**2 * (1 - np.cos(np.radians(30.0)))
    np.testing.assert_allclose(tilted.neutral_lengths(150.0), np.sqrt(horiz + 147.0**2),
                               rtol=1e-12)
    assert tilted.neutral_height(float(np.sqrt(horiz + 147.0**2))) == pytest.approx(150.0)


def test_joint_heights_must_agree_for_a_neutral_frame() -> None:
    geo = spec_frame()
    moving = geo.moving_joints.copy()
    moving[3, 2] = 1e-6  # more than 1e-9 mm off
    uneven = FrameGeometry(geo.reference_joints, moving)
    message = "joint heights differ between struts; the neutral frame has no single strut length"
    for call in (lambda: uneven.neutral_lengths(150.0), lambda: uneven.neutral_height(160.0)):
        with pytest.raises(GeometryError) as exc:
            call()
        assert _message(exc) == message
    moving[3, 2] = 5e-9
    with pytest.raises(GeometryError, match="joint heights differ"):
        FrameGeometry(geo.reference_joints, moving).neutral_lengths(150.0)
    moving[3, 2] = 1e-9  # exactly 1e-9 mm: still one strut length
    even = FrameGeometry(geo.reference_joints, moving)
    assert even.neutral_lengths(150.0).shape == (6,)


def test_unequal_struts_have_no_neutral_height() -> None:
    geo = spec_frame()
    moving = geo.moving_joints.copy()
    moving[0, 0] += 0.1
    with pytest.raises(GeometryError) as exc:
        FrameGeometry(geo.reference_joints, moving).neutral_height(160.0)
    assert _message(exc) == "this layout has unequal struts in the neutral frame"
    # a relative difference below 1e-6 of the squared offset is tolerated
    horiz = 2 * 100.0**2 * (1 - np.cos(np.radians(30.0)))
    nudged = geo.moving_joints.copy()
    nudged[0, :2] *= 1 + 1e-8
    height = FrameGeometry(geo.reference_joints, nudged).neutral_height(160.0)
    assert height == pytest.approx(np.sqrt(160.0**2 - horiz), abs=1e-4)
    # the height is strut 1's
    first = float(np.sum((nudged[0, :2] - geo.reference_joints[0, :2]) ** 2))
    assert abs(first - horiz) > 1e-5
    assert height == pytest.approx(np.sqrt(160.0**2 - first), abs=1e-11)


def test_unequal_tolerance_is_absolute_for_small_offsets() -> None:
    # joints almost above each other: squared offsets below 1 mm^2, tolerance 1e-6 mm^2
    ref = spec_frame().reference_joints
    within = ref.copy()
    within[:, 0] += 0.5
    within[0, 0] += 4e-7  # squared offset 0.25 + 4e-7: off by 4e-7 < 1e-6
    assert FrameGeometry(ref, within).neutral_height(10.0) == pytest.approx(
        np.sqrt(100.0 - 0.25), abs=1e-6)
    beyond = ref.copy()
    beyond[:, 0] += 0.5
    beyond[0, 0] += 1.5e-6  # off by 1.5e-6 > 1e-6
    with pytest.raises(GeometryError, match="unequal struts"):
        FrameGeometry(ref, beyond).neutral_height(10.0)


@pytest.mark.parametrize("length", [10.0, 51.76380902050415])
def test_a_strut_shorter_than_the_horizontal_offset(length: float) -> None:
    geo = spec_frame()  # horizontal offset 51.764 mm
    with pytest.raises(GeometryError) as exc:
        geo.neutral_height(length)
    assert _message(exc) == (f"a neutral strut of {length:.3f} mm is shorter than the horizontal "
                             "joint offset 51.764 mm: rings cannot be parallel")
    # exactly as long as the offset: still refused (parallel rings would be coplanar)
    ref = spec_frame().reference_joints
    flat = FrameGeometry(ref, ref + [3.0, 4.0, 0.0])
    with pytest.raises(GeometryError, match=r"strut of 5\.000 mm .* offset 5\.000 mm"):
        flat.neutral_height(5.0)
    assert flat.neutral_height(13.0) == pytest.approx(12.0, abs=1e-12)
    assert geo.neutral_height(51.77) == pytest.approx(np.sqrt(51.77**2 - 51.76380902050415**2),
                                                      rel=1e-6)


# --- Frame ---------------------------------------------------------------------------------

def _sized(**changes: object) -> Frame:
    joints = spec_frame()
    values: dict[str, object] = {
        "min_reading_mm": [10.0, 20.0], "max_reading_mm": [50.0, 90.0],
        "increment_mm": [1.0, 0.5], "offset_mm": [60.0, 100.0], "size_names": ("S", "L")}
    values.update(changes)
    return Frame(joints.reference_joints, joints.moving_joints, "proximal", **values)  # type: ignore[arg-type]


def test_frame_tables_are_read_only_copies() -> None:
    offsets = np.array([60.0, 100.0])
    frame = _sized(offset_mm=offsets, size_names=["S", "L"])
    offsets[0] = 0.0
    assert frame.offset_mm.tolist() == [60.0, 100.0] and frame.size_names == ("S", "L")
    for name in ("min_reading_mm", "max_reading_mm", "increment_mm", "offset_mm"):
        assert not getattr(frame, name).flags.writeable
        assert getattr(frame, name).dtype == np.float64
    empty = Frame(frame.reference_joints, frame.moving_joints)
    assert empty.size_names == () and empty.offset_mm.shape == (0,)
    assert isinstance(frame.geometry, FrameGeometry) and not isinstance(frame.geometry, Frame)
    np.testing.assert_array_equal(frame.geometry.moving_joints, frame.moving_joints)
    assert frame.geometry.reference == frame.reference


@pytest.mark.parametrize("changes, message", [
    ({"offset_mm": [60.0]}, "offset_mm must have shape (2,), got (1,)"),
    ({"min_reading_mm": [[10.0, 20.0]]}, "min_reading_mm must have shape (2,), got (1, 2)"),
    ({"max_reading_mm": [50.0, np.inf]}, "max_reading_mm contains NaN or infinite values"),
    ({"increment_mm": [np.nan, 1.0]}, "increment_mm contains NaN or infinite values"),
    ({"size_names": ("S", "S")}, "strut size names must be unique"),
    ({"min_reading_mm": [10.0, 90.5]}, "a strut size has min_reading_mm > max_reading_mm"),
    ({"increment_mm": [1.0, 0.0]}, "strut size increments must be > 0 mm"),
    ({"increment_mm": [-0.5, 1.0]}, "strut size increments must be > 0 mm"),
])
def test_bad_strut_tables_exact_messages(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as exc:
        _sized(**changes)
    assert _message(exc) == message


def test_equal_min_and_max_reading_is_a_fixed_strut() -> None:
    frame = _sized(min_reading_mm=[50.0, 20.0])
    assert frame.min_reading_mm[0] == frame.max_reading_mm[0] == 50.0


def test_size_index_by_name_index_and_shape() -> None:
    frame = _sized()
    assert frame.size_index("L") == 1 and frame.size_index(np.int64(0)) == 0
    idx = frame.size_index([["S", 1], [0, "L"]])
    assert idx.shape == (2, 2) and idx.dtype == np.intp
    assert idx.tolist() == [[0, 1], [0, 1]]
    assert frame.size_index(np.array([1, 0, 1])).tolist() == [1, 0, 1]


@pytest.mark.parametrize("size, message", [
    ("XL", "strut size 'XL' is unknown (allowed: S, L)"),
    (2, "strut size index 2 is outside 0..1"),
    (-1, "strut size index -1 is outside 0..1"),
    (1.0, "strut size must be a name or an index, got 1.0"),
    (False, "strut size must be a name or an index, got False"),
    (None, "strut size must be a name or an index, got None"),
])
def test_bad_sizes_exact_messages(size: object, message: str) -> None:
    frame = _sized()
    for call in (frame.size_index, lambda s: frame.reading_to_length(10.0, s),
                 lambda s: frame.length_to_reading(100.0, s)):
        with pytest.raises(InputError) as exc:
            call(size)
        assert _message(exc) == message
    with pytest.raises(InputError) as exc:
        Frame(frame.reference_joints, frame.moving_joints).size_index(0)
    assert _message(exc) == "this frame has no strut-size table"


def test_readings_and_lengths_broadcast() -> None:
    frame = _sized()
    readings = np.array([[10.0, 20.0, 30.0]])
    lengths = frame.reading_to_length(readings, [["S"], ["L"]])  # (1, 3) against (2, 1)
    assert lengths.shape == (2, 3)
    np.testing.assert_array_equal(lengths, [[70.0, 80.0, 90.0], [110.0, 120.0, 130.0]])
    back = frame.length_to_reading(lengths, [[0], [1]])
    np.testing.assert_array_equal(back, np.broadcast_to(readings, (2, 3)))
    assert frame.length_to_reading(100.0, "L") == 0.0


def test_frame_kinematics_use_its_own_side() -> None:
    for reference, z in (("proximal", -150.0), ("distal", 150.0)):
        geo = spec_frame(reference=reference)
        frame = Frame(geo.reference_joints, geo.moving_joints, geo.reference)
        pose = frame.neutral_pose(150.0)
        assert pose[2, 3] == z
        lengths = frame.strut_lengths(pose)
        np.testing.assert_allclose(lengths, 158.68047115, atol=1e-8)
        np.testing.assert_allclose(frame.solve_pose(lengths), pose, atol=1e-9)
        status = frame.solve_pose_status(lengths)
        assert status.converged and status.poses[2, 3] == pytest.approx(z)
        # the defaults: no start guess, 60 iterations, tolerance 1e-10 mm
        np.testing.assert_allclose(frame.solve_pose_status(lengths, max_iterations=0).poses,
                                   pose, atol=1e-7)  # the default start is the answer here
        assert float(status.residual_mm) < 1e-10
        jac = frame.jacobian(pose)
        np.testing.assert_allclose(np.abs(jac[:, 2]), 150.0 / 158.68047115, rtol=1e-9)
        np.testing.assert_allclose(frame.condition_number(pose),
                                   kin.condition_number(geo.reference_joints, geo.moving_joints,
                                                        pose, 100.0), rtol=1e-12)


def test_frame_kinematics_at_an_asymmetric_pose(rng: np.random.Generator) -> None:
    geo = spec_frame(rp=100.0, rd=130.0)
    frame = Frame(geo.reference_joints, geo.moving_joints)
    ref, mov = geo.reference_joints, geo.moving_joints
    pose = tf.from_rotation_translation(tf.rotation_from_rotvec([0.1, -0.05, 0.2]),
                                        [4.0, -3.0, -140.0])
    loop = [np.linalg.norm(pose[:3, :3] @ m + pose[:3, 3] - b)
            for b, m in zip(ref, mov, strict=True)]
    np.testing.assert_allclose(frame.strut_lengths(pose), loop, rtol=0, atol=1e-12)
    rows = []
    for b, m in zip(ref, mov, strict=True):
        lever = pose[:3, :3] @ m
        unit = (lever + pose[:3, 3] - b) / np.linalg.norm(lever + pose[:3, 3] - b)
        rows.append(np.concatenate([unit, np.cross(lever, unit)]))
    np.testing.assert_allclose(frame.jacobian(pose), rows, rtol=0, atol=1e-12)
    scaled = np.array(rows)
    scaled[:, 3:] /= 115.0
    sv = np.linalg.svd(scaled, compute_uv=False)
    assert frame.condition_number(pose) == pytest.approx(sv[0] / sv[-1], rel=1e-10)
    # a guess on the other side of the reference ring reaches the mirror assembly
    mirror = tf.from_translation([0.0, 0.0, 140.0])
    status = frame.solve_pose_status(frame.strut_lengths(pose), mirror)
    assert status.converged and status.poses[2, 3] > 100.0
    assert frame.solve_pose(frame.strut_lengths(pose), mirror)[2, 3] > 100.0


def test_frame_condition_guard_and_check_flag() -> None:
    geo = spec_frame()
    frame = Frame(geo.reference_joints, geo.moving_joints)
    flat = frame.neutral_pose(1e-4)  # Frobenius condition number about 1.65e6
    with pytest.raises(SingularFrameError, match="near a singular"):
        frame.solve_pose(frame.strut_lengths(flat), flat)
    solved = frame.solve_pose(frame.strut_lengths(flat), flat, max_condition=None)
    assert solved[2, 3] == pytest.approx(-1e-4, abs=1e-6)
    bent = np.diag([1.001, 1.0, 1.0, 1.0])
    with pytest.raises(InputError, match="orthonormal"):
        frame.strut_lengths(bent)
    assert frame.strut_lengths(bent, check=False).shape == (6,)
    # tolerance and iterations reach the solver: 3 mm off centre needs more than one step
    shifted = frame.strut_lengths(tf.from_translation([3.0, 0.0, -150.0]))
    with pytest.raises(ConvergenceError, match="did not converge"):
        frame.solve_pose(shifted, max_iterations=1)
    assert frame.solve_pose(shifted, max_iterations=1, tolerance_mm=10.0)[2, 3] < -100.0
    assert not frame.solve_pose_status(shifted, max_iterations=1).converged
    loose = frame.solve_pose_status(shifted, max_iterations=1, tolerance_mm=10.0)
    assert loose.converged and loose.residual_mm > 1e-3


@pytest.mark.parametrize("reference", ["proximal", "distal"])
def test_frame_from_a_case_takes_its_rings_and_reference(reference: str) -> None:
    case = load_case(ROOT / "sample_cases" / "right_tibia_chronic.toml")
    spec = dataclasses.replace(case.frame, proximal_ring_mm=155, distal_ring_mm=180,
                               reference=reference)
    case = dataclasses.replace(case, frame=spec)
    cat = case.catalogue
    assert cat is not None
    frame = Frame.from_case(case)
    assert frame.reference == reference and frame.geometry.reference == reference
    np.testing.assert_array_equal(frame.proximal_joints, cat.proximal_joints(155))
    np.testing.assert_array_equal(frame.distal_joints, cat.distal_joints(180))
    np.testing.assert_array_equal(frame.geometry.proximal_joints, cat.proximal_joints(155))
    assert frame.size_names == tuple(s.name for s in cat.strut_sizes)
    low, high, increment, offset = cat.range_table()
    np.testing.assert_array_equal(frame.offset_mm, offset)
    np.testing.assert_array_equal(frame.min_reading_mm, low)
    np.testing.assert_array_equal(frame.max_reading_mm, high)
    np.testing.assert_array_equal(frame.increment_mm, increment)
    by_default = Frame.from_catalogue(cat, 155, 180)
    assert by_default.reference == "proximal"
    np.testing.assert_array_equal(by_default.reference_joints, cat.proximal_joints(155))


def test_frame_tables_become_floats_and_names_text() -> None:
    frame = _sized(min_reading_mm=[10, 20], max_reading_mm=[50, 90], increment_mm=[1, 1],
                   offset_mm=[60, 100], size_names=(1, 2))
    for name in ("min_reading_mm", "max_reading_mm", "increment_mm", "offset_mm"):
        assert getattr(frame, name).dtype == np.float64
    assert frame.size_names == ("1", "2")
    assert frame.size_index("2") == 1


def test_ring_joints_take_fractional_degrees() -> None:
    joints = ring_joints(100.0, 2 * 100 * np.sin(np.radians(0.25)),
                         [22.5, 22.5, 142.5, 142.5, 262.5, 262.5], [-1, 1, -1, 1, -1, 1])
    angles = np.radians([22.25, 22.75, 142.25, 142.75, 262.25, 262.75])
    np.testing.assert_allclose(joints[:, :2], 100 * np.stack([np.cos(angles), np.sin(angles)],
                                                             axis=-1), atol=1e-9)


def test_integer_lengths_are_lengths_in_mm() -> None:
    geo = spec_frame()
    ref, mov = geo.reference_joints, geo.moving_joints
    for n in (1, 3):
        lengths = np.full((n, 6), 160, dtype=int)
        as_float = kin.solve_pose(ref, mov, lengths.astype(float), moving_side=-1.0)
        np.testing.assert_array_equal(kin.solve_pose(ref, mov, lengths, moving_side=-1.0),
                                      as_float)
        horiz = 2 * 100.0**2 * (1 - np.cos(np.radians(30.0)))
        np.testing.assert_allclose(as_float[:, 2, 3], -np.sqrt(160.0**2 - horiz), atol=1e-9)


def test_frame_from_case_needs_a_catalogue() -> None:
    case = load_case(ROOT / "sample_cases" / "right_tibia_chronic.toml")
    frame = Frame.from_case(case)
    assert frame.reference == case.frame.reference and len(frame.size_names) > 0
    with pytest.raises(InputError) as exc:
        Frame.from_case(dataclasses.replace(case, catalogue=None))
    assert _message(exc) == ("case.catalogue is missing: load the case with hexapod.load_case, "
                             "or attach one with dataclasses.replace(case, catalogue=...)")


# --- checks --------------------------------------------------------------------------------

def test_show_shortens_long_values() -> None:
    assert checks.show("a" * 58) == repr("a" * 58)  # 60 characters: kept
    assert checks.show("a" * 59) == "'" + "a" * 56 + "..."  # 61: cut to 60
    assert len(checks.show(list(range(100)))) == 60
    assert checks.show(10**5000) == "<an integer of about 5000 digits>"


@pytest.mark.parametrize("kwargs, value, message", [
    ({}, "5", "must be a number, got '5'"),
    ({}, True, "must be a number, got True"),
    ({}, None, "must be a number, got None"),
    ({}, float("inf"), "must be finite, got inf"),
    ({}, float("nan"), "must be finite, got nan"),
    ({}, 10**400, "must be finite, got " + checks.show(10**400)),
    ({"integer": True}, 2.5, "must be a whole number, got 2.5"),
    ({"minimum": 1.5}, 1.4, "must be >= 1.5, got 1.4"),
    ({"above": 1.5}, 1.5, "must be > 1.5, got 1.5"),
    ({"maximum": 2.5}, 2.6, "must be <= 2.5, got 2.6"),
    ({"below": 2.5}, 2.5, "must be < 2.5, got 2.5"),
    ({"minimum": 0.0}, -1e-300, "must be >= 0, got -1e-300"),
])
def test_check_number_refusals(kwargs: dict[str, object], value: object, message: str) -> None:
    with pytest.raises(InputError) as exc:
        checks.check_number("speed_mm", value, **kwargs)  # type: ignore[arg-type]
    assert exc.value.field == "speed_mm" and exc.value.message == message


@pytest.mark.parametrize("kwargs, value", [
    ({"minimum": 1.5}, 1.5), ({"maximum": 2.5}, 2.5), ({"above": 1.5}, 1.5000001),
    ({"below": 2.5}, 2.4999999), ({"integer": True}, 3.0), ({"integer": True}, np.int32(4)),
    ({}, np.float32(0.5)), ({"minimum": 0, "maximum": 0}, 0),
])
def test_check_number_accepts_the_bounds(kwargs: dict[str, object], value: object) -> None:
    number = checks.check_number("x", value, **kwargs)  # type: ignore[arg-type]
    assert type(number) is float and number == float(value)  # type: ignore[arg-type]


def test_check_word() -> None:
    assert checks.check_word("side", "left", ("left", "right")) == "left"
    for bad in ("up", 3, None):
        with pytest.raises(InputError) as exc:
            checks.check_word("side", bad, ("left", "right"))
        assert exc.value.field == "side"
        assert exc.value.message == f"{bad!r} is not allowed; allowed: left, right"


def test_check_text() -> None:
    assert checks.check_text("name", "x" * 200) == "x" * 200  # the default limit: 200
    assert checks.check_text("name", "") == ""
    assert checks.check_text("name", "  ab", longest=4, required=True) == "  ab"
    cases = [
        (("x" * 201,), {}, "is 201 characters long; at most 200 allowed"),
        (("abcd",), {"longest": 3}, "is 4 characters long; at most 3 allowed"),
        (("  " + "x" * 199,), {}, "is 201 characters long; at most 200 allowed"),
        ((7,), {}, "must be text, got 7"),
        (("   ",), {"required": True}, "missing (required): say what it is"),
        (("",), {"required": True}, "missing (required): say what it is"),
        (("a\tb",), {}, "must not contain control characters, got 'a\\tb'"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(InputError) as exc:
            checks.check_text("name", *args, **kwargs)  # type: ignore[arg-type]
        assert exc.value.field == "name" and exc.value.message == message
