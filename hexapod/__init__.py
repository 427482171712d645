"""hexapod: an offline strut calculator for hexapod external fixators.

The package is layered:

1. maths core -- :mod:`hexapod.transforms`, :mod:`hexapod.geometry`,
   :mod:`hexapod.kinematics`, :mod:`hexapod.hardware`, :mod:`hexapod.clinical`,
   :mod:`hexapod.planner`, :mod:`hexapod.sensitivity` (numpy and scipy only);
2. files and outputs -- :mod:`hexapod.io` (case files, catalogues, tables, PDF, plots);
3. the command line -- the separate top-level package ``cli``.

Importing :mod:`hexapod` imports nothing heavier than numpy.
"""

__version__ = "0.1.0"
