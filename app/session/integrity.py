"""SHA-256 digests over a session's metadata (docs/sessions.md, "Every byte checked").

HDF5's Fletcher-32 covers the raw chunks only; a changed digit in an attribute (a run's `record_json`, a
channel's `y_increment`) or in an overview table would otherwise read back as a different, plausible number.
The writer stores a digest as the attribute `sha256` (hex) on three kinds of object, and the reader recomputes
each one when the file is opened:

- each window group: its attributes, and every object below it (the channels' attributes, shape and type; the
  overview's attributes and tables), every dataset's bytes except the raw codes, which carry Fletcher-32;
- each run group: its attributes, the names of its windows, and every other object below it (results,
  telemetry) except `windows` (digested per window) and `annotations` (appended later, on purpose);
- the file's root: its attributes, the run names, and the bench, target, workload and campaign groups.

The digest is fed, object by object in name order, with each attribute's name and value (text as UTF-8, numbers
and arrays as their numpy type and bytes) and each digested dataset's type, shape and bytes (a table with text
columns, such as the telemetry, by the repr of its rows). An object without
a digest (written before digests, or a run still open when its writer was killed) is unverified, not damaged.
"""

from __future__ import annotations

import hashlib
from typing import Any

import h5py
import numpy as np

DIGEST_ATTR = "sha256"
NOT_DIGESTED = ("annotations",)                  # appended to a closed session by design
ROOT_GROUPS = ("bench", "target", "workload", "campaign")


def _value_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes):
        return b"b" + value
    arr = np.asarray(value)
    if arr.dtype.kind == "O":
        return b"o" + repr(arr.shape).encode() + b"\0".join(_value_bytes(x) for x in arr.ravel())
    return _array_bytes(arr)


def _array_bytes(arr: np.ndarray) -> bytes:
    """An array's type, shape and values; a record with text fields by its values' repr (its bytes would hold
    the addresses of the strings in memory)."""
    head = arr.dtype.str.encode() + repr(arr.shape).encode()
    if arr.dtype.hasobject:
        return head + repr(arr.tolist()).encode("utf-8", "surrogatepass")
    return head + np.ascontiguousarray(arr).tobytes()


def _feed_attrs(h, node: h5py.HLObject) -> None:
    for name in sorted(node.attrs.keys()):
        if name == DIGEST_ATTR:
            continue
        h.update(b"\x01" + name.encode("utf-8", "surrogatepass") + b"\x00")
        h.update(_value_bytes(node.attrs[name]))


def _feed_tree(h, node: h5py.HLObject, skip: tuple[str, ...] = ()) -> None:
    """The node's attributes, then each member (but `skip`) in name order, recursively."""
    _feed_attrs(h, node)
    if isinstance(node, h5py.Dataset):
        h.update(b"\x02" + node.dtype.str.encode() + repr(node.shape).encode())
        if not node.fletcher32 and node.size:
            h.update(_array_bytes(np.asarray(node[()])))
        return
    for name in sorted(node.keys()):
        if name in skip or name in NOT_DIGESTED:
            continue
        h.update(b"\x03" + name.encode("utf-8", "surrogatepass") + b"\x00")
        _feed_tree(h, node[name])


def window_digest(group: h5py.Group) -> str:
    h = hashlib.sha256(b"joulebench window\x00")
    _feed_tree(h, group)
    return h.hexdigest()


def run_digest(group: h5py.Group) -> str:
    h = hashlib.sha256(b"joulebench run\x00")
    windows = sorted(group["windows"].keys()) if "windows" in group else []
    h.update(("\x04" + "/".join(windows)).encode())
    _feed_tree(h, group, skip=("windows",))
    return h.hexdigest()


def root_digest(f: h5py.File) -> str:
    h = hashlib.sha256(b"joulebench session\x00")
    _feed_attrs(h, f)
    runs = sorted(f["runs"].keys()) if "runs" in f else []
    h.update(("\x04" + "/".join(runs)).encode())
    for name in ROOT_GROUPS:
        if name in f:
            h.update(b"\x03" + name.encode() + b"\x00")
            _feed_tree(h, f[name])
    return h.hexdigest()


def seal(node: h5py.HLObject, digest: str) -> None:
    node.attrs[DIGEST_ATTR] = digest


def seal_window(group: h5py.Group) -> None:
    seal(group, window_digest(group))


def seal_run(group: h5py.Group) -> None:
    """The run's windows, then the run itself."""
    for name in sorted(group["windows"].keys()) if "windows" in group else []:
        seal_window(group["windows"][name])
    seal(group, run_digest(group))


def check(node: h5py.HLObject, compute) -> str | None:
    """None when the stored digest matches (or there is none: unverified); else what is wrong."""
    try:
        stored = node.attrs.get(DIGEST_ATTR)
        if stored is None:
            return None
        if isinstance(stored, bytes):
            stored = stored.decode("ascii", "replace")
        actual = compute(node)
    except (OSError, KeyError, RuntimeError, ValueError, TypeError, UnicodeError) as exc:
        return f"its metadata cannot be read ({type(exc).__name__}: {exc})"
    if actual != stored:
        return ("its metadata (attributes, JSON or overview tables) does not match the SHA-256 digest written "
                "when it was saved: the file was changed or damaged since")
    return None
