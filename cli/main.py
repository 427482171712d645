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
from hexapod.errors import InputError
from hexapod_cli.errors import BadInputError, HexapodGroup, UnsafePlanError, domain_errors
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
    from hexapod.clinical import build_plan_input
    from hexapod.io.case_file import read_case
    from hexapod.io.catalogue_file import load_catalogue

    case = read_case(case_path)
    hardware = case.frame.hardware
    if hardware not in ("tsf-like",) and not Path(hardware).is_absolute():
        candidate = case_path.parent / hardware
        if candidate.is_file():
            hardware = str(candidate)
    catalogue = load_catalogue(hardware)
    return build_plan_input(case, catalogue)


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


@main.command(epilog=EPILOG_PLAN)
@case_argument
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Prescription format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), callback=output_path,
              help="Write the prescription here instead of stdout.")
@click.option("--sheet", type=click.Path(dir_okay=False), callback=output_path,
              help="Write the patient sheet and surgeon summary (PDF) here.")
@click.option("--plots", type=click.Path(file_okay=False), callback=output_path,
              help="Write plots (PNG and PDF) into this folder (created if missing).")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size of the PDF sheet.")
@force_option
@domain_errors
def plan(case: Path, fmt: str, output: Path | None, sheet: Path | None, plots: Path | None,
         paper: str, force: bool) -> None:
    """Plan the correction of CASE and print the prescription.

    The output files are written all or none: every target is checked first, everything is
    drawn into temporary files beside the targets, then all are renamed into place.
    """
    from hexapod.io import outputs
    from hexapod.io.files import OutputTransaction
    from hexapod.planner import neutral_strut_note
    from hexapod.planner import plan as make_plan

    _distinct_targets(output, sheet, plots)
    with OutputTransaction(force) as out:
        if output is not None:
            out.add_file(output, "prescription")
        if sheet is not None:
            out.add_file(sheet, "sheet")
        if plots is not None:
            from hexapod.io import plots as plotting

            out.add_folder(plots, plotting.plot_file_names())
        plan_input = _load(case)
        check_strut_sizes(plan_input.case, plan_input.catalogue)
        result = make_plan(plan_input)
        notes: list[str] = []
        if fmt != "csv" or sheet is not None:  # only the outputs that print notes need it
            note = neutral_strut_note(plan_input, result)
            notes = [note] if note else []
        if fmt == "json":
            text = outputs.plan_to_json(result, notes)
        elif fmt == "csv":
            text = outputs.plan_to_csv(result)
        else:
            text = outputs.plan_to_table(result, notes)
        _stage_plan_outputs(out, result, text, output, sheet, plots, paper, notes)
    if output is None:
        click.echo(text, nl=False)
    for target in (output, sheet):
        if target is not None:
            _echo_err(f"wrote {target}")
    if plots is not None:
        _echo_err(f"wrote {len(plotting.plot_file_names())} plot files to {plots}")


def _distinct_targets(*targets: Path | None) -> None:
    given = [t for t in targets if t is not None]
    resolved = [t.resolve() for t in given]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise InputError(f"{given[i]} is given as two outputs; give each its own path")


def _stage_plan_outputs(out: Any, result: Any, text: str, output: Path | None,
                        sheet: Path | None, plots: Path | None, paper: str,
                        notes: list[str]) -> None:
    """Draw every output of ``plan`` into the transaction's temporary files."""
    if output is not None:
        out.stage_file(output, text)
    if sheet is not None:
        from hexapod.io import sheets

        def render(tmp: Path) -> None:
            sheets.render_sheet(result, tmp, paper, _echo_err, notes)

        out.stage_file(sheet, render)
    if plots is not None:
        from hexapod.io import plots as plotting

        out.stage_folder(plots, dict(plotting.plot_files(result, _echo_err)))


@main.command()
@case_argument
@domain_errors
def check(case: Path) -> None:
    """Validate CASE and say in words what was understood.

    \b
    Example:
      hexapod check sample_cases/left_tibia_chronic.toml
    """
    from hexapod.io.words import describe_deformity

    plan_input = _load(case)
    check_strut_sizes(plan_input.case, plan_input.catalogue)
    for line in describe_deformity(plan_input.case):
        click.echo(line)
    for note in plan_input.notes:
        click.echo(note)
    click.echo("case is valid")


@main.command()
@click.argument("output", required=False, type=click.Path(dir_okay=False),
                callback=output_path)
@force_option
@domain_errors
def new(output: Path | None, force: bool) -> None:
    """Write a commented template case file to OUTPUT (or stdout).

    \b
    Example:
      hexapod new my_case.toml
    """
    from hexapod.io.outputs import write_output

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
    from hexapod.io.catalogue_file import load_catalogue

    cat = load_catalogue(name)
    click.echo(f"catalogue {cat.name}: {cat.description}")
    click.echo("provenance: source = cited public source; weak = non-authoritative source; "
               "unverified = believed, not confirmed; derived; default = project choice")
    click.echo("CHECK EVERY NUMBER AGAINST YOUR OWN HARDWARE.")
    rings = ", ".join(f"{r.diameter_mm:g} ({r.size_mm.provenance})" for r in cat.rings)
    click.echo(f"rings (inner diameter, mm): {rings}")
    for size in cat.strut_sizes:
        click.echo(f"strut {size.name:<8} {size.min_mm:g}-{size.max_mm:g} mm "
                   f"({size.min_reading_mm.provenance}), step {size.increment_mm:g} mm, "
                   f"reading offset {size.offset_mm:g} mm")
    click.echo("")
    for key, q in cat.quantities():
        click.echo(f"{key} = {q.value}  [{q.provenance}] {q.note}")
    for warning in cat.warnings:
        click.echo(f"warning: {warning}")


@main.command()
@case_argument
@domain_errors
def lengths(case: Path) -> None:
    """Strut lengths and readings of CASE's frame at the start and at the target.

    \b
    Example:
      hexapod lengths sample_cases/total_residual.toml
    """
    from hexapod import kinematics as kin

    plan_input = _load(case)
    geo = plan_input.geometry
    colours = plan_input.catalogue.colour_names
    click.echo("strut  colour   start (mm)  target (mm)")
    start = kin.strut_lengths(geo.reference_joints, geo.moving_joints, plan_input.start_pose)
    target = kin.strut_lengths(geo.reference_joints, geo.moving_joints, plan_input.target_pose)
    for i in range(6):
        click.echo(f"{i + 1:>5}  {colours[i]:<7}  {start[i]:>10.2f}  {target[i]:>11.2f}")
    click.echo("joint-centre distances; readings = distance - the strut size's reading offset")


@main.command()
@hardware_options
@click.option("--readings", type=RING_MM, nargs=6, required=True,
              help="The six scale readings, struts 1..6 (mm).")
@domain_errors
def pose(hardware: str, proximal_ring: float, distal_ring: float, reference: str,
         readings: tuple[float, ...]) -> None:
    """Where the moving ring is, given six strut readings (forward kinematics).

    \b
    Example:
      hexapod pose --proximal-ring 155 --distal-ring 155 --readings 150 152 149 151 150 150
    """
    import numpy as np

    from hexapod import kinematics as kin
    from hexapod.clinical import reading_to_length
    from hexapod.io.catalogue_file import load_catalogue
    from hexapod.io.outputs import pose_lines

    cat = load_catalogue(hardware)
    geo = cat.frame_geometry(proximal_ring, distal_ring, reference)  # type: ignore[arg-type]
    lens = np.array([reading_to_length(cat, r) for r in readings])
    solved = kin.solve_pose(geo.reference_joints, geo.moving_joints, lens,
                            moving_side=geo.moving_side)
    for line in pose_lines(solved, geo):
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
