"""Host resources handed to test domains, and host calls the native API checks first.

Starting a domain with file descriptors, opening a domain's console, the node
device state calls and the storage pool capabilities, through the native API.
tests/compat/scripts/files_and_devices.py and node_arguments.py compare the
same calls with python3-libvirt on libvirt's test driver; here the native
handles, events and error classes are pinned. Every test starts on a fresh
``test:///default`` host.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import virtcore
from tests.storage.conftest import StorageHost
from virtcore import errors, libvirt
from virtcore.connection import Connection
from virtcore.connection.host import HostCPUMap as HostCPUMapOfConnection
from virtcore.driver import DriverTables
from virtcore.enums.domain import DomainRunningReason, DomainState
from virtcore.enums.domain_events import DomainEventStartedDetailType, DomainEventType
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Domain, Handle
from virtcore.results import HostCPUMap, SecurityModel

SAFETY_TIMEOUT = 10.0
NEW = (
    "<domain type='test'><name>withfds</name><uuid>12345678-1234-1234-1234-123456789abc</uuid>"
    "<memory>4096</memory><os><type>hvm</type></os></domain>"
)


@pytest.fixture
def conn(fresh_default_host: None) -> Iterator[Connection]:
    """A read-write connection to a fresh ``test:///default`` host."""
    with virtcore.open("test:///default") as c:
        yield c


@pytest.fixture
def stopped(conn: Connection) -> Domain:
    """The default host's domain ``test``, shut off."""
    dom = conn.domain_lookup_by_name("test")
    dom.destroy()
    return dom


def lifecycle_events(conn: Connection) -> list[tuple[str, int, tuple[int, ...]]]:
    """Starts a recorder; the returned list fills with (name, id, (event, detail))."""
    seen: list[tuple[str, int, tuple[int, ...]]] = []

    def record(c: Connection, dom: Handle, event: Event) -> None:
        assert isinstance(dom, Domain)
        seen.append((dom.name, dom.id, tuple(int(a) for a in event.args)))

    conn.domain_event_register_any(0, record)
    return seen


STARTED_BOOTED = (int(DomainEventType.STARTED), int(DomainEventStartedDetailType.BOOTED))


# -- starting with file descriptors -------------------------------------------------------


def test_create_with_files_boots_the_domain_with_the_next_id(stopped: Domain) -> None:
    stopped.create_with_files([3, 4, -1])
    assert (stopped.id, tuple(stopped.state())) == (2, (DomainState.RUNNING, 1))


def test_create_with_files_emits_started_booted(conn: Connection, stopped: Domain) -> None:
    seen = lifecycle_events(conn)
    stopped.create_with_files([3])
    assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
    assert seen == [("test", 2, STARTED_BOOTED)]


def test_create_with_files_refuses_every_start_flag(stopped: Domain) -> None:
    with pytest.raises(errors.InvalidArgError) as caught:
        stopped.create_with_files([3], 1)
    assert caught.value.message == "unsupported flags (0x1) in function testDomainCreateWithFlags"
    assert caught.value.domain == ErrorDomain.TEST


def test_create_with_files_of_a_running_domain_is_an_internal_error(conn: Connection) -> None:
    with pytest.raises(errors.InternalError, match="Domain 'test' is already running"):
        conn.domain_lookup_by_name("test").create_with_files([])


def test_create_with_files_is_refused_on_a_read_only_connection(
    fresh_default_host: None,
) -> None:
    with virtcore.open_read_only("test:///default") as ro:
        with pytest.raises(errors.OperationDeniedError) as caught:
            ro.domain_lookup_by_name("test").create_with_files([3])
    assert "virDomainCreateWithFiles" in caught.value.message


def test_create_xml_with_files_starts_a_transient_domain(conn: Connection) -> None:
    seen = lifecycle_events(conn)
    dom = conn.domain_create_xml_with_files(NEW, [5])
    assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
    assert (dom.name, dom.id, dom.is_persistent()) == ("withfds", 2, False)
    assert tuple(dom.state()) == (DomainState.RUNNING, DomainRunningReason.BOOTED)
    assert seen == [("withfds", 2, STARTED_BOOTED)]


def test_create_xml_with_files_accepts_validate_only(conn: Connection) -> None:
    with pytest.raises(errors.InvalidArgError, match=r"\(0x1\) in function testDomainCreateXML"):
        conn.domain_create_xml_with_files(NEW, [5], 1)
    assert conn.domain_create_xml_with_files(NEW, [5], 0x10).name == "withfds"


# -- consoles -------------------------------------------------------------------------------


def test_open_console_needs_a_stream_of_the_same_connection(conn: Connection) -> None:
    dom = conn.domain_lookup_by_name("test")
    with virtcore.open("test:///default") as other:
        with pytest.raises(errors.InvalidArgError) as caught:
            dom.open_console(None, other.new_stream())
    assert caught.value.message == "stream must match connection of domain 'test'"
    assert (caught.value.str1, caught.value.str2) == ("virDomainOpenConsole", "st")


def test_open_console_is_refused_read_only_before_the_stream_is_checked(
    conn: Connection,
) -> None:
    with virtcore.open_read_only("test:///default") as ro:
        dom = ro.domain_lookup_by_name("test")
        with pytest.raises(errors.OperationDeniedError):
            dom.open_console("serial0", conn.new_stream())


def test_open_console_on_a_closed_connection_reports_the_connection(
    fresh_default_host: None,
) -> None:
    c = virtcore.open("test:///default")
    dom, stream = c.domain_lookup_by_name("test"), c.new_stream()
    c.close()
    with pytest.raises(errors.ConnectionClosedError):
        dom.open_console(None, stream)


# -- node devices and storage pool capabilities ----------------------------------------------


@pytest.mark.parametrize(
    ("call", "api"),
    [
        (lambda d: d.is_active(), "virNodeDeviceIsActive"),
        (lambda d: d.is_persistent(), "virNodeDeviceIsPersistent"),
        (lambda d: d.get_autostart(), "virNodeDeviceGetAutostart"),
        (lambda d: d.set_autostart(True), "virNodeDeviceSetAutostart"),
    ],
    ids=["is_active", "is_persistent", "get_autostart", "set_autostart"],
)
def test_node_device_state_calls_are_unsupported_by_the_test_driver(
    conn: Connection, call: object, api: str
) -> None:
    device = conn.node_device_lookup_by_name("computer")
    with pytest.raises(errors.NoSupportError) as caught:
        call(device)  # type: ignore[operator]
    assert caught.value.message.endswith(f"connection driver: {api}")
    assert caught.value.domain == ErrorDomain.NODEDEV


def test_node_device_set_autostart_is_refused_read_only_first(fresh_default_host: None) -> None:
    with virtcore.open_read_only("test:///default") as ro:
        with pytest.raises(errors.OperationDeniedError):
            ro.node_device_lookup_by_name("computer").set_autostart(False)


def test_storage_pool_capabilities_are_unsupported_by_the_test_driver(conn: Connection) -> None:
    with pytest.raises(errors.NoSupportError) as caught:
        conn.get_storage_pool_capabilities()
    assert caught.value.domain == ErrorDomain.STORAGE
    assert caught.value.code == ErrorNumber.NO_SUPPORT


# -- results and tables ---------------------------------------------------------------------


def test_host_results_live_in_results_and_stay_importable_from_the_connection(
    conn: Connection,
) -> None:
    assert HostCPUMapOfConnection is HostCPUMap
    assert isinstance(conn.get_cpu_map(), HostCPUMap)
    assert conn.get_security_model() == SecurityModel("testSecurity", "")


def test_vcpu_maps_are_as_wide_as_the_host_cpu_map(conn: Connection) -> None:
    maps = conn.domain_lookup_by_name("test").vcpu_pin_info()
    assert {len(m) for m in maps} == {conn.get_cpu_map().cpus}


def test_present_tables_lists_a_table_filling_two_slots_once(conn: Connection) -> None:
    hv = conn.tables.hypervisor
    tables = DriverTables(hypervisor=hv, network=conn.tables.network, storage=None)
    tables.nodedev = tables.network  # type: ignore[assignment]
    present = list(tables.present())
    assert present == [hv, conn.tables.network]


def test_storage_pool_capabilities_come_from_the_host_storage_driver(tmp_path: Path) -> None:
    host = StorageHost(tmp_path / "root")
    try:
        conn = host.open()
        caps = conn.get_storage_pool_capabilities()
        compat = libvirt.virConnect(conn).getStoragePoolCapabilities()
    finally:
        host.exit()
    assert "<pool type='dir' supported='yes'>" in caps
    assert compat == caps
