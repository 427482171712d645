"""Forward-kinematics kernel: batched Newton on structs of arrays (maths core, private).

Poses are held batch-last (rotation ``(3, 3, n)``, translation ``(3, n)``) so that every
operation is one numpy call over a chunk; each 6x6 Newton step is solved by elimination
vectorised over the chunk (:func:`_solve_batch`). Public entry points are in
:mod:`hexapod.kinematics`; notation there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod._fk_single import newton_single
from hexapod._fk_soa import _jacobian_soa, _rotation_step, _struts_soa
from hexapod._fk_solve import _solve_batch, _Workspace
from hexapod.errors import InputError
from hexapod.transforms import check_transform, from_translation

Array = NDArray[np.float64]

FK_CHUNK = 4096  #: poses per chunk of the forward-kinematics kernel
_SCALAR_UP_TO = 2  #: batches this small run the per-pose kernel in Python floats
#: The condition bound's least value, sqrt(6) 6^3 (|J|_F^6 = (sum s_i^2)^3 >= 216 |det J| by
#: the means of the squared singular values): below it the bound can prove nothing.
_BOUND_AT_LEAST = 216.0 * math.sqrt(6.0)
_POOL_BELOW = 4  #: a chunk pools its last poses once fewer than 1 in this many still iterate
MAX_STEP_MM, MAX_STEP_RAD = 10.0, 0.1  # Newton step caps: a far guess cannot jump branches


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
    rot = np.eye(3)[:, :, None]
    trans = np.array([[0.0], [0.0], [moving_side * height]])
    mat = _jacobian_soa(*_struts_soa(ref.T, mov.T, rot, trans), 0)[..., 0]
    order = np.arange(6)
    for k in range(6):
        p = k + int(np.argmax(np.abs(mat[k:, k])))
        mat[[k, p]] = mat[[p, k]]
        order[[k, p]] = order[[p, k]]
        if k < 5 and mat[k, k] != 0:
            mat[k + 1:] -= np.outer(mat[k + 1:, k] / mat[k, k], mat[k])
    return order


class _Chunk:
    """The state of one chunk's Newton iteration: the poses still iterating (``active``,
    with their ``rot``, ``trans`` and ``target``, batch last) and the results of those that
    have left."""

    def __init__(self, target: Array, rot: Array, trans: Array, work: _Workspace) -> None:
        n = target.shape[-1]
        self.work, self.target, self.rot, self.trans = work, target, rot, trans
        self.active = np.arange(n)
        self.out_rot, self.out_trans = rot.copy(), trans.copy()
        self.residual = np.full(n, np.inf)
        self.converged = np.zeros(n, dtype=bool)
        self.singular = np.zeros(n, dtype=bool)
        self.start_signs = np.zeros((7, n), dtype=bool)
        self.end_signs = np.zeros((7, n), dtype=bool)
        self.spare = 0  # which of ``work.rotations`` ``rot`` is not (it starts as the caller's)

    def where(self) -> slice | NDArray[np.intp]:
        """Index of the active poses (a plain slice while none has left)."""
        return slice(None) if self.active.size == self.residual.size else self.active

    def leave(self, leaving: NDArray[np.bool_]) -> None:
        """Store the current iterate of the ``leaving`` active poses and drop them."""
        gone = self.active[leaving]
        self.out_rot[..., gone] = self.rot[..., leaving]
        self.out_trans[:, gone] = self.trans[:, leaving]
        keep = ~leaving
        self.active, self.trans = self.active[keep], self.trans[:, keep]
        self.target = self.target[:, keep]
        spare = self.work.rotations[self.spare][..., :self.active.size]
        self.rot = np.compress(keep, self.rot, axis=2, out=spare)
        self.spare = 1 - self.spare

    def move(self, step: Array) -> None:
        """Apply a Newton step (6, m) to the active poses, capped at the step limits."""
        dt, dw = step[:3], step[3:]
        norm_t = np.sqrt(np.sum(dt * dt, axis=0))
        norm_w = np.sqrt(np.sum(dw * dw, axis=0))
        scale = np.minimum(1.0, np.minimum(MAX_STEP_MM / np.maximum(norm_t, 1e-300),
                                           MAX_STEP_RAD / np.maximum(norm_w, 1e-300)))
        m = self.active.size
        turn = _rotation_step(dw * scale, self.work.get("turn", m))
        self.rot = np.einsum("ijn,jkn->ikn", turn, self.rot,
                             out=self.work.rotations[self.spare][..., :m])
        self.spare = 1 - self.spare
        self.trans = self.trans + dt * scale


def _evaluate(ref_t: Array, mov_t: Array, chunk: _Chunk) -> tuple[Array, ...]:
    """Strut geometry of the active poses, their length errors (in ``aug``'s last column,
    ready for the solve) and largest absolute error (m,)."""
    work, m = chunk.work, chunk.active.size
    lever, vec, length = _struts_soa(ref_t, mov_t, chunk.rot, chunk.trans, work)
    err = work.get("aug", m, 7)[:, 6]
    np.subtract(chunk.target, length, out=err)
    worst = np.max(np.abs(err, out=work.get("six", m)), axis=0)
    return lever, vec, length, worst


def _iterate(ref_t: Array, mov_t: Array, chunk: _Chunk, tolerance: float,
             iterations: range, pool_below: int = 0) -> int:
    """Newton ``iterations`` on a chunk; converged poses (and those that meet a singular
    Jacobian) leave it. Stops when none is left, or (``pool_below``) before an iteration
    that fewer than ``pool_below`` poses would take. Returns the next iteration's number.

    The branch signs of a pose (each strut's z component, and the sign of ``det J``) are
    taken at its first iterate (iteration 0) and at each later one."""
    for iteration in iterations:
        if chunk.active.size < pool_below:
            return iteration
        lever, vec, length, worst = _evaluate(ref_t, mov_t, chunk)
        where = chunk.where()
        chunk.residual[where] = worst
        chunk.end_signs[:6, where] = vec[2] > 0
        done = worst < tolerance
        if iteration and done.all():  # no step left to take: only the sign of det J
            det = _solve_batch(_jacobian_soa(lever, vec, length, 0, chunk.work), chunk.work)[1]
            chunk.end_signs[6, where] = det > 0
            chunk.converged[chunk.active] = True
            chunk.leave(done)
            return iteration + 1
        solved, det = _solve_batch(_jacobian_soa(lever, vec, length, 1, chunk.work), chunk.work)
        step = solved[:, 0]
        chunk.end_signs[6, where] = det > 0
        if iteration == 0:
            chunk.start_signs[:] = chunk.end_signs
        bad = ~np.isfinite(step.sum(axis=0)) & ~done
        chunk.singular[chunk.active[bad]] = True
        chunk.converged[chunk.active[done]] = True
        if done.any() or bad.any():
            keep = ~(done | bad)
            step = step[:, keep]
            chunk.leave(~keep)
        if chunk.active.size == 0:
            return iteration + 1
        chunk.move(step)
    return iterations.stop


def _finish(ref_t: Array, mov_t: Array, chunk: _Chunk) -> tuple[Array, ...]:
    """The results of a chunk whose iterations are over: a pose still iterating did not
    converge, and keeps its last iterate and residual (and ``det J``'s sign at the iterate
    before)."""
    if chunk.active.size:
        _, vec, _, worst = _evaluate(ref_t, mov_t, chunk)
        chunk.residual[chunk.active] = worst
        chunk.end_signs[:6, chunk.active] = vec[2] > 0
        chunk.leave(np.ones(chunk.active.size, dtype=bool))
    same = np.all(chunk.end_signs == chunk.start_signs, axis=0)
    return (chunk.out_rot, chunk.out_trans, chunk.converged, chunk.residual, same,
            chunk.singular)


def _newton_chunk(ref_t: Array, mov_t: Array, target: Array, rot: Array, trans: Array,
                  tolerance: float, max_iterations: int, work: _Workspace | None = None,
                  first: int = 0, start_signs: NDArray[np.bool_] | None = None
                  ) -> tuple[Array, ...]:
    """Newton on one chunk (struct of arrays, batch last), iterations ``first`` to
    ``max_iterations``; converged poses leave the active set, so every pose follows the same
    iterates whatever else is in its chunk. A chunk that starts later than iteration 0
    takes the branch signs its poses had at their start (``start_signs``, (7, n))."""
    n = target.shape[-1]
    if work is None or work.size < n:
        work = _Workspace(n, 6)
    chunk = _Chunk(target, rot, trans, work)
    if start_signs is not None:
        chunk.start_signs[:] = start_signs
    _iterate(ref_t, mov_t, chunk, tolerance, range(first, max_iterations))
    return _finish(ref_t, mov_t, chunk)


def _store(poses: Array, status: Array, index: slice | NDArray[np.intp],
           out: tuple[Array, ...]) -> None:
    """Write a chunk's results (see :func:`_finish`) into rows ``index`` of the batch."""
    rot, trans, conv, res, same, sing = out
    poses[index, :3, :3] = rot.transpose(2, 0, 1)
    poses[index, :3, 3] = trans.T
    status[:, index] = conv, res, same, sing


class _Pool:
    """The poses each chunk leaves still iterating once most of it has converged, grouped
    by their next iteration; they take their last iterations together, in full chunks,
    instead of as a small tail of every chunk (a numpy call costs about as much for 20
    poses as for 500). A pose follows the same iterates either way."""

    def __init__(self, ref_t: Array, mov_t: Array, tolerance: float, max_iterations: int,
                 size: int, poses: Array, status: Array, work: _Workspace | None) -> None:
        self.joints, self.tolerance, self.max_iterations = (ref_t, mov_t), tolerance, max_iterations
        self.size, self.poses, self.status = size, poses, status
        self.groups: dict[int, list[tuple[NDArray[Any], ...]]] = {}
        self.work = work  # the chunks' own: a flush runs between two chunks

    @staticmethod
    def take(offset: int, chunk: _Chunk) -> tuple[NDArray[Any], ...]:
        """Copy the state of a chunk's poses that are still iterating (rows ``offset +
        active`` of the batch) and drop them from it."""
        state = (offset + chunk.active, chunk.target.copy(), chunk.rot.copy(),
                 chunk.trans.copy(), chunk.start_signs[:, chunk.active])
        chunk.leave(np.ones(chunk.active.size, dtype=bool))
        return state

    def add(self, first: int, state: tuple[NDArray[Any], ...]) -> None:
        """Queue poses that continue at iteration ``first``; run a full chunk of them."""
        group = self.groups.setdefault(first, [])
        group.append(state)
        if sum(part[0].size for part in group) >= self.size:
            self.flush(first)

    def flush(self, first: int | None = None) -> None:
        """Run the queued poses (of iteration ``first``, or all) to their end, in chunks."""
        for key in [first] if first is not None else sorted(self.groups):
            group = self.groups.pop(key)
            index, target, rot, trans, signs = (np.concatenate([part[i] for part in group],
                                                               axis=-1) for i in range(5))
            for s in range(0, index.size, self.size):
                part = slice(s, s + self.size)
                out = _newton_chunk(*self.joints, target[:, part], rot[..., part],
                                    trans[:, part], self.tolerance, self.max_iterations,
                                    self.work, key, signs[:, part])
                _store(self.poses, self.status, index[part], out)


def _frobenius_condition(ref_t: Array, mov_t: Array, rot: Array, trans: Array,
                         scale: float, work: _Workspace | None = None,
                         below: float | None = None) -> Array:
    """``|J_s|_F |J_s^-1|_F`` (rotational columns divided by ``scale``), batch last (n,).

    With ``below``, a pose whose upper bound ``sqrt(6) |J_s|_F^6 / |det J_s|`` is at most
    ``below`` gets that bound instead (no inverse): ``|J^-1|_F <= sqrt(6) / s_min`` and
    ``s_min >= |det J| / s_max^5`` with ``s_max <= |J|_F``. A guard against a limit needs
    only that; near a singular pose the bound is large and the exact number is computed. The
    bound is never below :data:`_BOUND_AT_LEAST`, so a smaller ``below`` skips it."""
    lever, vec, length = _struts_soa(ref_t, mov_t, rot, trans, work)
    if below is not None and below >= _BOUND_AT_LEAST:
        aug = _jacobian_soa(lever, vec, length, 0, work)
        aug[:, 3:6] /= scale
        norm2 = np.einsum("ijn,ijn->n", aug, aug)
        det = _solve_batch(aug, work)[1]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            bound = np.sqrt(6.0) * norm2**3 / np.abs(det)
        exact = ~(bound <= below)
        if exact.any():
            bound[exact] = _frobenius_condition(ref_t, mov_t, rot[..., exact],
                                                trans[:, exact], scale)
        return bound
    aug = _jacobian_soa(lever, vec, length, 6, work)
    aug[:, 3:6] /= scale
    norm = np.sqrt(np.einsum("ijn,ijn->n", aug[:, :6], aug[:, :6]))
    aug[:, 6:] = np.eye(6)[:, :, None]
    inverse = _solve_batch(aug, work, identity=True)[0]
    with np.errstate(invalid="ignore", over="ignore"):
        cond = norm * np.sqrt(np.einsum("ijn,ijn->n", inverse, inverse))
    return np.where(np.isfinite(cond), cond, np.inf)


def _default_start(lengths: Array, horiz: Array, moving_side: float) -> Array:
    """The default guess of one pose (see :func:`default_guess`)."""
    height = math.sqrt(max(float(np.mean(lengths**2 - horiz)), 1.0))
    return from_translation([0.0, 0.0, moving_side * height])


def _forward(ref: Array, mov: Array, lens: Array, guess: ArrayLike | None, tolerance: float,
             max_iterations: int, moving_side: float, condition_scale: float | None,
             chunk: int = FK_CHUNK, condition_limit: float | None = None
             ) -> tuple[FKResult, Array | None]:
    """Chunked forward kinematics; also the condition numbers if ``condition_scale`` (with
    ``condition_limit``: exact where above it, an upper bound at most it elsewhere, see
    :func:`_frobenius_condition`)."""
    batch = lens.shape[:-1]
    flat = lens.reshape(-1, 6)
    n = flat.shape[0]
    guesses = None
    if guess is not None:
        checked = check_transform(guess, "guess")
        try:
            guesses = np.broadcast_to(checked, (*batch, 4, 4)).reshape(-1, 4, 4)
        except ValueError:
            raise InputError(f"guess of shape {checked.shape} does not match lengths of batch "
                             f"shape {batch}: give one pose, or one per set of lengths") from None
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
            poses[i], *state = newton_single(ref, mov, flat[i], start, tolerance, max_iterations,
                                             MAX_STEP_MM, MAX_STEP_RAD)
            status[:, i] = state
        if cond is not None and condition_scale is not None:
            cond[:] = _frobenius_condition(ref_t, mov_t, poses[:, :3, :3].transpose(1, 2, 0),
                                           poses[:, :3, 3].T, condition_scale)
        n = 0  # nothing left for the batched kernel
    work = _Workspace(min(chunk, n), 6) if n else None
    pool = _Pool(ref_t, mov_t, tolerance, max_iterations, chunk, poses, status, work)
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
        newton = _Chunk(target, rot, trans, work)  # type: ignore[arg-type]
        below = -(-m // _POOL_BELOW) if n > chunk else 0  # one chunk: nothing to pool with
        first = _iterate(ref_t, mov_t, newton, tolerance, range(max_iterations), below)
        pooled = pool.take(s, newton) if first < max_iterations else None
        _store(poses, status, slice(s, s + m), _finish(ref_t, mov_t, newton))
        if pooled is not None:
            pool.add(first, pooled)
    pool.flush()
    if cond is not None and condition_scale is not None:
        for s in range(0, n, chunk):
            rot = np.ascontiguousarray(poses[s:s + chunk, :3, :3].transpose(1, 2, 0))
            trans = np.ascontiguousarray(poses[s:s + chunk, :3, 3].T)
            cond[s:s + rot.shape[-1]] = _frobenius_condition(ref_t, mov_t, rot, trans,
                                                             condition_scale, work,
                                                             condition_limit)
    result = FKResult._adopt(poses.reshape(*batch, 4, 4),
                             status[0].astype(bool).reshape(batch), status[1].reshape(batch),
                             status[2].astype(bool).reshape(batch),
                             status[3].astype(bool).reshape(batch))
    return result, (None if cond is None else cond.reshape(batch))


