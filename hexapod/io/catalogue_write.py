"""Write a complete hardware catalogue as TOML that :func:`load_catalogue` reads back equal.

Each ring is written with its own joint radius offset and pair spacing (no ring defaults), and
every number with its provenance, note and, where set, its measurement metadata.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from hexapod.hardware import FIT_FIELDS, Catalogue, Limits, Quantity


def toml_string(text: str) -> str:
    """A TOML basic string holding ``text`` exactly (escapes quotes, backslashes, controls)."""
    out = json.dumps(text, ensure_ascii=False)
    return out.replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    """A TOML literal for a number, text, date, boolean or (nested) list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if not np.isfinite(number):
            raise ValueError(f"a catalogue number must be finite, got {number}")
        text = repr(number)
        return text if any(c in text for c in ".en") else f"{text}.0"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def quantity_toml(q: Quantity) -> str:
    """``{ value = ..., provenance = ..., note = ..., [metadata] }`` on one line."""
    parts = [f"value = {toml_value(q.value)}", f"provenance = {toml_string(q.provenance)}",
             f"note = {toml_string(q.note)}"]
    parts += [f"{k} = {toml_value(v)}" for k, v in q.fit_fields.items() if k in FIT_FIELDS]
    return "{ " + ", ".join(parts) + " }"


def catalogue_to_toml(cat: Catalogue, header: Sequence[str] = ()) -> str:
    """The whole catalogue as TOML text.

    Parameters
    ----------
    cat : Catalogue
    header : sequence of str
        Comment lines written at the top (without ``#``).
    """
    lines = [f"# {h}".rstrip() for h in header]
    lay = cat.layout
    lines += ["schema_version = 1", f"name = {toml_string(cat.name)}",
              f"description = {toml_string(cat.description)}", "", "[layout]",
              f"provenance = {toml_string(lay.provenance)}", f"note = {toml_string(lay.note)}",
              f"proximal_pair_centre_deg = {toml_value(list(lay.proximal_pair_centre_deg))}",
              f"proximal_pair_side = {toml_value(list(lay.proximal_pair_side))}",
              f"distal_pair_centre_deg = {toml_value(list(lay.distal_pair_centre_deg))}",
              f"distal_pair_side = {toml_value(list(lay.distal_pair_side))}", "",
              "[colours]", f"value = {toml_value(list(cat.colours.value))}",
              f"provenance = {toml_string(cat.colours.provenance)}",
              f"note = {toml_string(cat.colours.note)}"]
    lines += [f"{k} = {toml_value(v)}" for k, v in cat.colours.fit_fields.items()]
    for ring in cat.rings:
        lines += ["", "[[rings]]", f"size_mm = {quantity_toml(ring.size_mm)}",
                  f"joint_radius_offset_mm = {quantity_toml(ring.joint_radius_offset_mm)}",
                  f"pair_spacing_mm = {quantity_toml(ring.pair_spacing_mm)}"]
        for key in ("proximal_joints_mm", "distal_joints_mm"):
            joints = getattr(ring, key)
            if joints is not None:
                lines.append(f"{key} = {quantity_toml(joints)}")
    for size in cat.strut_sizes:
        lines += ["", "[[strut_sizes]]", f"name = {toml_string(size.name)}"]
        for key in ("min_reading_mm", "max_reading_mm", "scale_increment_mm",
                    "reading_to_length_offset_mm"):
            lines.append(f"{key} = {quantity_toml(getattr(size, key))}")
    lines += ["", "[limits]"]
    lines += [f"{key} = {quantity_toml(getattr(cat.limits, key))}"
              for key in Limits.__dataclass_fields__]
    return "\n".join(lines) + "\n"
