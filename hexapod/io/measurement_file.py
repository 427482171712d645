"""Read and validate a hardware measurement file (contract section 6) for ``hexapod calibrate``.

Every error names the key path of the entry, e.g. ``strut[2].joint_distance_mm`` or
``ring[0].joints[1]`` (entries counted from 0, as in the catalogue's ``rings[0]``), and says
what is needed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hexapod.calibration import ChordObservations, chord_fit_is_determined
from hexapod.errors import KeyPathError
from hexapod.hardware import Catalogue
from hexapod.io.catalogue_file import builtin_names, finite_number
from hexapod.io.documents import read_document

#: Largest distance, reading or ring size accepted (mm): larger ones are typing errors.
MAX_MM = 1000.0
POSITIONS = ("proximal", "distal")
TOP_KEYS = frozenset({"schema_version", "base", "name", "measured_on", "strut", "ring"})
STRUT_KEYS = frozenset({"size", "reading_mm", "joint_distance_mm"})
RING_KEYS = frozenset({"size_mm", "position", "joints", "distance_mm"})


class MeasurementError(KeyPathError):
    """A measurement file is invalid or does not determine a fit: names the entry."""

    kind = "measurement"


@dataclass(frozen=True)
class StrutMeasurement:
    """One strut set to a scale reading and the caliper distance between its joint centres."""

    key: str
    size: str
    reading_mm: float
    joint_distance_mm: float


@dataclass(frozen=True)
class RingMeasurement:
    """Caliper distances between joint centres of one ring (joints named by strut number)."""

    key: str
    size_mm: float
    position: str
    joints: tuple[tuple[int, int], ...]
    distance_mm: tuple[float, ...]


@dataclass(frozen=True)
class Measurements:
    """A validated measurement file."""

    base: str
    name: str
    measured_on: dt.date
    struts: tuple[StrutMeasurement, ...]
    rings: tuple[RingMeasurement, ...]
    source: str

    def base_catalogue_ref(self) -> str:
        """The base catalogue as a shipped name, or a path (a relative one is taken from the
        measurement file's folder)."""
        if self.base in builtin_names() or Path(self.base).is_absolute():
            return self.base
        return str(Path(self.source).parent / self.base)


def read_measurements(path: str | Path) -> Measurements:
    """Read and validate a measurement file (TOML).

    Raises
    ------
    MeasurementError
        Unreadable file, invalid TOML, or an invalid entry (the message names its key path).
    """
    label = str(path)
    data = read_document(path, "measurement file", MeasurementError)
    return parse_measurements(data, label)


def _fail(path: str, message: str, source: str) -> MeasurementError:
    return MeasurementError(path, message, source)


def _text(data: dict[str, Any], key: str, path: str, source: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{path}{key}", f"missing or not a non-empty text, got {value!r}", source)
    return value


def _mm(value: Any, path: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not finite_number(value):
        raise _fail(path, f"must be a number of mm, got {value!r}", source)
    if not 0 < value <= MAX_MM:
        raise _fail(path, f"must be > 0 and at most {MAX_MM:g} mm, got {value!r}", source)
    return float(value)


def _table_list(data: dict[str, Any], key: str, allowed: frozenset[str],
                source: str) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise _fail(key, f"must be a list of [[{key}]] tables", source)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _fail(f"{key}[{i}]", f"must be a [[{key}]] table", source)
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise _fail(f"{key}[{i}].{unknown[0]}",
                        f"unknown key; allowed: {', '.join(sorted(allowed))}", source)
    return entries


def _date(value: Any, source: str) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _fail("measured_on", f"must be a date like 2026-11-20, got {value!r}", source)
    return value


def _ring(entry: dict[str, Any], key: str, source: str) -> RingMeasurement:
    size = _mm(entry.get("size_mm"), f"{key}.size_mm", source)
    position = entry.get("position")
    if position not in POSITIONS:
        raise _fail(f"{key}.position", f"must be proximal or distal, got {position!r}", source)
    joints_raw = entry.get("joints")
    if not isinstance(joints_raw, list) or not joints_raw:
        raise _fail(f"{key}.joints", "missing; give pairs of strut numbers like [[1, 2], [1, 3]]",
                    source)
    joints = []
    for j, pair in enumerate(joints_raw):
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 6
                           for v in pair)):
            raise _fail(f"{key}.joints[{j}]",
                        f"must be two strut numbers 1..6 like [1, 2], got {pair!r}", source)
        if pair[0] == pair[1]:
            raise _fail(f"{key}.joints[{j}]", f"names joint {pair[0]} twice; a distance is "
                        "between two different joints", source)
        joints.append((int(pair[0]), int(pair[1])))
    dist_raw = entry.get("distance_mm")
    if not isinstance(dist_raw, list) or len(dist_raw) != len(joints):
        raise _fail(f"{key}.distance_mm", f"must list {len(joints)} distances (mm), one per "
                    f"pair of joints, got {dist_raw!r}", source)
    distances = tuple(_mm(v, f"{key}.distance_mm[{j}]", source) for j, v in enumerate(dist_raw))
    return RingMeasurement(key, size, position, tuple(joints), distances)


def parse_measurements(data: dict[str, Any], source: str = "<measurements>") -> Measurements:
    """Validate a parsed measurement document (contract section 6).

    Raises
    ------
    MeasurementError
        Any missing, unknown or invalid key, with its key path.
    """
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise _fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(TOP_KEYS))}", source)
    version = data.get("schema_version")
    if isinstance(version, bool) or version != 1:
        raise _fail("schema_version", f"must be 1, got {version!r}", source)
    base = _text(data, "base", "", source)
    name = _text(data, "name", "", source)
    if "measured_on" not in data:
        raise _fail("measured_on", "missing; give the day of the measurements like 2026-11-20",
                    source)
    measured_on = _date(data["measured_on"], source)
    struts = []
    for i, entry in enumerate(_table_list(data, "strut", STRUT_KEYS, source)):
        key = f"strut[{i}]"
        struts.append(StrutMeasurement(
            key, _text(entry, "size", f"{key}.", source),
            _mm(entry.get("reading_mm"), f"{key}.reading_mm", source),
            _mm(entry.get("joint_distance_mm"), f"{key}.joint_distance_mm", source)))
    rings = tuple(_ring(entry, f"ring[{i}]", source)
                  for i, entry in enumerate(_table_list(data, "ring", RING_KEYS, source)))
    if not struts and not rings:
        raise _fail("", "no measurements: give at least one [[strut]] or [[ring]] entry", source)
    return Measurements(base, name, measured_on, tuple(struts), rings, source)


def ring_observations(catalogue: Catalogue, entry: RingMeasurement) -> ChordObservations:
    """The chord observations of one ring entry, for its position's layout."""
    lay = catalogue.layout
    centres, sides = ((lay.proximal_pair_centre_deg, lay.proximal_pair_side)
                      if entry.position == "proximal"
                      else (lay.distal_pair_centre_deg, lay.distal_pair_side))
    return ChordObservations.from_joints(centres, sides, entry.joints, entry.distance_mm)


def check_against_catalogue(meas: Measurements, catalogue: Catalogue) -> None:
    """Check that every entry names hardware of the base catalogue and that each ring entry
    determines its ring's joint radius and pair spacing.

    Raises
    ------
    MeasurementError
        Unknown strut size or ring size, or a ring entry with too few different distances.
    """
    sizes = [s.name for s in catalogue.strut_sizes]
    for st in meas.struts:
        if st.size not in sizes:
            raise _fail(f"{st.key}.size", f"{st.size!r} is not a strut size of catalogue "
                        f"'{catalogue.name}' (allowed: {', '.join(sizes)})", meas.source)
        size = catalogue.strut_size(st.size)
        if not size.holds(st.reading_mm):
            raise _fail(f"{st.key}.reading_mm", f"{st.reading_mm:g} mm is not on the scale of a "
                        f"{st.size} strut ({size.min_mm:g}-{size.max_mm:g} mm): a typing "
                        "error, or the wrong size", meas.source)
    rings = [r.diameter_mm for r in catalogue.rings]
    for entry in meas.rings:
        if not any(abs(entry.size_mm - d) < 1e-9 for d in rings):
            raise _fail(f"{entry.key}.size_mm", f"{entry.size_mm:g} mm is not a ring size of "
                        f"catalogue '{catalogue.name}' (allowed: "
                        f"{', '.join(f'{d:g}' for d in rings)})", meas.source)
        ring = catalogue.ring(entry.size_mm)
        obs = ring_observations(catalogue, entry)
        if not chord_fit_is_determined(obs, ring.joint_radius_mm, float(ring.pair_spacing_mm)):
            raise _fail(entry.key, f"{len(entry.distance_mm)} distance(s) cannot give both the "
                        "joint radius and the pair spacing; measure at least two different "
                        "distances: the two joints of one pair (e.g. [1, 2] on a proximal ring, "
                        "[2, 3] on a distal one) and two joints of different pairs (e.g. "
                        "[1, 3] and [2, 5])", meas.source)
