"""Volume upload and download streams (dense and sparse) and wiping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.storage.conftest import vol_xml
from virtcore.connection import Connection
from virtcore.enums.storage import StorageVolWipeAlgorithm as Alg
from virtcore.enums.stream import StreamRecvFlags
from virtcore.errors import (
    ArgumentUnsupportedError,
    InvalidArgError,
    NoSupportError,
    OperationInvalidError,
    VirtError,
)
from virtcore.events import Event
from virtcore.objects import StoragePool, StorageVol
from virtcore.objects.base import Handle

MIB = 1024 * 1024
SPARSE = 1


def _sparse_volume(pool: StoragePool, pool_dir: Path) -> StorageVol:
    """A 4 MiB raw volume with data at 1 MiB and at its last 4 KiB, holes elsewhere."""
    vol = pool.vol_create_xml(vol_xml("s.img", 4 * MIB, extra="<allocation>0</allocation>"))
    with open(pool_dir / "s.img", "r+b") as fh:
        fh.seek(MIB)
        fh.write(b"A" * 4096)
        fh.seek(4 * MIB - 4096)
        fh.write(b"Z" * 4096)
    return vol


def _download(conn: Connection, vol: StorageVol, flags: int = 0, **kw: int) -> bytes:
    stream = conn.new_stream()
    vol.download(stream, kw.get("offset", 0), kw.get("length", 0), flags)
    chunks = []
    while chunk := stream.recv(256 * 1024):
        chunks.append(chunk)
    stream.finish()
    return b"".join(chunks)


def test_download_returns_the_file_content(
    conn: Connection, pool: StoragePool, pool_dir: Path
) -> None:
    vol = _sparse_volume(pool, pool_dir)
    assert _download(conn, vol) == (pool_dir / "s.img").read_bytes()


def test_download_of_a_range(conn: Connection, pool: StoragePool, pool_dir: Path) -> None:
    vol = _sparse_volume(pool, pool_dir)
    assert _download(conn, vol, offset=MIB + 4090, length=10) == b"A" * 6 + bytes(4)


def test_sparse_download_reports_the_holes(
    conn: Connection, pool: StoragePool, pool_dir: Path
) -> None:
    vol = _sparse_volume(pool, pool_dir)
    stream = conn.new_stream()
    vol.download(stream, 0, 0, SPARSE)
    pieces: list[tuple[str, int]] = []
    while True:
        got = stream.recv_flags(MIB, StreamRecvFlags.STOP_AT_HOLE)
        if got == -3:
            pieces.append(("hole", stream.recv_hole()))
            continue
        assert isinstance(got, bytes)
        if not got:
            break
        pieces.append(("data", len(got)))
    stream.finish()
    assert pieces == [("hole", MIB), ("data", 4096), ("hole", 3 * MIB - 8192), ("data", 4096)]


def test_hole_calls_need_the_sparse_flag(conn: Connection, pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img"))
    stream = conn.new_stream()
    vol.download(stream)
    with pytest.raises(NoSupportError):
        stream.recv_hole()
    stream.abort()


def test_upload_writes_the_file_and_refreshes_the_pool(
    conn: Connection, pool: StoragePool, pool_dir: Path
) -> None:
    refreshes: list[str] = []

    def on_refresh(_c: Connection, obj: Handle, _e: Event) -> None:
        assert isinstance(obj, StoragePool)
        refreshes.append(obj.name)

    conn.storage_pool_event_register_any(1, on_refresh)
    vol = pool.vol_create_xml(vol_xml("a.img", 8192))
    stream = conn.new_stream()
    vol.upload(stream, 4096)
    assert stream.send(b"x" * 100) == 100
    stream.finish()
    assert conn.flush_events()
    data = (pool_dir / "a.img").read_bytes()
    assert data[4096:4196] == b"x" * 100 and data[:4096] == bytes(4096)
    assert refreshes == ["images"]


def test_upload_past_its_length_fails_after_accepting_what_fits(
    conn: Connection, pool: StoragePool
) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", 8192))
    stream = conn.new_stream()
    vol.upload(stream, 0, 10)
    assert stream.send(b"y" * 20) == 10
    with pytest.raises(VirtError) as err:
        stream.send(b"y")
    assert err.value.message == "cannot write to stream: No space left on device"
    stream.abort()


def test_sparse_upload_keeps_holes_and_clears_old_data(
    conn: Connection, pool: StoragePool, pool_dir: Path
) -> None:
    source = _sparse_volume(pool, pool_dir)
    target = pool.vol_create_xml(vol_xml("t.img", 4 * MIB))  # fully allocated, zeros
    (pool_dir / "t.img").write_bytes(b"\xee" * 4 * MIB)
    down, up = conn.new_stream(), conn.new_stream()
    source.download(down, 0, 0, SPARSE)
    target.upload(up, 0, 0, SPARSE)
    while True:
        got = down.recv_flags(MIB, StreamRecvFlags.STOP_AT_HOLE)
        if got == -3:
            up.send_hole(down.recv_hole())
            continue
        assert isinstance(got, bytes)
        if not got:
            break
        up.send(got)
    down.finish()
    up.finish()
    assert (pool_dir / "t.img").read_bytes() == (pool_dir / "s.img").read_bytes()
    assert os.stat(pool_dir / "t.img").st_blocks * 512 < MIB


def test_finished_stream_refuses_further_use(conn: Connection, pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img"))
    stream = conn.new_stream()
    vol.upload(stream)
    stream.finish()
    with pytest.raises(OperationInvalidError, match="stream is not open"):
        stream.send(b"x")


def test_stream_flags_are_checked(conn: Connection, pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img"))
    with pytest.raises(InvalidArgError) as err:
        vol.download(conn.new_stream(), 0, 0, 2)
    assert err.value.message == "unsupported flags (0x2) in function storageVolDownload"


# -- wipe -------------------------------------------------------------------------------------


def test_zero_wipe_of_an_allocated_volume_writes_zeros(pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", 64 * 1024))
    (pool_dir / "a.img").write_bytes(b"\x5a" * 64 * 1024)
    vol.wipe()
    assert (pool_dir / "a.img").read_bytes() == bytes(64 * 1024)


def test_zero_wipe_of_a_sparse_volume_keeps_it_sparse(pool: StoragePool, pool_dir: Path) -> None:
    vol = _sparse_volume(pool, pool_dir)
    vol.wipe()
    assert (pool_dir / "s.img").stat().st_size == 4 * MIB
    assert os.stat(pool_dir / "s.img").st_blocks == 0


@pytest.mark.parametrize(
    ("algorithm", "last"),
    [(Alg.NNSA, b"\x00"), (Alg.DOD, b"\xff"), (Alg.BSI, b"\x7f"), (Alg.SCHNEIER, None)],
)
def test_pattern_wipe_ends_with_the_algorithms_last_pass(
    pool: StoragePool, pool_dir: Path, algorithm: int, last: bytes | None
) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", 8192))
    (pool_dir / "a.img").write_bytes(b"\x11" * 8192)
    vol.wipe_pattern(algorithm)
    data = (pool_dir / "a.img").read_bytes()
    assert len(data) == 8192
    if last is not None:
        assert data == last * 8192
    else:
        assert data.count(0x11) < 200  # random data no longer looks like the old content


def test_gutmann_wipe_runs_all_passes(pool: StoragePool, pool_dir: Path) -> None:
    from virtcore.drivers.storage.wipe import PASSES

    assert len(PASSES[Alg.GUTMANN]) == 35
    vol = pool.vol_create_xml(vol_xml("a.img", 4096))
    vol.wipe_pattern(Alg.GUTMANN)
    assert (pool_dir / "a.img").stat().st_size == 4096


def test_trim_and_unknown_algorithms_are_refused(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", 4096))
    with pytest.raises(ArgumentUnsupportedError) as err:
        vol.wipe_pattern(Alg.TRIM)
    assert err.value.message == "argument unsupported: 'trim' algorithm not supported"
    with pytest.raises(InvalidArgError) as bad:
        vol.wipe_pattern(10)
    assert bad.value.detail == "wiping algorithm 10 not supported"
