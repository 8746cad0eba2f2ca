"""Virtual networks of the test driver through virtcore's native API.

What libvirt 9.0's test driver also does is pinned against it by
tests/test_testdriver_secondary_differential.py; these tests cover the native
API, the update rules' less visible consequences, and what the test driver
adds beyond libvirt's (network ports and DHCP leases, after libvirt's network
driver). Every test starts on a fresh ``test:///default`` host.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore import errors
from virtcore.connection import Connection
from virtcore.drivers.test import driver as test_driver
from virtcore.drivers.test.determinism import determinism
from virtcore.drivers.test.netxml import NetworkDef
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.network import NetworkEventLifecycleType as NetEvent
from virtcore.enums.network import NetworkPortCreateFlags as PortFlags
from virtcore.enums.network import NetworkUpdateCommand as Cmd
from virtcore.enums.network import NetworkUpdateFlags as Affect
from virtcore.enums.network import NetworkUpdateSection as Section
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Handle, Network
from virtcore.registry import Registry

SAFETY_TIMEOUT = 10.0
TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
PORT_UUID = "11111111-2222-3333-4444-555555555599"
ISO = (
    "<network><name>iso</name><uuid>11111111-2222-3333-4444-555555555504</uuid>"
    "<bridge name='virbr4'/><ip address='10.8.0.1' prefix='24'><dhcp>"
    "<range start='10.8.0.10' end='10.8.0.20'/></dhcp></ip></network>"
)
VEPA = (
    "<network><name>vepa</name><uuid>11111111-2222-3333-4444-555555555505</uuid>"
    "<forward mode='vepa'><interface dev='eth4'/><interface dev='eth5'/></forward></network>"
)
HOST = "<host mac='00:16:3e:77:e2:ed' name='foo' ip='192.168.122.10'/>"


def port_xml(uuid: str = PORT_UUID, plug: str = "", mac: str = "52:54:00:00:00:01") -> str:
    """A network port document owned by the default host's domain ``test``."""
    return (
        f"<networkport><uuid>{uuid}</uuid><owner><name>test</name><uuid>{TEST_UUID}</uuid>"
        f"</owner><mac address='{mac}'/>{plug}</networkport>"
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


@pytest.fixture
def default(conn: Connection) -> Network:
    """The default host's network ``default`` (running, NAT on virbr0, DHCP .2-.254)."""
    return conn.network_lookup_by_name("default")


class NetworkEvents:
    """The network lifecycle events one connection receives."""

    def __init__(self, conn: Connection) -> None:
        self.items: list[tuple[str, int]] = []
        conn.network_event_register_any(0, self._on_event)

    def _on_event(self, conn: Connection, net: Handle, event: Event) -> None:
        assert isinstance(net, Network)
        self.items.append((net.name, int(event.args[0])))

    def drain(self) -> list[tuple[str, int]]:
        """Events delivered so far (waiting for queued ones), then forget them."""
        assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
        out, self.items = self.items, []
        return out


# -- lifecycle ------------------------------------------------------------------------------


def test_a_defined_network_starts_stops_and_goes_away_with_events(conn: Connection) -> None:
    events = NetworkEvents(conn)
    net = conn.network_define_xml(ISO)
    net.create()
    net.destroy()
    net.undefine()
    assert events.drain() == [
        ("iso", NetEvent.DEFINED),
        ("iso", NetEvent.STARTED),
        ("iso", NetEvent.STOPPED),
        ("iso", NetEvent.UNDEFINED),
    ]
    with pytest.raises(errors.NoNetworkError):
        conn.network_lookup_by_name("iso")


def test_create_xml_starts_a_transient_network_that_vanishes_when_stopped(
    conn: Connection,
) -> None:
    net = conn.network_create_xml(ISO)
    assert net.is_active() and not net.is_persistent()
    assert "iso" in conn.list_networks()
    net.destroy()
    assert "iso" not in conn.list_networks() + conn.list_defined_networks()


def test_listings_split_running_and_inactive_networks(conn: Connection) -> None:
    conn.network_define_xml(ISO)
    assert (conn.list_networks(), conn.list_defined_networks()) == (["default"], ["iso"])
    assert (conn.num_of_networks(), conn.num_of_defined_networks()) == (1, 1)


def test_lookup_by_uuid_accepts_libvirts_spellings(conn: Connection) -> None:
    net = conn.network_lookup_by_uuid("DD8FE8846C02601E7551CCA97DF1C5DF")
    assert (net.name, net.uuid) == ("default", "dd8fe884-6c02-601e-7551-cca97df1c5df")


def test_a_malformed_uuid_is_an_invalid_argument(conn: Connection) -> None:
    with pytest.raises(errors.InvalidArgError) as info:
        conn.network_lookup_by_uuid("zzz")
    assert info.value.message == "uuidstr in virNetworkLookupByUUIDString must be a valid UUID"


def test_a_read_only_connection_reads_networks_but_cannot_change_them(reg: Registry) -> None:
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        net = ro.network_lookup_by_name("default")
        assert net.is_active()
        assert net.dhcp_leases()
        with pytest.raises(errors.OperationDeniedError):
            net.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, HOST)
        with pytest.raises(errors.OperationDeniedError):
            ro.network_define_xml(ISO)


# -- updates ----------------------------------------------------------------------------------


def test_a_live_update_changes_the_running_definition(default: Network) -> None:
    default.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, HOST, Affect.LIVE)
    assert HOST in default.xml_desc()


def test_stopping_keeps_the_live_definition_as_libvirts_test_driver_does(
    default: Network,
) -> None:
    saved = "<host mac='00:16:3e:77:e2:01' ip='192.168.122.20'/>"
    default.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, saved, Affect.CONFIG)
    default.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, HOST, Affect.LIVE)
    default.destroy()
    assert HOST in default.xml_desc() and saved not in default.xml_desc()
    # A config edit of the stopped network starts from the saved persistent definition.
    default.update(Cmd.ADD_LAST, Section.DNS_TXT, -1, "<txt name='t' value='v'/>")
    xml = default.xml_desc()
    assert saved in xml and "<txt name='t' value='v'/>" in xml and HOST not in xml


def test_a_config_update_of_a_running_network_is_not_visible_yet(default: Network) -> None:
    default.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, HOST, Affect.CONFIG)
    assert HOST not in default.xml_desc()


def test_a_failed_update_changes_nothing(default: Network) -> None:
    default.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, HOST)
    before = default.xml_desc()
    with pytest.raises(errors.OperationInvalidError, match="existing dhcp host entry"):
        default.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, HOST, Affect.LIVE | Affect.CONFIG)
    assert default.xml_desc() == before


def test_config_updates_of_transient_networks_are_refused(conn: Connection) -> None:
    net = conn.network_create_xml(ISO)
    with pytest.raises(errors.OperationInvalidError) as info:
        net.update(Cmd.ADD_LAST, Section.PORTGROUP, -1, "<portgroup name='p'/>", Affect.CONFIG)
    assert info.value.message == (
        "Requested operation is not valid: cannot change persistent config of a transient network"
    )


def test_live_updates_of_inactive_networks_are_refused(conn: Connection) -> None:
    net = conn.network_define_xml(ISO)
    with pytest.raises(errors.OperationInvalidError, match="network is not running"):
        net.update(Cmd.ADD_LAST, Section.PORTGROUP, -1, "<portgroup name='p'/>", Affect.LIVE)


def test_an_update_document_with_a_syntax_error_is_named_like_libvirts(default: Network) -> None:
    with pytest.raises(errors.XMLDetailError) as info:
        default.update(Cmd.ADD_LAST, Section.DNS_SRV, -1, "<srv")
    assert info.value.message.startswith("network_update_xml:1: ")
    assert info.value.domain == ErrorDomain.NETWORK


def test_a_dhcp_host_can_be_added_first_modified_and_deleted(default: Network) -> None:
    first = "<host mac='00:16:3e:77:e2:ee' name='bar' ip='192.168.122.11'/>"
    default.update(Cmd.ADD_LAST, Section.IP_DHCP_HOST, -1, HOST)
    default.update(Cmd.ADD_FIRST, Section.IP_DHCP_HOST, -1, first)
    xml = default.xml_desc()
    assert xml.index("name='bar'") < xml.index("name='foo'")
    default.update(Cmd.MODIFY, Section.IP_DHCP_HOST, -1, first.replace("bar", "baz"))
    default.update(Cmd.DELETE, Section.IP_DHCP_HOST, -1, "<host name='foo'/>")
    xml = default.xml_desc()
    assert "name='baz'" in xml and "name='foo'" not in xml


def test_network_definitions_survive_a_format_parse_cycle() -> None:
    doc = (
        "<network><name>n</name><uuid>11111111-2222-3333-4444-555555555506</uuid>"
        "<forward mode='nat'/><ip address='10.1.0.1' prefix='24'><dhcp>"
        "<range start='10.1.0.2' end='10.1.0.9'><lease expiry='2' unit='hours'/></range>"
        "</dhcp></ip><portgroup name='p' default='yes'/></network>"
    )
    net = NetworkDef.parse(doc)
    assert NetworkDef.parse(net.format()).format() == net.format()
    assert net.copy().format() == net.format()


# -- ports ------------------------------------------------------------------------------------


def test_a_port_on_a_bridged_network_is_plugged_into_its_bridge(default: Network) -> None:
    port = default.port_create_xml(port_xml())
    assert port.uuid == PORT_UUID
    assert "<plug type='network' bridge='virbr0'/>" in port.xml_desc()
    assert default.xml_desc().startswith("<network connections='1'>\n")


def test_ports_are_listed_looked_up_and_deleted(default: Network) -> None:
    port = default.port_create_xml(port_xml())
    assert default.list_all_ports() == [port]
    assert default.port_lookup_by_uuid(PORT_UUID.upper()) == port
    port.delete()
    assert default.list_all_ports() == []
    assert default.xml_desc().startswith("<network>\n")
    with pytest.raises(errors.NoNetworkPortError) as info:
        port.xml_desc()
    assert info.value.message == (
        f"network port not found: Network port with UUID {PORT_UUID} does not exist"
    )


def test_a_port_needs_a_running_network(conn: Connection) -> None:
    net = conn.network_define_xml(ISO)
    with pytest.raises(errors.OperationInvalidError, match="network 'iso' is not active"):
        net.port_create_xml(port_xml())


def test_ports_disappear_when_their_network_stops(default: Network) -> None:
    default.port_create_xml(port_xml())
    default.destroy()
    default.create()
    assert default.list_all_ports() == []


def test_a_port_uuid_can_only_be_used_once(default: Network) -> None:
    default.port_create_xml(port_xml())
    with pytest.raises(errors.VirtError) as info:
        default.port_create_xml(port_xml())
    assert info.value.code == ErrorNumber.NETWORK_PORT_EXIST


def test_a_plugged_port_is_only_accepted_when_reclaimed(default: Network) -> None:
    plug = "<plug type='network' bridge='virbr0'/>"
    with pytest.raises(errors.InvalidArgError, match="requires plug type none"):
        default.port_create_xml(port_xml(plug=plug))
    with pytest.raises(errors.InvalidArgError, match="plug type is none"):
        default.port_create_xml(port_xml(), PortFlags.RECLAIM)
    port = default.port_create_xml(port_xml(plug=plug), PortFlags.RECLAIM)
    assert plug in port.xml_desc()


def test_direct_ports_use_the_least_used_forward_interface(conn: Connection) -> None:
    net = conn.network_create_xml(VEPA)
    first = net.port_create_xml(port_xml())
    second = net.port_create_xml(port_xml(PORT_UUID.replace("99", "98")))
    assert "<plug type='direct' dev='eth4' mode='vepa'/>" in first.xml_desc()
    assert "<plug type='direct' dev='eth5' mode='vepa'/>" in second.xml_desc()
    assert "<interface dev='eth4' connections='1'/>" in net.xml_desc()


def test_port_bandwidth_parameters_can_be_set_and_read(default: Network) -> None:
    port = default.port_create_xml(port_xml())
    assert set(port.get_parameters().values()) == {0}
    port.set_parameters({"inbound.average": 1000, "outbound.peak": 50})
    params = port.get_parameters()
    assert (params["inbound.average"], params["outbound.peak"]) == (1000, 50)
    assert "<inbound average='1000'/>" in port.xml_desc()
    port.set_parameters({"inbound.average": 0})
    assert "<inbound" not in port.xml_desc()


def test_unknown_port_parameters_are_refused(default: Network) -> None:
    port = default.port_create_xml(port_xml())
    with pytest.raises(errors.ArgumentUnsupportedError, match="parameter 'speed' not supported"):
        port.set_parameters({"speed": 1})


def test_a_malformed_port_document_is_refused_like_libvirt(default: Network) -> None:
    with pytest.raises(errors.InternalError) as info:
        default.port_create_xml("<networkport><uuid>zz</uuid></networkport>")
    assert info.value.message == "internal error: Unable to parse UUID 'zz'"


# -- DHCP leases -------------------------------------------------------------------------------


def test_a_running_guest_on_the_network_holds_a_lease(conn: Connection, default: Network) -> None:
    clock = determinism(conn).enable_clock(start=1_700_000_000)
    (lease,) = default.dhcp_leases()
    assert lease.mac == "aa:bb:cc:dd:ee:ff"
    assert (lease.ipaddr, lease.prefix, lease.type) == ("192.168.122.3", 24, 0)
    assert (lease.iface, lease.hostname) == ("virbr0", "testhost")
    assert lease.expirytime == 1_700_000_000 + 3600
    assert clock.now_ns() // 1_000_000_000 == 1_700_000_000


def test_the_leased_address_is_the_one_the_guest_reports(
    conn: Connection, default: Network
) -> None:
    dom = conn.domain_lookup_by_name("test")
    (iface,) = dom.interface_addresses()
    (lease,) = default.dhcp_leases()
    assert (lease.mac, lease.ipaddr) == (iface.hwaddr, iface.addrs[0].addr)


def test_a_static_dhcp_host_entry_fixes_the_leased_address(default: Network) -> None:
    default.update(
        Cmd.ADD_LAST,
        Section.IP_DHCP_HOST,
        -1,
        "<host mac='AA:BB:CC:DD:EE:FF' ip='192.168.122.77'/>",
    )
    assert [lease.ipaddr for lease in default.dhcp_leases()] == ["192.168.122.77"]


def test_leases_can_be_filtered_by_mac(default: Network) -> None:
    assert len(default.dhcp_leases("AA:BB:CC:DD:EE:FF")) == 1
    assert default.dhcp_leases("00:00:00:00:00:01") == []


def test_an_invalid_mac_filter_is_refused(default: Network) -> None:
    with pytest.raises(errors.VirtError) as info:
        default.dhcp_leases("zz")
    assert info.value.code == ErrorNumber.INVALID_MAC


def test_stopped_guests_and_networks_hold_no_leases(conn: Connection, default: Network) -> None:
    conn.domain_lookup_by_name("test").destroy()
    assert default.dhcp_leases() == []
    conn.domain_lookup_by_name("test").create()
    default.destroy()
    assert default.dhcp_leases() == []
