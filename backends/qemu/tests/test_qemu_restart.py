"""The restart scenario: guests outlive the process that manages them.

A first Python process opens ``qemu:///embed?root=DIR``, makes an autostart
pool ``vols`` and a pool ``gone``, starts four guests (a volume disk of
``vols``, a plain file disk, a volume disk of ``gone``, and an autostart guest
it then shuts down on purpose), deletes pool ``gone`` and exits - or is
SIGKILLed. This process then builds a new host on the same root, with the
storage and qemu state drivers in either order, and finds:

* the two healthy guests running and fully managed (state, XML, suspend,
  resume, destroy), their QEMU the very same process;
* the guest whose pool is gone still running, marked (control state error,
  a message), with a ``CONTROL_ERROR`` event and an error log record;
* the guest shut down on purpose still shut off: autostart runs once per boot.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from qemu_guests import (
    FILE_GUEST,
    ORPHAN_GUEST,
    STOPPED_GUEST,
    VOLUME_GUEST,
    EventLog,
    guest_xml,
    kill_guests,
    pid_running,
    run_child,
)

from virtcore.connection import Connection
from virtcore.drivers.storage import StorageStateDriver
from virtcore.enums.domain import (
    DomainControlErrorReason,
    DomainControlState,
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import DomainEventID
from virtcore.hosts import shutdown_hosts
from virtcore.state import Host, StateDriver
from virtcore.uri import URI
from virtcore_qemu.driver import QemuConnectDriver, tables_for_host
from virtcore_qemu.state import QemuStateDriver
from virtcore_qemu.status import parse_status

ORDERS = {
    "storage-first": ("storage", "qemu"),
    "qemu-first": ("qemu", "storage"),
}


class Restarted:
    """The second managing process's view of the root: host, connection, events."""

    def __init__(self, root: Path, order: tuple[str, str]) -> None:
        self.qemu_state = QemuStateDriver()
        drivers: dict[str, StateDriver] = {"storage": StorageStateDriver(), "qemu": self.qemu_state}
        self.events = EventLog(self.qemu_state.events)
        self.host = Host([drivers[name] for name in order], privileged=False, root=root)
        self.host.initialize()
        self.host.wait_ready()
        uri = URI.parse(f"qemu:///embed?root={root}")
        self.conn = Connection(uri, QemuConnectDriver(), tables_for_host(self.host), 0)

    def close(self) -> None:
        self.events.close()
        if not self.conn.closed:
            self.conn.close()
        self.host.shutdown()


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """The embed root both managing processes share; every QEMU under it dies at the end."""
    path = tmp_path / "root"
    path.mkdir()
    try:
        yield path
    finally:
        shutdown_hosts()
        kill_guests(path)


def _pids(root: Path) -> dict[str, int]:
    pids = {}
    for status in (root / "run" / "qemu").glob("*.xml"):
        record = parse_status(status)
        assert record is not None
        pids[str(record.live.name)] = record.pid
    return pids


def _restart(root: Path, mode: str, order: str) -> tuple[Restarted, dict[str, int]]:
    child = run_child(root, mode)
    if mode == "hang":
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    pids = _pids(root)
    return Restarted(root, ORDERS[order]), pids


@pytest.mark.parametrize("order", sorted(ORDERS))
@pytest.mark.parametrize("mode", ["exit", "hang"], ids=["process-exits", "process-killed"])
def test_healthy_guests_are_found_running_and_fully_managed(
    root: Path, mode: str, order: str
) -> None:
    restarted, pids = _restart(root, mode, order)
    try:
        conn = restarted.conn
        for name in (VOLUME_GUEST, FILE_GUEST):
            dom = conn.domain_lookup_by_name(name)
            assert dom.state() == (DomainState.RUNNING, DomainRunningReason.BOOTED), name
            assert dom.control_info()[:2] == (DomainControlState.OK, 0), name
            assert f"<name>{name}</name>" in dom.xml_desc()
            assert f"id='{dom.id}'" in dom.xml_desc()
            dom.suspend()
            assert dom.state() == (DomainState.PAUSED, DomainPausedReason.USER)
            dom.resume()
            assert dom.state() == (DomainState.RUNNING, DomainRunningReason.UNPAUSED)
            dom.destroy()
            assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.DESTROYED)
            assert not pid_running(pids[name]), name
    finally:
        restarted.close()


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_guest_whose_pool_was_deleted_keeps_running_marked(
    root: Path, order: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="virtcore_qemu.process"):
        restarted, pids = _restart(root, "exit", order)
    try:
        dom = restarted.conn.domain_lookup_by_name(ORPHAN_GUEST)
        assert dom.state() == (DomainState.RUNNING, DomainRunningReason.BOOTED)
        assert pid_running(pids[ORPHAN_GUEST])
        assert dom.control_info()[:2] == (
            DomainControlState.ERROR,
            DomainControlErrorReason.INTERNAL,
        )
        assert any("pool 'gone'" in m for m in dom.messages())
        assert restarted.events.wait_for(ORPHAN_GUEST, DomainEventID.CONTROL_ERROR, ())
        assert any(ORPHAN_GUEST in r.getMessage() for r in caplog.records)
    finally:
        restarted.close()


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_guest_shut_down_on_purpose_is_not_autostarted_again(root: Path, order: str) -> None:
    restarted, _pids_unused = _restart(root, "exit", order)
    try:
        dom = restarted.conn.domain_lookup_by_name(STOPPED_GUEST)
        assert dom.get_autostart()
        assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.UNKNOWN)
        assert not dom.is_active()
    finally:
        restarted.close()


def test_guest_whose_qemu_died_meanwhile_is_marked_crashed(root: Path) -> None:
    child = run_child(root, "exit")
    child.wait(timeout=30)
    pids = _pids(root)
    os.kill(pids[FILE_GUEST], signal.SIGKILL)
    restarted = Restarted(root, ORDERS["storage-first"])
    try:
        dom = restarted.conn.domain_lookup_by_name(FILE_GUEST)
        assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.CRASHED)
        assert not (root / "run" / "qemu" / f"{FILE_GUEST}.xml").exists()
        assert restarted.conn.domain_lookup_by_name(VOLUME_GUEST).is_active()
    finally:
        restarted.close()


def test_autostart_runs_once_per_host_boot(root: Path) -> None:
    first = Restarted(root, ORDERS["qemu-first"])
    try:
        first.conn.domain_define_xml(guest_xml("auto")).set_autostart(True)
    finally:
        first.close()
    second = Restarted(root, ORDERS["qemu-first"])
    try:
        assert not second.conn.domain_lookup_by_name("auto").is_active()
    finally:
        second.close()
    (root / "run" / "qemu" / "autostarted").unlink()  # what a reboot does to /run
    third = Restarted(root, ORDERS["qemu-first"])
    try:
        dom = third.conn.domain_lookup_by_name("auto")
        assert dom.state() == (DomainState.RUNNING, DomainRunningReason.BOOTED)
        dom.destroy()
    finally:
        third.close()
