"""Inverse and forward kinematics of a 6-6 hexapod, batched over poses (maths core).

Notation: ``b_i`` are the reference ring's joint centres in the reference-ring frame, ``p_i``
the moving ring's joint centres in the moving-ring frame, and ``(R, t)`` the pose
``moving_in_reference`` (moving ring frame in the reference ring frame). Strut ``i`` has
length ``L_i = |t + R p_i - b_i|`` (mm), the distance between its two joint centres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod import transforms as tf
from hexapod.errors import ConvergenceError, InputError, SingularFrameError
from hexapod.geometry import mean_joint_radius
from hexapod.transforms import check_points, check_transform, from_translation

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


FK_CHUNK = 4096  #: poses per chunk of the forward-kinematics kernel
_SCALAR_UP_TO = 2  #: batches this small run the per-pose kernel in Python floats
_MAX_STEP_MM, _MAX_STEP_RAD = 10.0, 0.1  # Newton step caps: a far guess cannot jump branches


@dataclass(frozen=True, eq=False)
class FKResult:
    """Forward kinematics with a status per pose (read-only arrays, batch shape ``(...)``).

    Attributes
    ----------
    poses : ndarray, shape (..., 4, 4)
        ``moving_in_reference`` reached; for a pose that did not converge, the last iterate.
    converged : ndarray of bool, shape (...)
        The length residual fell below the tolerance.
    residual_mm : ndarray, shape (...)
        Largest absolute length residual (mm) of the returned pose.
    same_branch : ndarray of bool, shape (...)
        The solution lies in the assembly branch of its guess: the Jacobian's determinant has
        the sign it has at the guess (assembly branches are separated by singular
        configurations, where it is zero, so Newton has not crossed one), and each strut
        points to the same side of the reference ring's plane as at the guess (the moving
        ring has not passed through the reference ring's plane). Two assemblies in one
        region of equal sign cannot be told apart this way; the step caps make such a jump
        unlikely.
    singular : ndarray of bool, shape (...)
        Newton met an exactly singular Jacobian (a pivot of zero or a non-finite step).
    """

    poses: Array
    converged: NDArray[np.bool_]
    residual_mm: Array
    same_branch: NDArray[np.bool_]
    singular: NDArray[np.bool_]

    def __post_init__(self) -> None:
        for name in ("poses", "converged", "residual_mm", "same_branch", "singular"):
            arr = np.array(getattr(self, name), copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @classmethod
    def _adopt(cls, poses: Array, converged: NDArray[np.bool_], residual_mm: Array,
               same_branch: NDArray[np.bool_], singular: NDArray[np.bool_]) -> FKResult:
        """Wrap arrays that nothing else refers to, without copying them."""
        result = object.__new__(cls)
        for name, arr in (("poses", poses), ("converged", converged),
                          ("residual_mm", residual_mm), ("same_branch", same_branch),
                          ("singular", singular)):
            arr.setflags(write=False)
            object.__setattr__(result, name, arr)
        return result


_MAX_MULTIPLIER = 16.0  # elimination multipliers above this: solved again, with pivoting
_LAPACK_BELOW = 8  # batches of at most this many systems go to LAPACK directly


class _Workspace:
    """Work arrays for chunks of up to ``size`` poses, reused by every Newton iteration
    (fresh multi-megabyte temporaries cost page faults on every allocation)."""

    def __init__(self, size: int, extra: int = 6) -> None:
        self.size = size
        self.aug = np.empty((6, 6 + extra, size))
        self.original = np.empty((6, 6 + extra, size))
        self.lever = np.empty((3, 6, size))
        self.vec = np.empty((3, 6, size))
        self.unit = np.empty((3, 6, size))
        self.length = np.empty((6, size))
        self.six = np.empty((6, size))
        self.row = np.empty((6 + extra, size))
        self.factor = np.empty((5, size))

    def get(self, name: str, m: int, columns: int | None = None) -> Array:
        """View of work array ``name`` for ``m`` poses (and ``columns`` of ``aug``)."""
        arr: Array = getattr(self, name)
        if columns is not None:
            arr = arr[:, :columns]
        return arr[..., :m]


def _solve_batch(aug: Array, work: _Workspace | None = None) -> tuple[Array, Array]:
    """Solve ``A x = y`` for a batch stored last: ``aug`` (6, 6 + k, n) holds ``[A | y]``.

    Gaussian elimination vectorised over the batch in the given row order (callers order
    the rows as partial pivoting would at a typical pose, see :func:`_pivot_order`). A
    system that needs a multiplier larger than :data:`_MAX_MULTIPLIER` in that order (so
    that rounding errors could grow; partial pivoting keeps them at most 1), or has no
    finite answer, is solved again by itself with LAPACK's partial pivoting; so each
    system's answer depends on that system alone. Destroys ``aug``. Returns ``x`` of shape
    (6, k, n) (NaN for a singular system) and ``det A`` (n,) up to the sign of the callers'
    fixed row order.
    """
    n, cols = aug.shape[-1], aug.shape[1]
    if n <= _LAPACK_BELOW:  # a few systems: per-system LAPACK costs fewer numpy calls
        x = _solve_lapack(aug)
        return x, np.asarray(np.linalg.det(aug[:, :6].transpose(2, 0, 1)), dtype=float)
    if work is None or work.size < n or work.row.shape[0] < cols:
        work = _Workspace(n, cols - 6)
    original = work.get("original", n, cols)
    np.copyto(original, aug)
    factor, row = work.get("factor", n), work.get("row", n)
    largest = np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in range(5):
            f = factor[:5 - k]
            np.divide(aug[k + 1:, k], aug[k, k], out=f)
            np.maximum(largest, np.max(np.abs(f), axis=0), out=largest)
            pivot_row, tmp = aug[k, k + 1:], row[:cols - k - 1]
            for r in range(k + 1, 6):
                np.multiply(pivot_row, f[r - k - 1], out=tmp)
                aug[r, k + 1:] -= tmp
        det = aug[0, 0] * aug[1, 1] * aug[2, 2] * aug[3, 3] * aug[4, 4] * aug[5, 5]
        x = np.empty((6, cols - 6, n))
        for k in range(5, -1, -1):
            acc = x[k]
            np.copyto(acc, aug[k, 6:])
            for j in range(k + 1, 6):
                acc -= aug[k, j] * x[j]
            acc /= aug[k, k]
    weak = ~(largest <= _MAX_MULTIPLIER) | ~np.isfinite(det)
    if weak.any():
        x[..., weak] = _solve_lapack(original[..., weak])
        det[weak] = np.linalg.det(original[:, :6, weak].transpose(2, 0, 1))
    return x, det


def _solve_lapack(aug: Array) -> Array:
    """Partial-pivoting solve of each system of ``aug`` (6, 6 + k, m); NaN where singular."""
    mats = np.ascontiguousarray(aug[:, :6].transpose(2, 0, 1))
    rhs = np.ascontiguousarray(aug[:, 6:].transpose(2, 0, 1))
    try:
        return np.asarray(np.linalg.solve(mats, rhs).transpose(1, 2, 0))
    except np.linalg.LinAlgError:
        out = np.full((6, aug.shape[1] - 6, aug.shape[-1]), np.nan)
        for i in range(aug.shape[-1]):
            try:
                out[..., i] = np.linalg.solve(mats[i], rhs[i])
            except np.linalg.LinAlgError:
                pass
        return out


_PIVOT_ORDERS: dict[bytes, NDArray[np.intp]] = {}


def _pivot_order(ref: Array, mov: Array, moving_side: float) -> NDArray[np.intp]:
    """Strut order that is the partial-pivoting row order of the Jacobian at the neutral
    pose of mean height (the order :func:`_solve_batch` assumes); cached per frame."""
    key = ref.tobytes() + mov.tobytes() + np.float64(moving_side).tobytes()
    if key not in _PIVOT_ORDERS:
        if len(_PIVOT_ORDERS) > 64:
            _PIVOT_ORDERS.clear()
        _PIVOT_ORDERS[key] = _pivot_order_uncached(ref, mov, moving_side)
    return _PIVOT_ORDERS[key]


def _pivot_order_uncached(ref: Array, mov: Array, moving_side: float) -> NDArray[np.intp]:
    # the neutral pose whose struts rise at about 45 degrees, mid-way between flat and upright
    horiz = np.sum((mov[:, :2] - ref[:, :2]) ** 2, axis=1)
    height = max(float(np.sqrt(np.mean(horiz))), 1.0)
    pose = from_translation([0.0, 0.0, moving_side * height])
    mat = _jacobian(ref, mov, pose)[0]
    order = np.arange(6)
    for k in range(6):
        p = k + int(np.argmax(np.abs(mat[k:, k])))
        mat[[k, p]] = mat[[p, k]]
        order[[k, p]] = order[[p, k]]
        if k < 5 and mat[k, k] != 0:
            mat[k + 1:] -= np.outer(mat[k + 1:, k] / mat[k, k], mat[k])
    return order


def _struts_soa(ref_t: Array, mov_t: Array, rot: Array, trans: Array,
                work: _Workspace | None = None) -> tuple[Array, Array, Array]:
    """Struct-of-arrays strut geometry for poses ``rot`` (3, 3, n), ``trans`` (3, n).

    Returns lever ``R p_i`` (3, 6, n), strut vector ``t + R p_i - b_i`` (3, 6, n) and length
    (6, n), in ``work``'s arrays when given. ``ref_t``/``mov_t`` are the joints transposed,
    (3, 6)."""
    m = trans.shape[-1]
    if work is None:
        work = _Workspace(m, 0)
    lever, vec, length = work.get("lever", m), work.get("vec", m), work.get("length", m)
    np.multiply(rot[:, 0, None, :], mov_t[0, None, :, None], out=lever)
    np.multiply(rot[:, 1, None, :], mov_t[1, None, :, None], out=vec)
    lever += vec
    if np.any(mov_t[2]):  # joints off the ring plane (catalogue joints lie in it)
        np.multiply(rot[:, 2, None, :], mov_t[2, None, :, None], out=vec)
        lever += vec
    np.subtract(trans[:, None, :], ref_t[:, :, None], out=vec)
    vec += lever
    six = work.get("six", m)
    np.multiply(vec[0], vec[0], out=length)
    np.multiply(vec[1], vec[1], out=six)
    length += six
    np.multiply(vec[2], vec[2], out=six)
    length += six
    np.sqrt(length, out=length)
    return lever, vec, length


def _jacobian_soa(lever: Array, vec: Array, length: Array, extra: int,
                  work: _Workspace | None = None) -> Array:
    """Jacobian rows ``[u_i, (R p_i) x u_i]`` as an augmented array (6, 6 + extra, n), in
    ``work``'s array when given (its last ``extra`` columns are left for the caller)."""
    m = length.shape[-1]
    if work is None or work.aug.shape[1] < 6 + extra:
        work = _Workspace(m, extra)
    aug, unit, six = work.get("aug", m, 6 + extra), work.get("unit", m), work.get("six", m)
    np.divide(1.0, length, out=six)
    np.multiply(vec, six, out=unit)
    np.copyto(aug[:, 0:3], unit.transpose(1, 0, 2))
    for col, (a, b) in zip((3, 4, 5), ((1, 2), (2, 0), (0, 1)), strict=True):
        np.multiply(lever[a], unit[b], out=aug[:, col])
        np.multiply(lever[b], unit[a], out=six)
        aug[:, col] -= six
    return aug


def _rotation_step(omega: Array) -> Array:
    """Rodrigues rotation matrices (3, 3, n) from rotation vectors (3, n). Up to 0.15 rad
    (Newton's steps are capped at :data:`_MAX_STEP_RAD`) ``sin x / x`` and
    ``(1 - cos x) / x**2`` come from their series to ``x**8``, whose next terms are below
    1e-16 there; larger angles use the trigonometric functions."""
    x2 = omega[0] * omega[0] + omega[1] * omega[1] + omega[2] * omega[2]
    if float(np.max(x2, initial=0.0)) <= 0.0225:
        a = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0)))
        b = 0.5 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))))
    else:
        angle = np.sqrt(x2)
        small = angle < 1e-4
        safe = np.where(small, 1.0, angle)
        a = np.where(small, 1.0 - x2 / 6.0, np.sin(safe) / safe)
        b = np.where(small, 0.5 - x2 / 24.0, (1.0 - np.cos(safe)) / (safe * safe))
    out = b * omega[:, None, :] * omega[None, :, :]
    diag = 1.0 - b * x2
    for i in range(3):
        out[i, i] += diag
    aw = a * omega
    out[0, 1] -= aw[2]
    out[1, 0] += aw[2]
    out[0, 2] += aw[1]
    out[2, 0] -= aw[1]
    out[1, 2] -= aw[0]
    out[2, 1] += aw[0]
    return out


def _newton_chunk(ref_t: Array, mov_t: Array, target: Array, rot: Array, trans: Array,
                  tolerance: float, max_iterations: int, work: _Workspace | None = None
                  ) -> tuple[Array, ...]:
    """Newton on one chunk (struct of arrays, batch last); converged poses leave the active
    set, so every pose follows the same iterates whatever else is in its chunk.

    The branch signs of a pose (each strut's z component, and the sign of ``det J``) are
    taken at its first and at its last evaluated iterate (``det J`` at the one before when
    the whole chunk converges at once: that iteration then skips the Jacobian)."""
    n = target.shape[-1]
    out_rot, out_trans = rot.copy(), trans.copy()
    residual = np.full(n, np.inf)
    converged = np.zeros(n, dtype=bool)
    singular = np.zeros(n, dtype=bool)
    start_signs = np.zeros((7, n), dtype=bool)
    end_signs = np.zeros((7, n), dtype=bool)
    active = np.arange(n)
    if work is None or work.size < n:
        work = _Workspace(n, 6)
    for iteration in range(max_iterations):
        lever, vec, length = _struts_soa(ref_t, mov_t, rot, trans, work)
        err = work.get("aug", active.size, 7)[:, 6]
        np.subtract(target, length, out=err)
        worst = np.max(np.abs(err), axis=0)
        residual[active] = worst
        done = worst < tolerance
        if iteration and done.all():
            end_signs[:6, active] = vec[2] > 0
            converged[active] = True
            out_rot[..., active], out_trans[:, active] = rot, trans
            active = active[:0]
            break
        signs = np.concatenate([vec[2] > 0, np.empty((1, active.size), dtype=bool)])
        solved, det = _solve_batch(_jacobian_soa(lever, vec, length, 1, work), work)
        step = solved[:, 0]
        signs[6] = det > 0
        if iteration == 0:
            start_signs[:] = signs
        end_signs[:, active] = signs
        bad = ~np.isfinite(step).all(axis=0) & ~done
        singular[active[bad]] = True
        leave = done | bad
        converged[active[done]] = True
        out_rot[..., active[leave]] = rot[..., leave]
        out_trans[:, active[leave]] = trans[:, leave]
        if leave.any():
            keep = ~leave
            active, rot, trans, step = active[keep], rot[..., keep], trans[:, keep], step[:, keep]
            target = target[:, keep]
        if active.size == 0:
            break
        dt, dw = step[:3], step[3:]
        norm_t = np.sqrt(np.sum(dt * dt, axis=0))
        norm_w = np.sqrt(np.sum(dw * dw, axis=0))
        scale = np.minimum(1.0, np.minimum(_MAX_STEP_MM / np.maximum(norm_t, 1e-300),
                                           _MAX_STEP_RAD / np.maximum(norm_w, 1e-300)))
        rot = np.einsum("ijn,jkn->ikn", _rotation_step(dw * scale), rot)
        trans = trans + dt * scale
    if active.size:  # not converged in max_iterations: the last iterate
        out_rot[..., active] = rot
        out_trans[:, active] = trans
    same = np.all(end_signs == start_signs, axis=0)
    return out_rot, out_trans, converged, residual, same, singular


def _solve6(rows: list[list[float]]) -> tuple[list[float], float]:
    """Solve one 6x6 system ``[A | y]`` (rows of 7 floats, destroyed) by Gaussian elimination
    with partial pivoting; returns ``x`` and ``det A`` (NaN entries if singular)."""
    det = 1.0
    for k in range(6):
        p = max(range(k, 6), key=lambda r: abs(rows[r][k]))
        if p != k:
            rows[k], rows[p] = rows[p], rows[k]
            det = -det
        pivot = rows[k][k]
        det *= pivot
        if pivot == 0.0:
            return [math.nan] * 6, 0.0
        top = rows[k]
        for r in range(k + 1, 6):
            row = rows[r]
            f = row[k] / pivot
            for j in range(k + 1, 7):
                row[j] -= f * top[j]
    x = [0.0] * 6
    for k in range(5, -1, -1):
        row = rows[k]
        acc = row[6]
        for j in range(k + 1, 6):
            acc -= row[j] * x[j]
        x[k] = acc / row[k]
    return x, det


def _rotation_single(wx: float, wy: float, wz: float) -> list[list[float]]:
    """:func:`_rotation_step` for one rotation vector, in Python floats."""
    x2 = wx * wx + wy * wy + wz * wz
    if x2 <= 0.0225:
        a = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0)))
        b = 0.5 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))))
    else:
        angle = math.sqrt(x2)
        a, b = math.sin(angle) / angle, (1.0 - math.cos(angle)) / x2
    d = 1.0 - b * x2
    return [[b * wx * wx + d, b * wx * wy - a * wz, b * wx * wz + a * wy],
            [b * wy * wx + a * wz, b * wy * wy + d, b * wy * wz - a * wx],
            [b * wz * wx - a * wy, b * wz * wy + a * wx, b * wz * wz + d]]


def _newton_single(ref: Array, mov: Array, target: Array, pose: Array, tolerance: float,
                   max_iterations: int) -> tuple[Array, bool, float, bool, bool]:
    """The Newton iteration of :func:`_newton_chunk` for one pose in Python floats (fewer
    overheads than numpy for a single pose): same Jacobian, caps, rotation update and branch
    signs. Returns the pose (4, 4), converged, residual, same branch, singular."""
    b = ref.tolist()
    p = mov.tolist()
    goal = target.tolist()
    rot = pose[:3, :3].tolist()
    t = pose[:3, 3].tolist()
    start_signs: list[bool] | None = None
    signs: list[bool] = []
    worst, converged, singular = math.inf, False, False
    for _ in range(max_iterations):
        rows, signs, worst = [], [], 0.0
        for i in range(6):
            px, py, pz = p[i]
            lx = rot[0][0] * px + rot[0][1] * py + rot[0][2] * pz
            ly = rot[1][0] * px + rot[1][1] * py + rot[1][2] * pz
            lz = rot[2][0] * px + rot[2][1] * py + rot[2][2] * pz
            vx, vy, vz = lx + t[0] - b[i][0], ly + t[1] - b[i][1], lz + t[2] - b[i][2]
            length = math.sqrt(vx * vx + vy * vy + vz * vz)
            err = goal[i] - length
            worst = max(worst, abs(err))
            ux, uy, uz = vx / length, vy / length, vz / length
            rows.append([ux, uy, uz, ly * uz - lz * uy, lz * ux - lx * uz, lx * uy - ly * ux, err])
            signs.append(vz > 0)
        step, det = _solve6(rows)
        signs.append(det > 0)
        if start_signs is None:
            start_signs = signs
        if worst < tolerance:
            converged = True
            break
        if not all(math.isfinite(v) for v in step):
            singular = True
            break
        norm_t = math.sqrt(step[0] ** 2 + step[1] ** 2 + step[2] ** 2)
        norm_w = math.sqrt(step[3] ** 2 + step[4] ** 2 + step[5] ** 2)
        scale = min(1.0, _MAX_STEP_MM / max(norm_t, 1e-300), _MAX_STEP_RAD / max(norm_w, 1e-300))
        turn = _rotation_single(step[3] * scale, step[4] * scale, step[5] * scale)
        rot = [[sum(turn[i][j] * rot[j][k] for j in range(3)) for k in range(3)]
               for i in range(3)]
        t = [t[i] + step[i] * scale for i in range(3)]
    out = np.eye(4)
    out[:3, :3] = rot
    out[:3, 3] = t
    return out, converged, worst, signs == start_signs, singular


def _frobenius_condition(ref_t: Array, mov_t: Array, rot: Array, trans: Array,
                         scale: float, work: _Workspace | None = None) -> Array:
    """``|J_s|_F |J_s^-1|_F`` (rotational columns divided by ``scale``), batch last (n,)."""
    lever, vec, length = _struts_soa(ref_t, mov_t, rot, trans, work)
    aug = _jacobian_soa(lever, vec, length, 6, work)
    aug[:, 3:6] /= scale
    norm = np.sqrt(np.sum(aug[:, :6] ** 2, axis=(0, 1)))
    aug[:, 6:] = np.eye(6)[:, :, None]
    inverse = _solve_batch(aug, work)[0]
    with np.errstate(invalid="ignore", over="ignore"):
        cond = norm * np.sqrt(np.sum(inverse * inverse, axis=(0, 1)))
    return np.where(np.isfinite(cond), cond, np.inf)


def _check_lengths(lengths: ArrayLike) -> Array:
    lens = np.asarray(lengths, dtype=float)
    if lens.ndim < 1 or lens.shape[-1] != 6:
        raise InputError(f"lengths must have shape (..., 6), got {lens.shape}")
    if not np.all(np.isfinite(lens)):
        raise InputError("lengths contain NaN or infinite values")
    if np.any(lens <= 0):
        raise InputError("lengths must be > 0 mm")
    return lens


def _default_start(lengths: Array, horiz: Array, moving_side: float) -> Array:
    """The default guess of one pose (see :func:`default_guess`)."""
    height = math.sqrt(max(float(np.mean(lengths**2 - horiz)), 1.0))
    return from_translation([0.0, 0.0, moving_side * height])


def _forward(ref: Array, mov: Array, lens: Array, guess: ArrayLike | None, tolerance: float,
             max_iterations: int, moving_side: float, condition_scale: float | None,
             chunk: int = FK_CHUNK) -> tuple[FKResult, Array | None]:
    """Chunked forward kinematics; also the condition numbers if ``condition_scale``."""
    batch = lens.shape[:-1]
    flat = lens.reshape(-1, 6)
    n = flat.shape[0]
    guesses = None
    if guess is not None:
        guesses = np.broadcast_to(check_transform(guess, "guess"), (*batch, 4, 4))
        guesses = guesses.reshape(-1, 4, 4)
    horiz = np.sum((mov[:, :2] - ref[:, :2]) ** 2, axis=1)
    order = _pivot_order(ref, mov, moving_side)
    ref_t, mov_t = np.ascontiguousarray(ref[order].T), np.ascontiguousarray(mov[order].T)
    poses = np.zeros((n, 4, 4))
    poses[:, 3, 3] = 1.0
    status = np.empty((4, n), dtype=float)
    cond = np.empty(n) if condition_scale is not None else None
    if n <= _SCALAR_UP_TO:
        for i in range(n):
            start = _default_start(flat[i], horiz, moving_side) if guesses is None else guesses[i]
            poses[i], *state = _newton_single(ref, mov, flat[i], start, tolerance, max_iterations)
            status[:, i] = state
        if cond is not None and condition_scale is not None:
            cond[:] = _frobenius_condition(ref_t, mov_t, poses[:, :3, :3].transpose(1, 2, 0),
                                           poses[:, :3, 3].T, condition_scale)
        n = 0  # nothing left for the batched kernel
    work = _Workspace(min(chunk, n), 6) if n else None
    for s in range(0, n, chunk):
        target = np.ascontiguousarray(flat[s:s + chunk][:, order].T)
        m = target.shape[1]
        if guesses is None:
            height = np.sqrt(np.maximum(np.mean(target**2 - horiz[:, None], axis=0), 1.0))
            rot = np.zeros((3, 3, m))
            rot[0, 0] = rot[1, 1] = rot[2, 2] = 1.0
            trans = np.zeros((3, m))
            trans[2] = moving_side * height
        else:
            rot = np.ascontiguousarray(guesses[s:s + m, :3, :3].transpose(1, 2, 0))
            trans = np.ascontiguousarray(guesses[s:s + m, :3, 3].T)
        rot, trans, conv, res, same, sing = _newton_chunk(
            ref_t, mov_t, target, rot, trans, tolerance, max_iterations, work)
        poses[s:s + m, :3, :3] = rot.transpose(2, 0, 1)
        poses[s:s + m, :3, 3] = trans.T
        status[:, s:s + m] = conv, res, same, sing
        if cond is not None and condition_scale is not None:
            cond[s:s + m] = _frobenius_condition(ref_t, mov_t, rot, trans, condition_scale,
                                                 work)
    result = FKResult._adopt(poses.reshape(*batch, 4, 4),
                             status[0].astype(bool).reshape(batch), status[1].reshape(batch),
                             status[2].astype(bool).reshape(batch),
                             status[3].astype(bool).reshape(batch))
    return result, (None if cond is None else cond.reshape(batch))


def solve_pose_status(
    reference_joints: ArrayLike,
    moving_joints: ArrayLike,
    lengths: ArrayLike,
    guess: ArrayLike | None = None,
    *,
    tolerance_mm: float = 1e-10,
    max_iterations: int = 60,
    moving_side: float = -1.0,
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
    return _forward(ref, mov, lens, guess, tolerance_mm, max_iterations, moving_side, None)[0]


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
    returned is the one Newton reaches from ``guess``. The poses are processed in chunks of
    :data:`FK_CHUNK` as structs of arrays, each 6x6 system solved by Gaussian elimination with
    partial pivoting vectorised over the chunk.

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
        reach, or a guess beyond a singularity); the message names the first failed index.
    SingularFrameError
        Newton met a singular Jacobian, or the solution is (near) singular.
    """
    ref, mov = _joints(reference_joints, moving_joints)
    lens = _check_lengths(lengths)
    scale = None if max_condition is None else mean_joint_radius(ref, mov)
    result, cond = _forward(ref, mov, lens, guess, tolerance_mm, max_iterations, moving_side,
                            scale)
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
            raise SingularFrameError(
                f"{bad.size} pose(s) near a singular configuration (Jacobian condition "
                f"number {float(cond.reshape(-1)[bad[0]]):.3g} > {max_condition:.3g})")
    poses = result.poses
    poses.setflags(write=True)  # private to this call: hand it over as a plain array
    return poses
