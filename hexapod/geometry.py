"""Frame geometry: the six joint centres on each ring (maths core).

Ring frame (contract section 1): origin at the centre of the ring's joint circle, in the plane
of the joint centres; +z along the ring axis pointing PROXIMALLY; +y toward the master tab
(for the distal ring, the direction the proximal ring's tab has in the neutral frame).

Struts are numbered 1..6; arrays of joints are ordered by strut, so row ``i`` of the proximal
joints and row ``i`` of the distal joints are the two ends of strut ``i + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod.errors import GeometryError, InputError
from hexapod.transforms import check_points, from_translation

Array = NDArray[np.float64]
Reference = Literal["proximal", "distal"]


def ring_joints(
    joint_radius_mm: float,
    pair_spacing_mm: float,
    pair_centre_deg: ArrayLike,
    pair_side: ArrayLike,
    height_mm: float = 0.0,
) -> Array:
    """Joint centres of one ring in its ring frame, strut order 1..6.

    Parameters
    ----------
    joint_radius_mm : float
        Radius of the circle through the joint centres (mm).
    pair_spacing_mm : float
        Chord between the two joints of a pair (mm).
    pair_centre_deg : array_like, shape (6,)
        For each strut, the angle of its joint pair's centre, degrees counter-clockwise from
        the ring's +x axis about +z (viewed from proximal, looking distally).
    pair_side : array_like, shape (6,)
        For each strut, -1 if its joint lies clockwise of the pair centre, +1 if
        counter-clockwise.
    height_mm : float
        z of the joint centres in the ring frame (0 by the contract's definition).

    Returns
    -------
    ndarray, shape (6, 3)
    """
    if not joint_radius_mm > 0:
        raise InputError(f"joint radius must be > 0 mm, got {joint_radius_mm}")
    if not 0 < pair_spacing_mm < 2 * joint_radius_mm:
        raise InputError(
            f"joint pair spacing must be in (0, {2 * joint_radius_mm}) mm, got {pair_spacing_mm}")
    centres = np.radians(np.asarray(pair_centre_deg, dtype=float))
    sides = np.asarray(pair_side, dtype=float)
    if centres.shape != (6,) or sides.shape != (6,):
        raise InputError("pair centres and sides must list six struts")
    half_angle = np.arcsin(pair_spacing_mm / (2.0 * joint_radius_mm))
    angles = centres + sides * half_angle
    return np.stack([joint_radius_mm * np.cos(angles), joint_radius_mm * np.sin(angles),
                     np.full(6, float(height_mm))], axis=-1)


def mean_joint_radius(*joint_sets: ArrayLike) -> float:
    """Mean distance (mm) of the joints from their ring axis, over all the sets given."""
    joints = np.vstack([np.asarray(j, dtype=float) for j in joint_sets])
    return float(np.mean(np.linalg.norm(joints[:, :2], axis=1)))


def neutral_strut_length(
    proximal_radius_mm: float, distal_radius_mm: float, angular_gap_rad: float, height_mm: float
) -> float:
    """Closed-form strut length of a neutral frame (domain notes, Mathematics).

    ``L**2 = Rp**2 + Rd**2 - 2 Rp Rd cos(gap) + h**2`` for rings parallel and coaxial at
    height ``h`` whose joint circles have radii ``Rp``, ``Rd`` and whose two joints of each
    strut are ``gap`` apart in angle.
    """
    return float(np.sqrt(proximal_radius_mm**2 + distal_radius_mm**2
                         - 2 * proximal_radius_mm * distal_radius_mm * np.cos(angular_gap_rad)
                         + height_mm**2))


@dataclass(frozen=True, eq=False)
class FrameGeometry:
    """Joint centres of a hexapod frame, split into the reference and the moving ring.

    Attributes
    ----------
    reference_joints : ndarray, shape (6, 3)
        Joint centres on the reference ring, in the reference-ring frame (mm), strut order.
    moving_joints : ndarray, shape (6, 3)
        Joint centres on the moving ring, in the moving-ring frame (mm), strut order.
    reference : {"proximal", "distal"}
        Which ring is the reference; the moving ring lies distal of a proximal reference
        (along -z of its frame) and proximal of a distal one (+z).
    """

    reference_joints: Array
    moving_joints: Array
    reference: Reference = "proximal"

    def __post_init__(self) -> None:
        ref = check_points(self.reference_joints, "reference_joints", count=6).copy()
        mov = check_points(self.moving_joints, "moving_joints", count=6).copy()
        if self.reference not in ("proximal", "distal"):
            raise InputError(f"reference must be 'proximal' or 'distal', got {self.reference!r}")
        ref.setflags(write=False)
        mov.setflags(write=False)
        object.__setattr__(self, "reference_joints", ref)
        object.__setattr__(self, "moving_joints", mov)

    @classmethod
    def from_rings(cls, proximal_joints: ArrayLike, distal_joints: ArrayLike,
                   reference: Reference = "proximal") -> FrameGeometry:
        """Build from the proximal and distal rings' joints, each in its own ring frame."""
        prox = np.asarray(proximal_joints, dtype=float)
        dist = np.asarray(distal_joints, dtype=float)
        if reference == "proximal":
            return cls(prox, dist, "proximal")
        return cls(dist, prox, reference)

    @property
    def proximal_joints(self) -> Array:
        """Joints of the proximal ring in its ring frame, shape (6, 3)."""
        return self.reference_joints if self.reference == "proximal" else self.moving_joints

    @property
    def distal_joints(self) -> Array:
        """Joints of the distal ring in its ring frame, shape (6, 3)."""
        return self.moving_joints if self.reference == "proximal" else self.reference_joints

    @property
    def moving_side(self) -> float:
        """-1.0 when the moving ring lies along -z of the reference ring (reference proximal)."""
        return -1.0 if self.reference == "proximal" else 1.0

    @property
    def reference_radius_mm(self) -> float:
        """Mean joint radius of the reference ring (mm)."""
        return mean_joint_radius(self.reference_joints)

    @property
    def moving_radius_mm(self) -> float:
        """Mean joint radius of the moving ring (mm)."""
        return mean_joint_radius(self.moving_joints)

    @property
    def length_scale_mm(self) -> float:
        """Mean joint radius of the two rings (mm): the lever arm that makes the Jacobian's
        rotational columns commensurable with its translational ones."""
        return mean_joint_radius(self.reference_joints, self.moving_joints)

    def neutral_pose(self, height_mm: ArrayLike) -> Array:
        """``moving_ring_in_reference_ring`` of the neutral frame at ring height(s) (mm)."""
        h = np.asarray(height_mm, dtype=float)
        t = np.zeros((*h.shape, 3))
        t[..., 2] = self.moving_side * h
        return from_translation(t)

    def _neutral_horizontal_sq(self) -> Array:
        d = self.moving_joints[:, :2] - self.reference_joints[:, :2]
        dz = self.moving_joints[:, 2] - self.reference_joints[:, 2]
        if np.ptp(dz) > 1e-9:
            raise GeometryError("joint heights differ between struts; the neutral frame has "
                                "no single strut length")
        return np.asarray(np.sum(d * d, axis=1), dtype=float)

    def neutral_lengths(self, height_mm: ArrayLike) -> Array:
        """Joint-centre distances (mm) of the neutral frame at height(s) ``h``, shape (..., 6)."""
        h = np.asarray(height_mm, dtype=float)[..., None]
        dz = self.moving_side * h + self.moving_joints[:, 2] - self.reference_joints[:, 2]
        return np.asarray(np.sqrt(self._neutral_horizontal_sq() + dz * dz), dtype=float)

    def neutral_height(self, length_mm: float) -> float:
        """Inverse of :meth:`neutral_lengths`: the ring height (mm) at which all six
        joint-centre distances equal ``length_mm``.

        Raises
        ------
        GeometryError
            The struts are not all equal in the neutral frame (an irregular layout), or
            ``length_mm`` is shorter than the horizontal joint offset.
        """
        horiz = self._neutral_horizontal_sq()
        if np.ptp(horiz) > 1e-6 * max(1.0, float(np.max(horiz))):
            raise GeometryError("this layout has unequal struts in the neutral frame")
        dz0 = float(self.moving_joints[0, 2] - self.reference_joints[0, 2])
        rest = length_mm**2 - float(horiz[0])
        if not rest > 0:
            raise GeometryError(
                f"a neutral strut of {length_mm:.3f} mm is shorter than the horizontal joint "
                f"offset {np.sqrt(horiz[0]):.3f} mm: rings cannot be parallel")
        return float(np.sqrt(rest) - self.moving_side * dz0)
