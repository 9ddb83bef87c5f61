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
import logging

from app.system.libc import linux_libc_function

log = logging.getLogger(__name__)
_SYNC_FILE_RANGE_WRITE = 2        # <linux/fs.h>: initiate write-out of dirty pages not already under write-out
_sync_file_range = linux_libc_function("sync_file_range",
                                       [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint], ctypes.c_int)
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
