"""Figures drawn with pyqtgraph and exported to PNG, offscreen when there is no display."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import ReportError


def _qt_app():
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    return pg, pg.mkQApp()


def comparison_metric(summaries: list[dict[str, Any]]) -> str:
    """J/GOp when every workload declares operations, else energy."""
    if summaries and all(s.get("j_per_gop_mean") is not None for s in summaries):
        return "j_per_gop"
    return "energy_j"


def comparison_png(summaries: list[dict[str, Any]], out_png: str | Path, *, width_px: int = 960,
                   height_px: int = 540) -> str:
    """Bars of the mean per workload with 95 % CI error bars and the ratio to the best (lowest).

    Returns the metric drawn ("j_per_gop" or "energy_j").
    """
    if not summaries:
        raise ReportError("no complete runs to draw")
    metric = comparison_metric(summaries)
    means = [float(s[f"{metric}_mean"]) for s in summaries]
    cis = [float(s.get(f"{metric}_ci95") or 0.0) for s in summaries]
    names = [str(s.get("label") or s["workload"]) for s in summaries]
    best = min(m for m in means if m > 0) if any(m > 0 for m in means) else None
    unit = "J/GOp" if metric == "j_per_gop" else "J"
    log_scale = best is not None and max(means) / best > 100 and min(means) > 0

    pg, _app = _qt_app()
    import pyqtgraph.exporters  # noqa: F401  (registers ImageExporter)

    widget = pg.PlotWidget(background="w")
    widget.resize(width_px, height_px)
    plot = widget.getPlotItem()
    xs = list(range(len(names)))
    if log_scale:
        heights = [math.log10(m) for m in means]
        top = [math.log10(m + c) - math.log10(m) for m, c in zip(means, cis)]
        bottom = [math.log10(m) - math.log10(max(m - c, m * 1e-3)) for m, c in zip(means, cis)]
        plot.setLabel("left", f"log10 of {unit} (lower is better)")
    else:
        heights, top, bottom = means, cis, cis
        plot.setLabel("left", f"{'energy per operation' if metric == 'j_per_gop' else 'energy'}", units=unit)
    plot.addItem(pg.BarGraphItem(x=xs, height=heights, width=0.6, brush=(70, 130, 180)))
    plot.addItem(pg.ErrorBarItem(x=np.array(xs, float), y=np.array(heights, float),
                                 top=np.array(top, float), bottom=np.array(bottom, float), beam=0.2,
                                 pen=pg.mkPen("k", width=2)))
    for x, h, t, m in zip(xs, heights, top, means):
        ratio = f"×{m / best:.3g} of the best" if best else ""
        label = pg.TextItem(f"{m:.4g} {unit}\n{ratio}", color="k", anchor=(0.5, 1.0))
        label.setPos(x, h + t)
        plot.addItem(label)
    plot.getAxis("bottom").setTicks([[(x, n) for x, n in zip(xs, names)]])
    plot.setTitle(f"{'Energy per operation' if metric == 'j_per_gop' else 'Energy'} by workload "
                  "(mean, 95 % CI; ratio to the best)", color="k")
    plot.setYRange(0, max(h + t for h, t in zip(heights, top)) * 1.3 or 1.0, padding=0)
    plot.setXRange(-0.6, len(xs) - 0.4)
    widget.show()
    _app.processEvents()
    exporter = pg.exporters.ImageExporter(widget.scene())
    exporter.parameters()["width"] = width_px
    try:
        ok = exporter.export(str(out_png))
    except OSError as exc:
        raise ReportError(f"cannot write {out_png}: {exc}") from None
    if ok is False or not Path(out_png).exists():
        raise ReportError(f"cannot write {out_png}: the image could not be saved there")
    return metric


def export_scene(scene, out: str | Path, kind: str, *, width_px: int | None = None) -> None:
    """A pyqtgraph scene as drawn (the review plot on screen) written as a PNG (width_px wide) or an SVG."""
    import pyqtgraph.exporters
    if kind == "svg":
        exporter = pyqtgraph.exporters.SVGExporter(scene)
    else:
        exporter = pyqtgraph.exporters.ImageExporter(scene)
        if width_px:
            exporter.parameters()["width"] = width_px
    exporter.export(str(out))
