"""Resuming a correction at a follow-up visit: the core (:mod:`hexapod.resume`), the previous
prescription (:mod:`hexapod.io.previous`) and ``hexapod resume`` with its revision numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from hexapod import transforms as tf
from hexapod.anatomy import distal_in_proximal
from hexapod.clinical import build_plan_input
from hexapod.errors import InputError
from hexapod.io.catalogue_file import load_catalogue
from hexapod.io.loading import load_case
from hexapod.io.previous import PrescriptionError, parse_previous
from hexapod.planning import Plan, plan, prepare
from hexapod.readback import signed_from_distal_in_proximal
from hexapod.resume import (
    Revision,
    deformity_from_signed,
    position_on,
    resume_from_plan,
    resume_plan_input,
    sizes_at_visit,
)
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_cases/right_tibia_chronic.toml"
STAGED = ROOT / "sample_cases/staged_lengthen_first.toml"
DISTAL = ROOT / "sample_cases/distal_tibia_distal_reference.toml"
VISIT = dt.date(2026, 12, 12)


@pytest.fixture(scope="module")
def originals() -> dict[Path, Plan]:
    return {case: plan(prepare(load_case(case))) for case in (SAMPLE, STAGED, DISTAL)}


def daily_chord_mm(result: Plan) -> np.ndarray:
    """Oracle, a plain loop: how far the pacing points (the structures at risk, else the
    corresponding point) move, the fastest in a straight line, from the end of each day to the
    end of the next, from the planned poses."""
    pi = result.plan_input
    mount = pi.reference_ring_in_anatomy
    last_of_day: dict[int, int] = {}
    for j, d in enumerate(result.day):
        last_of_day[int(d)] = j
    moves = []
    previous = None
    for d in sorted(last_of_day):
        pose = result.poses[last_of_day[d]]
        motion = mount @ pose @ tf.invert(pi.start_pose) @ tf.invert(mount)
        points = (pi.structure_points if len(pi.structure_points)
                  else pi.corresponding_point[None])
        point = tf.apply(motion, points)
        if previous is not None:
            moves.append(float(np.max(np.linalg.norm(point - previous, axis=-1))))
        previous = point
    return np.array(moves)


def check_resumed(original: Plan, resumed: Plan, readings: np.ndarray) -> None:
    """The properties every resumed plan must have."""
    pi = resumed.plan_input
    limits = pi.catalogue.limits
    np.testing.assert_array_equal(resumed.readings_mm[0], readings)
    np.testing.assert_allclose(resumed.poses[-1], original.poses[-1], atol=1e-9)
    np.testing.assert_allclose(resumed.achieved_poses[-1], original.achieved_poses[-1],
                               atol=1e-6)
    np.testing.assert_allclose(resumed.readings_mm[-1], original.readings_mm[-1], atol=1e-9)
    assert resumed.dates[0] == VISIT
    if len(resumed.day) > 1:
        assert resumed.dates[1] == VISIT
        steps = np.abs(np.diff(resumed.readings_mm, axis=0))
        swapped = np.array([[any(s.strut == i + 1 for s in row) for i in range(6)]
                            for row in resumed.swaps[1:]])
        assert np.all(steps[~swapped] <= float(limits.max_change_per_adjustment_mm) + 1e-9)
        rate = pi.case.correction.rate_mm_per_day
        assert np.all(daily_chord_mm(resumed) <= rate + 1e-6)


@pytest.mark.parametrize("case", [SAMPLE, STAGED, DISTAL])
@pytest.mark.parametrize("fraction", [0.0, 0.4, 1.0])
def test_resume_from_a_row_of_the_plan(originals: dict[Path, Plan], case: Path,
                                       fraction: float) -> None:
    original = originals[case]
    row = round(fraction * (len(original.day) - 1))
    readings = np.array(original.readings_mm[row])
    resumed = plan(resume_from_plan(original, readings, None, VISIT))
    check_resumed(original, resumed, readings)
    # the adjustments still to do, never more days than the original had left (+1 rounding)
    days_left = int(original.day[-1]) - int(original.day[row])
    assert int(resumed.day[-1]) <= days_left + 1


def wrong_turn(rows: np.ndarray) -> tuple[int, np.ndarray, int]:
    """A row a third of the way in whose readings differ from the row before, and its readings
    with the strut that changes least over the plan turned 3 mm against its change."""
    rows = np.asarray(rows, dtype=float)
    row = next(j for j in range(len(rows) // 3, len(rows))
               if np.any(rows[j] != rows[j - 1]))
    change = rows[-1] - rows[0]
    strut = int(np.argmin(np.abs(change)))
    readings = rows[row].copy()
    readings[strut] -= 3.0 if change[strut] > 0 else -3.0
    return row, readings, strut


def test_resume_off_the_path_plans_from_there(originals: dict[Path, Plan]) -> None:
    original = originals[SAMPLE]
    row, readings, strut = wrong_turn(original.readings_mm)
    resumed = plan(resume_from_plan(original, readings, None, VISIT))
    check_resumed(original, resumed, readings)
    where = position_on(original.readings_mm, original.dates, original.day, original.times,
                        readings, VISIT)
    expected = np.zeros(6)
    expected[strut] = readings[strut] - original.readings_mm[row, strut]
    assert where.row == row
    assert abs(expected[strut]) == 3.0
    np.testing.assert_allclose(where.difference_mm, expected)
    assert where.days_behind == (VISIT - original.dates[row]).days


def test_resume_is_the_case_it_describes(originals: dict[Path, Plan]) -> None:
    """The resumed case (residual mode, the deformity now, moved structures) planned from
    scratch has the same start and target as the resumed PlanInput."""
    for case in (SAMPLE, DISTAL):
        original = originals[case]
        readings = original.readings_mm[len(original.day) // 2]
        resumed = resume_from_plan(original, readings, None, VISIT)
        again = build_plan_input(resumed.case, resumed.catalogue)
        np.testing.assert_allclose(again.start_pose, resumed.start_pose, atol=1e-6)
        np.testing.assert_allclose(again.target_pose, resumed.target_pose, atol=1e-6)
        np.testing.assert_allclose(again.structure_points, resumed.structure_points,
                                   atol=1e-9)
        np.testing.assert_allclose(again.corresponding_point, resumed.corresponding_point,
                                   atol=1e-9)
        assert resumed.case.mode == "residual"
        assert resumed.case.correction.latency_days == 0


def test_staged_resume_keeps_the_stages_still_to_do(originals: dict[Path, Plan]) -> None:
    original = originals[STAGED]
    first = original.plan_input.stage_names
    in_second = int(np.nonzero(original.stage == 1)[0][2])
    resumed = resume_from_plan(original, original.readings_mm[in_second], None, VISIT)
    assert resumed.stage_names == first[1:]
    resumed = resume_from_plan(original, original.readings_mm[3], None, VISIT)
    assert resumed.stage_names == first


def test_resume_plan_input_checks_its_stage(originals: dict[Path, Plan]) -> None:
    pi = originals[SAMPLE].plan_input
    with pytest.raises(InputError, match="first_stage"):
        resume_plan_input(pi, originals[SAMPLE].readings_mm[0], None, VISIT, first_stage=1)
    with pytest.raises(InputError, match="six finite readings"):
        resume_plan_input(pi, [150.0] * 5, None, VISIT)


@pytest.mark.parametrize("side", ["right", "left"])
def test_deformity_from_signed_round_trip(side: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        signed = rng.uniform(-20, 20, 6)
        signed[rng.integers(6)] = 0.0
        back = signed_from_distal_in_proximal(
            distal_in_proximal(deformity_from_signed(signed), side), side)
        np.testing.assert_allclose(back, signed, atol=1e-9)
    assert deformity_from_signed(np.zeros(6)).ap_angulation_dir is None


def test_revision_rules() -> None:
    assert Revision().number == 1 and Revision().replaces is None
    assert Revision().next(VISIT) == Revision(2, VISIT)
    assert Revision(None).number is None
    for bad in ((0, None), (1, VISIT), (2, None), (True, None), (None, VISIT)):
        with pytest.raises(InputError):
            Revision(*bad)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        Revision(None).next(VISIT)


def test_position_says_behind_or_ahead() -> None:
    dates = (dt.date(2026, 12, 1), dt.date(2026, 12, 8), dt.date(2026, 12, 9))
    rows = [[150.0] * 6, [151.0] * 6, [152.0] * 6]
    where = position_on(rows, dates, [0, 1, 2], ("", "08:00", "08:00"), [151.0] * 6,
                        dt.date(2026, 12, 5))
    assert (where.row, where.day, where.days_behind) == (1, 1, -3)
    where = position_on(rows, dates, [0, 1, 2], ("", "08:00", "08:00"), [151.1] * 6,
                        dt.date(2026, 12, 12))
    assert (where.row, where.days_behind, where.complete) == (1, 4, False)
    np.testing.assert_allclose(where.difference_mm, [0.1] * 6)


DATES3 = (dt.date(2026, 12, 1), dt.date(2026, 12, 8), dt.date(2026, 12, 9))
ROWS3 = [[150.0] * 6, [151.0] * 6, [152.0] * 6]


def where3(readings: list[float], visit: dt.date) -> Any:
    return position_on(ROWS3, DATES3, [0, 1, 2], ("", "08:00", "08:00"), readings, visit)


@pytest.mark.parametrize("visit, behind", [(dt.date(2026, 12, 1), 0), (dt.date(2026, 12, 3), 0),
                                           (dt.date(2026, 12, 7), 0), (dt.date(2026, 12, 8), 1),
                                           (dt.date(2026, 12, 10), 3)])
def test_start_readings_during_latency_are_on_schedule(visit: dt.date, behind: int) -> None:
    """The start readings stand until the day before the first correction day."""
    assert where3([150.0] * 6, visit).days_behind == behind


@pytest.mark.parametrize("visit, behind, complete", [
    (dt.date(2026, 12, 9), 0, True), (dt.date(2026, 12, 12), 0, True),
    (dt.date(2026, 12, 8), -1, False)])
def test_readings_at_the_last_row_are_complete(visit: dt.date, behind: int,
                                               complete: bool) -> None:
    where = where3([152.2] * 6, visit)
    assert (where.row, where.days_behind, where.complete) == (2, behind, complete)
    np.testing.assert_allclose(where.difference_mm, [0.2] * 6)


def test_far_readings_are_not_complete() -> None:
    where = where3([152.0] * 5 + [162.5], dt.date(2026, 12, 12))
    assert where.far and not where.complete and where.days_behind == 3
    assert not where3([152.0] * 5 + [161.9], dt.date(2026, 12, 12)).far


def test_visit_before_the_prescription_starts_is_refused() -> None:
    with pytest.raises(InputError) as info:
        where3([150.0] * 6, dt.date(2026, 11, 30))
    assert info.value.field == "date"


# --- the previous prescription file ---------------------------------------------------------

def good_previous() -> dict[str, Any]:
    return {"schema_version": 1, "revision": 2, "replaces": "2026-12-01",
            "case": {"patient": {"id": "X"}},
            "rows": [{"day": 0, "date": "2026-12-05", "time": "", "readings_mm": [150] * 6,
                      "strut_sizes": ["medium"] * 6},
                     {"day": 1, "date": "2026-12-05", "time": "08:00",
                      "readings_mm": [151] * 6}]}


def test_parse_previous_reads_the_rows() -> None:
    prev = parse_previous(good_previous(), "p.json")
    assert prev.revision == Revision(2, dt.date(2026, 12, 1))
    assert prev.date == dt.date(2026, 12, 5)
    assert prev.next_revision() == Revision(3, dt.date(2026, 12, 5))
    assert prev.sizes == (("medium",) * 6, None)
    assert prev.days == (0, 1) and prev.times == ("", "08:00")


@pytest.mark.parametrize("change, path", [
    (lambda d: d.pop("schema_version"), "schema_version"),
    (lambda d: d.update(schema_version=2), "schema_version"),
    (lambda d: d.update(revision=0), "revision"),
    (lambda d: d.pop("replaces"), "replaces"),
    (lambda d: d.update(replaces="12/01/2026"), "replaces"),
    (lambda d: d.update(rows=[]), "rows"),
    (lambda d: d["rows"][1].update(readings_mm=[1, 2, 3]), "rows[1].readings_mm"),
    (lambda d: d["rows"][1].update(readings_mm=[1, 2, 3, 4, 5, "6"]), "rows[1].readings_mm"),
    (lambda d: d["rows"][1].pop("date"), "rows[1].date"),
    (lambda d: d["rows"][0].update(date="soon"), "rows[0].date"),
    (lambda d: d["rows"][0].update(day=-1), "rows[0].day"),
    (lambda d: d["rows"][0].update(time=8), "rows[0].time"),
    (lambda d: d["rows"][0].update(strut_sizes=["medium"]), "rows[0].strut_sizes"),
    (lambda d: d.update(rows=[1]), "rows[0]"),
    (lambda d: d.update(refused=True), "refused"),
])
def test_parse_previous_names_the_key_path(change: Any, path: str) -> None:
    data = good_previous()
    change(data)
    with pytest.raises(PrescriptionError) as info:
        parse_previous(data, "p.json")
    assert info.value.path == path
    assert f"'{path}'" in str(info.value)


# --- the command line -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def first_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("visit")
    out = folder / "plan.json"
    result = CliRunner().invoke(main, ["plan", str(SAMPLE), "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, json.loads(out.read_text())


def readings_args(values: Any) -> list[str]:
    return ["--readings", *(f"{v:g}" for v in values)]


def test_plan_is_revision_1(first_plan: tuple[Path, dict[str, Any]]) -> None:
    _, doc = first_plan
    assert doc["revision"] == 1 and "replaces" not in doc
    table = CliRunner().invoke(main, ["plan", str(SAMPLE)])
    assert table.stdout.splitlines()[1] == "revision 1"


def test_resume_json_revision_and_nearest_row(first_plan: tuple[Path, dict[str, Any]],
                                              tmp_path: Path) -> None:
    path, doc = first_plan
    row = 10
    readings = doc["rows"][row]["readings_mm"]
    result = CliRunner().invoke(main, ["resume", str(SAMPLE), *readings_args(readings),
                                       "--date", "2026-12-12", "--previous", str(path),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    new = json.loads(result.stdout)
    assert new["revision"] == 2 and new["replaces"] == doc["rows"][0]["date"]
    assert new["follow_up"]["nearest_row"]["row"] == row
    assert new["follow_up"]["difference_mm"] == [0.0] * 6
    days = (VISIT - dt.date.fromisoformat(doc["rows"][row]["date"])).days
    assert new["follow_up"]["days_behind"] == days
    assert new["rows"][0]["readings_mm"] == readings
    assert new["rows"][0]["date"] == new["rows"][1]["date"] == "2026-12-12"
    assert new["rows"][-1]["readings_mm"] == doc["rows"][-1]["readings_mm"]
    assert f"{days} day(s) behind" in result.stderr
    # a revision of the revision replaces the resumed prescription's date
    second = tmp_path / "r2.json"
    second.write_text(result.stdout)
    later = new["rows"][4]["readings_mm"]
    again = CliRunner().invoke(main, ["resume", str(SAMPLE), *readings_args(later),
                                      "--date", "2026-12-14", "--previous", str(second),
                                      "--format", "json"])
    assert again.exit_code == 0, again.output
    third = json.loads(again.stdout)
    assert third["revision"] == 3 and third["replaces"] == "2026-12-12"


def test_resume_table_off_the_path(first_plan: tuple[Path, dict[str, Any]]) -> None:
    path, doc = first_plan
    row, readings, strut = wrong_turn([r["readings_mm"] for r in doc["rows"]])
    result = CliRunner().invoke(main, ["resume", str(SAMPLE), *readings_args(readings),
                                       "--date", "2026-12-12", "--previous", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == f"revision 2, replaces the prescription of {doc['rows'][0]['date']}"
    near = doc["rows"][row]
    assert (f"the readings are nearest its row of {near['date']}, day {near['day']} "
            f"{near['time']} (row {row})") in lines
    diff = [f"{i + 1} {(readings[i] - near['readings_mm'][i]):+g} mm" for i in range(6)]
    assert "readings now minus that row, struts 1..6: " + ", ".join(diff) in lines
    assert f"{strut + 1} {readings[strut] - near['readings_mm'][strut]:+g} mm".endswith(
        "3 mm")
    first_row = next(x for x in lines if x.startswith("2026-12-12  start"))
    assert first_row.split()[2:8] == [f"{v:g}" for v in readings]


def test_resume_csv_starts_at_the_readings() -> None:
    readings = [164, 137, 146, 127, 154, 145]
    result = CliRunner().invoke(main, ["resume", str(SAMPLE), *readings_args(readings),
                                       "--date", "2026-12-12", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("2026-12-12,0,0,,164,137,146,127,154,145")


def test_resume_sheet_has_the_revision_on_every_page(first_plan: tuple[Path, dict[str, Any]],
                                                     tmp_path: Path) -> None:
    import pypdf

    path, doc = first_plan
    sheet = tmp_path / "s.pdf"
    result = CliRunner().invoke(main, ["resume", str(SAMPLE),
                                       *readings_args(doc["rows"][30]["readings_mm"]),
                                       "--date", "2026-12-12", "--previous", str(path),
                                       "--sheet", str(sheet), "--format", "csv"])
    assert result.exit_code == 0, result.output
    pages = pypdf.PdfReader(sheet).pages
    want = f"revision 2, replaces the prescription of {doc['rows'][0]['date']}"
    assert len(pages) >= 4
    assert all(want in page.extract_text() for page in pages)


@pytest.mark.parametrize("content, words", [
    (None, "no previous prescription"),
    ("not json {", "is not JSON"),
    ('{"schema_version": 1, "rows": [{"day": 0, "date": "2026-12-01"}]}',
     "prescription key 'rows[0].readings_mm'"),
    ('[1, 2]', "must hold a JSON object"),
    ('{"schema_version": 1, "case": {"patient": {"id": "OTHER"}}, "rows": [{"day": 0, '
     '"date": "2026-12-01", "readings_mm": [150, 150, 150, 150, 150, 150]}]}',
     "prescription key 'case.patient.id'"),
])
def test_bad_previous_exits_2(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "prev.json"
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(main, ["resume", str(SAMPLE), "--readings", *["150"] * 6,
                                       "--date", "2026-12-12", "--previous", str(path)])
    assert result.exit_code == 2, result.output
    assert words in result.output


def test_resume_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("{}")
    result = CliRunner().invoke(main, ["resume", str(SAMPLE), "--readings", *["150"] * 6,
                                       "--date", "2026-12-12", "-o", str(out)])
    assert result.exit_code == 2 and "use --force" in result.output
    assert out.read_text() == "{}"


def test_resume_fits_the_sizes_of_the_previous_row(tmp_path: Path) -> None:
    """Without --sizes the struts are those the previous prescription sets at the nearest
    row, even where the case's own plan would choose another size for that reading."""
    doc = json.loads(CliRunner().invoke(main, ["plan", str(STAGED), "--format",
                                               "json"]).stdout)
    cat = load_catalogue(doc["geometry"]["hardware"])
    long_min, medium_max = cat.strut_size("long").min_mm, cat.strut_size("medium").max_mm
    row, strut = next((j, i) for j, r in enumerate(doc["rows"]) for i in range(6)
                      if r["strut_sizes"][i] == "medium"
                      and long_min <= r["readings_mm"][i] <= medium_max)
    same = row  # the rows that read alike from it: the visit is placed on the last one due
    while same < len(doc["rows"]) and doc["rows"][same]["readings_mm"] == doc["rows"][row][
            "readings_mm"]:
        doc["rows"][same]["strut_sizes"][strut] = "long"
        same += 1
    previous = tmp_path / "plan.json"
    previous.write_text(json.dumps(doc))
    args = ["resume", str(STAGED), *readings_args(doc["rows"][row]["readings_mm"]),
            "--date", "2026-12-20", "--format", "json"]
    told = CliRunner().invoke(main, [*args, "--previous", str(previous)])
    assert told.exit_code == 0, told.output
    assert json.loads(told.stdout)["rows"][0]["strut_sizes"][strut] == "long"
    own = CliRunner().invoke(main, args)
    assert json.loads(own.stdout)["rows"][0]["strut_sizes"][strut] == "medium"


# --- the review's findings: latency, the end, the other leg, far readings, sizes, ranges ----

def resume_json(previous: Path | None, readings: Any, visit: str, *extra: str) -> Any:
    args = ["resume", str(SAMPLE), *readings_args(readings), "--date", visit, *extra]
    if previous is not None:
        args += ["--previous", str(previous)]
    return CliRunner().invoke(main, args)


def test_resume_during_latency_keeps_it(first_plan: tuple[Path, dict[str, Any]]) -> None:
    """At the start readings two days into the 7-day latency, day 1 stays the original first
    correction day and the patient is on schedule."""
    path, doc = first_plan
    start = doc["rows"][0]["readings_mm"]
    result = resume_json(path, start, "2026-12-03", "--format", "json")
    assert result.exit_code == 0, result.output
    new = json.loads(result.stdout)
    assert new["rows"][0]["date"] == "2026-12-03"
    assert new["rows"][1]["date"] == doc["rows"][1]["date"] == "2026-12-08"
    assert new["case"]["correction"]["latency_days"] == 5
    assert new["follow_up"]["days_behind"] == 0
    assert "the patient is on schedule" in result.stderr and "behind" not in result.stderr
    # after the latency, day 1 is the visit
    late = json.loads(resume_json(path, start, "2026-12-10", "--format", "json").stdout)
    assert late["rows"][1]["date"] == "2026-12-10" and late["follow_up"]["days_behind"] == 3


def test_resume_plan_input_keeps_the_latency(originals: dict[Path, Plan]) -> None:
    original = originals[SAMPLE]
    visit = dt.date(2026, 12, 3)
    resumed = resume_from_plan(original, original.readings_mm[0], None, visit)
    assert resumed.case.correction.first_day == original.plan_input.case.correction.first_day
    assert resumed.case.correction.start_date == visit
    with pytest.raises(InputError) as info:
        resume_from_plan(original, original.readings_mm[0], None, dt.date(2026, 11, 30))
    assert info.value.field == "date"


@pytest.mark.parametrize("previous", [True, False])
def test_visit_before_the_start_exits_2_naming_date(first_plan: tuple[Path, dict[str, Any]],
                                                    previous: bool) -> None:
    path, doc = first_plan
    result = resume_json(path if previous else None, doc["rows"][0]["readings_mm"],
                         "2026-11-30")
    assert result.exit_code == 2, result.output
    assert "'--date'" in result.output and "2026-12-01" in result.output


def test_resume_at_the_end_says_complete(first_plan: tuple[Path, dict[str, Any]]) -> None:
    path, doc = first_plan
    last = doc["rows"][-1]
    visit = dt.date.fromisoformat(last["date"]) + dt.timedelta(days=3)
    result = resume_json(path, last["readings_mm"], visit.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output
    follow = json.loads(result.stdout)["follow_up"]
    assert follow["days_behind"] == 0 and follow["complete"] is True
    assert "the previous prescription: it is complete" in result.stderr
    assert "behind" not in result.stderr


def test_other_legs_prescription_exits_2(first_plan: tuple[Path, dict[str, Any]],
                                         tmp_path: Path) -> None:
    _, doc = first_plan
    other = json.loads(json.dumps(doc))
    other["case"]["patient"]["side"] = "left"
    path = tmp_path / "left.json"
    path.write_text(json.dumps(other))
    result = resume_json(path, doc["rows"][5]["readings_mm"], "2026-12-12")
    assert result.exit_code == 2, result.output
    assert "case.patient.side" in result.output and "'left'" in result.output
    assert "right side" in result.output


def test_far_readings_warn(first_plan: tuple[Path, dict[str, Any]]) -> None:
    path, doc = first_plan
    readings = list(doc["rows"][20]["readings_mm"])
    readings[2] += 12.0
    table = resume_json(path, readings, "2026-12-12")
    assert table.exit_code == 0, table.output
    header = table.stdout.split("\n\n")[0]
    assert "warning: the readings are far from every row" in header
    assert "strut 3 is" in table.stderr and "more than 10 mm" in table.stderr
    doc2 = json.loads(resume_json(path, readings, "2026-12-12", "--format", "json").stdout)
    assert doc2["follow_up"]["warning"].startswith("warning: the readings are far")
    near = json.loads(resume_json(path, doc["rows"][20]["readings_mm"], "2026-12-12",
                                  "--format", "json").stdout)
    assert near["follow_up"]["warning"] is None


def test_sizes_at_visit() -> None:
    cat = load_catalogue("tsf-like")
    sizes = {s.name: s for s in cat.strut_sizes}
    medium, long = sizes["medium"], sizes["long"]
    both = max(medium.min_mm, long.min_mm) + 1.0  # held by medium and long
    assert medium.min_mm <= both <= medium.max_mm and long.min_mm <= both <= long.max_mm
    readings = [both] * 6
    smallest = next(s.name for s in cat.strut_sizes if s.min_mm <= both <= s.max_mm)
    assert sizes_at_visit(cat, readings, None) == (smallest,) * 6
    kept = ("long", None, "long", "short", "medium", "long")
    fitted = sizes_at_visit(cat, readings, None, kept)
    short_holds = sizes["short"].min_mm <= both <= sizes["short"].max_mm
    assert fitted == ("long", smallest, "long", "short" if short_holds else smallest,
                      "medium", "long")
    with pytest.raises(InputError) as info:
        sizes_at_visit(cat, [both] * 5 + [sizes["short"].max_mm + 5], ("short",) * 6)
    assert info.value.field == "sizes" and "strut 1" in info.value.message


def test_sizes_not_holding_the_readings_exit_2(first_plan: tuple[Path, dict[str, Any]]) -> None:
    path, doc = first_plan
    readings = doc["rows"][10]["readings_mm"]
    result = resume_json(path, readings, "2026-12-12", "--sizes", *["medium"] * 5, "short")
    assert result.exit_code == 2, result.output
    cat = load_catalogue("tsf-like")
    short = cat.strut_size("short")
    assert "'--sizes'" in result.output and f"strut 6 reads {readings[5]:g} mm" in result.output
    assert f"'short' ({short.min_mm:g}-{short.max_mm:g} mm)" in result.output


C91 = {"schema_version": 1, "mode": "chronic",
       "patient": {"side": "right", "name": "Sample Patient C", "id": "SAMPLE-003",
                   "bone": "distal tibia"},
       "frame": {"proximal_ring_mm": 155.0, "distal_ring_mm": 155.0, "reference": "distal",
                 "hardware": "tsf-like", "neutral_strut_mm": 169.0},
       "deformity": {"ap_angulation_deg": 12.48, "ap_angulation_dir": "valgus",
                     "ap_translation_mm": 3.5, "ap_translation_dir": "lateral",
                     "lat_angulation_deg": 7.73, "lat_angulation_dir": "apex_posterior",
                     "lat_translation_mm": 8.32, "lat_translation_dir": "posterior",
                     "axial_rotation_deg": 3.83, "axial_rotation_dir": "external",
                     "axial_translation_mm": 10.82, "axial_translation_dir": "long"},
       "mounting": {"ap_offset_mm": 3.0, "ap_offset_dir": "medial", "lat_offset_mm": 5.0,
                    "lat_offset_dir": "anterior", "axial_offset_mm": 40.0,
                    "axial_offset_dir": "distal", "rotary_offset_deg": 5.0,
                    "rotary_offset_dir": "lateral"},
       "correction": {"start_date": "2026-12-03", "method": "gradual", "rate_mm_per_day": 0.55,
                      "adjustments_per_day": 2, "latency_days": 7},
       "structures_at_risk": []}


def test_resume_swaps_struts_that_cannot_carry_the_plan(tmp_path: Path) -> None:
    """Near the end of a correction whose long struts read 169 mm, the long struts cannot
    carry the resumed plan: without --sizes the struts are swapped to the smallest size that
    holds each reading, as --sizes medium x6 would."""
    case = tmp_path / "c.json"
    case.write_text(json.dumps(C91))
    doc = json.loads(CliRunner().invoke(main, ["plan", str(case), "--format", "json"]).stdout)
    row = 61
    assert "long" in doc["rows"][row]["strut_sizes"]
    args = ["resume", str(case), "--readings", "169", "169", "169", "169", "172", "169",
            "--date", doc["rows"][row]["date"], "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"][0]["strut_sizes"] == ["medium"] * 6
    assert "swap at the visit: strut 3 long -> medium" in result.stderr


@pytest.mark.parametrize("value", ["1e308", "999", "5000", "0", "-5", "nan"])
def test_resume_readings_out_of_range_exit_2(value: str) -> None:
    result = CliRunner().invoke(main, ["resume", str(SAMPLE), "--readings", "150", "150",
                                       "150", "150", "150", value, "--date", "2026-12-12"])
    assert result.exit_code == 2, result.output
    assert "'--readings'" in result.output


def test_resume_without_previous_has_unknown_revision(tmp_path: Path) -> None:
    import pypdf

    readings = [164, 137, 146, 127, 154, 145]
    table = resume_json(None, readings, "2026-12-12")
    assert table.exit_code == 0, table.output
    unknown = "revision unknown: give --previous PLAN.json to number it"
    assert table.stdout.splitlines()[1] == unknown and unknown in table.stderr
    doc = json.loads(resume_json(None, readings, "2026-12-12", "--format", "json").stdout)
    assert doc["revision"] is None and "replaces" not in doc
    sheet = tmp_path / "s.pdf"
    made = resume_json(None, readings, "2026-12-12", "--format", "csv", "--sheet", str(sheet))
    assert made.exit_code == 0, made.output
    pages = pypdf.PdfReader(sheet).pages
    assert all(unknown in " ".join(page.extract_text().split()) for page in pages)


def test_resumed_sheet_has_the_follow_up(first_plan: tuple[Path, dict[str, Any]],
                                         tmp_path: Path) -> None:
    import pypdf

    path, doc = first_plan
    row, readings, strut = wrong_turn([r["readings_mm"] for r in doc["rows"]])
    sheet = tmp_path / "s.pdf"
    result = resume_json(path, readings, "2026-12-12", "--format", "csv", "--sheet", str(sheet))
    assert result.exit_code == 0, result.output
    summary = " ".join(pypdf.PdfReader(sheet).pages[0].extract_text().split())
    near = doc["rows"][row]
    assert f"the readings are nearest its row of {near['date']}" in summary
    diff = readings[strut] - near["readings_mm"][strut]
    assert f"{strut + 1} {diff:+g} mm" in summary
    behind = (VISIT - dt.date.fromisoformat(near["date"])).days
    assert f"{behind} day(s) behind the previous prescription" in summary


def test_resume_at_visit_reports_the_swaps_it_chose(tmp_path: Path) -> None:
    from hexapod.io.case_file import read_case
    from hexapod.io.catalogue_file import load_catalogue
    from hexapod.visit import resume_at_visit

    case = tmp_path / "c.json"
    case.write_text(json.dumps(C91))
    pi = build_plan_input(read_case(case), load_catalogue("tsf-like"))
    original = plan(pi)
    visit = original.dates[61]
    readings = (169.0, 169.0, 169.0, 169.0, 172.0, 169.0)
    chosen = resume_at_visit(pi, readings, visit)
    assert not chosen.from_start
    assert chosen.plan_input.case.frame.strut_sizes == ("medium",) * 6
    swapped = {n for n, a, b in chosen.swaps_at_visit}
    assert 3 in swapped and all((a, b) == ("long", "medium") for _, a, b in chosen.swaps_at_visit)
    named = resume_at_visit(pi, readings, visit, ("medium",) * 6)  # sizes named: no swap news
    assert named.swaps_at_visit == () and named.plan_input.case.frame.strut_sizes == (
        "medium",) * 6
