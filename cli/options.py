"""Option types and parsers of the command line: finite bounded numbers, non-empty output
paths, and standard-deviation pairs with their units."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hexapod import policy
from hexapod.errors import InputError


class FiniteFloat(click.FloatRange):
    """A float within a range that is also finite (click's FloatRange lets NaN through)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """An output path option: refused when empty (it would name the current folder)."""
    if value is None:
        return None
    if value == "" or not value.strip():
        raise click.BadParameter("the path is empty", ctx, param)
    if "\0" in value:
        raise click.BadParameter("the path holds a NUL character", ctx, param)
    return Path(value)


RING_MM = FiniteFloat(0, policy.MAX_FRAME_MM, min_open=True)


#: Suffixes accepted for each unit of a standard deviation (a bare number is in that unit).
UNIT_SUFFIXES = {"mm": ("mm",), "deg": ("deg", "°")}
SD_LIMITS = {"mm": policy.MAX_SD_MM, "deg": policy.MAX_SD_DEG}


def parse_sd_pair(text: str, first: str, second: str, option: str) -> tuple[float, float]:
    """Parse ``"2mm,2deg"`` into two numbers in the units named (in that order).

    Each value may carry its own unit (``mm``; ``deg`` or ``°``) or none; a unit that does not
    belong at its place (``2°,2°`` where mm come first) is refused, never read as the other.
    """
    parts = [p.strip().lower() for p in text.split(",")]
    if len(parts) != 2:
        raise InputError(f"takes two values like 2{first},2{second}; got {text!r}", option)
    values = []
    for part, unit in zip(parts, (first, second), strict=True):
        number = part
        for suffix in UNIT_SUFFIXES[unit]:
            number = number.removesuffix(suffix)
        try:
            value = float(number.strip())
        except ValueError:
            raise InputError(f"{part!r} is not a number of {unit} (give them in the order "
                             f"{first},{second})", option) from None
        if not math.isfinite(value) or not 0 <= value <= SD_LIMITS[unit]:
            raise InputError(f"{part!r} must be a number of {unit} from 0 to "
                             f"{SD_LIMITS[unit]:g}", option)
        values.append(value)
    return values[0], values[1]


def sd_option(first: str, second: str) -> Callable[[click.Context, click.Parameter, str],
                                                    tuple[float, float]]:
    def callback(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, float]:
        try:
            return parse_sd_pair(value, first, second, param.opts[-1])
        except InputError as exc:
            raise click.BadParameter(exc.message, ctx, param) from None
    return callback
