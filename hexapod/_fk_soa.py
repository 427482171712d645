"""Strut geometry of a batch of poses held as structs of arrays, batch last (maths core,
private): the forward-kinematics kernel's struts, Jacobian rows and rotation steps, each one
numpy call per component over a chunk, written into reused work arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hexapod._fk_solve import _Workspace

Array = NDArray[np.float64]


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


def _rotation_step(omega: Array, out: Array | None = None) -> Array:
    """Rodrigues rotation matrices (3, 3, n) from rotation vectors (3, n). Up to 0.15 rad
    (Newton's steps are capped at :data:`hexapod._fk_kernel.MAX_STEP_RAD`) ``sin x / x`` and
    ``(1 - cos x) / x**2`` come from their series to ``x**8``, whose next terms are below
    1e-16 there; larger angles use the trigonometric functions. Written into ``out``
    (3, 3, n) when given."""
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
    if out is None:
        out = np.empty((3, 3, omega.shape[-1]))
    np.multiply(omega[:, None, :], omega[None, :, :], out=out)
    out *= b
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
