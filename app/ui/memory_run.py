"""A run just analysed, held in memory while its capture goes on (its session file is still being written):
the same reading interface as a saved run and window (app/session/reader.py), so the review draws it."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.measure.analysis import WindowData
from app.measure.energy import ROW, PowerTrace, TraceSummary
from app.session.format import OVERVIEW_FACTOR
from app.session.overview import overview_levels


class MemoryWindow:
    """A captured window as the review reads a saved one."""

    in_memory = True          # no file behind it: closing a session file does not touch it

    def __init__(self, run: int, data: WindowData):
        self.run = run
        self.number = 1
        self.attrs = {"role": "run"}
        self._trace = data.trace
        self._summary = data.summary
        self._levels = overview_levels(data.summary)
        self.overview_row_samples = [ROW * OVERVIEW_FACTOR ** k for k in range(len(self._levels))]

    def trace(self) -> PowerTrace:
        return self._trace

    def summary(self) -> TraceSummary:
        return self._summary

    def overview_level(self, k: int) -> dict[str, np.ndarray]:
        return self._levels[k]


class MemoryRun:
    """A finished run (record, details, attributes) with its triggered window in memory."""

    def __init__(self, number: int, record: dict[str, Any], first: WindowData, details: dict[str, Any],
                 attrs: dict[str, Any]):
        self.number = number
        self.record = record
        self.details = details
        self.attrs = attrs
        self._window = MemoryWindow(number, first)

    def window_numbers(self) -> list[int]:
        return [1]

    def window(self, number: int) -> MemoryWindow:
        return self._window
