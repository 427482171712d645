"""Inverse and forward kinematics of a 6-6 hexapod, batched over poses (maths core).

Notation: ``b_i`` are the reference ring's joint centres in the reference-ring frame, ``p_i``
the moving ring's joint centres in the moving-ring frame, and ``(R, t)`` the pose
``moving_in_reference`` (moving ring frame in the reference ring frame). Strut ``i`` has
length ``L_i = |t + R p_i - b_i|`` (mm), the distance between its two joint centres.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod import transforms as tf
from hexapod._fk_kernel import FK_CHUNK, FKResult, _forward
from hexapod.errors import ConvergenceError, InputError, SingularFrameError
from hexapod.geometry import mean_joint_radius
from hexapod.transforms import check_points, check_transform, from_translation

Array = NDArray[np.float64]

__all__ = [
    "FK_CHUNK",
    "NUMERICAL_CONDITION_LIMIT",
    "FKResult",
    "condition_number",
    "default_guess",
    "jacobian",
    "solve_pose",
    "solve_pose_status",
    "strut_lengths",
    "strut_vectors",
]

#: Default bound on the scaled Jacobian's condition number above which :func:`solve_pose`
#: refuses a pose as numerically untrustworthy. The planner applies the catalogue's far
#: stricter clinical limit on top of this.
NUMERICAL_CONDITION_LIMIT = 1e6


def _joints(reference_joints: ArrayLike, moving_joints: ArrayLike) -> tuple[Array, Array]:
    return (check_points(reference_joints, "reference_joints", count=6),
            check_points(moving_joints, "moving_joints", count=6))


def _moving_points(moving_joints: Array, poses: Array) -> Array:
    """``t + R p_i`` for every pose and joint: shape (..., 6, 3)."""
    rot = poses[..., :3, :3]
    moved = rot @ moving_joints.T + poses[..., :3, 3, None]  # (..., 3, 6)
    return np.swapaxes(moved, -1, -2)


#: Poses per chunk of the inverse-kinematics kernel: its (6, chunk) work arrays stay in cache.
IK_CHUNK = 4096


def _lengths_unchecked(ref: Array, mov: Array, poses: Array, *, check: bool = False,
                       name: str = "moving_in_reference", chunk: int = IK_CHUNK) -> Array:
    """Strut lengths ``(..., 6)`` in one pass over the poses, ``chunk`` at a time.

    Each chunk is transposed once into 16 contiguous rows; every strut's three components
    are then formed with elementwise operations on ``(6, chunk)`` arrays (no BLAS, no
    per-pose temporaries). With ``check`` the same rows are validated as rigid transforms
    (:func:`hexapod.transforms.rigid_rows_ok`), so a checked call reads the data once too.
    """
    flat = np.asarray(poses, dtype=float).reshape(-1, 16)
    n = flat.shape[0]
    out = np.empty((n, 6))
    size = max(1, min(chunk, n))
    rows = np.empty((16, size))
    acc, comp, tmp = np.empty((6, size)), np.empty((6, size)), np.empty((6, size))
    p = [np.ascontiguousarray(mov[:, k, None]) for k in range(3)]
    minus_b = [np.ascontiguousarray(-ref[:, k, None]) for k in range(3)]
    skip_z = not np.any(mov[:, 2])  # joints in the ring plane: the z products are all 0
    for s in range(0, n, size):
        block = flat[s:s + size]
        m = block.shape[0]
        r = rows[:, :m]
        np.copyto(r, block.T)
        if check and not tf.rigid_rows_ok(r):
            tf.check_transform(block.reshape(m, 4, 4), name)
        a, x, t = acc[:, :m], comp[:, :m], tmp[:, :m]
        for j in range(3):
            np.multiply(r[4 * j], p[0], out=x)
            np.multiply(r[4 * j + 1], p[1], out=t)
            x += t
            if not skip_z:
                np.multiply(r[4 * j + 2], p[2], out=t)
                x += t
            np.add(r[4 * j + 3], minus_b[j], out=t)
            x += t
            if j == 0:
                np.multiply(x, x, out=a)
            else:
                x *= x
                a += x
        np.sqrt(a, out=a)
        out[s:s + m] = a.T
    return out.reshape(*np.shape(poses)[:-2], 6)


def strut_vectors(reference_joints: ArrayLike, moving_joints: ArrayLike,
                  moving_in_reference: ArrayLike) -> Array:
    """Vectors from each reference joint to its moving joint, in the reference-ring frame.

    Parameters
    ----------
    reference_joints, moving_joints : array_like, shape (6, 3)
        Joint centres (mm), each in its own ring frame, strut order 1..6.
    moving_in_reference : array_like, shape (..., 4, 4)
        Pose(s) of the moving ring in the reference ring.

    Returns
    -------
    ndarray, shape (..., 6, 3)
    """
    ref, mov = _joints(reference_joints, moving_joints)
    poses = check_transform(moving_in_reference, "moving_in_reference")
    return _moving_points(mov, poses) - ref


def strut_lengths(reference_joints: ArrayLike, moving_joints: ArrayLike,
                  moving_in_reference: ArrayLike, *, check: bool = True) -> Array:
    """Inverse kinematics: the six joint-centre distances (mm) for pose(s).

    Parameters
    ----------
    reference_joints, moving_joints : array_like, shape (6, 3)
        Joint centres (mm), each in its own ring frame, strut order 1..6.
    moving_in_reference : array_like, shape (..., 4, 4)
        Pose(s) of the moving ring in the reference ring; any batch shape.
    check : bool
        Validate that every pose is a finite rigid transform (default). Hot loops whose poses
        were built by this package may pass False; the shape is checked either way.

    Returns
    -------
    ndarray, shape (..., 6)
        ``L_i = |t + R p_i - b_i|`` in mm.
    """
    ref, mov = _joints(reference_joints, moving_joints)
    poses = np.asarray(moving_in_reference, dtype=float)
    if poses.ndim < 2 or poses.shape[-2:] != (4, 4):
        raise InputError(f"moving_in_reference must have shape (..., 4, 4), got {poses.shape}")
    return _lengths_unchecked(ref, mov, poses, check=check)


def _jacobian(ref: Array, mov: Array, poses: Array) -> tuple[Array, Array]:
    moved = _moving_points(mov, poses)
    vec = moved - ref
    lengths = np.sqrt(np.einsum("...k,...k->...", vec, vec))
    out = np.empty((*vec.shape[:-1], 6))
    unit = out[..., :3]
    np.divide(vec, lengths[..., None], out=unit)
    lever = moved - poses[..., None, :3, 3]  # R p_i
    # (R p_i) x u_i, by components (np.cross is several times slower on small trailing axes)
    lx, ly, lz = lever[..., 0], lever[..., 1], lever[..., 2]
    ux, uy, uz = unit[..., 0], unit[..., 1], unit[..., 2]
    out[..., 3] = ly * uz - lz * uy
    out[..., 4] = lz * ux - lx * uz
    out[..., 5] = lx * uy - ly * ux
    return out, lengths


def jacobian(reference_joints: ArrayLike, moving_joints: ArrayLike,
             moving_in_reference: ArrayLike) -> Array:
    """Jacobian of the strut lengths with respect to a spatial twist of the moving ring.

    Row ``i`` is ``[u_i, (R p_i) x u_i]`` with ``u_i`` the unit strut vector: a small
    translation ``dt`` (mm) of the moving ring plus a small rotation ``dw`` (rad, reference-ring
    axes, about the moving ring's origin) changes the lengths by ``J @ [dt, dw]``.

    Returns
    -------
    ndarray, shape (..., 6, 6)
    """
    ref, mov = _joints(reference_joints, moving_joints)
    poses = check_transform(moving_in_reference, "moving_in_reference")
    return _jacobian(ref, mov, poses)[0]


def condition_number(reference_joints: ArrayLike, moving_joints: ArrayLike,
                     moving_in_reference: ArrayLike,
                     length_scale_mm: float | None = None) -> Array:
    """Condition number of the Jacobian with rotations scaled to millimetres.

    The rotational columns are divided by ``length_scale_mm`` (default: the mean joint radius)
    so that the number does not depend on the choice of units. Large values mean the frame is
    near a singular configuration, where small strut errors move the ring a lot.

    Returns
    -------
    ndarray, shape (...)
    """
    ref, mov = _joints(reference_joints, moving_joints)
    poses = check_transform(moving_in_reference, "moving_in_reference")
    jac = _jacobian(ref, mov, poses)[0]
    return _scaled_condition(jac, ref, mov, length_scale_mm)


def _scaled_condition(jac: Array, ref: Array, mov: Array, scale: float | None) -> Array:
    if scale is None:
        scale = mean_joint_radius(ref, mov)
    scaled = jac.copy()
    scaled[..., 3:] /= scale
    sv = np.linalg.svd(scaled, compute_uv=False)
    with np.errstate(divide="ignore"):
        return np.asarray(sv[..., 0] / sv[..., -1], dtype=float)


def default_guess(reference_joints: ArrayLike, moving_joints: ArrayLike, lengths: ArrayLike,
                  moving_side: float | None = None) -> Array:
    """Neutral-frame start guess for :func:`solve_pose`: rings parallel and coaxial, the moving
    ring along ``moving_side * z`` of the reference ring at the height that matches the mean
    squared length."""
    ref, mov = _joints(reference_joints, moving_joints)
    side = _side(None, moving_side)
    lens = _check_lengths(lengths)
    horiz = np.sum((mov[:, :2] - ref[:, :2]) ** 2, axis=1)
    h = np.sqrt(np.maximum(np.mean(lens**2 - horiz, axis=-1), 1.0))
    t = np.zeros((*h.shape, 3))
    t[..., 2] = side * h
    return from_translation(t)


def _side(guess: ArrayLike | None, moving_side: float | None) -> float:
    """The moving ring's side (-1 below the reference ring, +1 above): as given, else the side
    of the guess. Without either there is no safe default (a frame whose moving ring is above
    would silently get the mirror-image pose), so it is an error; :class:`hexapod.Frame`
    always knows its side."""
    if moving_side is not None:
        if moving_side not in (-1.0, 1.0):
            raise InputError(f"moving_side must be -1 or +1, got {moving_side!r}")
        return float(moving_side)
    if guess is None:
        raise InputError("give a guess or moving_side (-1: moving ring along -z of the "
                         "reference ring, +1: along +z); hexapod.Frame.solve_pose knows it")
    z = np.asarray(guess, dtype=float)[..., 2, 3]
    return 1.0 if z.size and float(np.mean(z)) > 0 else -1.0  # an empty batch: either side




def _check_lengths(lengths: ArrayLike) -> Array:
    lens = np.asarray(lengths, dtype=float)
    if lens.ndim < 1 or lens.shape[-1] != 6:
        raise InputError(f"lengths must have shape (..., 6), got {lens.shape}")
    if not np.all(np.isfinite(lens)):
        raise InputError("lengths contain NaN or infinite values")
    if np.any(lens <= 0):
        raise InputError("lengths must be > 0 mm")
    return lens


def solve_pose_status(
    reference_joints: ArrayLike,
    moving_joints: ArrayLike,
    lengths: ArrayLike,
    guess: ArrayLike | None = None,
    *,
    tolerance_mm: float = 1e-10,
    max_iterations: int = 60,
    moving_side: float | None = None,
) -> FKResult:
    """Forward kinematics with a status per pose instead of an exception for the batch.

    Same iteration as :func:`solve_pose` (parameters there); a pose that does not converge
    is reported in :attr:`FKResult.converged` while the others are solved.

    Returns
    -------
    FKResult
    """
    ref, mov = _joints(reference_joints, moving_joints)
    lens = _check_lengths(lengths)
    return _forward(ref, mov, lens, guess, tolerance_mm, max_iterations,
                    _side(guess, moving_side), None)[0]


def _raise_failures(result: FKResult, lens: Array, cond: Array | None,
                    max_condition: float | None) -> None:
    """The exceptions of :func:`solve_pose`, naming the first failed index of the batch."""
    batch = lens.shape[:-1]
    failed = np.flatnonzero(~result.converged.reshape(-1))
    if failed.size:
        first = int(failed[0])
        idx = tuple(int(i) for i in np.unravel_index(first, batch)) if batch else ()
        if result.singular.reshape(-1)[first]:
            raise SingularFrameError(
                "forward kinematics met a singular Jacobian (the frame is at a singular "
                f"configuration for these lengths; first at index {idx})")
        raise ConvergenceError(
            f"forward kinematics did not converge for {failed.size} of "
            f"{result.converged.size} length set(s) (first at index {idx}: lengths "
            f"{np.round(lens.reshape(-1, 6)[first], 4).tolist()} mm, residual "
            f"{float(result.residual_mm.reshape(-1)[first]):.3g} mm); no assembly of this "
            "frame near the start guess has these lengths")
    if cond is not None and max_condition is not None:
        bad = np.flatnonzero(~(cond.reshape(-1) <= max_condition))
        if bad.size:
            idx = tuple(int(i) for i in np.unravel_index(int(bad[0]), batch)) if batch else ()
            raise SingularFrameError(
                f"{bad.size} pose(s) near a singular configuration (Jacobian condition "
                f"number {float(cond.reshape(-1)[bad[0]]):.3g} > {max_condition:.3g}; "
                f"first at index {idx})")


def solve_pose(
    reference_joints: ArrayLike,
    moving_joints: ArrayLike,
    lengths: ArrayLike,
    guess: ArrayLike | None = None,
    *,
    tolerance_mm: float = 1e-10,
    max_iterations: int = 60,
    max_condition: float | None = NUMERICAL_CONDITION_LIMIT,
    moving_side: float | None = None,
) -> Array:
    """Forward kinematics: the pose(s) of the moving ring that give the six lengths.

    Batched Newton iteration on ``L(pose) = lengths`` with the analytic Jacobian (see
    :func:`jacobian`), steps capped at 10 mm / 0.1 rad so that a distant guess cannot jump to
    another assembly branch. A hexapod has up to 40 assemblies for one set of lengths; the one
    returned is the one Newton reaches from ``guess``. The poses are processed in chunks of
    :data:`FK_CHUNK` as structs of arrays, each 6x6 system solved by Gaussian elimination with
    partial pivoting vectorised over the chunk; the last poses of each chunk to converge take
    their final iterations together with those of other chunks. A pose's flags, and the
    answer of a converged pose, do not depend on the other poses of the batch (the last
    iterate of a pose that did not converge can differ by rounding).

    Parameters
    ----------
    reference_joints, moving_joints : array_like, shape (6, 3)
        Joint centres (mm), each in its own ring frame, strut order 1..6.
    lengths : array_like, shape (..., 6)
        Joint-centre distances (mm).
    guess : array_like, shape (4, 4) or (..., 4, 4), optional
        Start pose(s); chooses the assembly branch. Default: the neutral frame with the
        moving ring on the ``moving_side`` of the reference ring (see :func:`default_guess`).
    tolerance_mm : float
        A returned pose's length residual (mm) is below this.
    max_iterations : int
        Newton iterations before giving up.
    max_condition : float or None
        Refuse solutions whose scaled Jacobian's Frobenius-norm condition number exceeds this
        (None: no check).
    moving_side : {-1, +1}, optional
        -1 if the moving ring is distal of the reference ring (along its -z), +1 if proximal.
        Required without a guess (there is no safe default: the wrong side gives the
        mirror-image pose); :meth:`hexapod.Frame.solve_pose` passes its own.

    Returns
    -------
    ndarray, shape (..., 4, 4)
        ``moving_in_reference`` for every set of lengths.

    Raises
    ------
    InputError
        Wrong shapes, non-finite or non-positive lengths.
    ConvergenceError
        No pose within ``tolerance_mm`` was found from the guess (lengths the frame cannot
        reach, or a guess beyond a singularity); the message names the first failed index.
    SingularFrameError
        Newton met a singular Jacobian, or the solution is (near) singular.
    """
    ref, mov = _joints(reference_joints, moving_joints)
    lens = _check_lengths(lengths)
    if max_condition is not None and not (isinstance(max_condition, numbers.Real)
                                          and max_condition > 0):
        raise InputError(f"max_condition must be a number > 0 or None, got {max_condition!r}")
    scale = None if max_condition is None else mean_joint_radius(ref, mov)
    result, cond = _forward(ref, mov, lens, guess, tolerance_mm, max_iterations,
                            _side(guess, moving_side), scale, condition_limit=max_condition)
    _raise_failures(result, lens, cond, max_condition)
    poses = result.poses
    poses.setflags(write=True)  # private to this call: hand it over as a plain array
    return poses
