#!/usr/bin/env python3
"""An NVML sampler independent of Joulebench's launcher, to check it: reads every GPU's energy counter and
power (the instantaneous field where the driver offers it, and the 1 s average) as fast as --interval allows,
and writes CSV rows `t_monotonic_s,gpu,counter_mj,instant_mw,average_mw` (an empty field: not offered) until
it is killed. Usage: python3 benchmarks/nvml_sampler.py OUT.csv [--interval 0.01]"""

import argparse
import sys
import time

import pynvml


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("csv")
    ap.add_argument("--interval", type=float, default=0.01)
    args = ap.parse_args()
    pynvml.nvmlInit()
    handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    with open(args.csv, "w", buffering=1) as fh:
        fh.write("t_monotonic_s,gpu,counter_mj,instant_mw,average_mw\n")
        while True:
            for i, h in enumerate(handles):
                c0 = time.monotonic()
                counter = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
                t = (c0 + time.monotonic()) / 2
                try:
                    fv = pynvml.nvmlDeviceGetFieldValues(h, [186])[0]      # NVML_FI_DEV_POWER_INSTANT
                    instant = fv.value.uiVal if fv.nvmlReturn == 0 else ""
                except Exception:                 # NVMLError, or bindings without field values
                    instant = ""
                fh.write("%.6f,%d,%d,%s,%d\n" % (t, i, counter, instant, pynvml.nvmlDeviceGetPowerUsage(h)))
            time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
