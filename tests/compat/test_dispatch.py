"""Every compat call is one driver-table call: names, arguments and return shapes.

A purpose-built driver implements a few calls the test driver lacks
(libvirt_qemu, libvirt_lxc, bulk statistics, snapshots); the compat layer must
reach them with libvirt-python's arguments and shape their results like
libvirt-python. That every call the built-in test driver implements is
reachable, with arguments its tables accept, is checked by
tests/compat/test_driver_alignment.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import virtcore
from tests.fakedrivers import FakeConnectDriver, FakeHypervisor, plugin_of
from virtcore import libvirt, libvirt_lxc, libvirt_qemu
from virtcore.connection import Connection
from virtcore.objects import Domain, DomainSnapshot
from virtcore.registry import Registry


class CompatHypervisor(FakeHypervisor):
    """Records the arguments of the calls the compat layer makes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[Any, ...]] = []
        self.monitor_callbacks: dict[int, Callable[..., None]] = {}

    def domain_qemu_monitor_command(
        self, conn: Connection, dom: Domain, cmd: str, flags: int
    ) -> str:
        self.seen.append(("monitor", dom.name, cmd, flags))
        return '{"return":{}}'

    def domain_qemu_agent_command(
        self, conn: Connection, dom: Domain, cmd: str, timeout: int, flags: int
    ) -> str:
        self.seen.append(("agent", dom.name, cmd, timeout, flags))
        return '{"return":[]}'

    def domain_qemu_attach(self, conn: Connection, pid: int, flags: int) -> Domain:
        return self._dom(conn, "one")

    def connect_domain_qemu_monitor_event_register(
        self,
        conn: Connection,
        dom: Domain | None,
        event: str | None,
        callback: Callable[..., None],
        flags: int,
    ) -> int:
        self.monitor_callbacks[7] = callback
        return 7

    def connect_domain_qemu_monitor_event_deregister(self, conn: Connection, cid: int) -> None:
        del self.monitor_callbacks[cid]

    def domain_lxc_open_namespace(self, conn: Connection, dom: Domain, flags: int) -> list[int]:
        return [3, 4]

    def connect_get_all_domain_stats(
        self, conn: Connection, doms: list[Domain] | None, stats: int, flags: int
    ) -> list[tuple[Domain, dict[str, Any]]]:
        self.seen.append(("stats", None if doms is None else [d.name for d in doms], stats, flags))
        targets = doms if doms is not None else self.connect_list_all_domains(conn, 0)
        return [(d, {"state.state": 5, "state.reason": 0}) for d in targets]

    def domain_get_block_info(
        self, conn: Connection, dom: Domain, path: str, flags: int
    ) -> tuple[int, int, int]:
        return (10, 20, 30)

    def domain_snapshot_create_xml(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> DomainSnapshot:
        return DomainSnapshot(dom, "s1")

    def domain_revert_to_snapshot(self, conn: Connection, snap: DomainSnapshot, flags: int) -> None:
        self.seen.append(("revert", type(snap).__name__, snap.name, flags))

    def domain_set_memory_flags(self, conn: Connection, dom: Domain, mem: int, flags: int) -> None:
        self.seen.append(("setmem", mem, flags))

    def domain_get_scheduler_type(self, conn: Connection, dom: Domain) -> tuple[str, int]:
        return ("credit", 2)

    def domain_get_scheduler_parameters_flags(
        self, conn: Connection, dom: Domain, flags: int
    ) -> dict[str, int]:
        self.seen.append(("getsched", flags))
        return {"weight": 256, "cap": 0}

    def domain_set_scheduler_parameters_flags(
        self, conn: Connection, dom: Domain, params: dict[str, int], flags: int
    ) -> None:
        self.seen.append(("setsched", params, flags))


@pytest.fixture
def hv() -> CompatHypervisor:
    return CompatHypervisor()


@pytest.fixture
def fake(hv: CompatHypervisor, quiet: object) -> Iterator[libvirt.virConnect]:
    registry = Registry(builtins=False, autoload=False)
    registry.register(plugin_of(FakeConnectDriver(hypervisor=hv)), "fake")
    conn = libvirt.virConnect(_obj=virtcore.open("fake:///", registry=registry))
    yield conn
    conn.close()


def test_qemu_monitor_command_reaches_the_driver(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    dom = fake.lookupByName("one")
    reply = libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"stop"}', 0)
    assert (reply, hv.seen) == ('{"return":{}}', [("monitor", "one", '{"execute":"stop"}', 0)])


def test_qemu_agent_command_passes_the_timeout(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    libvirt_qemu.qemuAgentCommand(fake.lookupByName("one"), "{}", 5, 0)
    assert hv.seen == [("agent", "one", "{}", 5, 0)]


def test_qemu_attach_returns_a_virdomain(fake: libvirt.virConnect) -> None:
    dom = libvirt_qemu.qemuAttach(fake, 1234, 0)
    assert (type(dom), dom.name()) == (libvirt.virDomain, "one")


def test_qemu_monitor_event_callback_gets_libvirt_pythons_arguments(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    seen: list[tuple[Any, ...]] = []
    cid = libvirt_qemu.qemuMonitorEventRegister(fake, None, "STOP", lambda *a: seen.append(a), "o")
    hv.monitor_callbacks[cid](Domain(fake.native, "one", "u", 1), "STOP", 1, 2, "{}")
    libvirt_qemu.qemuMonitorEventDeregister(fake, cid)
    assert [(a[0], a[1].name(), *a[2:]) for a in seen] == [(fake, "one", "STOP", 1, 2, "{}", "o")]


def test_qemu_calls_without_driver_support_fail_with_no_support(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        libvirt_qemu.qemuMonitorCommand(conn.lookupByName("test"), "{}", 0)
    assert info.value.get_str2() == "virDomainQemuMonitorCommand"


def test_lxc_open_namespace_returns_descriptors(fake: libvirt.virConnect) -> None:
    assert libvirt_lxc.lxcOpenNamespace(fake.lookupByName("one"), 0) == [3, 4]


def test_lxc_security_label_none_needs_nothing() -> None:
    assert libvirt_lxc.lxcEnterSecurityLabel(["none", "0"], ["", 0]) == ["", 0]


def test_get_all_domain_stats_pairs_domains_with_dicts(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    stats = fake.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0)
    assert [(d.name(), s) for d, s in stats] == [
        ("one", {"state.state": 5, "state.reason": 0}),
        ("two", {"state.state": 5, "state.reason": 0}),
    ]
    assert hv.seen == [("stats", None, 1, 0)]


def test_domain_list_get_stats_passes_the_domains(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    fake.domainListGetStats([fake.lookupByName("two")])
    assert hv.seen == [("stats", ["two"], 0, 0)]


def test_tuple_from_the_driver_becomes_libvirt_pythons_list(fake: libvirt.virConnect) -> None:
    assert fake.lookupByName("one").blockInfo("vda") == [10, 20, 30]


def test_snapshot_wraps_into_virdomainsnapshot(fake: libvirt.virConnect) -> None:
    dom = fake.lookupByName("one")
    snap = dom.snapshotCreateXML("<domainsnapshot/>")
    assert (type(snap), snap.getName(), snap.getDomain()) == (libvirt.virDomainSnapshot, "s1", dom)


def test_revert_passes_the_snapshot_as_the_handle(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    dom = fake.lookupByName("one")
    dom.revertToSnapshot(dom.snapshotCreateXML("<domainsnapshot/>"), 0)
    assert hv.seen == [("revert", "DomainSnapshot", "s1", 0)]


def test_pre_flags_calls_use_the_flags_variant(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    dom = fake.lookupByName("one")
    dom.setMemory(1024)
    dom.setMaxMemory(2048)
    assert hv.seen == [
        ("setmem", 1024, libvirt.VIR_DOMAIN_AFFECT_LIVE),
        ("setmem", 2048, libvirt.VIR_DOMAIN_MEM_MAXIMUM),
    ]


def test_scheduler_parameters_are_read_back_before_they_are_set(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    dom = fake.lookupByName("one")
    dom.setSchedulerParametersFlags({"cap": 50}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert hv.seen == [
        ("getsched", libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_TYPED_PARAM_STRING_OKAY),
        ("setsched", {"cap": 50}, libvirt.VIR_DOMAIN_AFFECT_LIVE),
    ]


def test_plain_scheduler_calls_fall_back_to_the_flags_variant(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    dom = fake.lookupByName("one")
    dom.setSchedulerParameters({"weight": 512})
    assert hv.seen == [("getsched", 0), ("setsched", {"weight": 512}, 0)]


def test_a_parameter_the_driver_does_not_report_is_refused_before_setting(
    fake: libvirt.virConnect, hv: CompatHypervisor
) -> None:
    with pytest.raises(LookupError, match='Attribute name "bogus" could not be recognized'):
        fake.lookupByName("one").setSchedulerParametersFlags({"bogus": 1}, 0)
    assert [entry[0] for entry in hv.seen] == ["getsched"]


class BrokenQueries(FakeHypervisor):
    """A driver whose state queries fail with a bug (not a VirtError)."""

    def domain_get_info(self, conn: Connection, dom: Domain) -> tuple[int, int, int, int, int]:
        raise RuntimeError("info broke")

    def domain_get_state(self, conn: Connection, dom: Domain, flags: int) -> tuple[int, int]:
        raise RuntimeError("state broke")

    def domain_is_active(self, conn: Connection, dom: Domain) -> bool:
        raise RuntimeError("active broke")


@pytest.fixture
def broken(quiet: object) -> Iterator[libvirt.virConnect]:
    registry = Registry(builtins=False, autoload=False)
    registry.register(plugin_of(FakeConnectDriver(hypervisor=BrokenQueries())), "fake")
    conn = libvirt.virConnect(_obj=virtcore.open("fake:///", registry=registry))
    yield conn
    conn.close()


def _failure(call: Callable[[], object]) -> tuple[int | None, str]:
    with pytest.raises(libvirt.libvirtError) as caught:
        call()
    return caught.value.get_error_code(), str(caught.value)


@pytest.mark.parametrize("query", ["info", "state", "isActive"])
def test_a_driver_bug_in_a_hot_query_fails_alike_on_every_call(
    broken: libvirt.virConnect, query: str
) -> None:
    call = getattr(broken.lookupByName("one"), query)
    first = _failure(call)  # the method is looked up on this call
    assert first[0] == libvirt.VIR_ERR_INTERNAL_ERROR
    assert "broke" in first[1]
    assert _failure(call) == first  # and called directly on this one


@pytest.mark.parametrize("query", ["info", "state", "isActive"])
def test_a_hot_query_on_a_closed_connection_is_refused(query: str, quiet: object) -> None:
    conn = libvirt.open("test:///default")
    call = getattr(conn.lookupByName("test"), query)
    call()
    conn.close()
    assert _failure(call)[0] == libvirt.VIR_ERR_INVALID_CONN
