"""vCPU counts of real QEMU guests (TCG): queries, persistent changes, live hot-plug."""

from __future__ import annotations

import pytest
from qemu_guests import guest_xml

from virtcore.connection import Connection
from virtcore.errors import InvalidArgError, OperationUnsupportedError
from virtcore.objects import Domain
from virtcore_qemu.state import QemuDriver

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


def test_unplugging_vcpus_is_refused(conn: Connection) -> None:
    dom = _guest(conn)
    dom.set_vcpus(2)
    with pytest.raises(OperationUnsupportedError):
        dom.set_vcpus(1)
    assert dom.vcpus_flags() == 2
