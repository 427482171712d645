"""Inverse and forward kinematics of a 6-6 hexapod, batched over poses (maths core).

Notation: ``b_i`` are the reference ring's joint centres in the reference-ring frame, ``p_i``
the moving ring's joint centres in the moving-ring frame, and ``(R, t)`` the pose
``moving_in_reference`` (moving ring frame in the reference ring frame). Strut ``i`` has
length ``L_i = |t + R p_i - b_i|`` (mm), the distance between its two joint centres.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod.errors import ConvergenceError, InputError, SingularFrameError
from hexapod.geometry import mean_joint_radius
from hexapod.transforms import (
    check_points,
    check_transform,
    from_translation,
    rotation_from_rotvec,
)

Array = NDArray[np.float64]

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


def _length_weights(reference_joints: Array, moving_joints: Array) -> tuple[Array, Array]:
    """Matrix ``W`` (16, 18) and offset ``c`` (18,) such that ``pose.reshape(16) @ W + c``
    lists ``t + R p_i - b_i`` as x of struts 1..6, then y, then z (one BLAS call per batch)."""
    weights = np.zeros((16, 18))
    for k in range(3):
        for j in range(3):
            weights[4 * k + j, 6 * k:6 * k + 6] = moving_joints[:, j]
        weights[4 * k + 3, 6 * k:6 * k + 6] = 1.0
    return weights, -reference_joints.T.reshape(18)


def _lengths_unchecked(ref: Array, mov: Array, poses: Array) -> Array:
    weights, offset = _length_weights(ref, mov)
    flat = np.ascontiguousarray(poses).reshape(-1, 16)
    comp = flat @ weights
    comp += offset
    comp *= comp
    out = comp[:, 0:6] + comp[:, 6:12]
    out += comp[:, 12:18]
    np.sqrt(out, out=out)
    return out.reshape(*poses.shape[:-2], 6)


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
    if check:
        poses = check_transform(moving_in_reference, "moving_in_reference")
    else:
        poses = np.asarray(moving_in_reference, dtype=float)
        if poses.ndim < 2 or poses.shape[-2:] != (4, 4):
            raise InputError(f"moving_in_reference must have shape (..., 4, 4), got {poses.shape}")
    return _lengths_unchecked(ref, mov, poses)


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
                  moving_side: float = -1.0) -> Array:
    """Neutral-frame start guess for :func:`solve_pose`: rings parallel and coaxial, the moving
    ring along ``moving_side * z`` of the reference ring at the height that matches the mean
    squared length."""
    ref, mov = _joints(reference_joints, moving_joints)
    lens = np.asarray(lengths, dtype=float)
    horiz = np.sum((mov[:, :2] - ref[:, :2]) ** 2, axis=1)
    h = np.sqrt(np.maximum(np.mean(lens**2 - horiz, axis=-1), 1.0))
    t = np.zeros((*h.shape, 3))
    t[..., 2] = moving_side * h
    return from_translation(t)


def solve_pose(
    reference_joints: ArrayLike,
    moving_joints: ArrayLike,
    lengths: ArrayLike,
    guess: ArrayLike | None = None,
    *,
    tolerance_mm: float = 1e-10,
    max_iterations: int = 60,
    max_condition: float | None = NUMERICAL_CONDITION_LIMIT,
    moving_side: float = -1.0,
) -> Array:
    """Forward kinematics: the pose(s) of the moving ring that give the six lengths.

    Batched Newton iteration on ``L(pose) = lengths`` with the analytic Jacobian (see
    :func:`jacobian`), steps capped at 10 mm / 0.1 rad so that a distant guess cannot jump to
    another assembly branch. A hexapod has up to 40 assemblies for one set of lengths; the one
    returned is the one Newton reaches from ``guess``.

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
        Largest allowed length residual (mm) of a returned pose.
    max_iterations : int
        Newton iterations before giving up.
    max_condition : float or None
        Refuse solutions whose scaled Jacobian's Frobenius-norm condition number exceeds this
        (None: no check).
    moving_side : float
        -1 if the moving ring is distal of the reference ring (along its -z), +1 if proximal;
        used only for the default guess.

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
        reach, or a guess beyond a singularity).
    SingularFrameError
        The solution is (near) singular.
    """
    ref, mov = _joints(reference_joints, moving_joints)
    lens = np.asarray(lengths, dtype=float)
    if lens.ndim < 1 or lens.shape[-1] != 6:
        raise InputError(f"lengths must have shape (..., 6), got {lens.shape}")
    if not np.all(np.isfinite(lens)):
        raise InputError("lengths contain NaN or infinite values")
    if np.any(lens <= 0):
        raise InputError("lengths must be > 0 mm")
    batch = lens.shape[:-1]
    flat_lengths = lens.reshape(-1, 6)
    n = flat_lengths.shape[0]
    if guess is None:
        start = default_guess(ref, mov, flat_lengths, moving_side)
    else:
        start = check_transform(guess, "guess")
        start = np.broadcast_to(start, (*batch, 4, 4)).reshape(-1, 4, 4)
    poses = np.array(start, dtype=float, copy=True)
    residual = np.full(n, np.inf)
    active = np.arange(n)
    jac_final = np.empty((n, 6, 6))
    for _ in range(max_iterations):
        everyone = active.size == n
        sub = poses if everyone else poses[active]
        jac, cur = _jacobian(ref, mov, sub)
        err = (flat_lengths if everyone else flat_lengths[active]) - cur
        worst = np.max(np.abs(err), axis=1)
        residual[active] = worst
        done = worst < tolerance_mm
        jac_final[active[done]] = jac[done]
        keep = ~done
        if not keep.all():
            active, jac, err, sub = active[keep], jac[keep], err[keep], sub[keep]
        if active.size == 0:
            break
        try:
            step = np.linalg.solve(jac, err[..., None])[..., 0]
        except np.linalg.LinAlgError as exc:
            raise SingularFrameError(
                "forward kinematics met a singular Jacobian (the frame is at a singular "
                "configuration for these lengths)") from exc
        dt, dw = step[:, :3], step[:, 3:]
        scale = np.minimum(1.0, np.minimum(
            10.0 / np.maximum(np.linalg.norm(dt, axis=1), 1e-300),
            0.1 / np.maximum(np.linalg.norm(dw, axis=1), 1e-300)))
        dt = dt * scale[:, None]
        dw = dw * scale[:, None]
        rot_step = rotation_from_rotvec(dw)
        sub[:, :3, :3] = rot_step @ sub[:, :3, :3]
        sub[:, :3, 3] += dt
        if sub is not poses:
            poses[active] = sub
    if active.size:
        first = int(active[0])
        idx = np.unravel_index(first, batch) if batch else ()
        raise ConvergenceError(
            f"forward kinematics did not converge for {active.size} of {n} length set(s) "
            f"(first at index {tuple(int(i) for i in idx)}: lengths "
            f"{np.round(flat_lengths[first], 4).tolist()} mm, residual "
            f"{residual[first]:.3g} mm); no assembly of this frame near the start guess "
            "has these lengths")
    if max_condition is not None:
        # Frobenius-norm condition number (>= the 2-norm one, at most 6x it): a cheap guard.
        scaled = jac_final.copy()
        scaled[..., 3:] /= mean_joint_radius(ref, mov)
        try:
            inv = np.linalg.inv(scaled)
        except np.linalg.LinAlgError as exc:
            raise SingularFrameError("a solved pose is exactly singular") from exc
        cond = np.linalg.norm(scaled, axis=(-2, -1)) * np.linalg.norm(inv, axis=(-2, -1))
        bad = np.nonzero(~(cond <= max_condition))[0]
        if bad.size:
            raise SingularFrameError(
                f"{bad.size} pose(s) near a singular configuration (Jacobian condition "
                f"number {float(cond[bad[0]]):.3g} > {max_condition:.3g})")
    return poses.reshape(*batch, 4, 4)
