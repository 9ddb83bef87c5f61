"""Operating-system helpers with no domain knowledge: C library functions by name (libc), handing free heap
memory back (heap) and starting write-back early (writeback). Imports nothing else of app."""
