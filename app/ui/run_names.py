"""What a run is called on screen, the same everywhere (the review's run list, Results, Sessions, the compare
legend): a campaign's entry by its label, its workload and parameters beside it; a plain capture by its
workload."""

from __future__ import annotations

import json


def params_text(params) -> str:
    """{"trials": 100, "n": 256} -> "n=256, trials=100" (a JSON string is read first)."""
    if not params:
        return ""
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return params
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) if isinstance(params, dict) else str(params)


def entry_name(label, workload, params=None, *, with_params: bool = True) -> str:
    """A campaign entry: "python · heat-slab-python (trials=100)"; a plain capture: "cpu-burn"."""
    label, workload = str(label or ""), str(workload or "")
    name = f"{label} · {workload}" if label and workload and label != workload else (label or workload)
    extra = params_text(params) if with_params else ""
    return f"{name} ({extra})" if extra else name


def run_entry(attrs) -> str:
    """A run's entry from its attributes (label, workload, params); "" when it has none of them."""
    return entry_name(attrs.get("label"), attrs.get("workload"), attrs.get("params"))
