"""Secrets, network filters, node devices and interfaces of the test driver, natively.

libvirt's test driver has no secrets and no network filters; virtcore's test
hosts follow libvirt's secret and nwfilter drivers, which these tests pin.
Node devices and interfaces are pinned against libvirt by
tests/test_testdriver_secondary_differential.py; here they are driven through
the native API and its events. Every test starts on a fresh
``test:///default`` host.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore import errors
from virtcore.connection import Connection
from virtcore.drivers.test import driver as test_driver
from virtcore.enums.connect import ConnectListAllSecretsFlags as SecretFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.nodedev import NodeDeviceEventLifecycleType as DevEvent
from virtcore.enums.secret import SecretEventID, SecretEventLifecycleType, SecretUsageType
from virtcore.events import Event, EventDispatcher, EventKind
from virtcore.objects import Handle, NodeDevice, Secret
from virtcore.registry import Registry

SAFETY_TIMEOUT = 10.0
SECRET_UUID = "11111111-2222-3333-4444-5555555555c1"
FILTER_UUID = "11111111-2222-3333-4444-5555555555d1"


def secret_xml(
    uuid: str = SECRET_UUID, usage: str = "/pool/disk.img", attrs: str = "", extra: str = ""
) -> str:
    """A volume secret."""
    return (
        f"<secret{attrs}><uuid>{uuid}</uuid>{extra}"
        f"<usage type='volume'><volume>{usage}</volume></usage></secret>"
    )


def filter_xml(name: str, uuid: str = FILTER_UUID, body: str = "", attrs: str = "") -> str:
    """A network filter."""
    return f"<filter name='{name}'{attrs}><uuid>{uuid}</uuid>{body}</filter>"


def binding_xml(portdev: str = "vnet0", filter_name: str = "clean") -> str:
    """A filter binding for the default host's domain ``test``."""
    return (
        "<filterbinding><owner><name>test</name>"
        "<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid></owner>"
        f"<portdev name='{portdev}'/><mac address='AA:BB:CC:DD:EE:FF'/>"
        f"<filterref filter='{filter_name}'><parameter name='IP' value='10.0.0.1'/>"
        "</filterref></filterbinding>"
    )


VHBA = (
    "<device><parent>scsi_host1</parent><capability type='scsi_host'>"
    "<capability type='fc_host'><wwnn>2000000012345678</wwnn><wwpn>1000000012345678</wwpn>"
    "</capability></capability></device>"
)


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


class Recorder:
    """Events of one kind that a connection receives, as (handle, event id, args)."""

    def __init__(self, conn: Connection, kind: EventKind, *event_ids: int) -> None:
        self.items: list[tuple[Handle, int, tuple[int, ...]]] = []
        for event_id in event_ids:
            conn.event_register(kind, event_id, self._on_event)

    def _on_event(self, conn: Connection, obj: Handle, event: Event) -> None:
        self.items.append((obj, event.event_id, tuple(int(a) for a in event.args)))

    def drain(self) -> list[tuple[Handle, int, tuple[int, ...]]]:
        """Events delivered so far (waiting for queued ones), then forget them."""
        assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
        out, self.items = self.items, []
        return out


# -- secrets ----------------------------------------------------------------------------------


def test_a_test_host_starts_without_secrets_or_filters(conn: Connection) -> None:
    assert conn.num_of_secrets() == 0 and conn.list_all_secrets() == []
    assert conn.num_of_nwfilters() == 0 and conn.list_all_nwfilter_bindings() == []


def test_a_secret_is_found_by_uuid_and_by_usage(conn: Connection) -> None:
    secret = conn.secret_define_xml(secret_xml())
    assert (secret.uuid, secret.usage_type, secret.usage_id) == (
        SECRET_UUID,
        SecretUsageType.VOLUME,
        "/pool/disk.img",
    )
    assert conn.secret_lookup_by_uuid(SECRET_UUID.upper()) == secret
    assert conn.secret_lookup_by_usage(SecretUsageType.VOLUME, "/pool/disk.img") == secret
    assert conn.list_secrets() == [SECRET_UUID]


def test_secret_xml_is_formatted_like_libvirts(conn: Connection) -> None:
    secret = conn.secret_define_xml(
        secret_xml(attrs=" private='yes'", extra="<description>disk &amp; key</description>")
    )
    assert secret.xml_desc() == (
        "<secret ephemeral='no' private='yes'>\n"
        f"  <uuid>{SECRET_UUID}</uuid>\n"
        "  <description>disk &amp; key</description>\n"
        "  <usage type='volume'>\n"
        "    <volume>/pool/disk.img</volume>\n"
        "  </usage>\n"
        "</secret>\n"
    )


def test_a_value_can_be_set_and_read_back(conn: Connection) -> None:
    secret = conn.secret_define_xml(secret_xml())
    secret.set_value(b"\x00s3cret")
    assert secret.value() == b"\x00s3cret"


def test_a_secret_without_a_value_has_none_to_give(conn: Connection) -> None:
    secret = conn.secret_define_xml(secret_xml())
    with pytest.raises(errors.NoSecretError) as info:
        secret.value()
    assert info.value.message == f"Secret not found: secret '{SECRET_UUID}' does not have a value"


def test_a_private_secret_keeps_its_value(conn: Connection) -> None:
    secret = conn.secret_define_xml(secret_xml(attrs=" private='yes'"))
    secret.set_value(b"k")
    with pytest.raises(errors.VirtError) as info:
        secret.value()
    assert (info.value.code, info.value.message) == (
        ErrorNumber.INVALID_SECRET,
        "Invalid secret: secret is private",
    )


def test_redefinition_keeps_the_value(conn: Connection) -> None:
    secret = conn.secret_define_xml(secret_xml())
    secret.set_value(b"k")
    conn.secret_define_xml(secret_xml(attrs=" ephemeral='yes'"))
    assert "ephemeral='yes'" in secret.xml_desc()
    assert secret.value() == b"k"


def test_a_private_secret_cannot_be_made_public(conn: Connection) -> None:
    secret = conn.secret_define_xml(secret_xml(attrs=" private='yes'"))
    with pytest.raises(errors.InternalError, match="cannot change private flag"):
        conn.secret_define_xml(secret_xml())
    assert conn.list_all_secrets(SecretFlags.PRIVATE) == [secret]


def test_one_usage_has_one_secret(conn: Connection) -> None:
    conn.secret_define_xml(secret_xml())
    with pytest.raises(errors.InternalError) as info:
        conn.secret_define_xml(secret_xml(uuid=SECRET_UUID.replace("c1", "c2")))
    assert info.value.message == (
        f"internal error: a secret with UUID {SECRET_UUID} already defined for use with "
        "/pool/disk.img"
    )
    with pytest.raises(errors.InternalError, match="is already defined for use with"):
        conn.secret_define_xml(secret_xml(usage="/elsewhere"))


def test_secrets_without_usage_never_clash_and_cannot_be_found_by_usage(
    conn: Connection,
) -> None:
    for tail in ("c1", "c2"):
        conn.secret_define_xml(f"<secret><uuid>{SECRET_UUID[:-2]}{tail}</uuid></secret>")
    assert conn.num_of_secrets() == 2
    with pytest.raises(errors.NoSecretError, match="no secret with matching usage ''"):
        conn.secret_lookup_by_usage(SecretUsageType.NONE, "")


def test_secrets_are_listed_by_ephemeral_and_private_filters(conn: Connection) -> None:
    conn.secret_define_xml(secret_xml(attrs=" ephemeral='yes'"))
    conn.secret_define_xml(
        secret_xml(uuid=SECRET_UUID.replace("c1", "c2"), usage="/b", attrs=" private='yes'")
    )

    def usages(flags: int) -> list[str]:
        return sorted(s.usage_id for s in conn.list_all_secrets(flags))

    assert usages(SecretFlags.EPHEMERAL) == ["/pool/disk.img"]
    assert usages(SecretFlags.NO_EPHEMERAL) == ["/b"]
    assert usages(SecretFlags.PRIVATE) == ["/b"]
    assert usages(SecretFlags.NO_PRIVATE | SecretFlags.EPHEMERAL) == ["/pool/disk.img"]


def test_secrets_emit_lifecycle_and_value_events(conn: Connection) -> None:
    events = Recorder(conn, EventKind.SECRET, SecretEventID.LIFECYCLE, SecretEventID.VALUE_CHANGED)
    secret = conn.secret_define_xml(secret_xml())
    secret.set_value(b"v")
    secret.undefine()
    seen = events.drain()
    assert [(e[1], e[2]) for e in seen] == [
        (SecretEventID.LIFECYCLE, (SecretEventLifecycleType.DEFINED, 0)),
        (SecretEventID.VALUE_CHANGED, ()),
        (SecretEventID.LIFECYCLE, (SecretEventLifecycleType.UNDEFINED, 0)),
    ]
    assert all(isinstance(e[0], Secret) and e[0].uuid == SECRET_UUID for e in seen)


def test_secret_event_handles_carry_the_secrets_usage_type(conn: Connection) -> None:
    events = Recorder(conn, EventKind.SECRET, SecretEventID.LIFECYCLE)
    conn.secret_define_xml(secret_xml()).undefine()
    seen = events.drain()
    assert [(e[0].usage_type, e[0].usage_id) for e in seen if isinstance(e[0], Secret)] == [
        (SecretUsageType.VOLUME, "/pool/disk.img"),
        (SecretUsageType.VOLUME, "/pool/disk.img"),
    ]


def test_an_undefined_secret_is_gone(conn: Connection) -> None:
    secret = conn.secret_define_xml(secret_xml())
    secret.undefine()
    with pytest.raises(errors.NoSecretError):
        secret.xml_desc()
    assert conn.num_of_secrets() == 0


def test_a_read_only_connection_sees_secrets_but_not_their_values(
    conn: Connection, reg: Registry
) -> None:
    conn.secret_define_xml(secret_xml()).set_value(b"v")
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        secret = ro.secret_lookup_by_uuid(SECRET_UUID)
        assert "<uuid>" in secret.xml_desc()
        with pytest.raises(errors.OperationDeniedError):
            secret.value()


@pytest.mark.parametrize(
    ("doc", "error", "message"),
    [
        ("<secret><usage type='bogus'/></secret>", errors.ConfigUnsupportedError,
         "unsupported configuration: unknown secret usage type bogus"),
        ("<secret><usage type='ceph'/></secret>", errors.InternalError,
         "internal error: Ceph usage specified, but name is missing"),
        ("<secret ephemeral='maybe'/>", errors.XMLError, "XML error: invalid value of 'ephemeral'"),
        ("<secret><uuid>zz</uuid></secret>", errors.InternalError,
         "internal error: malformed uuid element"),
    ],
)  # fmt: skip
def test_bad_secret_documents_are_refused_like_libvirt(
    conn: Connection, doc: str, error: type[errors.VirtError], message: str
) -> None:
    with pytest.raises(error) as info:
        conn.secret_define_xml(doc)
    assert (info.value.message, info.value.domain) == (message, ErrorDomain.SECRET)


def test_secrets_belong_to_their_host(conn: Connection, reg: Registry, tmp_path: Path) -> None:
    conn.secret_define_xml(secret_xml())
    config = tmp_path / "empty.xml"
    config.write_text("<node/>")
    with virtcore.open(f"test://{config}", registry=reg) as other:
        assert other.num_of_secrets() == 0


# -- network filters ------------------------------------------------------------------------


def test_a_filter_is_found_by_name_and_uuid_and_formatted_like_libvirt(conn: Connection) -> None:
    body = (
        "<rule action='accept' direction='out' priority='100' statematch='false'>"
        "<ip protocol='tcp' srcipaddr='$IP' match='no'/></rule>"
        "<filterref filter='other'><parameter name='Z' value='1'/>"
        "<parameter name='A' value='2'/></filterref><rule action='drop' direction='in'/>"
    )
    nwfilter = conn.nwfilter_define_xml(filter_xml("clean", body=body, attrs=" chain='ipv4'"))
    assert conn.nwfilter_lookup_by_name("clean") == nwfilter
    assert conn.nwfilter_lookup_by_uuid(FILTER_UUID) == nwfilter
    assert conn.list_nwfilters() == ["clean"]
    assert nwfilter.xml_desc() == (
        "<filter name='clean' chain='ipv4' priority='-700'>\n"
        f"  <uuid>{FILTER_UUID}</uuid>\n"
        "  <rule action='accept' direction='out' priority='100' statematch='false'>\n"
        "    <ip match='no' srcipaddr='$IP' protocol='tcp'/>\n"
        "  </rule>\n"
        "  <filterref filter='other'>\n"
        "    <parameter name='A' value='2'/>\n"
        "    <parameter name='Z' value='1'/>\n"
        "  </filterref>\n"
        "  <rule action='drop' direction='in' priority='500'/>\n"
        "</filter>\n"
    )


def test_a_filter_is_redefined_under_its_name_and_uuid(conn: Connection) -> None:
    conn.nwfilter_define_xml(filter_xml("clean"))
    conn.nwfilter_define_xml(filter_xml("clean", body="<rule action='drop' direction='in'/>"))
    assert "action='drop'" in conn.nwfilter_lookup_by_name("clean").xml_desc()
    with pytest.raises(errors.OperationFailedError, match="already exists with uuid"):
        conn.nwfilter_define_xml(filter_xml("clean", FILTER_UUID.replace("d1", "d2")))
    with pytest.raises(errors.OperationFailedError, match=r"different name \('clean'\)"):
        conn.nwfilter_define_xml(filter_xml("dirty"))


def test_filters_may_not_reference_themselves(conn: Connection) -> None:
    conn.nwfilter_define_xml(filter_xml("a", body="<filterref filter='b'/>"))
    with pytest.raises(errors.OperationFailedError, match="filter would introduce a loop"):
        conn.nwfilter_define_xml(
            filter_xml("b", FILTER_UUID.replace("d1", "d2"), "<filterref filter='a'/>")
        )


def test_chain_names_and_priorities_follow_libvirt(conn: Connection) -> None:
    nwfilter = conn.nwfilter_define_xml(filter_xml("f", attrs=" chain='arp-x' priority='7'"))
    assert nwfilter.xml_desc().startswith("<filter name='f' chain='arp-x' priority='7'>")
    with pytest.raises(errors.InvalidArgError, match="Invalid chain name 'bogus'"):
        conn.nwfilter_define_xml(filter_xml("g", attrs=" chain='bogus'"))
    with pytest.raises(errors.InvalidArgError, match="outside valid range"):
        conn.nwfilter_define_xml(filter_xml("g", attrs=" priority='5000'"))


def test_a_binding_ties_a_port_to_an_existing_filter(conn: Connection) -> None:
    with pytest.raises(errors.VirtError) as info:
        conn.nwfilter_binding_create_xml(binding_xml())
    assert info.value.code == ErrorNumber.NO_NWFILTER
    conn.nwfilter_define_xml(filter_xml("clean"))
    binding = conn.nwfilter_binding_create_xml(binding_xml())
    assert (binding.port_dev, binding.filter_name) == ("vnet0", "clean")
    assert conn.nwfilter_binding_lookup_by_port_dev("vnet0") == binding
    assert conn.list_all_nwfilter_bindings() == [binding]
    assert "<mac address='aa:bb:cc:dd:ee:ff'/>" in binding.xml_desc()
    with pytest.raises(errors.OperationFailedError, match="already exists"):
        conn.nwfilter_binding_create_xml(binding_xml())


def test_a_filter_in_use_cannot_be_undefined(conn: Connection) -> None:
    top = conn.nwfilter_define_xml(filter_xml("clean", body="<filterref filter='base'/>"))
    base = conn.nwfilter_define_xml(filter_xml("base", FILTER_UUID.replace("d1", "d2")))
    binding = conn.nwfilter_binding_create_xml(binding_xml())
    for nwfilter in (top, base):
        with pytest.raises(errors.OperationInvalidError, match="nwfilter is in use"):
            nwfilter.undefine()
    binding.delete()
    with pytest.raises(errors.NoNWFilterBindingError):
        binding.xml_desc()
    top.undefine()
    base.undefine()
    assert conn.num_of_nwfilters() == 0


def test_filter_errors_carry_the_nwfilter_domain(conn: Connection) -> None:
    with pytest.raises(errors.NoNWFilterError) as info:
        conn.nwfilter_lookup_by_name("nosuch")
    assert (info.value.message, info.value.domain) == (
        "Network filter not found: no nwfilter with matching name 'nosuch'",
        ErrorDomain.NWFILTER,
    )


# -- node devices and interfaces -------------------------------------------------------------


def test_creating_and_destroying_a_vhba_emits_node_device_events(conn: Connection) -> None:
    events = Recorder(conn, EventKind.NODE_DEVICE, 0)
    dev = conn.node_device_create_xml(VHBA)
    assert dev.name == "scsi_host12" and dev.parent() == "scsi_host1"
    assert dev.num_of_caps() == 1
    dev.destroy()
    seen = events.drain()
    assert [(e[0], e[2]) for e in seen] == [
        (NodeDevice(conn, "scsi_host12"), (DevEvent.CREATED, 0)),
        (NodeDevice(conn, "scsi_host12"), (DevEvent.DELETED, 0)),
    ]
    assert "scsi_host12" not in conn.list_devices()


def test_devices_are_counted_and_listed_by_capability(conn: Connection) -> None:
    assert conn.list_devices("fc_host") == ["scsi_host1", "scsi_host11", "scsi_host2"]
    assert conn.num_of_devices() == 4
    with pytest.raises(errors.InvalidArgError, match="testNodeNumOfDevices"):
        conn.list_devices(None, 1)


def test_interfaces_are_defined_started_and_rolled_back(conn: Connection) -> None:
    conn.change_begin()
    iface = conn.interface_define_xml("<interface type='ethernet' name='eth9'/>")
    iface.create()
    assert conn.list_interfaces() == ["eth1", "eth9"]
    conn.change_rollback()
    assert (conn.list_interfaces(), conn.list_defined_interfaces()) == ([], ["eth1"])
    assert conn.num_of_defined_interfaces() == 1


def test_interface_mac_lookup_keeps_the_callers_spelling(conn: Connection) -> None:
    iface = conn.interface_lookup_by_mac_string("AA:BB:CC:DD:EE:FF")
    assert (iface.name, iface.mac) == ("eth1", "AA:BB:CC:DD:EE:FF")
