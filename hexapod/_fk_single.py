"""Forward kinematics of one pose in Python floats (maths core, private).

The same Newton iteration as :func:`hexapod._fk_kernel._newton_chunk` (Jacobian, step caps,
rotation update, branch signs), without numpy's per-call overheads, which dominate for a
single pose; the 6x6 step is solved with partial pivoting.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

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


def rotation_single(wx: float, wy: float, wz: float) -> list[list[float]]:
    """:func:`hexapod._fk_kernel._rotation_step` for one rotation vector, in Python floats."""
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


def newton_single(ref: Array, mov: Array, target: Array, pose: Array, tolerance: float,
                  max_iterations: int, max_step_mm: float, max_step_rad: float
                  ) -> tuple[Array, bool, float, bool, bool]:
    """Newton for one pose: lengths ``target`` (6,) from the start ``pose`` (4, 4), steps
    capped at ``max_step_mm`` / ``max_step_rad``. Returns the pose (4, 4), converged,
    residual (mm), same branch, singular."""
    b = ref.tolist()
    p = mov.tolist()
    goal = target.tolist()
    rot = pose[:3, :3].tolist()
    t = pose[:3, 3].tolist()
    start_signs: list[bool] | None = None
    signs: list[bool] = []
    det_positive = False
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
        step, det = _solve6(rows)  # also at a converged iterate: the sign of its det J
        det_positive = det > 0
        if start_signs is None:
            start_signs = [*signs, det_positive]
        if worst < tolerance:
            converged = True
            break
        if not all(math.isfinite(v) for v in step):
            singular = True
            break
        norm_t = math.sqrt(step[0] ** 2 + step[1] ** 2 + step[2] ** 2)
        norm_w = math.sqrt(step[3] ** 2 + step[4] ** 2 + step[5] ** 2)
        scale = min(1.0, max_step_mm / max(norm_t, 1e-300), max_step_rad / max(norm_w, 1e-300))
        turn = rotation_single(step[3] * scale, step[4] * scale, step[5] * scale)
        rot = [[sum(turn[i][j] * rot[j][k] for j in range(3)) for k in range(3)]
               for i in range(3)]
        t = [t[i] + step[i] * scale for i in range(3)]
    out = np.eye(4)
    out[:3, :3] = rot
    out[:3, 3] = t
    if not (converged or singular):  # the residual and strut signs of the last iterate
        moved = out[:3, :3] @ mov.T + out[:3, 3, None] - ref.T
        worst = float(np.max(np.abs(target - np.sqrt(np.sum(moved * moved, axis=0)))))
        signs = [bool(z > 0) for z in moved[2]]
    return out, converged, worst, [*signs, det_positive] == start_signs, singular


