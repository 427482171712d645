"""Rigid transforms as 4x4 homogeneous matrices (maths core: numpy only).

Conventions (see ``docs/conventions.md``):

* A pose ``A_in_B`` is the 4x4 matrix that maps coordinates in frame A to frame B:
  ``p_B = A_in_B @ p_A``.  Composition reads right to left:
  ``A_in_C = B_in_C @ A_in_B``.
* Every function accepts one pose ``(4, 4)`` or any batch ``(..., 4, 4)`` and broadcasts
  like numpy.
* Lengths are millimetres, angles radians.
* A *twist* ``(rho, phi)`` is the logarithm of a pose: ``phi`` the rotation vector (axis times
  angle, rad) and ``rho`` the translational part (mm), so ``pose = exp(twist)``. Raising a pose
  to a real power ``s`` (:func:`power`) moves along the screw (SE(3) geodesic): every point
  travels along a helix at constant speed, and ``power(T, 1) == T``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod.errors import InputError

Array = NDArray[np.float64]

_SMALL_ANGLE = 1e-4
#: Below this angle (rad) the coefficients that cancel are taken from their Taylor series
#: (truncation error below x**8 / 4e7, under 1e-23 here).
_SERIES_ANGLE = 1e-2


#: Poses per chunk when validating large batches (the work arrays stay in cache).
CHECK_CHUNK = 4096


def rigid_rows_ok(rows: Array, tolerance: float = 1e-6) -> bool:
    """Fast sufficient test that poses given as 16 rows ``(16, n)`` are rigid transforms.

    Row ``4 i + j`` holds entry ``(i, j)`` of every pose. True when the translation is finite,
    the bottom row is ``[0, 0, 0, 1]``, the first two rotation rows are orthonormal and the
    third is their cross product, each within ``tolerance / 8`` (which implies
    :func:`check_transform`'s own test at ``tolerance``: its worst Gram entry is then at most
    about ``5.5 tolerance / 8``, and the determinant is positive). False means "look closer": run
    :func:`check_transform` for the verdict and its message. NaN anywhere gives False.
    """
    if not np.isfinite(float(np.sum(rows[3]) + np.sum(rows[7]) + np.sum(rows[11]))):
        return False
    a = (rows[0], rows[1], rows[2])
    b = (rows[4], rows[5], rows[6])
    eighth = tolerance / 8.0
    for row in (rows[12], rows[13], rows[14], rows[15] - 1.0):
        if not float(np.max(np.abs(row))) <= tolerance:  # written so that NaN fails
            return False
    with np.errstate(invalid="ignore", over="ignore"):
        checks = ((a[0] * a[0] + a[1] * a[1] + a[2] * a[2], 1.0),
                        (b[0] * b[0] + b[1] * b[1] + b[2] * b[2], 1.0),
                        (a[0] * b[0] + a[1] * b[1] + a[2] * b[2], 0.0),
                        (a[1] * b[2] - a[2] * b[1] - rows[8], 0.0),
                        (a[2] * b[0] - a[0] * b[2] - rows[9], 0.0),
                   (a[0] * b[1] - a[1] * b[0] - rows[10], 0.0))
    for dot, target in checks:
        dot -= target
        if not float(np.max(np.abs(dot))) <= eighth:
            return False
    return True


def _check_exact(flat: Array, name: str, tolerance: float) -> None:
    """The full test (Gram matrix and determinant sign) of poses ``(n, 16)``; raises."""
    if not np.isfinite(flat).all():
        raise InputError(f"{name} contains NaN or infinite values")
    if (np.abs(flat[:, 12:15]).max(initial=0.0) > tolerance
            or np.abs(flat[:, 15] - 1.0).max(initial=0.0) > tolerance):
        raise InputError(f"{name}: bottom row must be [0, 0, 0, 1]")
    rows = (flat[:, 0:3], flat[:, 4:7], flat[:, 8:11])
    worst = 0.0
    for i in range(3):
        for j in range(i, 3):
            dot = np.einsum("ni,ni->n", rows[i], rows[j])
            worst = max(worst, float(np.abs(dot - (1.0 if i == j else 0.0)).max(initial=0.0)))
    if worst > tolerance:
        raise InputError(f"{name}: rotation block is not orthonormal (error {worst:.3g})")
    det = np.einsum("ni,ni->n", rows[0], np.cross(rows[1], rows[2]))
    if det.size and float(det.min()) < 0:
        raise InputError(f"{name}: rotation block has determinant -1 (a reflection)")


def check_transform(pose: ArrayLike, name: str = "pose", tolerance: float = 1e-6) -> Array:
    """Validate one pose or a batch of poses and return it as a float array.

    Large batches are checked :data:`CHECK_CHUNK` poses at a time with :func:`rigid_rows_ok`;
    only a chunk that fails that quick test is examined in full.

    Parameters
    ----------
    pose : array_like, shape (..., 4, 4)
        Homogeneous rigid transform(s).
    name : str
        Name used in the error message.
    tolerance : float
        Allowed deviation of ``R.T @ R`` from the identity and of ``det R`` from 1.

    Returns
    -------
    ndarray, shape (..., 4, 4)

    Raises
    ------
    InputError
        Wrong shape, non-finite entries, a bottom row other than ``[0, 0, 0, 1]`` or a
        rotation block that is not a proper rotation.
    """
    arr = np.asarray(pose, dtype=float)
    if arr.ndim < 2 or arr.shape[-2:] != (4, 4):
        raise InputError(f"{name} must have shape (..., 4, 4), got {arr.shape}")
    flat = arr.reshape(-1, 16)
    if flat.shape[0] < 64:
        _check_exact(flat, name, tolerance)
        return arr
    rows = np.empty((16, min(CHECK_CHUNK, flat.shape[0])))
    for s in range(0, flat.shape[0], CHECK_CHUNK):
        block = flat[s:s + CHECK_CHUNK]
        r = rows[:, :block.shape[0]]
        np.copyto(r, block.T)
        if not rigid_rows_ok(r, tolerance):
            _check_exact(block, name, tolerance)
    return arr


def check_points(points: ArrayLike, name: str = "points", count: int | None = None) -> Array:
    """Validate an array of 3-D points ``(..., 3)`` (or exactly ``(count, 3)``)."""
    arr = np.asarray(points, dtype=float)
    if count is not None and arr.shape != (count, 3):
        raise InputError(f"{name} must have shape ({count}, 3), got {arr.shape}")
    if arr.ndim < 1 or arr.shape[-1] != 3:
        raise InputError(f"{name} must have shape (..., 3), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    return arr


def skew(vector: ArrayLike) -> Array:
    """Cross-product matrix ``[v]x`` of ``(..., 3)`` vectors, shape ``(..., 3, 3)``."""
    v = np.asarray(vector, dtype=float)
    out = np.zeros((*v.shape[:-1], 3, 3))
    out[..., 0, 1] = -v[..., 2]
    out[..., 0, 2] = v[..., 1]
    out[..., 1, 0] = v[..., 2]
    out[..., 1, 2] = -v[..., 0]
    out[..., 2, 0] = -v[..., 1]
    out[..., 2, 1] = v[..., 0]
    return out


def _series_coefficients(angle: Array) -> tuple[Array, Array, Array]:
    """``sin x / x``, ``(1 - cos x) / x**2``, ``(x - sin x) / x**3``, accurate to rounding for
    every angle: the second as ``2 sin(x/2)**2 / x**2`` (no cancellation), the third by its
    Taylor series below :data:`_SERIES_ANGLE`, where ``x - sin x`` cancels."""
    tiny = angle < _SMALL_ANGLE
    x = np.where(tiny, 1.0, angle)
    x2 = angle * angle
    a = np.where(tiny, 1.0 - x2 / 6.0, np.sin(x) / x)
    b = np.where(tiny, 0.5 - x2 / 24.0, 2.0 * np.sin(x / 2.0) ** 2 / (x * x))
    series = angle < _SERIES_ANGLE
    c = np.where(series, 1.0 / 6.0 - x2 / 120.0 + x2 * x2 / 5040.0 - x2**3 / 362880.0,
                 (x - np.sin(x)) / (x * x * x))
    return a, b, c


def _log_coefficient(angle: Array, a: Array, b: Array) -> Array:
    """``(1 - a / (2 b)) / x**2`` of the inverse left Jacobian, by its Taylor series below
    :data:`_SERIES_ANGLE` (where the difference cancels) and exactly above."""
    series = angle < _SERIES_ANGLE
    x2 = angle * angle
    safe = np.where(series, 1.0, angle)
    exact = (1.0 - a / (2.0 * np.where(series, 1.0, b))) / (safe * safe)
    return np.where(series, 1.0 / 12.0 + x2 / 720.0 + x2 * x2 / 30240.0 + x2**3 / 1209600.0,
                    exact)


def _rodrigues(phi: Array, a: Array, b: Array) -> Array:
    """``I + a [phi]x + b [phi]x^2`` written out entrywise, shape ``(..., 3, 3)``
    (``[phi]x^2 = phi phi.T - |phi|^2 I``; no batched matrix products)."""
    x, y, z = phi[..., 0], phi[..., 1], phi[..., 2]
    out = b[..., None, None] * phi[..., :, None] * phi[..., None, :]
    diag = 1.0 - b * (x * x + y * y + z * z)
    out[..., 0, 0] += diag
    out[..., 1, 1] += diag
    out[..., 2, 2] += diag
    out[..., 0, 1] -= a * z
    out[..., 1, 0] += a * z
    out[..., 0, 2] += a * y
    out[..., 2, 0] -= a * y
    out[..., 1, 2] -= a * x
    out[..., 2, 1] += a * x
    return out


def rotation_from_rotvec(rotvec: ArrayLike) -> Array:
    """Rotation matrices ``(..., 3, 3)`` from rotation vectors ``(..., 3)`` (rad), Rodrigues."""
    phi = np.asarray(rotvec, dtype=float)
    angle = np.linalg.norm(phi, axis=-1)
    a, b, _ = _series_coefficients(angle)
    return _rodrigues(phi, np.asarray(a), np.asarray(b))


def rotvec_from_rotation(rotation: ArrayLike) -> Array:
    """Rotation vectors ``(..., 3)`` (rad, angle in [0, pi]) from matrices ``(..., 3, 3)``.

    The angle is ``atan2(|a|, (tr R - 1) / 2)`` with ``a`` the axial vector of the
    antisymmetric part (``a = sin(angle) * axis``), accurate at every angle. Below 3 pi / 4
    the vector is ``a * angle / sin(angle)`` (a series near 0); above it the axis comes from
    the symmetric part ``(R + R.T) / 2 - cos(angle) I = (1 - cos(angle)) axis axis.T``, read
    from its largest diagonal entry's column, with the sign of ``a`` (exactly at pi either
    sign is the same rotation).
    """
    rot = np.asarray(rotation, dtype=float)
    if rot.ndim < 2 or rot.shape[-2:] != (3, 3):
        raise InputError(f"rotation must have shape (..., 3, 3), got {rot.shape}")
    axial = 0.5 * np.stack([rot[..., 2, 1] - rot[..., 1, 2], rot[..., 0, 2] - rot[..., 2, 0],
                            rot[..., 1, 0] - rot[..., 0, 1]], axis=-1)
    sin = np.linalg.norm(axial, axis=-1)
    cos = np.clip(0.5 * (np.trace(rot, axis1=-2, axis2=-1) - 1.0), -1.0, 1.0)
    angle = np.arctan2(sin, cos)
    small = angle < _SMALL_ANGLE
    ratio = np.where(small, 1.0 + angle * angle / 6.0,
                     angle / np.where(small, 1.0, np.maximum(sin, 1e-300)))
    out = axial * ratio[..., None]
    wide = cos < -0.7071067811865476
    if np.any(wide):
        sym = 0.5 * (rot[wide] + np.swapaxes(rot[wide], -1, -2))
        c = cos[wide]
        diag = np.diagonal(sym, axis1=-2, axis2=-1) - c[:, None]
        k = np.argmax(diag, axis=-1)
        col = np.take_along_axis(sym, k[:, None, None], axis=-1)[..., 0]
        col[np.arange(k.size), k] -= c
        axis = col / np.linalg.norm(col, axis=-1, keepdims=True)
        flip = np.einsum("ni,ni->n", axis, axial[wide]) < 0
        axis[flip] *= -1.0
        out[wide] = axis * angle[wide][:, None]
    return np.asarray(out, dtype=float)


def rotation_about_axis(axis: ArrayLike, angle: ArrayLike) -> Array:
    """Rotation by ``angle`` (rad, right-handed) about the unit direction ``axis``."""
    ax = np.asarray(axis, dtype=float)
    norm = np.linalg.norm(ax, axis=-1, keepdims=True)
    if np.any(norm == 0):
        raise InputError("rotation axis must be non-zero")
    return rotation_from_rotvec(ax / norm * np.asarray(angle, dtype=float)[..., None])


def swing_rotation(from_direction: ArrayLike, to_direction: ArrayLike) -> Array:
    """Smallest rotation(s) taking one unit direction onto another, shape ``(..., 3, 3)``.

    The rotation turns about ``from x to`` by the angle between them; equal directions give
    the identity. Opposite directions have no unique smallest rotation and raise InputError.
    """
    a = np.asarray(from_direction, dtype=float)
    b = np.asarray(to_direction, dtype=float)
    cross = np.cross(a, b)
    sin = np.linalg.norm(cross, axis=-1)
    cos = np.einsum("...k,...k->...", a, b)
    if np.any((sin < 1e-15) & (cos < 0)):
        raise InputError("opposite directions have no unique smallest rotation")
    # ">=": at exactly 1e-15 with opposite directions the refusal above does not fire, so the
    # axis must be used there (a zero axis would give the identity, not a half turn)
    unit = np.where(sin[..., None] >= 1e-15, cross / np.maximum(sin, 1e-300)[..., None], 0.0)
    return rotation_from_rotvec(unit * np.arctan2(sin, cos)[..., None])


def rotation_z(angle: ArrayLike) -> Array:
    """Rotation about +z by ``angle`` (rad), shape ``(..., 3, 3)``."""
    a = np.asarray(angle, dtype=float)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*a.shape, 3, 3))
    out[..., 0, 0] = c
    out[..., 0, 1] = -s
    out[..., 1, 0] = s
    out[..., 1, 1] = c
    out[..., 2, 2] = 1.0
    return out


def from_rotation_translation(
    rotation: ArrayLike | None = None, translation: ArrayLike | None = None
) -> Array:
    """Pose(s) ``(..., 4, 4)`` from a rotation ``(..., 3, 3)`` and a translation ``(..., 3)``."""
    rot = np.eye(3) if rotation is None else np.asarray(rotation, dtype=float)
    trans = np.zeros(3) if translation is None else np.asarray(translation, dtype=float)
    batch = np.broadcast_shapes(rot.shape[:-2], trans.shape[:-1])
    out = np.zeros((*batch, 4, 4))
    out[..., :3, :3] = rot
    out[..., :3, 3] = trans
    out[..., 3, 3] = 1.0
    return out


def from_translation(translation: ArrayLike) -> Array:
    """Pure translation(s) (mm)."""
    return from_rotation_translation(None, translation)


def invert(pose: ArrayLike) -> Array:
    """Inverse of rigid transform(s): ``B_in_A`` from ``A_in_B``."""
    t = np.asarray(pose, dtype=float)
    rot_t = np.swapaxes(t[..., :3, :3], -1, -2)
    return from_rotation_translation(rot_t, -(rot_t @ t[..., :3, 3, None])[..., 0])


def apply(pose: ArrayLike, points: ArrayLike) -> Array:
    """Apply pose(s) ``(..., 4, 4)`` to points ``(..., 3)``; both broadcast."""
    t = np.asarray(pose, dtype=float)
    p = np.asarray(points, dtype=float)
    return (t[..., :3, :3] @ p[..., None])[..., 0] + t[..., :3, 3]


def log(pose: ArrayLike) -> tuple[Array, Array]:
    """Twist ``(rho, phi)`` of pose(s): ``pose == exp(rho, phi)``.

    Returns
    -------
    rho : ndarray, shape (..., 3)
        Translational part (mm): the velocity of the frame origin's image at ``s = 0`` for
        the path ``power(pose, s)``.
    phi : ndarray, shape (..., 3)
        Rotation vector (rad), angle in [0, pi].
    """
    t = np.asarray(pose, dtype=float)
    phi = rotvec_from_rotation(t[..., :3, :3])
    angle = np.linalg.norm(phi, axis=-1)
    a, b, _ = _series_coefficients(angle)
    d = _log_coefficient(angle, a, b)
    k = skew(phi)
    v_inv = np.eye(3) - 0.5 * k + d[..., None, None] * (k @ k)
    rho = (v_inv @ t[..., :3, 3, None])[..., 0]
    return rho, phi


def exp(rho: ArrayLike, phi: ArrayLike) -> Array:
    """Pose(s) from twist(s) ``(rho, phi)``, the inverse of :func:`log`."""
    rho_a = np.asarray(rho, dtype=float)
    phi_a = np.asarray(phi, dtype=float)
    angle = np.linalg.norm(phi_a, axis=-1)
    a, b, c = _series_coefficients(angle)
    v = _rodrigues(phi_a, np.asarray(b), np.asarray(c))
    return from_rotation_translation(_rodrigues(phi_a, np.asarray(a), np.asarray(b)),
                                     (v @ rho_a[..., None])[..., 0])


def power(pose: ArrayLike, fraction: ArrayLike) -> Array:
    """Screw interpolation ``pose ** fraction`` along the SE(3) geodesic.

    Parameters
    ----------
    pose : array_like, shape (4, 4) or (..., 4, 4)
        The whole motion.
    fraction : array_like
        Path parameter(s) ``s``; 0 gives the identity, 1 the pose itself. Broadcast against
        the batch shape of ``pose``.

    Returns
    -------
    ndarray, shape (broadcast(pose batch, fraction), 4, 4)
    """
    rho, phi = log(pose)
    s = np.asarray(fraction, dtype=float)[..., None]
    return exp(rho * s, phi * s)


def point_path_length(pose: ArrayLike, points: ArrayLike) -> Array:
    """Length (mm) of the helix each point travels under ``power(pose, s)``, ``s`` in [0, 1].

    Along a screw motion every point moves at constant speed ``|rho + phi x p|``; for a point at
    distance ``r`` from the screw axis that is ``sqrt((r * theta)**2 + d**2)`` with ``theta`` the
    rotation angle and ``d`` the translation along the axis.

    Parameters
    ----------
    pose : array_like, shape (..., 4, 4)
        The motion, expressed in the frame of ``points``.
    points : array_like, shape (..., 3)
        Start positions (mm).
    """
    rho, phi = log(pose)
    p = np.asarray(points, dtype=float)
    return np.linalg.norm(rho + np.cross(phi, p), axis=-1)


def rotation_angle(pose_or_rotation: ArrayLike) -> Array:
    """Rotation angle (rad, in [0, pi]) of poses ``(..., 4, 4)`` or rotations ``(..., 3, 3)``."""
    m = np.asarray(pose_or_rotation, dtype=float)
    rot = m[..., :3, :3]
    cos = (np.trace(rot, axis1=-2, axis2=-1) - 1.0) / 2.0
    # arccos is ill-conditioned near 0: use the antisymmetric part as well.
    sin = 0.5 * np.linalg.norm(
        np.stack([rot[..., 2, 1] - rot[..., 1, 2], rot[..., 0, 2] - rot[..., 2, 0],
                  rot[..., 1, 0] - rot[..., 0, 1]], axis=-1), axis=-1)
    return np.arctan2(sin, np.clip(cos, -1.0, 1.0))
