"""Storage pools and volumes of the test driver through virtcore's native API.

What libvirt 9.0's test driver also does is pinned against it by
tests/test_testdriver_secondary_differential.py; these tests cover the native
API and what virtcore adds after libvirt's storage driver: volume upload and
download through streams, wipe, resize, ``virStorageVolGetInfoFlags`` and
lookup by target path. Every test starts on a fresh ``test:///default`` host.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore import errors
from virtcore.connection import Connection
from virtcore.drivers.test import driver as test_driver
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.storage import StoragePoolEventLifecycleType as PoolEvent
from virtcore.enums.storage import StorageVolResizeFlags as Resize
from virtcore.enums.storage import StorageVolWipeAlgorithm as Wipe
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Handle, StoragePool, StorageVol
from virtcore.registry import Registry

SAFETY_TIMEOUT = 10.0
MIB = 1024 * 1024
POOL = (
    "<pool type='dir'><name>p1</name><uuid>11111111-2222-3333-4444-5555555555a1</uuid>"
    "<target><path>/pools//p1/</path></target></pool>"
)


def volume(name: str, capacity: int = MIB, allocation: int = 0) -> str:
    """A volume document in bytes."""
    return (
        f"<volume><name>{name}</name><capacity>{capacity}</capacity>"
        f"<allocation>{allocation}</allocation></volume>"
    )


@pytest.fixture(scope="module")
def reg() -> Registry:
    """A registry with the built-in test plugin (registered by hand if not built in)."""
    reg = Registry(builtins=True, autoload=False)
    if not any(rec.name == "test" and rec.loaded for rec in reg.plugins()):
        reg.register(test_plugin, "test")
    return reg


@pytest.fixture(autouse=True)
def fresh_default_host() -> Iterator[None]:
    """Every test starts on a fresh ``test:///default`` host and leaves no connection open."""
    test_driver.reset_default_host()
    yield
    assert test_driver.default_host_refcount() == 0


@pytest.fixture
def conn(reg: Registry) -> Iterator[Connection]:
    """A connection to the ``test:///default`` host."""
    with virtcore.open("test:///default", registry=reg) as c:
        yield c


@pytest.fixture
def pool(conn: Connection) -> StoragePool:
    """The default host's running pool ``default-pool`` (empty, 100 GiB)."""
    return conn.storage_pool_lookup_by_name("default-pool")


@pytest.fixture
def vol(pool: StoragePool) -> StorageVol:
    """A 1 MiB volume ``v`` in ``default-pool`` with nothing allocated yet."""
    return pool.vol_create_xml(volume("v"))


def upload(conn: Connection, vol: StorageVol, data: bytes, offset: int = 0) -> None:
    """Write *data* into *vol* at *offset* through a stream."""
    stream = conn.new_stream()
    vol.upload(stream, offset)
    assert stream.send(data) == len(data)
    stream.finish()


def download(conn: Connection, vol: StorageVol, offset: int = 0, length: int = 0) -> bytes:
    """Read *vol* through a stream."""
    stream = conn.new_stream()
    vol.download(stream, offset, length)
    chunks = []
    while chunk := stream.recv(64 * 1024):
        chunks.append(chunk)
    stream.finish()
    return b"".join(chunks)


class PoolEvents:
    """The storage pool events (lifecycle and refresh) one connection receives."""

    def __init__(self, conn: Connection) -> None:
        self.items: list[tuple[str, str, int | None]] = []
        conn.storage_pool_event_register_any(0, self._on_event)
        conn.storage_pool_event_register_any(1, self._on_event)

    def _on_event(self, conn: Connection, pool: Handle, event: Event) -> None:
        assert isinstance(pool, StoragePool)
        kind = "refresh" if event.event_id == 1 else "lifecycle"
        self.items.append((pool.name, kind, int(event.args[0]) if event.args else None))

    def drain(self) -> list[tuple[str, str, int | None]]:
        """Events delivered so far (waiting for queued ones), then forget them."""
        assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
        out, self.items = self.items, []
        return out


# -- pools ------------------------------------------------------------------------------------


def test_pool_lifecycle_emits_libvirts_events(conn: Connection) -> None:
    events = PoolEvents(conn)
    pool = conn.storage_pool_define_xml(POOL)
    pool.build()
    pool.create()
    pool.refresh()
    pool.destroy()
    pool.delete()
    pool.undefine()
    assert events.drain() == [
        ("p1", "lifecycle", PoolEvent.DEFINED),
        ("p1", "lifecycle", PoolEvent.CREATED),
        ("p1", "lifecycle", PoolEvent.STARTED),
        ("p1", "refresh", None),
        ("p1", "lifecycle", PoolEvent.STOPPED),
        ("p1", "lifecycle", PoolEvent.DELETED),
        ("p1", "lifecycle", PoolEvent.UNDEFINED),
    ]


def test_listings_split_running_and_inactive_pools(conn: Connection) -> None:
    conn.storage_pool_define_xml(POOL)
    assert (conn.list_storage_pools(), conn.list_defined_storage_pools()) == (
        ["default-pool"],
        ["p1"],
    )
    assert (conn.num_of_storage_pools(), conn.num_of_defined_storage_pools()) == (1, 1)


def test_pool_target_paths_are_sanitized_and_found(conn: Connection) -> None:
    pool = conn.storage_pool_define_xml(POOL)
    assert "<path>/pools/p1</path>" in pool.xml_desc()
    assert conn.storage_pool_lookup_by_target_path("/pools/p1//") == pool


def test_an_unknown_target_path_is_not_found(conn: Connection) -> None:
    with pytest.raises(errors.NoStoragePoolError) as info:
        conn.storage_pool_lookup_by_target_path("/nowhere")
    assert info.value.domain == ErrorDomain.STORAGE


def test_pool_lookup_by_volume_and_uuid(
    conn: Connection, pool: StoragePool, vol: StorageVol
) -> None:
    assert vol.storage_pool_lookup_by_volume() == pool
    assert conn.storage_pool_lookup_by_uuid(pool.uuid.upper()) == pool


def test_volume_sizes_count_against_the_pool(pool: StoragePool) -> None:
    pool.vol_create_xml(volume("a", 10 * MIB, 4 * MIB))
    before = pool.info()
    assert before.allocation == 4 * MIB
    assert before.available == before.capacity - 4 * MIB
    assert pool.num_of_volumes() == 1
    assert pool.list_volumes() == ["a"]


def test_find_storage_pool_sources_answers_like_the_test_driver(conn: Connection) -> None:
    found = conn.find_storage_pool_sources("netfs", "<source><host name='nas'/></source>")
    assert "<host name='nas'/>" in found and "<dir path='/testshare'/>" in found


def test_a_read_only_connection_cannot_change_storage(reg: Registry) -> None:
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        pool = ro.storage_pool_lookup_by_name("default-pool")
        assert pool.is_active()
        with pytest.raises(errors.OperationDeniedError):
            pool.vol_create_xml(volume("v"))
        with pytest.raises(errors.OperationDeniedError):
            pool.refresh()


# -- streams -----------------------------------------------------------------------------------


def test_uploaded_data_downloads_again(conn: Connection, vol: StorageVol) -> None:
    upload(conn, vol, b"hello world")
    assert download(conn, vol, 0, 11) == b"hello world"


def test_a_download_covers_the_whole_capacity_with_zeros_where_nothing_was_written(
    conn: Connection, vol: StorageVol
) -> None:
    upload(conn, vol, b"xyz", offset=10)
    data = download(conn, vol)
    assert len(data) == MIB
    assert data[:13] == bytes(10) + b"xyz"
    assert not any(data[13:])


def test_a_download_window_stops_at_the_capacity(conn: Connection, vol: StorageVol) -> None:
    assert download(conn, vol, MIB - 4, 100) == bytes(4)
    assert download(conn, vol, 2 * MIB, 0) == b""


def test_uploading_allocates_space_in_the_volume_and_pool(
    conn: Connection, pool: StoragePool, vol: StorageVol
) -> None:
    upload(conn, vol, b"a" * 1000)
    assert vol.info().allocation == 1000
    assert pool.info().allocation == 1000


def test_uploading_past_the_capacity_grows_the_volume(conn: Connection, vol: StorageVol) -> None:
    upload(conn, vol, b"tail", offset=MIB)
    assert vol.info().capacity == MIB + 4


def test_an_upload_window_refuses_data_beyond_its_length(conn: Connection, vol: StorageVol) -> None:
    stream = conn.new_stream()
    vol.upload(stream, 0, 3)
    assert stream.send(b"abcdef") == 3
    with pytest.raises(errors.VirtError) as info:
        stream.send(b"g")
    assert info.value.code == ErrorNumber.SYSTEM_ERROR
    assert info.value.message == "cannot write to stream: No space left on device"
    stream.abort()
    assert download(conn, vol, 0, 4) == b"abc\x00"


def test_closing_an_upload_refreshes_the_pool(conn: Connection, vol: StorageVol) -> None:
    events = PoolEvents(conn)
    upload(conn, vol, b"data")
    stream = conn.new_stream()
    vol.upload(stream)
    stream.abort()
    assert events.drain() == [("default-pool", "refresh", None)] * 2


def test_a_finished_stream_cannot_be_used_again(conn: Connection, vol: StorageVol) -> None:
    stream = conn.new_stream()
    vol.download(stream)
    stream.finish()
    with pytest.raises(errors.OperationInvalidError, match="stream is not open"):
        stream.recv(10)
    with pytest.raises(errors.OperationInvalidError, match="stream is not open"):
        stream.finish()


def test_a_stream_fails_once_its_volume_is_gone(conn: Connection, vol: StorageVol) -> None:
    stream = conn.new_stream()
    vol.upload(stream)
    vol.delete()
    with pytest.raises(errors.NoStorageVolError):
        stream.send(b"x")


def test_a_stream_fails_once_its_pool_stopped(
    conn: Connection, pool: StoragePool, vol: StorageVol
) -> None:
    stream = conn.new_stream()
    vol.download(stream)
    pool.destroy()
    with pytest.raises(errors.OperationInvalidError, match="is not active"):
        stream.recv(10)


def test_transfers_need_a_running_pool(
    conn: Connection, pool: StoragePool, vol: StorageVol
) -> None:
    pool.destroy()
    with pytest.raises(errors.OperationInvalidError) as info:
        vol.upload(conn.new_stream())
    assert info.value.message == (
        "Requested operation is not valid: storage pool 'default-pool' is not active"
    )


def test_a_read_only_connection_can_neither_upload_nor_download(
    reg: Registry, vol: StorageVol
) -> None:
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        handle = ro.storage_vol_lookup_by_path(vol.path())
        for transfer in (handle.upload, handle.download):
            with pytest.raises(errors.OperationDeniedError):
                transfer(ro.new_stream())


def test_a_clone_copies_the_data(conn: Connection, pool: StoragePool, vol: StorageVol) -> None:
    upload(conn, vol, b"original")
    clone = pool.vol_create_xml_from(volume("copy"), vol)
    assert download(conn, clone, 0, 8) == b"original"


# -- wipe, resize, info --------------------------------------------------------------------------


def test_wiping_leaves_zeros(conn: Connection, vol: StorageVol) -> None:
    upload(conn, vol, b"secret")
    vol.wipe()
    assert download(conn, vol, 0, 6) == bytes(6)


def test_wipe_patterns_other_than_trim_are_accepted(conn: Connection, vol: StorageVol) -> None:
    upload(conn, vol, b"secret")
    vol.wipe_pattern(Wipe.GUTMANN)
    assert download(conn, vol, 0, 6) == bytes(6)
    with pytest.raises(errors.ArgumentUnsupportedError, match="'trim' algorithm not supported"):
        vol.wipe_pattern(Wipe.TRIM)
    with pytest.raises(errors.InvalidArgError, match="wiping algorithm 99 not supported"):
        vol.wipe_pattern(99)


def test_resizing_grows_and_shrinks_with_the_right_flags(vol: StorageVol) -> None:
    vol.resize(2 * MIB)
    assert vol.info().capacity == 2 * MIB
    vol.resize(MIB // 2, Resize.DELTA)
    assert vol.info().capacity == 2 * MIB + MIB // 2
    with pytest.raises(errors.InvalidArgError, match="unless shrink flag explicitly specified"):
        vol.resize(MIB)
    vol.resize(MIB, Resize.SHRINK)
    vol.resize(MIB // 2, Resize.SHRINK | Resize.DELTA)
    assert vol.info().capacity == MIB // 2


def test_allocating_resize_takes_space_from_the_pool(pool: StoragePool, vol: StorageVol) -> None:
    vol.resize(4 * MIB, Resize.ALLOCATE)
    assert vol.info().allocation == 4 * MIB
    assert pool.info().allocation == 4 * MIB


def test_resize_respects_allocation_and_pool_space(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(volume("full", MIB, MIB))
    with pytest.raises(errors.InvalidArgError, match="below existing allocation"):
        vol.resize(MIB // 2, Resize.SHRINK)
    with pytest.raises(errors.OperationFailedError, match="Not enough space left"):
        vol.resize(pool.info().capacity * 2, Resize.ALLOCATE)


def test_info_flags_reports_type_and_sizes(vol: StorageVol) -> None:
    assert vol.info_flags(1) == vol.info()
    with pytest.raises(errors.InvalidArgError, match="unsupported flags"):
        vol.info_flags(2)


# -- configuration files -------------------------------------------------------------------------


def test_configuration_file_volumes_keep_their_key_and_path(reg: Registry, tmp_path: Path) -> None:
    config = tmp_path / "host.xml"
    config.write_text(
        "<node><pool type='dir'><name>cp</name><target><path>/cp</path></target>"
        "<volume><name>v.img</name><key>mykey</key><capacity>2048</capacity>"
        "<target><path>/other/v.img</path></target></volume></pool></node>"
    )
    with virtcore.open(f"test://{config}", registry=reg) as conn:
        vol = conn.storage_vol_lookup_by_key("mykey")
        assert (vol.name, vol.path()) == ("v.img", "/other/v.img")
        assert conn.storage_pool_lookup_by_name("cp").info().allocation == 2048


def test_a_stream_carries_data_one_way_only(conn: Connection, vol: StorageVol) -> None:
    up, down = conn.new_stream(), conn.new_stream()
    vol.upload(up)
    vol.download(down)
    with pytest.raises(errors.OperationInvalidError, match="upload stream"):
        up.recv(1)
    with pytest.raises(errors.OperationInvalidError, match="download stream"):
        down.send(b"x")


# -- sparse streams ---------------------------------------------------------------------------

SPARSE = 1  # VIR_STORAGE_VOL_{UPLOAD,DOWNLOAD}_SPARSE_STREAM
STOP_AT_HOLE = 1  # VIR_STREAM_RECV_STOP_AT_HOLE
AT_HOLE = -3


def sparse_upload(conn: Connection, vol: StorageVol, sections: list[bytes | int]) -> None:
    """Upload *sections* (data, or the length of a hole) through a sparse stream."""
    stream = conn.new_stream()
    vol.upload(stream, 0, 0, SPARSE)
    for section in sections:
        if isinstance(section, int):
            stream.send_hole(section)
        else:
            assert stream.send(section) == len(section)
    stream.finish()


def sparse_download(conn: Connection, vol: StorageVol) -> list[bytes | int]:
    """A sparse download as libvirt's sparseRecvAll sees it: data chunks and hole lengths."""
    stream = conn.new_stream()
    vol.download(stream, 0, 0, SPARSE)
    out: list[bytes | int] = []
    while True:
        got = stream.recv_flags(64 * 1024, STOP_AT_HOLE)
        if got == AT_HOLE:
            out.append(stream.recv_hole())
            continue
        assert isinstance(got, bytes)
        if not got:
            break
        out.append(got)
    stream.finish()
    return out


def test_a_sparse_upload_round_trips_data_and_holes(conn: Connection, vol: StorageVol) -> None:
    sparse_upload(conn, vol, [b"a" * 4096, 8192, b"b" * 4096])
    assert sparse_download(conn, vol) == [b"a" * 4096, 8192, b"b" * 4096]


def test_a_sent_hole_truncates_the_volume_where_it_ends(conn: Connection, vol: StorageVol) -> None:
    # The file stream seeks past the hole and truncates there: the 1 MiB volume shrinks.
    sparse_upload(conn, vol, [b"x" * 10, 20])
    assert vol.info().capacity == 30
    assert sparse_download(conn, vol) == [b"x" * 10, 20]


def test_a_plain_receive_reads_a_hole_as_zeros(conn: Connection, vol: StorageVol) -> None:
    sparse_upload(conn, vol, [b"head", 6, b"tail"])
    stream = conn.new_stream()
    vol.download(stream, 0, 0, SPARSE)
    assert [stream.recv(100), stream.recv(100), stream.recv(100), stream.recv(100)] == [
        b"head",
        bytes(6),
        b"tail",
        b"",
    ]
    stream.finish()


def test_the_unwritten_part_of_a_volume_downloads_as_a_hole(
    conn: Connection, vol: StorageVol
) -> None:
    upload(conn, vol, b"data")
    assert sparse_download(conn, vol) == [b"data", MIB - 4]


def test_a_sparse_download_window_clips_its_sections(conn: Connection, vol: StorageVol) -> None:
    sparse_upload(conn, vol, [b"abcd", 100, b"efgh"])
    stream = conn.new_stream()
    vol.download(stream, 2, 50, SPARSE)
    assert stream.recv_flags(100, STOP_AT_HOLE) == b"cd"
    assert stream.recv_flags(100, STOP_AT_HOLE) == AT_HOLE
    assert stream.recv_hole() == 48
    assert stream.recv_flags(100, STOP_AT_HOLE) == b""
    stream.finish()


def test_writing_data_over_a_hole_fills_it(conn: Connection, vol: StorageVol) -> None:
    sparse_upload(conn, vol, [b"1234", 8, b"5678"])
    upload(conn, vol, b"zz", offset=6)
    assert sparse_download(conn, vol) == [b"1234", 2, b"zz", 4, b"5678"]


def test_holes_need_a_sparse_stream(conn: Connection, vol: StorageVol) -> None:
    stream = conn.new_stream()
    vol.download(stream)
    with pytest.raises(errors.NoSupportError):
        stream.recv_hole()
    with pytest.raises(errors.NoSupportError):
        stream.recv_flags(10, STOP_AT_HOLE)
    stream.abort()
    stream = conn.new_stream()
    vol.upload(stream)
    with pytest.raises(errors.NoSupportError):
        stream.send_hole(10)
    stream.abort()


def test_a_hole_must_have_a_length(conn: Connection, vol: StorageVol) -> None:
    stream = conn.new_stream()
    vol.upload(stream, 0, 0, SPARSE)
    with pytest.raises(errors.InvalidArgError, match="must be greater than zero"):
        stream.send_hole(0)
    stream.abort()


def test_wiping_and_shrinking_forget_holes(conn: Connection, vol: StorageVol) -> None:
    sparse_upload(conn, vol, [b"ab", 10])
    vol.resize(5, Resize.SHRINK)
    assert sparse_download(conn, vol) == [b"ab", 3]
    vol.wipe()
    assert sparse_download(conn, vol) == [5]
