"""libvirt's event-loop API: the default poll() loop and externally registered loops."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from virtcore import libvirt

SAFETY = 10.0


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


@pytest.fixture
def default_loop() -> None:
    assert libvirt.virEventRegisterDefaultImpl() == 0


def test_adding_a_handle_without_a_loop_fails() -> None:
    with pytest.raises(libvirt.libvirtError, match=r"virEventAddHandle\(\) failed"):
        libvirt.virEventAddHandle(0, libvirt.VIR_EVENT_HANDLE_READABLE, lambda *a: None, None)


def test_adding_a_timeout_without_a_loop_fails() -> None:
    with pytest.raises(libvirt.libvirtError, match=r"virEventAddTimeout\(\) failed"):
        libvirt.virEventAddTimeout(0, lambda *a: None, None)


@pytest.mark.usefixtures("default_loop")
def test_zero_timeout_fires_on_every_iteration() -> None:
    fired: list[tuple[int, object]] = []
    timer = libvirt.virEventAddTimeout(0, lambda t, o: fired.append((t, o)), "data")
    libvirt.virEventRunDefaultImpl()
    libvirt.virEventRunDefaultImpl()
    assert fired == [(timer, "data"), (timer, "data")]


@pytest.mark.usefixtures("default_loop")
def test_disabled_timeout_does_not_fire() -> None:
    fired: list[int] = []
    libvirt.virEventAddTimeout(-1, lambda t, o: fired.append(t), None)
    libvirt.virEventAddTimeout(0, lambda t, o: None, None)  # keeps the iteration short
    libvirt.virEventRunDefaultImpl()
    assert fired == []


@pytest.mark.usefixtures("default_loop")
def test_update_timeout_enables_a_disabled_timer() -> None:
    fired: list[int] = []
    timer = libvirt.virEventAddTimeout(-1, lambda t, o: fired.append(t), None)
    libvirt.virEventUpdateTimeout(timer, 0)
    libvirt.virEventRunDefaultImpl()
    assert fired == [timer]


@pytest.mark.usefixtures("default_loop")
def test_removed_timeout_no_longer_fires() -> None:
    fired: list[int] = []
    timer = libvirt.virEventAddTimeout(0, lambda t, o: fired.append(t), None)
    assert libvirt.virEventRemoveTimeout(timer) == 0
    libvirt.virEventAddTimeout(0, lambda t, o: None, None)
    libvirt.virEventRunDefaultImpl()
    assert fired == []


@pytest.mark.usefixtures("default_loop")
def test_removing_an_unknown_timeout_fails() -> None:
    with pytest.raises(libvirt.libvirtError):
        libvirt.virEventRemoveTimeout(12345)


@pytest.mark.usefixtures("default_loop")
def test_readable_handle_calls_back_with_watch_fd_events_opaque(pipe: tuple[int, int]) -> None:
    r, w = pipe
    seen: list[tuple[int, int, int, object]] = []
    watch = libvirt.virEventAddHandle(
        r, libvirt.VIR_EVENT_HANDLE_READABLE, lambda *args: seen.append(args), "ctx"
    )
    os.write(w, b"x")
    libvirt.virEventRunDefaultImpl()
    assert seen == [(watch, r, libvirt.VIR_EVENT_HANDLE_READABLE, "ctx")]


@pytest.mark.usefixtures("default_loop")
def test_handle_updated_to_no_events_is_not_called(pipe: tuple[int, int]) -> None:
    r, w = pipe
    seen: list[object] = []
    watch = libvirt.virEventAddHandle(
        r, libvirt.VIR_EVENT_HANDLE_READABLE, lambda *args: seen.append(args), None
    )
    libvirt.virEventUpdateHandle(watch, 0)
    os.write(w, b"x")
    libvirt.virEventAddTimeout(0, lambda t, o: None, None)
    libvirt.virEventRunDefaultImpl()
    assert seen == []


@pytest.mark.usefixtures("default_loop")
def test_removed_handle_is_not_called(pipe: tuple[int, int]) -> None:
    r, w = pipe
    seen: list[object] = []
    watch = libvirt.virEventAddHandle(
        r, libvirt.VIR_EVENT_HANDLE_READABLE, lambda *args: seen.append(args), None
    )
    assert libvirt.virEventRemoveHandle(watch) == 0
    os.write(w, b"x")
    libvirt.virEventAddTimeout(0, lambda t, o: None, None)
    libvirt.virEventRunDefaultImpl()
    assert seen == []


@pytest.mark.usefixtures("default_loop")
def test_timer_added_from_another_thread_wakes_a_blocked_iteration() -> None:
    started = threading.Event()
    fired = threading.Event()
    done = threading.Event()

    def loop() -> None:
        started.set()
        libvirt.virEventRunDefaultImpl()  # nothing registered yet: blocks until woken
        libvirt.virEventRunDefaultImpl()
        done.set()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    assert started.wait(SAFETY)
    libvirt.virEventAddTimeout(0, lambda t, o: fired.set(), None)
    assert fired.wait(SAFETY)
    assert done.wait(SAFETY)


@pytest.mark.usefixtures("default_loop")
def test_callback_may_remove_itself() -> None:
    fired: list[int] = []

    def once(timer: int, opaque: object) -> None:
        fired.append(timer)
        libvirt.virEventRemoveTimeout(timer)

    libvirt.virEventAddTimeout(0, once, None)
    libvirt.virEventRunDefaultImpl()
    libvirt.virEventAddTimeout(0, lambda t, o: None, None)
    libvirt.virEventRunDefaultImpl()
    assert len(fired) == 1


@pytest.mark.usefixtures("default_loop")
def test_exception_in_a_callback_does_not_stop_the_loop() -> None:
    fired: list[str] = []

    def broken(timer: int, opaque: object) -> None:
        raise RuntimeError("callback bug")

    libvirt.virEventAddTimeout(0, broken, None)
    libvirt.virEventAddTimeout(0, lambda t, o: fired.append("ok"), None)
    assert libvirt.virEventRunDefaultImpl() == 0
    assert fired == ["ok"]


class RecordingLoop:
    """An external loop that records what it is asked to do (like libvirtaio's)."""

    def __init__(self) -> None:
        self.timeouts: dict[int, list[Any]] = {}
        self.handles: dict[int, list[Any]] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.next = 100

    def register(self) -> None:
        libvirt.virEventRegisterImpl(
            self.add_handle,
            self.update_handle,
            self.remove_handle,
            self.add_timeout,
            self.update_timeout,
            self.remove_timeout,
        )

    def add_handle(self, fd: int, events: int, cb: Any, opaque: Any) -> int:
        self.next += 1
        self.handles[self.next] = [fd, events, cb, opaque]
        return self.next

    def update_handle(self, watch: int, events: int) -> None:
        self.calls.append(("update_handle", watch, events))

    def remove_handle(self, watch: int) -> int:
        entry = self.handles.pop(watch)
        libvirt.virEventInvokeFreeCallback(entry[3])
        return 0

    def add_timeout(self, timeout: int, cb: Any, opaque: Any) -> int:
        self.next += 1
        self.timeouts[self.next] = [timeout, cb, opaque]
        return self.next

    def update_timeout(self, timer: int, timeout: int) -> None:
        self.timeouts[timer][0] = timeout

    def remove_timeout(self, timer: int) -> int:
        entry = self.timeouts.pop(timer)
        libvirt.virEventInvokeFreeCallback(entry[2])
        return 0

    def fire_due(self) -> None:
        for timer, (timeout, cb, opaque) in list(self.timeouts.items()):
            if timeout >= 0:
                cb(timer, opaque)


def test_external_loop_receives_timeouts_with_libvirt_pythons_arguments() -> None:
    loop = RecordingLoop()
    loop.register()
    fired: list[tuple[int, object]] = []
    timer = libvirt.virEventAddTimeout(0, lambda t, o: fired.append((t, o)), "data")
    loop.fire_due()
    assert fired == [(timer, "data")]


def test_external_loop_handle_callback_gets_watch_fd_events_opaque() -> None:
    loop = RecordingLoop()
    loop.register()
    seen: list[tuple[Any, ...]] = []
    watch = libvirt.virEventAddHandle(7, 1, lambda *args: seen.append(args), "ctx")
    fd, events, cb, opaque = loop.handles[watch]
    cb(watch, fd, events, opaque)
    assert seen == [(watch, 7, 1, "ctx")]


def test_update_handle_is_forwarded_to_the_external_loop() -> None:
    loop = RecordingLoop()
    loop.register()
    watch = libvirt.virEventAddHandle(7, 1, lambda *args: None, None)
    libvirt.virEventUpdateHandle(watch, 2)
    assert loop.calls == [("update_handle", watch, 2)]


def test_free_callback_runs_with_the_opaque() -> None:
    freed: list[object] = []
    libvirt.virEventInvokeFreeCallback((None, "data", freed.append))
    assert freed == ["data"]
