"""Shared fixtures: the spec's example frame and random pose generators."""

from __future__ import annotations

import numpy as np
import pytest

from hexapod import transforms as tf
from hexapod.geometry import FrameGeometry, ring_joints

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
