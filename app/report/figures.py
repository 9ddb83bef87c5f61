"""Figures drawn with pyqtgraph and exported to PNG, offscreen when there is no display."""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
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


@dataclass
class FigurePage:
    """A drawing laid out as a figure: the title above it, the caption lines (the statistics) below it, all
    inside the page. view: the QGraphicsView on screen (its visible part is drawn, as shown; nothing of it
    is resized or moved); hidden: items of its scene left out of the figure (e.g. a box the caption repeats)."""

    view: Any
    title: str = ""
    caption: tuple[str, ...] = ()
    hidden: tuple = ()


SVG = "{http://www.w3.org/2000/svg}"
ET.register_namespace("", SVG[1:-1])
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
PAGE_MARGIN = 0.025            # of the page's width, on every side
TITLE_PX_PER_WIDTH = 0.014     # the title's pixel size, as a fraction of the page's width
CAPTION_PX_PER_WIDTH = 0.0095
MIN_WIDTH_PX = 400


def export_scene(figure, out: str | Path, kind: str, *, width_px: int | None = None) -> str:
    """A figure (a FigurePage, or a bare pyqtgraph scene) written as a PNG width_px wide or an SVG, laid out
    as a page: title, drawing, caption. Qt's own QSvgGenerator writes the SVG (pyqtgraph 0.14's SVG exporter
    raises in correctCoordinates). Every failure is a ReportError naming the file; returns what was written."""
    _qt_app()
    page = figure if isinstance(figure, FigurePage) else FigurePage(view=_view_of(figure))
    if page.view is None:
        raise ReportError(f"cannot draw {out}: nothing is on show to export")
    source = page.view.mapToScene(page.view.viewport().rect()).boundingRect()
    if source.width() <= 0 or source.height() <= 0:
        raise ReportError(f"cannot draw {out}: the plot has no size on screen yet (show the window first)")
    width = max(MIN_WIDTH_PX, int(width_px or 0) or int(source.width() * 1.5))
    data = _page_bytes(page, source, width, kind)
    try:
        Path(out).write_bytes(data)
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return f"{kind.upper()} {width} px wide"


def _view_of(scene):
    views = scene.views() if scene is not None else []
    return views[0] if views else None


def _page_bytes(page: FigurePage, source, width: int, kind: str) -> bytes:
    """The page drawn twice: once to measure (text heights), once onto the PNG or SVG."""
    from PySide6.QtGui import QImage, QPainter

    height, _ = _draw_page(None, page, source, width)
    if kind == "svg":
        return _svg_bytes(page, source, width, height)
    if kind != "png":
        raise ReportError(f"no figure format {kind!r}: png or svg")
    image = QImage(width, height, QImage.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.TextAntialiasing)
    try:
        _draw_page(painter, page, source, width)
    finally:
        painter.end()
    return _encoded(image)


def _encoded(image) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    ok = image.save(buf, "PNG")
    buf.close()
    if not ok:
        raise ReportError("cannot encode the PNG (Qt's PNG writer failed)")
    return bytes(data.data())


def _svg_pass(page: FigurePage, width: int, height: int, draw) -> ET.Element:
    """One drawing onto Qt's SVG generator, parsed."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setResolution(page.view.logicalDpiX())   # as the plots' cached drawings (QPicture) were recorded
    gen.setSize(QSize(width, height))
    gen.setViewBox(QRect(0, 0, width, height))
    gen.setTitle(page.title or "Joulebench figure")
    gen.setDescription("\n".join(page.caption))
    painter = QPainter()
    if not painter.begin(gen):
        raise ReportError("cannot draw the SVG: Qt's SVG generator refused to start")
    try:
        draw(painter)
    finally:
        painter.end()
    buf.close()
    return ET.fromstring(bytes(data.data()))


def _svg_bytes(page: FigurePage, source, width: int, height: int) -> bytes:
    """Qt's SVG generator ignores clipping, so each plot's data area is drawn on its own and clipped with an
    SVG clipPath: first the page with every data area left empty (title, axes, labels, caption), then each
    data area alone, inside its rectangle."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor

    scene = page.view.scene()
    boxes = [vb for vb in scene.items() if type(vb).__name__ == "ViewBox" and vb.isVisible()
             and vb.sceneBoundingRect().intersects(source)]
    groups = [vb.childGroup for vb in boxes]
    frame_items = tuple(it for it in scene.items() if type(it).__name__ in ("AxisItem", "LabelItem")
                        and it.isVisible())          # drawn once, with the frame

    def frame(painter):
        painter.fillRect(0, 0, width, height, QColor("white"))
        _draw_page(painter, page, source, width, hidden_extra=tuple(groups))
    root = _svg_pass(page, width, height, frame)
    _, plot_rect = _draw_page(None, page, source, width)
    k = plot_rect.width() / source.width()
    defs = root.find(f"{SVG}defs")
    if defs is None:
        defs = ET.SubElement(root, f"{SVG}defs")
    for n, vb in enumerate(boxes):
        src = vb.sceneBoundingRect().intersected(source)
        target = QRectF(plot_rect.x() + (src.x() - source.x()) * k, plot_rect.y() + (src.y() - source.y()) * k,
                        src.width() * k, src.height() * k)
        others = tuple(g for g in groups if g is not vb.childGroup) + tuple(page.hidden) + frame_items

        def area(painter, src=src, target=target, others=others):
            _render_hiding(scene, painter, target, src, others)
        drawn = _svg_pass(page, width, height, area)
        clip = ET.SubElement(defs, f"{SVG}clipPath", id=f"plot-area-{n}")
        ET.SubElement(clip, f"{SVG}rect", x=f"{target.x():.3f}", y=f"{target.y():.3f}",
                      width=f"{target.width():.3f}", height=f"{target.height():.3f}")
        group = ET.SubElement(root, f"{SVG}g", {"clip-path": f"url(#plot-area-{n})"})
        group.extend(e for e in drawn if e.tag not in (f"{SVG}title", f"{SVG}desc", f"{SVG}defs"))
    root.set("version", "1.1")
    root.attrib.pop("baseProfile", None)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _render_hiding(scene, painter, target, source, hidden) -> None:
    """scene.render, with `hidden` items left out and shown again after."""
    from PySide6.QtCore import Qt
    shown = [(item, item.isVisible()) for item in hidden]
    for item, _ in shown:
        item.setVisible(False)
    try:
        scene.render(painter, target, source, Qt.KeepAspectRatio)
    finally:
        for item, visible in shown:
            item.setVisible(visible)


def _draw_page(painter, page: FigurePage, source, width: int, hidden_extra: tuple = ()):
    """Lays out (and with a painter, draws) the page; returns its height in pixels and where the plots go."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QFontMetricsF

    margin = round(width * PAGE_MARGIN)
    inner = width - 2 * margin
    y = float(margin)
    title_font = QFont()
    title_font.setPixelSize(max(12, round(width * TITLE_PX_PER_WIDTH)))
    title_font.setBold(True)
    caption_font = QFont("monospace")
    caption_font.setStyleHint(QFont.TypeWriter)
    caption_font.setPixelSize(max(10, round(width * CAPTION_PX_PER_WIDTH)))
    flags = int(Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap)

    def text(block: str, font: QFont, color: str) -> None:
        nonlocal y
        if not block:
            return
        rect = QFontMetricsF(font).boundingRect(QRectF(margin, y, inner, 1e6), flags, block)
        if painter is not None:
            painter.setFont(font)
            painter.setPen(QColor(color))
            painter.drawText(QRectF(margin, y, inner, rect.height() + 2), flags, block)
        y += rect.height() + margin * 0.5

    text(page.title, title_font, "#111111")
    plot_rect = QRectF(margin, y, inner, source.height() * inner / source.width())
    if painter is not None:
        _render_hiding(page.view.scene(), painter, plot_rect, source, tuple(page.hidden) + hidden_extra)
    y += plot_rect.height() + margin * 0.5
    text("\n".join(page.caption), caption_font, "#222222")
    return math.ceil(y + margin * 0.5), plot_rect
