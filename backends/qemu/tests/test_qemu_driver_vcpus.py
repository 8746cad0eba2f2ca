"""vCPU counts of real QEMU guests (TCG): queries, persistent changes, live hot-plug and
unplug (error texts as libvirt 9.0 reports them for the same guests)."""

from __future__ import annotations

import pytest
from qemu_guests import guest_xml, wait_until

from virtcore.connection import Connection
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    OperationTimeoutError,
)
from virtcore.objects import Domain
from virtcore_qemu import vcpus
from virtcore_qemu.domobj import DomainObj
from virtcore_qemu.events import monitor_callbacks
from virtcore_qemu.qmp import QMPEvent
from virtcore_qemu.state import QemuDriver
from virtcore_qemu.status import parse_status
from virtcore_qemu.vcpus import select_removals

LIVE, CONFIG, MAXIMUM = 0x1, 0x2, 0x4


def _guest(conn: Connection, *, start: bool = True) -> Domain:
    xml = guest_xml("g").replace("<vcpu>1</vcpu>", "<vcpu current='1'>3</vcpu>")
    dom = conn.domain_define_xml(xml)
    if start:
        dom.create()
    return dom


def test_counts_of_a_running_guest(conn: Connection) -> None:
    dom = _guest(conn)
    assert (dom.vcpus_flags(), dom.vcpus_flags(MAXIMUM), dom.max_vcpus()) == (1, 3, 3)


def test_hotplug_adds_vcpus_qemu_reports_present(conn: Connection, qemu: QemuDriver) -> None:
    dom = _guest(conn)
    dom.set_vcpus(3)
    assert dom.vcpus_flags() == 3
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    cpus = obj.monitor.execute("query-hotpluggable-cpus")
    assert all("qom-path" in cpu for cpu in cpus)
    assert "current=" not in dom.xml_desc().split("<vcpu", 1)[1].split(">", 1)[0]


def test_config_change_leaves_the_running_guest_alone(conn: Connection) -> None:
    dom = _guest(conn)
    dom.set_vcpus(2, CONFIG)
    assert (dom.vcpus_flags(CONFIG), dom.vcpus_flags(LIVE)) == (2, 1)


def test_maximum_of_a_stopped_guest_changes_in_its_definition(conn: Connection) -> None:
    dom = _guest(conn, start=False)
    dom.set_vcpus(2, CONFIG | MAXIMUM)
    assert (dom.vcpus_flags(CONFIG | MAXIMUM), dom.vcpus_flags(CONFIG)) == (2, 1)


def test_more_than_the_maximum_is_refused(conn: Connection) -> None:
    dom = _guest(conn)
    with pytest.raises(InvalidArgError) as err:
        dom.set_vcpus(5)
    assert str(err.value) == (
        "invalid argument: requested vcpus is greater than max allowable vcpus "
        "for the live domain: 5 > 3"
    )


def test_live_maximum_cannot_change(conn: Connection) -> None:
    dom = _guest(conn)
    with pytest.raises(InvalidArgError) as err:
        dom.set_vcpus(4, LIVE | MAXIMUM)
    assert "maximum vcpu count of a live domain can't be modified" in str(err.value)


def test_vcpus_started_by_smp_cannot_be_unplugged(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g").replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>"))
    dom.create()
    with pytest.raises(ConfigUnsupportedError) as err:
        dom.set_vcpus(1)
    assert err.value.message == (
        "unsupported configuration: failed to find appropriate hotpluggable vcpus to reach "
        "the desired target vcpu count"
    )
    assert dom.vcpus_flags() == 2


def test_unplug_qemu_refuses_is_libvirts_monitor_error(conn: Connection) -> None:
    dom = _guest(conn)
    dom.set_vcpus(3)
    with pytest.raises(InternalError) as err:
        dom.set_vcpus(1)
    # the very text libvirt 9.0 reports for this guest (no ACPI, no guest OS)
    assert err.value.message == (
        "internal error: unable to execute QEMU command 'device_del': "
        "CPU hot unplug not supported without ACPI"
    )
    assert dom.vcpus_flags() == 3


def test_unplug_asks_qemu_for_the_highest_hotplugged_vcpu(
    conn: Connection, qemu: QemuDriver
) -> None:
    xml = guest_xml("g").replace("<vcpu>1</vcpu>", "<vcpu current='1'>3</vcpu>")
    dom = conn.domain_define_xml(xml.replace("</os>", "</os><features><acpi/></features>"))
    dom.create()
    dom.set_vcpus(3)
    with pytest.raises(InternalError) as err:
        dom.set_vcpus(2)
    # QEMU was asked to remove a hot-plugged CPU (and, without a guest OS, refused)
    assert "acpi: device unplug request for not supported device type" in err.value.message
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    paths = [c.get("qom-path") for c in obj.monitor.execute("query-hotpluggable-cpus")]
    assert "/machine/peripheral/vcpu2" in paths


def _act_as_guest_acpi(obj: DomainObj, command: str) -> None:
    """Port I/O on QEMU's CPU hot-plug registers, as a guest's ACPI code does it."""
    assert obj.monitor is not None
    obj.monitor.execute("human-monitor-command", {"command-line": command})


def test_vcpu_released_after_the_wait_lowers_the_live_count(
    conn: Connection, qemu: QemuDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vcpus, "VCPU_REMOVAL_WAIT", 0.2)
    xml = guest_xml("g").replace("<vcpu>1</vcpu>", "<vcpu current='1'>3</vcpu>")
    dom = conn.domain_define_xml(xml.replace("</os>", "</os><features><acpi/></features>"))
    dom.create()
    dom.set_vcpus(3)
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    # The firmware's switch to the modern CPU hot-plug interface (PIIX4: port 0xaf00).
    _act_as_guest_acpi(obj, "o /w 0xaf00 0")
    with pytest.raises(OperationTimeoutError, match="vcpu unplug request timed out"):
        dom.set_vcpus(2)
    assert dom.vcpus_flags() == 3
    # The guest ejects vCPU 2 late: select it, set the eject bit.
    _act_as_guest_acpi(obj, "o /w 0xaf00 2")
    _act_as_guest_acpi(obj, "o /b 0xaf04 8")
    assert wait_until(
        lambda: (
            "/machine/peripheral/vcpu2"
            not in [c.get("qom-path") for c in obj.monitor.execute("query-hotpluggable-cpus")]
        )
    )
    # QEMU reports the CPU object's end once it is released.
    on_event, _on_eof = monitor_callbacks(qemu, obj)
    on_event(
        QMPEvent("DEVICE_DELETED", {"device": "vcpu2", "path": "/machine/peripheral/vcpu2"}, 0.0)
    )
    assert wait_until(lambda: dom.vcpus_flags() == 2)
    status = parse_status(qemu.files("g").status)
    assert status is not None and status.live.vcpus_current == 2


def test_late_deletion_of_a_vcpu_nobody_removed_changes_nothing(
    conn: Connection, qemu: QemuDriver
) -> None:
    dom = _guest(conn)
    dom.set_vcpus(2)
    obj = qemu.domains.find_by_name("g")
    assert obj is not None
    on_event, _on_eof = monitor_callbacks(qemu, obj)
    on_event(
        QMPEvent("DEVICE_DELETED", {"device": "vcpu1", "path": "/machine/peripheral/vcpu1"}, 0.0)
    )
    with obj.job():  # any handler thread has finished once the job is free
        pass
    assert dom.vcpus_flags() == 2


def _slot(socket: int, path: str | None) -> dict[str, object]:
    slot: dict[str, object] = {"type": "qemu64-x86_64-cpu", "vcpus-count": 1}
    slot["props"] = {"socket-id": socket, "core-id": 0, "thread-id": 0}
    if path is not None:
        slot["qom-path"] = path
    return slot


def test_removals_go_from_the_highest_device_vcpu_down() -> None:
    slots = [
        _slot(3, "/machine/peripheral/vcpu3"),
        _slot(0, "/machine/unattached/device[0]"),
        _slot(2, None),
        _slot(1, "/machine/peripheral/vcpu1"),
    ]
    assert select_removals(slots, 3, 1) == ["vcpu3", "vcpu1"]
    assert select_removals(slots, 3, 2) == ["vcpu3"]


def test_removals_never_take_smp_vcpus() -> None:
    slots = [_slot(0, "/machine/unattached/device[0]"), _slot(1, "/machine/unattached/device[1]")]
    with pytest.raises(ConfigUnsupportedError):
        select_removals(slots, 2, 1)
