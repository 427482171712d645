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

Importing :mod:`hexapod` is cheap: each public name imports its module on first use, and
nothing heavier than numpy is imported until a PDF or a plot is asked for.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names for type checkers and editors; at run time see __getattr__
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

#: Where each public name lives; imported on first use (PEP 562), so that a command that
#: needs only part of the library (``hexapod plan``) does not pay for the rest at start-up.
_WHERE = {
    "analyse": "hexapod.sensitivity",
    "Case": "hexapod.case",
    "CaseError": "hexapod.errors",
    "Catalogue": "hexapod.hardware",
    "CatalogueError": "hexapod.errors",
    "ConvergenceError": "hexapod.errors",
    "CorrectionSettings": "hexapod.case",
    "Deformity": "hexapod.case",
    "Frame": "hexapod.frame",
    "FrameSpec": "hexapod.case",
    "GeometryError": "hexapod.errors",
    "HexapodError": "hexapod.errors",
    "InputError": "hexapod.errors",
    "load_case": "hexapod.io.loading",
    "load_catalogue": "hexapod.io.catalogue_file",
    "Mounting": "hexapod.case",
    "Note": "hexapod.findings",
    "note_message": "hexapod.io.messages",
    "Patient": "hexapod.case",
    "Plan": "hexapod.planning",
    "plan": "hexapod.planning",
    "PlanRefused": "hexapod.errors",
    "RowWarning": "hexapod.findings",
    "SensitivityResult": "hexapod.sensitivity",
    "SingularFrameError": "hexapod.errors",
    "StructureAtRisk": "hexapod.case",
    "Summary": "hexapod.planning",
    "Swap": "hexapod.planning",
    "Uncertainty": "hexapod.sensitivity",
    "Violation": "hexapod.findings",
    "violation_message": "hexapod.io.messages",
    "warning_message": "hexapod.io.messages",
}

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


if not TYPE_CHECKING:  # type checkers see the imports above, and report a misspelt name

    def __getattr__(name: str) -> object:
        """Import a public name's module, or a submodule (``hexapod.kinematics``), on first
        use (PEP 562) and keep it here."""
        import importlib.util

        module = _WHERE.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif (name.isidentifier() and not name.startswith("__")
              and importlib.util.find_spec(f"{__name__}.{name}") is not None):
            value = importlib.import_module(f"{__name__}.{name}")
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        """The public names (``__all__``) with the module's own attributes."""
        return sorted(set(globals()) | set(__all__))
