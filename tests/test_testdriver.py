"""The built-in test driver (``test:///``) behaves like libvirt 9.0's test driver.

Golden documents in ``tests/data/testdriver`` were recorded from libvirt 9.0
(``virsh -c test:///default ...`` / python3-libvirt). Every test that uses the
default host starts from a fresh one: the fixtures close their connections,
and the shared default host is discarded when its last connection closes.
"""

from __future__ import annotations

import shutil
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore import errors
from virtcore.auth import Auth, Credential
from virtcore.connection import Connection
from virtcore.drivers.test import driver as test_driver
from virtcore.drivers.test.domainxml import DomainDef
from virtcore.drivers.test.hypervisor import SAVE_MAGIC
from virtcore.drivers.test.xmlutil import XMLWriter, escape, parse_uuid, parse_xml
from virtcore.enums import domain as domain_enums
from virtcore.enums import domain_events
from virtcore.enums.connect import ConnectListAllDomainsFlags as ListFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Domain, Handle
from virtcore.registry import Registry

DATA = Path(__file__).parent / "data" / "testdriver"
SAFETY_TIMEOUT = 10.0
TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
DomainState = domain_enums.DomainState
Running = domain_enums.DomainRunningReason
Paused = domain_enums.DomainPausedReason
Shutoff = domain_enums.DomainShutoffReason
Ev = domain_events.DomainEventType
Defined = domain_events.DomainEventDefinedDetailType
Started = domain_events.DomainEventStartedDetailType
Stopped = domain_events.DomainEventStoppedDetailType


def small(name: str, uuid: str | None = None, extra: str = "") -> str:
    """A minimal test domain document."""
    uuid_elem = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (
        f"<domain type='test'><name>{name}</name>{uuid_elem}<memory>1024</memory>"
        f"<os><type>hvm</type></os>{extra}</domain>"
    )


class Recorder:
    """Collects the lifecycle events one connection receives."""

    def __init__(self, conn: Connection) -> None:
        self.items: list[tuple[str, int, int]] = []
        conn.domain_event_register_any(0, self._on_event)

    def _on_event(self, conn: Connection, dom: Handle, event: Event) -> None:
        assert isinstance(dom, Domain)
        self.items.append((dom.name, int(event.args[0]), int(event.args[1])))

    def drain(self) -> list[tuple[str, int, int]]:
        """Events delivered so far (waiting for queued ones), then forget them."""
        assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
        out, self.items = self.items, []
        return out


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
def events(conn: Connection) -> Recorder:
    """Lifecycle events seen by *conn*."""
    return Recorder(conn)


# -- the plugin and URIs ------------------------------------------------------------


def test_plugin_offers_one_local_driver_for_the_test_scheme() -> None:
    (drv,) = test_plugin.virtcore_connect_drivers()
    assert isinstance(drv, test_driver.TestConnectDriver)
    assert drv.schemes == ("test",)
    assert drv.local_only and not drv.remote_only and not drv.embeddable


# -- connection and node ------------------------------------------------------------


def the_test_domain(c: Connection) -> Domain:
    return c.domain_lookup_by_name("test")


def ask(obj: object, *calls: str) -> tuple[object, ...]:
    """The answers of *obj*'s methods named in *calls*."""
    return tuple(getattr(obj, call)() for call in calls)


DEFAULT_HOST: list[tuple[str, Callable[[Connection], object], object]] = [
    ("type", lambda c: c.get_type(), "TEST"),
    ("version", lambda c: c.get_version(), 2),
    ("max-vcpus", lambda c: (c.get_max_vcpus(), c.get_max_vcpus("kvm")), (32, 32)),
    ("secure", lambda c: (c.is_secure(), c.is_encrypted(), c.is_alive()), (True, False, True)),
    ("node-info", lambda c: tuple(c.get_info()), ("i686", 3072, 16, 1400, 2, 2, 2, 2)),
    ("domain", lambda c: (the_test_domain(c).id, the_test_domain(c).uuid,
                          *the_test_domain(c).state()), (1, TEST_UUID, DomainState.RUNNING, 0)),
    ("domain-flags", lambda c: ask(the_test_domain(c), "is_active", "is_persistent",
                                   "get_autostart"), (True, True, False)),
    ("domain-info", lambda c: tuple(the_test_domain(c).info())[:4], (1, 8388608, 2097152, 2)),
    ("os-type", lambda c: the_test_domain(c).os_type(), "linux"),
    ("network", lambda c: ask(c.network_lookup_by_name("default"), "is_active", "is_persistent",
                              "get_autostart", "bridge_name"), (True, True, False, "virbr0")),
    ("pool", lambda c: ask(c.storage_pool_lookup_by_name("default-pool"), "info",
                           "list_all_volumes"), ((2, 100 * 1024**3, 0, 100 * 1024**3), [])),
    ("interface", lambda c: c.interface_lookup_by_name("eth1").mac, "aa:bb:cc:dd:ee:ff"),
    ("nodedev-tree", lambda c: {d.name: d.parent() for d in c.list_all_node_devices()},
     {"computer": None, "scsi_host1": "computer", "scsi_host2": "computer",
      "scsi_host11": "scsi_host1"}),
    ("nodedev-vports", lambda c: [d.name for d in c.list_all_node_devices(1 << 10)],
     ["scsi_host1", "scsi_host2"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "expected"), [r[1:] for r in DEFAULT_HOST], ids=[r[0] for r in DEFAULT_HOST]
)
def test_default_host_answers_like_libvirts(
    conn: Connection, call: Callable[[Connection], object], expected: object
) -> None:
    assert call(conn) == expected


def test_hostname_is_this_machines(conn: Connection) -> None:
    assert conn.get_hostname().split(".")[0] == socket.gethostname().split(".")[0]


GOLDEN: list[tuple[str, Callable[[Connection], str]]] = [
    ("capabilities.xml", lambda c: c.get_capabilities()),
    ("sysinfo.xml", lambda c: c.get_sysinfo()),
    ("domain-test.xml", lambda c: c.domain_lookup_by_name("test").xml_desc()),
    ("domain-test-inactive.xml", lambda c: c.domain_lookup_by_name("test").xml_desc(2)),
    ("network-default.xml", lambda c: c.network_lookup_by_name("default").xml_desc()),
    ("pool-default-pool.xml", lambda c: c.storage_pool_lookup_by_name("default-pool").xml_desc()),
    ("interface-eth1.xml", lambda c: c.interface_lookup_by_name("eth1").xml_desc()),
    *[
        (f"nodedev-{n}.xml", lambda c, n=n: c.node_device_lookup_by_name(n).xml_desc())
        for n in ("computer", "scsi_host1", "scsi_host2", "scsi_host11")
    ],
]


@pytest.mark.parametrize(("name", "produce"), GOLDEN, ids=[name for name, _ in GOLDEN])
def test_documents_match_libvirts_recorded_output(
    conn: Connection, name: str, produce: Callable[[Connection], str]
) -> None:
    assert produce(conn) == (DATA / name).read_text()


# -- failures -------------------------------------------------------------------------

T, D = ErrorDomain.TEST, ErrorDomain.DOMAIN
GONE = "11111111-2222-3333-4444-555555555555"
FAILURES: list[tuple[str, Callable[[Connection], object], type[errors.VirtError], int, str]] = [
    ("lookup-missing-name", lambda c: c.domain_lookup_by_name("nosuch"), errors.NoDomainError, T,
     "Domain not found"),
    ("lookup-negative-id", lambda c: c.domain_lookup_by_id(-1), errors.InvalidArgError, D,
     "id in virDomainLookupByID must be zero or greater"),
    ("lookup-bad-uuid", lambda c: c.domain_lookup_by_uuid("zzz"), errors.InvalidArgError, D,
     "Invalid UUID"),
    ("stale-handle", lambda c: undefined(c, small("gone", GONE)).state(), errors.NoDomainError, T,
     f"Domain not found: no domain with matching uuid '{GONE}' (gone)"),
    ("define-taken-name", lambda c: c.domain_define_xml(small("test")),
     errors.OperationFailedError, D,
     f"operation failed: domain 'test' already exists with uuid {TEST_UUID}"),
    ("define-taken-uuid", lambda c: c.domain_define_xml(small("other", TEST_UUID)),
     errors.OperationFailedError, D,
     f"operation failed: domain 'test' is already defined with uuid {TEST_UUID}"),
    ("define-malformed", lambda c: c.domain_define_xml('<domain type="test"><name>bad</name'),
     errors.XMLDetailError, D, "(domain_definition):1: expected '>'\n"
     '<domain type="test"><name>bad</name\n-----------------------------------^'),
    ("define-no-name", lambda c: c.domain_define_xml(small("").replace("<name></name>", "")),
     errors.VirtError, D, "missing name information"),
    ("define-flags", lambda c: c.domain_define_xml(small("w"), 2), errors.InvalidArgError, T,
     "unsupported flags (0x2) in function testDomainDefineXMLFlags"),
    ("start-running", lambda c: c.domain_lookup_by_name("test").create(), errors.InternalError, T,
     "internal error: Domain 'test' is already running"),
    ("resume-running", lambda c: c.domain_lookup_by_name("test").resume(),
     errors.InternalError, T, "internal error: domain 'test' not paused"),
    ("suspend-inactive", lambda c: c.domain_define_xml(small("x")).suspend(),
     errors.InternalError, T, "internal error: domain 'x' not running"),
    ("destroy-inactive", lambda c: c.domain_define_xml(small("x")).destroy(),
     errors.OperationInvalidError, D, "Requested operation is not valid: domain is not running"),
    ("destroy-flags", lambda c: c.domain_lookup_by_name("test").destroy(2),
     errors.InvalidArgError, T, "unsupported flags (0x2) in function testDomainDestroyFlags"),
    ("save-document", lambda c: c.domain_lookup_by_name("test").save("/nonexistent", "<d/>"),
     errors.ArgumentUnsupportedError, T, "argument unsupported: xml modification unsupported"),
    ("managed-save-transient", lambda c: c.domain_create_xml(small("t")).managed_save(),
     errors.OperationInvalidError, T,
     "Requested operation is not valid: cannot do managed save for transient domain"),
    ("list-filter", lambda c: c.list_all_domains(1 << 16), errors.InvalidArgError, T,
     "unsupported flags (0x10000) in function testConnectListAllDomains"),
    ("sysinfo-flags", lambda c: c.get_sysinfo(1), errors.InvalidArgError, T,
     "unsupported flags (0x1) in function testConnectGetSysinfo"),
    ("network-missing", lambda c: c.network_lookup_by_name("x"), errors.NoNetworkError, T,
     "Network not found: no network with matching name 'x'"),
    ("pool-missing", lambda c: c.storage_pool_lookup_by_name("x"), errors.NoStoragePoolError, T,
     "Storage pool not found: no storage pool with matching name 'x'"),
    ("interface-missing", lambda c: c.interface_lookup_by_name("x"), errors.NoInterfaceError, T,
     "Interface not found: no interface with matching name 'x'"),
    ("nodedev-missing", lambda c: c.node_device_lookup_by_name("x"), errors.NoNodeDeviceError, T,
     "Node device not found: no node device with matching name 'x'"),
    # libvirt's test driver has no secret or nwfilter driver; virtcore's has both and
    # answers like libvirt's secret and nwfilter drivers do.
    ("secret-missing", lambda c: c.secret_lookup_by_uuid(GONE), errors.NoSecretError,
     ErrorDomain.SECRET, f"Secret not found: no secret with matching uuid '{GONE}'"),
    ("nwfilter-missing", lambda c: c.nwfilter_lookup_by_name("x"), errors.NoNWFilterError,
     ErrorDomain.NWFILTER, "Network filter not found: no nwfilter with matching name 'x'"),
]  # fmt: skip


def undefined(conn: Connection, xml: str) -> Domain:
    """A handle to a domain that was defined and undefined again."""
    dom = conn.domain_define_xml(xml)
    dom.undefine()
    return dom


@pytest.mark.parametrize(
    ("action", "error", "domain", "message"),
    [f[1:] for f in FAILURES],
    ids=[f[0] for f in FAILURES],
)
def test_failures_carry_libvirts_error_class_domain_and_message(
    conn: Connection,
    action: Callable[[Connection], object],
    error: type[errors.VirtError],
    domain: int,
    message: str,
) -> None:
    with pytest.raises(error) as info:
        action(conn)
    assert (info.value.domain, info.value.message) == (domain, message)


# -- sharing the default host -------------------------------------------------------


def test_default_connections_share_their_objects(conn: Connection, reg: Registry) -> None:
    with virtcore.open("test:///default", registry=reg) as other:
        conn.domain_define_xml(small("shared"))
        assert other.domain_lookup_by_name("shared").is_persistent()


def test_events_caused_through_one_connection_reach_another(
    conn: Connection, reg: Registry
) -> None:
    with virtcore.open("test:///default", registry=reg) as other:
        seen = Recorder(other)
        conn.domain_lookup_by_name("test").suspend()
        assert seen.drain() == [("test", Ev.SUSPENDED, 0)]


def test_default_host_starts_afresh_after_the_last_connection_closes(reg: Registry) -> None:
    with virtcore.open("test:///default", registry=reg) as first:
        first.domain_lookup_by_name("test").destroy()
    with virtcore.open("test:///default", registry=reg) as second:
        assert second.domain_lookup_by_name("test").id == 1


def test_configuration_file_connections_have_private_hosts(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "node.xml"
    path.write_text(f"<node>{small('one')}</node>")
    with (
        virtcore.open(f"test://{path}", registry=reg) as a,
        virtcore.open(f"test://{path}", registry=reg) as b,
    ):
        a.domain_lookup_by_name("one").destroy()
        assert b.domain_lookup_by_name("one").is_active()


def test_read_only_connection_reads_but_refuses_changes(reg: Registry) -> None:
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        assert ro.domain_lookup_by_name("test").is_active()
        with pytest.raises(errors.OperationDeniedError):
            ro.domain_lookup_by_name("test").destroy()


# -- lookups ------------------------------------------------------------------------


def test_lookup_by_id_finds_only_running_domains(conn: Connection) -> None:
    assert conn.domain_lookup_by_id(1).name == "test"
    conn.domain_lookup_by_name("test").destroy()
    with pytest.raises(errors.NoDomainError):
        conn.domain_lookup_by_id(1)


@pytest.mark.parametrize("text", [TEST_UUID, TEST_UUID.upper(), TEST_UUID.replace("-", "")])
def test_lookup_by_uuid_accepts_libvirts_uuid_spellings(conn: Connection, text: str) -> None:
    assert conn.domain_lookup_by_uuid(text).name == "test"


# -- defining -----------------------------------------------------------------------


def test_define_adds_an_inactive_persistent_domain(conn: Connection, events: Recorder) -> None:
    dom = conn.domain_define_xml(small("new"))
    assert dom.id == -1
    assert tuple(dom.state()) == (DomainState.SHUTOFF, Shutoff.UNKNOWN)
    assert dom.is_persistent() and not dom.is_active()
    assert events.drain() == [("new", Ev.DEFINED, Defined.ADDED)]


def test_redefining_a_domain_is_an_update(conn: Connection, events: Recorder) -> None:
    uuid = "11111111-2222-3333-4444-555555555555"
    conn.domain_define_xml(small("new", uuid))
    conn.domain_define_xml(small("new", uuid).replace("1024", "2048"))
    assert events.drain()[-1] == ("new", Ev.DEFINED, Defined.UPDATED)
    assert conn.domain_lookup_by_name("new").max_memory() == 2048


def test_documents_with_a_doctype_are_refused(conn: Connection) -> None:
    doc = '<!DOCTYPE d [<!ENTITY x "y">]>' + small("&x;")
    with pytest.raises(errors.XMLError) as info:
        conn.domain_define_xml(doc)
    assert info.value.code == ErrorNumber.XML_ERROR
    with pytest.raises(errors.NoDomainError):
        conn.domain_lookup_by_name("y")


def test_define_fills_in_uuid_mac_and_interface_name(conn: Connection) -> None:
    nic = "<devices><interface type='network'><source network='default'/></interface></devices>"
    dom = conn.domain_define_xml(small("nic", extra=nic))
    xml = dom.xml_desc()
    assert parse_uuid(dom.uuid) == dom.uuid
    assert "<mac address='52:54:00:" in xml and "<target dev='testnet0'/>" in xml


# -- lifecycle ----------------------------------------------------------------------


def state_of(conn: Connection, name: str) -> tuple[int, int]:
    state = conn.domain_lookup_by_name(name).state()
    return int(state.state), int(state.reason)


RUN, PAUSE, OFF = DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF
LIFECYCLE = [
    ("reboot", "reboot", (RUN, Running.BOOTED, 1), []),
    ("reset", "reset", (RUN, 0, 1), []),
    ("suspend", "suspend", (PAUSE, Paused.USER, 1), [(Ev.SUSPENDED, 0)]),
    ("resume", "suspend resume", (RUN, Running.UNPAUSED, 1), [(Ev.SUSPENDED, 0), (Ev.RESUMED, 0)]),
    ("shutdown", "shutdown", (OFF, Shutoff.SHUTDOWN, -1), [(Ev.STOPPED, Stopped.SHUTDOWN)]),
    ("shutdown-paused", "suspend shutdown", (OFF, Shutoff.SHUTDOWN, -1),
     [(Ev.SUSPENDED, 0), (Ev.STOPPED, Stopped.SHUTDOWN)]),
    ("destroy", "destroy", (OFF, Shutoff.DESTROYED, -1), [(Ev.STOPPED, Stopped.DESTROYED)]),
    ("start", "destroy create", (RUN, Running.BOOTED, 2),
     [(Ev.STOPPED, Stopped.DESTROYED), (Ev.STARTED, Started.BOOTED)]),
    ("restart", "destroy create destroy create", (RUN, Running.BOOTED, 3),
     [(Ev.STOPPED, Stopped.DESTROYED), (Ev.STARTED, 0)] * 2),
    ("managed-save", "managed_save", (OFF, Shutoff.SAVED, -1), [(Ev.STOPPED, Stopped.SAVED)]),
    ("start-after-managed-save", "managed_save create", (RUN, Running.BOOTED, 2),
     [(Ev.STOPPED, Stopped.SAVED), (Ev.STARTED, Started.BOOTED)]),
    ("undefine-running", "undefine", (RUN, 0, 1), [(Ev.UNDEFINED, 0)]),
]  # fmt: skip


@pytest.mark.parametrize(("calls", "expected", "emitted"), [r[1:] for r in LIFECYCLE],
                         ids=[r[0] for r in LIFECYCLE])  # fmt: skip
def test_lifecycle_calls_set_state_reason_id_and_events_like_libvirt(
    conn: Connection, events: Recorder, calls: str, expected: tuple[int, int, int],
    emitted: list[tuple[int, int]]
) -> None:  # fmt: skip
    dom = conn.domain_lookup_by_name("test")
    for call in calls.split():
        getattr(dom, call)()
    after = conn.domain_lookup_by_name("test")
    assert (*map(int, after.state()), after.id) == expected
    assert [e[1:] for e in events.drain()] == emitted


def test_shutdown_of_a_restarting_domain_keeps_it_running(
    conn: Connection, events: Recorder
) -> None:
    dom = conn.domain_create_xml(small("r", extra="<on_poweroff>restart</on_poweroff>"))
    dom.shutdown()
    assert state_of(conn, "r") == (DomainState.RUNNING, Running.BOOTED)
    assert events.drain() == [("r", Ev.STARTED, Started.BOOTED)]


def test_destroying_a_transient_domain_removes_it(conn: Connection, events: Recorder) -> None:
    dom = conn.domain_create_xml(small("t"))
    assert not dom.is_persistent()
    dom.destroy()
    with pytest.raises(errors.NoDomainError):
        conn.domain_lookup_by_name("t")
    assert events.drain() == [("t", Ev.STARTED, 0), ("t", Ev.STOPPED, Stopped.DESTROYED)]


def test_redefining_a_running_domain_waits_for_it_to_stop(conn: Connection) -> None:
    dom = conn.domain_define_xml(small("test", TEST_UUID))
    assert dom.max_memory() == 8388608
    assert "<memory unit='KiB'>1024</memory>" in dom.xml_desc(2)
    dom.destroy()
    assert dom.max_memory() == 1024


def test_create_xml_over_a_defined_domain_keeps_its_config(conn: Connection) -> None:
    conn.domain_lookup_by_name("test").destroy()
    dom = conn.domain_create_xml(small("test", TEST_UUID))
    assert dom.max_memory() == 1024 and dom.is_persistent()
    dom.destroy()
    assert dom.max_memory() == 8388608


# -- save and restore ---------------------------------------------------------------


def test_save_writes_a_test_driver_image_and_stops(
    conn: Connection, events: Recorder, tmp_path: Path
) -> None:
    image = tmp_path / "test.save"
    dom = conn.domain_lookup_by_name("test")
    dom.save(str(image))
    expected = (DATA / "domain-test.xml").read_bytes()
    assert image.read_bytes() == SAVE_MAGIC + struct.pack("=i", len(expected)) + expected
    assert state_of(conn, "test") == (DomainState.SHUTOFF, Shutoff.SAVED)
    assert events.drain() == [("test", Ev.STOPPED, Stopped.SAVED)]


def test_restore_starts_the_saved_domain_with_a_new_id(
    conn: Connection, events: Recorder, tmp_path: Path
) -> None:
    image = str(tmp_path / "test.save")
    conn.domain_lookup_by_name("test").save(image)
    conn.domain_restore(image)
    assert conn.domain_lookup_by_name("test").id == 2
    assert state_of(conn, "test") == (DomainState.RUNNING, Running.RESTORED)
    assert events.drain()[-1] == ("test", Ev.STARTED, Started.RESTORED)


def test_restore_over_a_running_domain_is_refused(conn: Connection, tmp_path: Path) -> None:
    image = str(tmp_path / "test.save")
    conn.domain_lookup_by_name("test").save(image)
    conn.domain_restore(image)
    with pytest.raises(errors.OperationInvalidError) as info:
        conn.domain_restore(image)
    assert info.value.message == "Requested operation is not valid: domain 'test' is already active"


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"this is not a save image", errors.InternalError,
         "internal error: mismatched header magic"),
        (b"Test", errors.SystemCallError, "incomplete save header in '{path}': Success"),
        (SAVE_MAGIC + struct.pack("=i", 99999), errors.InternalError,
         "internal error: length of metadata out of range"),
        (None, errors.SystemCallError,
         "cannot read domain image '{path}': No such file or directory"),
    ],
    ids=["foreign-file", "short-header", "oversized-metadata", "missing-file"],
)  # fmt: skip
def test_restore_of_a_bad_image_fails_like_libvirt(
    conn: Connection, tmp_path: Path, content: bytes | None, error: type[errors.VirtError],
    message: str
) -> None:  # fmt: skip
    image = tmp_path / "image"
    if content is not None:
        image.write_bytes(content)
    with pytest.raises(error) as info:
        conn.domain_restore(str(image))
    assert (info.value.domain, info.value.message) == (T, message.format(path=image))


# -- managed save and autostart -----------------------------------------------------


def test_managed_save_image_exists_until_the_next_start(conn: Connection) -> None:
    dom = conn.domain_lookup_by_name("test")
    dom.managed_save()
    assert dom.has_managed_save_image()
    dom.create()
    assert not dom.has_managed_save_image()


def test_undefine_refuses_while_a_managed_image_exists(conn: Connection) -> None:
    dom = conn.domain_lookup_by_name("test")
    dom.managed_save()
    with pytest.raises(errors.OperationInvalidError) as info:
        dom.undefine()
    assert info.value.domain == ErrorDomain.TEST
    dom.undefine(1)  # VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    with pytest.raises(errors.NoDomainError):
        conn.domain_lookup_by_name("test")


def test_managed_save_remove_forgets_the_image(conn: Connection) -> None:
    dom = conn.domain_lookup_by_name("test")
    dom.managed_save()
    dom.managed_save_remove()
    assert not dom.has_managed_save_image()


def test_autostart_is_recorded_even_for_transient_domains(conn: Connection) -> None:
    dom = conn.domain_create_xml(small("t"))
    dom.set_autostart(True)
    assert dom.get_autostart()
    dom.set_autostart(False)
    assert not dom.get_autostart()


# -- listings -----------------------------------------------------------------------


@pytest.fixture
def zoo(conn: Connection) -> Connection:
    """test (running), paused, off (autostart), saved (managed save), trans (transient)."""
    conn.domain_define_xml(small("paused")).create()
    conn.domain_lookup_by_name("paused").suspend()
    conn.domain_define_xml(small("off")).set_autostart(True)
    saved = conn.domain_define_xml(small("saved"))
    saved.create()
    saved.managed_save()
    conn.domain_create_xml(small("trans"))
    return conn


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (0, ["off", "paused", "saved", "test", "trans"]),
        (ListFlags.ACTIVE, ["paused", "test", "trans"]),
        (ListFlags.INACTIVE, ["off", "saved"]),
        (ListFlags.TRANSIENT, ["trans"]),
        (ListFlags.PERSISTENT | ListFlags.ACTIVE, ["paused", "test"]),
        (ListFlags.RUNNING, ["test", "trans"]),
        (ListFlags.PAUSED, ["paused"]),
        (ListFlags.SHUTOFF, ["off", "saved"]),
        (ListFlags.OTHER, []),
        (ListFlags.MANAGEDSAVE, ["saved"]),
        (ListFlags.AUTOSTART, ["off"]),
        (ListFlags.NO_SNAPSHOT, ["off", "paused", "saved", "test", "trans"]),
        (ListFlags.HAS_CHECKPOINT, []),
    ],
)
def test_list_all_domains_filters_like_libvirt(
    zoo: Connection, flags: int, names: list[str]
) -> None:
    assert [d.name for d in zoo.list_all_domains(flags)] == names


def test_id_and_name_listings_split_active_and_inactive(zoo: Connection) -> None:
    assert zoo.list_domains_ids() == [1, 2, 4]
    assert zoo.list_defined_domains() == ["off", "saved"]
    assert (zoo.num_of_domains(), zoo.num_of_defined_domains()) == (3, 2)


# -- configuration files ------------------------------------------------------------


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of tests/data/testdriver/config (node.xml and the files it and its peers use)."""
    for src in (DATA / "config").iterdir():
        shutil.copy(src, tmp_path / src.name)
    return tmp_path


@pytest.fixture
def node(reg: Registry, config_dir: Path) -> Iterator[Connection]:
    """A connection to the host described by config/node.xml."""
    with virtcore.open(f"test://{config_dir}/node.xml", registry=reg) as c:
        yield c


def test_config_node_info_caps_cpus_at_active(node: Connection) -> None:
    assert tuple(node.get_info()) == ("ia64", 8000, 50, 6000, 4, 4, 4, 2)


def test_config_domains_take_ids_in_load_order_with_reason_unknown(node: Connection) -> None:
    states = {d.name: (d.id, *map(int, d.state())) for d in node.list_all_domains()}
    assert states == {"fromfile": (1, 1, 0), "paused1": (2, 3, 0), "off1": (-1, 5, 0),
                      "trans1": (3, 1, 0)}  # fmt: skip


def test_config_domains_can_be_transient_or_carry_a_managed_save_image(node: Connection) -> None:
    assert not node.domain_lookup_by_name("trans1").is_persistent()
    assert node.domain_lookup_by_name("off1").has_managed_save_image()


def test_config_volumes_default_their_path_and_key_and_fill_the_pool(node: Connection) -> None:
    pool = node.storage_pool_lookup_by_name("pool1")
    vol = pool.vol_lookup_by_name("v1.img")
    assert (vol.key, vol.path()) == ("/pool1/v1.img", "/pool1/v1.img")
    assert tuple(vol.info()) == (0, 102400, 51200)
    assert tuple(pool.info())[2:] == (51200 + 2048, 100 * 1024**3 - 51200 - 2048)


CONFIG_FAILURES = [
    ("", errors.InvalidArgError, T,
     "invalid argument: testOpen: supply a path or use test:///default"),
    ("/missing.xml", errors.XMLError, T,
     "XML error: failed to parse xml document '{d}/missing.xml'"),
    ("/malformed.xml", errors.XMLDetailError, T, "{d}/malformed.xml:3: Opening and ending tag "
     "mismatch: domain line 2 and node\n</node>\n-------^"),
    ("/transoff.xml", errors.XMLError, T,
     "XML error: transient domain cannot have runstate 'shutoff'"),
    ("/badroot.xml", errors.XMLError, ErrorDomain.XML,
     "XML error: expecting root element of 'node', not 'nodex'"),
    ("/badcpu.xml", errors.XMLError, T, "XML error: invalid node cpu nodes value"),
    ("/auth.xml", errors.InvalidArgError, ErrorDomain.AUTH,
     "invalid argument: Missing authentication credentials"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "expected"),
    [(f[0], f[1:]) for f in CONFIG_FAILURES],
    ids=[f[0] for f in CONFIG_FAILURES],
)
def test_config_failures_carry_libvirts_errors(
    reg: Registry, config_dir: Path, name: str, expected: tuple[Any, int, str]
) -> None:
    error, domain, message = expected
    uri = f"test://{config_dir}{name}" if name else "test:///"
    with pytest.raises(error) as info:
        virtcore.open(uri, registry=reg)
    assert (info.value.domain, info.value.message) == (domain, message.format(d=config_dir))


@pytest.fixture
def auth_file(config_dir: Path) -> Path:
    """config/auth.xml: alice with password ``pw``, bob without one."""
    return config_dir / "auth.xml"


def answering(user: str, password: str, asked: list[str]) -> Auth:
    def callback(creds: list[Credential]) -> int:
        for cred in creds:
            asked.append(cred.prompt)
            cred.result = user if cred.type == 2 else password
        return 0

    return Auth([2, 5], callback)


def test_config_auth_asks_for_user_and_password(reg: Registry, auth_file: Path) -> None:
    asked: list[str] = []
    auth = answering("alice", "pw", asked)
    with virtcore.open_auth(f"test://{auth_file}", auth, registry=reg) as c:
        assert c.is_alive()
    assert asked == ["Enter username for localhost", "Enter alice's password for localhost"]


def test_config_auth_refuses_a_wrong_password(reg: Registry, auth_file: Path) -> None:
    auth = answering("alice", "wrong", [])
    with pytest.raises(errors.AuthFailedError) as info:
        virtcore.open_auth(f"test://{auth_file}", auth, registry=reg)
    assert (info.value.code, info.value.domain) == (45, 12)
    assert info.value.message == (
        "authentication failed: authentication failed, see test XML for the correct "
        "username/password"
    )


# -- concurrency --------------------------------------------------------------------


def run_together(workers: int, target: Callable[[int], None]) -> None:
    """Run *target(i)* in *workers* threads released at the same moment."""
    barrier = threading.Barrier(workers)

    def run(index: int) -> None:
        barrier.wait(SAFETY_TIMEOUT)
        target(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SAFETY_TIMEOUT * 3)
        assert not t.is_alive()


def test_concurrent_lifecycles_keep_ids_unique_and_state_consistent(conn: Connection) -> None:
    workers, rounds = 8, 15
    seen_ids: list[int] = []
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for n in range(rounds):
                dom = conn.domain_define_xml(small(f"w{index}-{n}"))
                dom.create()
                seen_ids.append(conn.domain_lookup_by_name(dom.name).id)
                dom.destroy()
                dom.undefine()
        except errors.VirtError as exc:
            failures.append(exc)

    run_together(workers, work)
    assert not failures
    assert sorted(seen_ids) == list(range(2, 2 + workers * rounds))
    assert [d.name for d in conn.list_all_domains()] == ["test"]


def test_concurrent_starts_of_one_domain_succeed_once(conn: Connection) -> None:
    dom = conn.domain_define_xml(small("race"))
    outcomes: list[str] = []

    def start(index: int) -> None:
        try:
            dom.create()
            outcomes.append("started")
        except errors.InternalError:
            outcomes.append("refused")

    run_together(8, start)
    assert sorted(outcomes) == ["refused"] * 7 + ["started"]


# -- XML helpers --------------------------------------------------------------------


def test_writer_formats_like_libvirt() -> None:
    out = XMLWriter()
    out.open("a", [("x", "it's"), ("skip", None)])
    out.text("b", "1 < 2 & 3")
    out.empty("c")
    out.close("a")
    assert out.getvalue() == "<a x='it&apos;s'>\n  <b>1 &lt; 2 &amp; 3</b>\n  <c/>\n</a>\n"


def test_escape_drops_control_characters() -> None:
    assert escape('a\x01b"c') == "ab&quot;c"


def test_parser_refuses_oversized_documents() -> None:
    with pytest.raises(errors.XMLError):
        parse_xml(b"<a>" + b"x" * (11 * 1024 * 1024) + b"</a>", "(big)")


def test_parser_never_expands_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret")
    doc = f'<!DOCTYPE a [<!ENTITY e SYSTEM "file://{secret}">]><a>&e;</a>'
    with pytest.raises(errors.XMLError):
        parse_xml(doc, "(x)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TEST_UUID, TEST_UUID),
        ("  6695EB01F6A4830479AA97F2502E193F\n", TEST_UUID),
        ("6695-eb01-f6a4-8304-79aa-97f2-502e-193f", TEST_UUID),
        ("6695eb01-f6a4-8304-79aa-97f2502e193", None),
        ("6695eb01-f6a4-8304-79aa-97f2502e193fx", None),
    ],
)
def test_uuid_parsing_follows_libvirt(text: str, expected: str | None) -> None:
    assert parse_uuid(text) == expected


def test_domain_copy_reorders_disks_by_their_now_explicit_bus() -> None:
    disks = "<disk><source file='/c'/><target dev='vdc'/></disk><disk><source file='/a'/>"
    disks += "<target dev='vda' bus='virtio'/></disk>"
    definition = DomainDef.parse(small("d", extra=f"<devices>{disks}</devices>"))
    for copy, order in ((definition, ["vdc", "vda"]), (definition.copy(), ["vda", "vdc"])):
        targets = parse_xml(copy.format(), "(copy)").iter("target")
        assert [t.get("dev") for t in targets] == order


def test_a_handle_follows_the_starts_and_stops_made_through_it(conn: Connection) -> None:
    dom = conn.domain_lookup_by_name("test")
    other = conn.domain_lookup_by_name("test")
    dom.destroy()
    assert dom.id == -1
    dom.create()
    assert dom.id == 2
    assert other.id == 1  # like libvirt: only the handle the call went through is updated
    dom.shutdown()
    assert dom.id == -1
