"""The fast attribute writer stores exactly what h5py's general path stores, as h5py and h5dump read it."""

import shutil
import subprocess

import h5py
import numpy as np
import pytest

from app.session.attrs import write_attr

VALUES = {"text": "hello wörld ✓", "empty": "", "json": '{"a": [1, 2]}', "float": 1.25, "nan": float("nan"),
          "int": -7, "big_int": 1 << 62, "bool": True, "np_float": np.float32(0.5),
          "list": [1.0, 2.0], "long_text": "x" * 100_000}


def test_every_value_reads_back_as_the_general_path_stores_it(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        fast, general = f.create_group("fast"), f.create_group("general")
        for k, v in VALUES.items():
            write_attr(fast, k, v)
            general.attrs[k] = v
        write_attr(fast, "text", "replaced")       # an existing attribute is replaced
        general.attrs["text"] = "replaced"
    with h5py.File(tmp_path / "a.h5", "r") as f:
        a, b = f["fast"].attrs, f["general"].attrs
        assert set(a) == set(b)
        for k in a:
            assert type(a[k]) is type(b[k]), k
            assert f["fast"].attrs.get_id(k).dtype == f["general"].attrs.get_id(k).dtype, k
            np.testing.assert_array_equal(a[k], b[k])
        assert a["text"] == "replaced" and a["int"] == -7 and a["long_text"] == "x" * 100_000


@pytest.mark.skipif(shutil.which("h5dump") is None, reason="h5dump (hdf5-tools) is not installed")
def test_h5dump_shows_the_text(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        write_attr(f, "label", "run A")
        write_attr(f, "shunt_ohm", 0.01)
    out = subprocess.run(["h5dump", "-A", str(tmp_path / "a.h5")], capture_output=True, text=True).stdout
    assert '"run A"' in out and "H5T_STRING" in out and "H5T_IEEE_F64LE" in out and "0.01" in out
