"""A hexapod frame: joint centres, strut-size rules and kinematics in one object (maths core).

``Frame`` owns what a set of strut lengths means for one frame: the joint centres of its two
rings (which one is the reference, so which side the moving ring is on), the strut-size
table (reading <-> joint-centre distance per size) and the kinematics between poses
``moving_in_reference`` (4x4, mm) and joint-centre distances (mm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hexapod import kinematics as kin
from hexapod.errors import InputError
from hexapod.geometry import FrameGeometry, Reference

if TYPE_CHECKING:
    from hexapod.case import Case
    from hexapod.hardware import Catalogue

Array = NDArray[np.float64]
SizeSpec = int | str | Sequence[int | str] | NDArray[np.integer]


def _read_only(values: ArrayLike, shape: tuple[int, ...] | None, name: str) -> Array:
    arr = np.array(values, dtype=float, copy=True)
    if shape is not None and arr.shape != shape:
        raise InputError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Frame(FrameGeometry):
    """A hexapod frame: two rings' joint centres and the strut sizes that join them.

    A :class:`~hexapod.geometry.FrameGeometry` (the joints, the neutral frame, which side the
    moving ring is on) with the strut-size table and the kinematics.

    Attributes
    ----------
    reference_joints : ndarray, shape (6, 3)
        Joint centres on the reference ring, in the reference-ring frame (mm), strut order.
    moving_joints : ndarray, shape (6, 3)
        Joint centres on the moving ring, in the moving-ring frame (mm), strut order.
    reference : {"proximal", "distal"}
        Which ring is the reference. The moving ring lies along -z of a proximal reference
        ring and along +z of a distal one; :meth:`solve_pose` starts on that side.
    min_reading_mm, max_reading_mm, increment_mm, offset_mm : ndarray, shape (sizes,)
        Per strut size (shortest first): scale range, scale step, and the offset with
        joint-centre distance = reading + offset (mm). Empty for a frame without sizes.
    size_names : tuple of str
        Name of each strut size.
    """

    min_reading_mm: Array = field(default_factory=lambda: np.zeros(0))
    max_reading_mm: Array = field(default_factory=lambda: np.zeros(0))
    increment_mm: Array = field(default_factory=lambda: np.zeros(0))
    offset_mm: Array = field(default_factory=lambda: np.zeros(0))
    size_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        count = len(self.size_names)
        for name in ("min_reading_mm", "max_reading_mm", "increment_mm", "offset_mm"):
            object.__setattr__(self, name, _read_only(getattr(self, name), (count,), name))
        object.__setattr__(self, "size_names", tuple(str(s) for s in self.size_names))
        if len(set(self.size_names)) != count:
            raise InputError("strut size names must be unique")
        if np.any(self.min_reading_mm > self.max_reading_mm):
            raise InputError("a strut size has min_reading_mm > max_reading_mm")
        if np.any(self.increment_mm <= 0):
            raise InputError("strut size increments must be > 0 mm")

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue, proximal_ring_mm: float,
                       distal_ring_mm: float, reference: Reference = "proximal") -> Frame:
        """The frame of two catalogue rings (inner diameters, mm) and the catalogue's struts."""
        geometry = catalogue.frame_geometry(proximal_ring_mm, distal_ring_mm, reference)
        low, high, increment, offset = catalogue.range_table()
        return cls(geometry.reference_joints, geometry.moving_joints, geometry.reference,
                   low, high, increment, offset, tuple(s.name for s in catalogue.strut_sizes))

    @classmethod
    def from_case(cls, case: Case) -> Frame:
        """The frame of a case: its two rings, its reference and its catalogue's struts
        (``case.catalogue``, attached by :func:`hexapod.load_case`)."""
        if case.catalogue is None:
            raise InputError("case.catalogue is missing: load the case with hexapod.load_case, "
                             "or attach one with dataclasses.replace(case, catalogue=...)")
        spec = case.frame
        return cls.from_catalogue(case.catalogue, spec.proximal_ring_mm, spec.distal_ring_mm,
                                  spec.reference)

    # --- geometry ------------------------------------------------------------------------
    @property
    def geometry(self) -> FrameGeometry:
        """The joint centres alone, as a :class:`~hexapod.geometry.FrameGeometry`."""
        return FrameGeometry(self.reference_joints, self.moving_joints, self.reference)

    # --- kinematics ----------------------------------------------------------------------
    def strut_lengths(self, poses: ArrayLike, *, check: bool = True) -> Array:
        """Inverse kinematics: joint-centre distances (mm) ``(..., 6)`` for poses
        ``moving_in_reference`` ``(..., 4, 4)`` (see :func:`hexapod.kinematics.strut_lengths`)."""
        return kin.strut_lengths(self.reference_joints, self.moving_joints, poses, check=check)

    def solve_pose(self, lengths: ArrayLike, guess: ArrayLike | None = None, *,
                   tolerance_mm: float = 1e-10, max_iterations: int = 60,
                   max_condition: float | None = kin.NUMERICAL_CONDITION_LIMIT) -> Array:
        """Forward kinematics: poses ``moving_in_reference`` ``(..., 4, 4)`` for joint-centre
        distances ``(..., 6)`` (mm). Without a guess, Newton starts from the neutral frame on
        the moving ring's side of this frame (a distal-reference frame returns the moving
        ring above the reference ring). Raises like :func:`hexapod.kinematics.solve_pose`."""
        return kin.solve_pose(self.reference_joints, self.moving_joints, lengths, guess,
                              tolerance_mm=tolerance_mm, max_iterations=max_iterations,
                              max_condition=max_condition, moving_side=self.moving_side)

    def solve_pose_status(self, lengths: ArrayLike, guess: ArrayLike | None = None, *,
                          tolerance_mm: float = 1e-10, max_iterations: int = 60
                          ) -> kin.FKResult:
        """Forward kinematics with a status per pose (:class:`hexapod.kinematics.FKResult`);
        the default guess is on this frame's moving side, as in :meth:`solve_pose`."""
        return kin.solve_pose_status(self.reference_joints, self.moving_joints, lengths, guess,
                                     tolerance_mm=tolerance_mm, max_iterations=max_iterations,
                                     moving_side=self.moving_side)

    def jacobian(self, poses: ArrayLike) -> Array:
        """d(lengths)/d(spatial twist ``[dt mm, dw rad]``) at poses, shape (..., 6, 6)."""
        return kin.jacobian(self.reference_joints, self.moving_joints, poses)

    def condition_number(self, poses: ArrayLike) -> Array:
        """Condition number of the Jacobian, rotations scaled by :attr:`length_scale_mm`."""
        return kin.condition_number(self.reference_joints, self.moving_joints, poses)

    # --- strut sizes ---------------------------------------------------------------------
    def size_index(self, sizes: SizeSpec) -> NDArray[np.intp]:
        """Strut-size indices from indices or names (any shape); InputError if unknown."""
        if not self.size_names:
            raise InputError("this frame has no strut-size table")
        arr = np.asarray(sizes, dtype=object)
        flat = [self._one_index(s) for s in arr.reshape(-1)]
        return np.asarray(flat, dtype=np.intp).reshape(arr.shape)

    def _one_index(self, size: object) -> int:
        if isinstance(size, str):
            if size not in self.size_names:
                raise InputError(f"strut size {size!r} is unknown "
                                 f"(allowed: {', '.join(self.size_names)})")
            return self.size_names.index(size)
        if isinstance(size, bool) or not isinstance(size, int | np.integer):
            raise InputError(f"strut size must be a name or an index, got {size!r}")
        if not 0 <= int(size) < len(self.size_names):
            raise InputError(f"strut size index {size} is outside 0..{len(self.size_names) - 1}")
        return int(size)

    def reading_to_length(self, readings_mm: ArrayLike, sizes: SizeSpec) -> Array:
        """Joint-centre distances (mm) for scale readings (mm) of struts of the given sizes
        (index or name, broadcast against the readings): ``reading + offset``."""
        offset = self.offset_mm[self.size_index(sizes)]
        return np.asarray(np.asarray(readings_mm, dtype=float) + offset, dtype=float)

    def length_to_reading(self, lengths_mm: ArrayLike, sizes: SizeSpec) -> Array:
        """Scale readings (mm) for joint-centre distances (mm), the inverse of
        :meth:`reading_to_length`."""
        offset = self.offset_mm[self.size_index(sizes)]
        return np.asarray(np.asarray(lengths_mm, dtype=float) - offset, dtype=float)
