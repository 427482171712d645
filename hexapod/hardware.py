"""Hardware description of a hexapod system: rings, strut sizes, colours, limits (maths core).

The numbers themselves live in a catalogue file (``hexapod/data/*.toml``), read by
:mod:`hexapod.io.catalogue_file`; every number keeps its provenance mark beside it so that
users can see which ones to check against their own hardware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hexapod.errors import InputError
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
    """

    value: Any
    provenance: str
    note: str = ""

    def __float__(self) -> float:
        return float(self.value)


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

    def ring(self, size_mm: float) -> RingSize:
        """The ring of this inner diameter (mm); InputError listing the sizes otherwise."""
        for ring in self.rings:
            if abs(ring.diameter_mm - size_mm) < 1e-9:
                return ring
        allowed = ", ".join(f"{r.diameter_mm:g}" for r in self.rings)
        raise InputError(f"ring size {size_mm:g} mm is not in catalogue '{self.name}' "
                         f"(allowed: {allowed})")

    def strut_size(self, name: str) -> StrutSize:
        """The strut size called ``name``; InputError listing the names otherwise."""
        for size in self.strut_sizes:
            if size.name == name:
                return size
        allowed = ", ".join(s.name for s in self.strut_sizes)
        raise InputError(f"strut size {name!r} is not in catalogue '{self.name}' "
                         f"(allowed: {allowed})")

    def strut_size_index(self, name: str) -> int:
        """Index of a strut size in :attr:`strut_sizes` (shortest first)."""
        return self.strut_sizes.index(self.strut_size(name))

    @property
    def colour_names(self) -> tuple[str, ...]:
        """Colour of struts 1..6."""
        return tuple(str(c) for c in self.colours.value)

    def proximal_joints(self, size_mm: float) -> np.ndarray:
        """Joint centres of a proximal ring of this size in its ring frame, shape (6, 3)."""
        ring = self.ring(size_mm)
        if ring.proximal_joints_mm is not None:
            return np.asarray(ring.proximal_joints_mm.value, dtype=float)
        return ring_joints(ring.joint_radius_mm, float(ring.pair_spacing_mm),
                           self.layout.proximal_pair_centre_deg, self.layout.proximal_pair_side)

    def distal_joints(self, size_mm: float) -> np.ndarray:
        """Joint centres of a distal ring of this size in its ring frame, shape (6, 3)."""
        ring = self.ring(size_mm)
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
