"""Anatomy: the clinical words of a case as signed numbers and rigid transforms (maths core).

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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod import transforms as tf
from hexapod.case import Deformity, Mounting, _signed, medial_sign

Array = NDArray[np.float64]

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


def motion_in_anatomy(motion_in_reference_ring: ArrayLike,
                      reference_ring_in_anatomy: ArrayLike) -> Array:
    """A rigid motion expressed in the reference ring frame, re-expressed in the anatomical
    frame through the mounting ``M``: ``M @ motion @ inv(M)``, batched (4x4, mm).

    The ring frame and the anatomical frame are fixed to the same (reference) fragment, so a
    motion of the moving ring is the same motion of the moving fragment, seen from another
    frame. :func:`motion_in_reference_ring` is its inverse.
    """
    mount = np.asarray(reference_ring_in_anatomy, dtype=float)
    return np.asarray(mount @ np.asarray(motion_in_reference_ring, dtype=float)
                      @ tf.invert(mount), dtype=float)


def motion_in_reference_ring(motion_in_anatomy: ArrayLike,
                             reference_ring_in_anatomy: ArrayLike) -> Array:
    """A rigid motion expressed in the anatomical frame, re-expressed in the reference ring
    frame: ``inv(M) @ motion @ M``, batched (4x4, mm); the inverse of :func:`motion_in_anatomy`.
    """
    mount = np.asarray(reference_ring_in_anatomy, dtype=float)
    return np.asarray(tf.invert(mount) @ np.asarray(motion_in_anatomy, dtype=float) @ mount,
                      dtype=float)
