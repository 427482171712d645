"""Reading a frame back as the correction still to do (hexapod.readback, hexapod.io.readback_words,
hexapod.io.case_write): known values, round trips through the anatomy and the frame, words."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.anatomy import poses_from_signed
from hexapod.case import (
    Case,
    CorrectionSettings,
    Deformity,
    FrameSpec,
    Mounting,
    Patient,
    StructureAtRisk,
)
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import CaseError, GeometryError, InputError
from hexapod.io.case_file import parse_case
from hexapod.io.case_write import TO_FILL, followup_case_text
from hexapod.io.catalogue_file import load_catalogue
from hexapod.io.readback_words import case_keys, parameter_words, remaining_lines
from hexapod.readback import (
    fragment_in_anatomy,
    moved_structures,
    nearest_row,
    remaining_correction,
    remaining_for_plan_input,
    ring_pose_from_readings,
    signed_from_distal_in_proximal,
)

CATALOGUE = load_catalogue("tsf-like")
#: Deformity words by signed parameter: case-file stem, unit, word for +, word for -.
WORDS = (("ap_angulation", "deg", "varus", "valgus"),
         ("lat_angulation", "deg", "apex_posterior", "apex_anterior"),
         ("axial_rotation", "deg", "internal", "external"),
         ("ap_translation", "mm", "medial", "lateral"),
         ("lat_translation", "mm", "anterior", "posterior"),
         ("axial_translation", "mm", "short", "long"))


def deformity_from_signed(signed: np.ndarray) -> Deformity:
    values: dict[str, object] = {}
    for (stem, unit, plus, minus), v in zip(WORDS, signed, strict=True):
        values[f"{stem}_{unit}"] = abs(float(v))
        values[f"{stem}_dir"] = (plus if v > 0 else minus) if v else None
    return Deformity(**values)  # type: ignore[arg-type]


def make_case(signed: np.ndarray, side: str, reference: str, rng: np.random.Generator,
              extra_mm: float = 0.0) -> Case:
    """A chronic case with the given deformity and a random plausible mounting."""
    axial_dir = "proximal" if reference == "proximal" else "distal"
    mounting = Mounting(
        ap_offset_mm=float(rng.uniform(0, 8)), ap_offset_dir=str(rng.choice(["medial", "lateral"])),
        lat_offset_mm=float(rng.uniform(0, 10)),
        lat_offset_dir=str(rng.choice(["anterior", "posterior"])),
        axial_offset_mm=float(rng.uniform(30, 90)), axial_offset_dir=axial_dir,
        rotary_offset_deg=float(rng.uniform(0, 10)),
        rotary_offset_dir=str(rng.choice(["medial", "lateral"])))
    return Case(mode="chronic", patient=Patient(side=side),  # type: ignore[arg-type]
                frame=FrameSpec(155, 155, reference, neutral_strut_mm=150),  # type: ignore[arg-type]
                deformity=deformity_from_signed(signed), mounting=mounting,
                correction=CorrectionSettings(start_date=dt.date(2026, 12, 1),
                                              extra_lengthening_mm=extra_mm))


def random_signed(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.uniform(-12, 12, 2), rng.uniform(-15, 15, 1),
                           rng.uniform(-6, 6, 2), rng.uniform(-8, 8, 1)])


def readings_at(plan_input: PlanInput, pose: np.ndarray, rounded: bool) -> np.ndarray:
    """Plan-free readings of a ring pose: joint-centre distances, on the 1 mm scale if rounded
    (every tsf-like size reads the joint-centre distance: offset 0)."""
    geo = plan_input.geometry
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, pose)
    return np.round(lengths) if rounded else lengths


# --- signed parameters of a pose: the inverse of the anatomy construction -------------------

@pytest.mark.parametrize("side, sign", [("right", 1.0), ("left", -1.0)])
def test_known_rotations_and_translations(side: str, sign: float) -> None:
    """A rotation about +y swings the distal end to -x: medial (varus) on a right leg, lateral
    (valgus) on a left one; +x rotation puts it anterior (apex posterior); +z turns anterior
    toward -x (internal on the right); -x translation is medial on the right."""
    def rot(axis: list[float], deg: float) -> np.ndarray:
        return tf.from_rotation_translation(tf.rotation_about_axis(axis, np.radians(deg)))

    assert signed_from_distal_in_proximal(rot([0, 1, 0], 10), side) == pytest.approx(
        [sign * 10, 0, 0, 0, 0, 0], abs=1e-12)
    assert signed_from_distal_in_proximal(rot([1, 0, 0], 7), side) == pytest.approx(
        [0, 7, 0, 0, 0, 0], abs=1e-12)
    assert signed_from_distal_in_proximal(rot([0, 0, 1], 20), side) == pytest.approx(
        [0, 0, sign * 20, 0, 0, 0], abs=1e-12)
    shift = tf.from_translation([-3.0, 2.0, 4.0])
    assert signed_from_distal_in_proximal(shift, side) == pytest.approx(
        [0, 0, 0, sign * 3, 2, 4], abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(ap=st.floats(-60, 60), lat=st.floats(-60, 60), rot=st.floats(-80, 80),
       shifts=st.lists(st.floats(-50, 50), min_size=3, max_size=3),
       side=st.sampled_from(["right", "left"]))
def test_inverse_of_poses_from_signed(ap: float, lat: float, rot: float, shifts: list[float],
                                      side: str) -> None:
    signed = np.array([ap, lat, rot, *shifts])
    pose = poses_from_signed(np.concatenate([signed, np.zeros(4)]), side)[0]
    assert signed_from_distal_in_proximal(pose, side) == pytest.approx(signed, abs=1e-9)


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2)])
def test_batch_shapes_match_a_plain_loop(shape: tuple[int, ...],
                                         rng: np.random.Generator) -> None:
    signed = rng.uniform(-20, 20, (*shape, 6))
    poses = poses_from_signed(np.concatenate([signed, np.zeros((*shape, 4))], axis=-1),
                              "left")[0]
    out = signed_from_distal_in_proximal(poses, "left")
    assert out.shape == (*shape, 6) and not out.flags.writeable
    for index in np.ndindex(*shape):
        assert out[index] == pytest.approx(signed_from_distal_in_proximal(poses[index], "left"))
        assert out[index] == pytest.approx(signed[index], abs=1e-9)


def test_bad_poses_refused() -> None:
    flipped = tf.from_rotation_translation(tf.rotation_about_axis([1, 0, 0], np.radians(95)))
    with pytest.raises(GeometryError, match="90°"):
        signed_from_distal_in_proximal(flipped, "right")
    with pytest.raises(InputError):
        signed_from_distal_in_proximal(np.eye(3), "right")
    with pytest.raises(InputError):
        signed_from_distal_in_proximal(np.eye(4), "up")


# --- through the frame: ring pose -> moving fragment -> distal in proximal ------------------

def test_fragment_in_anatomy_inverts_ring_pose_from_fragment(rng: np.random.Generator) -> None:
    for reference in ("proximal", "distal"):
        case = make_case(random_signed(rng), "right", reference, rng)
        pi = build_plan_input(case, CATALOGUE)
        fragment = tf.from_rotation_translation(
            tf.rotation_from_rotvec(rng.normal(size=3) * 0.1), rng.normal(size=3) * 5)
        ring = pi.ring_pose_from_fragment(fragment)
        back = fragment_in_anatomy(ring, pi.start_pose, pi.reference_ring_in_anatomy,
                                   pi.waypoints_in_anatomy[0])
        assert back == pytest.approx(fragment, abs=1e-9)


def rounding_bound(pi: PlanInput, readings: np.ndarray) -> np.ndarray:
    """Largest change of each signed parameter that rounding every reading by up to 0.5 mm
    can cause, to first order (central differences)."""
    jac = np.empty((6, 6))
    for j in range(6):
        step = np.zeros(6)
        step[j] = 1e-3
        plus, minus = (remaining_for_plan_input(pi, ring_pose_from_readings(pi, readings + s))
                       for s in (step, -step))
        jac[:, j] = (plus.signed - minus.signed) / 2e-3
    return 0.5 * np.abs(jac).sum(axis=1)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("reference", ["proximal", "distal"])
def test_start_readings_give_back_the_deformity(side: str, reference: str) -> None:
    """The issue's test: the start readings of a random known deformity, read back, give the
    six parameters: to 1e-6 from exact readings; from readings on the 1 mm scale, to what that
    rounding allows (angles within 0.5°; translations at the origin within the first-order
    bound, at most 1 mm); at the target, none."""
    rng = np.random.default_rng({"right": 1, "left": 2}[side] * 10 + len(reference))
    for _ in range(6):
        signed = random_signed(rng)
        pi = build_plan_input(make_case(signed, side, reference, rng), CATALOGUE)
        exact_readings = readings_at(pi, pi.start_pose, False)
        exact = remaining_for_plan_input(pi, ring_pose_from_readings(pi, exact_readings))
        assert exact.signed == pytest.approx(signed, abs=1e-6)
        assert exact.deformity_now == pytest.approx(signed, abs=1e-6)
        assert exact.true_angulation_deg == pytest.approx(np.degrees(np.arctan(np.hypot(
            np.tan(np.radians(signed[0])), np.tan(np.radians(signed[1]))))), abs=1e-6)
        rounded = remaining_for_plan_input(
            pi, ring_pose_from_readings(pi, readings_at(pi, pi.start_pose, True)))
        error = np.abs(rounded.signed - signed)
        bound = rounding_bound(pi, exact_readings)
        assert np.all(error <= 1.05 * bound + 0.01), (error, bound)
        assert error[:3].max() < 0.5 and error[3:].max() < 1.0
        assert_words_say(parameter_words(rounded.signed), signed, bound)
        end = remaining_for_plan_input(
            pi, ring_pose_from_readings(pi, readings_at(pi, pi.target_pose, False)))
        assert end.signed == pytest.approx(np.zeros(6), abs=1e-6)
        end_rounded = remaining_for_plan_input(
            pi, ring_pose_from_readings(pi, readings_at(pi, pi.target_pose, True)))
        assert np.abs(end_rounded.signed[:3]).max() < 0.5
        assert np.abs(end_rounded.signed[3:]).max() < 1.0


def assert_words_say(words: list[str], signed: np.ndarray, tolerance: np.ndarray) -> None:
    """Each printed parameter is within its tolerance (+ 0.05 for printing) of the true one and
    names the true direction whenever that is clear of the tolerance."""
    order = (0, 1, 3, 4, 2, 5)
    assert len(words) == 6
    for text, i in zip(words, order, strict=True):
        match = re.match(r"(\d+\.\d)(?:°| mm) ?([a-z ]*?)\s*(\(AP view\)|\(lateral view\)|"
                         r"rotation|axial)$", text)
        assert match, text
        value = float(match.group(1))
        _, _, plus, minus = WORDS[i]
        word = match.group(2).replace(" ", "_")
        assert abs(value - abs(signed[i])) < 1.05 * tolerance[i] + 0.06, (text, signed[i])
        if abs(signed[i]) > 1.05 * tolerance[i] + 0.1:
            assert word == (plus if signed[i] > 0 else minus), (text, signed[i])


def test_extra_lengthening_is_still_to_do_at_the_start(rng: np.random.Generator) -> None:
    signed = random_signed(rng)
    pi = build_plan_input(make_case(signed, "left", "proximal", rng, extra_mm=7.0), CATALOGUE)
    start = remaining_for_plan_input(pi, pi.start_pose)
    assert start.signed == pytest.approx(signed + [0, 0, 0, 0, 0, 7.0], abs=1e-9)
    assert start.deformity_now == pytest.approx(signed, abs=1e-9)
    end = remaining_for_plan_input(pi, pi.target_pose)
    assert end.signed == pytest.approx(np.zeros(6), abs=1e-9)
    assert end.deformity_now == pytest.approx([0, 0, 0, 0, 0, -7.0], abs=1e-9)  # 7 mm long
    assert any("7 mm of extra lengthening" in line for line in remaining_lines(end, pi.case))


def test_readings_mid_correction_give_that_pose(rng: np.random.Generator) -> None:
    """Forward kinematics from the start pose finds a pose half-way through the correction."""
    signed = random_signed(rng)
    pi = build_plan_input(make_case(signed, "right", "proximal", rng), CATALOGUE)
    half = pi.ring_pose_from_fragment(tf.power(pi.waypoints_in_anatomy[-1] @ tf.invert(
        pi.waypoints_in_anatomy[0]), 0.5) @ pi.waypoints_in_anatomy[0])
    pose = ring_pose_from_readings(pi, readings_at(pi, half, False))
    assert pose == pytest.approx(half, abs=1e-8)


def test_readings_refused(rng: np.random.Generator) -> None:
    pi = build_plan_input(make_case(random_signed(rng), "right", "proximal", rng), CATALOGUE)
    with pytest.raises(InputError, match="six"):
        ring_pose_from_readings(pi, [150.0] * 5)
    with pytest.raises(InputError, match="six"):
        ring_pose_from_readings(pi, [150.0] * 5 + [np.nan])
    with pytest.raises(InputError, match="outside every strut size"):
        ring_pose_from_readings(pi, [150.0] * 5 + [500.0])
    with pytest.raises(InputError, match="six strut sizes"):
        ring_pose_from_readings(pi, [150.0] * 6, ("medium",) * 5)
    with pytest.raises(GeometryError, match="do not describe a frame"):
        ring_pose_from_readings(pi, [80.0, 280.0] * 3)
    frames = {"start_ring_pose": np.eye(4), "reference_ring_in_anatomy": np.eye(4),
              "start_fragment_in_anatomy": np.eye(4)}
    with pytest.raises(InputError, match="reference"):
        remaining_correction(np.eye(4), **frames, reference="middle", side="right")
    with pytest.raises(InputError, match="one 4x4"):
        remaining_correction(np.stack([np.eye(4)] * 2), **frames, reference="proximal",
                             side="right")
    with pytest.raises(InputError, match="ring_pose"):
        remaining_correction(2 * np.eye(4), **frames, reference="proximal", side="right")


def test_remaining_is_read_only_and_validated(rng: np.random.Generator) -> None:
    pi = build_plan_input(make_case(random_signed(rng), "right", "distal", rng), CATALOGUE)
    remaining = remaining_for_plan_input(pi, pi.start_pose)
    for arr in (remaining.signed, remaining.ring_pose, remaining.distal_in_proximal,
                remaining.deformity_now, remaining.moving_fragment_motion):
        assert not arr.flags.writeable
    with pytest.raises(InputError):
        replace(remaining, signed=np.array([1.0, np.inf, 0, 0, 0, 0]))


def test_moved_structures_follow_the_moving_fragment(rng: np.random.Generator) -> None:
    nerve = StructureAtRisk("nerve", ap_mm=20, ap_dir="lateral", lat_mm=5, lat_dir="posterior",
                            axial_mm=30, axial_dir="proximal")
    case = replace(make_case(random_signed(rng), "left", "proximal", rng),
                   structures_at_risk=(nerve,))
    pi = build_plan_input(case, CATALOGUE)
    at_start = moved_structures(remaining_for_plan_input(pi, pi.start_pose), (nerve,), "left")
    assert at_start[0].position("left") == pytest.approx(nerve.position("left"), abs=1e-9)
    assert at_start[0].ap_dir == "lateral" and at_start[0].axial_dir == "proximal"
    at_end = moved_structures(remaining_for_plan_input(pi, pi.target_pose), (nerve,), "left")
    motion = pi.waypoints_in_anatomy[-1] @ tf.invert(pi.waypoints_in_anatomy[0])
    assert at_end[0].position("left") == pytest.approx(tf.apply(motion, nerve.position("left")),
                                                       abs=1e-9)


# --- nearest row of a prescription ----------------------------------------------------------

def test_nearest_row_known_values() -> None:
    rows = np.array([[150.0] * 6, [151.0] * 6, [152.0] * 6, [153.0] * 6])
    row, diff = nearest_row(rows, [152, 152, 149, 152, 152, 152])  # one strut 3 mm wrong way
    assert row == 2 and diff.tolist() == [0, 0, -3, 0, 0, 0] and not diff.flags.writeable
    # equal sums (2 mm): the smaller largest difference wins, then the earlier row
    row, _ = nearest_row([[152, 150, 150, 150, 150, 150], [151, 151, 150, 150, 150, 150]],
                         [150, 150, 150, 150, 150, 150])
    assert row == 1
    row, _ = nearest_row([[151.0] * 6, [151.0] * 6, [149.0] * 6], [150.0] * 6)
    assert row == 0


def test_nearest_row_matches_a_plain_loop(rng: np.random.Generator) -> None:
    for _ in range(30):
        rows = np.round(rng.uniform(145, 155, (int(rng.integers(1, 30)), 6)))
        now = np.round(rng.uniform(145, 155, 6))
        best, best_key = -1, (np.inf, np.inf)
        for i, r in enumerate(rows):
            key = (sum(abs(a - b) for a, b in zip(now, r, strict=True)),
                   max(abs(a - b) for a, b in zip(now, r, strict=True)))
            if key < best_key:
                best, best_key = i, key
        row, diff = nearest_row(rows, now)
        assert row == best and diff == pytest.approx(now - rows[best])


@pytest.mark.parametrize("rows, now", [(np.zeros((0, 6)), np.zeros(6)), (np.zeros((2, 5)),
                                       np.zeros(5)), (np.zeros(6), np.zeros(6)),
                                       (np.zeros((2, 6)), np.zeros(5)),
                                       (np.zeros((2, 6)), np.array([np.nan] * 6))])
def test_nearest_row_refuses_bad_shapes(rows: np.ndarray, now: np.ndarray) -> None:
    with pytest.raises(InputError):
        nearest_row(rows, now)


# --- words ---------------------------------------------------------------------------------

def test_words_of_known_values() -> None:
    signed = np.array([3.24, -1.0, -2.0, 0.8, -0.5, 1.04])
    assert parameter_words(signed) == [
        "3.2° varus (AP view)", "1.0° apex anterior (lateral view)", "0.8 mm medial (AP view)",
        "0.5 mm posterior (lateral view)", "2.0° external rotation", "1.0 mm short axial"]
    assert parameter_words(-signed)[0] == "3.2° valgus (AP view)"
    assert parameter_words([0.04, 0, 0, 0, 0, -0.04])[0] == "0.0° (AP view)"
    keys = case_keys(signed)
    assert keys["ap_angulation_deg"] == 3.2 and keys["ap_angulation_dir"] == "varus"
    assert keys["lat_angulation_dir"] == "apex_anterior" and keys["axial_translation_mm"] == 1.0
    assert case_keys([0.04, 0, 0, 0, 0, 0])["ap_angulation_dir"] is None
    with pytest.raises(InputError):
        parameter_words([1.0, 2.0])


def test_remaining_lines_true_angle_and_nothing_left(rng: np.random.Generator) -> None:
    signed = np.array([3.0, -4.0, 0, 0, 0, 0])
    pi = build_plan_input(make_case(signed, "right", "proximal", rng), CATALOGUE)
    lines = remaining_lines(remaining_for_plan_input(pi, pi.start_pose), pi.case)
    assert any("true angulation 5.0°" in line for line in lines)
    assert not any("nothing left" in line for line in lines)
    lines = remaining_lines(remaining_for_plan_input(pi, pi.target_pose), pi.case)
    assert any("nothing left to correct" in line for line in lines)


# --- the follow-up case file ---------------------------------------------------------------

def filled(text: str, values: dict[str, object]) -> str:
    """Replace each ``key = "?"`` of the written file by ``key = value`` (None: drop the key)."""
    for key, value in values.items():
        shown = f'"{value}"' if isinstance(value, str) else str(value)
        new = f"# {key}" if value is None else f"{key} = {shown}"
        text, count = re.subn(rf'^{key} = "\?"', new, text, flags=re.M)
        assert count == 1, key
    return text


def test_followup_case_loads_once_filled(rng: np.random.Generator) -> None:
    nerve = StructureAtRisk("peroneal nerve", ap_mm=20, ap_dir="lateral")
    case = replace(make_case(random_signed(rng), "left", "distal", rng),
                   patient=Patient(side="left", name='Ann "A" O\'Neil', id="X-1", bone="tibia"),
                   structures_at_risk=(nerve,))
    visit = dt.date(2027, 1, 5)
    text = followup_case_text(case, [150, 151.5, 149, 152, 150, 148], visit,
                              sizes=("medium",) * 6, source="orig.toml")
    with pytest.raises(CaseError, match=r"deformity\.ap_angulation_deg"):
        parse_case(tomllib.loads(text))
    loaded = parse_case(tomllib.loads(filled(text, case_keys([2.0, -1.5, 3.0, 0.5, -0.7, 1.2]))))
    assert loaded.mode == "residual" and loaded.patient == case.patient
    assert loaded.frame.strut_readings_mm == (150, 151.5, 149, 152, 150, 148)
    assert loaded.frame.strut_sizes == ("medium",) * 6
    assert (loaded.frame.proximal_ring_mm, loaded.frame.reference) == (155, "distal")
    for name in ("ap_offset_mm", "lat_offset_mm", "axial_offset_mm", "rotary_offset_deg"):
        assert getattr(loaded.mounting, name) == pytest.approx(getattr(case.mounting, name))
        direction = name.rsplit("_", 1)[0] + "_dir"
        assert getattr(loaded.mounting, direction) == getattr(case.mounting, direction)
    assert loaded.correction == replace(case.correction, start_date=visit, latency_days=0)
    assert loaded.structures_at_risk == (nerve,)
    assert loaded.deformity.ap_angulation_dir == "varus" and loaded.deformity.ap_angulation_deg == 2
    assert loaded.deformity.axial_translation_dir == "short"
    assert text.count(f'= "{TO_FILL}"') == 12


def test_followup_case_refuses_wrong_counts(rng: np.random.Generator) -> None:
    case = make_case(random_signed(rng), "right", "proximal", rng)
    with pytest.raises(InputError, match="six strut readings"):
        followup_case_text(case, [150] * 5, dt.date(2027, 1, 1))
    with pytest.raises(InputError, match="six strut sizes"):
        followup_case_text(case, [150] * 6, dt.date(2027, 1, 1), sizes=["medium"])


def test_followup_case_filled_with_the_prediction_aims_at_the_same_end(
        rng: np.random.Generator) -> None:
    """Filled with the deformity the frame reading predicts, the follow-up case's target is the
    original one (to the 0.1 rounding of the prediction): the written mounting, readings and
    frame are the original's."""
    for side, reference in (("right", "proximal"), ("left", "distal")):
        signed = random_signed(rng)
        pi = build_plan_input(make_case(signed, side, reference, rng, extra_mm=4.0), CATALOGUE)
        middle = pi.ring_pose_from_fragment(tf.power(pi.waypoints_in_anatomy[-1] @ tf.invert(
            pi.waypoints_in_anatomy[0]), 0.4) @ pi.waypoints_in_anatomy[0])
        readings = readings_at(pi, middle, True)
        remaining = remaining_for_plan_input(pi, ring_pose_from_readings(pi, readings))
        text = followup_case_text(pi.case, readings.tolist(), dt.date(2027, 1, 1))
        text = filled(text, case_keys(remaining.deformity_now, decimals=3))
        follow = build_plan_input(parse_case(tomllib.loads(text)), CATALOGUE)
        assert follow.start_pose == pytest.approx(remaining.ring_pose, abs=1e-6)
        assert follow.target_pose == pytest.approx(pi.target_pose, abs=0.05)
