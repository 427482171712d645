"""Read a frame back in the case's terms: the correction still to do (maths core).

At a follow-up visit the surgeon reads the six struts. Forward kinematics gives the ring pose
``moving_ring_in_reference_ring``; under the case's mounting the moving fragment has moved with
its ring, so the pose of the distal fragment relative to the proximal one follows, and
inverting the anatomy construction of :mod:`hexapod.anatomy` (contract section 2,
``R = Swing @ Twist``) gives the six signed deformity parameters still to correct.

The relation used (the inverse of :meth:`hexapod.clinical.PlanInput.ring_pose_from_fragment`)::

    fragment_now = M @ ring_now @ inv(ring_start) @ inv(M) @ fragment_start

with ``M`` the reference ring in the anatomical frame and ``fragment_*`` the moving fragment in
the anatomical frame (the distal fragment for a proximal reference, the proximal fragment, as
the inverse, for a distal reference).

Signed parameters are in the order of the first six of
:data:`hexapod.anatomy.SIGNED_PARAMETERS`: AP-view angulation (+ varus), lateral-view
angulation (+ apex posterior), axial rotation (+ internal), AP-view translation (+ medial),
lateral-view translation (+ anterior), axial translation (+ short); degrees and millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod import policy
from hexapod import transforms as tf
from hexapod.anatomy import motion_in_anatomy, true_angulation
from hexapod.case import StructureAtRisk, medial_sign
from hexapod.errors import GeometryError, InputError

Array = NDArray[np.float64]

#: How far the distal-pointing axis may tilt before the projected angles are undefined (deg).
_MAX_TILT_DEG = 89.9


def signed_from_distal_in_proximal(distal_in_proximal: ArrayLike, side: str) -> Array:
    """The six signed deformity parameters of a pose of the distal fragment: the exact inverse
    of :func:`hexapod.anatomy.poses_from_signed` (first six parameters), batched.

    Parameters
    ----------
    distal_in_proximal : array_like, shape (..., 4, 4)
        Pose of the distal fragment's frame in the proximal fragment's frame (mm).
    side : {"right", "left"}
        The limb; gives medial its sign on x.

    Returns
    -------
    ndarray, shape (..., 6)
        AP angulation (deg, + varus), lateral angulation (deg, + apex posterior), axial
        rotation (deg, + internal), AP translation (mm, + medial), lateral translation
        (mm, + anterior), axial translation (mm, + short). Read-only.

    Raises
    ------
    GeometryError
        The distal fragment's axis points within 0.1° of proximal-horizontal or beyond, where
        projected angles are undefined.
    """
    m = medial_sign(side)
    pose = np.asarray(distal_in_proximal, dtype=float)
    if pose.shape[-2:] != (4, 4):
        raise InputError(f"distal_in_proximal must have shape (..., 4, 4), got {pose.shape}")
    rot = pose[..., :3, :3]
    axis = rot[..., :, 2] * -1.0  # d = R @ (0, 0, -1): the distal-pointing axis
    if np.any(-axis[..., 2] <= np.cos(np.radians(_MAX_TILT_DEG))):
        raise GeometryError("the distal fragment is tilted 90° or more from the proximal one; "
                            "its angulation cannot be read as AP and lateral views")
    ap = np.degrees(np.arctan(m * axis[..., 0] / -axis[..., 2]))
    lat = np.degrees(np.arctan(axis[..., 1] / -axis[..., 2]))
    swing = tf.swing_rotation(np.array([0.0, 0.0, -1.0]), axis)
    twist = np.swapaxes(swing, -1, -2) @ rot  # rotation about z by -m * rotation
    rotation = -m * np.degrees(np.arctan2(twist[..., 1, 0], twist[..., 0, 0]))
    t = pose[..., :3, 3]
    out = np.stack([ap, lat, rotation, m * t[..., 0], t[..., 1], t[..., 2]], axis=-1)
    out.setflags(write=False)
    return out


def fragment_in_anatomy(ring_pose: ArrayLike, start_ring_pose: ArrayLike,
                        reference_ring_in_anatomy: ArrayLike,
                        start_fragment_in_anatomy: ArrayLike) -> Array:
    """Pose(s) of the moving fragment in the anatomical frame when the rings are at
    ``ring_pose``: the fragment moves rigidly with the moving ring.

    Parameters
    ----------
    ring_pose : array_like, shape (..., 4, 4)
        ``moving_ring_in_reference_ring`` now (mm).
    start_ring_pose : array_like, shape (4, 4)
        ``moving_ring_in_reference_ring`` at the start of correction (mm).
    reference_ring_in_anatomy : array_like, shape (4, 4)
        The mounting ``M``.
    start_fragment_in_anatomy : array_like, shape (4, 4)
        The moving fragment at the start of correction, anatomical frame.

    Returns
    -------
    ndarray, shape (..., 4, 4)
    """
    motion = np.asarray(ring_pose, dtype=float) @ tf.invert(np.asarray(start_ring_pose,
                                                                      dtype=float))
    return np.asarray(motion_in_anatomy(motion, reference_ring_in_anatomy)
                      @ np.asarray(start_fragment_in_anatomy, dtype=float), dtype=float)


@dataclass(frozen=True, eq=False)
class Remaining:
    """The correction still to do, read from a ring pose.

    Attributes
    ----------
    signed : ndarray (6,)
        The six signed parameters (see the module docstring) of the distal fragment relative
        to where the proximal fragment says it should end (the extra lengthening included).
    true_angulation_deg : float
        ``atan(sqrt(tan^2 AP + tan^2 LAT))`` of ``signed``.
    distal_in_proximal : ndarray (4, 4)
        The distal fragment's pose in the proximal fragment's frame now (mm).
    deformity_now : ndarray (6,)
        The six signed parameters of ``distal_in_proximal`` itself: the deformity as new
        X-rays would show it, without the extra lengthening still wanted.
    ring_pose : ndarray (4, 4)
        ``moving_ring_in_reference_ring`` now (mm).
    moving_fragment_motion : ndarray (4, 4)
        How the moving fragment has moved since the start, in the anatomical frame:
        ``fragment_now @ inv(fragment_start)`` (a point moving with it goes from ``p`` to
        ``motion @ p``).
    extra_lengthening_mm : float
        The case's extra lengthening, included in the axial translation of ``signed``.
    """

    signed: Array
    true_angulation_deg: float
    distal_in_proximal: Array
    deformity_now: Array
    ring_pose: Array
    moving_fragment_motion: Array
    extra_lengthening_mm: float

    def __post_init__(self) -> None:
        for values in (self.signed, self.deformity_now):
            if np.shape(values) != (6,) or not np.all(np.isfinite(values)):
                raise InputError("signed parameters must be six finite numbers")
        for arr in (self.signed, self.deformity_now, self.distal_in_proximal, self.ring_pose,
                    self.moving_fragment_motion):
            arr.setflags(write=False)


def remaining_correction(ring_pose: ArrayLike, *, start_ring_pose: ArrayLike,
                         reference_ring_in_anatomy: ArrayLike,
                         start_fragment_in_anatomy: ArrayLike, reference: str, side: str,
                         extra_lengthening_mm: float = 0.0) -> Remaining:
    """The correction still to do when the rings are at ``ring_pose``.

    Parameters
    ----------
    ring_pose : array_like, shape (4, 4)
        ``moving_ring_in_reference_ring`` now (mm), e.g. from forward kinematics of readings.
    start_ring_pose, reference_ring_in_anatomy, start_fragment_in_anatomy
        As in :func:`fragment_in_anatomy`.
    reference : {"proximal", "distal"}
        The fragment that stays still.
    side : {"right", "left"}
    extra_lengthening_mm : float
        Gap wanted at the end (mm): the remaining axial translation is measured to it.

    Returns
    -------
    Remaining
    """
    if reference not in ("proximal", "distal"):
        raise InputError(f"reference must be 'proximal' or 'distal', got {reference!r}")
    ring = np.array(tf.check_transform(ring_pose, "ring_pose"))
    if ring.shape != (4, 4):
        raise InputError(f"ring_pose must be one 4x4 pose, got shape {ring.shape}")
    moving = fragment_in_anatomy(ring, start_ring_pose, reference_ring_in_anatomy,
                                 start_fragment_in_anatomy)
    d_in_p = moving if reference == "proximal" else tf.invert(moving)
    # the end state is the distal fragment moved distally by the extra lengthening
    to_do = d_in_p.copy()
    to_do[2, 3] += extra_lengthening_mm
    signed = np.array(signed_from_distal_in_proximal(to_do, side))
    true, _ = true_angulation(float(signed[0]), float(signed[1]))
    now = np.array(signed_from_distal_in_proximal(d_in_p, side))
    return Remaining(signed=signed, true_angulation_deg=true, distal_in_proximal=d_in_p,
                     deformity_now=now, ring_pose=ring,
                     moving_fragment_motion=moving @ tf.invert(
                         np.asarray(start_fragment_in_anatomy, dtype=float)),
                     extra_lengthening_mm=float(extra_lengthening_mm))


def remaining_for_plan_input(plan_input: Any, ring_pose: ArrayLike) -> Remaining:
    """:func:`remaining_correction` with the case's mounting, side, reference and start pose
    taken from a :class:`hexapod.clinical.PlanInput`."""
    pi = plan_input
    return remaining_correction(
        ring_pose, start_ring_pose=pi.start_pose,
        reference_ring_in_anatomy=pi.reference_ring_in_anatomy,
        start_fragment_in_anatomy=pi.waypoints_in_anatomy[0], reference=pi.reference,
        side=pi.case.patient.side,
        extra_lengthening_mm=pi.case.correction.extra_lengthening_mm)


def moved_structures(remaining: Remaining, structures: tuple[StructureAtRisk, ...],
                     side: str) -> tuple[StructureAtRisk, ...]:
    """The structures at risk where the frame reading puts them now: each moved with the
    moving fragment since the start (anatomical frame, relative to the origin, mm)."""
    return move_structures(structures, remaining.moving_fragment_motion, side)


def move_structures(structures: tuple[StructureAtRisk, ...], motion_in_anatomy: ArrayLike,
                    side: str) -> tuple[StructureAtRisk, ...]:
    """Structures at risk moved by a rigid motion of the moving fragment.

    Parameters
    ----------
    structures : tuple of StructureAtRisk
        Where they are (anatomical frame, mm).
    motion_in_anatomy : array_like, shape (4, 4)
        The motion, anatomical frame: a point at ``p`` goes to ``motion @ p`` (mm).
    side : {"right", "left"}
        The limb; gives medial its sign on x.

    Returns
    -------
    tuple of StructureAtRisk
        Same names, moved; each direction word from the sign of its new offset (none at 0).

    Raises
    ------
    InputError
        ``motion_in_anatomy`` is not one rigid transform; (field ``structures_at_risk``) a
        structure is moved beyond :data:`hexapod.policy.MAX_POSITION_MM` on some axis.
    """
    m = medial_sign(side)
    motion = tf.check_transform(motion_in_anatomy, "motion_in_anatomy")
    if motion.shape != (4, 4):
        raise InputError(f"motion_in_anatomy must be one 4x4 pose, got shape {motion.shape}")
    moved = []
    for s in structures:
        x, y, z = tf.apply(motion, s.position(side))
        ap, lat, axial = float(m * x), float(y), float(z)
        try:
            moved.append(StructureAtRisk(
                name=s.name, ap_mm=abs(ap),
                ap_dir=("medial" if ap > 0 else "lateral") if ap else None,
                lat_mm=abs(lat), lat_dir=("anterior" if lat > 0 else "posterior") if lat else None,
                axial_mm=abs(axial),
                axial_dir=("proximal" if axial > 0 else "distal") if axial else None))
        except InputError:  # the position bound every structure is held to
            farthest = max(abs(ap), abs(lat), abs(axial))
            raise InputError(f"{s.name!r} is moved {farthest:.1f} mm from the origin along "
                             f"one axis, beyond the {policy.MAX_POSITION_MM:g} mm a structure "
                             "at risk may be: place it nearer the origin, or leave it out",
                             "structures_at_risk") from None
    return tuple(moved)


def ring_pose_from_readings(plan_input: Any, readings_mm: ArrayLike,
                            sizes: tuple[str | None, ...] | None = None,
                            guess: ArrayLike | None = None) -> Array:
    """``moving_ring_in_reference_ring`` (4x4, mm) of six scale readings on the case's frame.

    Forward kinematics (Newton's method, capped steps) from ``guess`` (default: the case's
    start pose), so that the assembly branch is the case's.

    Parameters
    ----------
    plan_input : PlanInput
    readings_mm : array_like, shape (6,)
        Scale readings, struts 1..6 (mm).
    sizes : tuple of six str, optional
        The fitted strut sizes (their reading offsets); default: the case's
        ``frame.strut_sizes``, else the size whose range holds each reading.

    Raises
    ------
    InputError
        Not six finite readings, or a reading outside every strut size.
    GeometryError
        No frame has these readings.
    """
    from hexapod.clinical import reading_to_length

    pi = plan_input
    readings = np.asarray(readings_mm, dtype=float)
    if readings.shape != (6,) or not np.all(np.isfinite(readings)):
        raise InputError(f"give six finite readings (struts 1..6, mm), got {readings.tolist()}")
    fitted = sizes if sizes is not None else (pi.case.frame.strut_sizes or (None,) * 6)
    if len(fitted) != 6:
        raise InputError(f"give six strut sizes (struts 1..6), got {len(fitted)}")
    lengths = np.array([reading_to_length(pi.catalogue, float(r), s)
                        for r, s in zip(readings, fitted, strict=True)])
    start = pi.start_pose if guess is None else np.asarray(guess, dtype=float)
    try:
        return pi.frame.solve_pose(lengths, guess=start)
    except GeometryError as exc:
        raise GeometryError(f"the six strut readings do not describe a frame: {exc}") from exc


def nearest_row(previous_readings: ArrayLike, readings: ArrayLike) -> tuple[int, Array]:
    """The row of a prescription nearest to six readings, and how each strut differs from it.

    Nearest means the smallest sum of absolute per-strut differences (so that one strut
    turned 3 mm the wrong way is named against the row the other five match); ties go to the
    smaller largest difference, then to the earlier row.

    Parameters
    ----------
    previous_readings : array_like, shape (n, 6)
        The readings of each row of a prescription (mm), n >= 1.
    readings : array_like, shape (6,)
        The readings now (mm).

    Returns
    -------
    row : int
        Index into ``previous_readings``.
    difference : ndarray (6,)
        ``readings - previous_readings[row]`` (mm; + = longer than prescribed). Read-only.
    """
    rows = np.asarray(previous_readings, dtype=float)
    now = np.asarray(readings, dtype=float)
    if rows.ndim != 2 or rows.shape[1] != 6 or rows.shape[0] == 0:
        raise InputError(f"previous readings must have shape (n, 6), n >= 1, got {rows.shape}")
    if now.shape != (6,):
        raise InputError(f"readings must have shape (6,), got {now.shape}")
    if not (np.all(np.isfinite(rows)) and np.all(np.isfinite(now))):
        raise InputError("readings contain NaN or infinite values")
    diff = now - rows
    total = np.sum(np.abs(diff), axis=1)
    worst = np.max(np.abs(diff), axis=1)
    row = int(np.lexsort((np.arange(len(rows)), worst, total))[0])
    out = diff[row].copy()
    out.setflags(write=False)
    return row, out
