"""Calibrate a catalogue from a measurement file, and say in words what changed and what to
check (``hexapod calibrate``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hexapod.calibration import (
    CALIPER_SD_MM,
    ChordObservations,
    ParameterFit,
    fit_ring,
    fit_strut_offset,
)
from hexapod.hardware import Catalogue, Quantity, RingSize, StrutSize, pair_is_clear
from hexapod.io.measurement_file import (
    MeasurementError,
    Measurements,
    RingMeasurement,
    check_against_catalogue,
    ring_observations,
)

#: A measurement further than this many caliper standard deviations from its fit is suspect.
POOR_FIT_FACTOR = 6.0
#: A fitted number less certain than this (standard error, mm) is not written: a catalogue
#: number marked ``measured`` must be better than the guess it replaces.
MAX_STANDARD_ERROR_MM = 0.5


@dataclass(frozen=True)
class FittedNumber:
    """One catalogue number replaced by a fit: its key path, the base value and the fit."""

    key: str
    base_value: float
    value: float
    fit: ParameterFit


@dataclass(frozen=True)
class Calibration:
    """The calibrated catalogue, the numbers that changed, and warnings (sentences)."""

    catalogue: Catalogue
    base: Catalogue
    numbers: tuple[FittedNumber, ...]
    warnings: tuple[str, ...]


def _measured(value: float, fit: ParameterFit, note: str, meas: Measurements) -> Quantity:
    return Quantity(round(value, 3), "measured", note, measured_on=meas.measured_on,
                    count=fit.count, residual_mm=round(fit.residual_mm, 4),
                    standard_error_mm=round(fit.standard_error_mm, 4))


def ordinal(number: int) -> str:
    """``1`` -> ``"1st"``, ``12`` -> ``"12th"``, ``23`` -> ``"23rd"``."""
    last = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{last}"


def with_entry_number(key: str) -> str:
    """A key path with the entry counted from 1 as a person counts the file's tables:
    ``strut[9].reading_mm`` -> ``strut[9].reading_mm (the 10th [[strut]] entry)``."""
    found = re.match(r"(\w+)\[(\d+)\]", key)
    if found is None:
        return key
    entry = f"the {ordinal(int(found[2]) + 1)} [[{found[1]}]] entry"
    if key.endswith(")"):  # ``... (joints [6, 1])``: one bracket, not two
        return f"{key[:-1]}; {entry})"
    return f"{key} ({entry})"


def _suspect(keys: Sequence[str], residuals: np.ndarray, standardized: np.ndarray,
             what: str, sd_mm: float) -> str | None:
    """A warning naming the most suspect measurement when any is far from its fit."""
    worst = int(np.argmax(np.abs(residuals)))
    if not abs(residuals[worst]) > POOR_FIT_FACTOR * sd_mm:
        return None
    if np.any(standardized != 0):
        worst = int(np.argmax(np.abs(standardized)))
        ranked = np.sort(np.abs(standardized))[::-1]
        clear = len(ranked) < 2 or ranked[0] > 1.1 * ranked[1]
    else:
        clear = False
    head = (f"poor fit for {what}: residuals up to {np.max(np.abs(residuals)):.2f} mm, far "
            f"above a caliper's ~{sd_mm:g} mm")
    if clear:
        return (f"{head}; {with_entry_number(keys[worst])} is the most likely wrong "
                f"({residuals[worst]:+.2f} mm from the fit): a typo, a wrong strut number or "
                "size? Check it and measure again")
    return (f"{head}; too few measurements to tell which of {', '.join(dict.fromkeys(keys))} "
            "is wrong: measure again and add more distances")


def _refuse_uncertain(fits: Sequence[tuple[str, ParameterFit]], entries: str,
                      suspect: str | None, meas: Measurements) -> None:
    for key, fit in fits:
        if fit.standard_error_mm > MAX_STANDARD_ERROR_MM:
            raise MeasurementError(entries, (
                f"the fit of {key} has a standard error of {fit.standard_error_mm:.2f} mm "
                f"(at most {MAX_STANDARD_ERROR_MM:g} mm is written): the measurements disagree; "
                + (suspect or "check them, measure again and add more")), meas.source)


def _strut_sizes(meas: Measurements, base: Catalogue, sd_mm: float,
                 out: list[FittedNumber], warnings: list[str]) -> tuple[StrutSize, ...]:
    sizes = []
    for size in base.strut_sizes:
        entries = [m for m in meas.struts if m.size == size.name]
        if not entries:
            sizes.append(size)
            continue
        readings = np.array([m.reading_mm for m in entries])
        fit = fit_strut_offset(readings, [m.joint_distance_mm for m in entries], sd_mm)
        key = f"strut_sizes[{size.name}].reading_to_length_offset_mm"
        note = (f"fit of joint distance = reading + offset to {len(entries)} caliper "
                f"measurement(s) ({entries[0].key}..{entries[-1].key}) in "
                f"{Path(meas.source).name}")
        if not np.isnan(fit.slope):
            note += f"; scale slope {fit.slope:.4f} +/- {fit.slope_standard_error:.4f}"
        if np.unique(readings).size < 3:
            warnings.append(
                f"strut size {size.name}: {np.unique(readings).size} different reading(s): "
                "the scale's slope is not checked; measure at three or more readings spread "
                f"over its range ({size.min_mm:g}-{size.max_mm:g} mm)")
        if not fit.slope_consistent:
            warnings.append(
                f"strut size {size.name}: the joint distance grows {fit.slope:.4f} mm per mm "
                f"of reading (+/- {fit.slope_standard_error:.4f}), not 1: the offset written "
                f"holds only near readings {readings.min():g}-{readings.max():g} mm; check "
                "these measurements and the scale")
        warn = _suspect([m.key for m in entries], fit.residuals_mm, fit.standardized,
                        f"strut size {size.name}", sd_mm)
        _refuse_uncertain([(key, fit.offset)], ", ".join(m.key for m in entries), warn, meas)
        if warn:
            warnings.append(warn)
        q = _measured(fit.offset.value, fit.offset, note, meas)
        out.append(FittedNumber(key, size.offset_mm, float(q.value), fit.offset))
        sizes.append(replace(size, reading_to_length_offset_mm=q))
    return tuple(sizes)


def _one_ring(ring: RingSize, entries: list[RingMeasurement], base: Catalogue,
              meas: Measurements, sd_mm: float, out: list[FittedNumber],
              warnings: list[str]) -> RingSize:
    obs = ChordObservations.concatenate([ring_observations(base, e) for e in entries])
    keys = [f"{e.key}.distance_mm[{j}] (joints {list(pair)})"
            for e in entries for j, pair in enumerate(e.joints)]
    fit = fit_ring(obs, ring.joint_radius_mm, float(ring.pair_spacing_mm), sd_mm)
    names = ", ".join(e.key for e in entries)
    if not fit.converged:
        raise MeasurementError(names, f"the distances do not fit one circle of joint pairs of "
                               f"a {ring.diameter_mm:g} mm ring: check the joint numbers and "
                               "the position (proximal or distal) of each entry", meas.source)
    warn = _suspect(keys, fit.residuals_mm, fit.standardized,
                    f"ring {ring.diameter_mm:g} mm", sd_mm)
    prefix = f"rings[{ring.diameter_mm:g}]"
    _refuse_uncertain([(f"{prefix}.joint_radius_offset_mm", fit.radius),
                       (f"{prefix}.pair_spacing_mm", fit.spacing)], names, warn, meas)
    diameter = float(base.limits.strut_diameter_mm)
    written = round(fit.spacing.value, 3)  # what the catalogue will hold
    if not pair_is_clear(written, diameter):  # the loader's rule, on the value written
        hint = f"; {warn}" if warn else ""
        raise MeasurementError(names, f"the fitted pair spacing of the {ring.diameter_mm:g} mm "
                               f"ring, {written:.3f} mm, is not more than the strut diameter "
                               f"{diameter:g} mm (limits.strut_diameter_mm): two struts that "
                               "close would collide at their joints; check the joint numbers "
                               f"and the distances{hint}", meas.source)
    if warn:
        warnings.append(warn)
    note = (f"least-squares fit to {fit.radius.count} caliper distances between joint centres "
            f"({names}) in {Path(meas.source).name}")
    offset = _measured(fit.radius.value - ring.diameter_mm / 2.0, fit.radius, note, meas)
    spacing = _measured(fit.spacing.value, fit.spacing, note, meas)
    out.append(FittedNumber(f"{prefix}.joint_radius_offset_mm",
                            float(ring.joint_radius_offset_mm), float(offset.value), fit.radius))
    out.append(FittedNumber(f"{prefix}.pair_spacing_mm", float(ring.pair_spacing_mm),
                            float(spacing.value), fit.spacing))
    if ring.proximal_joints_mm is not None or ring.distal_joints_mm is not None:
        warnings.append(f"{prefix}: the base catalogue's explicit joint coordinates are dropped; "
                        "the fitted joint radius and pair spacing replace them")
    return RingSize(ring.size_mm, offset, spacing)


def calibrate(meas: Measurements, base: Catalogue,
              instrument_sd_mm: float = CALIPER_SD_MM) -> Calibration:
    """Fit the base catalogue's numbers to the measurements.

    Raises
    ------
    MeasurementError
        An entry names hardware the catalogue lacks, a ring entry has too few different
        distances, or a ring's distances fit no joint circle.
    """
    check_against_catalogue(meas, base)
    numbers: list[FittedNumber] = []
    warnings: list[str] = []
    struts = _strut_sizes(meas, base, instrument_sd_mm, numbers, warnings)
    rings = []
    for ring in base.rings:
        entries = [e for e in meas.rings if abs(e.size_mm - ring.diameter_mm) < 1e-9]
        rings.append(_one_ring(ring, entries, base, meas, instrument_sd_mm, numbers, warnings)
                     if entries else ring)
    description = f"{base.description} (calibrated from measurements of " \
                  f"{meas.measured_on.isoformat()})"
    cat = replace(base, name=meas.name, description=description, rings=tuple(rings),
                  strut_sizes=struts, source="", warnings=())
    return Calibration(cat, base, tuple(numbers), tuple(warnings))


def report_lines(cal: Calibration, meas: Measurements) -> list[str]:
    """The fitted numbers beside the base catalogue's, with the change (mm)."""
    count = len(meas.struts) + sum(len(e.distance_mm) for e in meas.rings)
    lines = [f"catalogue {cal.catalogue.name}: {cal.base.name} refined by {count} caliper "
             f"measurements of {meas.measured_on.isoformat()}"]
    width = max([len(n.key) for n in cal.numbers] + [6])
    lines.append(f"{'number':<{width}}  {'base':>8}  {'fitted':>8}  {'change':>8}  "
                 f"{'SE':>6}  {'resid.':>6}  {'n':>3}")
    for n in cal.numbers:
        lines.append(f"{n.key:<{width}}  {n.base_value:8.3f}  {n.value:8.3f}  "
                     f"{n.value - n.base_value:+8.3f}  {n.fit.standard_error_mm:6.3f}  "
                     f"{n.fit.residual_mm:6.3f}  {n.fit.count:>3}")
    lines.append("mm; SE = standard error of the fitted number; resid. = root-mean-square "
                 "residual of its measurements")
    return lines


def header_lines(cal: Calibration, meas: Measurements) -> list[str]:
    """Comment lines for the top of the written catalogue file."""
    return [f"Hardware catalogue {cal.catalogue.name!r}: catalogue {cal.base.name!r} with "
            f"{len(cal.numbers)} number(s)",
            f"fitted by hexapod calibrate to the measurements in {Path(meas.source).name} "
            f"of {meas.measured_on.isoformat()} (provenance \"measured\").",
            "Every other number keeps the base catalogue's provenance: CHECK IT against your "
            "own hardware."]


def quantity_line(key: str, q: Quantity) -> str:
    """One catalogue number with its provenance and, for measured numbers, the date, count,
    residual and standard error."""
    line = f"{key} = {q.value}  [{q.provenance}"
    extra = []
    if q.measured_on is not None:
        extra.append(f"on {q.measured_on.isoformat()}")
    if q.count is not None:
        extra.append(f"n={q.count}")
    if q.residual_mm is not None:
        extra.append(f"residual {q.residual_mm:g} mm")
    if q.standard_error_mm is not None:
        extra.append(f"SE {q.standard_error_mm:g} mm")
    if extra:
        line += " " + ", ".join(extra)
    return f"{line}] {q.note}".rstrip()
