"""The ``hexapod`` command line: parse, call the library, print, map errors to exit codes.

Exit codes (contract section 5): 0 ok; 1 the case cannot be planned safely; 2 bad input or
usage; 3 an internal error (a bug: one line asking for a report, the traceback only with
``--debug``). Results go to stdout, messages to stderr; a command's output files are written
all or none, atomically, never over an existing file without ``--force``, and only regular
files are ever replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from hexapod import __version__, policy
from hexapod.errors import InputError, PlanRefused
from hexapod_cli.calibrate import calibrate
from hexapod_cli.errors import BadInputError, HexapodGroup, UnsafePlanError, domain_errors
from hexapod_cli.followup import resume_command
from hexapod_cli.options import RING_MM, FiniteFloat, output_path, parse_sd_pair, sd_option

__all__ = ["BadInputError", "UnsafePlanError", "domain_errors", "main", "parse_sd_pair"]

F = TypeVar("F", bound=Callable[..., Any])


def force_option(func: F) -> F:
    return click.option("--force", is_flag=True,
                        help="Replace output files that already exist.")(func)


def case_argument(func: F) -> F:
    return click.argument("case", type=click.Path(dir_okay=False, path_type=Path))(func)


def hardware_options(func: F) -> F:
    func = click.option("--reference", type=click.Choice(["proximal", "distal"]),
                        default="proximal", show_default=True,
                        help="The ring that stays still.")(func)
    func = click.option("--distal-ring", type=RING_MM, required=True,
                        help="Distal ring size (inner diameter, mm).")(func)
    func = click.option("--proximal-ring", type=RING_MM, required=True,
                        help="Proximal ring size (inner diameter, mm).")(func)
    func = click.option("--hardware", default="tsf-like", show_default=True,
                        help="Catalogue name or path of a catalogue file.")(func)
    return func


def check_strut_sizes(case: Any, catalogue: Any) -> None:
    """Every size named in ``frame.strut_sizes`` is in the catalogue (the key path says
    which)."""
    from hexapod.errors import CaseError

    for i, name in enumerate(case.frame.strut_sizes or ()):
        try:
            catalogue.strut_size(name)
        except InputError as exc:
            raise CaseError(f"frame.strut_sizes[{i}]", str(exc)) from None


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def _load(case_path: Path) -> Any:
    """The case file read, its catalogue resolved, in frames and millimetres."""
    from hexapod.io.loading import load_case
    from hexapod.planning import prepare

    plan_input = prepare(load_case(case_path))
    check_strut_sizes(plan_input.case, plan_input.catalogue)
    return plan_input


EPILOG_PLAN = """\b
Examples:
  hexapod plan sample_cases/right_tibia_chronic.toml
  hexapod plan case.toml --format json -o plan.json
  hexapod plan case.toml --sheet sheet.pdf --plots figures/
"""


@click.group(cls=HexapodGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hexapod")
@click.option("--debug", is_flag=True,
              help="On an internal error, print the full traceback.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Strut calculator for hexapod (Taylor-spatial-frame style) external fixators.

    Plans a deformity correction about a virtual hinge, spreads it into daily strut
    adjustments at a safe rate and prints the prescription. Check every hardware number
    against your own frame (hexapod catalogue).

    Exit codes: 0 ok; 1 the case cannot be planned safely; 2 bad input or usage; 3 an
    internal error (please report it).
    """
    ctx.meta["hexapod.debug"] = debug


def plan_output_options(func: F) -> F:
    """The output options of ``plan`` (and of every command that writes a prescription)."""
    func = force_option(func)
    func = click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4",
                        show_default=True, help="Paper size of the PDF sheet.")(func)
    func = click.option("--plots", type=click.Path(file_okay=False), callback=output_path,
                        help="Write plots (PNG and PDF) into this folder (created if "
                        "missing).")(func)
    func = click.option("--sheet", type=click.Path(dir_okay=False), callback=output_path,
                        help="Write the patient sheet and surgeon summary (PDF) here.")(func)
    func = click.option("-o", "--output", type=click.Path(dir_okay=False), callback=output_path,
                        help="Write the prescription here instead of stdout.")(func)
    func = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]),
                        default="table", show_default=True, help="Prescription format.")(func)
    return func


def plan_and_write(load: Callable[[], tuple[Any, dict[str, Any]]], fmt: str,
                   output: Path | None, sheet: Path | None, plots: Path | None, paper: str,
                   force: bool) -> None:
    """Check every output target, then ``load()`` the plan input, plan it and write the
    prescription, sheet and plots all or none (a refusal also as JSON on stdout with
    ``--format json``). ``load`` returns the plan input and the marks of a revised
    prescription (``revision``, ``follow_up``, ``header_lines``; see ``hexapod resume``).

    The output files are written all or none: every target is checked first, everything is
    drawn into temporary files beside the targets, then all are renamed into place.
    """
    from hexapod.io import outputs
    from hexapod.io.files import OutputTransaction
    from hexapod.planning import neutral_strut_advice
    from hexapod.planning import plan as make_plan

    _distinct_targets(output, sheet, plots)
    with OutputTransaction(force) as out:
        if output is not None:
            out.add_file(output, "prescription")
        if sheet is not None:
            out.add_file(sheet, "sheet")
        if plots is not None:
            out.add_folder(plots, _plot_file_names())
        try:
            plan_input, marks = load()
            result = make_plan(plan_input)
        except PlanRefused as exc:
            if fmt == "json":
                click.echo(outputs.refusal_to_json(exc), nl=False)
            raise
        revision = marks.get("revision")
        notes = []
        if fmt != "csv" or sheet is not None:  # only the outputs that print notes need it
            note = neutral_strut_advice(result)
            notes = [note] if note else []
        if fmt == "json":
            text = outputs.plan_to_json(result, notes, revision, marks.get("follow_up"))
        elif fmt == "csv":
            text = outputs.plan_to_csv(result)
        else:
            text = outputs.plan_to_table(result, notes, revision, marks.get("header_lines"))
        _stage_plan_outputs(out, result, text, output, sheet, plots, paper, notes, revision)
    if output is None:
        click.echo(text, nl=False)
    for target in (output, sheet):
        if target is not None:
            _echo_err(f"wrote {target}")
    if plots is not None:
        _echo_err(f"wrote {len(_plot_file_names())} plot files to {plots}")


def _plot_file_names() -> list[str]:
    from hexapod.io import plots as plotting  # only when plots are asked for: start-up

    return list(plotting.plot_file_names())


def _distinct_targets(*targets: Path | None) -> None:
    given = [t for t in targets if t is not None]
    resolved = [t.resolve() for t in given]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise InputError(f"{given[i]} is given as two outputs; give each its own path")


def _stage_plan_outputs(out: Any, result: Any, text: str, output: Path | None,
                        sheet: Path | None, plots: Path | None, paper: str,
                        notes: list[Any], revision: Any = None) -> None:
    """Draw every output of ``plan`` into the transaction's temporary files."""
    if output is not None:
        out.stage_file(output, text)
    if sheet is not None:
        from hexapod.io import sheets

        def render(tmp: Path) -> None:
            sheets.render_sheet(result, tmp, paper, _echo_err, notes, revision=revision)

        out.stage_file(sheet, render)
    if plots is not None:
        from hexapod.io import plots as plotting

        out.stage_folder(plots, dict(plotting.plot_files(result, _echo_err)))


@main.command(epilog=EPILOG_PLAN)
@case_argument
@plan_output_options
@domain_errors
def plan(case: Path, fmt: str, output: Path | None, sheet: Path | None, plots: Path | None,
         paper: str, force: bool) -> None:
    """Plan the correction of CASE and print the prescription."""
    plan_and_write(lambda: (_load(case), {}), fmt, output, sheet, plots, paper, force)


@main.command()
@case_argument
@domain_errors
def check(case: Path) -> None:
    """Validate CASE and say in words what was understood.

    \b
    Example:
      hexapod check sample_cases/left_tibia_chronic.toml
    """
    from hexapod.io.messages import note_message
    from hexapod.io.words import describe_deformity

    plan_input = _load(case)
    for line in describe_deformity(plan_input.case):
        click.echo(line)
    for note in plan_input.notes:
        click.echo(note_message(note))
    click.echo("case is valid")


@main.command()
@click.argument("output", required=False, type=click.Path(dir_okay=False),
                callback=output_path)
@click.option("-o", "--output", "output_option", type=click.Path(dir_okay=False),
              callback=output_path, help="Write the case file here (same as OUTPUT).")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="Follow-up visit: a residual-mode case pre-filled from this case.")
@click.option("--readings", type=RING_MM, nargs=6, default=None,
              help="With --from: the six scale readings at the visit, struts 1..6 (mm).")
@click.option("--sizes", nargs=6, default=None,
              help="With --from: the fitted strut sizes, struts 1..6 (default: the case's).")
@click.option("--date", "visit", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="With --from: start date of the new prescription  [default: today].")
@force_option
@domain_errors
def new(output: Path | None, output_option: Path | None, source: Path | None,
        readings: tuple[float, ...] | None, sizes: tuple[str, ...] | None,
        visit: Any, force: bool) -> None:
    """Write a commented template case file to OUTPUT (or stdout).

    With --from CASE --readings: a residual-mode case for a follow-up visit, pre-filled from
    CASE (patient, frame, sizes, mounting, correction settings, the readings), its deformity
    left to fill from the new X-rays.

    \b
    Examples:
      hexapod new my_case.toml
      hexapod new --from case.toml --readings 161 140 147 133 153 146 -o visit.toml
    """
    from hexapod.io.outputs import write_output

    if output is not None and output_option is not None:
        raise InputError("give the output file once: OUTPUT or -o")
    output = output or output_option
    if source is not None:
        if not readings:
            raise InputError("--from needs --readings r1 ... r6 (the readings at the visit)")
        from hexapod_cli.followup import new_from_case

        new_from_case(source, readings, sizes, visit.date() if visit else None, output, force)
        return
    given = [name for name, value in (("--readings", readings), ("--sizes", sizes),
                                      ("--date", visit)) if value]
    if given:
        raise InputError(f"{', '.join(given)} needs --from CASE")
    text = resources.files("hexapod").joinpath("data/template.toml").read_text("utf-8")
    if output is None:
        click.echo(text, nl=False)
    else:
        write_output(output, text, force)
        _echo_err(f"wrote {output}; edit it, then: hexapod check {output}")


@main.command()
@click.argument("name", default="tsf-like")
@domain_errors
def catalogue(name: str) -> None:
    """Show a hardware catalogue (NAME or path) with the provenance of every number.

    \b
    Example:
      hexapod catalogue tsf-like
    """
    from hexapod.io.calibration_report import quantity_line
    from hexapod.io.catalogue_file import load_catalogue

    cat = load_catalogue(name)
    click.echo(f"catalogue {cat.name}: {cat.description}")
    click.echo("provenance: source = cited public source; weak = non-authoritative source; "
               "unverified = believed, not confirmed; derived; default = project choice; "
               "measured = fitted to caliper measurements (date, count n, residual, standard "
               "error SE)")
    click.echo("CHECK EVERY NUMBER AGAINST YOUR OWN HARDWARE.")
    rings = ", ".join(f"{r.diameter_mm:g} ({r.size_mm.provenance})" for r in cat.rings)
    click.echo(f"rings (inner diameter, mm): {rings}")
    for size in cat.strut_sizes:
        click.echo(f"strut {size.name:<8} {size.min_mm:g}-{size.max_mm:g} mm "
                   f"({size.min_reading_mm.provenance}), step {size.increment_mm:g} mm, "
                   f"reading offset {size.offset_mm:g} mm "
                   f"({size.reading_to_length_offset_mm.provenance})")
    click.echo("")
    for key, q in cat.quantities():
        click.echo(quantity_line(key, q))
    for warning in cat.warnings:
        click.echo(f"warning: {warning}")


@main.command()
@case_argument
@domain_errors
def lengths(case: Path) -> None:
    """Strut readings of CASE at the start and at the target, and the theatre build check:
    what a caliper between each strut's two joint centres should read.

    \b
    Example:
      hexapod lengths sample_cases/total_residual.toml
    """
    from hexapod.io.hardware_text import build_check_lines, provenance_line
    from hexapod.planning import plan as make_plan

    result = make_plan(_load(case), suggest=False)
    for line in build_check_lines(result):
        click.echo(line)
    click.echo(provenance_line(result))


@main.command()
@click.argument("case", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--hardware", default=None,
              help="Without CASE: catalogue name or path  [default: tsf-like].")
@click.option("--proximal-ring", type=RING_MM,
              help="Without CASE: proximal ring size (inner diameter, mm).")
@click.option("--distal-ring", type=RING_MM,
              help="Without CASE: distal ring size (inner diameter, mm).")
@click.option("--reference", type=click.Choice(["proximal", "distal"]), default=None,
              help="Without CASE: the ring that stays still  [default: proximal].")
@click.option("--readings", type=RING_MM, nargs=6, required=True,
              help="The six scale readings, struts 1..6 (mm).")
@click.option("--sizes", nargs=6, default=None,
              help="With CASE: the fitted strut sizes, struts 1..6 (default: the case's).")
@domain_errors
def pose(case: Path | None, hardware: str | None, proximal_ring: float | None,
         distal_ring: float | None, reference: str | None, readings: tuple[float, ...],
         sizes: tuple[str, ...] | None) -> None:
    """Where the moving ring is, given six strut readings (forward kinematics).

    With CASE: also the correction still to do, in the case's own clinical words, under the
    case's mounting (at a follow-up visit).

    \b
    Examples:
      hexapod pose sample_cases/right_tibia_chronic.toml --readings 161 140 147 133 153 146
      hexapod pose --proximal-ring 155 --distal-ring 155 --readings 150 152 149 151 150 150
    """
    if case is not None:
        ring_only = {"--hardware": hardware, "--proximal-ring": proximal_ring,
                     "--distal-ring": distal_ring, "--reference": reference}
        given = [name for name, value in ring_only.items() if value is not None]
        if given:
            raise InputError(f"{', '.join(given)}: the frame comes from CASE; give CASE or "
                             "the rings, not both")
        from hexapod_cli.followup import pose_with_case

        pose_with_case(case, readings, sizes)
        return
    if proximal_ring is None or distal_ring is None:
        raise InputError("give CASE, or --proximal-ring and --distal-ring")
    if sizes:
        raise InputError("--sizes needs CASE")

    import numpy as np

    from hexapod.clinical import reading_to_length
    from hexapod.frame import Frame
    from hexapod.io.catalogue_file import load_catalogue
    from hexapod.io.outputs import pose_lines

    cat = load_catalogue(hardware or "tsf-like")
    frame = Frame.from_catalogue(cat, proximal_ring, distal_ring,
                                 reference or "proximal")  # type: ignore[arg-type]
    lens = np.array([reading_to_length(cat, r) for r in readings])
    solved = frame.solve_pose(lens)
    for line in pose_lines(solved, frame.geometry):
        click.echo(line)


@main.command()
@case_argument
@click.option("--mounting-sd", default="2mm,2deg", show_default=True,
              callback=sd_option("mm", "deg"),
              help="Standard deviation of the mounting offsets (mm) and rotary offset (deg).")
@click.option("--deformity-sd", default="1deg,1mm", show_default=True,
              callback=sd_option("deg", "mm"),
              help="Standard deviation of the X-ray angulations (deg) and translations (mm).")
@click.option("--rotation-sd", default=5.0, show_default=True,
              type=FiniteFloat(0, policy.MAX_SD_DEG),
              help="Standard deviation of the clinically measured axial rotation (deg).")
@click.option("--samples", default=20000, show_default=True, type=click.IntRange(100, 2_000_000),
              help="Monte Carlo samples.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1),
              help="Random seed.")
@click.option("--plot", type=click.Path(dir_okay=False), callback=output_path,
              help="Also write the residual distribution and per-parameter chart (PNG or PDF).")
@force_option
@domain_errors
def sensitivity(case: Path, mounting_sd: tuple[float, float], deformity_sd: tuple[float, float],
                rotation_sd: float, samples: int, seed: int, plot: Path | None,
                force: bool) -> None:
    """Residual deformity to expect from measurement error in CASE's 13 parameters.

    \b
    Example:
      hexapod sensitivity sample_cases/right_tibia_chronic.toml --samples 50000
    """
    from hexapod.io.files import OutputTransaction
    from hexapod.io.outputs import sensitivity_lines
    from hexapod.sensitivity import Uncertainty, analyse

    mm_sd, deg_sd = mounting_sd
    ang_sd, tr_sd = deformity_sd
    unc = Uncertainty(mounting_mm=mm_sd, mounting_deg=deg_sd, angulation_deg=ang_sd,
                      translation_mm=tr_sd, rotation_deg=rotation_sd)
    with OutputTransaction(force) as out:
        if plot is not None:
            out.add_file(plot, "plot")
            if plot.suffix.lower() not in (".png", ".pdf"):
                raise InputError(f"{plot}: plots are written as .png or .pdf", "--plot")
        plan_input = _load(case)
        result = analyse(plan_input, unc, samples=samples, seed=seed)
        if plot is not None:
            from hexapod.io.plots import figure_bytes
            from hexapod.io.plots import sensitivity as sensitivity_figure

            out.stage_file(plot, figure_bytes(sensitivity_figure(result),
                                              plot.suffix.lower().lstrip(".")))
    for line in sensitivity_lines(result):
        click.echo(line)
    if plot is not None:
        _echo_err(f"wrote {plot}")


main.add_command(calibrate)
main.add_command(resume_command(domain_errors, case_argument, plan_output_options))

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
