"""Hardware description of a hexapod system: rings, strut sizes, colours, limits (maths core).

The numbers themselves live in a catalogue file (``hexapod/data/*.toml``), read by
:mod:`hexapod.io.catalogue_file`; every number keeps its provenance mark beside it so that
users can see which ones to check against their own hardware.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hexapod.errors import InputError, KeyPathError
from hexapod.geometry import FrameGeometry, Reference, ring_joints

#: Provenance marks (domain notes): where a number comes from.
PROVENANCE_MARKS = ("source", "weak", "unverified", "derived", "measured", "default")


@dataclass(frozen=True)
class Quantity:
    """A catalogue number with its provenance.

    Attributes
    ----------
    value : Any
        The number (or list of numbers / names).
    provenance : str
        One of :data:`PROVENANCE_MARKS`.
    note : str
        Where the number was read, or why it is believed.
    measured_on : datetime.date or None
        For a ``measured`` number: the day the measurements were taken.
    count : int or None
        For a fitted number: how many measurements the fit used.
    residual_mm : float or None
        For a fitted number: root-mean-square fit residual of its measurements (mm).
    standard_error_mm : float or None
        For a fitted number: its standard error (mm).
    """

    value: Any
    provenance: str
    note: str = ""
    measured_on: dt.date | None = None
    count: int | None = None
    residual_mm: float | None = None
    standard_error_mm: float | None = None

    def __post_init__(self) -> None:
        if self.provenance not in PROVENANCE_MARKS:
            raise InputError(f"provenance {self.provenance!r} is not one of {PROVENANCE_MARKS}")
        if self.count is not None and (isinstance(self.count, bool) or self.count < 1):
            raise InputError(f"count must be a positive integer, got {self.count!r}")
        for name in ("residual_mm", "standard_error_mm"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {v!r}")

    def __float__(self) -> float:
        return float(self.value)

    @property
    def fit_fields(self) -> dict[str, Any]:
        """The optional measurement metadata that is set (name -> value)."""
        return {k: getattr(self, k) for k in FIT_FIELDS if getattr(self, k) is not None}


#: Optional metadata a :class:`Quantity` carries when it was measured or fitted.
FIT_FIELDS = ("measured_on", "count", "residual_mm", "standard_error_mm")


@dataclass(frozen=True)
class StrutSize:
    """One strut size: its usable scale range and how a reading maps to a joint distance.

    Joint-centre distance (mm) = scale reading + ``reading_to_length_offset_mm``.
    """

    name: str
    min_reading_mm: Quantity
    max_reading_mm: Quantity
    scale_increment_mm: Quantity
    reading_to_length_offset_mm: Quantity

    @property
    def min_mm(self) -> float:
        return float(self.min_reading_mm)

    @property
    def max_mm(self) -> float:
        return float(self.max_reading_mm)

    @property
    def increment_mm(self) -> float:
        return float(self.scale_increment_mm)

    @property
    def offset_mm(self) -> float:
        return float(self.reading_to_length_offset_mm)

    def holds(self, reading_mm: float) -> bool:
        """Whether the scale has this reading (mm): both ends of the range are on it."""
        return self.min_mm <= reading_mm <= self.max_mm


@dataclass(frozen=True)
class RingSize:
    """One ring size (inner diameter) and the geometry of its joints."""

    size_mm: Quantity
    joint_radius_offset_mm: Quantity
    pair_spacing_mm: Quantity
    proximal_joints_mm: Quantity | None = None
    distal_joints_mm: Quantity | None = None

    @property
    def diameter_mm(self) -> float:
        return float(self.size_mm)

    @property
    def joint_radius_mm(self) -> float:
        """Radius of the joint-centre circle: inner radius + offset (mm)."""
        return self.diameter_mm / 2.0 + float(self.joint_radius_offset_mm)


@dataclass(frozen=True)
class Layout:
    """Where each strut's joints sit on the two rings (angles in the ring frames, degrees)."""

    proximal_pair_centre_deg: tuple[float, ...]
    proximal_pair_side: tuple[int, ...]
    distal_pair_centre_deg: tuple[float, ...]
    distal_pair_side: tuple[int, ...]
    provenance: str = "unverified"
    note: str = ""

    def pairs(self, position: str) -> tuple[tuple[int, int], ...]:
        """The two joints (indices 0..5) of each pair on the ``proximal`` or ``distal`` ring:
        joints that share a pair centre."""
        centres = getattr(self, f"{position}_pair_centre_deg")
        groups: dict[float, list[int]] = {}
        for i, centre in enumerate(centres):
            groups.setdefault(float(centre), []).append(i)
        return tuple((g[0], g[1]) for g in groups.values() if len(g) == 2)


#: How much farther apart than a strut is thick the two joints of a pair must be (mm): at
#: exactly the diameter the struts touch at their joints, and in floating point the strut
#: collision check sees them overlap on every row of every plan.
PAIR_CLEARANCE_MM = 1e-6


def pair_is_clear(distance_mm: float, strut_diameter_mm: float) -> bool:
    """Whether two joints of a pair ``distance_mm`` apart (mm) leave room for their struts:
    farther apart than a strut is thick, by :data:`PAIR_CLEARANCE_MM`."""
    return bool(distance_mm > strut_diameter_mm + PAIR_CLEARANCE_MM)


def pair_gaps(joints: np.ndarray, pairs: Iterable[tuple[int, int]],
              strut_diameter_mm: float) -> list[tuple[int, int, float]]:
    """The pairs of ``joints`` (6, 3) (mm) whose two joints are not farther apart than a strut
    is thick (plus :data:`PAIR_CLEARANCE_MM`): (joint, joint, distance mm), joints 0..5.
    Such a ring could carry no plan: its struts collide at their joints whatever the pose."""
    out = []
    for a, b in pairs:
        distance = float(np.linalg.norm(joints[a] - joints[b]))
        if not pair_is_clear(distance, strut_diameter_mm):
            out.append((a, b, distance))
    return out


@dataclass(frozen=True)
class Limits:
    """Safety limits checked on every row of a plan."""

    max_change_per_adjustment_mm: Quantity
    near_end_margin_mm: Quantity
    max_condition_number: Quantity
    min_ring_gap_mm: Quantity
    strut_diameter_mm: Quantity
    max_joint_angle_deg: Quantity
    max_rounding_error_mm: Quantity
    max_rounding_error_deg: Quantity


@dataclass(frozen=True)
class Catalogue:
    """A hexapod system's hardware, as read from a catalogue file."""

    name: str
    description: str
    rings: tuple[RingSize, ...]
    strut_sizes: tuple[StrutSize, ...]
    colours: Quantity
    layout: Layout
    limits: Limits
    source: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def ring(self, size_mm: float, key: str | None = None) -> RingSize:
        """The ring of this inner diameter (mm).

        Raises
        ------
        InputError
            No ring of that size; the message lists the sizes. With ``key`` (the key path the
            size was read from, e.g. ``"frame.proximal_ring_mm"``) it is a
            :class:`~hexapod.errors.KeyPathError` naming that key.
        """
        for ring in self.rings:
            if abs(ring.diameter_mm - size_mm) < 1e-9:
                return ring
        allowed = ", ".join(f"{r.diameter_mm:g}" for r in self.rings)
        message = (f"ring size {size_mm:g} mm is not in catalogue '{self.name}' "
                   f"(allowed: {allowed})")
        if key is not None:
            raise KeyPathError(key, message)
        raise InputError(message)

    def strut_size(self, name: str) -> StrutSize:
        """The strut size called ``name``; InputError listing the names otherwise."""
        for size in self.strut_sizes:
            if size.name == name:
                return size
        allowed = ", ".join(s.name for s in self.strut_sizes)
        raise InputError(f"strut size {name!r} is not in catalogue '{self.name}' "
                         f"(allowed: {allowed})")

    def sizes_holding(self, reading_mm: float) -> tuple[StrutSize, ...]:
        """The strut sizes whose scale has this reading (mm), shortest first."""
        return tuple(s for s in self.strut_sizes if s.holds(reading_mm))

    def strut_size_index(self, name: str) -> int:
        """Index of a strut size in :attr:`strut_sizes` (shortest first)."""
        return self.strut_sizes.index(self.strut_size(name))

    @property
    def colour_names(self) -> tuple[str, ...]:
        """Colour of struts 1..6."""
        return tuple(str(c) for c in self.colours.value)

    def proximal_joints(self, size_mm: float) -> np.ndarray:
        """Joint centres of a proximal ring of this size in its ring frame, shape (6, 3)."""
        ring = self.ring(size_mm, "frame.proximal_ring_mm")
        if ring.proximal_joints_mm is not None:
            return np.asarray(ring.proximal_joints_mm.value, dtype=float)
        return ring_joints(ring.joint_radius_mm, float(ring.pair_spacing_mm),
                           self.layout.proximal_pair_centre_deg, self.layout.proximal_pair_side)

    def distal_joints(self, size_mm: float) -> np.ndarray:
        """Joint centres of a distal ring of this size in its ring frame, shape (6, 3)."""
        ring = self.ring(size_mm, "frame.distal_ring_mm")
        if ring.distal_joints_mm is not None:
            return np.asarray(ring.distal_joints_mm.value, dtype=float)
        return ring_joints(ring.joint_radius_mm, float(ring.pair_spacing_mm),
                           self.layout.distal_pair_centre_deg, self.layout.distal_pair_side)

    def frame_geometry(self, proximal_ring_mm: float, distal_ring_mm: float,
                       reference: Reference = "proximal") -> FrameGeometry:
        """Joint geometry of a frame built from two rings of this catalogue."""
        return FrameGeometry.from_rings(self.proximal_joints(proximal_ring_mm),
                                        self.distal_joints(distal_ring_mm), reference)

    def range_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Arrays over strut sizes (shortest first): min reading, max reading, increment,
        reading-to-length offset (mm)."""
        sizes = self.strut_sizes
        return (np.array([s.min_mm for s in sizes]), np.array([s.max_mm for s in sizes]),
                np.array([s.increment_mm for s in sizes]), np.array([s.offset_mm for s in sizes]))

    def quantities(self) -> list[tuple[str, Quantity]]:
        """Every number in the catalogue with its key path, for provenance listings."""
        out: list[tuple[str, Quantity]] = [
            ("layout", Quantity(
                f"proximal pairs at {list(self.layout.proximal_pair_centre_deg)} deg, "
                f"distal pairs at {list(self.layout.distal_pair_centre_deg)} deg",
                self.layout.provenance, self.layout.note)),
            ("colours", self.colours),
        ]
        for ring in self.rings:
            key = f"rings[{ring.diameter_mm:g}]"
            out += [(f"{key}.size_mm", ring.size_mm),
                    (f"{key}.joint_radius_offset_mm", ring.joint_radius_offset_mm),
                    (f"{key}.pair_spacing_mm", ring.pair_spacing_mm)]
        for size in self.strut_sizes:
            key = f"strut_sizes[{size.name}]"
            out += [(f"{key}.min_reading_mm", size.min_reading_mm),
                    (f"{key}.max_reading_mm", size.max_reading_mm),
                    (f"{key}.scale_increment_mm", size.scale_increment_mm),
                    (f"{key}.reading_to_length_offset_mm", size.reading_to_length_offset_mm)]
        for name in Limits.__dataclass_fields__:
            out.append((f"limits.{name}", getattr(self.limits, name)))
        return out

    def plan_quantities(self, proximal_ring_mm: float, distal_ring_mm: float,
                        strut_sizes: Iterable[str] | None = None) -> list[tuple[str, Quantity]]:
        """Every catalogue number a plan on these two rings depends on, with its key path.

        Parameters
        ----------
        proximal_ring_mm, distal_ring_mm : float
            Ring sizes (inner diameter, mm) of the frame.
        strut_sizes : iterable of str, optional
            Names of the strut sizes the plan uses; all sizes when None (a plan may choose any).

        Returns
        -------
        list of (str, Quantity)
            The joint geometry of each ring (explicit joint coordinates, or joint radius offset
            and pair spacing), the layout when a ring is built from it, the range, increment and
            reading offset of each strut size, and every limit. A ring size used for both rings
            is listed once.
        """
        out: list[tuple[str, Quantity]] = []
        layout_used = False
        for size_mm, position in ((proximal_ring_mm, "proximal"), (distal_ring_mm, "distal")):
            ring = self.ring(size_mm, f"frame.{position}_ring_mm")
            key = f"rings[{ring.diameter_mm:g}]"
            explicit = getattr(ring, f"{position}_joints_mm")
            if explicit is not None:
                out.append((f"{key}.{position}_joints_mm", explicit))
                continue
            layout_used = True
            out += [(f"{key}.joint_radius_offset_mm", ring.joint_radius_offset_mm),
                    (f"{key}.pair_spacing_mm", ring.pair_spacing_mm)]
        if layout_used:
            out.append(("layout", Quantity("layout", self.layout.provenance, self.layout.note)))
        names = [s.name for s in self.strut_sizes] if strut_sizes is None else list(strut_sizes)
        for name in dict.fromkeys(names):
            size = self.strut_size(name)
            key = f"strut_sizes[{name}]"
            out += [(f"{key}.min_reading_mm", size.min_reading_mm),
                    (f"{key}.max_reading_mm", size.max_reading_mm),
                    (f"{key}.scale_increment_mm", size.scale_increment_mm),
                    (f"{key}.reading_to_length_offset_mm", size.reading_to_length_offset_mm)]
        out += [(f"limits.{name}", getattr(self.limits, name))
                for name in Limits.__dataclass_fields__]
        unique = dict(out)
        return list(unique.items())


def provenance_counts(quantities: Iterable[tuple[str, Quantity]]) -> dict[str, int]:
    """How many of the numbers carry each provenance mark (every mark present, 0 if unused).

    Parameters
    ----------
    quantities : iterable of (str, Quantity)
        E.g. :meth:`Catalogue.plan_quantities`.

    Returns
    -------
    dict
        Provenance mark -> count, in the order of :data:`PROVENANCE_MARKS`.
    """
    counts = Counter(q.provenance for _, q in quantities)
    return {mark: counts.get(mark, 0) for mark in PROVENANCE_MARKS}
