"""The case: what the surgeon enters, as frozen self-validating dataclasses (maths core).

Deformity, mounting, frame, correction settings and structures at risk, in the clinical words
of the contract (sections 2 and 3): magnitudes are >= 0 and each direction is one word. The
translation of these words into signed numbers and poses lives in :mod:`hexapod.anatomy`.

Every type checks itself when constructed and raises :class:`~hexapod.errors.InputError` with
``field`` naming the bad attribute; the case-file reader adds the section to make the key path.
The plausible ranges come from :mod:`hexapod.policy`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from hexapod import policy
from hexapod.checks import check_number, check_text, check_word, show
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
#: Words allowed in ``correction.stages``.
STAGE_WORDS = ("lengthen_first", *STAGE_COMPONENTS)
MODES = ("chronic", "residual")
REFERENCES = ("proximal", "distal")
SIDES = ("right", "left")
METHODS = ("gradual", "acute")
#: Longest hardware name or catalogue path, characters.
MAX_HARDWARE_CHARS = 4096
#: Longest strut size name, characters.
MAX_SIZE_NAME_CHARS = 32


def _check_directed(obj: object, name: str, unit: str, parameter: str, most: float,
                    angle: bool) -> None:
    """Check ``name_unit`` (>= 0, finite, within ``most``) and its direction word ``name_dir``:
    one of the allowed words, required when the magnitude is not zero."""
    mag_field, dir_field = f"{name}_{unit}", f"{name}_dir"
    value = check_number(mag_field, getattr(obj, mag_field), minimum=0.0,
                         below=most if angle else None, maximum=None if angle else most)
    object.__setattr__(obj, mag_field, value)
    direction = getattr(obj, dir_field)
    allowed = DIRECTIONS[parameter]
    if direction is not None:
        check_word(dir_field, direction, allowed)
        if value == 0:  # a zero magnitude has no direction
            object.__setattr__(obj, dir_field, None)
    elif value != 0:
        raise InputError(f"missing: {mag_field} is {value:g}, so say which way; allowed: "
                         f"{', '.join(allowed)}", dir_field)


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

    def __post_init__(self) -> None:
        for name in ("ap_angulation", "lat_angulation", "axial_rotation"):
            _check_directed(self, name, "deg", name, policy.MAX_ANGLE_DEG, angle=True)
        for name in ("ap_translation", "lat_translation", "axial_translation"):
            _check_directed(self, name, "mm", name, policy.MAX_TRANSLATION_MM, angle=False)

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

    def __post_init__(self) -> None:
        for name in ("ap_offset", "lat_offset", "axial_offset"):
            _check_directed(self, name, "mm", name, policy.MAX_OFFSET_MM, angle=False)
        _check_directed(self, "rotary_offset", "deg", "rotary_offset", policy.MAX_ANGLE_DEG,
                        angle=True)


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

    def __post_init__(self) -> None:
        check_text("name", self.name, required=True)
        for axis in ("ap", "lat", "axial"):
            _check_directed(self, axis, "mm", axis, policy.MAX_POSITION_MM, angle=False)

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

    def __post_init__(self) -> None:
        check_word("side", self.side, SIDES)
        for name in ("name", "id", "bone"):
            check_text(name, getattr(self, name))


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

    def __post_init__(self) -> None:
        for name in ("proximal_ring_mm", "distal_ring_mm"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), above=0.0,
                                                        maximum=policy.MAX_FRAME_MM))
        check_word("reference", self.reference, REFERENCES)
        check_text("hardware", self.hardware, MAX_HARDWARE_CHARS, required=True)  # no NUL
        if self.neutral_strut_mm is not None:
            object.__setattr__(self, "neutral_strut_mm", check_number(
                "neutral_strut_mm", self.neutral_strut_mm, above=0.0,
                maximum=policy.MAX_FRAME_MM))
        if self.strut_readings_mm is not None:
            raw = self.strut_readings_mm
            if not isinstance(raw, tuple | list) or len(raw) != 6:
                raise InputError(f"must list six positive readings (struts 1..6, mm), got "
                                 f"{show(raw)}", "strut_readings_mm")
            object.__setattr__(self, "strut_readings_mm", tuple(
                check_number(f"strut_readings_mm[{i}]", v, above=0.0,
                             maximum=policy.MAX_FRAME_MM) for i, v in enumerate(raw)))
        if self.strut_sizes is not None:
            names = self.strut_sizes
            if not isinstance(names, tuple | list) or len(names) != 6:
                raise InputError(f"must list six strut size names, got {show(names)}",
                                 "strut_sizes")
            for i, size in enumerate(names):
                check_size_name(f"strut_sizes[{i}]", size)
            object.__setattr__(self, "strut_sizes", tuple(names))


def check_size_name(field: str, value: Any) -> str:
    """A strut size name has the shape of a word: letters, digits, ``_`` or ``-`` (at most
    :data:`MAX_SIZE_NAME_CHARS`). Whether the catalogue has that size is checked against the
    catalogue."""
    if (not isinstance(value, str) or not value or len(value) > MAX_SIZE_NAME_CHARS
            or not all(c.isascii() and (c.isalnum() or c in "_-") for c in value)):
        raise InputError(f"must be a strut size name (a word of letters, digits, _ or -), got "
                         f"{show(value)}", field)
    return value


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

    def __post_init__(self) -> None:
        start = self.start_date
        if not isinstance(start, dt.date):
            raise InputError(f"must be a date YYYY-MM-DD, got {show(start)}", "start_date")
        if isinstance(start, dt.datetime):
            object.__setattr__(self, "start_date", start.date())
        if not policy.EARLIEST_START_DATE <= self.start_date <= policy.LATEST_START_DATE:
            raise InputError(f"must be between {policy.EARLIEST_START_DATE} and "
                             f"{policy.LATEST_START_DATE}, got {self.start_date}", "start_date")
        check_word("method", self.method, METHODS)
        number = object.__setattr__
        check_number("rate_mm_per_day", self.rate_mm_per_day, above=0.0)
        number(self, "rate_mm_per_day", check_number(
            "rate_mm_per_day", self.rate_mm_per_day, minimum=policy.MIN_RATE_MM_PER_DAY,
            maximum=policy.MAX_RATE_MM_PER_DAY))
        number(self, "adjustments_per_day", int(check_number(
            "adjustments_per_day", self.adjustments_per_day, integer=True,
            minimum=policy.MIN_ADJUSTMENTS_PER_DAY, below=policy.MAX_ADJUSTMENTS_PER_DAY + 1)))
        number(self, "latency_days", int(check_number(
            "latency_days", self.latency_days, integer=True, minimum=0,
            maximum=policy.MAX_LATENCY_DAYS)))
        number(self, "extra_lengthening_mm", check_number(
            "extra_lengthening_mm", self.extra_lengthening_mm, minimum=0.0,
            maximum=policy.MAX_EXTRA_LENGTHENING_MM))
        number(self, "bone_radius_mm", check_number(
            "bone_radius_mm", self.bone_radius_mm, above=0.0, below=policy.MAX_BONE_RADIUS_MM))
        self._check_stages()

    def _check_stages(self) -> None:
        stages = self.stages
        if not isinstance(stages, tuple | list) or not all(isinstance(s, str) for s in stages):
            raise InputError(f"must be a list of stage names, got {show(stages)}", "stages")
        for s in stages:
            if s not in STAGE_WORDS:
                raise InputError(f"{show(s)} is not allowed; allowed: {', '.join(STAGE_WORDS)}",
                                 "stages")
        if len(set(stages)) != len(stages) or ("lengthen_first" in stages and "length" in stages):
            raise InputError(f"names a component twice: {show(list(stages))}", "stages")
        if "lengthen_first" in stages and stages[0] != "lengthen_first":
            raise InputError("lengthen_first must come first", "stages")
        object.__setattr__(self, "stages", tuple(stages))

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

    def __post_init__(self) -> None:
        if isinstance(self.schema_version, bool) or self.schema_version != 1:
            raise InputError(f"{show(self.schema_version)} is not supported; allowed: 1",
                             "schema_version")
        check_word("mode", self.mode, MODES)
        for name, kind in (("patient", Patient), ("frame", FrameSpec), ("deformity", Deformity),
                           ("mounting", Mounting), ("correction", CorrectionSettings)):
            if not isinstance(getattr(self, name), kind):
                raise InputError(f"must be a {kind.__name__}", name)
        f = self.frame
        if self.mode == "chronic":
            if f.neutral_strut_mm is None:
                raise InputError("missing (required)", "frame.neutral_strut_mm")
            if f.strut_readings_mm is not None:
                raise InputError("is for residual mode; chronic mode starts from "
                                 "frame.neutral_strut_mm", "frame.strut_readings_mm")
        else:
            if f.strut_readings_mm is None:
                raise InputError("missing: residual mode needs the six scale readings now (mm)",
                                 "frame.strut_readings_mm")
            if f.neutral_strut_mm is not None:
                raise InputError("is for chronic mode; residual mode starts from "
                                 "frame.strut_readings_mm", "frame.neutral_strut_mm")
        sars = tuple(self.structures_at_risk)
        if len(sars) > policy.MAX_STRUCTURES_AT_RISK:
            raise InputError(f"at most {policy.MAX_STRUCTURES_AT_RISK} allowed, got {len(sars)}",
                             "structures_at_risk")
        names = [s.name for s in sars]
        if len(set(names)) != len(names):
            raise InputError(f"names must be unique, got {show(names)}", "structures_at_risk")
        object.__setattr__(self, "structures_at_risk", sars)


def field_names(cls: type) -> tuple[str, ...]:
    """The attribute names of a case dataclass, in order (the keys of its file section)."""
    return tuple(f.name for f in fields(cls))
