"""The hardware behind a plan in words (outputs layer): which catalogue, how sure its numbers
are, and the theatre build check (what a caliper between each strut's joint centres reads)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hexapod.hardware import provenance_counts
from hexapod.planning import Plan


def plan_provenance(plan: Plan) -> dict[str, Any]:
    """The catalogue a plan used and the provenance of the numbers it depends on (JSON).

    Returns
    -------
    dict
        ``catalogue`` (name), ``source`` (the file it was read from, if any), ``counts``
        (provenance mark -> how many of the numbers carry it) and ``numbers`` (key path,
        value and provenance of each).
    """
    pi = plan.plan_input
    cat = pi.catalogue
    used = sorted({name for row in plan.size_names for name in row})
    quantities = cat.plan_quantities(pi.case.frame.proximal_ring_mm, pi.case.frame.distal_ring_mm,
                                     used)
    return {"catalogue": cat.name, "source": cat.source or None,
            "counts": provenance_counts(quantities),
            "numbers": [{"key": key, "value": q.value, "provenance": q.provenance}
                        for key, q in quantities]}


def provenance_line(plan: Plan) -> str:
    """One line: the catalogue and how many of the numbers the plan depends on are measured,
    from a cited source, from a weak source or unverified."""
    info = plan_provenance(plan)
    counts = info["counts"]
    total = sum(counts.values())
    marks = ", ".join(f"{counts[m]} {m}" for m in ("measured", "source", "weak", "unverified",
                                                   "derived", "default") if counts[m])
    return (f"hardware '{info['catalogue']}': of the {total} catalogue numbers this plan "
            f"depends on, {marks} (hexapod catalogue lists them)")


def build_check_lines(plan: Plan) -> list[str]:
    """The theatre build check: for each strut, its start size and reading, the distance a
    caliper between its two joint centres reads when the strut is set to that reading, and
    the same at the end of correction."""
    pi = plan.plan_input
    colours = pi.catalogue.colour_names
    offsets = pi.catalogue.range_table()[3]
    sizes = plan.size_names
    caliper = np.asarray(plan.readings_mm) + offsets[np.asarray(plan.size_index)]
    lines = ["build check: set each strut to its start reading, then a caliper between its two "
             "joint centres should read the distance shown (mm)",
             f"{'strut':>5}  {'colour':<7}  {'size':<8}  {'start reading':>13}  "
             f"{'caliper at start':>16}  {'end reading':>11}  {'caliper at end':>14}"]
    for i in range(6):
        lines.append(f"{i + 1:>5}  {colours[i]:<7}  {sizes[0][i]:<8}  "
                     f"{plan.readings_mm[0, i]:>13g}  {caliper[0, i]:>16.2f}  "
                     f"{plan.readings_mm[-1, i]:>11g}  {caliper[-1, i]:>14.2f}")
    exact = plan.joint_lengths_mm
    lines.append("exact joint-centre distances of the planned start: "
                 + ", ".join(f"{v:.2f}" for v in exact[0])
                 + "; a built frame more than 1 mm off the caliper column is not the planned one")
    return lines
