"""Clinical model: words to transforms (virtual X-rays), mounting, modes, case-file errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.anatomy import distal_in_proximal, reference_ring_in_anatomy, true_angulation
from hexapod.case import Case, CorrectionSettings, Deformity, FrameSpec, Mounting, Patient
from hexapod.clinical import build_plan_input
from hexapod.errors import CaseError
from hexapod.io.case_file import parse_case, read_case
from hexapod.io.catalogue_file import load_catalogue

SAMPLES = sorted(Path(__file__).parent.parent.glob("sample_cases/*.toml"))
CATALOGUE = load_catalogue()


def virtual_xray(d_in_p: np.ndarray, side: str) -> dict[str, Any]:
    """Read a deformity back off a pose as a radiologist would: project the distal fragment's
    distal-pointing axis on the AP (x-z) and lateral (y-z) planes."""
    medial = -1.0 if side == "right" else 1.0
    axis = -d_in_p[:3, 2]
    ap = np.degrees(np.arctan2(abs(axis[0]), -axis[2]))
    lat = np.degrees(np.arctan2(abs(axis[1]), -axis[2]))
    t = d_in_p[:3, 3]
    # twist: undo the swing, read the rotation about z
    cross = np.cross([0, 0, -1.0], axis)
    sin = np.linalg.norm(cross)
    swing = np.eye(3) if sin < 1e-15 else tf.rotation_about_axis(cross / sin,
                                                                  np.arctan2(sin, -axis[2]))
    twist = swing.T @ d_in_p[:3, :3]
    rot = np.degrees(np.arctan2(twist[1, 0], twist[0, 0]))
    return {
        "ap": ap, "ap_dir": "varus" if axis[0] * medial > 0 else "valgus",
        "lat": lat, "lat_dir": "apex_anterior" if axis[1] < 0 else "apex_posterior",
        "ap_t": abs(t[0]), "ap_t_dir": "medial" if t[0] * medial > 0 else "lateral",
        "lat_t": abs(t[1]), "lat_t_dir": "anterior" if t[1] > 0 else "posterior",
        "ax_t": abs(t[2]), "ax_t_dir": "short" if t[2] > 0 else "long",
        "rot": abs(rot), "rot_dir": "internal" if rot * -medial > 0 else "external",
    }


@settings(max_examples=300, deadline=None)
@given(st.floats(0.01, 60), st.sampled_from(["varus", "valgus"]),
       st.floats(0.01, 60), st.sampled_from(["apex_anterior", "apex_posterior"]),
       st.floats(0.01, 45), st.sampled_from(["internal", "external"]),
       st.floats(0.01, 30), st.sampled_from(["medial", "lateral"]),
       st.floats(0.01, 30), st.sampled_from(["anterior", "posterior"]),
       st.floats(0.01, 30), st.sampled_from(["short", "long"]),
       st.sampled_from(["right", "left"]))
def test_virtual_xray_recovers_entered_words(ap: float, ap_dir: str, lat: float, lat_dir: str,
                                             rot: float, rot_dir: str, apt: float, apt_dir: str,
                                             latt: float, latt_dir: str, axt: float,
                                             axt_dir: str, side: str) -> None:
    d = Deformity(ap, ap_dir, apt, apt_dir, lat, lat_dir, latt, latt_dir, rot, rot_dir, axt,
                  axt_dir)
    seen = virtual_xray(distal_in_proximal(d, side), side)
    assert seen["ap"] == pytest.approx(ap, abs=1e-9)
    assert seen["lat"] == pytest.approx(lat, abs=1e-9)
    assert seen["rot"] == pytest.approx(rot, abs=1e-9)
    assert (seen["ap_t"], seen["lat_t"], seen["ax_t"]) == pytest.approx((apt, latt, axt),
                                                                          abs=1e-12)
    assert (seen["ap_dir"], seen["lat_dir"], seen["rot_dir"], seen["ap_t_dir"],
            seen["lat_t_dir"], seen["ax_t_dir"]) == (ap_dir, lat_dir, rot_dir, apt_dir,
                                                     latt_dir, axt_dir)


def test_true_angle_worked_example() -> None:
    true, _ = true_angulation(19.0, 14.0)
    assert true == pytest.approx(23.03, abs=0.005)
    d = Deformity(ap_angulation_deg=19, ap_angulation_dir="varus", lat_angulation_deg=14,
                  lat_angulation_dir="apex_anterior")
    angle = np.degrees(tf.rotation_angle(distal_in_proximal(d, "right")))
    assert angle == pytest.approx(true, abs=1e-9)
    assert true_angulation(10, 5)[1] == pytest.approx(26.4, abs=0.05)


def test_left_is_right_mirrored_by_sign() -> None:
    d = Deformity(10, "varus", 5, "medial", 5, "apex_anterior", 3, "posterior", 15, "external",
                  10, "short")
    mirror = np.diag([-1.0, 1.0, 1.0, 1.0])
    right = distal_in_proximal(d, "right")
    left = distal_in_proximal(d, "left")
    np.testing.assert_allclose(left, mirror @ right @ mirror, atol=1e-15)
    # varus on a right leg: the distal end goes medially, i.e. toward -x
    assert -right[0, 2] < 0 and -left[0, 2] > 0


def test_mounting_signs() -> None:
    m = Mounting(4, "lateral", 10, "anterior", 90, "proximal", 5, "lateral")
    right = reference_ring_in_anatomy(m, "right")
    np.testing.assert_allclose(right[:3, 3], [4, 10, 90])
    assert right[0, 1] > 0  # tab (+y of the ring) turned toward lateral = +x on a right leg
    left = reference_ring_in_anatomy(m, "left")
    np.testing.assert_allclose(left[:3, 3], [-4, 10, 90])
    assert left[0, 1] < 0
    assert np.degrees(tf.rotation_angle(right)) == pytest.approx(5.0)


def _case(**changes: Any) -> Case:
    base = Case(mode="chronic", patient=Patient(side="right"),
                frame=FrameSpec(155, 155, "proximal", neutral_strut_mm=160),
                deformity=Deformity(), mounting=Mounting(axial_offset_mm=80,
                                                         axial_offset_dir="proximal"),
                correction=CorrectionSettings(start_date=dt.date(2026, 12, 1)))
    return dataclasses.replace(base, **changes)


def _lengths(pose: np.ndarray, geo: Any) -> np.ndarray:
    return kin.strut_lengths(geo.reference_joints, geo.moving_joints, pose)


def test_chronic_ends_neutral_and_pure_lengthening_is_equal() -> None:
    pi = build_plan_input(_case(deformity=Deformity(axial_translation_mm=10,
                                                    axial_translation_dir="short")), CATALOGUE)
    end = _lengths(pi.target_pose, pi.geometry)
    np.testing.assert_allclose(end, 160.0, atol=1e-9)
    start = _lengths(pi.start_pose, pi.geometry)
    assert np.ptp(start) < 1e-9  # six equal changes
    assert start[0] < 160.0  # short: the struts lengthen during correction
    assert pi.start_pose[2, 3] - pi.target_pose[2, 3] == pytest.approx(10.0)


def test_pure_rotation_alternates() -> None:
    pi = build_plan_input(_case(deformity=Deformity(axial_rotation_deg=5,
                                                    axial_rotation_dir="internal")), CATALOGUE)
    start = _lengths(pi.start_pose, pi.geometry)
    assert np.ptp(start[0::2]) < 1e-9 and np.ptp(start[1::2]) < 1e-9
    assert abs(start[0] - start[1]) > 1.0


@pytest.mark.parametrize("reference", ["proximal", "distal"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_ring_and_fragment_poses_agree(reference: str, side: str) -> None:
    d = Deformity(10, "valgus", 4, "lateral", 6, "apex_posterior", 2, "anterior", 8, "internal",
                  5, "long")
    case = _case(patient=Patient(side=side),  # type: ignore[arg-type]
                 frame=FrameSpec(155, 180, reference, neutral_strut_mm=150),  # type: ignore[arg-type]
                 deformity=d, mounting=Mounting(3, "medial", 6, "anterior", 70,
                                                "distal" if reference == "distal" else "proximal",
                                                4, "medial"))
    pi = build_plan_input(case, CATALOGUE)
    way = pi.waypoints_in_anatomy
    expected_start = distal_in_proximal(d, side)
    if reference == "distal":
        expected_start = tf.invert(expected_start)
    np.testing.assert_allclose(way[0], expected_start, atol=1e-12)
    np.testing.assert_allclose(way[-1], np.eye(4), atol=1e-12)
    np.testing.assert_allclose(pi.ring_pose_from_fragment(way[-1]), pi.target_pose, atol=1e-9)
    # the moving ring is rigidly fixed to the moving fragment: its pose in the fragment's frame
    # is the same at the start and at the end
    mount = pi.reference_ring_in_anatomy
    ring_in_fragment = [tf.invert(w) @ mount @ p for w, p in ((way[0], pi.start_pose),
                                                             (way[-1], pi.target_pose))]
    np.testing.assert_allclose(ring_in_fragment[0], ring_in_fragment[1], atol=1e-9)
    assert np.ptp(_lengths(pi.target_pose, pi.geometry)) < 1e-9


def test_residual_start_is_forward_kinematics_of_readings() -> None:
    case = read_case(Path(__file__).parent.parent / "sample_cases/total_residual.toml")
    pi = build_plan_input(case, CATALOGUE)
    np.testing.assert_allclose(_lengths(pi.start_pose, pi.geometry),
                               case.frame.strut_readings_mm, atol=1e-9)
    tilt = np.degrees(tf.rotation_angle(pi.start_pose))
    assert tilt > 1.0  # the sample's rings are not parallel


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_case_parses_and_builds(path: Path) -> None:
    case = read_case(path)
    pi = build_plan_input(case, CATALOGUE)
    assert pi.start_pose.shape == (4, 4)
    assert path.read_text().startswith("#"), "each sample says what it shows"


def test_template_parses() -> None:
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("hexapod").joinpath("data/template.toml").read_text())
    assert parse_case(data).mode == "chronic"


def _good() -> dict[str, Any]:
    return {"schema_version": 1, "mode": "chronic",
            "patient": {"side": "right"},
            "frame": {"proximal_ring_mm": 155, "distal_ring_mm": 155, "reference": "proximal",
                      "neutral_strut_mm": 160},
            "deformity": {"ap_angulation_deg": 10, "ap_angulation_dir": "varus"},
            "correction": {"start_date": "2026-12-01"}}


def _with(path: str, value: Any) -> dict[str, Any]:
    data = _good()
    keys = path.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize("path, value, match", [
    ("schema_version", _DELETE, "schema_version.*missing"),
    ("schema_version", 2, "schema_version.*allowed: 1"),
    ("mode", "sideways", "'mode'.*allowed: chronic, residual"),
    ("patient.side", _DELETE, "patient.side.*missing.*right, left"),
    ("patient.side", "both", "patient.side.*'both'.*allowed: right, left"),
    ("frame.reference", "middle", "frame.reference.*allowed: proximal, distal"),
    ("frame.neutral_strut_mm", _DELETE, "frame.neutral_strut_mm.*missing"),
    ("frame.neutral_strut_mm", "160", "frame.neutral_strut_mm.*number"),
    ("frame.proximal_ring_mm", -155, "frame.proximal_ring_mm.*> 0"),
    ("deformity.ap_angulation_dir", "varrus", "ap_angulation_dir.*'varrus'.*varus, valgus"),
    ("deformity.ap_angulation_dir", _DELETE, "ap_angulation_dir.*missing.*10"),
    ("deformity.ap_angulation_deg", -10, "ap_angulation_deg.*>= 0"),
    ("deformity.ap_angulation_deg", 90, "ap_angulation_deg.*< 90"),
    ("deformity.axial_rotation_deg", 95, "axial_rotation_deg.*< 90"),
    ("deformity.ap_angulation_deg", float("nan"), "ap_angulation_deg.*finite"),
    ("deformity.twist", 3, "deformity.twist.*unknown key"),
    ("mounting.axial_offset_mm", 80, "axial_offset_dir.*missing"),
    ("mounting.rotary_offset_dir", "up", "rotary_offset_dir.*'up'.*medial, lateral"),
    ("correction.start_date", "next week", "start_date.*YYYY-MM-DD"),
    ("correction.start_date", _DELETE, "start_date.*missing"),
    ("correction.adjustments_per_day", 8, "adjustments_per_day.*< 7"),
    ("correction.adjustments_per_day", 2.5, "adjustments_per_day.*whole number"),
    ("correction.rate_mm_per_day", 0, "rate_mm_per_day.*> 0"),
    ("correction.method", "fast", "method.*gradual, acute"),
    ("correction.stages", ["angulation", "angulation"], "stages.*twice"),
    ("correction.stages", ["sideways"], "stages.*lengthen_first"),
    ("structures_at_risk", [{"ap_mm": 3, "ap_dir": "medial"}], r"structures_at_risk\[0\].name"),
    ("structures_at_risk", [{"name": "n", "ap_mm": 3}], r"structures_at_risk\[0\].ap_dir"),
    ("bogus", 1, "'bogus'.*unknown key"),
    ("frame.strut_readings_mm", [1, 2, 3, 4, 5, 6], "strut_readings_mm.*residual mode"),
])
def test_bad_case_input(path: str, value: Any, match: str) -> None:
    with pytest.raises(CaseError, match=match):
        parse_case(_with(path, value), "case.toml")


def test_residual_needs_six_readings() -> None:
    data = _good()
    data["mode"] = "residual"
    del data["frame"]["neutral_strut_mm"]
    with pytest.raises(CaseError, match=r"strut_readings_mm.*missing"):
        parse_case(data)
    data["frame"]["strut_readings_mm"] = [150, 150, 150]
    with pytest.raises(CaseError, match="six positive readings"):
        parse_case(data)


def test_read_case_file_errors(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="does not exist"):
        read_case(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("mode = ")
    with pytest.raises(CaseError, match="not valid TOML"):
        read_case(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    with pytest.raises(CaseError, match="not valid JSON"):
        read_case(bad_json)
    good_json = tmp_path / "good.json"
    import json

    good_json.write_text(json.dumps(_good()))
    assert read_case(good_json).deformity.ap_angulation_deg == 10


def test_ring_and_fragment_motions_are_one_change_of_frame() -> None:
    from hexapod.anatomy import motion_in_anatomy, motion_in_reference_ring

    rng = np.random.default_rng(5)
    mount = tf.exp(rng.normal(size=3) * 30, rng.normal(size=3) * 0.2)
    motion = tf.exp(rng.normal(size=(3, 1, 2, 3)) * 10, rng.normal(size=(3, 1, 2, 3)) * 0.1)
    ring = motion_in_reference_ring(motion, mount)
    np.testing.assert_allclose(motion_in_anatomy(ring, mount), motion, atol=1e-12)
    # a point fixed to the moving fragment: moved in anatomy == moved in the ring, mapped back
    point_ring = rng.normal(size=3) * 50
    moved = tf.apply(motion[0, 0, 0], tf.apply(mount, point_ring))
    np.testing.assert_allclose(moved, tf.apply(mount, tf.apply(ring[0, 0, 0], point_ring)),
                               atol=1e-9)


def test_fragment_from_ring_pose_inverts_ring_pose_from_fragment() -> None:
    case = read_case(Path(__file__).parent.parent / "sample_cases"
                     / "distal_tibia_distal_reference.toml")
    pi = build_plan_input(case, load_catalogue("tsf-like"))
    way = pi.waypoints_in_anatomy
    np.testing.assert_allclose(pi.fragment_from_ring_pose(pi.ring_pose_from_fragment(way)), way,
                               atol=1e-9)
    np.testing.assert_allclose(pi.ring_pose_from_fragment(way[0]), pi.start_pose, atol=1e-9)
