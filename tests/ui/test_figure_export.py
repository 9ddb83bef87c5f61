"""Figure export through the real window (issue 25): PNG and SVG laid out as a page, the review untouched by
an export, and every failure said in the window."""

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from tests.session_factory import write_session

SVG_NS = "{http://www.w3.org/2000/svg}"


def open_known(qtbot, w, tmp_path):
    path = tmp_path / "sessions" / "2026-01-01T00-00-00_known.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_session(path, [(4.0, 10.0, 0.5)], workload="known")   # 1 000 samples, 1 ms apart, from -0.1 s
    w.sessions.refresh()
    w.sessions.open_path(path)
    plot = w.sessions.plot
    with qtbot.waitSignal(plot.markers_moved, timeout=5000):
        plot.set_markers(0.05, 0.35)
    return plot


def menu_action(w, text):
    for menu in w.menuBar().actions():
        for a in menu.menu().actions():
            if a.text().replace("&", "") == text:
                return a
    raise AssertionError(f"no menu entry {text!r}")


def export_through_menu(w, monkeypatch, entry, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    menu_action(w, entry).trigger()


def points_in(element) -> int:
    if element.tag == SVG_NS + "polyline":
        return len(element.get("points", "").split())
    if element.tag == SVG_NS + "path":
        d = element.get("d", "")
        return d.count("L") + d.count("l") + d.count("M")
    return 0


def test_svg_and_png_through_the_file_menu_leave_the_review_as_it_was(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window()
    w.resize(1366, 768)
    plot = open_known(qtbot, w, tmp_path)
    w.show_info("a line in the message bar, as the export will write one")   # the layout as it will be
    qtbot.waitUntil(lambda: w.width() == 1366 and plot.width() > 400)
    qtbot.wait(100)                                     # the docks take their size on later turns of the loop
    plot.plots[0][0].setXRange(0.1, 0.6, padding=0)        # zoomed in: 500 samples in view, drawn raw
    before = (plot.plots[0][0].viewRange()[0], plot.plots[0][0].vb.width(), plot.width())
    svg, png = tmp_path / "fig.svg", tmp_path / "fig.png"
    export_through_menu(w, monkeypatch, "Export plot as SVG…", svg)
    export_through_menu(w, monkeypatch, "Export plot as PNG…", png)
    assert "export failed" not in w.message.text and f"wrote {png}" in w.message.text
    # the review as it was: same time range, same plot widths
    after = (plot.plots[0][0].viewRange()[0], plot.plots[0][0].vb.width(), plot.width())
    assert after == before

    # the SVG parses as XML; its curves are there (the power trace's 500 samples in view: a long polyline or path)
    root = ET.parse(svg).getroot()
    assert root.tag == SVG_NS + "svg"
    longest = max(points_in(e) for e in root.iter())
    assert longest >= 400
    # Qt's SVG generator ignores clipping: each plot's curves sit in a group clipped to its data area, so
    # nothing drawn outside the view (marker A at 50 ms, the region's left part) spills over the axes
    for top in root:
        clipped = top.get("clip-path") is not None
        assert clipped or max((points_in(e) for e in top.iter()), default=0) < 400
    clip_ids = {c.get("id") for c in root.iter(SVG_NS + "clipPath")}
    assert {top.get("clip-path")[5:-1] for top in root if top.get("clip-path")} <= clip_ids
    texts = " ".join("".join(t.itertext()) for t in root.iter(SVG_NS + "text"))
    assert "known.h5" in texts and "run 1" in texts          # the title
    # the statistics, inside the page (10 W for 0.3 s between the markers: 3 J, by hand)
    assert "Δ" in texts and "t 300 ms" in texts and "E  3 J" in texts

    # the PNG: 1 800 px wide; nothing touches the page's edges (title, axes and statistics inside it)
    image = QImage(str(png))
    assert image.width() == 1800 and image.height() > 600

    def dark(x, y):
        c = image.pixelColor(x, y)
        return c.red() + c.green() + c.blue() < 3 * 200

    edge = 10
    for y in range(0, image.height(), 3):
        assert not any(dark(x, y) for x in (*range(edge), *range(image.width() - edge, image.width())))
    for x in range(0, image.width(), 3):
        assert not any(dark(x, y) for y in (*range(edge), *range(image.height() - edge, image.height())))
    # the title row: text in the top band, then a blank row before the plots begin
    rows = [any(dark(x, y) for x in range(0, image.width(), 2)) for y in range(200)]
    first = rows.index(True)
    assert first >= edge and False in rows[first:]


def test_a_failed_export_is_said_in_the_window(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window()
    open_known(qtbot, w, tmp_path)
    export_through_menu(w, monkeypatch, "Export plot as SVG…", tmp_path / "no-such-folder" / "fig.svg")
    assert w.message.isVisible() and "export failed" in w.message.text and "fig.svg" in w.message.text


def test_a_figure_with_nothing_on_show_says_so(qtbot, make_window, tmp_path):
    w = make_window()
    assert not w.sessions.export("png", str(tmp_path / "x.png")) or pytest.fail("exported an empty review")
