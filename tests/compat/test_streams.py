"""virStream: the calls, and libvirt-python's sendAll/recvAll loops including sparse ones."""

from __future__ import annotations

import pytest

from virtcore import libvirt
from virtcore.objects import Stream, StreamBackend

HOLE = -3


class MemoryBackend(StreamBackend):
    """A driver-side stream over bytes; ``layout`` mixes data chunks and hole lengths."""

    def __init__(self, layout: list[bytes | int] | None = None) -> None:
        self.received = bytearray()
        self.holes: list[int] = []
        self.layout = list(layout or [])
        self.finished = False
        self.aborted = False

    def send(self, data: bytes) -> int:
        self.received += data
        return len(data)

    def recv(self, nbytes: int) -> bytes:
        while self.layout and isinstance(self.layout[0], int):
            self.layout.pop(0)
        if not self.layout:
            return b""
        chunk = self.layout.pop(0)
        assert isinstance(chunk, bytes)
        return chunk[:nbytes]

    def recv_flags(self, nbytes: int, flags: int) -> bytes | int:
        if self.layout and isinstance(self.layout[0], int):
            return HOLE
        return self.recv(nbytes)

    def recv_hole(self, flags: int) -> int:
        hole = self.layout.pop(0)
        assert isinstance(hole, int)
        return hole

    def send_hole(self, length: int, flags: int) -> None:
        self.holes.append(length)

    def finish(self) -> None:
        self.finished = True

    def abort(self) -> None:
        self.aborted = True


def _stream(conn: libvirt.virConnect, backend: StreamBackend) -> libvirt.virStream:
    st = conn.newStream(0)
    native = st.native
    assert isinstance(native, Stream)
    native.bind(backend)
    return st


def test_new_stream_is_a_virstream(conn: libvirt.virConnect) -> None:
    assert isinstance(conn.newStream(), libvirt.virStream)


def test_unbound_stream_is_not_supported(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        conn.newStream().send(b"x")
    assert info.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT


def test_send_returns_the_bytes_accepted(conn: libvirt.virConnect) -> None:
    assert _stream(conn, MemoryBackend()).send(b"abc") == 3


def test_finish_and_abort_return_zero(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()
    st = _stream(conn, backend)
    assert (st.finish(), st.abort(), backend.finished, backend.aborted) == (0, 0, True, True)


def test_send_all_sends_until_the_handler_returns_nothing(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()
    chunks = [b"one", b"two", b""]
    _stream(conn, backend).sendAll(lambda st, n, opaque: opaque.pop(0), chunks)
    assert bytes(backend.received) == b"onetwo"


def test_send_all_aborts_when_the_handler_raises(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()

    def handler(st: libvirt.virStream, nbytes: int, opaque: object) -> bytes:
        raise OSError("disk gone")

    with pytest.raises(OSError):
        _stream(conn, backend).sendAll(handler, None)
    assert backend.aborted


def test_recv_all_passes_every_chunk(conn: libvirt.virConnect) -> None:
    got: list[bytes] = []
    st = _stream(conn, MemoryBackend([b"ab", b"cd"]))
    st.recvAll(lambda s, data, opaque: opaque.append(data), got)
    assert got == [b"ab", b"cd"]


def test_recv_all_aborts_when_the_handler_fails(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend([b"ab"])
    with pytest.raises(RuntimeError, match="returned -1"):
        _stream(conn, backend).recvAll(lambda s, data, opaque: -1, None)
    assert backend.aborted


def test_sparse_recv_all_reports_holes(conn: libvirt.virConnect) -> None:
    events: list[object] = []
    st = _stream(conn, MemoryBackend([b"ab", 4096, b"cd"]))
    st.sparseRecvAll(
        lambda s, data, opaque: opaque.append(data),
        lambda s, length, opaque: opaque.append(length),
        events,
    )
    assert events == [b"ab", 4096, b"cd"]


def test_sparse_send_all_turns_holes_into_send_hole(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()
    sections = [(True, 2), (False, 4096), (True, 2), (True, 0)]
    data = [b"ab", b"cd"]

    def hole_handler(st: libvirt.virStream, opaque: object) -> tuple[bool, int]:
        return sections.pop(0)

    _stream(conn, backend).sparseSendAll(
        lambda st, n, opaque: data.pop(0) if n else b"",
        hole_handler,
        lambda st, length, opaque: 0,
        None,
    )
    assert (bytes(backend.received), backend.holes) == (b"abcd", [4096])


def test_stream_callbacks_need_an_event_loop(conn: libvirt.virConnect) -> None:
    st = _stream(conn, MemoryBackend())
    with pytest.raises(libvirt.libvirtError):
        st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, lambda *a: None, None)


def test_stream_callback_runs_in_the_default_loop(conn: libvirt.virConnect) -> None:
    libvirt.virEventRegisterDefaultImpl()
    st = _stream(conn, MemoryBackend())
    seen: list[tuple[object, ...]] = []
    st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, lambda *a: seen.append(a), "o")
    libvirt.virEventRunDefaultImpl()
    st.eventRemoveCallback()
    assert seen == [(st, libvirt.VIR_STREAM_EVENT_READABLE, "o")]


# -- volume upload and download through the test driver --------------------------------
# libvirt's own test driver has neither call (python3-libvirt reports NO_SUPPORT), so
# these pin virtcore.libvirt against virtcore's native API instead of the oracle.

VOLUME = "<volume><name>data.img</name><capacity>{capacity}</capacity></volume>"
PAYLOAD = bytes(range(256)) * 2000  # two sendAll/recvAll chunks and a bit


def _volume(conn: libvirt.virConnect, capacity: int = len(PAYLOAD)) -> libvirt.virStorageVol:
    pool = conn.storagePoolLookupByName("default-pool")
    return pool.createXML(VOLUME.format(capacity=capacity), 0)


def _upload(conn: libvirt.virConnect, vol: libvirt.virStorageVol, data: bytes) -> None:
    chunks = [data[i : i + 100000] for i in range(0, len(data), 100000)] + [b""]
    st = conn.newStream(0)
    vol.upload(st, 0, 0, 0)
    st.sendAll(lambda s, nbytes, opaque: opaque.pop(0), chunks)
    st.finish()


def test_upload_with_send_all_then_download_with_recv_all_round_trips(
    conn: libvirt.virConnect,
) -> None:
    vol = _volume(conn)
    _upload(conn, vol, PAYLOAD)
    st = conn.newStream(0)
    vol.download(st, 0, 0, 0)
    got: list[bytes] = []
    st.recvAll(lambda s, data, opaque: opaque.append(data), got)
    st.finish()
    assert (b"".join(got), [len(c) for c in got]) == (PAYLOAD, [262120, len(PAYLOAD) - 262120])


def test_a_compat_download_reads_what_the_native_api_reads(conn: libvirt.virConnect) -> None:
    vol = _volume(conn)
    _upload(conn, vol, PAYLOAD)
    native = conn.native.new_stream()
    vol.native.download(native, 100, 5000)  # type: ignore[attr-defined]
    expected = native.recv(1 << 20)
    st = conn.newStream(0)
    vol.download(st, 100, 5000, 0)
    assert st.recv(1 << 20) == expected == PAYLOAD[100:5100]


def test_an_upload_past_its_length_fails_like_libvirts_file_stream(
    conn: libvirt.virConnect,
) -> None:
    vol = _volume(conn)
    st = conn.newStream(0)
    vol.upload(st, 0, 4, 0)
    chunks = [b"12345678", b"12345678", b""]
    with pytest.raises(libvirt.libvirtError) as info:
        st.sendAll(lambda s, nbytes, opaque: opaque.pop(0), chunks)
    assert (info.value.get_error_code(), info.value.get_error_domain()) == (
        libvirt.VIR_ERR_SYSTEM_ERROR,
        libvirt.VIR_FROM_STREAMS,
    )


def test_a_sparse_upload_to_a_dense_volume_stream_is_not_supported(
    conn: libvirt.virConnect,
) -> None:
    vol = _volume(conn)
    st = conn.newStream(0)
    vol.upload(st, 0, 0, 0)
    with pytest.raises(libvirt.libvirtError) as info:
        st.sparseSendAll(
            lambda s, nbytes, opaque: b"",
            lambda s, opaque: (False, 4096),
            lambda s, length, opaque: 0,
            None,
        )
    assert info.value.get_str2() == "virStreamSendHole"


def test_sparse_send_all_then_sparse_recv_all_round_trips_holes(
    conn: libvirt.virConnect,
) -> None:
    vol = _volume(conn)
    layout: list[bytes | int] = [b"a" * 1000, 5000, b"b" * 300]
    source = list(layout)

    def in_data(st: libvirt.virStream, opaque: list[bytes | int]) -> tuple[bool, int]:
        if not opaque:
            return True, 0
        head = opaque[0]
        return (False, head) if isinstance(head, int) else (True, len(head))

    def skip(st: libvirt.virStream, length: int, opaque: list[bytes | int]) -> int:
        opaque.pop(0)
        return 0

    def read(st: libvirt.virStream, nbytes: int, opaque: list[bytes | int]) -> bytes:
        if not opaque:
            return b""  # the end: libvirt-python asks for 0 bytes and stops at b""
        head = opaque.pop(0)
        assert isinstance(head, bytes) and len(head) <= nbytes
        return head

    st = conn.newStream(0)
    vol.upload(st, 0, 0, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
    st.sparseSendAll(read, in_data, skip, source)
    st.finish()
    got: list[bytes | int] = []
    st = conn.newStream(0)
    vol.download(st, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
    st.sparseRecvAll(
        lambda s, data, opaque: opaque.append(data),
        lambda s, length, opaque: opaque.append(length),
        got,
    )
    st.finish()
    assert got == layout
