"""Deterministic mode, private hosts and configuration file extensions of the test driver.

Seeded UUID/MAC generation and the virtual clock
(:mod:`virtcore.drivers.test.determinism`), private hosts shared by name
(:mod:`virtcore.drivers.test.private`) and the ``vc:`` elements of
configuration files (:mod:`virtcore.drivers.test.extconfig`), specified
behaviour by behaviour. The shape of generated identifiers and of the XML
around them is compared with libvirt 9.0 in ``test_testdriver_faults.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore import errors
from virtcore.connection import Connection
from virtcore.drivers.test import driver as test_driver
from virtcore.drivers.test.determinism import host_time_ns
from virtcore.drivers.test.faults import injector
from virtcore.drivers.test.hypervisor import TestHypervisorDriver
from virtcore.drivers.test.intercept import InterceptedTable
from virtcore.drivers.test.private import PrivateHost, create_host, lookup_host
from virtcore.enums.domain import DomainShutoffReason, DomainState
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.objects import Domain
from virtcore.registry import Registry

NS = "https://virtcore.dev/schemas/test/1.0"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
MAC_RE = re.compile(r"52:54:00(:[0-9a-f]{2}){3}")
NIC = "<interface type='network'><source network='default'/></interface>"


def doc(name: str, *, uuid: str | None = None, extra: str = "", vcpus: int = 1) -> str:
    """A small domain document with one disk (and *extra* devices)."""
    uuid_elem = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (
        f"<domain type='test'><name>{name}</name>{uuid_elem}<memory>1024</memory>"
        f"<vcpu>{vcpus}</vcpu><os><type>hvm</type></os><devices>"
        f"<disk type='file'><source file='/images/{name}.img'/><target dev='vda'/></disk>"
        f"{extra}</devices></domain>"
    )


@pytest.fixture(scope="module")
def reg() -> Registry:
    """A registry with the built-in test plugin."""
    registry = Registry(builtins=True, autoload=False)
    if not any(rec.name == "test" and rec.loaded for rec in registry.plugins()):
        registry.register(test_plugin, "test")
    return registry


@pytest.fixture
def host() -> Iterator[PrivateHost]:
    """A private copy of the default host."""
    with create_host() as made:
        yield made


@pytest.fixture
def opener(host: PrivateHost, reg: Registry) -> Iterator[Callable[[], Connection]]:
    """Opens connections to *host*, closing them afterwards."""
    opened: list[Connection] = []

    def open_one() -> Connection:
        conn = virtcore.open(host.uri, registry=reg)
        opened.append(conn)
        return conn

    yield open_one
    for conn in opened:
        conn.close()


@pytest.fixture
def conn(opener: Callable[[], Connection]) -> Connection:
    """A connection to *host*."""
    return opener()


@pytest.fixture
def vm(conn: Connection) -> Domain:
    """A defined, running domain ``vm`` with two vCPUs."""
    dom = conn.domain_define_xml(doc("vm", vcpus=2))
    dom.create()
    return dom


def error_of(call: Callable[[], object]) -> errors.VirtError:
    """The error *call* raises."""
    with pytest.raises(errors.VirtError) as info:
        call()
    return info.value


# -- seeded identifiers ------------------------------------------------------------------------


def ids_of(xml: str) -> tuple[list[str], list[str]]:
    """The UUIDs and generated MAC addresses in a document."""
    return re.findall(r"<uuid>([^<]+)</uuid>", xml), [m.group(0) for m in MAC_RE.finditer(xml)]


def define_without_ids(made: PrivateHost, reg: Registry) -> str:
    with virtcore.open(made.uri, registry=reg) as c:
        return c.domain_define_xml(doc("anon", extra=NIC + NIC)).xml_desc()


def test_seeded_hosts_generate_the_same_uuids_and_macs(reg: Registry) -> None:
    with create_host(seed=42) as first, create_host(seed=42) as second:
        assert ids_of(define_without_ids(first, reg)) == ids_of(define_without_ids(second, reg))


def test_different_seeds_generate_different_identifiers(reg: Registry) -> None:
    with create_host(seed=1) as first, create_host(seed=2) as second:
        assert ids_of(define_without_ids(first, reg)) != ids_of(define_without_ids(second, reg))


def test_generated_identifiers_have_libvirts_formats(reg: Registry) -> None:
    with create_host(seed=3) as made:
        uuids, macs = ids_of(define_without_ids(made, reg))
    assert UUID_RE.fullmatch(uuids[0])
    assert len(macs) == 2 and all(MAC_RE.fullmatch(mac) for mac in macs)


def test_unseeded_hosts_generate_random_identifiers(reg: Registry) -> None:
    with create_host() as first, create_host() as second:
        assert ids_of(define_without_ids(first, reg)) != ids_of(define_without_ids(second, reg))


def test_documents_with_identifiers_keep_them_and_consume_nothing(
    host: PrivateHost, conn: Connection
) -> None:
    det = host.determinism
    det.set_seed(9)
    given = "<interface type='user'><mac address='52:54:00:aa:bb:cc'/></interface>"
    dom = conn.domain_define_xml(
        doc("fixed", uuid="11111111-2222-3333-4444-555555555555", extra=given)
    )
    assert dom.uuid == "11111111-2222-3333-4444-555555555555"
    assert "52:54:00:aa:bb:cc" in dom.xml_desc()
    generated = conn.domain_define_xml(doc("anon")).uuid
    det.set_seed(9)
    assert det.new_uuid() == generated


def test_setting_the_seed_again_repeats_the_identifiers(host: PrivateHost) -> None:
    det = host.determinism
    det.set_seed("abc")
    first = (det.new_uuid(), det.new_mac())
    det.set_seed("abc")
    assert (det.new_uuid(), det.new_mac()) == first


def test_nics_and_mac_elements_without_address_get_macs(host: PrivateHost) -> None:
    det = host.determinism
    det.set_seed(4)
    nic = det.complete_text("<interface type='user'><mac/></interface>", device=True)
    assert MAC_RE.search(nic)


def test_other_documents_get_a_uuid_and_no_mac(host: PrivateHost) -> None:
    det = host.determinism
    det.set_seed(4)
    net = det.complete_text("<network><name>n</name><mac/></network>")
    assert re.fullmatch(r"<network><name>n</name><uuid>[0-9a-f-]{36}</uuid><mac/></network>", net)


def test_malformed_documents_are_left_for_the_driver_to_report(
    host: PrivateHost, conn: Connection
) -> None:
    host.determinism.set_seed(1)
    bad = '<domain type="test"><name>bad</name'
    seeded = error_of(lambda: conn.domain_define_xml(bad))
    host.determinism.set_seed(None)
    plain = error_of(lambda: conn.domain_define_xml(bad))
    assert (seeded.code, seeded.message) == (plain.code, plain.message)


# -- the virtual clock ------------------------------------------------------------------------


def test_cpu_time_accrues_per_vcpu_while_running(host: PrivateHost, vm: Domain) -> None:
    clock = host.determinism.enable_clock()
    clock.advance(1.5)
    assert vm.info().cpu_time == 3_000_000_000
    assert clock.cpu_time_ns(vm) == 3_000_000_000


def test_cpu_time_stands_still_while_paused(host: PrivateHost, vm: Domain) -> None:
    clock = host.determinism.enable_clock()
    clock.advance(1)
    vm.suspend()
    clock.advance(5)
    assert vm.info().cpu_time == 2_000_000_000


def test_inactive_domains_report_no_cpu_time_and_restart_from_zero(
    host: PrivateHost, vm: Domain
) -> None:
    clock = host.determinism.enable_clock()
    clock.advance(1)
    vm.destroy()
    assert vm.info().cpu_time == 0
    vm.create()
    clock.advance(ns=10)
    assert vm.info().cpu_time == 20


def test_load_scales_cpu_time(host: PrivateHost, conn: Connection, vm: Domain) -> None:
    clock = host.determinism.enable_clock(load=0.5)
    clock.set_load("test", 0.25)
    clock.advance(2)
    assert vm.info().cpu_time == 2_000_000_000
    assert conn.domain_lookup_by_name("test").info().cpu_time == 1_000_000_000


def test_virtual_time_moves_only_when_advanced(host: PrivateHost) -> None:
    clock = host.determinism.enable_clock(start=100.0)
    assert host_time_ns(host.state) == 100_000_000_000
    clock.advance(0.5)
    assert clock.time() == 100.5
    assert host_time_ns(host.state) == 100_500_000_000


def test_clock_enabled_after_info_calls_drives_their_cpu_time(
    host: PrivateHost, vm: Domain
) -> None:
    # virDomainGetInfo answered before the clock started went straight to the driver.
    assert vm.info().cpu_time > 10**12
    clock = host.determinism.enable_clock()
    clock.advance(1)
    assert vm.info().cpu_time == 2_000_000_000


def test_the_clock_cannot_go_backwards(host: PrivateHost) -> None:
    clock = host.determinism.enable_clock()
    with pytest.raises(errors.InvalidArgError):
        clock.advance(-1)


def test_disabling_the_clock_returns_to_wall_time(host: PrivateHost) -> None:
    det = host.determinism
    det.enable_clock(start=0.0)
    det.disable_clock()
    assert host_time_ns(host.state) > 1_000_000_000 * 1_000_000_000


# -- private hosts ------------------------------------------------------------------------------


def test_connections_to_a_private_host_share_it(opener: Callable[[], Connection]) -> None:
    first, second = opener(), opener()
    first.domain_define_xml(doc("shared"))
    assert second.domain_lookup_by_name("shared").name == "shared"


def test_private_hosts_are_isolated_from_each_other_and_the_default(
    conn: Connection, reg: Registry
) -> None:
    conn.domain_lookup_by_name("test").destroy()
    with create_host() as other, virtcore.open(other.uri, registry=reg) as c:
        assert c.list_domains_ids() == [1]
    test_driver.reset_default_host()
    with virtcore.open("test:///default", registry=reg) as default:
        assert default.list_domains_ids() == [1]


def test_unknown_private_host_is_refused(reg: Registry) -> None:
    err = error_of(lambda: virtcore.open("test:///default?private=nobody", registry=reg))
    assert (err.code, err.domain) == (ErrorNumber.INVALID_ARG, ErrorDomain.TEST)


def test_private_uri_must_name_the_hosts_origin(host: PrivateHost, reg: Registry) -> None:
    uri = f"test:///etc/node.xml?private={host.name}"
    assert isinstance(error_of(lambda: virtcore.open(uri, registry=reg)), errors.InvalidArgError)


def test_discarded_host_refuses_new_connections_but_keeps_open_ones(
    host: PrivateHost, conn: Connection, reg: Registry
) -> None:
    host.discard()
    assert lookup_host(host.name) is None
    error_of(lambda: virtcore.open(host.uri, registry=reg))
    assert conn.num_of_domains() == 1


def test_private_host_names_are_unique(host: PrivateHost) -> None:
    with pytest.raises(errors.AlreadyExistsError):
        create_host(name=host.name)


def test_private_host_from_a_configuration_file(tmp_path: Path, reg: Registry) -> None:
    config = tmp_path / "node.xml"
    config.write_text(f"<node>{doc('only', uuid='11111111-2222-3333-4444-555555555555')}</node>")
    with create_host(config) as made, virtcore.open(made.uri, registry=reg) as c:
        assert made.uri == f"test://{config}?private={made.name}"
        assert [d.name for d in c.list_all_domains()] == ["only"]


# -- configuration file extensions -------------------------------------------------------------


def write_config(tmp_path: Path, body: str, name: str = "node.xml") -> Path:
    path = tmp_path / name
    path.write_text(f"<node xmlns:vc='{NS}'>{body}</node>")
    return path


def test_config_fault_rules_apply(tmp_path: Path, reg: Registry) -> None:
    path = write_config(
        tmp_path,
        "<vc:faults><vc:fail call='virDomainCreateWithFlags' code='OPERATION_FAILED' "
        "error-domain='QEMU' message='no room' times='1'/></vc:faults>"
        + doc("cfg", uuid="11111111-2222-3333-4444-555555555555").replace(
            "<domain type='test'>", "<domain type='test' xmlns:test='http://libvirt.org/schemas/"
            "domain/test/1.0'><test:runstate>5</test:runstate>"
        ),
    )  # fmt: skip
    with virtcore.open(f"test://{path}", registry=reg) as c:
        dom = c.domain_lookup_by_name("cfg")
        err = error_of(dom.create)
        assert (err.code, err.domain, err.message) == (
            ErrorNumber.OPERATION_FAILED,
            ErrorDomain.QEMU,
            "operation failed: no room",
        )
        dom.create()


def test_config_crash_and_io_error_rules_act_on_the_calls_domain(
    tmp_path: Path, reg: Registry
) -> None:
    path = write_config(
        tmp_path,
        "<vc:faults><vc:io-error call='virDomainGetInfo' times='1'/>"
        "<vc:crash call='virDomainGetState' cause='emulator'/></vc:faults>" + doc("cfg"),
    )
    with virtcore.open(f"test://{path}", registry=reg) as c:
        dom = c.domain_lookup_by_name("cfg")
        assert dom.info().state == DomainState.PAUSED
        assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.CRASHED)


def test_config_delay_and_disconnect_rules_apply(tmp_path: Path, reg: Registry) -> None:
    path = write_config(
        tmp_path,
        "<vc:faults><vc:delay call='virConnectNumOfDomains' seconds='0'/>"
        "<vc:disconnect call='virConnectNumOfDomains' reason='error' after='1'/></vc:faults>",
    )
    with virtcore.open(f"test://{path}", registry=reg) as c:
        assert c.num_of_domains() == 0
        err = error_of(c.num_of_domains)
        assert err.message == "Cannot recv data: Connection reset by peer"
        assert c.closed


def test_config_determinism_seeds_the_files_objects_and_the_clock(
    tmp_path: Path, reg: Registry
) -> None:
    (tmp_path / "ref.xml").write_text(doc("referenced", extra=NIC))
    path = write_config(
        tmp_path,
        "<vc:deterministic seed='7'/><vc:clock start='2030-01-01T00:00:00+00:00'/>"
        + doc("inline", extra=NIC)
        + "<domain file='ref.xml'/><network><name>net</name><bridge name='br9'/></network>",
    )

    def snapshot() -> tuple[str, str, str]:
        with virtcore.open(f"test://{path}", registry=reg) as c:
            uuids = [d.uuid for d in c.list_all_domains()]
            uuids.append(c.network_lookup_by_name("net").uuid)
            inline = c.domain_lookup_by_name("inline").xml_desc()
            assert injector(c).state.source_path == str(path)
            assert host_time_ns(injector(c).state) == 1_893_456_000 * 1_000_000_000
            return json.dumps(uuids), inline, c.domain_define_xml(doc("later")).uuid

    first = snapshot()
    assert first == snapshot()
    assert first[2] not in first[0]


@pytest.mark.parametrize(
    "body",
    [
        "<vc:weather/>",
        "<vc:faults><vc:explode call='x'/></vc:faults>",
        "<vc:faults><vc:fail/></vc:faults>",
        "<vc:faults><vc:fail call='x' colour='red'/></vc:faults>",
        "<vc:faults><vc:fail call='x' times='many'/></vc:faults>",
        "<vc:faults><vc:fail call='x' code='NO_SUCH_CODE'/></vc:faults>",
        "<vc:faults><vc:fail call='x' probability='2'/></vc:faults>",
        "<vc:faults><vc:delay call='x'/></vc:faults>",
        "<vc:faults><vc:disconnect call='x' reason='bored'/></vc:faults>",
        "<vc:deterministic/>",
        "<vc:clock start='yesterday'/>",
    ],
)
def test_config_extension_errors_fail_the_open(tmp_path: Path, reg: Registry, body: str) -> None:
    path = write_config(tmp_path, body)
    err = error_of(lambda: virtcore.open(f"test://{path}", registry=reg))
    assert (err.code, err.domain) == (ErrorNumber.XML_ERROR, ErrorDomain.TEST)


# -- everything time-stamped follows the virtual clock ----------------------------------------

CLOCK_START = 1_700_000_000.0


def test_snapshots_are_stamped_with_the_virtual_time(host: PrivateHost, vm: Domain) -> None:
    host.determinism.enable_clock(start=CLOCK_START)
    snap = vm.snapshot_create_xml("<domainsnapshot><name>s1</name></domainsnapshot>")
    assert f"<creationTime>{int(CLOCK_START)}</creationTime>" in snap.xml_desc()


def test_checkpoints_are_stamped_with_the_virtual_time(host: PrivateHost, vm: Domain) -> None:
    clock = host.determinism.enable_clock(start=CLOCK_START)
    clock.advance(7)
    chk = vm.checkpoint_create_xml("<domaincheckpoint><name>c1</name></domaincheckpoint>")
    assert f"<creationTime>{int(CLOCK_START) + 7}</creationTime>" in chk.xml_desc()


def test_vcpu_times_and_device_counters_follow_the_virtual_time(
    host: PrivateHost, vm: Domain
) -> None:
    host.determinism.enable_clock(start=CLOCK_START)
    first = (vm.vcpus()[0][0].cpu_time, vm.block_stats("vda"))
    host.determinism.enable_clock(start=CLOCK_START)
    assert (vm.vcpus()[0][0].cpu_time, vm.block_stats("vda")) == first


def test_the_hypervisor_tables_own_domain_info_reads_the_virtual_time(
    host: PrivateHost, vm: Domain, conn: Connection
) -> None:
    # Below the interception that adds per-domain CPU accounting, the table itself
    # answers with the host's time, as libvirt's test driver answers with its clock.
    host.determinism.enable_clock(start=CLOCK_START)
    intercepted = conn.tables.hypervisor
    assert isinstance(intercepted, InterceptedTable)
    table = intercepted.target
    assert isinstance(table, TestHypervisorDriver)
    assert table.domain_get_info(conn, vm)[4] == int(CLOCK_START) * 1_000_000_000
