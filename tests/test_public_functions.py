"""Direct tests, with known values, of public functions that were only exercised through the
planner: the signed parameters, stages, reading-to-length rule, Deformity.without, the case as
data, the pose report at non-neutral poses, the neutral-strut note and the sensitivity plot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import hexapod
from hexapod import transforms as tf
from hexapod.anatomy import SIGNED_PARAMETERS, signed_parameters
from hexapod.case import STAGE_COMPONENTS, Deformity, Mounting
from hexapod.clinical import reading_to_length, stage_plan
from hexapod.errors import InputError
from hexapod.geometry import FrameGeometry
from hexapod.io.case_file import case_to_dict, parse_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.io.messages import note_message
from hexapod.io.outputs import pose_lines
from hexapod.planning import neutral_strut_advice

ROOT = Path(__file__).parent.parent
SAMPLES = sorted((ROOT / "sample_cases").glob("*.toml"))


def test_signed_parameters_known_values() -> None:
    d = Deformity(ap_angulation_deg=10, ap_angulation_dir="valgus",
                  lat_angulation_deg=4, lat_angulation_dir="apex_posterior",
                  axial_rotation_deg=15, axial_rotation_dir="external",
                  ap_translation_mm=5, ap_translation_dir="medial",
                  lat_translation_mm=3, lat_translation_dir="posterior",
                  axial_translation_mm=8, axial_translation_dir="long")
    m = Mounting(ap_offset_mm=4, ap_offset_dir="lateral", lat_offset_mm=10,
                 lat_offset_dir="anterior", axial_offset_mm=90, axial_offset_dir="distal",
                 rotary_offset_deg=6, rotary_offset_dir="medial")
    # + means: varus, apex posterior, internal, medial, anterior, short; offsets: medial,
    # anterior, proximal, medial (SIGNED_PARAMETERS)
    np.testing.assert_array_equal(signed_parameters(d, m),
                                  [-10, 4, -15, 5, -3, -8, -4, 10, -90, 6])
    assert [p[2] for p in SIGNED_PARAMETERS] == [
        "varus", "apex posterior", "internal", "medial", "anterior", "short", "medial",
        "anterior", "proximal", "medial"]
    np.testing.assert_array_equal(signed_parameters(Deformity(), Mounting()), np.zeros(10))


def test_stage_plan_known_expansions() -> None:
    assert stage_plan(()) == [STAGE_COMPONENTS]
    assert stage_plan(("lengthen_first",)) == [("length",),
                                               ("translation", "angulation", "rotation")]
    assert stage_plan(("rotation", "length")) == [("rotation",), ("length",),
                                                  ("translation", "angulation")]
    assert stage_plan(("length", "translation", "angulation", "rotation")) == [
        ("length",), ("translation",), ("angulation",), ("rotation",)]
    with pytest.raises(InputError, match="unknown stage"):
        stage_plan(("twist",))
    with pytest.raises(InputError, match="twice"):
        stage_plan(("length", "length"))


def test_deformity_without_zeroes_exactly_the_named_components() -> None:
    d = Deformity(ap_angulation_deg=10, ap_angulation_dir="varus",
                  lat_angulation_deg=4, lat_angulation_dir="apex_posterior",
                  axial_rotation_deg=15, axial_rotation_dir="external",
                  ap_translation_mm=5, ap_translation_dir="medial",
                  lat_translation_mm=3, lat_translation_dir="posterior",
                  axial_translation_mm=8, axial_translation_dir="long")
    no_length = d.without("length")
    assert (no_length.axial_translation_mm, no_length.axial_translation_dir) == (0.0, None)
    assert dataclasses.replace(no_length, axial_translation_mm=8,
                               axial_translation_dir="long") == d
    flat = d.without("angulation", "rotation")
    assert (flat.ap_angulation_deg, flat.lat_angulation_deg, flat.axial_rotation_deg) == (0, 0, 0)
    assert (flat.ap_translation_mm, flat.lat_translation_mm, flat.axial_translation_mm) == (5, 3, 8)
    assert d.without(*STAGE_COMPONENTS) == Deformity()
    with pytest.raises(InputError, match="unknown correction component"):
        d.without("tilt")


def test_reading_to_length_uses_the_size_offset_and_refuses_ambiguity(tmp_path: Path) -> None:
    shipped = (ROOT / "hexapod" / "data" / "tsf-like.toml").read_text()
    offsets = iter(["2.5", "-1.0", "0.75", "3.0"])  # x-short, short, medium, long
    text = "\n".join(
        line.replace("value = 0.0,", f"value = {next(offsets)},")
        if line.startswith("reading_to_length_offset_mm") else line
        for line in shipped.splitlines())
    (tmp_path / "c.toml").write_text(text)
    cat = load_catalogue(tmp_path / "c.toml")
    assert reading_to_length(cat, 150.0, "medium") == 150.75
    assert reading_to_length(cat, 200.0, "long") == 203.0
    with pytest.raises(InputError, match=r"outside the long size \(169-289 mm\)"):
        reading_to_length(cat, 150.0, "long")
    assert reading_to_length(cat, 140.0) == 140.75  # only medium holds 140
    assert reading_to_length(cat, 80.0) == 82.5     # only x-short holds 80
    with pytest.raises(InputError, match="different reading offsets"):
        reading_to_length(cat, 120.0)  # short and medium both hold 120, offsets differ
    with pytest.raises(InputError, match="outside every strut size"):
        reading_to_length(cat, 300.0)


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_case_as_data_reads_back_to_the_same_case(sample: Path) -> None:
    case = hexapod.load_case(sample)
    again = parse_case(case_to_dict(case))
    assert dataclasses.replace(again, catalogue=case.catalogue) == case


def _frame() -> FrameGeometry:
    return load_catalogue("tsf-like").frame_geometry(155, 155, "proximal")


def test_pose_report_known_tilts_twist_and_offset() -> None:
    tilt = tf.rotation_about_axis([0.0, 1.0, 0.0], np.radians(3.0))  # +x in the x-z plane
    twist = tf.rotation_z(np.radians(7.0))
    pose = tf.from_rotation_translation(tilt @ twist, [1.0, -2.0, -130.0])
    lines = pose_lines(pose, _frame())
    assert lines[0].endswith("x +1.00 mm, y -2.00 mm, z -130.00 mm")
    assert "tilted +3.00° in the x-z plane and +0.00° in the y-z plane" in lines[1]
    assert "(true tilt 3.00°)" in lines[1]
    assert "twist about the ring axis +7.00°" in lines[2]
    about_x = tf.from_rotation_translation(
        tf.rotation_about_axis([1.0, 0.0, 0.0], np.radians(5.0)), [0.0, 0.0, -120.0])
    lines = pose_lines(about_x, _frame())
    assert "+0.00° in the x-z plane and -5.00° in the y-z plane" in lines[1]
    assert "twist about the ring axis +0.00°" in lines[2]


def test_neutral_strut_note_known_for_the_staged_sample() -> None:
    rx = hexapod.plan(hexapod.load_case(ROOT / "sample_cases" / "staged_lengthen_first.toml"))
    note = neutral_strut_advice(rx)
    assert note is not None and note.kind == "neutral_strut"
    assert dict(note.detail) == {"reading_mm": 170.0, "swaps": 0, "current_mm": 165.0,
                                 "current_swaps": 4}
    assert note_message(note) == "a neutral strut of 170 mm needs 0 swap(s) (this plan, 165 mm: 4)"
    # a plan with no swaps gets no advice
    none = hexapod.plan(hexapod.load_case(ROOT / "sample_cases" / "right_tibia_chronic.toml"))
    assert none.swap_count == 0 and neutral_strut_advice(none) is None


def test_sensitivity_plot_draws_the_residuals_and_the_shares() -> None:
    pytest.importorskip("matplotlib")
    from hexapod.io.plots import sensitivity as sensitivity_figure

    case = hexapod.load_case(ROOT / "sample_cases" / "right_tibia_chronic.toml")
    result = hexapod.analyse(hexapod.plan(case).plan_input, hexapod.Uncertainty(),
                             samples=2000, seed=1)
    fig = sensitivity_figure(result)
    texts = [t.get_text() for ax in fig.axes for t in (ax.title, ax.xaxis.label)]
    assert len(fig.axes) >= 2
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    top = result.share[0][0]
    assert any(top in label for label in labels), (top, labels)
    assert any("mm" in t for t in texts)


def test_zero_deformity_says_nothing_to_correct_in_every_output(tmp_path: Path) -> None:
    from hexapod.io.outputs import plan_to_json, plan_to_table

    case = hexapod.load_case(ROOT / "sample_cases" / "right_tibia_chronic.toml")
    zero = dataclasses.replace(case, deformity=Deformity(), structures_at_risk=())
    rx = hexapod.plan(zero)
    assert rx.days == 0 and len(rx.day) == 1
    np.testing.assert_array_equal(rx.readings_mm, [[150.0] * 6])
    table = plan_to_table(rx)
    assert "nothing to correct" in table and "None" not in table
    assert "None" not in plan_to_json(rx).replace("null", "")


def test_xray_plot_names_the_side_and_keeps_the_labels_apart() -> None:
    pytest.importorskip("matplotlib")
    from hexapod.io import plots

    rx = hexapod.plan(hexapod.load_case(ROOT / "sample_cases" /
                                        "femur_valgus_internal_rotation.toml"))
    fig = plots.xray(rx)
    assert fig._suptitle is not None and "left side" in fig._suptitle.get_text()
    fig.canvas.draw()
    for ax in fig.axes:  # the moving fragment's "before" and "after" labels do not overlap
        boxes = [t.get_window_extent() for t in ax.texts if t.get_text().startswith("distal")]
        assert len(boxes) == 2 and not boxes[0].overlaps(boxes[1])
