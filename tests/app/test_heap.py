"""app/system/heap.py: free heap memory is handed back after a capture, where the C library can."""

import sys
import threading

import pytest

from app.system import heap


@pytest.mark.skipif(not (sys.platform.startswith("linux") and heap.AVAILABLE),
                    reason="malloc_trim is glibc's; elsewhere release_free_memory is a no-op (tested below)")
def test_memory_freed_by_threads_goes_back_to_the_system():
    # a thread allocates 66 MB in 60 kB pieces (below glibc's 128 kB mmap threshold, so they come from the
    # thread's arena), frees all but the last and ends: the freed pages lie below a live block, so glibc cannot
    # shrink the arena by itself and keeps them resident until they are trimmed
    pinned = []

    def churn():
        blocks = [bytearray(b"\x01" * 60_000) for _ in range(1100)]
        pinned.append(blocks.pop())
        blocks.clear()
    t = threading.Thread(target=churn)
    t.start()
    t.join()
    before_mb = _rss_mb()
    assert heap.release_free_memory() is True          # glibc: 1 when memory was released
    assert before_mb - _rss_mb() > 30                  # most of the 66 MB, by /proc/self/status (resident + swapped)
    assert pinned[0][-1] == 1


def test_without_the_call_it_does_nothing(monkeypatch):
    monkeypatch.setattr(heap, "_malloc_trim", None)
    assert heap.release_free_memory() is False


def _rss_mb() -> float:
    """The process's pages held, resident or swapped out (VmRSS + VmSwap): on a busy machine the kernel may swap
    the freed pages out before the trim, which lowers VmRSS alone before the call and hides the release."""
    fields = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmSwap"):
                fields[key] = int(rest.split()[0]) / 1024
    if "VmRSS" not in fields:
        raise AssertionError("no VmRSS in /proc/self/status")
    return fields["VmRSS"] + fields.get("VmSwap", 0.0)
