"""Draw the figures of docs/conventions.md with hexapod itself.

Run:  python docs/make_figures.py   (writes docs/figures/*.png)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from hexapod.anatomy import distal_in_proximal
from hexapod.case import Deformity
from hexapod.io.catalogue_file import load_catalogue

OUT = Path(__file__).parent / "figures"


def numbering() -> Figure:
    """Both rings seen from proximal looking distally, joints numbered, master tab marked."""
    cat = load_catalogue()
    fig = Figure(figsize=(10, 5))
    for k, (name, joints) in enumerate((("proximal ring", cat.proximal_joints(155)),
                                        ("distal ring", cat.distal_joints(155)))):
        ax = fig.add_subplot(1, 2, k + 1)
        phi = np.linspace(0, 2 * np.pi, 200)
        radius = float(np.linalg.norm(joints[0, :2]))
        ax.plot(radius * np.cos(phi), radius * np.sin(phi), color="black")
        ax.plot(77.5 * np.cos(phi), 77.5 * np.sin(phi), color="grey", linestyle=":")
        for i, (x, y, _) in enumerate(joints):
            colour = cat.colour_names[i]
            ax.plot(x, y, "o", color={"yellow": "goldenrod"}.get(colour, colour), markersize=12)
            layout = cat.layout
            side = (layout.proximal_pair_side if k == 0 else layout.distal_pair_side)[i]
            nx, ny = x / radius, y / radius
            tx, ty = -ny * side, nx * side  # along the circle, away from the pair partner
            ax.text(x * 1.2 + 16 * tx, y * 1.2 + 16 * ty, f"{i + 1} {colour}", ha="center",
                    va="center", fontsize=8)
        if k == 0:
            ax.annotate("master tab (+y)", (0, radius + 2), (0, radius + 30), ha="center",
                        arrowprops={"arrowstyle": "->"})
        ax.annotate("", (40, 0), (0, 0), arrowprops={"arrowstyle": "->", "color": "red"})
        ax.text(42, -6, "+x", color="red")
        ax.annotate("", (0, 40), (0, 0), arrowprops={"arrowstyle": "->", "color": "green"})
        ax.text(3, 42, "+y", color="green")
        ax.set_aspect("equal")
        ax.set_xlim(-140, 140)
        ax.set_ylim(-140, 150)
        ax.set_title(name)
        ax.axis("off")
    fig.suptitle("Strut numbering (tsf-like catalogue), both rings viewed from proximal "
                 "(+z toward you):\nnumbers increase counter-clockwise; strut 1 just clockwise "
                 "of the master tab", fontsize=10)
    return fig


def words() -> Figure:
    """AP views of the same words on a right and a left leg: sides by sign, not mirrored code."""
    fig = Figure(figsize=(10, 5.5))
    cases = [("10° varus", Deformity(ap_angulation_deg=10, ap_angulation_dir="varus")),
             ("10° valgus", Deformity(ap_angulation_deg=10, ap_angulation_dir="valgus")),
             ("6 mm medial", Deformity(ap_translation_mm=6, ap_translation_dir="medial"))]
    for row, side in enumerate(("right", "left")):
        for col, (label, d) in enumerate(cases):
            ax = fig.add_subplot(2, 3, row * 3 + col + 1)
            pose = distal_in_proximal(d, side)
            top = np.array([0.0, 0.0])
            ax.add_patch(Polygon([[-8, 0], [8, 0], [8, 80], [-8, 80]], color="lightgrey"))
            base = pose[[0, 2], 3]
            tip = base + 80 * (-pose[[0, 2], 2])
            normal = np.array([-(tip - base)[1], (tip - base)[0]])
            normal = 8 * normal / np.linalg.norm(normal)
            ax.add_patch(Polygon([base + normal, tip + normal, tip - normal, base - normal],
                                 color="tan"))
            ax.plot(*top, "r+", markersize=10)
            medial_x = -1 if side == "right" else 1
            ax.text(medial_x * 38, 60, "medial", ha="center", fontsize=8, color="blue")
            ax.text(-medial_x * 38, 60, "lateral", ha="center", fontsize=8, color="blue")
            ax.set_xlim(50, -50)  # as on an AP radiograph: patient's right on the left
            ax.set_ylim(-90, 85)
            ax.set_aspect("equal")
            ax.set_title(f"{side} leg: {label}", fontsize=9)
            ax.set_xticks([-40, 0, 40])
            ax.set_xlabel("x: patient's right (mm)", fontsize=7)
    fig.suptitle("AP views, drawn as on a radiograph (patient's right on the viewer's left):\n"
                 "the same words on both sides; +x is always the patient's right", fontsize=10)
    fig.tight_layout()
    return fig


def swing_twist() -> Figure:
    """Projected angles are exact: AP 19°, lateral 14° gives a true 23.03°."""
    d = Deformity(ap_angulation_deg=19, ap_angulation_dir="valgus", lat_angulation_deg=14,
                  lat_angulation_dir="apex_posterior")
    pose = distal_in_proximal(d, "right")
    axis = -pose[:3, 2]
    fig = Figure(figsize=(9, 4.5))
    for k, (i, name) in enumerate(((0, "AP view (x-z)"), (1, "lateral view (y-z)"))):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.plot([0, 0], [0, 100], color="grey", linewidth=6)
        ax.plot([0, 100 * axis[i]], [0, 100 * axis[2]], color="tan", linewidth=6)
        angle = np.degrees(np.arctan2(abs(axis[i]), -axis[2]))
        ax.text(5, -40, f"{angle:.2f}°", fontsize=12)
        ax.set_aspect("equal")
        ax.set_xlim(-60, 60)
        ax.set_ylim(-110, 110)
        ax.set_title(name)
    true = np.degrees(np.arccos(-axis[2]))
    fig.suptitle(f"Swing-twist: the X-rays show exactly 19° and 14°; true angle {true:.2f}°")
    return fig


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in (("numbering", numbering), ("words", words),
                       ("swing_twist", swing_twist)):
        make().savefig(OUT / f"{name}.png", dpi=90, metadata={"Software": "hexapod"})
        print(f"wrote {OUT / name}.png")


if __name__ == "__main__":
    main()
