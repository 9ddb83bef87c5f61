"""One function of the C library by name, for the few Linux calls Python does not wrap (app/system/writeback.py,
app/system/heap.py); None on other systems or where this C library lacks it (musl has no malloc_trim)."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys


def linux_libc_function(name: str, argtypes: list, restype):
    """The C library's `name` with its argument and result types set, or None where it cannot be had. errno is
    kept for ctypes.get_errno()."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = argtypes
    fn.restype = restype
    return fn
