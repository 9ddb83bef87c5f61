"""Renaming a file into place without ever replacing what is already there.

`os.replace` (and `os.rename` on POSIX) silently overwrites the destination: two captures that picked the same
name would lose one of them. Linux's `renameat2(..., RENAME_NOREPLACE)` renames atomically and fails with
EEXIST when the destination exists; where it is missing (other systems, an old C library) or the file system
refuses the flag (EINVAL), a hard link to the new name followed by unlinking the old one gives the same
guarantee (`link` never replaces either). Only a file system without hard links falls back to a check then a
rename, which a second writer could race; the session names are unique besides (app/capture/context.py).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
from pathlib import Path

from app.system.libc import linux_libc_function

log = logging.getLogger(__name__)
_AT_FDCWD = -100                  # <fcntl.h>: paths relative to the working directory
_RENAME_NOREPLACE = 1             # <linux/fs.h>
_renameat2 = linux_libc_function("renameat2", [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                               ctypes.c_uint], ctypes.c_int)


def rename_no_replace(src: str | Path, dst: str | Path) -> None:
    """Move src to dst; FileExistsError (and src left as it was) when dst exists."""
    src_b, dst_b = os.fsencode(src), os.fsencode(dst)
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, src_b, _AT_FDCWD, dst_b, _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.EPERM):      # the flag is understood: a real failure
            raise OSError(err, os.strerror(err), os.fsdecode(src), None, os.fsdecode(dst)) \
                if err != errno.EEXIST else FileExistsError(err, os.strerror(err), os.fsdecode(dst))
    try:
        os.link(src_b, dst_b)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        log.info("no hard links on this file system (%s): checking %s is free, then renaming", exc, dst)
        if os.path.lexists(dst_b):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fsdecode(dst)) from None
        os.rename(src_b, dst_b)
        return
    os.unlink(src_b)
