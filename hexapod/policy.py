"""Clinical policy bounds: the plausible range of every number a case may hold, in one place.

A number outside these bounds is not a measurement of a limb; it is a typo, a unit mistake or a
hostile input, and it is refused where it is read (exit code 2, with its key path) before any
planning starts. Each bound is generous: it must never refuse a real case. The reason for each
is given beside it. The hardware limits (strut ranges, ring sizes, rates a frame can take) are
catalogue data and are checked against the catalogue, not here.
"""

from __future__ import annotations

import datetime as dt

#: Largest angulation or axial rotation, degrees (exclusive). At 90 degrees and beyond the two
#: clinical views no longer describe a unique deformity (an AP angulation of 95 degrees varus is
#: an 85 degree valgus deformity seen from behind), and no hexapod frame corrects it in one mount.
MAX_ANGLE_DEG = 90.0

#: Largest deformity translation (AP, lateral or axial), mm. Longer than the full stroke of the
#: longest strut of any frame in use (about 300 mm); a larger value cannot be corrected in one
#: frame and is almost certainly a unit mistake (cm or um for mm).
MAX_TRANSLATION_MM = 300.0

#: Largest mounting offset of the reference ring's centre from the origin, mm. The ring is
#: fixed on the limb near the osteotomy; the longest limb segment (an adult femur) is about
#: 500 mm, so an offset beyond it puts the ring off the limb.
MAX_OFFSET_MM = 500.0

#: Largest position of a structure at risk from the origin (per axis), mm. The structure moves
#: with the moving fragment and lies within the limb: the same reasoning as the offsets.
MAX_POSITION_MM = 500.0

#: Largest extra lengthening after the correction, mm. Lengthening beyond 200 mm in one frame is
#: not done (complication rates climb steeply past about 20 % of the bone's length).
MAX_EXTRA_LENGTHENING_MM = 200.0

#: Largest bone radius, mm (exclusive). The widest adult bone (femoral condyles) is under
#: 50 mm in radius; 100 mm leaves a margin for soft tissue drawn with the bone.
MAX_BONE_RADIUS_MM = 100.0

#: Largest latency before correction starts, days (inclusive). A year without distraction is a
#: consolidated bone, not a latency period.
MAX_LATENCY_DAYS = 365

#: Slowest distraction rate, mm/day (inclusive). Below about 0.25 mm/day the regenerate
#: consolidates prematurely (Ilizarov); 0.1 mm/day leaves margin for the slowest protocols and
#: bounds the plan's length (0.01 mm/day would give a plan of thousands of rows).
MIN_RATE_MM_PER_DAY = 0.1

#: Fastest distraction rate, mm/day (inclusive). Above about 2 mm/day the regenerate fails and
#: nerves stretch beyond their tolerance; 5 mm/day is far past any protocol.
MAX_RATE_MM_PER_DAY = 5.0

#: Adjustments a day, inclusive range. The patient turns the struts at most six times a day
#: (about every four waking hours); more is not followed in practice.
MIN_ADJUSTMENTS_PER_DAY = 1
MAX_ADJUSTMENTS_PER_DAY = 6

#: Largest plan length, days of correction. The slowest rate over the largest correction a frame
#: allows is under two years; a longer plan signals an input error and would make a sheet of
#: hundreds of pages. (For the planner: refuse plans longer than this.)
MAX_PLAN_DAYS = 730

#: Earliest and latest start date accepted. The calendar arithmetic of a plan (start + latency +
#: up to MAX_PLAN_DAYS) must stay far from the ends of the calendar (year 1 and 9999), and a
#: start outside these years is a typo.
EARLIEST_START_DATE = dt.date(1900, 1, 1)
LATEST_START_DATE = dt.date(2199, 12, 31)

#: Longest name, patient id, bone or structure-at-risk name, characters. The sheet header has
#: room for about 80 characters; 200 leaves room for long double names and keeps rendering
#: bounded (a million-character name took gigabytes to typeset).
MAX_NAME_CHARS = 200

#: Most structures at risk in one case. Each adds a pace check on every row; a limb has a few
#: nerves and vessels worth naming, not hundreds.
MAX_STRUCTURES_AT_RISK = 20

#: Largest ring size or strut reading, mm. The largest rings made are about 300 mm across and
#: the longest struts about 300 mm; 1000 mm stops absurd numbers (1e308) before the hardware
#: catalogue is asked.
MAX_FRAME_MM = 1000.0

#: Largest case file read, bytes. A case is about 2 kB; 1 MiB is generous and keeps reading a
#: device such as /dev/zero bounded.
MAX_CASE_FILE_BYTES = 1 << 20

#: Largest standard deviations the sensitivity analysis accepts (mm and degrees). A measurement
#: error larger than this is not a measurement, and samples would leave the frame's workspace.
MAX_SD_MM = 20.0
MAX_SD_DEG = 20.0
