"""PDF sheets and plots: page count, the readings in the text, deterministic bytes, no
overwriting; rendered through the command line as a user would."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hexapod.clinical import build_plan_input
from hexapod.io import plots, sheets
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.planning import plan
from hexapod_cli.main import main

pypdf = pytest.importorskip("pypdf")
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def staged_plan():  # type: ignore[no-untyped-def]
    case = read_case(ROOT / "sample_cases/staged_lengthen_first.toml")
    return plan(build_plan_input(case, load_catalogue()))


def test_sheet_pages_text_and_determinism(staged_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = sheets.write_sheet(staged_plan, tmp_path / "a.pdf")
    second = sheets.write_sheet(staged_plan, tmp_path / "b.pdf", paper="a4")
    assert first.read_bytes() == second.read_bytes()
    reader = pypdf.PdfReader(str(first))
    expected_pages = 3 + len(sheets._paginate(staged_plan))  # summary, 2 plots, sheets
    assert len(reader.pages) == expected_pages >= 5
    summary = reader.pages[0].extract_text()
    assert "Surgeon summary" in summary and "max_reading_mm" in summary
    first_sheet = reader.pages[3].extract_text()
    last_sheet = reader.pages[-1].extract_text()
    for value in staged_plan.readings_mm[0]:
        assert f"{value:g}" in first_sheet
    for value in staged_plan.readings_mm[-1]:
        assert f"{value:g}" in last_sheet
    assert "Strut 1" in first_sheet and "RED" in first_sheet  # colour names, not only colours
    assert "STRUT SWAP" in "".join(p.extract_text() for p in reader.pages)


def test_letter_paper_size(staged_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = sheets.write_sheet(staged_plan, tmp_path / "l.pdf", paper="letter")
    box = pypdf.PdfReader(str(path)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_sheet_not_overwritten(staged_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "s.pdf"
    target.write_text("mine")
    with pytest.raises(Exception, match="--force"):
        sheets.write_sheet(staged_plan, target)
    assert target.read_text() == "mine"


def test_plots_written_as_png_and_pdf(staged_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    written = plots.write_plots(staged_plan, tmp_path / "figs")
    names = sorted(p.name for p in written)
    assert names == sorted(f"{n}.{e}" for n in plots.PLOTS for e in ("png", "pdf"))
    for path in written:
        head = path.read_bytes()[:8]
        assert head.startswith(b"\x89PNG") or head.startswith(b"%PDF")
    with pytest.raises(Exception, match="--force"):
        plots.write_plots(staged_plan, tmp_path / "figs")


def test_cli_sheet_and_plots(tmp_path: Path) -> None:
    runner = CliRunner()
    sheet = tmp_path / "sheet.pdf"
    result = runner.invoke(main, ["plan", str(ROOT / "sample_cases/right_tibia_chronic.toml"),
                                  "--sheet", str(sheet), "--plots", str(tmp_path / "p"),
                                  "--paper", "letter"])
    assert result.exit_code == 0, result.output
    assert sheet.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "p" / "xray.png").exists()
    again = runner.invoke(main, ["plan", str(ROOT / "sample_cases/right_tibia_chronic.toml"),
                                 "--sheet", str(sheet)])
    assert again.exit_code == 2 and "--force" in again.output


HOSTILE_NAME = "Smith $5 and $6 $$ \u4e2d\u6587 \u0926\u0947\u0935 " + "W" * 150


@pytest.fixture(scope="module")
def hostile_plan():  # type: ignore[no-untyped-def]
    import dataclasses

    case = read_case(ROOT / "sample_cases/right_tibia_chronic.toml")
    sar = dataclasses.replace(case.structures_at_risk[0], name="nerve $$ \u4e2d")
    case = dataclasses.replace(case, patient=dataclasses.replace(
        case.patient, name=HOSTILE_NAME, bone="tibia $x$"), structures_at_risk=(sar,))
    return plan(build_plan_input(case, load_catalogue()))


def test_hostile_name_prints_literally_and_keeps_the_side(hostile_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import warnings

    said: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = sheets.write_sheet(hostile_plan, tmp_path / "h.pdf", progress=said.append)
    assert not [w for w in caught if "Glyph" in str(w.message)]  # no raw matplotlib warning
    assert said.count(sheets.MISSING_GLYPH_WARNING) == 1
    reader = pypdf.PdfReader(str(path))
    for page in (reader.pages[0], reader.pages[-1]):
        text = page.extract_text()
        assert "Name: Smith $5 and $6 $$ ?? ??? WWW" in text  # dollars literal, no mathtext
        assert "\u2026" in text  # the long name is cut, so the rest of the line shows
        assert "Side: right" in text and "Bone: tibia $x$" in text
    assert "nerve $$ ?" in reader.pages[0].extract_text()


def test_header_line_fits_its_width() -> None:
    for name in ("", "Ann", "W" * 200, "\u4e2d" * 200, "i" * 200):
        line = sheets.header_line(name, "ID-" + "9" * 80, "left", "femur", 180.0)
        assert "Side: left" in line
        assert sheets.text_width_mm(line, 9) <= 180.0
    assert sheets.header_line("Ann", "", "right", "", 180.0) == "Name: Ann   Side: right"
    assert sheets.fit("W" * 100, 20.0, 9).endswith("\u2026")
    assert sheets.text_width_mm(sheets.fit("W" * 100, 20.0, 9), 9) <= 20.0


def test_plots_draw_names_literally_and_warn_once(hostile_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert "$$" in hostile_plan.plan_input.case.structures_at_risk[0].name  # in the legend
    said: list[str] = []
    writers = plots.plot_files(hostile_plan, said.append)
    for name in ("rate.png", "rate.pdf"):
        writers[name](tmp_path / name)
        assert (tmp_path / name).stat().st_size > 1000
    assert len(said) == 1 and "font" in said[0]  # the CJK character, said once


def test_write_plots_is_all_or_nothing(staged_plan, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(plan: object) -> object:
        raise RuntimeError("no")

    monkeypatch.setitem(plots.PLOTS, "xray", broken)
    with pytest.raises(RuntimeError):
        plots.write_plots(staged_plan, tmp_path / "figs")
    assert list(tmp_path.iterdir()) == []
