"""Least-squares fits of hardware numbers to caliper measurements (maths core).

Two fits, both in millimetres:

* a strut size's reading-to-length offset ``b`` from pairs (scale reading ``r``, caliper
  distance between the strut's two joint centres ``d``): the model is ``d = r + b``; a second
  fit ``d = a r + b`` checks that the scale's slope ``a`` is 1;
* a ring size's joint-circle radius ``R`` and pair spacing ``s`` from caliper distances between
  joint centres on the ring, for the ring's layout (pair-centre angles and sides, as in
  :func:`hexapod.geometry.ring_joints`): the distance between joints ``i`` and ``j`` is the
  chord ``2 R |sin((phi_i - phi_j) / 2)|`` with ``phi_k = c_k + side_k * asin(s / (2 R))``.

Standard errors use the scatter of the fit's residuals, never less than the instrument's own
standard deviation (a caliper's ~0.05 mm): few measurements that happen to agree do not make a
number more certain than the tool that took them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

#: Standard deviation of a caliper reading between joint centres (mm), the default floor.
CALIPER_SD_MM = 0.05
#: Joint radii a ring fit may start from (mm): any ring a caliper can measure, with room to
#: spare; outside it the chord arithmetic loses its digits or overflows.
START_RADIUS_MM = (1.0, 10_000.0)


def _frozen(values: ArrayLike) -> Array:
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class ParameterFit:
    """One fitted number.

    Attributes
    ----------
    value : float
        The fitted value (mm).
    standard_error_mm : float
        Its standard error (mm).
    residual_mm : float
        Root-mean-square residual of the measurements the fit used (mm).
    count : int
        Number of measurements.
    """

    value: float
    standard_error_mm: float
    residual_mm: float
    count: int

    def __post_init__(self) -> None:
        if not (np.isfinite(self.value) and np.isfinite(self.standard_error_mm)
                and np.isfinite(self.residual_mm)):
            raise ValueError("a fitted number must be finite")
        if self.count < 1:
            raise ValueError("a fit uses at least one measurement")


@dataclass(frozen=True)
class StrutFit:
    """Reading-to-length offset of one strut size.

    Attributes
    ----------
    offset : ParameterFit
        ``b`` of ``d = r + b`` (mm): the catalogue's ``reading_to_length_offset_mm``.
    slope, slope_standard_error : float
        ``a`` of ``d = a r + b`` and its standard error; nan with fewer than two distinct
        readings (the slope cannot be checked).
    slope_consistent : bool
        ``|a - 1| <= 3`` standard errors (True when the slope cannot be checked).
    residuals_mm : ndarray, shape (n,)
        ``d - r - b`` per measurement (mm).
    standardized : ndarray, shape (n,)
        Residuals divided by ``sd * sqrt(1 - 1/n)``; the largest in size is the most suspect.
    """

    offset: ParameterFit
    slope: float
    slope_standard_error: float
    slope_consistent: bool
    residuals_mm: Array
    standardized: Array


def fit_strut_offset(readings_mm: ArrayLike, distances_mm: ArrayLike,
                     instrument_sd_mm: float = CALIPER_SD_MM) -> StrutFit:
    """Fit a strut size's reading-to-length offset and check its scale's slope.

    Parameters
    ----------
    readings_mm : array_like, shape (n,)
        Scale readings the strut was set to (mm), n >= 1.
    distances_mm : array_like, shape (n,)
        Caliper distances between the strut's two joint centres at those readings (mm).
    instrument_sd_mm : float
        Floor of the measurement standard deviation (mm).

    Returns
    -------
    StrutFit
    """
    r = np.asarray(readings_mm, dtype=float).reshape(-1)
    d = np.asarray(distances_mm, dtype=float).reshape(-1)
    if r.shape != d.shape or r.size == 0:
        raise ValueError("readings and distances must be two lists of the same length >= 1")
    n = r.size
    offset = float(np.mean(d - r))
    residuals = d - r - offset
    sd = _scatter(residuals, n - 1, instrument_sd_mm)
    fit = ParameterFit(offset, float(sd / np.sqrt(n)), float(np.sqrt(np.mean(residuals ** 2))),
                       n)
    standardized = residuals / (sd * np.sqrt(1.0 - 1.0 / n)) if n > 1 else np.zeros(1)
    slope, slope_se, consistent = np.nan, np.nan, True
    spread = np.sum((r - r.mean()) ** 2)
    if np.unique(r).size >= 2:
        slope = float(np.sum((r - r.mean()) * (d - d.mean())) / spread)
        line_residuals = d - d.mean() - slope * (r - r.mean())
        slope_se = float(_scatter(line_residuals, n - 2, instrument_sd_mm) / np.sqrt(spread))
        consistent = bool(abs(slope - 1.0) <= 3.0 * slope_se)
    return StrutFit(fit, slope, slope_se, consistent, _frozen(residuals), _frozen(standardized))


def _scatter(residuals: Array, dof: int, floor: float) -> float:
    """Sample standard deviation of residuals with ``dof`` degrees of freedom, >= floor."""
    if dof < 1:
        return float(floor)
    return float(max(np.sqrt(np.sum(residuals ** 2) / dof), floor))


@dataclass(frozen=True)
class ChordObservations:
    """Caliper distances between joint centres of one ring size, in angle form.

    Joint ``a`` of distance ``k`` sits at angle ``centre_a_deg[k] + side_a[k] * half`` on the
    joint circle, where ``half = asin(spacing / (2 radius))``; likewise joint ``b``.

    Attributes
    ----------
    centre_a_deg, centre_b_deg : ndarray, shape (n,)
        Pair-centre angles of the two joints (degrees).
    side_a, side_b : ndarray, shape (n,)
        Their sides of the pair centre (-1 or +1).
    distances_mm : ndarray, shape (n,)
        Measured distances (mm).
    """

    centre_a_deg: Array
    side_a: Array
    centre_b_deg: Array
    side_b: Array
    distances_mm: Array

    def __post_init__(self) -> None:
        shapes = {np.shape(getattr(self, f)) for f in self.__dataclass_fields__}
        if len(shapes) != 1 or len(shapes.pop()) != 1:
            raise ValueError("chord observations must be five arrays of the same shape (n,)")
        for f in self.__dataclass_fields__:
            getattr(self, f).setflags(write=False)

    @classmethod
    def from_joints(cls, pair_centre_deg: ArrayLike, pair_side: ArrayLike,
                    joints: ArrayLike, distances_mm: ArrayLike) -> ChordObservations:
        """Observations from a ring layout and joint pairs named by strut number.

        Parameters
        ----------
        pair_centre_deg, pair_side : array_like, shape (6,)
            The ring's layout for its position (proximal or distal), struts 1..6.
        joints : array_like of int, shape (n, 2)
            Strut numbers (1..6) of the two joints of each distance.
        distances_mm : array_like, shape (n,)
        """
        centres = np.asarray(pair_centre_deg, dtype=float)
        sides = np.asarray(pair_side, dtype=float)
        idx = np.asarray(joints, dtype=int).reshape(-1, 2) - 1
        if np.any(idx < 0) or np.any(idx > 5):
            raise ValueError("joints are named by strut numbers 1..6")
        return cls(_frozen(centres[idx[:, 0]]), _frozen(sides[idx[:, 0]]),
                   _frozen(centres[idx[:, 1]]), _frozen(sides[idx[:, 1]]),
                   _frozen(np.asarray(distances_mm, dtype=float).reshape(-1)))

    @staticmethod
    def concatenate(parts: list[ChordObservations]) -> ChordObservations:
        """All observations of several lists, in order."""
        fields = ChordObservations.__dataclass_fields__
        return ChordObservations(**{f: _frozen(np.concatenate([getattr(p, f) for p in parts]))
                                    for f in fields})


def chord_distances(obs: ChordObservations, radius_mm: float,
                    spacing_mm: float) -> tuple[Array, Array]:
    """Predicted distances and their Jacobian for a joint radius and pair spacing.

    Returns
    -------
    distances : ndarray, shape (n,)
        ``2 R |sin((phi_a - phi_b) / 2)|`` (mm).
    jacobian : ndarray, shape (n, 2)
        Derivatives of the distances by (radius, spacing).
    """
    half = np.arcsin(spacing_mm / (2.0 * radius_mm))
    dside = obs.side_a - obs.side_b
    gap = np.radians(obs.centre_a_deg - obs.centre_b_deg) + dside * half
    sin_half_gap = np.sin(gap / 2.0)
    sign = np.where(sin_half_gap < 0, -1.0, 1.0)
    distances = 2.0 * radius_mm * np.abs(sin_half_gap)
    # d = 2 R sign sin(gap/2):  dd/dhalf = R sign cos(gap/2) dside
    dd_dhalf = radius_mm * sign * np.cos(gap / 2.0) * dside
    cos_half = np.cos(half)
    dhalf_ds = 1.0 / (2.0 * radius_mm * cos_half)
    dhalf_dr = -spacing_mm / (2.0 * radius_mm ** 2 * cos_half)
    jacobian = np.stack([2.0 * np.abs(sin_half_gap) + dd_dhalf * dhalf_dr,
                         dd_dhalf * dhalf_ds], axis=-1)
    return distances, jacobian


def chord_fit_is_determined(obs: ChordObservations, radius_mm: float,
                            spacing_mm: float) -> bool:
    """Whether the distances determine both radius and spacing (near the given values).

    True when the Jacobian has full rank 2: at least two geometrically different distances,
    e.g. the two joints of one pair and two joints of different pairs.
    """
    if obs.distances_mm.size < 2:
        return False
    _, jac = chord_distances(obs, radius_mm, spacing_mm)
    singular = np.linalg.svd(jac / np.linalg.norm(jac, axis=0).clip(1e-300), compute_uv=False)
    return bool(singular[-1] > 1e-6 * singular[0])


@dataclass(frozen=True)
class RingFit:
    """Joint radius and pair spacing of one ring size.

    Attributes
    ----------
    radius, spacing : ParameterFit
        Joint-circle radius and pair spacing (mm).
    residuals_mm : ndarray, shape (n,)
        Measured minus fitted distance (mm).
    standardized : ndarray, shape (n,)
        Residuals divided by ``sd * sqrt(1 - leverage)`` (0 where a measurement fixes the fit
        alone); the largest in size is the most suspect.
    converged : bool
        Gauss-Newton reached a step below 1e-9 mm with a valid geometry.
    """

    radius: ParameterFit
    spacing: ParameterFit
    residuals_mm: Array
    standardized: Array
    converged: bool


def fit_ring(obs: ChordObservations, radius_guess_mm: float, spacing_guess_mm: float,
             instrument_sd_mm: float = CALIPER_SD_MM, max_iterations: int = 50) -> RingFit:
    """Least-squares joint radius and pair spacing from chord distances (Gauss-Newton).

    Parameters
    ----------
    obs : ChordObservations
        At least two distances that determine the fit (:func:`chord_fit_is_determined`).
    radius_guess_mm, spacing_guess_mm : float
        Start values, e.g. the base catalogue's (mm).
    instrument_sd_mm : float
        Floor of the measurement standard deviation (mm).
    max_iterations : int

    Returns
    -------
    RingFit
        ``converged`` False when the iteration left the valid geometry (0 < s < 2R) or did
        not settle; its numbers are then the last valid iterate.

    Raises
    ------
    ValueError
        The start values are not a ring (:data:`START_RADIUS_MM`, 0 < spacing < 2 radius).
    """
    params = np.array([radius_guess_mm, spacing_guess_mm], dtype=float)
    low, high = START_RADIUS_MM
    if not (low <= params[0] <= high and 0 < params[1] < 2 * params[0]):
        raise ValueError(f"the start values must be a ring: {low:g} <= radius <= {high:g} and "
                         f"0 < spacing < 2 radius, got radius {radius_guess_mm!r} mm and "
                         f"spacing {spacing_guess_mm!r} mm")
    converged = False
    for _ in range(max_iterations):
        predicted, jac = chord_distances(obs, params[0], params[1])
        if not (np.all(np.isfinite(predicted)) and np.all(np.isfinite(jac))):
            break  # the iterate has run off to where the numbers overflow
        step = np.linalg.lstsq(jac, obs.distances_mm - predicted, rcond=None)[0]
        trial = params + step
        shrink = 0
        while not 0 < trial[1] < 2 * trial[0] and shrink < 30:
            step = step / 2.0
            trial = params + step
            shrink += 1
        if not 0 < trial[1] < 2 * trial[0]:
            break
        params = trial
        if np.max(np.abs(step)) < 1e-9:
            converged = True
            break
    predicted, jac = chord_distances(obs, params[0], params[1])
    residuals = obs.distances_mm - predicted
    n = residuals.size
    sd = _scatter(residuals, n - 2, instrument_sd_mm)
    jtj_inv = np.linalg.pinv(jac.T @ jac)
    se = sd * np.sqrt(np.clip(np.diag(jtj_inv), 0.0, None))
    leverage = np.einsum("ij,jk,ik->i", jac, jtj_inv, jac)
    room = np.sqrt(np.clip(1.0 - leverage, 0.0, None))
    standardized = np.where(room > 1e-6, residuals / (sd * np.maximum(room, 1e-6)), 0.0)
    rms = float(np.sqrt(np.mean(residuals ** 2)))
    return RingFit(ParameterFit(float(params[0]), float(se[0]), rms, n),
                   ParameterFit(float(params[1]), float(se[1]), rms, n),
                   _frozen(residuals), _frozen(standardized), converged)
