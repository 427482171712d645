"""Findings (hexapod/findings.py): only known kinds, and details that cannot change."""

from __future__ import annotations

import pytest

from hexapod.findings import (
    NOTE_KINDS,
    VIOLATION_KINDS,
    WARNING_KINDS,
    Note,
    RowWarning,
    Violation,
)


@pytest.mark.parametrize(("cls", "word", "kinds", "args"), [
    (Violation, "violation", VIOLATION_KINDS, ()),
    (RowWarning, "warning", WARNING_KINDS, (2, 1.0, 0.5)),
    (Note, "note", NOTE_KINDS, ())])
def test_each_finding_takes_its_own_kinds_only(cls, word, kinds, args) -> None:
    for kind in kinds:
        assert cls(kind, *args).kind == kind
    others = {VIOLATION_KINDS, WARNING_KINDS, NOTE_KINDS} - {kinds}
    for kind in ["bogus", ""] + [k for group in others for k in group if k not in kinds]:
        with pytest.raises(ValueError, match=f"unknown {word} kind {kind!r}"):
            cls(kind, *args)


def test_details_are_copied_and_read_only() -> None:
    source = {"rows": 3}
    found = [Violation("rate", 1, None, 2.0, 1.0, source), RowWarning("near_end", 2, 1.0, 0.5,
                                                                      source),
             Note("acute", source)]
    source["rows"] = 4
    for finding in found:
        assert dict(finding.detail) == {"rows": 3}
        with pytest.raises(TypeError):
            finding.detail["rows"] = 5  # type: ignore[index]
    assert dict(Violation("rate").detail) == {} and dict(Note("acute").detail) == {}
    assert dict(Violation("rate", detail=None).detail) == {}  # type: ignore[arg-type]
