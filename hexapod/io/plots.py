"""Plots of a plan (matplotlib object API, imported inside the functions).

* ``frame_3d``: rings, six numbered coloured struts and the two bone fragments, at the start,
  the end and faintly in between, in the anatomical frame;
* ``strut_readings``: each strut's reading by day, its size's range as a band, swaps marked;
* ``rate``: how far each paced point moves each day, against the rate;
* ``xray``: virtual AP and lateral views of the fragments before and after, origin marked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hexapod import transforms as tf
from hexapod.errors import InputError
from hexapod.io.outputs import write_output
from hexapod.planning import Plan

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FRAGMENT_LENGTH_MM = 140.0
METADATA = {"Creator": "hexapod", "Producer": "hexapod", "CreationDate": None}


def _colour(name: str) -> str:
    from matplotlib import colors

    fill = {"yellow": "goldenrod"}.get(name, name)
    return fill if colors.is_color_like(fill) else "grey"


def _fragments(plan: Plan, row: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The two fragments at a row as (name, top end, bottom end) in the anatomical frame."""
    pi = plan.plan_input
    moving = pi.fragment_from_ring_pose(plan.poses[row])
    ref_name, mov_name = (("proximal", "distal") if pi.reference == "proximal"
                          else ("distal", "proximal"))
    sign = 1.0 if pi.reference == "proximal" else -1.0
    ref = (ref_name, np.zeros(3), np.array([0.0, 0.0, sign * FRAGMENT_LENGTH_MM]))
    base = moving[:3, 3]
    tip = tf.apply(moving, np.array([0.0, 0.0, -sign * FRAGMENT_LENGTH_MM]))
    return [ref, (mov_name, base, tip)]


def _ring_points(plan: Plan, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reference and moving ring circles and joints in the anatomical frame."""
    pi = plan.plan_input
    geo = pi.geometry
    mount = pi.reference_ring_in_anatomy
    phi = np.linspace(0, 2 * np.pi, 97)
    circle = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=-1)
    moving_pose = mount @ plan.poses[row]
    return (tf.apply(mount, geo.reference_radius_mm * circle),
            tf.apply(moving_pose, geo.moving_radius_mm * circle),
            tf.apply(mount, geo.reference_joints), tf.apply(moving_pose, geo.moving_joints))


def frame_3d(plan: Plan) -> Figure:
    """3-D view of the frame and fragments at the start (left) and the end (right)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 6))
    colours = [_colour(c) for c in plan.plan_input.catalogue.colour_names]
    last = len(plan.day) - 1
    for k, (row, title) in enumerate(((0, "start"), (last, "end of correction"))):
        ax: Any = fig.add_subplot(1, 2, k + 1, projection="3d")
        if k == 1 and last > 2:
            for ghost in np.linspace(0, last, 6)[1:-1].astype(int):
                for _, top, bottom in _fragments(plan, int(ghost)):
                    ax.plot(*np.stack([top, bottom]).T, color="grey", alpha=0.25, linewidth=3)
        ref_c, mov_c, ref_j, mov_j = _ring_points(plan, row)
        for circle in (ref_c, mov_c):
            ax.plot(*circle.T, color="black", linewidth=2)
        for i in range(6):
            seg = np.stack([ref_j[i], mov_j[i]])
            ax.plot(*seg.T, color=colours[i], linewidth=3)
            mid = seg.mean(axis=0)
            ax.text(*mid, f" {i + 1}", color="black", fontsize=9, weight="bold")
        for name, top, bottom in _fragments(plan, row):
            ax.plot(*np.stack([top, bottom]).T, color="tan", linewidth=9, alpha=0.9,
                    solid_capstyle="butt")
            ax.text(*bottom, f" {name}", fontsize=8)
        ax.scatter([0], [0], [0], color="red", s=30)
        ax.set_title(f"{title} (day {int(plan.day[row])})")
        ax.set_xlabel("x: patient right (mm)")
        ax.set_ylabel("y: anterior (mm)")
        ax.set_zlabel("z: proximal (mm)")
        allpts = np.vstack([ref_c, mov_c])
        centre = allpts.mean(axis=0)
        half = float(np.max(np.ptp(allpts, axis=0))) / 2 + 20
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        ax.set_zlim(centre[2] - half, centre[2] + half)
        ax.view_init(elev=12, azim=-60)
    fig.suptitle("Frame and fragments (anatomical frame; red dot: the origin)")
    return fig


def strut_readings(plan: Plan) -> Figure:
    """Readings by day, with each fitted size's range as a band and swaps marked."""
    from matplotlib.figure import Figure

    cat = plan.plan_input.catalogue
    fig = Figure(figsize=(10, 6))
    ax = fig.add_subplot(1, 1, 1)
    per_day = max(plan.plan_input.case.correction.adjustments_per_day, 1)
    x = np.where(plan.adjustment > 0, plan.day - 1 + plan.adjustment / per_day, 0.0)
    lo, hi, _, _ = cat.range_table()
    for s, size in enumerate(cat.strut_sizes):
        ax.axhspan(lo[s], hi[s], color=f"C{s}", alpha=0.07)
        ax.text(float(x[-1]), hi[s], f" {size.name} {lo[s]:g}-{hi[s]:g}", fontsize=7,
                va="top", color="dimgrey")
    for i, name in enumerate(cat.colour_names):
        ax.step(x, plan.readings_mm[:, i], where="post", color=_colour(name), linewidth=1.6,
                label=f"strut {i + 1} ({name})")
    for j, swaps in enumerate(plan.swaps):
        for sw in swaps:
            ax.plot(x[j], sw.reading_mm, marker="D", color="black", markersize=7)
            ax.annotate(f"swap {sw.strut}: {sw.to_size}", (x[j], sw.reading_mm), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    span = plan.readings_mm
    ax.set_ylim(float(span.min()) - 10, float(span.max()) + 10)
    ax.set_xlabel("day of correction")
    ax.set_ylabel("scale reading (mm)")
    ax.set_title("Strut readings (bands: strut size ranges; diamonds: swaps)")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(alpha=0.3)
    return fig


def rate(plan: Plan) -> Figure:
    """Distance each paced point moves per day, against the prescribed rate."""
    from matplotlib.figure import Figure

    pi = plan.plan_input
    rep = plan.pace
    fig = Figure(figsize=(9, 5))
    ax = fig.add_subplot(1, 1, 1)
    days = np.arange(1, plan.days + 1)
    per_day = np.zeros((len(days), len(rep.names)))
    d0 = 0
    for k, n in enumerate(rep.stage_days):
        n = int(n)
        if n:
            per_day[d0:d0 + n] = rep.path_mm[k] / n
        d0 += n
    for k, name in enumerate(rep.names):
        ax.step(days, per_day[:, k], where="mid", label=name, linewidth=1.8)
    ax.axhline(pi.case.correction.rate_mm_per_day, color="red", linestyle="--",
               label=f"rate {pi.case.correction.rate_mm_per_day:g} mm/day")
    ax.set_ylim(0, max(pi.case.correction.rate_mm_per_day, float(per_day.max(initial=0))) * 1.2)
    ax.set_xlabel("day of correction")
    ax.set_ylabel("distance moved that day (mm)")
    ax.set_title("Movement per day of the paced points (true helix length)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _bone_outline(top: np.ndarray, bottom: np.ndarray, radius: float) -> np.ndarray:
    """Projected outline (4 corners) of a cylindrical fragment between two 2-D points."""
    axis = bottom - top
    normal = np.array([-axis[1], axis[0]]) / max(float(np.linalg.norm(axis)), 1e-12)
    return np.array([top + radius * normal, bottom + radius * normal,
                     bottom - radius * normal, top - radius * normal])


def xray(plan: Plan) -> Figure:
    """Virtual AP (x-z) and lateral (y-z) views of the fragments before and after."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    fig = Figure(figsize=(9, 7))
    side = plan.plan_input.case.patient.side
    last = len(plan.day) - 1
    radius = plan.plan_input.case.correction.bone_radius_mm
    for k, (axis, view, label) in enumerate(((0, "AP view (as on a radiograph)",
                                              "x (mm): patient's right is on the LEFT"),
                                             (1, "lateral view", "y: anterior (mm)"))):
        ax = fig.add_subplot(1, 2, k + 1)
        for row, face, edge, name in ((0, "lightgrey", "dimgrey", "before"),
                                      (last, "none", "saddlebrown", "after")):
            for frag_name, top, bottom in _fragments(plan, row):
                outline = _bone_outline(np.array([top[axis], top[2]]),
                                        np.array([bottom[axis], bottom[2]]), radius)
                ax.add_patch(Polygon(outline, closed=True, facecolor=face, edgecolor=edge,
                                     linewidth=1.8 if row else 1.0, alpha=0.9,
                                     linestyle="-" if row else "--"))
                mid = (top + bottom) / 2
                if frag_name != plan.plan_input.reference or row == 0:
                    # "before" beside the fragment, "after" on the other side, so that the
                    # two labels of the moving fragment never overlap
                    sign = (1 if axis else -1) * (1 if row == 0 else -1)
                    on_right = (sign > 0) == bool(axis)  # the AP view's x axis is reversed
                    ax.text(mid[axis] + sign * (radius + 3), mid[2], f"{frag_name}\n{name}",
                            fontsize=7, color=edge, ha="left" if on_right else "right")
        ax.plot([0], [0], marker="+", color="red", markersize=14, mew=2)
        ax.text(3 if axis else -3, 3, "origin", color="red", fontsize=8)
        ax.set_xlim((80, -80) if axis == 0 else (-80, 80))
        ax.set_ylim(-FRAGMENT_LENGTH_MM - 30, FRAGMENT_LENGTH_MM + 20)
        ax.set_aspect("equal")
        ax.set_title(view, fontsize=10)
        ax.set_xlabel(label)
        ax.set_ylabel("z: proximal (mm)")
        ax.grid(alpha=0.3)
    fig.suptitle(f"Virtual X-rays, {side} side (grey dashed: before; brown: after)")
    return fig


def sensitivity(result: Any) -> Figure:
    """Distribution of the far-end residual and each parameter's share of its variance."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5))
    ax = fig.add_subplot(1, 2, 1)
    ax.hist(result.residual_far_samples, bins=60, color="steelblue", alpha=0.8)
    ax.axvline(result.far_end_mc[1], color="red", linestyle="--",
               label=f"95%: {result.far_end_mc[1]:.2f} mm")
    ax.set_xlabel(f"residual at the far end ({result.far_end_mm:g} mm from the origin), mm")
    ax.set_ylabel("samples")
    ax.legend(fontsize=8)
    ax.set_title("Monte Carlo residual")
    ax2 = fig.add_subplot(1, 2, 2)
    names = [n for n, _ in result.share][::-1]
    shares = [100 * s for _, s in result.share][::-1]
    ax2.barh(names, shares, color="darkorange")
    ax2.set_xlabel("share of far-end residual variance (%)")
    ax2.tick_params(axis="y", labelsize=8)
    ax2.set_title("Which measurement matters")
    fig.tight_layout()
    return fig


PLOTS = {"frame_3d": frame_3d, "strut_readings": strut_readings, "rate": rate, "xray": xray}


def figure_bytes(fig: Figure, ext: str) -> bytes:
    """A figure rendered as PNG or PDF bytes (deterministic metadata)."""
    import io

    if ext not in ("png", "pdf"):
        raise InputError(f"plots are written as .png or .pdf, not .{ext}")
    buf = io.BytesIO()
    fig.savefig(buf, format=ext, dpi=110,
                metadata=METADATA if ext == "pdf" else {"Software": "hexapod"})
    return buf.getvalue()


def save_figure(fig: Figure, path: str | Path, force: bool = False) -> Path:
    """Save one figure atomically; the format follows the suffix (png or pdf)."""
    target = Path(path)
    ext = target.suffix.lower().lstrip(".")
    if ext not in ("png", "pdf"):
        raise InputError(f"{target}: plots are written as .png or .pdf")
    return write_output(target, figure_bytes(fig, ext), force)


def plot_file_names() -> list[str]:
    """The names of the files :func:`plot_files` makes."""
    return [f"{name}.{ext}" for name in PLOTS for ext in ("png", "pdf")]


def plot_files(plan: Plan, warn: Callable[[str], None] | None = None,
               ) -> dict[str, Callable[[Path], None]]:
    """Writers of every plot as PNG and PDF, by file name (each draws when called; the two
    formats of one plot share its figure). Names are drawn literally (no mathtext); a
    character the font lacks gives one line to ``warn`` instead of matplotlib's warnings."""
    import warnings

    import matplotlib

    drawn: dict[str, Figure] = {}
    warned: list[bool] = []

    def writer(name: str, make: Callable[[Plan], Figure], ext: str) -> Callable[[Path], None]:
        def write(tmp: Path) -> None:
            with matplotlib.rc_context({"text.parse_math": False}), \
                    warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if name not in drawn:
                    drawn.clear()  # one figure alive at a time
                    drawn[name] = make(plan)
                tmp.write_bytes(figure_bytes(drawn[name], ext))
            glyphs = [w for w in caught if "missing from font" in str(w.message)]
            for w in caught:
                if w not in glyphs:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            if glyphs and not warned and warn is not None:
                warned.append(True)
                warn("warning: some characters of the names (for example Chinese, Devanagari)"
                     " are not in the plots' font and show as empty boxes")
        return write

    return {f"{name}.{ext}": writer(name, make, ext) for name, make in PLOTS.items()
            for ext in ("png", "pdf")}


def write_plots(plan: Plan, folder: str | Path, force: bool = False) -> list[Path]:
    """Write every plot as PNG and PDF into ``folder`` (created if missing): all the files or
    none (they are drawn into a temporary folder beside it, then moved in)."""
    from hexapod.io.files import write_folder

    return write_folder(folder, dict(plot_files(plan)), force)
