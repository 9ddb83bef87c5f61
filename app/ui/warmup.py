"""Start-up work that keeps the window smooth: the compiled kernels loaded and the capture's modules imported
before the first capture needs them."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

_WARMED = threading.Event()


def warm_kernels() -> None:
    """Load the compiled scan kernels (numba's cache, and its type registries: ~0.4 s holding the interpreter
    lock, seconds on a fresh install where they are compiled). Run on a thread soon after the window opens,
    so this happens while the operator looks at the window, not during the first capture."""
    if _WARMED.is_set():
        return
    _WARMED.set()
    try:
        import numpy as np

        from app.measure import scan_kernel
        if not scan_kernel.AVAILABLE:
            return
        cv = np.zeros(4, np.int8)
        rows = [np.empty(1) for _ in range(10)]
        scan_kernel.rows_affine(cv, cv, 512, 1.0, 0.0, 0.0, 0.0, 0, *rows)
        scan_kernel.code_sum_rails(cv, -128, 127)
        scan_kernel.fletcher32(np.zeros(8, np.uint8))
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only means the first capture loads them itself
        log.info("the scan kernels were not warmed up: %s", exc)


def preload() -> None:
    """Import the instrument, SSH and capture modules now: importing them later on a worker thread holds
    the interpreter lock for ~0.1 s and would stall the window at the start of the first capture."""
    import pyvisa_py.tcpip  # noqa: F401
    import scipy.stats  # noqa: F401

    import app.capture.procedure  # noqa: F401
    import instruments.detect  # noqa: F401
    import instruments.sim.server  # noqa: F401
    import instruments.visa  # noqa: F401
    import workloads.facts  # noqa: F401
    import workloads.ssh_target  # noqa: F401
    try:
        import asyncssh  # noqa: F401
    except ImportError:
        pass
