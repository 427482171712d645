"""hexapod: an offline strut calculator for hexapod external fixators.

Plan a case in three lines::

    import hexapod
    case = hexapod.load_case("sample_cases/right_tibia_chronic.toml")
    rx = hexapod.plan(case)          # a Plan; an unsafe case raises hexapod.PlanRefused
    rx.readings_mm                   # (n, 6) scale readings, read-only

The package is layered:

1. maths core -- transforms, geometry, kinematics, hardware, the case and its anatomy, the
   planning package and sensitivity (numpy only; typed results, no English);
2. files and outputs -- :mod:`hexapod.io` (case files, catalogues, tables, PDF, plots; every
   sentence is made there; matplotlib imported only for a PDF or a plot);
3. the command line -- the package ``hexapod_cli`` (the repository's ``cli/`` folder).

Importing :mod:`hexapod` imports nothing heavier than numpy.
"""

from hexapod.case import (
    Case,
    CorrectionSettings,
    Deformity,
    FrameSpec,
    Mounting,
    Patient,
    StructureAtRisk,
)
from hexapod.errors import (
    CaseError,
    CatalogueError,
    ConvergenceError,
    GeometryError,
    HexapodError,
    InputError,
    PlanRefused,
    SingularFrameError,
)
from hexapod.findings import Note, RowWarning, Violation
from hexapod.frame import Frame
from hexapod.hardware import Catalogue
from hexapod.io.catalogue_file import load_catalogue
from hexapod.io.loading import load_case
from hexapod.io.messages import note_message, violation_message, warning_message
from hexapod.planning import Plan, Summary, Swap, plan
from hexapod.sensitivity import SensitivityResult, Uncertainty, analyse

__version__ = "0.1.0"

__all__ = [
    "Case",
    "CaseError",
    "Catalogue",
    "CatalogueError",
    "ConvergenceError",
    "CorrectionSettings",
    "Deformity",
    "Frame",
    "FrameSpec",
    "GeometryError",
    "HexapodError",
    "InputError",
    "Mounting",
    "Note",
    "Patient",
    "Plan",
    "PlanRefused",
    "RowWarning",
    "SensitivityResult",
    "SingularFrameError",
    "StructureAtRisk",
    "Summary",
    "Swap",
    "Uncertainty",
    "Violation",
    "__version__",
    "analyse",
    "load_case",
    "load_catalogue",
    "note_message",
    "plan",
    "violation_message",
    "warning_message",
]
