"""Residual deformity from measurement error, before the frame is adjusted (maths core).

The surgeon plans with *measured* parameters; the bone obeys the *true* ones. The struts move
the moving ring by the planned motion ``G = target @ inv(start)`` (in the reference ring frame);
the true mounting ``M*`` turns that into the fragment's motion ``M* G inv(M*)`` in the
anatomical frame, applied to the true start pose ``X*`` of the moving fragment. The residual is
the error ``E = inv(X_end) @ M* G inv(M*) @ X*`` of the moving fragment's final pose against the
intended one (``X_end``): zero when every measurement is exact.

Parameters with error (signed, in the anatomical frame, sign convention of the contract):
the six deformity parameters, the four mounting parameters, and the strut readings (each of
the six set with an independent error, at the start and at the end). The ring sizes come from
the catalogue; the joint-circle radius behind them is hardware data, whose error is reported in
the one-at-a-time table (exact forward kinematics) but not sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.anatomy import SIGNED_PARAMETERS, poses_from_signed, signed_parameters
from hexapod.clinical import PlanInput
from hexapod.errors import ConvergenceError, InputError
from hexapod.geometry import FrameGeometry

Array = NDArray[np.float64]

#: Signed parameters, in order: name, unit, what + means.
PARAMETERS = SIGNED_PARAMETERS


@dataclass(frozen=True)
class Uncertainty:
    """Standard deviations of the measurement errors.

    Defaults: X-ray angles ~1 deg and distances ~1-2 mm; axial rotation from the clinical
    exam ~5 deg; strut readings 0.5 mm (half the 1 mm scale step).
    """

    angulation_deg: float = 1.0
    translation_mm: float = 1.0
    rotation_deg: float = 5.0
    mounting_mm: float = 2.0
    mounting_deg: float = 2.0
    reading_mm: float = 0.5

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"uncertainty {name} must be a finite number >= 0, got {value}")

    def vector(self) -> Array:
        """Standard deviation of each of :data:`PARAMETERS`."""
        return np.array([self.angulation_deg, self.angulation_deg, self.rotation_deg,
                         self.translation_mm, self.translation_mm, self.translation_mm,
                         self.mounting_mm, self.mounting_mm, self.mounting_mm,
                         self.mounting_deg])


#: Samples per block of random numbers: block ``k`` draws from its own generator seeded by
#: ``SeedSequence(seed, spawn_key=(k,))``, so the figures do not depend on the chunk size.
RANDOM_BLOCK = 4096
#: Samples propagated at a time (bounds the memory whatever the sample count).
CHUNK = 16384


@dataclass(frozen=True)
class SensitivityResult:
    """Residuals at the origin (the corresponding point's target) and at the far end of the
    moving fragment, by Monte Carlo and by the linearised propagation.

    ``samples`` were drawn; ``failed_samples`` of them are excluded from the Monte Carlo
    figures because the forward kinematics of their noisy readings did not converge or left
    the assembly branch of the planned pose. The sample arrays hold the kept ones."""

    samples: int
    far_end_mm: float
    origin_mc: tuple[float, float]  # mean, 95th percentile (mm)
    far_end_mc: tuple[float, float]
    angle_mc: tuple[float, float]  # degrees
    origin_lin: tuple[float, float]
    far_end_lin: tuple[float, float]
    angle_lin: tuple[float, float]
    share: tuple[tuple[str, float], ...]  # variance share at the far end, largest first
    one_at_a_time: tuple[tuple[str, str, float, float, float], ...]  # name, unit, mm, mm, deg
    residual_origin_samples: Array
    residual_far_samples: Array
    failed_samples: int = 0

    def __post_init__(self) -> None:
        for name in ("residual_origin_samples", "residual_far_samples"):
            arr = np.array(getattr(self, name), dtype=float, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)


def nominal_parameters(plan_input: PlanInput) -> Array:
    """The case's measured parameters as signed numbers (see :data:`PARAMETERS`)."""
    return signed_parameters(plan_input.case.deformity, plan_input.case.mounting)


def fragment_and_mounting(params: Array, side: str, reference: str) -> tuple[Array, Array]:
    """Batched: the moving fragment's start pose in the anatomical frame, and the mounting,
    from signed parameters ``(..., 10)``."""
    d_in_p, mount = poses_from_signed(params, side)
    return (d_in_p if reference == "proximal" else tf.invert(d_in_p)), mount


def _error_transform(plan_input: PlanInput, true_params: Array, ring_motion: Array) -> Array:
    """``E = inv(X_end) @ M* G inv(M*) @ X*`` for true parameters ``(..., 10)``."""
    side = plan_input.case.patient.side
    fragment, mount = fragment_and_mounting(true_params, side, plan_input.reference)
    end = plan_input.waypoints_in_anatomy[-1]
    return np.asarray(tf.invert(end) @ mount @ ring_motion @ tf.invert(mount) @ fragment,
                      dtype=float)


def _far_point(plan_input: PlanInput, length_mm: float) -> Array:
    """The moving fragment's far end in its own frame."""
    sign = -1.0 if plan_input.reference == "proximal" else 1.0
    return np.array([0.0, 0.0, sign * length_mm])


def _residuals(error: Array, far: Array) -> tuple[Array, Array, Array]:
    origin = np.linalg.norm(error[..., :3, 3], axis=-1)
    far_end = np.linalg.norm(tf.apply(error, far) - far, axis=-1)
    angle = np.degrees(tf.rotation_angle(error))
    return origin, far_end, angle


def _mean_p95(x: Array) -> tuple[float, float]:
    return float(np.mean(x)), float(np.percentile(x, 95))


def _normals(seed: int, start: int, stop: int) -> Array:
    """Standard normal numbers for samples ``start..stop``, shape (stop - start, 28): the 10
    parameter errors, the 12 reading errors and the 6 linearised-twist draws of each sample.

    Block ``k`` of :data:`RANDOM_BLOCK` samples always gets the same numbers, so any split of
    the samples into chunks sees the same draws."""
    out = np.empty((stop - start, 28))
    first, last = start // RANDOM_BLOCK, (stop - 1) // RANDOM_BLOCK
    for block in range(first, last + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        draws = rng.standard_normal((RANDOM_BLOCK, 28))
        lo = max(start, block * RANDOM_BLOCK)
        hi = min(stop, (block + 1) * RANDOM_BLOCK)
        out[lo - start:hi - start] = draws[lo - block * RANDOM_BLOCK:hi - block * RANDOM_BLOCK]
    return out


def _first_order_poses(geo: FrameGeometry, ends: Array, length_error: Array) -> Array:
    """Start guesses for the forward kinematics of noisy lengths: each planned pose moved by
    the spatial twist ``inv(J) @ error`` (one Newton step, the same for every sample's
    Jacobian), so that Newton needs one or two more steps instead of three or four."""
    inv = np.linalg.inv(kin.jacobian(geo.reference_joints, geo.moving_joints, ends))
    twist = np.einsum("eij,nej->nei", inv, length_error)  # (n, 2, 6); no BLAS threads
    out = np.empty((*twist.shape[:2], 4, 4))
    out[..., :3, :3] = tf.rotation_from_rotvec(twist[..., 3:]) @ ends[:, :3, :3]
    out[..., :3, 3] = ends[:, :3, 3] + twist[..., :3]
    out[..., 3, :] = (0.0, 0.0, 0.0, 1.0)
    return out


def _monte_carlo_chunk(plan_input: PlanInput, normals: Array, sd: Array, reading_sd: float,
                       ends: Array, ends_lengths: Array, far: Array
                       ) -> tuple[Array, Array, Array]:
    """Residuals (origin, far end, angle) of the samples of one chunk whose forward
    kinematics converged on the planned branch (the others are left out)."""
    geo = plan_input.geometry
    true_params = nominal_parameters(plan_input) - normals[:, :10] * sd
    if reading_sd > 0:
        reading_error = normals[:, 10:22].reshape(-1, 2, 6) * reading_sd
        noisy = ends_lengths + reading_error
        keep = np.all(noisy > 0, axis=(1, 2))  # a length of 0 or less is no frame at all
        fk = kin.solve_pose_status(geo.reference_joints, geo.moving_joints, noisy[keep],
                                   guess=_first_order_poses(geo, ends, reading_error[keep]),
                                   moving_side=geo.moving_side)
        solved = np.all(fk.converged & fk.same_branch, axis=1)
        keep[keep] = solved
        motion = fk.poses[solved, 1] @ tf.invert(fk.poses[solved, 0])
        true_params = true_params[keep]
    else:
        motion = np.broadcast_to(ends[1] @ tf.invert(ends[0]), (normals.shape[0], 4, 4))
    return _residuals(_error_transform(plan_input, true_params, motion), far)


def _linearised(plan_input: PlanInput, uncertainty: Uncertainty
                ) -> tuple[Array, Array, Array]:
    """Twist per unit error of each of the 22 errors (6, 22), their standard deviations,
    and a factor ``F`` (6, 6) with ``F F.T`` the twist covariance."""
    geo = plan_input.geometry
    nominal = nominal_parameters(plan_input)
    sd = uncertainty.vector()
    start, target = plan_input.start_pose, plan_input.target_pose
    step = 1e-4
    cols = []
    planned = target @ tf.invert(start)
    for k in range(10):
        delta = np.zeros(10)
        delta[k] = step
        plus = _error_transform(plan_input, nominal - delta, planned)
        minus = _error_transform(plan_input, nominal + delta, planned)
        cols.append((_twist(plus) - _twist(minus)) / (2 * step))
    for which, pose in enumerate((start, target)):
        inv = np.asarray(np.linalg.inv(kin.jacobian(geo.reference_joints, geo.moving_joints,
                                                    pose)), dtype=np.float64)
        for i in range(6):
            # a length error moves that ring pose by the spatial twist inv(J)[:, i]
            twist = inv[:, i] * step
            moved = []
            for sign in (1.0, -1.0):
                bumped = [start, target]
                bumped[which] = _apply_spatial(sign * twist, bumped[which])
                moved.append(_twist(_error_transform(plan_input, nominal,
                                                     bumped[1] @ tf.invert(bumped[0]))))
            cols.append((moved[0] - moved[1]) / (2 * step))
    jac_all = np.column_stack(cols)  # (6, 22): twist per unit error
    sd_all = np.concatenate([sd, np.full(12, uncertainty.reading_mm)])
    cov = (jac_all * sd_all**2) @ jac_all.T
    values, vectors = np.linalg.eigh(cov)
    factor = vectors * np.sqrt(np.maximum(values, 0.0))
    return jac_all, sd_all, factor


def analyse(plan_input: PlanInput, uncertainty: Uncertainty, samples: int = 20000,
            seed: int = 0, far_end_mm: float = 150.0, *, chunk: int = CHUNK
            ) -> SensitivityResult:
    """Monte Carlo and linearised residual deformity for a case's measurement uncertainty.

    Parameters
    ----------
    plan_input : the case, as planned from the measured parameters
    uncertainty : standard deviations
    samples : Monte Carlo samples, propagated ``chunk`` at a time (memory stays bounded)
    seed : random seed (results are reproducible for a seed, whatever ``chunk``)
    far_end_mm : distance from the fragment's origin to its far end (mm)
    chunk : samples per batch

    Samples whose noisy readings have no forward-kinematics solution on the planned
    assembly branch are left out of the Monte Carlo figures and counted in
    ``failed_samples``.
    """
    if samples < 2:
        raise InputError("samples must be at least 2")
    if chunk < 1:
        raise InputError("chunk must be at least 1")
    geo = plan_input.geometry
    sd = uncertainty.vector()
    ends = np.stack([plan_input.start_pose, plan_input.target_pose])
    ends_lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints, ends)
    far = _far_point(plan_input, far_end_mm)
    jac_all, sd_all, factor = _linearised(plan_input, uncertainty)

    mc = np.empty((3, samples))
    lin = np.empty((3, samples))
    kept = 0
    for start in range(0, samples, chunk):
        stop = min(samples, start + chunk)
        normals = _normals(seed, start, stop)
        res = _monte_carlo_chunk(plan_input, normals, sd, uncertainty.reading_mm,
                                          ends, ends_lengths, far)
        mc[:, kept:kept + res[0].size] = res
        kept += res[0].size
        twists = normals[:, 22:] @ factor.T
        lin[:, start:stop] = _residuals(tf.exp(twists[:, :3], twists[:, 3:]), far)
    if kept < 2:
        raise ConvergenceError(f"forward kinematics failed for {samples - kept} of {samples} "
                               "samples: the reading errors are too large for this frame")
    origin, far_end, angle = mc[:, :kept]

    # which parameter dominates the far-end residual (variance share, linearised)
    lever = np.hstack([np.eye(3), -tf.skew(far)])  # displacement at far point per twist
    contrib = np.sum((lever @ jac_all) ** 2, axis=0) * sd_all**2
    names = [p[0] for p in PARAMETERS] + ["strut readings"] * 12
    share: dict[str, float] = {}
    total = float(np.sum(contrib)) or 1.0
    for name, c in zip(names, contrib, strict=True):
        share[name] = share.get(name, 0.0) + float(c) / total
    ranked = tuple(sorted(share.items(), key=lambda kv: -kv[1]))

    return SensitivityResult(
        samples=samples, far_end_mm=far_end_mm,
        origin_mc=_mean_p95(origin), far_end_mc=_mean_p95(far_end), angle_mc=_mean_p95(angle),
        origin_lin=_mean_p95(lin[0]), far_end_lin=_mean_p95(lin[1]),
        angle_lin=_mean_p95(lin[2]), share=ranked,
        one_at_a_time=one_at_a_time(plan_input, far_end_mm),
        residual_origin_samples=origin, residual_far_samples=far_end,
        failed_samples=samples - kept)


def _twist(pose: Array) -> Array:
    rho, phi = tf.log(pose)
    return np.concatenate([rho, phi], axis=-1)


def _apply_spatial(twist: Array, pose: Array) -> Array:
    out = pose.copy()
    out[:3, :3] = tf.rotation_from_rotvec(twist[3:]) @ pose[:3, :3]
    out[:3, 3] = pose[:3, 3] + twist[:3]
    return out


def one_at_a_time(plan_input: PlanInput, far_end_mm: float = 150.0
                  ) -> tuple[tuple[str, str, float, float, float], ...]:
    """Residual (origin mm, far end mm, degrees) from a unit error (1 mm or 1 deg) in each of
    the 13 parameters, by exact (nonlinear) propagation."""
    geo = plan_input.geometry
    nominal = nominal_parameters(plan_input)
    start, target = plan_input.start_pose, plan_input.target_pose
    planned = target @ tf.invert(start)
    far = _far_point(plan_input, far_end_mm)
    rows = []
    for k, (name, unit, _) in enumerate(PARAMETERS):
        delta = np.zeros(10)
        delta[k] = 1.0
        o, f, a = _residuals(_error_transform(plan_input, nominal - delta, planned), far)
        rows.append((name, unit, float(o), float(f), float(a)))
    # frame: each ring's joint-circle radius 1 mm larger than the catalogue says
    lengths = kin.strut_lengths(geo.reference_joints, geo.moving_joints,
                                np.stack([start, target]))
    for ring in ("proximal", "distal"):
        scale_ref = (ring == "proximal") == (geo.reference == "proximal")
        ref = _grow(geo.reference_joints) if scale_ref else geo.reference_joints
        mov = geo.moving_joints if scale_ref else _grow(geo.moving_joints)
        true_geo = FrameGeometry(ref, mov, geo.reference)
        poses = kin.solve_pose(true_geo.reference_joints, true_geo.moving_joints, lengths,
                               guess=np.stack([start, target]), max_condition=None)
        o, f, a = _residuals(_error_transform(plan_input, nominal,
                                              poses[1] @ tf.invert(poses[0])), far)
        rows.append((f"{ring} ring joint radius", "mm", float(o), float(f), float(a)))
    # strut readings: 1 mm on one strut's final reading, the worst of the six
    worst = (0.0, 0.0, 0.0)
    for i in range(6):
        bumped = lengths.copy()
        bumped[1, i] += 1.0
        poses = kin.solve_pose(geo.reference_joints, geo.moving_joints, bumped,
                               guess=np.stack([start, target]), max_condition=None)
        o, f, a = _residuals(_error_transform(plan_input, nominal,
                                              poses[1] @ tf.invert(poses[0])), far)
        if float(f) > worst[1]:
            worst = (float(o), float(f), float(a))
    rows.append(("strut reading (one strut, worst of six)", "mm", *worst))
    return tuple(rows)


def _grow(joints: Array, by_mm: float = 1.0) -> Array:
    radius = np.linalg.norm(joints[:, :2], axis=1, keepdims=True)
    out = joints.copy()
    out[:, :2] *= (radius + by_mm) / radius
    return out
