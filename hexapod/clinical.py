"""Clinical model: deformity, mounting and frame parameters to rigid transforms (maths core).

Frames (contract section 1, ``docs/conventions.md``):

* the *anatomical frame* ``A`` of the reference fragment: origin at the origin (virtual hinge),
  +x toward the patient's RIGHT, +y ANTERIOR, +z PROXIMAL. Medial is -x on a right leg and +x
  on a left leg: sides are handled by this one sign, never by mirroring geometry;
* ``P`` and ``D``, the proximal and distal fragments' anatomical frames: origins at their point of
  the origin / corresponding-point pair, axes along the fragment. After correction ``D``
  coincides with ``P`` (moved distally by any extra lengthening);
* the ring frames (see :mod:`hexapod.geometry`).

The deformity is always the distal fragment relative to the proximal one,
``distal_in_proximal = [R | t]`` with ``R = Swing @ Twist`` (contract section 2) and ``t``
along the proximal fragment's axes, whichever fragment is the reference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.errors import GeometryError, InputError
from hexapod.geometry import FrameGeometry, Reference
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


def distal_in_proximal(deformity: Deformity, side: str, extra_lengthening_mm: float = 0.0
                       ) -> Array:
    """Pose of the distal fragment in the proximal fragment's frame (4x4, mm).

    ``R = Swing @ Twist``: the twist (axial rotation about the fragment's own axis) first, then
    the smallest rotation taking -z to the distal-pointing axis, so that AP and lateral X-rays
    show exactly the entered angles. ``extra_lengthening_mm`` adds a gap (the distal point moves
    distally), as in the end state of a correction with lengthening.
    """
    pose = poses_from_signed(signed_parameters(deformity, Mounting()), side)[0]
    pose[2, 3] -= extra_lengthening_mm
    return pose


def true_angulation(ap_deg: float, lat_deg: float) -> tuple[float, float]:
    """True angle and plane of a deformity from its projected angles (degrees).

    Returns
    -------
    true_deg : float
        ``atan(sqrt(tan^2 AP + tan^2 LAT))``.
    plane_from_coronal_deg : float
        Angle of the plane of deformity from the coronal (AP-view) plane,
        ``atan(tan LAT / tan AP)``; 0 for pure AP-view angulation, 90 for pure lateral-view.
    """
    ta, tl = np.tan(np.radians(ap_deg)), np.tan(np.radians(lat_deg))
    true = float(np.degrees(np.arctan(np.hypot(ta, tl))))
    plane = float(np.degrees(np.arctan2(abs(tl), abs(ta)))) if (ta or tl) else 0.0
    return true, plane


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


def reference_ring_in_anatomy(mounting: Mounting, side: str) -> Array:
    """Pose of the reference ring frame in the anatomical frame (4x4): the ring square to its
    fragment, its centre at the offsets, its master tab (+y) turned from anterior toward the
    named side by the rotary offset."""
    return poses_from_signed(signed_parameters(Deformity(), mounting), side)[1]


#: The ten deformity and mounting parameters as signed numbers: name, unit, what + means.
SIGNED_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    ("AP-view angulation", "deg", "varus"),
    ("lateral-view angulation", "deg", "apex posterior"),
    ("axial rotation", "deg", "internal"),
    ("AP-view translation", "mm", "medial"),
    ("lateral-view translation", "mm", "anterior"),
    ("axial translation", "mm", "short"),
    ("AP-view frame offset", "mm", "medial"),
    ("lateral-view frame offset", "mm", "anterior"),
    ("axial frame offset", "mm", "proximal"),
    ("rotary frame offset", "deg", "medial"),
)


def signed_parameters(deformity: Deformity, mounting: Mounting) -> Array:
    """The clinical words as ten signed numbers, in the order of :data:`SIGNED_PARAMETERS`."""
    d, m = deformity, mounting
    return np.array([
        _signed(d.ap_angulation_deg, d.ap_angulation_dir, "ap_angulation", "varus"),
        _signed(d.lat_angulation_deg, d.lat_angulation_dir, "lat_angulation", "apex_posterior"),
        _signed(d.axial_rotation_deg, d.axial_rotation_dir, "axial_rotation", "internal"),
        _signed(d.ap_translation_mm, d.ap_translation_dir, "ap_translation", "medial"),
        _signed(d.lat_translation_mm, d.lat_translation_dir, "lat_translation", "anterior"),
        _signed(d.axial_translation_mm, d.axial_translation_dir, "axial_translation", "short"),
        _signed(m.ap_offset_mm, m.ap_offset_dir, "ap_offset", "medial"),
        _signed(m.lat_offset_mm, m.lat_offset_dir, "lat_offset", "anterior"),
        _signed(m.axial_offset_mm, m.axial_offset_dir, "axial_offset", "proximal"),
        _signed(m.rotary_offset_deg, m.rotary_offset_dir, "rotary_offset", "medial"),
    ])


def poses_from_signed(params: ArrayLike, side: str) -> tuple[Array, Array]:
    """``distal_in_proximal`` and ``reference_ring_in_anatomy`` from signed parameters
    ``(..., 10)`` (contract sections 2 and 3), batched.

    Varus puts the distal end toward the midline (x = medial sign), apex anterior puts it
    posterior; the twist about +z is internal when it turns +y (anterior) medially; the rotary
    offset turns the master tab (+y) toward the named side.
    """
    m = medial_sign(side)
    p = np.asarray(params, dtype=float)
    ap, lat, rot = np.radians(p[..., 0]), np.radians(p[..., 1]), np.radians(p[..., 2])
    axis = np.stack([m * np.tan(ap), np.tan(lat), -np.ones_like(ap)], axis=-1)
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    swing = tf.swing_rotation(np.array([0.0, 0.0, -1.0]), axis)  # -z onto d (< 90 degrees)
    rotation = swing @ tf.rotation_z(-m * rot)
    trans = np.stack([m * p[..., 3], p[..., 4], p[..., 5]], axis=-1)
    mount = tf.from_rotation_translation(tf.rotation_z(-m * np.radians(p[..., 9])),
                                         np.stack([m * p[..., 6], p[..., 7], p[..., 8]], axis=-1))
    return tf.from_rotation_translation(rotation, trans), mount


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
    """A whole case file, validated (see :mod:`hexapod.io.case_file`)."""

    mode: Literal["chronic", "residual"]
    patient: Patient
    frame: FrameSpec
    deformity: Deformity
    mounting: Mounting
    correction: CorrectionSettings
    structures_at_risk: tuple[StructureAtRisk, ...] = ()
    schema_version: int = 1


def stage_plan(stages: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Expand the case's ``correction.stages`` into ordered groups of components.

    ``()`` is one stage doing everything; ``("lengthen_first",)`` is ``("length",)`` then the
    rest; otherwise each named component is its own stage in that order, and whatever is not
    named is corrected together in a last stage.
    """
    names = ["length" if s == "lengthen_first" else s for s in stages]
    for name in names:
        if name not in STAGE_COMPONENTS:
            raise InputError(f"unknown stage {name!r}; allowed: lengthen_first, "
                             f"{', '.join(STAGE_COMPONENTS)}")
    if len(set(names)) != len(names):
        raise InputError(f"a component is named twice in stages {list(stages)}")
    groups: list[tuple[str, ...]] = [(n,) for n in names]
    rest = tuple(c for c in STAGE_COMPONENTS if c not in names)
    if rest:
        groups.append(rest)
    return groups


@dataclass(frozen=True, eq=False)
class PlanInput:
    """Everything the planner needs, in frames and millimetres.

    Attributes
    ----------
    case : Case
    catalogue : Catalogue
    geometry : FrameGeometry
    reference_ring_in_anatomy : ndarray (4, 4)
        The mounting ``M``.
    distal_in_proximal : ndarray (4, 4)
        The deformity.
    waypoints_in_anatomy : ndarray (k + 1, 4, 4)
        Pose of the moving fragment's frame in the anatomical frame at the start, after each
        stage, and at the end.
    stage_names : tuple of str
        One name per stage, e.g. ``"length"`` or ``"translation+angulation+rotation"``.
    start_pose, target_pose : ndarray (4, 4)
        ``moving_ring_in_reference_ring`` at the start and at the end of correction.
    stage_poses : ndarray (k + 1, 4, 4)
        ``moving_ring_in_reference_ring`` at each waypoint.
    corresponding_point : ndarray (3,)
        The moving fragment's point of the pair, anatomical frame, at the start (mm).
    moving_axis : ndarray (3,)
        The moving fragment's proximal-pointing axis at the start (unit).
    structure_names : tuple of str
    structure_points : ndarray (n, 3)
        Structures at risk at the start, anatomical frame (mm).
    start_lengths : ndarray (6,)
        Joint-centre distances at the start (mm).
    notes : tuple of str
        How the start pose was obtained (e.g. which forward-kinematics branch).
    """

    case: Case
    catalogue: Catalogue
    geometry: FrameGeometry
    reference_ring_in_anatomy: Array
    distal_in_proximal: Array
    waypoints_in_anatomy: Array
    stage_names: tuple[str, ...]
    start_pose: Array
    target_pose: Array
    stage_poses: Array
    corresponding_point: Array
    moving_axis: Array
    structure_names: tuple[str, ...]
    structure_points: Array
    start_lengths: Array
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reference(self) -> Reference:
        return self.geometry.reference

    def ring_pose_from_fragment(self, fragment_in_anatomy: Array) -> Array:
        """``moving_ring_in_reference_ring`` when the moving fragment is at the given pose(s)."""
        mount = self.reference_ring_in_anatomy
        start = self.waypoints_in_anatomy[0]
        return np.asarray(tf.invert(mount) @ fragment_in_anatomy @ tf.invert(start) @ mount
                          @ self.start_pose, dtype=float)


def reading_to_length(catalogue: Catalogue, reading_mm: float, size: str | None = None) -> float:
    """Joint-centre distance (mm) for a scale reading, using the size's offset. Without a size,
    the shortest size whose range holds the reading (InputError if none does, or if two sizes
    that hold it disagree on the offset)."""
    if size is not None:
        st = catalogue.strut_size(size)
        return reading_mm + st.offset_mm
    holders = [s for s in catalogue.strut_sizes if s.min_mm <= reading_mm <= s.max_mm]
    if not holders:
        lo = catalogue.strut_sizes[0].min_mm
        hi = catalogue.strut_sizes[-1].max_mm
        raise InputError(f"reading {reading_mm:g} mm is outside every strut size of "
                         f"'{catalogue.name}' ({lo:g}-{hi:g} mm)")
    offsets = {s.offset_mm for s in holders}
    if len(offsets) > 1:
        raise InputError(f"reading {reading_mm:g} mm fits sizes with different reading offsets "
                         f"({', '.join(s.name for s in holders)}); name the fitted sizes in "
                         "frame.strut_sizes")
    return reading_mm + holders[0].offset_mm


def build_plan_input(case: Case, catalogue: Catalogue) -> PlanInput:
    """Turn a validated case into frames and poses (chronic, residual; gradual or acute).

    Raises
    ------
    InputError
        A ring size or strut size the catalogue does not have, a reading outside every size.
    GeometryError
        A neutral strut too short for the rings, or readings no assembly of the frame reaches.
    """
    side = case.patient.side
    spec = case.frame
    geometry = catalogue.frame_geometry(spec.proximal_ring_mm, spec.distal_ring_mm,
                                        spec.reference)
    mount = reference_ring_in_anatomy(case.mounting, side)
    extra = case.correction.extra_lengthening_mm

    def fragment(deformity: Deformity, lengthened: bool) -> Array:
        """Moving fragment's pose in the anatomical frame for a deformity state; the extra
        lengthening belongs to the length component."""
        d_in_p = distal_in_proximal(deformity, side, extra if lengthened else 0.0)
        return d_in_p if spec.reference == "proximal" else tf.invert(d_in_p)

    groups = stage_plan(case.correction.stages)
    waypoint_list = [fragment(case.deformity, False)]
    done: list[str] = []
    for group in groups:
        done += list(group)
        waypoint_list.append(fragment(case.deformity.without(*done), "length" in done))
    waypoints = np.stack(waypoint_list)
    keep = [0] + [i for i in range(1, len(waypoints))
                  if not np.allclose(waypoints[i], waypoints[i - 1], atol=1e-12)]
    stage_names = tuple("+".join(groups[i - 1]) for i in keep[1:])
    waypoints = waypoints[keep]
    if len(waypoints) == 1:  # nothing to correct: one still stage
        waypoints = np.stack([waypoints[0], waypoints[0]])
        stage_names = ("none",)

    start_frag, end_frag = waypoints[0], waypoints[-1]
    correction_in_ring = tf.invert(mount) @ end_frag @ tf.invert(start_frag) @ mount
    notes: list[str] = []
    if case.mode == "chronic":
        if spec.neutral_strut_mm is None:
            raise InputError("chronic mode needs frame.neutral_strut_mm")
        neutral_length = reading_to_length(catalogue, spec.neutral_strut_mm)
        height = geometry.neutral_height(neutral_length)
        target = geometry.neutral_pose(height)
        start = tf.invert(correction_in_ring) @ target
        notes.append(f"chronic: the correction ends in the neutral frame, rings "
                     f"{height:.1f} mm apart, all struts reading {spec.neutral_strut_mm:g} mm")
    else:
        if spec.strut_readings_mm is None or len(spec.strut_readings_mm) != 6:
            raise InputError("residual mode needs six frame.strut_readings_mm")
        sizes = spec.strut_sizes or (None,) * 6
        lengths = np.array([reading_to_length(catalogue, r, s)
                            for r, s in zip(spec.strut_readings_mm, sizes, strict=True)])
        try:
            start = kin.solve_pose(geometry.reference_joints, geometry.moving_joints, lengths,
                                   moving_side=geometry.moving_side)
        except GeometryError as exc:
            raise GeometryError(f"the six strut readings do not describe a frame: {exc}") from exc
        target = correction_in_ring @ start
        notes.append("residual: the current ring pose is the forward-kinematics solution reached "
                     "by Newton's method from the neutral frame with the moving ring "
                     f"{'distal' if spec.reference == 'proximal' else 'proximal'} of the "
                     "reference ring")
    mount_inv = tf.invert(mount)
    stage_poses = mount_inv @ waypoints @ tf.invert(start_frag) @ mount @ start
    names = tuple(s.name for s in case.structures_at_risk)
    points = (np.stack([s.position(side) for s in case.structures_at_risk])
              if case.structures_at_risk else np.zeros((0, 3)))
    start_lengths = kin.strut_lengths(geometry.reference_joints, geometry.moving_joints, start)
    return PlanInput(
        case=case, catalogue=catalogue, geometry=geometry, reference_ring_in_anatomy=mount,
        distal_in_proximal=distal_in_proximal(case.deformity, side),
        waypoints_in_anatomy=waypoints, stage_names=stage_names, start_pose=start,
        target_pose=np.asarray(target, dtype=float), stage_poses=stage_poses,
        corresponding_point=start_frag[:3, 3].copy(), moving_axis=start_frag[:3, 2].copy(),
        structure_names=names, structure_points=points, start_lengths=start_lengths,
        notes=tuple(notes))


def describe_deformity(case: Case) -> list[str]:
    """The case in words, as ``hexapod check`` prints it."""
    d = case.deformity

    def word(value: float, direction: str | None, unit: str) -> str:
        return f"{value:.1f}{unit} {(direction or '').replace('_', ' ')}" if value else f"0{unit}"

    true, plane = true_angulation(d.ap_angulation_deg, d.lat_angulation_deg)
    lines = [
        f"{case.patient.side} {case.patient.bone or 'limb'}, {case.mode} mode, "
        f"{case.frame.reference} reference, {case.correction.method} correction",
        "distal fragment: "
        + ", ".join([
            f"{word(d.ap_angulation_deg, d.ap_angulation_dir, '°')} (AP view)",
            f"{word(d.lat_angulation_deg, d.lat_angulation_dir, '°')} (lateral view)",
            f"{word(d.ap_translation_mm, d.ap_translation_dir, ' mm')} (AP view)",
            f"{word(d.lat_translation_mm, d.lat_translation_dir, ' mm')} (lateral view)",
            f"{word(d.axial_rotation_deg, d.axial_rotation_dir, '°')} rotation",
            f"{word(d.axial_translation_mm, d.axial_translation_dir, ' mm')} axial"]),
        f"true angulation {true:.1f}°, plane of deformity {plane:.0f}° from the coronal plane",
    ]
    mnt = case.mounting
    lines.append(
        f"{case.frame.reference} (reference) ring centre: "
        f"{word(mnt.ap_offset_mm, mnt.ap_offset_dir, ' mm')}, "
        f"{word(mnt.lat_offset_mm, mnt.lat_offset_dir, ' mm')}, "
        f"{word(mnt.axial_offset_mm, mnt.axial_offset_dir, ' mm')} of the origin; master tab "
        + (f"turned {mnt.rotary_offset_deg:.1f}° toward {mnt.rotary_offset_dir}"
           if mnt.rotary_offset_deg else "anterior"))
    for s in case.structures_at_risk:
        lines.append(f"structure at risk '{s.name}': {word(s.ap_mm, s.ap_dir, ' mm')}, "
                     f"{word(s.lat_mm, s.lat_dir, ' mm')}, {word(s.axial_mm, s.axial_dir, ' mm')}"
                     " of the origin")
    return lines
