"""Every refusal and warning the planner can give, each produced by a case built to trigger it.

Each test asserts the kind, the day, the strut and the value against an oracle computed here
(plain loops, dense sampling or finite differences), not only that something failed. Limits
no ordinary case reaches are tightened in a catalogue variant.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pytest

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.case import Case, CorrectionSettings, Deformity, FrameSpec, Mounting, Patient
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import PlanRefused
from hexapod.findings import Violation
from hexapod.hardware import Catalogue
from hexapod.io.catalogue_file import load_catalogue, parse_catalogue
from hexapod.io.messages import violation_message
from hexapod.planning import Swap, assemble, pace, path, plan, rate_violations, sizes
from hexapod.planning import two_swaps_a_day as two_swaps

CATALOGUE = load_catalogue("tsf-like")
_DATA = tomllib.loads(resources.files("hexapod").joinpath("data/tsf-like.toml").read_text())


def variant(**limits: float) -> Catalogue:
    """tsf-like with some limits replaced."""
    data: dict[str, Any] = copy.deepcopy(_DATA)
    for key, value in limits.items():
        data["limits"][key]["value"] = value
    return parse_catalogue(data, "variant")


def case(deformity: Deformity | None = None, neutral: float = 160.0, per_day: int = 4) -> Case:
    deformity = deformity or Deformity(ap_angulation_deg=10, ap_angulation_dir="varus",
                                       axial_rotation_deg=10, axial_rotation_dir="external")
    return Case(mode="chronic", patient=Patient(side="right"),
                frame=FrameSpec(155, 155, "proximal", neutral_strut_mm=neutral),
                deformity=deformity,
                mounting=Mounting(axial_offset_mm=80, axial_offset_dir="proximal"),
                correction=CorrectionSettings(start_date=dt.date(2026, 12, 1),
                                              adjustments_per_day=per_day))


def refusal(plan_input: PlanInput, kind: str) -> Violation:
    """The violation of ``kind`` a refused plan carries (with its message made)."""
    with pytest.raises(PlanRefused) as info:
        plan(plan_input, suggest=False)
    found = [v for v in info.value.violations if v.kind == kind]
    assert found, info.value.violations
    assert violation_message(found[0])
    return found[0]


def start_pose(plan_input: PlanInput) -> np.ndarray:
    return np.asarray(plan_input.start_pose)


def test_singular_names_day_zero_and_the_condition_number() -> None:
    pi = build_plan_input(case(), variant(max_condition_number=1.5))
    v = refusal(pi, "singular")
    assert (v.day, v.strut, v.limit) == (0, None, 1.5)
    # oracle: condition number of the finite-difference Jacobian, rotations per joint radius
    geo = pi.geometry
    pose = start_pose(pi)
    scale = float(np.mean(np.linalg.norm(np.vstack([geo.reference_joints,
                                                    geo.moving_joints])[:, :2], axis=1)))
    columns = []
    for k in range(6):
        twist = np.zeros(6)
        twist[k] = 1e-6
        moved = np.eye(4)
        moved[:3, :3] = tf.rotation_from_rotvec(twist[3:])
        moved[:3, 3] = twist[:3] + pose[:3, 3] - moved[:3, :3] @ pose[:3, 3]
        plus = kin.strut_lengths(geo.reference_joints, geo.moving_joints, moved @ pose)
        base = kin.strut_lengths(geo.reference_joints, geo.moving_joints, pose)
        columns.append((plus - base) / 1e-6 / (scale if k >= 3 else 1.0))
    sv = np.linalg.svd(np.stack(columns, axis=1), compute_uv=False)
    assert v.value == pytest.approx(sv[0] / sv[-1], rel=1e-4)


def test_ring_gap_names_day_zero_and_the_closest_approach() -> None:
    pi = build_plan_input(case(), variant(min_ring_gap_mm=200.0))
    v = refusal(pi, "ring_gap")
    assert (v.day, v.strut, v.limit) == (0, None, 200.0)
    # oracle: densely sampled joint circles against the other ring's plane
    geo = pi.geometry
    pose = start_pose(pi)
    phi = np.linspace(0, 2 * np.pi, 3600, endpoint=False)
    circle = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=1)
    r_mov = float(np.mean(np.linalg.norm(geo.moving_joints[:, :2], axis=1)))
    r_ref = float(np.mean(np.linalg.norm(geo.reference_joints[:, :2], axis=1)))
    below = -(pose[:3, :3] @ (r_mov * circle).T + pose[:3, 3:4])[2]
    inverse = np.linalg.inv(pose)
    above = (inverse[:3, :3] @ (r_ref * circle).T + inverse[:3, 3:4])[2]
    assert v.value == pytest.approx(min(below.min(), above.min()), abs=0.05)


def test_strut_collision_names_the_pair_and_their_distance() -> None:
    # struts 40 mm thick on pairs 40.5 mm apart (a catalogue refuses pairs closer than a
    # strut is thick), twisted 60 degrees: two struts pass closer than 40 mm mid-way
    data: dict[str, Any] = copy.deepcopy(_DATA)
    data["limits"]["strut_diameter_mm"]["value"] = 40.0
    data["ring_defaults"]["pair_spacing_mm"]["value"] = 40.5
    twist = Deformity(axial_rotation_deg=60, axial_rotation_dir="external")
    pi = build_plan_input(case(twist, neutral=200.0), parse_catalogue(data, "variant"))
    v = refusal(pi, "strut_collision")
    assert v.day == 0 and v.limit == 40.0
    # oracle: the closest pair of struts by brute-force sampling of both segments
    geo = pi.geometry
    ends = tf.apply(start_pose(pi), geo.moving_joints)
    t = np.linspace(0, 1, 401)[:, None]
    clashes = []  # pairs in order 1-2, 1-3, ..., 5-6 closer than the diameter
    for i in range(6):
        for j in range(i + 1, 6):
            p = geo.reference_joints[i] + t * (ends[i] - geo.reference_joints[i])
            q = geo.reference_joints[j] + t * (ends[j] - geo.reference_joints[j])
            d = float(np.min(np.linalg.norm(p[:, None] - q[None], axis=-1)))
            if d < 40.0:
                clashes.append((d, i + 1, j + 1))
    first = clashes[0]
    assert (v.strut, v.detail["other_strut"]) == first[1:]
    assert v.value == pytest.approx(first[0], abs=0.05)


def test_joint_angle_names_the_strut_and_its_bend() -> None:
    pi = build_plan_input(case(), variant(max_joint_angle_deg=20.0))
    v = refusal(pi, "joint_angle")
    assert v.day == 0 and v.limit == 20.0
    geo = pi.geometry
    pose = start_pose(pi)
    bends = []
    for i in range(6):  # the larger of the two ends' bends, strut by strut
        strut = tf.apply(pose, geo.moving_joints[i]) - geo.reference_joints[i]
        unit = strut / np.linalg.norm(strut)
        at_ref = np.degrees(np.arccos(-unit[2]))
        at_mov = np.degrees(np.arccos(-unit @ pose[:3, 2]))  # back up, against the ring axis
        bends.append(max(at_ref, at_mov))
    first = next(i for i, b in enumerate(bends) if b > 20.0)
    assert v.strut == first + 1
    assert v.value == pytest.approx(bends[first], abs=1e-9)


def test_rounding_names_the_point_and_the_deviation() -> None:
    pi = build_plan_input(case(), variant(max_rounding_error_mm=0.01))
    v = refusal(pi, "rounding")
    assert v.limit == 0.01 and v.value is not None and v.value > 0.01
    assert v.detail["point"] == "corresponding point" and v.detail["rows"] >= 1
    assert v.day is not None and v.day >= 0


def test_change_per_adjustment_when_the_scale_step_exceeds_the_limit() -> None:
    # a limit of half a scale step: exact changes can keep it, rounded readings cannot
    pi = build_plan_input(case(Deformity(axial_translation_mm=5, axial_translation_dir="short")),
                          variant(max_change_per_adjustment_mm=0.5))
    v = refusal(pi, "change_per_adjustment")
    assert (v.value, v.limit, v.strut) == (1.0, 0.5, 1)  # all six move alike: strut 1 first
    # every whole millimetre strut 1 passes is one 1 mm turn, each over the limit
    travel = abs(pi.start_lengths[0] - kin.strut_lengths(pi.geometry.reference_joints,
                                                         pi.geometry.moving_joints,
                                                         pi.target_pose)[0])
    assert v.detail["rows"] == round(travel)
    assert v.day in (1, 2)


def test_strut_range_names_the_reading_past_every_size() -> None:
    pi = build_plan_input(case(Deformity(axial_translation_mm=40, axial_translation_dir="long"),
                               neutral=260), CATALOGUE)
    v = refusal(pi, "strut_range")
    assert (v.day, v.strut, v.limit) == (0, 1, 289.0)
    assert v.value == pytest.approx(pi.start_lengths[0])


def test_swap_window_when_readings_jump_past_the_overlap() -> None:
    # a reading that goes from short only (100 mm) to medium only (130 mm) in one row
    lo, hi, _, offsets = CATALOGUE.range_table()
    lengths = np.full((3, 6), 150.0)
    lengths[:, 2] = [100.0, 130.0, 131.0]
    day = np.array([0, 1, 2])
    total, _ = sizes.fit_sizes(lengths, lo, hi, offsets, 5.0, None, None, day)
    pi = build_plan_input(case(), CATALOGUE)
    found = sizes.unfittable(pi, lengths, day, total)
    assert [(v.kind, v.strut) for v in found] == [("swap_window", 3)]


def test_rate_violation_when_a_report_is_faster_than_the_rate() -> None:
    # the schedule never makes one (days follow the rate); the check stays as a guard
    pi = build_plan_input(case(), CATALOGUE)
    report = pace.pace_report(pi)
    assert rate_violations(pi, report) == []
    fast = dataclasses.replace(report, max_mm_per_day=1.25)
    (v,) = rate_violations(pi, fast)
    assert (v.kind, v.value, v.limit, v.detail["point"]) == ("rate", 1.25, 1.0,
                                                             report.pace_setter)


def test_assembly_names_the_first_row_that_reaches_no_frame() -> None:
    pi = build_plan_input(case(), CATALOGUE)
    report = pace.pace_report(pi)
    poses, day, _, _ = path.rows(pi, report.stage_days)
    lengths = pi.frame.strut_lengths(poses)
    assert assemble(pi, lengths, poses, day).shape == poses.shape  # exact lengths assemble
    broken = lengths.copy()
    broken[5:, 2] = 1.0  # from row 5 on, strut 3 is 1 mm long: no frame has that
    with pytest.raises(PlanRefused) as info:
        assemble(pi, broken, poses, day)
    (v,) = info.value.violations
    assert (v.kind, v.day, v.detail["row"], v.detail["rows"]) == ("assembly", int(day[5]), 5,
                                                                 len(day) - 5)
    assert v.value is not None and v.value > 1.0
    assert "row 5 reach no frame" in violation_message(v)


def test_two_swaps_a_day_guard() -> None:
    day = np.array([0, 1, 1, 2])
    swaps = ((), (Swap(4, "short", "medium", 120.0),), (Swap(4, "medium", "short", 120.0),),
             (Swap(4, "short", "medium", 121.0),))
    (v,) = two_swaps(swaps, day)
    assert (v.kind, v.day, v.strut, v.value) == ("two_swaps_a_day", 1, 4, 2.0)


def test_near_end_warning_on_the_right_tibia_start() -> None:
    from hexapod.io.loading import load_case
    from hexapod.io.messages import warning_message

    rx = plan(load_case("sample_cases/right_tibia_chronic.toml"))
    (w,) = rx.warnings[0]
    # strut 4 starts at 119 mm, 3 mm above the medium size's 116 mm end (margin 5 mm)
    assert (w.kind, w.strut, w.value, w.limit) == ("near_end", 4, 119.0, 5.0)
    assert w.detail["size"] == "medium" and w.detail["min_mm"] == 116.0
    assert bool(rx.near_end[0, 3]) and int(rx.near_end[0].sum()) == 1
    assert "within 5 mm of the end of its medium size" in warning_message(w)


def test_every_violation_kind_is_covered_here() -> None:
    from hexapod.findings import VIOLATION_KINDS

    text = open(__file__).read()
    for kind in VIOLATION_KINDS:
        assert f'"{kind}"' in text, kind


def test_plan_length_refused_before_rows_are_built() -> None:
    # 150 mm at 0.15 mm/day: 1000 days, over the 730-day bound of hexapod.policy
    long_case = dataclasses.replace(
        case(Deformity(axial_translation_mm=150, axial_translation_dir="short"), neutral=250),
        correction=CorrectionSettings(start_date=dt.date(2026, 12, 1), rate_mm_per_day=0.15))
    pi = build_plan_input(long_case, CATALOGUE)
    with pytest.raises(PlanRefused) as info:
        plan(pi)
    (v,) = info.value.violations
    assert (v.kind, v.day, v.strut, v.value, v.limit) == ("plan_length", None, None, 1000.0,
                                                         730.0)
    assert "1000 days" in violation_message(v)
    # the remedy offered is a faster rate, checked to plan
    (s,) = [s for s in info.value.suggestions if s.kind == "rate"]
    assert s.changes["correction.rate_mm_per_day"] > 0.15 and s.days <= 730


def test_rounding_in_degrees_reports_the_degrees() -> None:
    pi = build_plan_input(case(), variant(max_rounding_error_deg=0.005,
                                          max_rounding_error_mm=50.0))
    v = refusal(pi, "rounding")
    assert v.detail["unit"] == "deg" and v.limit == 0.005
    assert v.value == v.detail["deg"] and v.value > v.limit  # never value < limit
    assert v.detail["mm"] <= 50.0 and "degrees are over" in violation_message(v)


def test_a_row_past_the_degree_bound_is_repaired() -> None:
    # a case where one rounded row turned the ring 1.002 degrees (bound 1 degree): the repair
    # re-picks it by the exact rotation as well as the displacement
    from pathlib import Path

    from hexapod.io.case_file import read_case

    data = Path(__file__).parent / "data" / "rounding_by_degrees.json"
    rx = plan(build_plan_input(read_case(data), CATALOGUE))
    assert float(np.max(rx.deviation_deg)) <= 1.0
    assert float(np.max(rx.deviation_mm[1:])) <= 1.0


def test_a_bent_joint_is_remedied_by_a_taller_frame() -> None:
    # a 122 mm neutral strut bends strut 1's joint 61.6 degrees on day 0 (limit 60)
    from pathlib import Path

    from hexapod.io.case_file import read_case
    from hexapod.planning.remedies import apply_suggestion

    data = Path(__file__).parent / "data" / "joint_angle_at_start.json"
    pi = build_plan_input(read_case(data), CATALOGUE)
    with pytest.raises(PlanRefused) as info:
        plan(pi)
    assert [v.kind for v in info.value.violations] == ["joint_angle"]
    (s,) = [s for s in info.value.suggestions if s.kind == "neutral_strut"]
    taller = s.changes["frame.neutral_strut_mm"]
    assert taller > pi.case.frame.neutral_strut_mm and taller % 5 == 122 % 5
    fixed = plan(build_plan_input(apply_suggestion(pi.case, s), CATALOGUE))
    assert fixed.days == s.days


def test_remedy_candidates_for_rounding_and_fitted_sizes() -> None:
    from hexapod.planning import remedies

    pi = build_plan_input(case(), CATALOGUE)
    rounding_fixes = list(remedies._candidates(pi, (Violation("rounding", 3, None, 1.2, 1.0),)))
    per_day = [s.changes["correction.adjustments_per_day"] for s in rounding_fixes
               if s.kind == "adjustments_per_day"]
    assert per_day[:3] == [3, 5, 2] and 4 not in per_day  # nearest to the case's 4 a day first
    # a residual case whose fitted sizes cannot follow: first, every strut in the size that
    # holds its reading now
    from pathlib import Path

    from hexapod.io.case_file import read_case

    total = read_case(Path(__file__).parent.parent / "sample_cases" / "total_residual.toml")
    pi = build_plan_input(total, CATALOGUE)
    fitted = dataclasses.replace(pi, case=dataclasses.replace(pi.case, frame=dataclasses.replace(
        pi.case.frame, strut_sizes=("long",) + ("medium",) * 5)))
    first = next(remedies._candidates(fitted, (Violation("strut_range", 1, 1, 150.0, 169.0,
                                                         {"fitted": "long"}),)))
    assert first.changes == {"frame.strut_sizes": ("medium",) * 6}


def _clinic_catalogue() -> Catalogue:
    """tsf-like with the 155 mm ring and the short and medium offsets marked measured."""
    data: dict[str, Any] = copy.deepcopy(_DATA)
    for ring in data["rings"]:
        if ring["size_mm"]["value"] == 155:
            for key in ("joint_radius_offset_mm", "pair_spacing_mm"):
                ring[key] = {"value": data["ring_defaults"][key]["value"],
                             "provenance": "measured", "note": "calipers"}
    for size in data["strut_sizes"]:
        if size["name"] in ("short", "medium"):
            size["reading_to_length_offset_mm"]["provenance"] = "measured"
    return parse_catalogue(data, "clinic")


def test_a_suggestion_says_which_numbers_its_plan_relies_on_are_not_measured() -> None:
    from hexapod.io.messages import suggestion_message, suggestion_to_dict
    from hexapod.planning import remedies

    clinic = _clinic_catalogue()
    on_155 = plan(build_plan_input(case(), clinic))
    used = sorted({name for row in on_155.size_names for name in row})
    assert remedies._unmeasured(on_155) == tuple(
        f"strut_sizes[{name}].reading_to_length_offset_mm" for name in ("x-short", "long")
        if name in used)
    bigger = dataclasses.replace(case(), frame=dataclasses.replace(
        case().frame, proximal_ring_mm=180, distal_ring_mm=180))
    on_180 = plan(build_plan_input(bigger, clinic))
    assert remedies._unmeasured(on_180)[:2] == ("rings[180].joint_radius_offset_mm",
                                                "rings[180].pair_spacing_mm")
    # nothing measured in the catalogue: nothing listed
    assert remedies._unmeasured(plan(build_plan_input(bigger, CATALOGUE))) == ()
    # find_remedies records it with each suggestion, and the words and JSON carry it
    gap = (Violation("ring_gap", 0, None, 3.0, 5.0),)
    found = remedies.find_remedies(build_plan_input(case(), clinic), gap, plan, most=6)
    (ring,) = [s for s in found if s.kind == "ring_size"]
    assert ring.changes["frame.distal_ring_mm"] == 180
    assert ring.unmeasured == remedies._unmeasured(on_180)
    text = suggestion_message(ring)
    assert text.endswith("; it relies on numbers not measured in this catalogue: "
                         + ", ".join(ring.unmeasured) + " (measure them with `hexapod "
                         "calibrate` before relying on this plan)")
    assert suggestion_to_dict(ring)["unmeasured"] == list(ring.unmeasured)
    plain = dataclasses.replace(ring, unmeasured=())
    assert "not measured" not in suggestion_message(plain)
