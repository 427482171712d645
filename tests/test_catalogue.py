"""Hardware catalogue: the shipped data, provenance, and validation of user catalogues."""

from __future__ import annotations

import copy
import datetime
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hexapod.errors import CatalogueError, InputError, KeyPathError
from hexapod.hardware import PROVENANCE_MARKS, provenance_counts
from hexapod.io.catalogue_file import load_catalogue, parse_catalogue


def _data() -> dict[str, Any]:
    text = resources.files("hexapod").joinpath("data/tsf-like.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_tsf_like_matches_domain_notes() -> None:
    cat = load_catalogue("tsf-like")
    assert [s.name for s in cat.strut_sizes] == ["x-short", "short", "medium", "long"]
    lo, hi, _, off = cat.range_table()
    np.testing.assert_array_equal(lo, [75, 90, 116, 169])
    np.testing.assert_array_equal(hi, [96, 125, 178, 289])
    np.testing.assert_array_equal(off, 0.0)
    assert cat.colour_names == ("red", "orange", "yellow", "green", "blue", "purple")
    assert cat.ring(155).size_mm.provenance == "source"
    assert cat.ring(180).size_mm.provenance == "unverified"
    assert cat.strut_size("long").max_reading_mm.provenance == "weak"
    assert cat.ring(155).joint_radius_mm == pytest.approx(93.8)


def test_every_number_has_provenance() -> None:
    cat = load_catalogue()
    for key, q in cat.quantities():
        assert q.provenance in PROVENANCE_MARKS, key
        assert q.note, f"{key} has no note saying where it comes from"


def test_geometry_numbering_and_tab() -> None:
    cat = load_catalogue()
    prox = cat.proximal_joints(155)
    dist = cat.distal_joints(155)
    # strut 1 clockwise of the tab (+y): on +x (patient's right); strut 2 on -x
    assert prox[0, 0] > 0 and prox[1, 0] < 0 and prox[0, 1] > 90
    # pair spacing is a 15 mm chord; joint radius 93.8 mm on both rings
    assert np.linalg.norm(prox[0] - prox[1]) == pytest.approx(15.0)
    np.testing.assert_allclose(np.linalg.norm(dist[:, :2], axis=1), 93.8)
    # distal pairs (2,3), (4,5), (6,1)
    for a, b in ((1, 2), (3, 4), (5, 0)):
        assert np.linalg.norm(dist[a] - dist[b]) == pytest.approx(15.0)
    # neutral frame of equal struts exists
    geo = cat.frame_geometry(155, 155)
    lengths = geo.neutral_lengths(140.0)
    assert np.ptp(lengths) < 1e-12


def test_unknown_ring_and_strut_sizes_list_allowed() -> None:
    cat = load_catalogue()
    with pytest.raises(InputError, match="allowed: 130, 155, 180, 205, 230"):
        cat.ring(150)
    with pytest.raises(InputError, match="x-short, short, medium, long"):
        cat.strut_size("huge")


def _mutate(path: list[Any], value: Any = None, delete: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(_data())
    node = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize("path, value, delete, match", [
    (["limits"], None, True, "limits.*missing"),
    (["rings", 0, "size_mm"], {"value": -5, "provenance": "weak"}, False,
     r"rings\[0\].size_mm.value.*> 0"),
    (["rings", 0, "size_mm"], {"value": 130, "provenance": "guess"}, False,
     "provenance.*not one of"),
    (["ring_defaults", "joint_radius_offset_mm"], {"value": -200, "provenance": "weak"}, False,
     "joint radius of"),
    (["strut_sizes", 1, "max_reading_mm"], {"value": 80, "provenance": "weak"}, False,
     "greater than min_reading_mm"),
    (["strut_sizes", 2, "min_reading_mm"], {"value": 80, "provenance": "weak"}, False,
     "sorted shortest first"),
    (["layout", "proximal_pair_side"], [1, 1, 1], False, "list of 6 numbers"),
    (["layout", "distal_pair_side"], [1, 0, 1, 1, 1, 1], False, "-1 or 1"),
    (["colours", "value"], ["red"], False, "6 colour names"),
    (["schema_version"], 2, False, "schema_version.*must be 1"),
    (["bogus"], 1, False, "bogus.*unknown key"),
    (["limits", "max_condition_number"], {"value": 0, "provenance": "default"}, False, "> 0"),
    (["ring_defaults", "pair_spacing_mm"], {"value": 13.9, "provenance": "weak"}, False,
     r"ring_defaults.pair_spacing_mm': 13.9 mm \(ring 130 mm\): the two joints of a pair "
     r"must be more than the strut diameter, 14 mm \(limits.strut_diameter_mm\), apart"),
    (["ring_defaults", "pair_spacing_mm"], {"value": 13.9999999, "provenance": "weak"}, False,
     r"ring_defaults.pair_spacing_mm': 13.9999999 mm"),
    (["ring_defaults", "pair_spacing_mm"], {"value": 14.0, "provenance": "weak"}, False,
     r"ring_defaults.pair_spacing_mm': 14 mm \(ring 130 mm\)"),
    (["rings", 2, "pair_spacing_mm"], {"value": 9.0, "provenance": "measured"}, False,
     r"rings\[2\].pair_spacing_mm': 9 mm \(ring 180 mm\): the two joints"),
    (["limits", "strut_diameter_mm"], {"value": 15.5, "provenance": "default"}, False,
     r"ring_defaults.pair_spacing_mm': 15 mm .* strut diameter, 15.5 mm.*check "
     r"limits.strut_diameter_mm"),
])
def test_invalid_catalogues(path: list[Any], value: Any, delete: bool, match: str) -> None:
    with pytest.raises(CatalogueError, match=match):
        parse_catalogue(_mutate(path, value, delete), "test.toml")


def test_pair_spacing_just_over_the_strut_diameter_is_allowed_and_plans() -> None:
    import datetime as dt

    from hexapod.case import (
        Case,
        CorrectionSettings,
        Deformity,
        FrameSpec,
        Mounting,
        Patient,
    )
    from hexapod.clinical import build_plan_input
    from hexapod.planning import plan

    data = _mutate(["ring_defaults", "pair_spacing_mm"], {"value": 14.00001,
                                                          "provenance": "weak"})
    cat = parse_catalogue(data, "test.toml")
    case = Case(mode="chronic", patient=Patient(side="right"),
                frame=FrameSpec(155, 155, "proximal", neutral_strut_mm=160.0),
                deformity=Deformity(axial_translation_mm=10, axial_translation_dir="short"),
                mounting=Mounting(axial_offset_mm=80, axial_offset_dir="proximal"),
                correction=CorrectionSettings(start_date=dt.date(2026, 12, 1)))
    assert plan(build_plan_input(case, cat), suggest=False).days > 0


def test_explicit_joints_of_a_pair_closer_than_a_strut_are_refused() -> None:
    from hexapod.geometry import ring_joints

    for position, key in (("proximal", "proximal_joints_mm"), ("distal", "distal_joints_mm")):
        data = _data()
        lay = data["layout"]
        radius = 155 / 2 + 16.3
        for end in ("proximal", "distal"):
            spacing = 8.0 if end == position else 15.0
            joints = ring_joints(radius, spacing, lay[f"{end}_pair_centre_deg"],
                                 lay[f"{end}_pair_side"])
            data["rings"][1][f"{end}_joints_mm"] = {"value": joints.tolist(),
                                                    "provenance": "measured"}
        first = (1, 2) if position == "proximal" else (1, 6)
        with pytest.raises(CatalogueError, match=(
                rf"rings\[1\].{key}': {position} joints {first[0]} and {first[1]} are 8 mm "
                r"apart \(ring 155 mm\)")):
            parse_catalogue(data, "test.toml")


def test_wrong_joint_count_in_explicit_joints() -> None:
    data = _data()
    data["rings"][0]["proximal_joints_mm"] = {"value": [[1, 0, 0]] * 5, "provenance": "measured",
                                              "note": "calipers"}
    with pytest.raises(CatalogueError, match=r"proximal_joints_mm.value.*6 joints"):
        parse_catalogue(data, "test.toml")


def test_explicit_joints_are_used() -> None:
    data = _data()
    joints = [[90.0 * np.cos(a), 90.0 * np.sin(a), 0.0]
              for a in np.radians([80, 100, 200, 220, 320, 340])]
    data["rings"][1]["proximal_joints_mm"] = {"value": joints, "provenance": "measured",
                                              "note": "calipers"}
    cat = parse_catalogue(data, "test.toml")
    np.testing.assert_allclose(cat.proximal_joints(155), joints)


def test_user_catalogue_file(tmp_path: Path) -> None:
    text = resources.files("hexapod").joinpath("data/tsf-like.toml").read_text("utf-8")
    path = tmp_path / "mine.toml"
    path.write_text(text.replace('name = "tsf-like"', 'name = "mine"'))
    assert load_catalogue(path).name == "mine"
    (tmp_path / "broken.toml").write_text("name = [")
    with pytest.raises(CatalogueError, match="not valid TOML"):
        load_catalogue(tmp_path / "broken.toml")
    with pytest.raises(CatalogueError, match="no catalogue called"):
        load_catalogue(tmp_path / "missing.toml")


def _quantity_paths(data: dict[str, Any]) -> list[list[Any]]:
    """Key paths of every { value = ... } table in a catalogue document."""
    paths: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            if "value" in node and "provenance" in node:
                paths.append(path)
                return
            for key, child in node.items():
                walk(child, [*path, key])
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, [*path, i])

    walk(data, [])
    return paths


QUANTITY_PATHS = _quantity_paths(_data())


@pytest.mark.parametrize("bad", [True, False, "12", "abc", [1, 2], {}, float("nan"), 10**30,
                                 float("inf"), 1e200])
def test_catalogue_numbers_must_be_numbers(bad: Any) -> None:
    assert len(QUANTITY_PATHS) > 20
    for path in QUANTITY_PATHS:
        data = _mutate([*path, "value"], bad)
        if path == ["colours"]:
            continue  # colours are names, checked below
        key = ".".join(str(p) for p in path)
        with pytest.raises(CatalogueError) as info:
            parse_catalogue(data, "test.toml")
        assert "value" in info.value.path, (key, info.value)


def test_boolean_joint_radius_offset_is_not_one_mm() -> None:
    data = _mutate(["ring_defaults", "joint_radius_offset_mm"], {"value": True,
                                                                 "provenance": "weak"})
    with pytest.raises(CatalogueError, match=r"ring_defaults.joint_radius_offset_mm.value.*"
                                             r"must be a number, got True"):
        parse_catalogue(data, "test.toml")


@pytest.mark.parametrize("path, value, match", [
    (["colours", "value"], "red", "6 colour names"),
    (["layout", "proximal_pair_centre_deg"], ["a"] * 6, "list of 6 numbers"),
    (["layout", "provenance"], ["weak"], "layout.provenance"),
    (["layout", "note"], 5, "layout.note.*text"),
    (["description"], ["x"], "description.*text"),
    (["schema_version"], True, "schema_version"),
    (["rings", 0, "bogus"], 1, r"rings\[0\].bogus.*unknown key"),
    (["strut_sizes", 0, "colour"], "red", r"strut_sizes\[0\].colour.*unknown key"),
    (["ring_defaults", "spacing"], 1, "ring_defaults.spacing.*unknown key"),
    (["rings", 0, "size_mm", "note"], ["x"], r"rings\[0\].size_mm.note.*text"),
    (["rings", 0, "size_mm", "provenance"], ["weak"], "provenance.*not one of"),
    (["rings", 0, "proximal_joints_mm"], {"value": "here", "provenance": "weak"}, "6 joints"),
])
def test_wrong_types_are_catalogue_errors(path: list[Any], value: Any, match: str) -> None:
    with pytest.raises(CatalogueError, match=match):
        parse_catalogue(_mutate(path, value), "test.toml")


def test_measurement_metadata_is_read_and_validated() -> None:
    good = {"value": 6.4, "provenance": "measured", "note": "calipers", "count": 4,
            "measured_on": datetime.date(2026, 11, 20), "residual_mm": 0.03,
            "standard_error_mm": 0.02}
    cat = parse_catalogue(_mutate(["strut_sizes", 2, "reading_to_length_offset_mm"], good), "t")
    q = cat.strut_size("medium").reading_to_length_offset_mm
    assert (q.value, q.count, q.residual_mm, q.standard_error_mm) == (6.4, 4, 0.03, 0.02)
    assert q.measured_on == datetime.date(2026, 11, 20)
    assert cat.strut_size("medium").offset_mm == 6.4
    as_text = dict(good, measured_on="2026-11-20")
    cat = parse_catalogue(_mutate(["strut_sizes", 2, "reading_to_length_offset_mm"], as_text),
                          "t")
    assert cat.strut_size("medium").reading_to_length_offset_mm.measured_on == q.measured_on
    for key, bad in (("count", 0), ("count", 2.5), ("count", True), ("residual_mm", -0.1),
                     ("standard_error_mm", "small"), ("measured_on", "yesterday"),
                     ("measured_on", 20261120)):
        data = _mutate(["strut_sizes", 2, "reading_to_length_offset_mm"], dict(good, **{key: bad}))
        with pytest.raises(CatalogueError, match=rf"reading_to_length_offset_mm.{key}"):
            parse_catalogue(data, "t")


def test_unknown_ring_size_names_the_frame_key() -> None:
    cat = load_catalogue()
    with pytest.raises(KeyPathError) as info:
        cat.frame_geometry(150, 155)
    assert info.value.path == "frame.proximal_ring_mm"
    with pytest.raises(KeyPathError) as info:
        cat.frame_geometry(155, 181)
    assert info.value.path == "frame.distal_ring_mm"
    assert "allowed: 130, 155, 180, 205, 230" in str(info.value)


def test_unknown_ring_size_in_a_case_names_the_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hexapod_cli.main import main

    root = Path(__file__).parent.parent
    text = (root / "sample_cases/right_tibia_chronic.toml").read_text()
    case = tmp_path / "case.toml"
    case.write_text(text.replace("distal_ring_mm = 155", "distal_ring_mm = 150"))
    result = CliRunner().invoke(main, ["check", str(case)])
    assert result.exit_code == 2
    assert "frame.distal_ring_mm" in result.output and "150" in result.output


def test_plan_quantities_and_their_provenance() -> None:
    cat = load_catalogue()
    same = cat.plan_quantities(155, 155)
    keys = [k for k, _ in same]
    assert len(keys) == len(set(keys)) == 2 + 1 + 4 * 4 + 8
    assert keys[:3] == ["rings[155].joint_radius_offset_mm", "rings[155].pair_spacing_mm",
                        "layout"]
    assert provenance_counts(same) == {"source": 4, "weak": 10, "unverified": 7, "derived": 0,
                                       "measured": 0, "default": 6}
    two = cat.plan_quantities(155, 180, ["medium", "medium", "long"])
    assert [k for k, _ in two if k.startswith("rings")] == [
        "rings[155].joint_radius_offset_mm", "rings[155].pair_spacing_mm",
        "rings[180].joint_radius_offset_mm", "rings[180].pair_spacing_mm"]
    assert [k for k, _ in two if k.startswith("strut_sizes")][::4] == [
        "strut_sizes[medium].min_reading_mm", "strut_sizes[long].min_reading_mm"]
    assert sum(provenance_counts(two).values()) == 4 + 1 + 2 * 4 + 8
    with pytest.raises(InputError, match="huge"):
        cat.plan_quantities(155, 155, ["huge"])


def test_plan_quantities_count_measured_and_explicit_joints() -> None:
    data = _data()
    measured = {"value": 6.1, "provenance": "measured", "note": "calipers", "count": 3}
    data["strut_sizes"][2]["reading_to_length_offset_mm"] = measured
    joints = [[90.0 * np.cos(a), 90.0 * np.sin(a), 0.0]
              for a in np.radians([80, 100, 200, 220, 320, 340])]
    data["rings"][1]["proximal_joints_mm"] = {"value": joints, "provenance": "measured",
                                              "note": "calipers"}
    cat = parse_catalogue(data, "t")
    keys = dict(cat.plan_quantities(155, 180))
    assert "rings[155].proximal_joints_mm" in keys
    assert "rings[155].joint_radius_offset_mm" not in keys
    assert "layout" in keys  # the distal ring is still built from the layout
    assert provenance_counts(keys.items())["measured"] == 2
    only_explicit = dict(cat.plan_quantities(155, 130))
    assert "rings[130].pair_spacing_mm" in only_explicit


def test_quantity_validates_its_metadata() -> None:
    from hexapod.hardware import Quantity

    q = Quantity(6.4, "measured", "calipers", measured_on=datetime.date(2026, 11, 20), count=3,
                 residual_mm=0.02, standard_error_mm=0.01)
    assert q.fit_fields == {"measured_on": datetime.date(2026, 11, 20), "count": 3,
                            "residual_mm": 0.02, "standard_error_mm": 0.01}
    assert Quantity(1.0, "weak").fit_fields == {}
    for kwargs in ({"provenance": "guess"}, {"count": 0}, {"count": True},
                   {"residual_mm": float("nan")}, {"standard_error_mm": -1.0}):
        with pytest.raises(InputError):
            Quantity(**{"value": 1.0, "provenance": "measured", **kwargs})


@pytest.mark.parametrize("joints, match", [
    ([[1, 0, 0]] * 5, "6 joints"),
    ([[1, 0, 0]] * 5 + [[1, 0]], "6 joints"),
    ([[1, 0, 0]] * 5 + [[1, 0, [0]]], r"value\[5\].*must be a number"),
    ([[1, 0, 0]] * 5 + [["1", 0, 0]], r"value\[5\].*must be a number"),
    ([[1, 0, 0]] * 5 + [[10**400, 0, 0]], r"value\[5\].*must be a number"),
    ([[1, 0, 0]] * 5 + [[True, 0, 0]], r"value\[5\].*must be a number"),
    ("joints", "6 joints"),
])
def test_explicit_joints_must_be_numbers(joints: Any, match: str) -> None:
    data = _data()
    data["rings"][0]["proximal_joints_mm"] = {"value": joints, "provenance": "measured"}
    with pytest.raises(CatalogueError, match=match):
        parse_catalogue(data, "test.toml")


def _leaves(node: Any, path: list[Any]) -> list[list[Any]]:
    if isinstance(node, dict):
        return [p for k, child in node.items() for p in _leaves(child, [*path, k])]
    if isinstance(node, list) and node and all(isinstance(c, dict) for c in node):
        return [p for i, child in enumerate(node) for p in _leaves(child, [*path, i])]
    return [path]


def test_mutated_catalogues_give_catalogue_errors_only() -> None:
    """Every leaf of the shipped catalogue replaced by a wrong type or number, or deleted:
    either a CatalogueError naming a key, or a catalogue whose frames build or refuse cleanly."""
    from hexapod.errors import HexapodError

    data = _data()
    leaves = _leaves(data, [])
    assert len(leaves) > 60
    bad_values: list[Any] = [True, "12", [], [1, 2], {}, -1, 0, 1e300, float("nan"), 10**30,
                             [[1, 2]] * 6, "\x00", None]
    outcomes = {"error": 0, "ok": 0}
    for path in leaves:
        for bad in bad_values:
            try:
                cat = parse_catalogue(_mutate(path, bad, delete=bad is None), "fuzz.toml")
            except CatalogueError as exc:
                assert exc.path or "catalogue" in str(exc), (path, bad, exc)
                outcomes["error"] += 1
                continue
            outcomes["ok"] += 1
            try:
                cat.quantities()
                cat.range_table()
                cat.frame_geometry(155, 155).neutral_lengths(150.0)
            except HexapodError:
                pass
    assert outcomes["error"] > 500 and outcomes["ok"] > 0


def test_pairs_and_pair_gaps_of_the_layout() -> None:
    from hexapod.hardware import PAIR_CLEARANCE_MM, pair_gaps

    layout = load_catalogue().layout
    assert layout.pairs("proximal") == ((0, 1), (2, 3), (4, 5))
    assert layout.pairs("distal") == ((0, 5), (1, 2), (3, 4))
    joints = np.zeros((6, 3))
    edge = 14.0 + PAIR_CLEARANCE_MM
    joints[1, 0] = edge  # pair (0, 1) exactly at the diameter plus the clearance: too close
    joints[2:4, 2] = 100.0
    joints[3, 0] = np.nextafter(edge, 20.0)  # the next float up: clear
    joints[4:6, 2] = [-30.0, -20.0]  # 10 mm: too close
    assert pair_gaps(joints, layout.pairs("proximal"), 14.0) == [(0, 1, edge), (4, 5, 10.0)]
    assert pair_gaps(joints, [], 14.0) == []
