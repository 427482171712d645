"""Clinical model: a validated case and its catalogue turned into frames and poses (maths core).

:func:`build_plan_input` combines the case (:mod:`hexapod.case`), the anatomy
(:mod:`hexapod.anatomy`) and the hardware (:mod:`hexapod.hardware`) into a :class:`PlanInput`:
the mounting, the staged waypoints of the moving fragment, and the ring poses at the start and
at the end of correction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hexapod import transforms as tf
from hexapod.anatomy import (
    distal_in_proximal,
    motion_in_anatomy,
    motion_in_reference_ring,
    reference_ring_in_anatomy,
)
from hexapod.case import STAGE_COMPONENTS, Case, Deformity
from hexapod.errors import CaseError, GeometryError, InputError
from hexapod.findings import Note
from hexapod.frame import Frame
from hexapod.geometry import FrameGeometry, Reference
from hexapod.hardware import Catalogue

Array = NDArray[np.float64]


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
    frame : Frame
        The frame's joints, strut sizes and kinematics.
    geometry : FrameGeometry
        Its joint centres (``frame.geometry``).
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
    notes : tuple of Note
        How the start pose was obtained (``chronic_neutral`` or ``residual_start``).
    """

    case: Case
    catalogue: Catalogue
    frame: Frame
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
    notes: tuple[Note, ...] = ()

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def reference(self) -> Reference:
        return self.geometry.reference

    def ring_pose_from_fragment(self, fragment_in_anatomy: Array) -> Array:
        """``moving_ring_in_reference_ring`` when the moving fragment is at the given pose(s)."""
        motion = fragment_in_anatomy @ tf.invert(self.waypoints_in_anatomy[0])
        return np.asarray(motion_in_reference_ring(motion, self.reference_ring_in_anatomy)
                          @ self.start_pose, dtype=float)

    def fragment_from_ring_pose(self, moving_ring_in_reference_ring: Array) -> Array:
        """The moving fragment's pose(s) in the anatomical frame when the ring is at the given
        ``moving_ring_in_reference_ring``; the inverse of :meth:`ring_pose_from_fragment`."""
        motion = moving_ring_in_reference_ring @ tf.invert(self.start_pose)
        return np.asarray(motion_in_anatomy(motion, self.reference_ring_in_anatomy)
                          @ self.waypoints_in_anatomy[0], dtype=float)


def reading_to_length(catalogue: Catalogue, reading_mm: float, size: str | None = None) -> float:
    """Joint-centre distance (mm) for a scale reading, using the size's offset (InputError if
    the size's scale does not have that reading). Without a size, the shortest size whose range
    holds the reading (InputError if none does, or if two sizes that hold it disagree on the
    offset)."""
    if size is not None:
        st = catalogue.strut_size(size)
        if not st.holds(reading_mm):
            raise InputError(f"reading {reading_mm:g} mm is outside the {st.name} size "
                             f"({st.min_mm:g}-{st.max_mm:g} mm)")
        return reading_mm + st.offset_mm
    holders = catalogue.sizes_holding(reading_mm)
    if not holders:
        lo = catalogue.strut_sizes[0].min_mm
        hi = catalogue.strut_sizes[-1].max_mm
        raise InputError(f"reading {reading_mm:g} mm is outside every strut size of "
                         f"'{catalogue.name}' ({lo:g}-{hi:g} mm)")
    offsets = {s.offset_mm for s in holders}
    if len(offsets) > 1:
        raise InputError(f"reading {reading_mm:g} mm fits sizes with different reading offsets "
                         f"({', '.join(s.name for s in holders)}); name the fitted sizes "
                         "(frame.strut_sizes in a case file, --sizes on the command line)")
    return reading_mm + holders[0].offset_mm


def stage_waypoints(case: Case) -> tuple[Array, tuple[str, ...]]:
    """The moving fragment's pose in the anatomical frame at the start, after each stage and
    at the end (stages that move nothing dropped), and each stage's name.

    Returns
    -------
    waypoints : ndarray (k + 1, 4, 4)
    stage_names : tuple of str
        E.g. ``"length"`` or ``"translation+angulation+rotation"``; ``("none",)`` with two
        equal waypoints when there is nothing to correct.
    """
    side, reference = case.patient.side, case.frame.reference
    extra = case.correction.extra_lengthening_mm

    def fragment(deformity: Deformity, lengthened: bool) -> Array:
        """The extra lengthening belongs to the length component."""
        d_in_p = distal_in_proximal(deformity, side, extra if lengthened else 0.0)
        return d_in_p if reference == "proximal" else tf.invert(d_in_p)

    groups = stage_plan(case.correction.stages)
    waypoint_list = [fragment(case.deformity, False)]
    done: list[str] = []
    for group in groups:
        done += list(group)
        waypoint_list.append(fragment(case.deformity.without(*done), "length" in done))
    waypoints = np.stack(waypoint_list)
    keep = [0] + [i for i in range(1, len(waypoints))
                  if not np.allclose(waypoints[i], waypoints[i - 1], atol=1e-12)]
    if len(keep) == 1:  # nothing to correct: one still stage
        return np.stack([waypoints[0], waypoints[0]]), ("none",)
    return waypoints[keep], tuple("+".join(groups[i - 1]) for i in keep[1:])


def _neutral_length(catalogue: Catalogue, reading_mm: float) -> float:
    """Joint-centre distance (mm) of the struts at the neutral reading of a chronic case.

    The sizes fitted at the end of correction are the plan's, not the case's (which names
    those fitted now), so the reading must fix the length by itself: sizes that hold it but
    disagree on the offset leave the end frame unknown (CaseError on
    ``frame.neutral_strut_mm``)."""
    try:
        return reading_to_length(catalogue, reading_mm)
    except InputError as exc:  # on no size's scale, or on scales that disagree
        holders = catalogue.sizes_holding(reading_mm)
        message = str(exc) if not holders else (
            f"{reading_mm:g} mm is on the scales of sizes with different reading offsets "
            f"({', '.join(s.name for s in holders)}), so the frame at the end of correction "
            "is not known; choose a neutral reading that only one of them holds")
        raise CaseError("frame.neutral_strut_mm", message) from None


def start_and_target(case: Case, catalogue: Catalogue, frame: Frame,
                     correction_in_ring: Array) -> tuple[Array, Array, Note]:
    """``moving_ring_in_reference_ring`` at the start and at the end of correction: chronic,
    the end is the neutral frame and the start is before it by the correction; residual, the
    start is the frame its readings describe and the end is after it by the correction."""
    spec = case.frame
    if case.mode == "chronic":
        if spec.neutral_strut_mm is None:
            raise InputError("chronic mode needs frame.neutral_strut_mm")
        height = frame.neutral_height(_neutral_length(catalogue, spec.neutral_strut_mm))
        target = frame.neutral_pose(height)
        return (tf.invert(correction_in_ring) @ target, target,
                Note("chronic_neutral", {"height_mm": height,
                                         "reading_mm": spec.neutral_strut_mm}))
    if spec.strut_readings_mm is None or len(spec.strut_readings_mm) != 6:
        raise InputError("residual mode needs six frame.strut_readings_mm")
    sizes = spec.strut_sizes or (None,) * 6
    lengths = np.zeros(6)
    for i, (reading, size) in enumerate(zip(spec.strut_readings_mm, sizes, strict=True)):
        try:
            lengths[i] = reading_to_length(catalogue, reading, size)
        except InputError as exc:
            raise CaseError(f"frame.strut_readings_mm[{i}]", str(exc)) from None
    try:
        start = frame.solve_pose(lengths)
    except GeometryError as exc:
        raise GeometryError(f"the six strut readings do not describe a frame: {exc}") from exc
    return start, correction_in_ring @ start, Note("residual_start", {
        "moving_ring": "distal" if spec.reference == "proximal" else "proximal"})


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
    frame = Frame.from_catalogue(catalogue, spec.proximal_ring_mm, spec.distal_ring_mm,
                                 spec.reference)
    mount = reference_ring_in_anatomy(case.mounting, side)
    waypoints, stage_names = stage_waypoints(case)
    start_frag = waypoints[0]
    correction_in_ring = motion_in_reference_ring(waypoints[-1] @ tf.invert(start_frag), mount)
    start, target, note = start_and_target(case, catalogue, frame, correction_in_ring)
    stage_poses = motion_in_reference_ring(waypoints @ tf.invert(start_frag), mount) @ start
    points = (np.stack([s.position(side) for s in case.structures_at_risk])
              if case.structures_at_risk else np.zeros((0, 3)))
    return PlanInput(
        case=case, catalogue=catalogue, frame=frame, geometry=frame.geometry,
        reference_ring_in_anatomy=mount,
        distal_in_proximal=distal_in_proximal(case.deformity, side),
        waypoints_in_anatomy=waypoints, stage_names=stage_names, start_pose=start,
        target_pose=np.asarray(target, dtype=float), stage_poses=stage_poses,
        corresponding_point=start_frag[:3, 3].copy(), moving_axis=start_frag[:3, 2].copy(),
        structure_names=tuple(s.name for s in case.structures_at_risk),
        structure_points=points, start_lengths=frame.strut_lengths(start), notes=(note,))
