"""Waveform: one channel's raw ADC codes plus the scaling that turns them into
volts and seconds.

Every driver normalises its vendor's formula (docs/scopes.md, "Conversion
formulas") to one linear form, and keeps the vendor's own preamble beside it:

    volts(i) = (code[i] - y_reference) * y_increment + y_origin
    time(i)  = x_origin + i * x_increment          (seconds from the trigger)

The codes are kept as received (int8, uint8 or int16) and are never widened
here except for the slice asked for; `codes` may also be an h5py Dataset, so a
waveform read back from a session is sliced lazily from the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Y_FORMULA = "volts = (code - y_reference) * y_increment + y_origin"
X_FORMULA = "seconds = x_origin + index * x_increment"


@dataclass
class Waveform:
    codes: Any                 # np.ndarray or h5py.Dataset of int8/uint8/int16
    y_increment: float         # volts per code
    y_origin: float            # volts at code == y_reference
    y_reference: float         # code at y_origin
    x_increment: float         # seconds per sample
    x_origin: float            # seconds of sample 0 relative to the trigger
    code_min: int              # the ADC's lower rail, as a code
    code_max: int              # the ADC's upper rail, as a code
    channel: int = 0
    units: str = "V"
    vendor_preamble: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("y_increment", "y_origin", "y_reference", "x_increment", "x_origin"):
            value = float(getattr(self, name))
            if not np.isfinite(value):
                raise ValueError(f"waveform {name} is {value}; a finite number is needed")
            setattr(self, name, value)
        if self.x_increment <= 0:
            raise ValueError(f"waveform x_increment is {self.x_increment}; it must be above 0")
        if self.y_increment == 0:
            raise ValueError("waveform y_increment is 0; the codes cannot be scaled to volts")

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def gain_v(self) -> float:
        """Volts per code."""
        return self.y_increment

    @property
    def offset_v(self) -> float:
        """Volts at code 0."""
        return self.y_origin - self.y_reference * self.y_increment

    def code_slice(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        stop = len(self) if stop is None else stop
        return np.asarray(self.codes[start:stop])

    def volts(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Volts of samples [start, stop) as float64."""
        codes = self.code_slice(start, stop)
        return codes.astype(np.float64) * self.gain_v + self.offset_v

    def times(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Seconds from the trigger of samples [start, stop)."""
        stop = len(self) if stop is None else stop
        return self.x_origin + np.arange(start, stop, dtype=np.float64) * self.x_increment


def count_code(codes: np.ndarray, code: int) -> int:
    """How many samples hold `code`. For code 0 (Keysight's hole) this counts the non-zero bytes instead, which
    needs no temporary array: about three times faster than comparing."""
    codes = np.asarray(codes)
    if code == 0:
        return int(codes.size - np.count_nonzero(codes))
    return int(np.count_nonzero(codes == code))
