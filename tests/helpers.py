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


def write_hwmon(root, rails):
    """A fake INA3221 hwmon directory: rails is [(label, millivolts, milliamps)], channels numbered from 1."""
    root.mkdir(parents=True, exist_ok=True)
    for k, (label, mv, ma) in enumerate(rails, start=1):
        (root / f"in{k}_label").write_text(label + "\n")
        (root / f"in{k}_input").write_text(f"{mv}\n")
        (root / f"curr{k}_input").write_text(f"{ma}\n")
    return root


# The part of the nvidia-ml-py API (pynvml) the launcher uses, for a fake GPU; a test appends its own
# nvmlDeviceGetPowerUsage (mW) and nvmlDeviceGetTotalEnergyConsumption (mJ).
FAKE_PYNVML_BASE = """
import time
class NVMLError(Exception):
    pass
def nvmlInit():
    pass
def nvmlShutdown():
    pass
def nvmlDeviceGetCount():
    return 1
def nvmlDeviceGetHandleByIndex(i):
    return i
"""
