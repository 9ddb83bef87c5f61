"""A session whose run metadata was changed after it was written: the review names the damaged run and says it
was left out, instead of drawing a result that no longer matches its digest (docs/sessions.md)."""

import json

import h5py

from tests.ui.test_workspace import spike_session


def test_a_damaged_run_is_named_in_the_run_list_and_the_message_bar(make_window, tmp_path):
    path = spike_session(tmp_path / "d.h5")
    with h5py.File(path, "r+") as f:                     # one digit of the stored energy changed, not resealed
        res = f["runs/001/results"]
        record = json.loads(res.attrs["record_json"])
        record["energy_j"] = record["energy_j"] + 40.0
        res.attrs["record_json"] = json.dumps(record)
    w = make_window()
    w.sessions.open_path(path)
    assert [w.sessions.run_box.itemText(k) for k in range(w.sessions.run_box.count())] == ["1 · damaged"]
    text = w.message.label.text()
    assert "d.h5" in text and "run 1 is damaged" in text and "not used" in text
