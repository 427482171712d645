"""Shared fixtures: the spec's example frame and random pose generators."""

from __future__ import annotations

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.geometry import FrameGeometry, ring_joints
from hexapod.hardware import Catalogue

PROX_CENTRES = [90, 90, 210, 210, 330, 330]
PROX_SIDES = [-1, 1, -1, 1, -1, 1]
DIST_CENTRES = [30, 150, 150, 270, 270, 30]
DIST_SIDES = [1, -1, 1, -1, 1, -1]


def spec_frame(rp: float = 100.0, rd: float = 100.0, half_spread_deg: float = 15.0,
               reference: str = "proximal") -> FrameGeometry:
    """The domain notes' example: joint radii rp, rd, pair half-spread 15 degrees."""
    half = np.radians(half_spread_deg)
    prox = ring_joints(rp, 2 * rp * np.sin(half), PROX_CENTRES, PROX_SIDES)
    dist = ring_joints(rd, 2 * rd * np.sin(half), DIST_CENTRES, DIST_SIDES)
    return FrameGeometry.from_rings(prox, dist, reference)  # type: ignore[arg-type]


def random_poses(rng: np.random.Generator, shape: tuple[int, ...], height: float = 150.0,
                 angle_deg: float = 8.0, shift_mm: float = 8.0, side: float = -1.0) -> np.ndarray:
    """Reachable poses near the neutral frame: normal tilts and shifts."""
    rotvec = rng.normal(size=(*shape, 3)) * np.radians(angle_deg)
    trans = rng.normal(size=(*shape, 3)) * shift_mm + np.array([0.0, 0.0, side * height])
    return tf.from_rotation_translation(tf.rotation_from_rotvec(rotvec), trans)


@pytest.fixture
def frame() -> FrameGeometry:
    return spec_frame()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def catalogue_with_offsets(offsets: tuple[float, ...] | list[float],
                           ranges: list[tuple[float, float]] | None = None,
                           limits: dict[str, float] | None = None) -> Catalogue:
    """The bundled catalogue with these reading-to-length offsets (mm) of its four strut
    sizes, measured, and optionally other reading ranges (min, max) of them and other
    values of some limits."""
    import tomllib
    from importlib import resources

    from hexapod.io.catalogue_file import parse_catalogue

    text = resources.files("hexapod").joinpath("data/tsf-like.toml").read_text("utf-8")
    data = tomllib.loads(text)
    for i, size in enumerate(data["strut_sizes"]):
        size["reading_to_length_offset_mm"] = {"value": float(offsets[i]),
                                               "provenance": "measured"}
        if ranges is not None:
            size["min_reading_mm"]["value"], size["max_reading_mm"]["value"] = ranges[i]
    for name, value in (limits or {}).items():
        data["limits"][name]["value"] = value
    return parse_catalogue(data, "offsets.toml")
