"""Real QEMU guests (TCG) through ``qemu:///embed``: start, pause, stop, events, status XML.

Each test starts at most a couple of tiny guests; the fixtures kill every
QEMU recorded under the test's root, even when the test fails.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from qemu_guests import EventLog, guest_xml, make_raw_disk, pid_running, wait_until

import virtcore
from virtcore.connection import Connection
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventID,
    DomainEventResumedDetailType,
    DomainEventShutdownDetailType,
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.errors import NoDomainError, OperationInvalidError, VirtError
from virtcore.hosts import shutdown_hosts
from virtcore.objects import Domain
from virtcore_qemu.state import QemuDriver
from virtcore_qemu.status import parse_status

LIFECYCLE = DomainEventID.LIFECYCLE
STARTED = (DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED)
RESUMED = (DomainEventType.RESUMED, DomainEventResumedDetailType.UNPAUSED)
PAUSED = (DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.PAUSED)
DESTROYED = (DomainEventType.STOPPED, DomainEventStoppedDetailType.DESTROYED)


def _running(conn: Connection, name: str = "g", **kwargs: object) -> Domain:
    dom = conn.domain_define_xml(guest_xml(name, **kwargs))  # type: ignore[arg-type]
    dom.create()
    return dom


def _pid(qemu: QemuDriver, name: str) -> int:
    obj = qemu.domains.find_by_name(name)
    assert obj is not None
    return obj.pid


def test_start_runs_the_guest_with_reason_booted(conn: Connection) -> None:
    dom = _running(conn)
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.BOOTED)
    assert dom.id == 1 and dom.is_active()
    assert conn.list_domains_ids() == [1]


def test_start_emits_resumed_then_started_like_libvirt(conn: Connection, events: EventLog) -> None:
    _running(conn)
    assert events.wait_for("g", LIFECYCLE, STARTED)
    assert events.lifecycle("g")[1:] == [RESUMED, STARTED]


def test_paused_start_leaves_the_guest_paused_by_user(conn: Connection, events: EventLog) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    dom.create(1)
    assert dom.state() == (DomainState.PAUSED, DomainPausedReason.USER)
    assert events.wait_for("g", LIFECYCLE, PAUSED)
    assert events.lifecycle("g")[1:] == [STARTED, PAUSED]


def test_starting_a_running_guest_is_refused(conn: Connection) -> None:
    dom = _running(conn)
    with pytest.raises(OperationInvalidError) as err:
        dom.create()
    assert str(err.value) == "Requested operation is not valid: domain is already running"


def test_suspend_and_resume_change_state_and_emit_events(
    conn: Connection, events: EventLog
) -> None:
    dom = _running(conn)
    dom.suspend()
    assert dom.state() == (DomainState.PAUSED, DomainPausedReason.USER)
    dom.resume()
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.UNPAUSED)
    assert events.lifecycle("g")[3:] == [PAUSED, RESUMED]


def test_suspending_a_paused_guest_changes_nothing(conn: Connection, events: EventLog) -> None:
    dom = _running(conn)
    dom.suspend()
    dom.suspend()
    assert dom.state() == (DomainState.PAUSED, DomainPausedReason.USER)
    assert events.lifecycle("g").count(PAUSED) == 1


def test_resuming_a_running_guest_is_refused(conn: Connection) -> None:
    dom = _running(conn)
    with pytest.raises(OperationInvalidError) as err:
        dom.resume()
    assert str(err.value) == "Requested operation is not valid: domain is already running"


def test_destroy_kills_qemu_and_cleans_up(
    conn: Connection, qemu: QemuDriver, events: EventLog, embed_root: Path
) -> None:
    dom = _running(conn)
    pid = _pid(qemu, "g")
    dom.destroy()
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.DESTROYED)
    assert not pid_running(pid)
    assert not (embed_root / "run" / "qemu" / "g.xml").exists()
    assert not list((embed_root / "lib" / "qemu").glob("domain-*"))
    assert events.wait_for("g", LIFECYCLE, DESTROYED)
    # QEMU reports the SIGTERM as a host shutdown first, as libvirt relays it.
    shutdown = (DomainEventType.SHUTDOWN, DomainEventShutdownDetailType.HOST)
    assert events.lifecycle("g")[-2:] == [shutdown, DESTROYED]
    assert dom.id == -1


def test_transient_guest_disappears_when_destroyed(conn: Connection, events: EventLog) -> None:
    dom = conn.domain_create_xml(guest_xml("t"))
    assert dom.is_active() and not dom.is_persistent()
    dom.destroy()
    with pytest.raises(NoDomainError):
        conn.domain_lookup_by_name("t")


def test_guest_that_dies_is_marked_crashed(
    conn: Connection, qemu: QemuDriver, events: EventLog
) -> None:
    dom = _running(conn)
    os.kill(_pid(qemu, "g"), signal.SIGKILL)
    failed = (DomainEventType.STOPPED, DomainEventStoppedDetailType.FAILED)
    assert events.wait_for("g", LIFECYCLE, failed)
    assert wait_until(lambda: not dom.is_active())
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.CRASHED)


def test_host_initiated_shutdown_maps_to_shutdown_events(
    conn: Connection, qemu: QemuDriver, events: EventLog
) -> None:
    dom = _running(conn)
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    # QEMU's own 'quit' is a host-initiated shutdown, the one a guest-less test can cause.
    obj.monitor.execute("quit")
    stopped = (DomainEventType.STOPPED, DomainEventStoppedDetailType.SHUTDOWN)
    assert events.wait_for("g", LIFECYCLE, stopped)
    assert wait_until(lambda: not dom.is_active())
    shutdown = (DomainEventType.SHUTDOWN, DomainEventShutdownDetailType.HOST)
    assert events.lifecycle("g")[-2:] == [shutdown, stopped]
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.SHUTDOWN)


def test_reset_emits_the_reboot_event(conn: Connection, events: EventLog) -> None:
    dom = _running(conn)
    dom.reset()
    assert events.wait_for("g", DomainEventID.REBOOT, ())
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.BOOTED)


def test_shutdown_presses_the_power_button_of_a_running_guest(conn: Connection) -> None:
    dom = _running(conn)
    dom.suspend()
    with pytest.raises(OperationInvalidError):
        dom.shutdown()
    dom.resume()
    dom.shutdown()  # no guest OS answers ACPI: the guest keeps running
    assert dom.state().state == DomainState.RUNNING


def test_live_xml_has_id_and_pty_path(conn: Connection) -> None:
    dom = _running(conn)
    xml = dom.xml_desc()
    assert "<domain type='qemu' id='1'>" in xml
    assert "<source path='/dev/pts/" in xml
    assert " id=" not in dom.xml_desc(2).splitlines()[0]


def test_status_file_records_the_running_guest(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _running(conn, disk_file=make_raw_disk(embed_root / "d.img"))
    dom.suspend()
    record = parse_status(embed_root / "run" / "qemu" / "g.xml")
    assert record is not None
    assert (record.state, record.reason) == (DomainState.PAUSED, DomainPausedReason.USER)
    assert record.pid == _pid(qemu, "g")
    assert record.monitor == embed_root / "lib" / "qemu" / "domain-1-g" / "monitor.sock"
    assert record.live.id == 1


def test_status_file_is_private_and_replaced_whole(conn: Connection, embed_root: Path) -> None:
    dom = _running(conn)
    dom.suspend()
    dom.resume()
    state_dir = embed_root / "run" / "qemu"
    assert (state_dir / "g.xml").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in state_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_guest_with_a_long_root_gets_its_monitor(tmp_path: Path) -> None:
    root = tmp_path / ("r" * 60) / ("o" * 60)
    root.mkdir(parents=True)
    try:
        with virtcore.open(f"qemu:///embed?root={root}") as conn:
            dom = _running(conn, "a-guest-with-a-rather-long-name")
            assert dom.state().state == DomainState.RUNNING
            dom.suspend()
            dom.destroy()
    finally:
        shutdown_hosts()
        from qemu_guests import kill_guests

        kill_guests(root)


def test_volume_disk_of_an_inactive_pool_refuses_to_start(
    conn: Connection, embed_root: Path
) -> None:
    from qemu_guests import pool_xml

    pool = conn.storage_pool_define_xml(pool_xml("p", embed_root / "pool"))
    pool.build()
    dom = conn.domain_define_xml(guest_xml("g", volume=("p", "v.img")))
    with pytest.raises(VirtError) as err:
        dom.create()
    assert str(err.value) == (
        "unsupported configuration: storage pool 'p' containing volume 'v.img' is not active"
    )
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.UNKNOWN)
