"""Printable PDF: a surgeon summary page, then the patient's daily strut-adjustment sheets.

matplotlib is imported inside the functions (object API only, no pyplot), so importing this
module costs nothing. The PDF bytes are deterministic: fixed metadata, no creation date.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hexapod.findings import Note
from hexapod.io.hardware_text import provenance_line
from hexapod.io.messages import note_message, point_name
from hexapod.io.outputs import revision_text, summary_lines, write_output
from hexapod.io.words import describe_deformity
from hexapod.planning import Plan
from hexapod.resume import Revision

PAPER_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
FONT = "DejaVu Sans"
#: Printed instead of a character the PDF font cannot show.
MISSING_GLYPH = "?"
#: Warning given once per sheet when characters were replaced.
MISSING_GLYPH_WARNING = (
    "warning: some characters of the names or notes (for example Chinese, Devanagari) are not "
    f"in the sheet's font ({FONT}) and are printed as '{MISSING_GLYPH}'; write them on the "
    "printed sheet by hand")
MM = 1 / 25.4
ROWS_PER_PAGE = 29
METADATA = {"Creator": "hexapod", "Producer": "hexapod", "CreationDate": None,
            "ModDate": None, "Title": "hexapod strut adjustment plan"}

PATIENT_NOTES = (
    "Turn ONE strut at a time, to the reading in its column, then tick its box.",
    "An adjustment counts only when all six struts are set and ticked.",
    "Check each strut's number and colour label before you turn it.",
    "A reading marked * is near the end of that strut's range: expect a strut swap soon.",
    "Grey rows are strut swaps: the clinic fits the new strut size and sets the reading shown.",
    "Missed an adjustment? Do NOT double up. Do the next one at its time and call the clinic.",
    "Call the clinic at once for numbness, tingling, severe pain, a loose or broken strut, or "
    "redness or discharge at a pin site.",
)


def _fill(colour: str) -> tuple[str, str]:
    """Cell fill for a strut colour name, and a text colour readable on it."""
    from matplotlib import colors

    fill = {"yellow": "gold", "purple": "mediumpurple", "blue": "cornflowerblue",
            "green": "mediumseagreen", "red": "salmon", "orange": "orange"}.get(colour, colour)
    if not colors.is_color_like(fill):
        fill = "lightgrey"
    r, g, b = colors.to_rgb(fill)
    return fill, ("black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.45 else "white")


@functools.lru_cache(maxsize=1)
def _font_codepoints() -> frozenset[int]:
    from matplotlib import ft2font
    from matplotlib.font_manager import FontProperties, findfont

    return frozenset(ft2font.FT2Font(findfont(FontProperties(family=FONT))).get_charmap())


def printable(text: str) -> str:
    """``text`` with every character the PDF font cannot show replaced by
    :data:`MISSING_GLYPH` (so nothing prints as an empty box)."""
    known = _font_codepoints()
    return "".join(c if ord(c) in known or c.isspace() else MISSING_GLYPH for c in text)


def text_width_mm(text: str, size: float) -> float:
    """Printed width of ``text`` at ``size`` points in the sheet's font, mm."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(
        text, FontProperties(family=FONT, size=size), ismath=False)
    return float(width) * 25.4 / 72.0


def fit(text: str, width_mm: float, size: float) -> str:
    """``text`` cut (ending in an ellipsis) so that it prints within ``width_mm``."""
    if text_width_mm(text, size) <= width_mm:
        return text
    lo, hi = 0, len(text)  # the longest prefix that fits, by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width_mm(text[:mid] + "…", size) <= width_mm:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


class _Page:
    """One page drawn in millimetres from the top-left corner. Text is drawn literally (no
    mathtext: a ``$`` in a name is a dollar sign) and characters the font lacks are replaced
    (``substituted`` records that it happened)."""

    def __init__(self, paper: str, revision: Revision | None = None) -> None:
        from matplotlib.figure import Figure

        self.revision = revision
        self.width, self.height = PAPER_MM[paper]
        self.fig = Figure(figsize=(self.width * MM, self.height * MM))
        ax = self.fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)
        ax.axis("off")
        self.ax = ax
        self.substituted = False

    def text(self, x: float, y: float, s: str, size: float = 9, **kw: Any) -> None:
        shown = printable(s)
        self.substituted |= shown != s
        self.ax.text(x, y, shown, fontsize=size, va=kw.pop("va", "top"), parse_math=False,
                     **kw)

    def box(self, x: float, y: float, w: float, h: float, fill: str = "none",
            edge: str = "black", lw: float = 0.6) -> None:
        from matplotlib.patches import Rectangle

        self.ax.add_patch(Rectangle((x, y), w, h, facecolor=fill, edgecolor=edge, linewidth=lw))

    def wrap(self, x: float, y: float, s: str, width_chars: int, size: float = 9,
             line_mm: float = 4.2, **kw: Any) -> float:
        import textwrap

        for line in textwrap.wrap(s, width_chars) or [""]:
            self.text(x, y, line, size, **kw)
            y += line_mm
        return y


def _header(page: _Page, plan: Plan, title: str, page_no: int, pages: int) -> float:
    pat = plan.plan_input.case.patient
    page.text(15, 12, title, 14, weight="bold")
    page.text(page.width - 15, 12, f"page {page_no} of {pages}", 8, ha="right")
    page.text(page.width - 15, 15.6, revision_text(page.revision), 7.5, ha="right",
              weight="bold")
    page.substituted |= any(printable(x) != x for x in (pat.name, pat.id, pat.bone))
    page.text(15, 20, header_line(pat.name, pat.id, pat.side, pat.bone, page.width - 30), 9)
    return 27.0


def header_line(name: str, id_: str, side: str, bone: str, width_mm: float,
                size: float = 9) -> str:
    """The patient line of a page header, fitted to ``width_mm``: the ID and bone are cut to
    a quarter of the width each, then the name takes what is left, so "Side: ..." always
    shows."""
    gap = "   "
    fixed = f"Side: {side}"
    id_part = fit(printable(f"ID: {id_}"), width_mm / 4, size) if id_ else ""
    bone_part = fit(printable(f"Bone: {bone}"), width_mm / 4, size) if bone else ""
    others = gap.join(x for x in (id_part, fixed, bone_part) if x)
    room = width_mm - text_width_mm(others + gap, size)
    name_part = (fit(printable(f"Name: {name}"), room, size) if name
                 else "Name: ____________________")
    return gap.join(x for x in (name_part, id_part, fixed, bone_part) if x)


def _summary_page(page: _Page, plan: Plan, pages: int, notes: list[Note]) -> None:
    pi = plan.plan_input
    cat = pi.catalogue
    y = _header(page, plan, "Surgeon summary", 1, pages)
    page.text(15, y, "Case", 10, weight="bold")
    y += 5
    for line in describe_deformity(pi.case):
        y = page.wrap(18, y, line, 105, 8.5)
    f = pi.case.frame
    y = page.wrap(18, y, f"frame: {f.proximal_ring_mm:g} mm proximal ring, {f.distal_ring_mm:g} "
                  f"mm distal ring, {f.reference} reference, hardware '{cat.name}'", 105, 8.5)
    y = page.wrap(18, y, provenance_line(plan), 105, 8.5)
    for line in getattr(page.revision, "lines", ()):  # a resumed prescription's follow-up
        y = page.wrap(18, y, line, 105, 8.5)
    y += 2
    page.text(15, y, "Plan", 10, weight="bold")
    y += 5
    for line in summary_lines(plan):
        y = page.wrap(18, y, line, 105, 8.5)
    for note in (*plan.notes, *notes):
        y = page.wrap(18, y, "note: " + note_message(note), 105, 8.5)
    warned = sum(len(row) for row in plan.warnings)
    if warned:
        y = page.wrap(18, y, f"{warned} near-end reading(s) are marked * on the sheets.",
                      105, 8.5)
    y += 2
    page.text(15, y, "Structures and pace", 10, weight="bold")
    y += 5
    rep = plan.pace
    for k, name in enumerate(rep.names):
        days = np.maximum(rep.stage_days, 1)
        rate = float(np.max(rep.path_mm[:, k] / days)) if len(days) else 0.0
        label = point_name(name, pi.case.correction.bone_radius_mm)
        y = page.wrap(18, y, f"{label}: path {float(np.sum(rep.path_mm[:, k])):.1f} mm, "
                      f"up to {rate:.2f} mm/day", 105, 8.5)
    y += 2
    from hexapod.sensitivity import Uncertainty, analyse

    sens = analyse(pi, Uncertainty(), samples=4000, seed=0)
    page.text(15, y, "Residual to expect from measurement error (hexapod sensitivity)", 10,
              weight="bold")
    y += 5
    y = page.wrap(18, y, f"with X-ray errors of 1 mm / 1°, clinical rotation 5°, mounting "
                  f"2 mm / 2°, strut readings 0.5 mm (SD): at the origin mean "
                  f"{sens.origin_mc[0]:.1f} mm (95% {sens.origin_mc[1]:.1f} mm); at "
                  f"{sens.far_end_mm:g} mm along the moving fragment mean "
                  f"{sens.far_end_mc[0]:.1f} mm (95% {sens.far_end_mc[1]:.1f} mm); "
                  f"angle mean {sens.angle_mc[0]:.1f}°. Largest shares: "
                  + ", ".join(f"{n} {100 * v:.0f}%" for n, v in sens.share[:3]) + ".",
                  105, 8.5)
    y += 2
    page.text(15, y, "Hardware numbers used (check them against your own frame)", 10,
              weight="bold")
    y += 5
    sizes_used = sorted({name for row in plan.size_names for name in row})
    used = cat.plan_quantities(f.proximal_ring_mm, f.distal_ring_mm, sizes_used)
    for key, q in used:
        if y > page.height - 20:
            page.text(18, y, "... (hexapod catalogue lists them all)", 7.5)
            break
        value = q.value if not isinstance(q.value, float) else f"{q.value:g}"
        y = page.wrap(18, y, f"{key} = {value}  [{q.provenance}] {q.note}", 125, 7, 3.3)
    page.text(15, page.height - 10, "Generated by hexapod. Verify hardware numbers and the "
              "plan before use; this sheet does not replace clinical judgement.", 7,
              style="italic")


def _sheet_page(page: _Page, plan: Plan, rows: list[int], page_no: int, pages: int,
                notes: bool) -> None:
    pi = plan.plan_input
    cat = pi.catalogue
    sizes = plan.size_names
    y = _header(page, plan, "Strut adjustment sheet", page_no, pages)
    f = pi.case.frame
    page.text(15, y, f"Frame: {f.proximal_ring_mm:g} mm proximal ring, {f.distal_ring_mm:g} mm "
              f"distal ring.   Start date: {plan.dates[0].isoformat()}.   First adjustment: "
              f"{plan.dates[1].isoformat() if len(plan.dates) > 1 else '-'}", 8.5)
    y += 5
    if notes:
        for note in PATIENT_NOTES:
            y = page.wrap(17, y, "\u2022 " + note, 115, 8.3, 3.9)
        y += 2
    colours = cat.colour_names
    x0 = 15.0
    widths = [23.0, 11.0, 12.0] + [23.0] * 6
    xs = np.concatenate([[x0], x0 + np.cumsum(widths)])
    head_h, row_h = 9.0, 6.6
    labels = ["Date", "Day", "Time"]
    for k, label in enumerate(labels):
        page.box(xs[k], y, widths[k], head_h, fill="white")
        page.text(xs[k] + widths[k] / 2, y + head_h / 2, label, 8.5, ha="center", va="center",
                  weight="bold")
    for i in range(6):
        fill, ink = _fill(colours[i])
        k = 3 + i
        page.box(xs[k], y, widths[k], head_h, fill=fill)
        page.text(xs[k] + widths[k] / 2, y + 3.2, f"Strut {i + 1}", 8.5, ha="center",
                  va="center", weight="bold", color=ink)
        page.text(xs[k] + widths[k] / 2, y + 6.9, f"{colours[i].upper()} {sizes[rows[0]][i]}",
                  6.5, ha="center", va="center", color=ink)
    y += head_h
    for j in rows:
        swap = plan.swaps[j]
        first_of_day = j == 0 or plan.day[j] != plan.day[j - 1]
        fill = "#d9d9d9" if swap else ("#f4f4f4" if int(plan.day[j]) % 2 == 0 else "white")
        page.box(xs[0], y, xs[-1] - xs[0], row_h, fill=fill, lw=0.3)
        if first_of_day:
            page.ax.plot([xs[0], xs[-1]], [y, y], color="black", linewidth=0.9)
        day = "start" if j == 0 else str(int(plan.day[j]))
        page.text(xs[0] + 1.2, y + row_h / 2, plan.dates[j].strftime("%a %d %b"), 7.8,
                  va="center")
        page.text(xs[1] + widths[1] / 2, y + row_h / 2, day, 7.8, ha="center", va="center")
        page.text(xs[2] + widths[2] / 2, y + row_h / 2, plan.times[j], 7.8, ha="center",
                  va="center")
        swapped = {s.strut for s in swap}
        for i in range(6):
            k = 3 + i
            reading = f"{plan.readings_mm[j, i]:g}{'*' if plan.near_end[j, i] else ''}"
            weight = "bold" if (j == 0 or i + 1 in swapped
                                or plan.readings_mm[j, i] != plan.readings_mm[j - 1, i]) \
                else "normal"
            page.text(xs[k] + 3, y + row_h / 2, reading, 8.6, va="center", weight=weight)
            page.box(xs[k] + widths[k] - 6.5, y + 1.3, 4.0, 4.0, fill="white", lw=0.7)
            page.ax.plot([xs[k], xs[k]], [y, y + row_h], color="grey", linewidth=0.3)
        y += row_h
        if swap:
            text = "STRUT SWAP (at the clinic): " + "; ".join(
                f"strut {s.strut} {colours[s.strut - 1]}: {s.from_size} -> {s.to_size}, set "
                f"{s.reading_mm:g} mm" for s in swap)
            page.box(xs[0], y, xs[-1] - xs[0], row_h, fill="#d9d9d9", lw=0.3)
            page.text(xs[0] + 2, y + row_h / 2, text, 7.8, va="center", weight="bold")
            y += row_h
    page.text(15, y + 3, "Bold: the reading changes at this adjustment.   * near the end of the "
              "strut's range.   Tick the box when the strut is set.", 7.3)
    page.text(15, page.height - 10, "If anything is unclear, do not turn the struts: call the "
              "clinic.   Clinic phone: ______________________", 8, weight="bold")


def _paginate(plan: Plan) -> list[list[int]]:
    """Rows per sheet page; swap rows take two lines; the first page holds the notes."""
    pages: list[list[int]] = [[]]
    used = 0.0
    capacity = ROWS_PER_PAGE
    for j in range(len(plan.day)):
        cost = 2 if plan.swaps[j] else 1
        if used + cost > capacity:
            pages.append([])
            used = 0.0
            capacity = ROWS_PER_PAGE + 6
        pages[-1].append(j)
        used += cost
    return pages


def render_sheet(plan: Plan, path: Path, paper: str = "a4",
                 progress: Callable[[str], None] | None = None,
                 notes: list[Note] | None = None, revision: Revision | None = None) -> int:
    """Draw the summary page and the sheets into a PDF at ``path``; returns the page count.
    Every page carries the prescription's revision (1 by default) and the date it replaces."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from hexapod.io import plots

    chunks = _paginate(plan)
    figures = (plots.strut_readings, plots.xray)
    total = len(chunks) + 1 + len(figures)
    substituted = False
    with matplotlib.rc_context({"pdf.compression": 6, "font.family": FONT,
                                "path.simplify": False, "text.parse_math": False}), \
            PdfPages(path, metadata=METADATA) as pdf:
        page = _Page(paper, revision)
        _summary_page(page, plan, total, list(notes or []))
        substituted |= page.substituted
        pdf.savefig(page.fig)
        for make in figures:  # the surgeon's plots, each on a page of its own
            fig = make(plan)
            fig.set_size_inches(page.width * MM, page.height * MM)
            fig.subplots_adjust(top=0.9, bottom=0.45, left=0.1, right=0.92)
            fig.text(1 - 15 / page.width, 1 - 12 / page.height, revision_text(revision),
                     fontsize=7.5, ha="right", va="top", weight="bold")
            pdf.savefig(fig)
        for n, rows in enumerate(chunks, start=2 + len(figures)):
            page = _Page(paper, revision)
            _sheet_page(page, plan, rows, n, total, notes=(n == 2 + len(figures)))
            substituted |= page.substituted
            pdf.savefig(page.fig)
            if progress is not None and total > 3:
                done = n * 20 // total
                progress(f"[{'#' * done}{'.' * (20 - done)}] page {n} of {total}")
    if substituted and progress is not None:
        progress(MISSING_GLYPH_WARNING)
    return total


def write_sheet(plan: Plan, path: str | Path, paper: str = "a4", force: bool = False,
                progress: Callable[[str], None] | None = None,
                notes: list[Note] | None = None, revision: Revision | None = None) -> Path:
    """Write the PDF atomically (never over an existing file without ``force``)."""
    def render(tmp: Path) -> None:
        render_sheet(plan, tmp, paper, progress, notes, revision)

    return write_output(path, render, force)
