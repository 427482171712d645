"""Follow-up visits on the command line: ``hexapod pose CASE`` and ``hexapod new --from CASE``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hexapod.clinical import build_plan_input
from hexapod.errors import CaseError
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
SAMPLE = str(ROOT / "sample_cases/right_tibia_chronic.toml")
DISTAL = str(ROOT / "sample_cases/distal_tibia_distal_reference.toml")
SIX = ["150"] * 6


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def plan_rows() -> dict[str, list[list[float]]]:
    """Readings of the first and last rows of the samples' plans (the JSON contract)."""
    out = {}
    for case in (SAMPLE, DISTAL):
        result = CliRunner().invoke(main, ["plan", case, "--format", "json"])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.output)["rows"]
        out[case] = [rows[0]["readings_mm"], rows[-1]["readings_mm"]]
    return out


def words(output: str) -> dict[str, tuple[float, str]]:
    """The 'correction still to do' line as {view or kind: (magnitude, direction word)}."""
    line = next(x for x in output.splitlines() if x.startswith("correction still to do"))
    found = {}
    for value, unit, word, label in re.findall(
            r"(\d+\.\d)(°| mm) ?([a-z ]*?) ?(\(AP view\)|\(lateral view\)|rotation|axial)",
            line.split(": ", 1)[1]):
        found[f"{'angle' if unit == '°' else 'mm'} {label}"] = (float(value), word)
    return found


def test_pose_case_at_the_first_row_gives_back_the_case(runner: CliRunner,
                                                       plan_rows: dict) -> None:
    first, last = plan_rows[SAMPLE]
    result = runner.invoke(main, ["pose", SAMPLE, "--readings", *map(str, first)])
    assert result.exit_code == 0, result.output
    said = words(result.output)
    expected = {"angle (AP view)": (10, "varus"), "angle (lateral view)": (5, "apex anterior"),
                "mm (AP view)": (5, "medial"), "mm (lateral view)": (3, "posterior"),
                "angle rotation": (15, "external"), "mm axial": (10, "short")}
    assert set(said) == set(expected)
    for key, (value, word) in expected.items():
        assert said[key][1] == word, key
        assert abs(said[key][0] - value) <= 0.5, key
    assert "true angulation 11." in result.output
    assert ("at the start of correction (the case file): 10.0° varus (AP view), 5.0° apex "
            "anterior (lateral view)") in result.output
    assert "moving_ring_in_reference_ring =" in result.output  # the ring pose as before
    result = runner.invoke(main, ["pose", SAMPLE, "--readings", *map(str, last)])
    assert result.exit_code == 0
    assert "nothing left to correct" in result.output


def test_pose_case_distal_reference(runner: CliRunner, plan_rows: dict) -> None:
    first, _ = plan_rows[DISTAL]
    result = runner.invoke(main, ["pose", DISTAL, "--readings", *map(str, first)])
    assert result.exit_code == 0, result.output
    said = words(result.output)
    assert said["angle (AP view)"][1] == "valgus" and abs(said["angle (AP view)"][0] - 12) <= 0.5
    assert said["angle (lateral view)"][1] == "apex posterior"
    assert "distal reference" in result.output
    assert "proximal (moving) ring centre in the distal ring frame" in result.output


def test_pose_case_sizes_and_their_offsets(runner: CliRunner, tmp_path: Path,
                                          plan_rows: dict) -> None:
    """--sizes names the fitted sizes, whose reading offsets convert readings to lengths."""
    text = (ROOT / "hexapod/data/tsf-like.toml").read_text()
    text = re.sub(r'(name = "medium"[\s\S]*?reading_to_length_offset_mm = \{ value = )0\.0',
                  r"\g<1>-5.0", text, count=1)
    (tmp_path / "shifted.toml").write_text(text.replace('name = "tsf-like"',
                                                        'name = "shifted"'))
    assert load_catalogue(str(tmp_path / "shifted.toml")).strut_size("medium").offset_mm == -5
    case = tmp_path / "case.toml"
    case.write_text(Path(SAMPLE).read_text().replace('hardware = "tsf-like"',
                                                     'hardware = "shifted.toml"')
                    .replace("neutral_strut_mm = 150", "neutral_strut_mm = 155"))
    first, _ = plan_rows[SAMPLE]  # lengths of the original; on this frame read 5 mm more
    readings = [str(r + 5) for r in first]
    result = runner.invoke(main, ["pose", str(case), "--readings", *readings,
                                  "--sizes", *["medium"] * 6])
    assert result.exit_code == 0, result.output
    said = words(result.output)
    assert said["angle (AP view)"][1] == "varus" and abs(said["angle (AP view)"][0] - 10) <= 0.5
    assert said["mm axial"][1] == "short" and abs(said["mm axial"][0] - 10) <= 0.5
    result = runner.invoke(main, ["pose", str(case), "--readings", *readings,
                                  "--sizes", *["short"] * 6])  # 173 mm on a 90-125 mm scale
    assert result.exit_code == 2 and "outside the short size (90-125 mm)" in result.output


def test_pose_ring_only_form_still_works(runner: CliRunner) -> None:
    result = runner.invoke(main, ["pose", "--proximal-ring", "155", "--distal-ring", "155",
                                  "--reference", "distal", "--readings", *["160"] * 6])
    assert result.exit_code == 0, result.output
    assert "z +138.27 mm" in result.output and "correction still to do" not in result.output


@pytest.mark.parametrize("args, code, text", [
    (["pose", SAMPLE, "--readings", "150", "150", "150", "150", "150"], 2, "6 arguments"),
    (["pose", SAMPLE, "--readings", *SIX, "151"], 2, "unexpected extra argument"),
    (["pose", SAMPLE, "--proximal-ring", "155", "--readings", *SIX], 2, "not both"),
    (["pose", SAMPLE, "--hardware", "tsf-like", "--readings", *SIX], 2, "not both"),
    (["pose", "--readings", *SIX], 2, "--proximal-ring and --distal-ring"),
    (["pose", "--proximal-ring", "155", "--readings", *SIX], 2, "--distal-ring"),
    (["pose", "--proximal-ring", "155", "--distal-ring", "155", "--readings", *SIX,
      "--sizes", *["medium"] * 6], 2, "--sizes needs CASE"),
    (["pose", SAMPLE, "--readings", *SIX, "--sizes", *["huge"] * 6], 2, "huge"),
    (["pose", SAMPLE, "--readings", *["150"] * 5, "900"], 2, "outside every strut size"),
    (["pose", SAMPLE, "--readings", "80", "280", "80", "280", "80", "280"], 1,
     "do not describe a frame"),
    (["pose", "missing.toml", "--readings", *SIX], 2, "does not exist"),
])
def test_pose_errors(runner: CliRunner, args: list[str], code: int, text: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == code, result.output
    assert text in result.output and "Traceback" not in result.output


def fill_deformity(text: str) -> str:
    """Fill the written [deformity] as a surgeon would: 2° varus, the rest 0."""
    text = text.replace('ap_angulation_deg = "?"', "ap_angulation_deg = 2")
    text = text.replace('ap_angulation_dir = "?"', 'ap_angulation_dir = "varus"')
    text = re.sub(r'^(\w+_(?:deg|mm)) = "\?"', r"\1 = 0", text, flags=re.M)
    return re.sub(r'^(\w+_dir) = "\?"', r"# \1", text, flags=re.M)


def test_new_from_writes_a_case_that_loads_once_filled(runner: CliRunner, tmp_path: Path,
                                                       plan_rows: dict) -> None:
    first, _ = plan_rows[SAMPLE]
    visit = [str(r) for r in first]
    out = tmp_path / "visit.toml"
    result = runner.invoke(main, ["new", "--from", SAMPLE, "--readings", *visit,
                                  "--date", "2026-12-12", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "fill [deformity]" in result.output
    text = out.read_text()
    assert "FILL IN from the new X-rays" in text
    with pytest.raises(CaseError, match=r"deformity\.ap_angulation_deg"):
        read_case(out)
    assert runner.invoke(main, ["check", str(out)]).exit_code == 2
    out.write_text(fill_deformity(text))
    case, original = read_case(out), read_case(SAMPLE)
    assert case.mode == "residual" and case.patient == original.patient
    assert case.frame.strut_readings_mm == tuple(first)
    assert case.mounting == original.mounting
    assert case.correction.start_date.isoformat() == "2026-12-12"
    assert case.correction.latency_days == 0
    assert case.correction.rate_mm_per_day == original.correction.rate_mm_per_day
    assert case.correction.adjustments_per_day == original.correction.adjustments_per_day
    assert case.deformity.ap_angulation_deg == 2 and case.deformity.ap_angulation_dir == "varus"
    assert [s.name for s in case.structures_at_risk] == ["peroneal nerve"]
    build_plan_input(case, load_catalogue(case.frame.hardware))
    result = runner.invoke(main, ["check", str(out)])
    assert result.exit_code == 0 and "case is valid" in result.output
    # the prediction comment carries the case's deformity back (first row of its plan)
    assert re.search(r"#   ap_angulation_deg = (9\.[5-9]|10(\.[0-5])?), "
                     r'ap_angulation_dir = "varus"', text)


def test_new_from_never_overwrites_without_force(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "visit.toml"
    out.write_text("keep me")
    args = ["new", "--from", SAMPLE, "--readings", "168", "132", "145", "119", "155", "144",
            "-o", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text() == "keep me"
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0
    assert "mode = \"residual\"" in out.read_text()
    # the positional form writes too, and both at once is refused
    other = tmp_path / "other.toml"
    assert runner.invoke(main, ["new", "--from", SAMPLE, "--readings", *SIX,
                                str(other)]).exit_code == 0
    assert other.is_file()
    assert runner.invoke(main, ["new", str(other), "-o", str(out), "--force"]).exit_code == 2


def test_new_from_to_stdout_and_relative_hardware(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases/my-frame.toml").write_text(
        (ROOT / "hexapod/data/tsf-like.toml").read_text().replace('name = "tsf-like"',
                                                                  'name = "my-frame"'))
    case = tmp_path / "cases/case.toml"
    case.write_text(Path(SAMPLE).read_text().replace('hardware = "tsf-like"',
                                                     'hardware = "my-frame.toml"'))
    result = runner.invoke(main, ["new", "--from", str(case), "--readings", *SIX,
                                  "--date", "2027-01-02"])
    assert result.exit_code == 0, result.output
    assert "start_date = 2027-01-02" in result.output
    hardware = re.search(r'^hardware = "(.+)"', result.output, re.M)
    assert hardware and Path(hardware.group(1)) == (tmp_path / "cases/my-frame.toml").resolve()


@pytest.mark.parametrize("args, text", [
    (["new", "--from", SAMPLE, "--readings", *["150"] * 5], "6 arguments"),
    (["new", "--from", SAMPLE], "--from needs --readings"),
    (["new", "--readings", *SIX], "--readings needs --from CASE"),
    (["new", "--date", "2027-01-01"], "--date needs --from CASE"),
    (["new", "--from", SAMPLE, "--readings", *SIX, "--date", "01/02/2027"], "--date"),
    (["new", "--from", "missing.toml", "--readings", *SIX], "does not exist"),
    (["new", "--from", SAMPLE, "--readings", *SIX, "-o", "/no/such/folder/v.toml"],
     "does not exist"),
])
def test_new_from_errors(runner: CliRunner, args: list[str], text: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert text in result.output and "Traceback" not in result.output


def test_pose_with_extra_lengthening_gives_back_the_case_deformity() -> None:
    # staged sample: 15 mm short, 5 mm extra lengthening; at the plan's first row the deformity
    # now is the case's 15 mm, and the correction still to do adds the 5 mm
    from click.testing import CliRunner

    from hexapod_cli.main import main

    case = str(Path(__file__).parent.parent / "sample_cases" / "staged_lengthen_first.toml")
    result = CliRunner().invoke(main, ["pose", case, "--readings", "165", "141", "131", "134",
                                       "148", "167"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    now = next(line for line in lines if line.startswith("deformity now"))
    todo = next(line for line in lines if line.startswith("correction still to do"))
    short_now = float(now.split(" mm short axial")[0].rsplit(" ", 1)[1])
    short_todo = float(todo.split(" mm short axial")[0].rsplit(" ", 1)[1])
    assert abs(short_now - 15.0) <= 0.5 and abs(short_todo - 20.0) <= 0.5
