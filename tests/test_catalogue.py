"""Hardware catalogue: the shipped data, provenance, and validation of user catalogues."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hexapod.errors import CatalogueError, InputError
from hexapod.hardware import PROVENANCE_MARKS
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
])
def test_invalid_catalogues(path: list[Any], value: Any, delete: bool, match: str) -> None:
    with pytest.raises(CatalogueError, match=match):
        parse_catalogue(_mutate(path, value, delete), "test.toml")


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
