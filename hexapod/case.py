"""The case: what the surgeon enters, as frozen dataclasses (maths core).

Deformity, mounting, frame, correction settings and structures at risk, in the clinical words
of the contract (sections 2 and 3): magnitudes are >= 0 and each direction is one word. The
translation of these words into signed numbers and poses lives in :mod:`hexapod.anatomy`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from hexapod.errors import InputError
from hexapod.geometry import Reference
from hexapod.hardware import Catalogue

Array = NDArray[np.float64]
Side = Literal["right", "left"]

#: Allowed direction words, by parameter (contract sections 2 and 3).
DIRECTIONS: dict[str, tuple[str, str]] = {
    "ap_angulation": ("varus", "valgus"),
    "lat_angulation": ("apex_anterior", "apex_posterior"),
    "ap_translation": ("medial", "lateral"),
    "lat_translation": ("anterior", "posterior"),
    "axial_rotation": ("internal", "external"),
    "axial_translation": ("short", "long"),
    "ap_offset": ("medial", "lateral"),
    "lat_offset": ("anterior", "posterior"),
    "axial_offset": ("proximal", "distal"),
    "rotary_offset": ("medial", "lateral"),
    "ap": ("medial", "lateral"),
    "lat": ("anterior", "posterior"),
    "axial": ("proximal", "distal"),
}

#: Correction components a staged correction can order (see :func:`stage_waypoints`).
STAGE_COMPONENTS = ("length", "translation", "angulation", "rotation")


def medial_sign(side: str) -> float:
    """Sign of +x that points medially: -1 on a right limb, +1 on a left limb."""
    if side == "right":
        return -1.0
    if side == "left":
        return 1.0
    raise InputError(f"side must be 'right' or 'left', got {side!r}")


def _signed(value: float, direction: str | None, parameter: str, positive: str) -> float:
    """``+value`` when ``direction == positive``, ``-value`` for the other allowed word."""
    if value == 0:
        return 0.0
    words = DIRECTIONS[parameter]
    if direction not in words:
        raise InputError(f"{parameter}_dir must be one of {', '.join(words)}, got {direction!r}")
    return float(value) if direction == positive else -float(value)


@dataclass(frozen=True)
class Deformity:
    """The six deformity parameters in clinical words: the distal fragment relative to the
    proximal one (contract section 2). Magnitudes are >= 0; each direction is one word."""

    ap_angulation_deg: float = 0.0
    ap_angulation_dir: str | None = None
    ap_translation_mm: float = 0.0
    ap_translation_dir: str | None = None
    lat_angulation_deg: float = 0.0
    lat_angulation_dir: str | None = None
    lat_translation_mm: float = 0.0
    lat_translation_dir: str | None = None
    axial_rotation_deg: float = 0.0
    axial_rotation_dir: str | None = None
    axial_translation_mm: float = 0.0
    axial_translation_dir: str | None = None

    def without(self, *components: str) -> Deformity:
        """This deformity with the named components (:data:`STAGE_COMPONENTS`) corrected."""
        changes: dict[str, float | None] = {}
        for comp in components:
            if comp == "length":
                changes |= {"axial_translation_mm": 0.0, "axial_translation_dir": None}
            elif comp == "translation":
                changes |= {"ap_translation_mm": 0.0, "ap_translation_dir": None,
                            "lat_translation_mm": 0.0, "lat_translation_dir": None}
            elif comp == "angulation":
                changes |= {"ap_angulation_deg": 0.0, "ap_angulation_dir": None,
                            "lat_angulation_deg": 0.0, "lat_angulation_dir": None}
            elif comp == "rotation":
                changes |= {"axial_rotation_deg": 0.0, "axial_rotation_dir": None}
            else:
                raise InputError(f"unknown correction component {comp!r}; allowed: "
                                 f"{', '.join(STAGE_COMPONENTS)}")
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Mounting:
    """Where the reference ring's centre lies relative to the origin, and how its master tab
    is turned (contract section 3)."""

    ap_offset_mm: float = 0.0
    ap_offset_dir: str | None = None
    lat_offset_mm: float = 0.0
    lat_offset_dir: str | None = None
    axial_offset_mm: float = 0.0
    axial_offset_dir: str | None = None
    rotary_offset_deg: float = 0.0
    rotary_offset_dir: str | None = None


@dataclass(frozen=True)
class StructureAtRisk:
    """A point that moves with the moving fragment and must not move faster than the rate."""

    name: str
    ap_mm: float = 0.0
    ap_dir: str | None = None
    lat_mm: float = 0.0
    lat_dir: str | None = None
    axial_mm: float = 0.0
    axial_dir: str | None = None

    def position(self, side: str) -> Array:
        """Start position in the anatomical frame (mm)."""
        m = medial_sign(side)
        return np.array([m * _signed(self.ap_mm, self.ap_dir, "ap", "medial"),
                         _signed(self.lat_mm, self.lat_dir, "lat", "anterior"),
                         _signed(self.axial_mm, self.axial_dir, "axial", "proximal")])


@dataclass(frozen=True)
class Patient:
    side: Side
    name: str = ""
    id: str = ""
    bone: str = ""


@dataclass(frozen=True)
class FrameSpec:
    """The frame as entered: rings, reference, and either the neutral strut reading (chronic)
    or the six current readings (residual). All strut values are scale readings (mm)."""

    proximal_ring_mm: float
    distal_ring_mm: float
    reference: Reference
    hardware: str = "tsf-like"
    neutral_strut_mm: float | None = None
    strut_readings_mm: tuple[float, ...] | None = None
    strut_sizes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CorrectionSettings:
    start_date: dt.date
    method: Literal["gradual", "acute"] = "gradual"
    rate_mm_per_day: float = 1.0
    adjustments_per_day: int = 1
    latency_days: int = 7
    extra_lengthening_mm: float = 0.0
    stages: tuple[str, ...] = ()
    bone_radius_mm: float = 15.0

    @property
    def first_day(self) -> dt.date:
        """Calendar date of day 1 of correction."""
        return self.start_date + dt.timedelta(days=self.latency_days)


@dataclass(frozen=True)
class Case:
    """A whole case file, validated (see :mod:`hexapod.io.case_file`).

    ``catalogue`` is the hardware ``frame.hardware`` names, attached by
    :func:`hexapod.load_case`; a case built in code attaches one with
    ``dataclasses.replace(case, catalogue=hexapod.load_catalogue("tsf-like"))``.
    """

    mode: Literal["chronic", "residual"]
    patient: Patient
    frame: FrameSpec
    deformity: Deformity
    mounting: Mounting
    correction: CorrectionSettings
    structures_at_risk: tuple[StructureAtRisk, ...] = ()
    schema_version: int = 1
    catalogue: Catalogue | None = None
