"""The correction still to do, in the case's own clinical words (outputs layer).

Turns the signed parameters of :mod:`hexapod.readback` into the words and signs of the case
file (contract section 2): "3.2° varus (AP view), 1.0° apex anterior (lateral view), ...".
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from hexapod.anatomy import signed_parameters, true_angulation
from hexapod.case import Mounting
from hexapod.errors import InputError

#: Per signed parameter (order of :mod:`hexapod.readback`): case-file key stem, unit key,
#: word for +, word for -, unit as printed, view label.
_PARAMETERS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("ap_angulation", "deg", "varus", "valgus", "°", "(AP view)"),
    ("lat_angulation", "deg", "apex_posterior", "apex_anterior", "°", "(lateral view)"),
    ("axial_rotation", "deg", "internal", "external", "°", "rotation"),
    ("ap_translation", "mm", "medial", "lateral", " mm", "(AP view)"),
    ("lat_translation", "mm", "anterior", "posterior", " mm", "(lateral view)"),
    ("axial_translation", "mm", "short", "long", " mm", "axial"),
)

#: The order the case file and ``hexapod check`` list the parameters in.
_PRINT_ORDER = (0, 1, 3, 4, 2, 5)


def _check(signed: ArrayLike) -> np.ndarray:
    values = np.asarray(signed, dtype=float)
    if values.shape != (6,) or not np.all(np.isfinite(values)):
        raise InputError(f"expected six finite signed parameters, got {values!r}")
    return values


def case_keys(signed: ArrayLike, decimals: int = 1) -> dict[str, Any]:
    """The six signed parameters as case-file ``[deformity]`` keys: magnitude and direction
    word, rounded to ``decimals``; a magnitude that rounds to 0 gets no direction."""
    values = _check(signed)
    out: dict[str, Any] = {}
    for i in _PRINT_ORDER:
        stem, unit, plus, minus, _, _ = _PARAMETERS[i]
        magnitude = round(abs(float(values[i])), decimals)
        out[f"{stem}_{unit}"] = magnitude
        out[f"{stem}_dir"] = (plus if values[i] > 0 else minus) if magnitude else None
    return out


def parameter_words(signed: ArrayLike) -> list[str]:
    """Each parameter in words, in the case file's order, e.g. ``"3.2° varus (AP view)"``,
    ``"0.0° rotation"``; one decimal."""
    values = _check(signed)
    words = []
    for i in _PRINT_ORDER:
        _, _, plus, minus, unit, label = _PARAMETERS[i]
        magnitude = abs(float(values[i]))
        if round(magnitude, 1) == 0:
            words.append(f"0.0{unit} {label}")
        else:
            word = (plus if values[i] > 0 else minus).replace("_", " ")
            words.append(f"{magnitude:.1f}{unit} {word} {label}")
    return words


def remaining_lines(remaining: Any, case: Any) -> list[str]:
    """What ``hexapod pose CASE`` prints about the correction still to do.

    Parameters
    ----------
    remaining : hexapod.readback.Remaining
    case : hexapod.case.Case
        The case whose mounting and X-ray measurements the reading assumes.
    """
    signed = _check(remaining.signed)
    true, plane = true_angulation(float(signed[0]), float(signed[1]))
    lines = [
        f"{case.patient.side} {case.patient.bone or 'limb'}, {case.frame.reference} reference: "
        "the frame read with the case's mounting",
        "correction still to do (distal fragment relative to proximal): "
        + ", ".join(parameter_words(signed)),
        f"true angulation {true:.1f}°"
        + (f", plane of deformity {plane:.0f}° from the coronal plane" if round(true, 1) else ""),
    ]
    at_start = signed_parameters(case.deformity, Mounting())[:6]
    lines.append("at the start of correction (the case file): "
                 + ", ".join(parameter_words(at_start)))
    if remaining.extra_lengthening_mm:
        lines.insert(1, "deformity now, as X-rays would show it (distal fragment relative to "
                     "proximal): " + ", ".join(parameter_words(remaining.deformity_now)))
        lines.append(f"the correction still to do is measured to the planned end, which adds "
                     f"{remaining.extra_lengthening_mm:g} mm of extra lengthening to the "
                     "deformity")
    angles, lengths = np.abs(signed[:3]), np.abs(signed[3:])
    if np.all(np.round(angles, 1) == 0) and np.all(np.round(lengths, 1) == 0):
        lines.append("nothing left to correct: the frame is at the planned end of correction")
    lines.append("this assumes the mounting and X-ray measurements of the case file; "
                 "confirm on new X-rays")
    return lines
