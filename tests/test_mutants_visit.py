"""Resuming at a visit (:func:`hexapod.visit.resume_at_visit`): each of its four outcomes with
the sizes and flags it must give. Built from the survivors of a mutation run (see
docs/testing.md): the path where the original case cannot be planned, and the sizes the
clinic names that cannot carry the plan, had no test."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

from hexapod import visit as visit_module
from hexapod.clinical import PlanInput, build_plan_input
from hexapod.errors import PlanRefused
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.planning import Plan, plan
from hexapod.planning.result import Violation
from hexapod.resume import resume_plan_input
from hexapod.visit import resume_at_visit

from .test_resume import C91

#: Two readings at 169-172 mm, which both the medium (116-178) and the long (169-289) size
#: hold, and one at 150 mm, which only the medium holds.
READINGS = (169.0, 169.0, 169.0, 169.0, 172.0, 150.0)


@pytest.fixture(scope="module")
def c91(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanInput, Plan]:
    path = tmp_path_factory.mktemp("c91") / "c.json"
    path.write_text(json.dumps(C91))
    plan_input = build_plan_input(read_case(path), load_catalogue("tsf-like"))
    return plan_input, plan(plan_input)


def _with_sizes(plan_input: PlanInput, sizes: tuple[str, ...]) -> PlanInput:
    frame = dataclasses.replace(plan_input.case.frame, strut_sizes=sizes)
    return dataclasses.replace(plan_input, case=dataclasses.replace(plan_input.case,
                                                                    frame=frame))


def _refuse(monkeypatch: pytest.MonkeyPatch, calls: int | None) -> list[PlanInput]:
    """Make ``plan`` in hexapod.visit refuse its first ``calls`` calls (None: every call).
    Every call must ask for no suggestions: resume_at_visit only asks whether a plan can be
    made, and each suggestion costs plans of its own."""
    seen: list[PlanInput] = []
    real = visit_module.plan

    def refusing(plan_input: PlanInput, **kwargs: Any) -> Plan:
        assert kwargs == {"suggest": False}
        seen.append(plan_input)
        if calls is None or len(seen) <= calls:
            raise PlanRefused([Violation("plan_length", None, None, 999.0, 365.0)])
        return real(plan_input, **kwargs)

    monkeypatch.setattr(visit_module, "plan", refusing)
    return seen


def test_the_visit_on_a_row_whose_sizes_carry_the_rest_keeps_them(
        c91: tuple[PlanInput, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    plan_input, original = c91
    _refuse(monkeypatch, calls=0)  # plans as usual, checking that none asks for suggestions
    row = 42  # long struts at 175-178 mm, which the medium size also holds, still lengthening
    readings = tuple(float(r) for r in original.readings_mm[row])
    kept = tuple(original.size_names[row])
    assert kept.count("long") == 3
    chosen = resume_at_visit(plan_input, readings, original.dates[row])
    assert chosen.from_start is False and chosen.swaps_at_visit == ()
    assert chosen.plan_input.case.frame.strut_sizes == kept
    assert chosen.plan_input.case.frame.strut_readings_mm == readings


def test_the_visit_where_the_sizes_cannot_carry_the_rest_swaps_them(
        c91: tuple[PlanInput, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    plan_input, original = c91
    _refuse(monkeypatch, calls=0)
    readings = (169.0, 169.0, 169.0, 169.0, 172.0, 169.0)
    chosen = resume_at_visit(plan_input, readings, original.dates[61])
    assert chosen.from_start is False
    assert chosen.swaps_at_visit == ((3, "long", "medium"), (4, "long", "medium"),
                                     (5, "long", "medium"))
    assert chosen.plan_input.case.frame.strut_sizes == ("medium",) * 6


def test_sizes_the_clinic_names_are_kept_even_when_they_cannot_carry_the_rest(
        c91: tuple[PlanInput, Plan]) -> None:
    # the clinic said what is fitted: no swap is invented; planning it then says why not
    plan_input, original = c91
    readings = (169.0, 169.0, 169.0, 169.0, 172.0, 169.0)
    named = tuple(original.size_names[61])
    assert named != ("medium",) * 6
    chosen = resume_at_visit(plan_input, readings, original.dates[61], named)
    assert chosen.from_start is False and chosen.swaps_at_visit == ()
    assert chosen.plan_input.case.frame.strut_sizes == named
    with pytest.raises(PlanRefused):
        plan(chosen.plan_input, suggest=False)


def test_a_case_that_cannot_be_planned_resumes_from_its_start_pose_on_the_sizes_it_names(
        c91: tuple[PlanInput, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    plan_input = _with_sizes(c91[0], ("long",) * 6)
    visit = c91[1].dates[20]
    seen = _refuse(monkeypatch, calls=1)
    chosen = resume_at_visit(plan_input, READINGS, visit, preferred=("medium",) * 6)
    assert seen[0] is plan_input and len(seen) == 1  # the preferred sizes are the smallest
    assert chosen.from_start is True and chosen.swaps_at_visit == ()
    expected = resume_plan_input(plan_input, READINGS, ("medium",) * 6, visit)
    case = chosen.plan_input.case
    assert case.frame.strut_sizes == ("medium",) * 6
    assert case.frame.strut_readings_mm == READINGS
    assert case.correction.start_date == visit
    np.testing.assert_allclose(chosen.plan_input.start_pose, expected.start_pose, atol=1e-9)
    np.testing.assert_allclose(chosen.plan_input.target_pose, plan_input.target_pose,
                               atol=1e-9)


def test_without_preferred_sizes_the_case_that_cannot_be_planned_keeps_its_own(
        c91: tuple[PlanInput, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    # the case's long struts hold five readings; the sixth (150 mm) only a medium holds
    plan_input = _with_sizes(c91[0], ("long",) * 6)
    visit = c91[1].dates[20]
    _refuse(monkeypatch, calls=None)
    chosen = resume_at_visit(plan_input, READINGS, visit)
    assert chosen.from_start is True
    assert chosen.swaps_at_visit == tuple((n, "long", "medium") for n in range(1, 6))
    assert chosen.plan_input.case.frame.strut_sizes == ("medium",) * 6


def test_named_sizes_on_a_case_that_cannot_be_planned_are_fitted_as_named(
        c91: tuple[PlanInput, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    plan_input = _with_sizes(c91[0], ("medium",) * 6)
    named = ("long",) * 5 + ("medium",)
    _refuse(monkeypatch, calls=None)
    chosen = resume_at_visit(plan_input, READINGS, c91[1].dates[20], named)
    assert chosen.from_start is True and chosen.swaps_at_visit == ()
    assert chosen.plan_input.case.frame.strut_sizes == named


def test_a_case_that_cannot_be_planned_keeps_sizes_that_carry_the_rest(
        c91: tuple[PlanInput, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    # the sizes the case names hold the readings and can carry the resumed plan: kept, and
    # the resume still says it started from the case's own start pose
    original = c91[1]
    row = 42
    kept = tuple(original.size_names[row])
    plan_input = _with_sizes(c91[0], kept)
    readings = tuple(float(r) for r in original.readings_mm[row])
    seen = _refuse(monkeypatch, calls=1)
    chosen = resume_at_visit(plan_input, readings, original.dates[row])
    assert len(seen) == 2  # the case refused, the resumed plan made
    assert chosen.from_start is True and chosen.swaps_at_visit == ()
    assert chosen.plan_input.case.frame.strut_sizes == kept
