"""Opening a session (issue 25): File ▸ Open shows a file dialog (any folder), File ▸ Open recent lists what was
opened, and a .h5 dropped on the window opens in the review."""

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from tests.session_factory import write_session


def menu_entry(w, menu_title, text):
    for top in w.menuBar().actions():
        if top.text().replace("&", "") == menu_title:
            for a in top.menu().actions():
                if a.text().replace("&", "") == text:
                    return a
    raise AssertionError(f"no {menu_title} ▸ {text}")


def elsewhere(tmp_path, name="2026-02-02T10-00-00_far.h5"):
    """A session outside the browser's folder (the window's sessions are in tmp_path/sessions)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    path = folder / name
    write_session(path, [(4.0, 10.0, 0.5)], workload="far-away")
    return path


def test_file_open_shows_a_dialog_and_opens_any_folder(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window()
    path = elsewhere(tmp_path)
    asked = []

    def dialog(parent, caption, folder, filters):
        asked.append((caption, folder, filters))
        return str(path), filters.split(";;")[0]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(dialog))
    menu_entry(w, "File", "Open session…").trigger()
    assert asked and asked[0][1] == str(w.sessions_dir) and "*.h5" in asked[0][2]
    assert w.sessions.current == path and w.sessions.plot.trace is not None
    assert "far-away" not in w.message.text or not w.message.isVisible()
    # File ▸ Open recent lists it now, and after a restart (the same settings)
    recent = w.recent_menu
    recent.aboutToShow.emit()
    assert [a.text() for a in recent.actions()][0] == path.name
    assert w.review_control.recent() == [path.resolve()]


def test_a_cancelled_dialog_opens_nothing(qtbot, make_window, monkeypatch):
    w = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    menu_entry(w, "File", "Open session…").trigger()
    assert w.sessions.current is None and not w.message.isVisible()


def test_recent_entry_opens_and_a_vanished_one_is_named(qtbot, make_window, tmp_path):
    w = make_window()
    first, second = elsewhere(tmp_path), elsewhere(tmp_path, "2026-02-03T10-00-00_near.h5")
    assert w.review_control.open_path(first) and w.review_control.open_path(second)
    w.recent_menu.aboutToShow.emit()
    names = [a.text() for a in w.recent_menu.actions() if not a.isSeparator()]
    assert names[:2] == [second.name, first.name]                 # most recent first
    w.recent_menu.actions()[1].trigger()
    assert w.sessions.current == first
    second.unlink()
    w.recent_menu.aboutToShow.emit()
    entry = w.recent_menu.actions()[1]                             # [first, second] now: first was reopened
    assert entry.text() == second.name
    entry.trigger()
    assert "no such session file" in w.message.text and second.resolve() not in w.review_control.recent()


def drop(w, paths):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(200, 200), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(w, enter)
    if not enter.isAccepted():
        return False
    ev = QDropEvent(QPoint(200, 200).toPointF(), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(w, ev)
    return ev.isAccepted()


def test_a_session_dropped_on_the_window_opens(qtbot, make_window, tmp_path):
    w = make_window()
    path = elsewhere(tmp_path)
    other = tmp_path / "notes.txt"
    other.write_text("not a session")
    assert w.acceptDrops()
    assert not drop(w, [other]) and w.sessions.current is None    # refused at the door
    assert drop(w, [path])
    assert w.sessions.current == path and w.sessions.plot.trace is not None
    assert w.review_control.recent()[0] == path.resolve()
