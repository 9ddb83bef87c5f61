"""Writing one HDF5 attribute, about twice as fast as `node.attrs[name] = value` for the common scalars.

A session stores some sixty attributes when it opens and some forty when a run ends, all on the way to the
result, and h5py's general path (type guessing, two type translations and a new dataspace for every value)
costs about 50 µs each. Text, float and int scalars are written here through h5py's low-level calls with
their HDF5 types made once: the same types h5py itself writes (variable-length UTF-8 text, 64-bit float,
64-bit int), so any reader sees exactly what the general path would have stored. Everything else (bool, numpy
values, arrays, lists) takes h5py's general path.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np
from h5py import h5a, h5s, h5t

_TEXT = h5py.string_dtype()                     # variable-length UTF-8, as h5py stores a str
_TEXT_FILE = h5t.py_create(_TEXT, logical=True)  # the type in the file
_TEXT_MEMORY = h5t.py_create(_TEXT)              # the type of the numpy object array written from
_F8 = h5t.py_create(np.dtype("f8"))
_I8 = h5t.py_create(np.dtype("i8"))
_I8_RANGE = (-(1 << 63), 1 << 63)


def write_attr(node: h5py.HLObject, name: str, value: Any) -> None:
    """node.attrs[name] = value (replacing an attribute of that name)."""
    if isinstance(value, str):
        data, file_type, memory_type = np.array(value, dtype=_TEXT), _TEXT_FILE, _TEXT_MEMORY
    elif isinstance(value, float):
        data, file_type, memory_type = np.array(value, dtype="f8"), _F8, _F8
    elif type(value) is int and _I8_RANGE[0] <= value < _I8_RANGE[1]:
        data, file_type, memory_type = np.array(value, dtype="i8"), _I8, _I8
    else:
        node.attrs[name] = value
        return
    key = name.encode("utf-8")
    if h5a.exists(node.id, key):        # each low-level call holds h5py's lock, as its high-level API does
        h5a.delete(node.id, key)
    attr = h5a.create(node.id, key, file_type, h5s.create(h5s.SCALAR))
    attr.write(data, mtype=memory_type)
