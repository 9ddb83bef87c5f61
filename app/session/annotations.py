"""The operator's named markers and notes, kept in the session (docs/sessions.md, "Annotations").

`/runs/NNN/annotations` is append-only: each annotation is a group `0001`, `0002`, … with attributes
window, t0_s, t1_s (seconds on that window's axis; t1_s equal to t0_s for a single instant), text and
created (ISO 8601, UTC). Adding one opens the file for update, writes the new group and nothing else (the raw
datasets, their checksums and every other attribute stay as they are), and closes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import h5py

from app.errors import SessionError
from app.session.format import read_attrs, run_name, set_attrs
from app.session.writer import utc_now_iso

MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class Annotation:
    number: int
    window: int
    t0_s: float
    t1_s: float
    text: str
    created: str


def add_annotation(path: str | Path, run: int, window: int, t0_s: float, t1_s: float, text: str) -> Annotation:
    text = text.strip()
    if not text:
        raise SessionError("an annotation needs a name or a note; type one")
    if len(text) > MAX_TEXT_CHARS:
        raise SessionError(f"the note has {len(text)} characters; keep it under {MAX_TEXT_CHARS}")
    if not (math.isfinite(t0_s) and math.isfinite(t1_s)):
        raise SessionError("the markers are not on the time axis; place them inside the window")
    t0_s, t1_s = sorted((float(t0_s), float(t1_s)))
    try:
        with h5py.File(path, "r+") as f:
            runs = f.get("runs")
            if runs is None or run_name(run) not in runs:
                raise SessionError(f"{path}: there is no run {run} to annotate")
            group = runs[run_name(run)].require_group("annotations")
            number = 1 + max((int(k) for k in group.keys() if k.isdigit()), default=0)
            created = utc_now_iso()
            g = group.create_group(f"{number:04d}")
            set_attrs(g, {"window": int(window), "t0_s": t0_s, "t1_s": t1_s, "text": text, "created": created,
                          "units": '{"t0_s": "s (window axis)", "t1_s": "s (window axis)"}'})
            f.flush()
    except OSError as exc:
        raise SessionError(f"{path}: the annotation could not be saved ({exc}); check that the file is not "
                           "open for writing elsewhere and that the folder is writable") from None
    return Annotation(number, int(window), t0_s, t1_s, text, created)


def read_annotations(run_group: h5py.Group) -> list[Annotation]:
    """A run's annotations in the order they were added (damaged ones are left out)."""
    if "annotations" not in run_group:
        return []
    out = []
    for key in sorted(k for k in run_group["annotations"].keys() if k.isdigit()):
        a = read_attrs(run_group["annotations"][key])
        try:
            out.append(Annotation(int(key), int(a["window"]), float(a["t0_s"]), float(a["t1_s"]), str(a["text"]),
                                  str(a.get("created", ""))))
        except (KeyError, TypeError, ValueError):
            continue
    return out
