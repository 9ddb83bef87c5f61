"""Start writing a file's dirty pages to disk early, without waiting for them.

A session is fsynced when it is closed, so the result is on disk before it is called saved. Left alone, the
kernel keeps the raw codes in memory until that fsync, and the fsync then waits for the whole record to reach
the disk. Asking for write-out as each piece is written (Linux `sync_file_range(..., SYNC_FILE_RANGE_WRITE)`,
which queues the I/O and returns) lets the disk work while the rest of the record arrives and is analysed, so
the closing fsync waits only for the last piece. It changes nothing about what is durable when: the fsync at
close is still what makes the file safe. Where the call does not exist (macOS, Windows), this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)
_SYNC_FILE_RANGE_WRITE = 2        # <linux/fs.h>: initiate write-out of dirty pages not already under write-out


def _load():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_file_range = _load()
AVAILABLE = _sync_file_range is not None


def start_writeback(fd: int) -> bool:
    """Queue the write-out of every dirty page of the open file `fd`; returns at once. False where it cannot
    (another platform, or a file system that refuses it): the fsync at close then does all the work, as before."""
    if _sync_file_range is None:
        return False
    if _sync_file_range(fd, 0, 0, _SYNC_FILE_RANGE_WRITE) != 0:
        log.debug("sync_file_range failed (errno %d); the closing fsync writes everything", ctypes.get_errno())
        return False
    return True
