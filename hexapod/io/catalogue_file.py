"""Read and validate hardware catalogue files (TOML)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hexapod.errors import CatalogueError
from hexapod.hardware import (
    PROVENANCE_MARKS,
    Catalogue,
    Layout,
    Limits,
    Quantity,
    RingSize,
    StrutSize,
)

BUILTIN = ("tsf-like",)


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
        if not path.is_file():
            raise CatalogueError(
                "", f"no catalogue called {label!r}: give one of {', '.join(BUILTIN)} or the "
                "path of a catalogue file")
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogueError("", f"cannot read catalogue file {label}: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError("", f"catalogue {label} is not valid TOML: {exc}") from exc
    return parse_catalogue(data, label)


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

    def quantity(self, data: dict[str, Any], key: str, path: str, *, positive: bool = False,
                 non_negative: bool = False, default: Quantity | None = None) -> Quantity:
        full = f"{path}{key}"
        if key not in data:
            if default is not None:
                return default
            raise self.fail(full, "missing; give { value = ..., provenance = ..., note = ... }")
        raw = data[key]
        if not isinstance(raw, dict) or "value" not in raw or "provenance" not in raw:
            raise self.fail(full, "must be a table { value = ..., provenance = ..., note = ... }")
        unknown = set(raw) - {"value", "provenance", "note"}
        if unknown:
            raise self.fail(full, f"unknown key(s) {sorted(unknown)}; allowed: value, "
                            "provenance, note")
        prov = raw["provenance"]
        if prov not in PROVENANCE_MARKS:
            raise self.fail(f"{full}.provenance",
                            f"{prov!r} is not one of {', '.join(PROVENANCE_MARKS)}")
        value = raw["value"]
        if positive or non_negative:
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not np.isfinite(value):
                raise self.fail(f"{full}.value", f"must be a number, got {value!r}")
            if positive and not value > 0:
                raise self.fail(f"{full}.value", f"must be > 0, got {value!r}")
            if non_negative and value < 0:
                raise self.fail(f"{full}.value", f"must be >= 0, got {value!r}")
            value = float(value)
        return Quantity(value, prov, str(raw.get("note", "")))

    def number_list(self, data: dict[str, Any], key: str, path: str, count: int) -> list[float]:
        full = f"{path}{key}"
        if key not in data:
            raise self.fail(full, f"missing; give a list of {count} numbers")
        value = data[key]
        if (not isinstance(value, list) or len(value) != count
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            raise self.fail(full, f"must be a list of {count} numbers, got {value!r}")
        return [float(v) for v in value]


def _joints(reader: _Reader, ring: dict[str, Any], key: str, path: str) -> Quantity | None:
    if key not in ring:
        return None
    q = reader.quantity(ring, key, path)
    arr = np.asarray(q.value, dtype=object)
    try:
        joints = np.asarray(q.value, dtype=float)
    except (TypeError, ValueError):
        joints = np.zeros(0)
    if joints.shape != (6, 3) or not np.all(np.isfinite(joints)):
        raise reader.fail(f"{path}{key}.value",
                          f"must list 6 joints as [x, y, z] in mm, got shape {arr.shape}")
    if not np.allclose(joints[:, 2], 0.0):
        raise reader.fail(f"{path}{key}.value", "joint centres must lie in the ring frame's "
                          "z = 0 plane (contract section 1)")
    return Quantity(joints.tolist(), q.provenance, q.note)


def parse_catalogue(data: dict[str, Any], source: str = "<catalogue>") -> Catalogue:
    """Validate a parsed catalogue document and build a :class:`Catalogue`."""
    r = _Reader(source)
    allowed_top = {"schema_version", "name", "description", "layout", "colours",
                   "ring_defaults", "rings", "strut_sizes", "limits"}
    unknown = sorted(set(data) - allowed_top)
    if unknown:
        raise r.fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(allowed_top))}")
    if data.get("schema_version") != 1:
        raise r.fail("schema_version", f"must be 1, got {data.get('schema_version')!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise r.fail("name", "missing or not a non-empty string")

    lay = r.table(data, "layout", "")
    prox_c = r.number_list(lay, "proximal_pair_centre_deg", "layout.", 6)
    dist_c = r.number_list(lay, "distal_pair_centre_deg", "layout.", 6)
    sides = []
    for key in ("proximal_pair_side", "distal_pair_side"):
        values = r.number_list(lay, key, "layout.", 6)
        if any(v not in (-1.0, 1.0) for v in values):
            raise r.fail(f"layout.{key}", f"each side must be -1 or 1, got {values}")
        sides.append(tuple(int(v) for v in values))
    layout = Layout(tuple(prox_c), sides[0], tuple(dist_c), sides[1],
                    str(lay.get("provenance", "unverified")), str(lay.get("note", "")))

    colours = r.quantity(data, "colours", "")
    if (not isinstance(colours.value, list) or len(colours.value) != 6
            or not all(isinstance(c, str) and c for c in colours.value)):
        raise r.fail("colours.value", f"must list 6 colour names, got {colours.value!r}")

    defaults = data.get("ring_defaults", {})
    if not isinstance(defaults, dict):
        raise r.fail("ring_defaults", "must be a table")
    rings_raw = data.get("rings")
    if not isinstance(rings_raw, list) or not rings_raw:
        raise r.fail("rings", "missing; give at least one [[rings]] table")
    rings = []
    for i, ring in enumerate(rings_raw):
        path = f"rings[{i}]."
        if not isinstance(ring, dict):
            raise r.fail(f"rings[{i}]", "must be a table")
        size = r.quantity(ring, "size_mm", path, positive=True)
        offset = r.quantity(ring, "joint_radius_offset_mm", path, default=(
            r.quantity(defaults, "joint_radius_offset_mm", "ring_defaults.")
            if "joint_radius_offset_mm" in defaults else None))
        spacing = r.quantity(ring, "pair_spacing_mm", path, positive=True, default=(
            r.quantity(defaults, "pair_spacing_mm", "ring_defaults.", positive=True)
            if "pair_spacing_mm" in defaults else None))
        radius = float(size) / 2 + float(offset.value)
        if not radius > 0:
            raise r.fail(f"{path}joint_radius_offset_mm",
                         f"gives a joint radius of {radius:g} mm; it must be > 0")
        if not float(spacing) < 2 * radius:
            raise r.fail(f"{path}pair_spacing_mm",
                         f"{float(spacing):g} mm does not fit a joint circle of radius "
                         f"{radius:g} mm")
        rings.append(RingSize(size, Quantity(float(offset.value), offset.provenance, offset.note),
                              spacing, _joints(r, ring, "proximal_joints_mm", path),
                              _joints(r, ring, "distal_joints_mm", path)))
    sizes_seen = [ring.diameter_mm for ring in rings]
    if len(set(sizes_seen)) != len(sizes_seen):
        raise r.fail("rings", f"ring sizes must be unique, got {sizes_seen}")

    struts_raw = data.get("strut_sizes")
    if not isinstance(struts_raw, list) or not struts_raw:
        raise r.fail("strut_sizes", "missing; give at least one [[strut_sizes]] table")
    struts: list[StrutSize] = []
    for i, st in enumerate(struts_raw):
        path = f"strut_sizes[{i}]."
        if not isinstance(st, dict) or not isinstance(st.get("name"), str) or not st["name"]:
            raise r.fail(f"strut_sizes[{i}].name", "missing or not a non-empty string")
        lo = r.quantity(st, "min_reading_mm", path, positive=True)
        hi = r.quantity(st, "max_reading_mm", path, positive=True)
        if not float(hi) > float(lo):
            raise r.fail(f"{path}max_reading_mm",
                         f"{float(hi):g} must be greater than min_reading_mm {float(lo):g}")
        inc = r.quantity(st, "scale_increment_mm", path, positive=True)
        off = r.quantity(st, "reading_to_length_offset_mm", path, default=Quantity(
            0.0, "default", "no offset given"))
        if isinstance(off.value, bool) or not isinstance(off.value, int | float):
            raise r.fail(f"{path}reading_to_length_offset_mm.value", "must be a number")
        struts.append(StrutSize(st["name"], lo, hi, inc,
                                Quantity(float(off.value), off.provenance, off.note)))
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

    lim = r.table(data, "limits", "")
    unknown = sorted(set(lim) - set(Limits.__dataclass_fields__))
    if unknown:
        raise r.fail(f"limits.{unknown[0]}",
                     f"unknown limit; allowed: {', '.join(Limits.__dataclass_fields__)}")
    limits = Limits(**{k: r.quantity(lim, k, "limits.", positive=True)
                       for k in Limits.__dataclass_fields__})
    return Catalogue(name=name, description=str(data.get("description", "")),
                     rings=tuple(rings), strut_sizes=tuple(struts), colours=colours,
                     layout=layout, limits=limits, source=source, warnings=tuple(warnings))
