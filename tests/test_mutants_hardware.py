"""Catalogue rules of hexapod.hardware that the mutation run found unchecked: the reasons a
Quantity is refused, the key paths of the provenance listings, and the pair clearance at
its bound. Each expected value is written out, not read back from the code."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest

from hexapod import hardware
from hexapod.errors import InputError, KeyPathError
from hexapod.geometry import ring_joints
from hexapod.hardware import Quantity
from hexapod.io.catalogue_file import load_catalogue, parse_catalogue


def _data() -> dict[str, Any]:
    text = resources.files("hexapod").joinpath("data/tsf-like.toml").read_text("utf-8")
    return tomllib.loads(text)


@pytest.mark.parametrize("fields, message", [
    ({"provenance": "guess"}, r"^provenance 'guess' is not one of \('source', 'weak', "),
    ({"count": 0}, r"^count must be a positive integer, got 0$"),
    ({"count": True}, r"^count must be a positive integer, got True$"),
    ({"residual_mm": -0.1}, r"^residual_mm must be a finite number >= 0, got -0.1$"),
    ({"standard_error_mm": float("nan")},
     r"^standard_error_mm must be a finite number >= 0, got nan$"),
])
def test_a_quantity_says_why_it_is_refused(fields: dict[str, Any], message: str) -> None:
    args = {"value": 1.0, "provenance": "measured", **fields}
    with pytest.raises(InputError, match=message):
        Quantity(**args)


def test_every_catalogue_number_is_listed_under_its_key() -> None:
    cat = load_catalogue()
    listed = dict(cat.quantities())
    keys = list(listed)
    assert keys[:2] == ["layout", "colours"]
    assert listed["colours"] is cat.colours
    assert listed["layout"].value == (
        "proximal pairs at [90.0, 90.0, 210.0, 210.0, 330.0, 330.0] deg, "
        "distal pairs at [30.0, 150.0, 150.0, 270.0, 270.0, 30.0] deg")
    assert listed["layout"].provenance == cat.layout.provenance
    assert listed["layout"].note == cat.layout.note != ""
    short = cat.strut_size("short")
    assert listed["strut_sizes[short].min_reading_mm"] is short.min_reading_mm
    assert listed["strut_sizes[short].reading_to_length_offset_mm"] is \
        short.reading_to_length_offset_mm
    assert "rings[155].pair_spacing_mm" in keys and None not in keys


def test_a_plan_lists_the_layout_only_when_a_ring_is_built_from_it() -> None:
    cat = load_catalogue()
    listed = dict(cat.plan_quantities(155, 155))
    assert listed["layout"] == Quantity("layout", cat.layout.provenance, cat.layout.note)
    data = _data()
    for end in ("proximal", "distal"):  # ring 155 with both sets of joints measured
        joints = ring_joints(155 / 2 + 16.3, 15.0, data["layout"][f"{end}_pair_centre_deg"],
                             data["layout"][f"{end}_pair_side"])
        data["rings"][1][f"{end}_joints_mm"] = {"value": joints.tolist(),
                                                "provenance": "measured"}
    explicit = dict(parse_catalogue(data, "t.toml").plan_quantities(155, 155))
    assert "layout" not in explicit
    assert "rings[155].proximal_joints_mm" in explicit
    assert "rings[155].pair_spacing_mm" not in explicit
    # one ring measured, the other built from the layout: the layout is listed
    mixed = dict(parse_catalogue(data, "t.toml").plan_quantities(155, 180))
    assert "layout" in mixed and "rings[180].pair_spacing_mm" in mixed


@pytest.mark.parametrize("sizes, key", [((150, 155), "frame.proximal_ring_mm"),
                                        ((155, 181), "frame.distal_ring_mm")])
def test_a_plan_on_an_unknown_ring_names_the_frame_key(sizes: tuple[int, int],
                                                       key: str) -> None:
    with pytest.raises(KeyPathError) as info:
        load_catalogue().plan_quantities(*sizes)
    assert info.value.path == key


@pytest.mark.parametrize("distance, clear", [
    (14.0, False), (14.0 + hardware.PAIR_CLEARANCE_MM, False),
    (14.0 + 2 * hardware.PAIR_CLEARANCE_MM, True), (13.9999999, False), (30.0, True)])
def test_a_pair_is_clear_only_beyond_a_strut_and_the_clearance(distance: float,
                                                               clear: bool) -> None:
    assert hardware.PAIR_CLEARANCE_MM == 1e-6
    assert hardware.pair_is_clear(distance, 14.0) is clear


def test_a_size_holds_both_ends_of_its_scale_and_the_catalogue_lists_the_holders() -> None:
    from hexapod.io.catalogue_file import load_catalogue

    cat = load_catalogue("tsf-like")
    medium = cat.strut_size("medium")
    assert medium.holds(medium.min_mm) and medium.holds(medium.max_mm)
    assert not medium.holds(medium.min_mm - 0.01) and not medium.holds(medium.max_mm + 0.01)
    assert [s.name for s in cat.sizes_holding(169.0)] == ["medium", "long"]  # shortest first
    assert [s.name for s in cat.sizes_holding(150.0)] == ["medium"]
    assert cat.sizes_holding(300.0) == () and cat.sizes_holding(74.9) == ()
