"""The command line through click's CliRunner: every command and format, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hexapod.errors import InputError
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
SAMPLE = str(ROOT / "sample_cases/right_tibia_chronic.toml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version_and_help(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and "hexapod" in result.output
    for command in ("plan", "check", "new", "catalogue", "lengths", "pose", "sensitivity"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Example" in result.output, f"{command} --help has no example"


def test_plan_table(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plan", SAMPLE])
    assert result.exit_code == 0, result.output
    assert "10 days of correction" in result.output
    assert "1 red" in result.output and "6 purple" in result.output
    assert "peroneal nerve" in result.output


def test_plan_json_matches_contract(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plan", SAMPLE, "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["schema_version"] == 1
    assert set(doc) >= {"case", "geometry", "deformity", "rows", "summary"}
    assert set(doc["geometry"]) >= {"reference_joints_mm", "moving_joints_mm",
                                    "reference_ring_in_anatomy"}
    assert len(doc["deformity"]["distal_in_proximal"]) == 4
    row_keys = {"day", "date", "adjustment", "moving_ring_in_reference_ring",
                "joint_lengths_mm", "readings_mm", "strut_sizes", "swaps", "warnings"}
    for row in doc["rows"]:
        assert set(row) >= row_keys
        assert len(row["readings_mm"]) == 6 and len(row["strut_sizes"]) == 6
    assert doc["rows"][0]["day"] == 0 and doc["rows"][0]["adjustment"] == 0
    assert set(doc["summary"]) >= {"days", "true_angle_deg", "max_sar_mm_per_day",
                                   "final_residual_mm", "final_residual_deg"}
    assert doc["summary"]["days"] == doc["rows"][-1]["day"] == 10
    assert doc["rows"][-1]["readings_mm"] == [150.0] * 6


def test_plan_csv_parses_back(runner: CliRunner) -> None:
    csv_out = runner.invoke(main, ["plan", SAMPLE, "--format", "csv"]).output
    doc = json.loads(runner.invoke(main, ["plan", SAMPLE, "--format", "json"]).output)
    rows = list(csv.DictReader(io.StringIO(csv_out)))
    assert len(rows) == len(doc["rows"])
    for row, jrow in zip(rows, doc["rows"], strict=True):
        assert [float(row[f"strut{i}_reading_mm"]) for i in range(1, 7)] == jrow["readings_mm"]
        assert [float(row[f"strut{i}_length_mm"]) for i in range(1, 7)] == pytest.approx(
            jrow["joint_lengths_mm"], abs=1e-6)
        assert int(row["day"]) == jrow["day"]


def test_output_file_not_overwritten_without_force(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert runner.invoke(main, ["plan", SAMPLE, "--format", "json", "-o", str(out)]).exit_code == 0
    first = out.read_text()
    out.write_text("keep me")
    result = runner.invoke(main, ["plan", SAMPLE, "-o", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text() == "keep me"
    assert runner.invoke(main, ["plan", SAMPLE, "--format", "json", "-o", str(out),
                                "--force"]).exit_code == 0
    assert out.read_text() == first


@pytest.mark.parametrize("args, code, text", [
    (["plan", "missing.toml"], 2, "does not exist"),
    (["plan", SAMPLE, "--format", "xml"], 2, "Invalid value"),
    (["plan", SAMPLE, "-o", "/no/such/folder/plan.txt"], 2, "does not exist"),
    (["catalogue", "no-such-catalogue"], 2, "no catalogue called"),
    (["pose", "--proximal-ring", "150", "--distal-ring", "155", "--readings", "150", "150",
      "150", "150", "150", "150"], 2, "allowed: 130, 155"),
    (["pose", "--proximal-ring", "155", "--distal-ring", "155", "--readings", "80", "280",
      "80", "280", "80", "280"], 1, "cannot be planned safely"),
])
def test_errors_have_clean_messages(runner: CliRunner, args: list[str], code: int,
                                    text: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == code, result.output
    assert text in result.output
    assert "Traceback" not in result.output


def test_bad_case_files(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema_version = 1\nmode = [")
    result = runner.invoke(main, ["plan", str(bad)])
    assert result.exit_code == 2 and "not valid TOML" in result.output
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(Path(SAMPLE).read_text().replace('"varus"', '"varrus"'))
    result = runner.invoke(main, ["check", str(wrong)])
    assert result.exit_code == 2
    assert "deformity.ap_angulation_dir" in result.output and "varus, valgus" in result.output


def test_unsafe_plan_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    case = tmp_path / "unsafe.toml"
    case.write_text(Path(SAMPLE).read_text().replace("neutral_strut_mm = 150",
                                                     "neutral_strut_mm = 285"))
    result = runner.invoke(main, ["plan", str(case)])
    assert result.exit_code == 1
    assert "outside every strut size" in result.output


def test_check_describes_case(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", SAMPLE])
    assert result.exit_code == 0
    assert "10.0° varus" in result.output
    assert "true angulation 11.1°, plane of deformity 26° from the coronal plane" in result.output


def test_new_writes_template_that_checks(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "case.toml"
    assert runner.invoke(main, ["new", str(out)]).exit_code == 0
    assert runner.invoke(main, ["check", str(out)]).exit_code == 0
    assert runner.invoke(main, ["new", str(out)]).exit_code == 2
    assert "schema_version = 1" in runner.invoke(main, ["new"]).output


def test_catalogue_shows_provenance(runner: CliRunner) -> None:
    result = runner.invoke(main, ["catalogue"])
    assert result.exit_code == 0
    assert "[weak]" in result.output and "[unverified]" in result.output
    assert "CHECK EVERY NUMBER" in result.output


def test_lengths_and_pose_round_trip(runner: CliRunner) -> None:
    result = runner.invoke(main, ["lengths", str(ROOT / "sample_cases/pure_lengthening.toml")])
    assert result.exit_code == 0
    assert result.output.count("160.00") == 6  # target: neutral frame
    result = runner.invoke(main, ["pose", "--proximal-ring", "155", "--distal-ring", "155",
                                  "--readings", "160", "160", "160", "160", "160", "160"])
    assert result.exit_code == 0, result.output
    assert "z -138.27 mm" in result.output and "true tilt 0.00°" in result.output


def test_python_m_and_no_matplotlib_for_table() -> None:
    code = (f"import sys, runpy; sys.argv = ['hexapod', 'plan', {SAMPLE!r}];\n"
            "try:\n runpy.run_module('hexapod', run_name='__main__')\n"
            "except SystemExit as e:\n assert not e.code, e.code\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported for a table'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "10 days of correction" in proc.stdout


def test_neutral_strut_suggestion_in_table_and_json(runner: CliRunner) -> None:
    case = str(ROOT / "sample_cases/staged_lengthen_first.toml")
    expected = "a neutral strut of 170 mm needs 0 swap(s) (this plan, 165 mm: 4)"
    assert expected in runner.invoke(main, ["plan", case]).output
    doc = json.loads(runner.invoke(main, ["plan", case, "--format", "json"]).output)
    assert expected in doc["notes"]
    assert not any("neutral strut of" in n for n in json.loads(
        runner.invoke(main, ["plan", SAMPLE, "--format", "json"]).output)["notes"])


# --- exit codes, option bounds and all-or-nothing outputs (contract section 5) ---

def _temps(folder: Path) -> list[Path]:
    from hexapod.io.files import TEMP_MARK

    return [p for p in folder.rglob("*") if TEMP_MARK in p.name]


def test_internal_error_is_exit_3_with_one_line(runner: CliRunner,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from hexapod.io import outputs

    def broken(*args: object, **kwargs: object) -> str:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(outputs, "plan_to_table", broken)
    result = runner.invoke(main, ["plan", SAMPLE])
    assert result.exit_code == 3
    assert "internal error (ZeroDivisionError: float division by zero)" in result.stderr
    assert "please report it" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    debug = runner.invoke(main, ["--debug", "plan", SAMPLE])
    assert debug.exit_code == 3
    assert "Traceback" in debug.stderr and "in broken" in debug.stderr


def test_unsafe_and_bad_input_keep_their_codes_in_the_mapping() -> None:
    from hexapod.errors import GeometryError, InternalError, PlanRefused
    from hexapod.findings import Violation
    from hexapod_cli.errors import map_error

    refused = map_error(PlanRefused([Violation("ring_gap", 3, None, 20.0, 30.0)]))
    assert refused.exit_code == 1
    assert "day 3: rings 20.0 mm apart at their closest (minimum 30 mm)" in refused.message
    assert map_error(GeometryError("singular")).exit_code == 1
    assert map_error(InputError("bad", "x")).exit_code == 2
    assert map_error(FileNotFoundError(2, "No such file", "a.toml")).exit_code == 2
    assert map_error(InternalError("unreachable")).exit_code == 3
    assert map_error(KeyError("k")).exit_code == 3
    assert map_error(ValueError("numpy said no")).exit_code == 3  # not every ValueError is input


@pytest.mark.parametrize("args, option, text", [
    (["plan", SAMPLE, "-o", ""], "'-o' / '--output'", "empty"),
    (["plan", SAMPLE, "--sheet", " "], "'--sheet'", "empty"),
    (["new", ""], "OUTPUT", "empty"),
    (["sensitivity", SAMPLE, "--seed", "-1"], "'--seed'", "range"),
    (["sensitivity", SAMPLE, "--mounting-sd", "1e300,2"], "'--mounting-sd'", "from 0 to 20"),
    (["sensitivity", SAMPLE, "--mounting-sd", "2°,2°"], "'--mounting-sd'", "not a number of mm"),
    (["sensitivity", SAMPLE, "--deformity-sd", "nan,1"], "'--deformity-sd'", "from 0 to 20"),
    (["sensitivity", SAMPLE, "--rotation-sd", "inf"], "'--rotation-sd'", "range"),
    (["pose", "--proximal-ring", "nan", "--distal-ring", "155", "--readings", *["150"] * 6],
     "'--proximal-ring'", "finite"),
    (["pose", "--proximal-ring", "155", "--distal-ring", "155", "--readings", *["1e308"] * 6],
     "'--readings'", "range"),
])
def test_bad_options_are_exit_2_naming_the_option(runner: CliRunner, args: list[str],
                                                  option: str, text: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert option in result.stderr and text in result.stderr


def test_sd_pairs_read_their_own_units() -> None:
    from hexapod_cli.main import parse_sd_pair

    assert parse_sd_pair("2,3°", "mm", "deg", "--mounting-sd") == (2.0, 3.0)
    assert parse_sd_pair("2mm, 3deg", "mm", "deg", "--mounting-sd") == (2.0, 3.0)
    assert parse_sd_pair("1°,4", "deg", "mm", "--deformity-sd") == (1.0, 4.0)
    with pytest.raises(InputError, match="not a number of deg"):
        parse_sd_pair("2,3mm", "mm", "deg", "--mounting-sd")


def test_check_refuses_strut_sizes_plan_refuses(runner: CliRunner, tmp_path: Path) -> None:
    case = tmp_path / "sizes.toml"
    case.write_text(Path(SAMPLE).read_text().replace(
        'reference = "proximal"',
        'reference = "proximal"\nstrut_sizes = ["medium", "giant", "medium", "medium", '
        '"medium", "medium"]'))
    for command in ("check", "plan"):
        result = runner.invoke(main, [command, str(case)])
        assert result.exit_code == 2, (command, result.output)
        assert "frame.strut_sizes[1]" in result.stderr and "'giant'" in result.stderr


def test_outputs_all_or_nothing_when_one_plot_exists(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "rate.png").write_text("mine")
    args = ["plan", SAMPLE, "-o", str(tmp_path / "a.json"), "--sheet", str(tmp_path / "a.pdf"),
            "--plots", str(tmp_path / "plots")]
    result = runner.invoke(main, args)
    assert result.exit_code == 2 and "rate.png exists" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["plots", "rate.png"]
    result = runner.invoke(main, [*args, "--force"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plots" / "rate.png").read_bytes().startswith(b"\x89PNG")
    assert len(list((tmp_path / "plots").iterdir())) == 8 and not _temps(tmp_path)


def test_failure_while_drawing_leaves_nothing(runner: CliRunner, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from hexapod.io import plots

    def broken(plan: object) -> object:
        raise RuntimeError("drawing failed")

    monkeypatch.setitem(plots.PLOTS, "xray", broken)
    result = runner.invoke(main, ["plan", SAMPLE, "-o", str(tmp_path / "a.txt"), "--plots",
                                  str(tmp_path / "new" / "parents" / "p")])
    assert result.exit_code == 3
    assert list(tmp_path.iterdir()) == []  # no a.txt, no plots, no temporary or new folder


@pytest.mark.parametrize("target, text", [
    ("{tmp}", "is a directory"),
    ("{tmp}/file/a.json", "is a file, not a folder"),
    ("/dev/null", "not a regular file"),
])
def test_unwritable_targets_are_exit_2(runner: CliRunner, tmp_path: Path, target: str,
                                       text: str) -> None:
    (tmp_path / "file").write_text("x")
    path = target.format(tmp=tmp_path)
    result = runner.invoke(main, ["plan", SAMPLE, "-o", path, "--force"])
    assert result.exit_code == 2, result.output
    assert text in result.stderr
    assert Path("/dev/null").is_char_device()


def test_symlink_target_is_never_replaced(runner: CliRunner, tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    result = runner.invoke(main, ["plan", SAMPLE, "-o", str(link), "--force"])
    assert result.exit_code == 2 and link.is_symlink() and real.read_text() == "keep"


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
                    reason="root writes into read-only folders")
def test_read_only_folder_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    result = runner.invoke(main, ["plan", SAMPLE, "-o", str(ro / "a.json")])
    assert result.exit_code == 2 and "not writable" in result.stderr


def test_folder_checks_under_a_file_and_read_only(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from hexapod.io import files

    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        files.check_folder(tmp_path / "f" / "sub", create=True)
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # as a non-root user would see
    with pytest.raises(InputError, match="not writable"):
        files.check_target(tmp_path / "new.json", force=False)


def _start_slow_plan(tmp_path: Path) -> subprocess.Popen[bytes]:
    import time

    args = [sys.executable, "-m", "hexapod", "plan", str(ROOT / "sample_cases" /
            "staged_lengthen_first.toml"), "-o", "a.json", "--sheet", "a.pdf", "--plots",
            "plots"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _temps(tmp_path) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    return proc


def test_sigterm_while_drawing_cleans_up(tmp_path: Path) -> None:
    import signal

    proc = _start_slow_plan(tmp_path)
    assert _temps(tmp_path), "the run never staged a file"
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert (code, left) == (128 + signal.SIGTERM, [])


def test_sigkill_leaves_no_partial_file_at_a_target(tmp_path: Path) -> None:
    import signal

    proc = _start_slow_plan(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    from hexapod.io.files import TEMP_MARK

    for path in tmp_path.iterdir():  # only recognisable leftovers, never a target
        assert TEMP_MARK in path.name, path


def test_ctrl_c_outside_the_outputs_is_exit_130(runner: CliRunner,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from hexapod.io import outputs

    def interrupted(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "plan_to_csv", interrupted)
    result = runner.invoke(main, ["plan", SAMPLE, "--format", "csv"])
    assert result.exit_code == 130 and "interrupted" in result.stderr


def test_transaction_replaces_only_with_force_and_cleans_up(tmp_path: Path) -> None:
    from hexapod.io.files import OutputTransaction, write_atomic, write_folder

    write_atomic(tmp_path / "a.txt", "one")
    with pytest.raises(InputError, match="--force"):
        write_atomic(tmp_path / "a.txt", "two")
    assert write_atomic(tmp_path / "a.txt", b"two", force=True).read_bytes() == b"two"
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "keep.txt").write_text("other file")
    write_folder(tmp_path / "figs", {"x.txt": "x", "y.txt": lambda p: p.write_text("y")})
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["keep.txt", "x.txt",
                                                                    "y.txt"]
    with pytest.raises(RuntimeError), OutputTransaction(force=True) as out:
        out.stage_file(tmp_path / "a.txt", "three")
        out.stage_folder(tmp_path / "figs", {"x.txt": "new x"})
        raise RuntimeError("later failure")
    assert (tmp_path / "a.txt").read_text() == "two" and not _temps(tmp_path)
    assert (tmp_path / "figs" / "x.txt").read_text() == "x"


def test_a_closed_pipe_ends_quietly() -> None:
    # `hexapod pose ... | head -1`: the reader is gone before the command writes (closed at
    # once here, while the program starts): no "Error:", no traceback, exit 0
    proc = subprocess.Popen([sys.executable, "-m", "hexapod", "pose", SAMPLE, "--readings",
                             "165", "141", "131", "134", "148", "167"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and err == ""


def test_a_signal_between_creating_and_recording_a_temporary_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a SIGTERM delivered to another thread can run its handler right after the temporary
    # file is made and before it is recorded: the rollback still finds it by its tag
    import tempfile

    from hexapod.io import files

    real = tempfile.mkstemp

    def made_then_signalled(*args: object, **kwargs: object) -> tuple[int, str]:
        fd, _ = real(*args, **kwargs)  # type: ignore[call-overload]
        os.close(fd)
        raise SystemExit(143)

    monkeypatch.setattr(files.tempfile, "mkstemp", made_then_signalled)
    with pytest.raises(SystemExit), files.OutputTransaction() as out:
        out.add_file(tmp_path / "a.json")
        out.stage_file(tmp_path / "a.json", "{}")
    assert list(tmp_path.iterdir()) == []
