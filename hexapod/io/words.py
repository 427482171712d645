"""The case in clinical words, as ``hexapod check`` and the outputs print it (outputs layer)."""

from __future__ import annotations

from hexapod.anatomy import true_angulation
from hexapod.case import Case


def describe_deformity(case: Case) -> list[str]:
    """The case in words, as ``hexapod check`` prints it."""
    d = case.deformity

    def word(value: float, direction: str | None, unit: str) -> str:
        return f"{value:.1f}{unit} {(direction or '').replace('_', ' ')}" if value else f"0{unit}"

    true, plane = true_angulation(d.ap_angulation_deg, d.lat_angulation_deg)
    lines = [
        f"{case.patient.side} {case.patient.bone or 'limb'}, {case.mode} mode, "
        f"{case.frame.reference} reference, {case.correction.method} correction",
        "distal fragment: "
        + ", ".join([
            f"{word(d.ap_angulation_deg, d.ap_angulation_dir, '°')} (AP view)",
            f"{word(d.lat_angulation_deg, d.lat_angulation_dir, '°')} (lateral view)",
            f"{word(d.ap_translation_mm, d.ap_translation_dir, ' mm')} (AP view)",
            f"{word(d.lat_translation_mm, d.lat_translation_dir, ' mm')} (lateral view)",
            f"{word(d.axial_rotation_deg, d.axial_rotation_dir, '°')} rotation",
            f"{word(d.axial_translation_mm, d.axial_translation_dir, ' mm')} axial"]),
        f"true angulation {true:.1f}°, plane of deformity {plane:.0f}° from the coronal plane",
    ]
    mnt = case.mounting
    lines.append(
        f"{case.frame.reference} (reference) ring centre: "
        f"{word(mnt.ap_offset_mm, mnt.ap_offset_dir, ' mm')}, "
        f"{word(mnt.lat_offset_mm, mnt.lat_offset_dir, ' mm')}, "
        f"{word(mnt.axial_offset_mm, mnt.axial_offset_dir, ' mm')} of the origin; master tab "
        + (f"turned {mnt.rotary_offset_deg:.1f}° toward {mnt.rotary_offset_dir}"
           if mnt.rotary_offset_deg else "anterior"))
    for s in case.structures_at_risk:
        lines.append(f"structure at risk '{s.name}': {word(s.ap_mm, s.ap_dir, ' mm')}, "
                     f"{word(s.lat_mm, s.lat_dir, ' mm')}, {word(s.axial_mm, s.axial_dir, ' mm')}"
                     " of the origin")
    return lines
