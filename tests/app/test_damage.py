"""Damage is detected, never a silently different result (docs/sessions.md): Fletcher-32 on the raw codes, an
error naming the run and window, and a report over many files that leaves the damaged ones out and carries on."""

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from app.errors import SessionError
from app.session.reader import SessionReader
from tests.session_factory import write_session as _write


def write_session(path):
    """A session of two runs (idle 4.75 W, busy 11.4 W for 0.6 s and 3.0 s); returns its path."""
    _write(path, [(4.75, 11.4, 0.6), (4.75, 12.0, 3.0)])
    return Path(path)

ROOT = Path(__file__).resolve().parents[2]


def damage_middle_of(path: Path, dataset: str, nbytes: int = 20_000) -> None:
    """Overwrite nbytes in the middle of the first chunk of a raw dataset, in place (as a bad disk would)."""
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        info = ds.id.get_chunk_info(0)
        offset, size = info.byte_offset, info.size
    nbytes = min(nbytes, size // 4)
    with open(path, "r+b") as fh:
        fh.seek(offset + size // 2 - nbytes // 2)
        fh.write(bytes((b ^ 0x5A) for b in range(nbytes)))


def test_raw_datasets_carry_fletcher32_readable_by_any_hdf5_tool(tmp_path):
    path = write_session(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        ds = f["runs/001/windows/01/voltage"]
        assert ds.fletcher32 and ds.chunks is not None
    out = subprocess.run(["h5dump", "-p", "-H", "-d", "/runs/001/windows/01/voltage", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "CHECKSUM FLETCHER32" in out.stdout


def test_a_damaged_block_is_an_error_naming_run_and_window(tmp_path):
    path = write_session(tmp_path / "s.h5")
    damage_middle_of(path, "runs/001/windows/01/current")
    with SessionReader(path) as s:
        window = s.run(1).window(1)
        with pytest.raises(SessionError, match="run 1, window 1, current cannot be read: a damaged block"):
            window.current.code_slice(0, len(window.current))
        assert len(s.verify()) == 1 and s.verify()[0].startswith("run 1, window 1, current")
        window.voltage.code_slice(0, 10)                 # the rest of the file still reads


def test_report_over_many_files_leaves_the_damaged_ones_out_and_carries_on(tmp_path):
    good = write_session(tmp_path / "good.h5")
    bad = write_session(tmp_path / "bad.h5")
    damage_middle_of(bad, "runs/001/windows/01/voltage")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[:4096])
    out = tmp_path / "r.csv"
    res = subprocess.run([sys.executable, str(ROOT / "main.py"), "report", str(bad), str(truncated), str(good),
                          "--csv", str(out)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"left out {bad}: damaged raw data: run 1, window 1, voltage" in res.stderr
    assert f"left out {truncated}" in res.stderr and "2 of 3 session(s) were left out" in res.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert str(good) in text and str(bad) not in text


def test_an_older_session_without_checksums_still_opens(tmp_path, monkeypatch):
    import app.session.writer as session_module

    def without_checksums(self, group, name, dtype, n):      # what files written before checksums hold
        return group.create_dataset(name, shape=(n,), dtype=dtype, chunks=True)
    monkeypatch.setattr(session_module.SessionWriter, "_create_codes", without_checksums)
    path = write_session(tmp_path / "old.h5")
    monkeypatch.undo()
    with h5py.File(path, "r") as f:
        assert not f["runs/001/windows/01/voltage"].fletcher32
    with SessionReader(path) as s:
        assert s.verify() == [] and len(s.run(1).window(1).voltage) > 0


@pytest.mark.parametrize("n,dtype", [(3 * (1 << 20), np.uint8), (2_500_001, np.int16), (1000, np.int8)])
def test_chunks_written_directly_carry_the_checksum_hdf5_computes(tmp_path, monkeypatch, n, dtype):
    # the session writes raw chunks itself with a compiled Fletcher-32 when it can: the bytes on disk must be
    # exactly those HDF5's own filter writes (same chunking, padding of the last chunk, checksum), so h5py,
    # h5dump and HDFView read and verify them
    import app.session.writer as session_module
    from app.measure import scan_kernel
    from instruments.waveform import Waveform
    if not scan_kernel.AVAILABLE:
        pytest.skip("numba is not installed: the session goes through HDF5's filter only")
    codes = np.random.default_rng(8).integers(np.iinfo(dtype).min, np.iinfo(dtype).max, n).astype(dtype)
    wave = Waveform(codes=codes, y_increment=1.0, y_origin=0.0, y_reference=0.0, x_increment=1e-6, x_origin=0.0,
                    code_min=int(np.iinfo(dtype).min), code_max=int(np.iinfo(dtype).max))
    raw = {}
    for direct in (True, False):
        monkeypatch.setattr(session_module, "DIRECT_CHUNKS", direct)
        path = tmp_path / f"{direct}.h5"
        with session_module.SessionWriter(path, bench_toml="", resource="x") as w:
            w.begin_run().begin_window().write_channel("voltage", wave, {})
        with h5py.File(path, "r") as f:
            ds = f["runs/001/windows/01/voltage"]
            raw[direct] = [ds.id.read_direct_chunk((k,)) for k in range(0, n, ds.chunks[0])]
            assert np.array_equal(ds[()], codes)                 # read back through the checksum filter
    assert raw[True] == raw[False]
    out = subprocess.run(["h5dump", "-d", "/runs/001/windows/01/voltage", "-c", "4", str(tmp_path / "True.h5")],
                         capture_output=True, text=True)
    assert out.returncode == 0
