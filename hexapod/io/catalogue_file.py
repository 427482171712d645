"""Read and validate hardware catalogue files (TOML)."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hexapod.errors import CatalogueError
from hexapod.hardware import (
    FIT_FIELDS,
    PROVENANCE_MARKS,
    Catalogue,
    Layout,
    Limits,
    Quantity,
    RingSize,
    StrutSize,
    pair_gaps,
)
from hexapod.io.documents import read_document

BUILTIN = ("tsf-like",)

#: Largest size of any catalogue number (mm or degrees): larger ones are typing errors.
MAX_MAGNITUDE = 10000.0


def builtin_names() -> tuple[str, ...]:
    """Names of the catalogues shipped with the package."""
    return BUILTIN


def load_catalogue(name_or_path: str | Path = "tsf-like") -> Catalogue:
    """Load a shipped catalogue by name, or a catalogue file by path.

    Raises
    ------
    CatalogueError
        Unknown name, unreadable file, invalid TOML, or any invalid key (the message names
        the key path and what is allowed).
    """
    text: str
    label = str(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        text = resources.files("hexapod").joinpath(f"data/{name_or_path}.toml").read_text("utf-8")
        label = name_or_path
    else:
        path = Path(name_or_path)
        if not path.exists():
            raise CatalogueError(
                "", f"no catalogue called {label!r}: give one of {', '.join(BUILTIN)} or the "
                "path of a catalogue file")
        data = read_document(path, "catalogue file", CatalogueError)
        try:
            return parse_catalogue(data, label)
        except RecursionError:
            raise CatalogueError("", f"{label} nests tables or lists too deeply") from None
    return parse_catalogue(tomllib.loads(text), label)


def finite_number(value: int | float) -> bool:
    """Whether a number read from a file is finite as a float (huge integers are not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> CatalogueError:
        return CatalogueError(path, message, self.source)

    def table(self, data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        if key not in data:
            raise self.fail(f"{path}{key}", "missing (required table)")
        value = data[key]
        if not isinstance(value, dict):
            raise self.fail(f"{path}{key}", f"must be a table, got {value!r}")
        return value

    def quantity(self, data: dict[str, Any], key: str, path: str, *, kind: str = "number",
                 default: Quantity | None = None) -> Quantity:
        """Read ``{ value = ..., provenance = ..., note = ..., [measured metadata] }``.

        ``kind`` is ``"number"``, ``"positive"``, ``"non_negative"`` (value a finite number
        of at most :data:`MAX_MAGNITUDE` in size, returned as float) or ``"any"`` (the caller
        checks the value).
        """
        full = f"{path}{key}"
        if key not in data:
            if default is not None:
                return default
            raise self.fail(full, "missing; give { value = ..., provenance = ..., note = ... }")
        raw = data[key]
        if not isinstance(raw, dict) or "value" not in raw or "provenance" not in raw:
            raise self.fail(full, "must be a table { value = ..., provenance = ..., note = ... }")
        unknown = set(raw) - {"value", "provenance", "note", *FIT_FIELDS}
        if unknown:
            raise self.fail(full, f"unknown key(s) {sorted(unknown)}; allowed: value, "
                            f"provenance, note, {', '.join(FIT_FIELDS)}")
        prov = raw["provenance"]
        if not isinstance(prov, str) or prov not in PROVENANCE_MARKS:
            raise self.fail(f"{full}.provenance",
                            f"{prov!r} is not one of {', '.join(PROVENANCE_MARKS)}")
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise self.fail(f"{full}.note", f"must be text, got {note!r}")
        value = raw["value"]
        if kind != "any":
            value = self.number(value, f"{full}.value", kind)
        return Quantity(value, prov, note, **self.fit_fields(raw, full))

    def number(self, value: Any, full: str, kind: str = "number") -> float:
        """A finite number (not a boolean, text or list) of at most MAX_MAGNITUDE in size."""
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not finite_number(value):
            raise self.fail(full, f"must be a number, got {value!r}")
        if abs(value) > MAX_MAGNITUDE:
            raise self.fail(full, f"{value!r} is beyond {MAX_MAGNITUDE:g} in size; no hardware "
                            "number is that large")
        if kind == "positive" and not value > 0:
            raise self.fail(full, f"must be > 0, got {value!r}")
        if kind == "non_negative" and value < 0:
            raise self.fail(full, f"must be >= 0, got {value!r}")
        return float(value)

    def fit_fields(self, raw: dict[str, Any], full: str) -> dict[str, Any]:
        """The optional measurement metadata of a quantity table, validated."""
        out: dict[str, Any] = {}
        if "measured_on" in raw:
            day = raw["measured_on"]
            if isinstance(day, str):
                try:
                    day = dt.date.fromisoformat(day)
                except ValueError:
                    day = None
            if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                raise self.fail(f"{full}.measured_on",
                                f"must be a date like 2026-11-20, got {raw['measured_on']!r}")
            out["measured_on"] = day
        if "count" in raw:
            count = raw["count"]
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10**6:
                raise self.fail(f"{full}.count", f"must be a whole number >= 1, got {count!r}")
            out["count"] = count
        for name in ("residual_mm", "standard_error_mm"):
            if name in raw:
                out[name] = self.number(raw[name], f"{full}.{name}", "non_negative")
        return out

    def number_list(self, data: dict[str, Any], key: str, path: str, count: int) -> list[float]:
        full = f"{path}{key}"
        if key not in data:
            raise self.fail(full, f"missing; give a list of {count} numbers")
        value = data[key]
        if (not isinstance(value, list) or len(value) != count
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           and finite_number(v) and abs(v) <= MAX_MAGNITUDE for v in value)):
            raise self.fail(full, f"must be a list of {count} numbers, got {value!r}")
        return [float(v) for v in value]


def _joints(reader: _Reader, ring: dict[str, Any], key: str, path: str) -> Quantity | None:
    if key not in ring:
        return None
    q = reader.quantity(ring, key, path, kind="any")
    value = q.value
    if (not isinstance(value, list) or len(value) != 6
            or not all(isinstance(p, list) and len(p) == 3 for p in value)):
        raise reader.fail(f"{path}{key}.value", "must list 6 joints as [x, y, z] in mm")
    joints = np.array([[reader.number(v, f"{path}{key}.value[{i}]") for v in point]
                       for i, point in enumerate(value)])
    if not np.allclose(joints[:, 2], 0.0):
        raise reader.fail(f"{path}{key}.value", "joint centres must lie in the ring frame's "
                          "z = 0 plane (contract section 1)")
    return replace(q, value=joints.tolist())


RING_KEYS = frozenset({"size_mm", "joint_radius_offset_mm", "pair_spacing_mm",
                       "proximal_joints_mm", "distal_joints_mm"})
STRUT_KEYS = frozenset({"name", "min_reading_mm", "max_reading_mm", "scale_increment_mm",
                        "reading_to_length_offset_mm"})
LAYOUT_KEYS = frozenset({"provenance", "note", "proximal_pair_centre_deg", "proximal_pair_side",
                         "distal_pair_centre_deg", "distal_pair_side"})


def _check_keys(r: _Reader, table: dict[str, Any], allowed: frozenset[str], path: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise r.fail(f"{path}{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _layout(r: _Reader, data: dict[str, Any]) -> Layout:
    lay = r.table(data, "layout", "")
    _check_keys(r, lay, LAYOUT_KEYS, "layout.")
    prox_c = r.number_list(lay, "proximal_pair_centre_deg", "layout.", 6)
    dist_c = r.number_list(lay, "distal_pair_centre_deg", "layout.", 6)
    sides = []
    for key in ("proximal_pair_side", "distal_pair_side"):
        values = r.number_list(lay, key, "layout.", 6)
        if any(v not in (-1.0, 1.0) for v in values):
            raise r.fail(f"layout.{key}", f"each side must be -1 or 1, got {values}")
        sides.append(tuple(int(v) for v in values))
    prov = lay.get("provenance", "unverified")
    if not isinstance(prov, str) or prov not in PROVENANCE_MARKS:
        raise r.fail("layout.provenance", f"{prov!r} is not one of {', '.join(PROVENANCE_MARKS)}")
    note = lay.get("note", "")
    if not isinstance(note, str):
        raise r.fail("layout.note", f"must be text, got {note!r}")
    return Layout(tuple(prox_c), sides[0], tuple(dist_c), sides[1], prov, note)


def _rings(r: _Reader, data: dict[str, Any]) -> tuple[RingSize, ...]:
    defaults = data.get("ring_defaults", {})
    if not isinstance(defaults, dict):
        raise r.fail("ring_defaults", "must be a table")
    _check_keys(r, defaults, frozenset({"joint_radius_offset_mm", "pair_spacing_mm"}),
                "ring_defaults.")
    rings_raw = data.get("rings")
    if not isinstance(rings_raw, list) or not rings_raw:
        raise r.fail("rings", "missing; give at least one [[rings]] table")
    rings = []
    for i, ring in enumerate(rings_raw):
        path = f"rings[{i}]."
        if not isinstance(ring, dict):
            raise r.fail(f"rings[{i}]", "must be a table")
        _check_keys(r, ring, RING_KEYS, path)
        size = r.quantity(ring, "size_mm", path, kind="positive")
        offset = r.quantity(ring, "joint_radius_offset_mm", path, default=(
            r.quantity(defaults, "joint_radius_offset_mm", "ring_defaults.")
            if "joint_radius_offset_mm" in defaults else None))
        spacing = r.quantity(ring, "pair_spacing_mm", path, kind="positive", default=(
            r.quantity(defaults, "pair_spacing_mm", "ring_defaults.", kind="positive")
            if "pair_spacing_mm" in defaults else None))
        radius = float(size) / 2 + float(offset.value)
        if not radius > 0:
            raise r.fail(f"{path}joint_radius_offset_mm",
                         f"gives a joint radius of {radius:g} mm; it must be > 0")
        if not float(spacing) < 2 * radius:
            raise r.fail(f"{path}pair_spacing_mm",
                         f"{float(spacing):g} mm does not fit a joint circle of radius "
                         f"{radius:g} mm")
        rings.append(RingSize(size, offset, spacing,
                              _joints(r, ring, "proximal_joints_mm", path),
                              _joints(r, ring, "distal_joints_mm", path)))
    sizes_seen = [ring.diameter_mm for ring in rings]
    if len(set(sizes_seen)) != len(sizes_seen):
        raise r.fail("rings", f"ring sizes must be unique, got {sizes_seen}")
    return tuple(rings)


def _strut_sizes(r: _Reader, data: dict[str, Any]) -> tuple[tuple[StrutSize, ...], list[str]]:
    struts_raw = data.get("strut_sizes")
    if not isinstance(struts_raw, list) or not struts_raw:
        raise r.fail("strut_sizes", "missing; give at least one [[strut_sizes]] table")
    struts: list[StrutSize] = []
    for i, st in enumerate(struts_raw):
        path = f"strut_sizes[{i}]."
        if not isinstance(st, dict) or not isinstance(st.get("name"), str) or not st["name"]:
            raise r.fail(f"strut_sizes[{i}].name", "missing or not a non-empty string")
        _check_keys(r, st, STRUT_KEYS, path)
        lo = r.quantity(st, "min_reading_mm", path, kind="positive")
        hi = r.quantity(st, "max_reading_mm", path, kind="positive")
        if not float(hi) > float(lo):
            raise r.fail(f"{path}max_reading_mm",
                         f"{float(hi):g} must be greater than min_reading_mm {float(lo):g}")
        inc = r.quantity(st, "scale_increment_mm", path, kind="positive")
        off = r.quantity(st, "reading_to_length_offset_mm", path, default=Quantity(
            0.0, "default", "no offset given"))
        struts.append(StrutSize(st["name"], lo, hi, inc, off))
    names = [s.name for s in struts]
    if len(set(names)) != len(names):
        raise r.fail("strut_sizes", f"strut size names must be unique, got {names}")
    warnings = []
    for i in range(1, len(struts)):
        a, b = struts[i - 1], struts[i]
        if not (b.min_mm > a.min_mm and b.max_mm > a.max_mm):
            raise r.fail(f"strut_sizes[{i}]",
                         f"ranges must be sorted shortest first, each size starting and ending "
                         f"after the one before: {a.name} {a.min_mm:g}-{a.max_mm:g} mm, "
                         f"{b.name} {b.min_mm:g}-{b.max_mm:g} mm")
        if b.min_mm > a.max_mm:
            warnings.append(f"no swap window between {a.name} and {b.name}: "
                            f"{a.max_mm:g} < {b.min_mm:g} mm")
    return tuple(struts), warnings


def _check_pairs_clear(r: _Reader, data: dict[str, Any], cat: Catalogue) -> None:
    """Refuse a ring whose two joints of a pair are not farther apart than a strut is thick:
    its struts would collide at their joints whatever the pose, so no plan could use it."""
    diameter = float(cat.limits.strut_diameter_mm)
    for i, ring in enumerate(cat.rings):
        for position in ("proximal", "distal"):
            joints = getattr(cat, f"{position}_joints")(ring.diameter_mm)
            gaps = pair_gaps(joints, cat.layout.pairs(position), diameter)
            if not gaps:
                continue
            a, b, distance = gaps[0]
            if getattr(ring, f"{position}_joints_mm") is not None:
                key = f"rings[{i}].{position}_joints_mm"
                what = f"{position} joints {a + 1} and {b + 1} are {distance:.10g} mm apart"
            else:
                own = "pair_spacing_mm" in data["rings"][i]
                key = f"rings[{i}].pair_spacing_mm" if own else "ring_defaults.pair_spacing_mm"
                what = f"{float(ring.pair_spacing_mm):.10g} mm"
            raise r.fail(key, f"{what} (ring {ring.diameter_mm:g} mm): the two joints of a pair "
                              f"must be more than the strut diameter, {diameter:.10g} mm "
                              "(limits.strut_diameter_mm), apart, or the two struts collide at "
                              "their joints whatever the pose; measure the distance between "
                              "the joint centres (or check limits.strut_diameter_mm)")


def parse_catalogue(data: dict[str, Any], source: str = "<catalogue>") -> Catalogue:
    """Validate a parsed catalogue document and build a :class:`Catalogue`.

    Raises
    ------
    CatalogueError
        Any missing, unknown or invalid key: the message names its key path and what is
        allowed. Numbers must be numbers (not booleans, text or lists).
    """
    r = _Reader(source)
    allowed_top = frozenset({"schema_version", "name", "description", "layout", "colours",
                             "ring_defaults", "rings", "strut_sizes", "limits"})
    _check_keys(r, data, allowed_top, "")
    version = data.get("schema_version")
    if isinstance(version, bool) or version != 1:
        raise r.fail("schema_version", f"must be 1, got {version!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise r.fail("name", "missing or not a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise r.fail("description", f"must be text, got {description!r}")
    layout = _layout(r, data)
    colours = r.quantity(data, "colours", "", kind="any")
    if (not isinstance(colours.value, list) or len(colours.value) != 6
            or not all(isinstance(c, str) and c for c in colours.value)):
        raise r.fail("colours.value", f"must list 6 colour names, got {colours.value!r}")
    rings = _rings(r, data)
    struts, warnings = _strut_sizes(r, data)
    lim = r.table(data, "limits", "")
    unknown = sorted(set(lim) - set(Limits.__dataclass_fields__))
    if unknown:
        raise r.fail(f"limits.{unknown[0]}",
                     f"unknown limit; allowed: {', '.join(Limits.__dataclass_fields__)}")
    limits = Limits(**{k: r.quantity(lim, k, "limits.", kind="positive")
                       for k in Limits.__dataclass_fields__})
    cat = Catalogue(name=name, description=description, rings=rings, strut_sizes=struts,
                    colours=colours, layout=layout, limits=limits, source=source,
                    warnings=tuple(warnings))
    _check_pairs_clear(r, data, cat)
    return cat
