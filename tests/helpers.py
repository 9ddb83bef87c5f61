"""Test helpers: waveforms built from known volts."""

from __future__ import annotations

import numpy as np

from instruments.waveform import Waveform


def wave_from_volts(volts, *, gain_v: float, dtype=np.int16, x_increment: float = 1e-3,
                    x_origin: float = 0.0, channel: int = 1, y_origin: float = 0.0) -> Waveform:
    """Quantise `volts` to codes of `gain_v` volts each (code 0 = y_origin volts)."""
    info = np.iinfo(dtype)
    codes = np.rint((np.asarray(volts, dtype=np.float64) - y_origin) / gain_v)
    if codes.min() < info.min or codes.max() > info.max:
        raise ValueError("volts out of the code range; choose a larger gain_v")
    return Waveform(codes=codes.astype(dtype), y_increment=gain_v, y_origin=y_origin, y_reference=0.0,
                    x_increment=x_increment, x_origin=x_origin, code_min=int(info.min),
                    code_max=int(info.max), channel=channel)
