"""The eight sample prescriptions, pinned: a change to any reading, size, swap or date of a
sample must be deliberate (regenerate tests/golden/sample_prescriptions.json and say why in
the commit). The pinned values were checked against the first version's output byte for byte,
except the staged sample's one swap moved to its own day (spreading swaps over days)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hexapod

ROOT = Path(__file__).parent.parent
GOLDEN = json.loads((ROOT / "tests" / "golden" / "sample_prescriptions.json").read_text())


def test_every_sample_is_pinned() -> None:
    assert set(GOLDEN) == {p.stem for p in (ROOT / "sample_cases").glob("*.toml")}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_sample_prescription_unchanged(name: str) -> None:
    rx = hexapod.plan(hexapod.load_case(ROOT / "sample_cases" / f"{name}.toml"))
    pinned = GOLDEN[name]
    assert rx.days == pinned["days"]
    assert [d.isoformat() for d in rx.dates] == pinned["dates"]
    np.testing.assert_array_equal(rx.readings_mm, pinned["readings_mm"])
    assert rx.size_names == pinned["sizes"]
    assert [[[s.strut, s.from_size, s.to_size, s.reading_mm] for s in row]
            for row in rx.swaps] == pinned["swaps"]
