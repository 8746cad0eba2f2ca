"""The ``<interface>`` device: network interfaces of every kind.

::

    <interface type='network'>
      <mac address='52:54:00:6d:90:02'/>
      <source network='default'/>
      <bandwidth><inbound average='1000'/></bandwidth>
      <target dev='vnet3'/>
      <model type='virtio'/>
      <driver name='vhost' queues='4'/>
      <link state='up'/>
      <boot order='2'/>
    </interface>

Types: ``network``, ``bridge``, ``direct`` (macvtap), ``user``,
``ethernet``, ``hostdev`` (SR-IOV), ``vhostuser``, ``server``, ``client``,
``mcast``, ``udp``, ``vdpa`` and ``internal``. :meth:`Interface.parse`
reads an interface as libvirt 9.0's ``virDomainNetDefParseXML`` does;
``post_parse`` generates a MAC address when there is none (libvirt's
``52:54:00`` prefix, through an injectable :data:`MacGenerator`).

On define (an inactive parse) libvirt forgets target names it generated
itself (``vnet*``, ``macvtap*``, ``macvlan*``) unless the tap device is
unmanaged; the test driver then names each interface without a target
``testnet<N>`` (:func:`assign_test_ifnames`).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import XMLChild, XMLProperty
from virtcore.xml.domain.devices.address import INFO_CHILDREN, Address, DeviceInfo
from virtcore.xml.domain.devices.hostdev import SubsysSource, parse_subsys
from virtcore.xml.domain.devices.netconf import (
    Bandwidth,
    IPInfo,
    VirtualPort,
    Vlan,
    filterref_element,
    parse_bandwidth,
    parse_filterref,
    parse_ip_info,
    parse_virtualport,
    parse_vlan,
)
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    UNASSIGNED,
    DeviceContext,
    DeviceDef,
    DeviceModel,
    VirtioOptions,
    child,
    children,
    element,
    fail,
    field_defaults,
    first_children,
    optional_element,
    prop,
    prop_enum,
    prop_int,
    prop_required,
    prop_switch,
    prop_tristate,
    prop_uint,
    text_of,
    virtio_attrs,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.network_addr import format_ip, try_ip
from virtcore.xml.units import parse_uint

__all__ = [
    "TYPES",
    "Interface",
    "InterfaceDef",
    "MacGenerator",
    "assign_test_ifnames",
    "parse_mac",
    "random_mac",
]

logger = logging.getLogger(__name__)

TYPES = (
    "user", "ethernet", "vhostuser", "server", "client", "mcast", "network", "bridge",
    "internal", "direct", "hostdev", "udp", "vdpa",
)  # fmt: skip
"""``virDomainNetType``."""
VIRTIO_MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")
DIRECT_MODES = ("vepa", "private", "bridge", "passthrough")
_GENERATED_PREFIXES = ("vnet", "macvtap", "macvlan")
_MODEL_CHARS = re.compile(r"[A-Za-z0-9_-]+\Z")
_MAC = re.compile(r"[0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5}\Z")
_CANONICAL_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}\Z")
_DRIVER_ORDER = ("name", "txmode", "ioeventfd", "event_idx", "queues", "rx_queue_size",
                 "tx_queue_size")  # fmt: skip
_HOST_OFFLOADS = ("csum", "gso", "tso4", "tso6", "ecn", "ufo", "mrg_rxbuf")
_GUEST_OFFLOADS = ("csum", "tso4", "tso6", "ecn", "ufo")
_SOCKET_TYPES = ("server", "client", "mcast", "udp")

MacGenerator = Callable[[], str]
"""Makes a MAC address for an interface that has none."""


def random_mac() -> str:
    """``virMacAddrGenerate`` with libvirt's (QEMU/KVM) ``52:54:00`` prefix."""
    tail = random.SystemRandom().getrandbits(24)
    return f"52:54:00:{tail >> 16:02x}:{(tail >> 8) & 0xFF:02x}:{tail & 0xFF:02x}"


def parse_mac(text: str) -> str:
    """``virMacAddrParse``: the canonical (lower-case, two digits) form of a unicast MAC."""
    if _CANONICAL_MAC.match(text):
        canonical = text  # already as libvirt writes it: nothing to rewrite
    else:
        if not _MAC.match(text):
            fail(ErrorNumber.XML_ERROR, f"unable to parse mac address '{text}'")
        canonical = ":".join(f"{int(part, 16):02x}" for part in text.split(":"))
    if int(canonical[:2], 16) & 1:
        fail(ErrorNumber.XML_ERROR, f"expected unicast mac address, found multicast '{text}'")
    return canonical


@dataclass
class InterfaceDef(DeviceDef):
    """A parsed ``<interface>`` (``virDomainNetDef``)."""

    type: str = "user"
    mac: str | None = None
    mac_type: str | None = None
    mac_check: bool | None = None
    trust_guest_rx_filters: bool | None = None
    source: list[tuple[str, str | int | None]] = field(default_factory=list)
    source_children: list[OutNode] = field(default_factory=list)
    hostdev: SubsysSource | None = None
    portid: str | None = None
    host_ip: IPInfo = field(default_factory=IPInfo)
    guest_ip: IPInfo = field(default_factory=IPInfo)
    vlan: Vlan | None = None
    virtualport: VirtualPort | None = None
    bandwidth: Bandwidth | None = None
    isolated: bool | None = None
    script: str | None = None
    downscript: str | None = None
    backend_domain: str | None = None
    ifname: str | None = None
    managed_tap: bool | None = None
    guest_dev: str | None = None
    guest_actual: str | None = None
    model: str | None = None
    driver: dict[str, str] = field(default_factory=dict)
    host_offloads: dict[str, str] = field(default_factory=dict)
    guest_offloads: dict[str, str] = field(default_factory=dict)
    virtio: VirtioOptions | None = None
    backend_tap: str | None = None
    backend_vhost: str | None = None
    backend_type: str | None = None
    backend_logfile: str | None = None
    port_forwards: list[OutNode] = field(default_factory=list)
    filter: str | None = None
    filter_params: list[tuple[str, str]] = field(default_factory=list)
    sndbuf: int | None = None
    teaming: str | None = None
    teaming_persistent: str | None = None
    link_state: str | None = None
    mtu: int = 0
    coalesce_frames: int | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    @property
    def is_virtio(self) -> bool:
        """``virDomainNetIsVirtioModel``."""
        return self.model in VIRTIO_MODELS

    def post_parse(self, ctx: DeviceContext) -> None:
        """Generate the MAC address libvirt generates at parse time when there is none."""
        if self.mac is None:
            generator: MacGenerator = getattr(ctx, "mac_generator", None) or random_mac
            self.mac = generator()

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainNetDefValidate`` and the device-info checks."""
        if self.info.address_type == UNASSIGNED:  # the one address the device info refuses
            self.info.validate()
        if self.type != "ethernet" and self.host_ip:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "Invalid attempt to set network interface host-side IP route and/or address "
                f"info on interface of type '{self.type}'. This is only supported on "
                "interfaces of type 'ethernet'",
            )
        if self.managed_tap is False and self.type != "ethernet":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"unmanaged target dev is not supported on interfaces of type '{self.type}'",
            )
        if self.teaming == "transient" and self.teaming_persistent is None:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "teaming persistent attribute must be set if teaming type is 'transient'",
            )
        if self.teaming is not None and self.teaming != "transient" and self.teaming_persistent:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"teaming persistent attribute not allowed if teaming type is '{self.teaming}'",
            )
        if self.isolated:
            self._check_isolated()
        if self.virtio is not None and not self.is_virtio:
            self.virtio.check_absent()
        if self.backend_type is not None:
            # The test driver has no passt support.
            fail(
                ErrorNumber.XML_ERROR,
                f"Invalid value for attribute 'type' in element 'backend': '{self.backend_type}'.",
            )
        if self.type == "vhostuser" and not self.is_virtio:
            fail(
                ErrorNumber.INTERNAL_ERROR,
                "Wrong or no <model> 'type' attribute specified with <interface "
                "type='vhostuser'/>. vhostuser requires the virtio-net* frontend",
            )

    def _check_isolated(self) -> None:
        where = f"interface {self.mac} - <port isolated='yes'/> is not supported for network "
        if self.virtualport is not None and self.virtualport.type == "openvswitch":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"{where}interfaces with virtualport type='openvswitch'",
            )
        if self.type not in ("network", "bridge"):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"{where}interfaces with type='{self.type}'")

    # -- output -------------------------------------------------------------------------

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainNetDefFormat`` (for a definition without a live network binding)."""
        attrs: list[tuple[str, str | int | None]] = [("type", self.type)]
        if self.hostdev is not None and self.hostdev.managed:
            attrs.append(("managed", "yes"))
        attrs.append(("trustGuestRxFilters", yesno(self.trust_guest_rx_filters)))
        mac = [("address", self.mac), ("type", self.mac_type), ("check", yesno(self.mac_check))]
        kids: list[OutNode | None] = [element("mac", mac)]
        kids.extend(self._source_elements(flags))
        if self.vlan is not None:
            kids.append(self.vlan.to_element())
        if self.virtualport is not None:
            kids.append(self.virtualport.to_element())
        if self.bandwidth is not None:
            kids.append(self.bandwidth.to_element())
        if self.isolated is not None:
            kids.append(element("port", [("isolated", yesno(self.isolated))]))
        if self.guest_ip:
            kids.extend(self.guest_ip.elements())
        if self.port_forwards:
            kids.extend(self.port_forwards)
        if self.script is not None:
            kids.append(element("script", [("path", self.script)]))
        if self.downscript is not None:
            kids.append(element("downscript", [("path", self.downscript)]))
        if self.backend_domain is not None:
            kids.append(element("backenddomain", [("name", self.backend_domain)]))
        managed = yesno(self.managed_tap)
        kids.append(optional_element("target", [("dev", self.ifname), ("managed", managed)]))
        if self.guest_dev is not None or self.guest_actual is not None:
            kids.append(element("guest", [("dev", self.guest_dev), ("actual", self.guest_actual)]))
        if self.model is not None:
            kids.append(element("model", [("type", self.model)]))
            if self.is_virtio:
                kids.append(self._driver_element())
        if (
            self.backend_type is not None
            or self.backend_tap is not None
            or self.backend_vhost is not None
            or self.backend_logfile is not None
        ):
            backend = [
                ("type", self.backend_type),
                ("tap", self.backend_tap),
                ("vhost", self.backend_vhost),
                ("logFile", self.backend_logfile),
            ]
            kids.append(element("backend", backend))
        if self.filter is not None:
            kids.append(filterref_element(self.filter, self.filter_params))
        if self.sndbuf is not None:
            kids.append(element("tune", kids=[element("sndbuf", text=str(self.sndbuf))]))
        if self.teaming is not None:
            team = [("type", self.teaming), ("persistent", self.teaming_persistent)]
            kids.append(element("teaming", team))
        if self.link_state is not None:
            kids.append(element("link", [("state", self.link_state)]))
        if self.mtu:
            kids.append(element("mtu", [("size", self.mtu)]))
        if self.coalesce_frames:
            frames = element("frames", [("max", self.coalesce_frames)])
            kids.append(element("coalesce", kids=[element("rx", kids=[frames])]))
        kids.extend(self.info.elements())
        return element("interface", attrs, kids)

    def _source_elements(self, flags: int) -> list[OutNode | None]:
        if self.hostdev is not None:
            return [self.hostdev.driver_element(), self.hostdev.source_element(with_type=True)]
        attrs = list(self.source)
        if self.type == "network" and self.portid is not None and not flags & INACTIVE:
            attrs.append(("portid", self.portid))
        kids = list(self.source_children)
        if self.host_ip:
            kids += self.host_ip.elements()
        if not attrs and not kids:
            return []
        return [element("source", attrs, kids)]

    def _driver_element(self) -> OutNode | None:
        if (
            not self.driver
            and self.virtio is None
            and not self.host_offloads
            and not self.guest_offloads
        ):
            return None  # nothing to write: no attribute, no child
        attrs: list[tuple[str, str | int | None]] = [
            (name, self.driver.get(name)) for name in _DRIVER_ORDER
        ]
        attrs += virtio_attrs(self.virtio)
        kids = []
        if self.host_offloads:
            kids.append(element("host", [(n, self.host_offloads.get(n)) for n in _HOST_OFFLOADS]))
        if self.guest_offloads:
            guest = [(n, self.guest_offloads.get(n)) for n in _GUEST_OFFLOADS]
            kids.append(element("guest", guest))
        return optional_element("driver", attrs, kids)


_INTERFACE_TEMPLATE = field_defaults(InterfaceDef)
_new_object = object.__new__


def new_interface(kind: str) -> InterfaceDef:
    """``InterfaceDef(type=kind)``, made without running the dataclass ``__init__``.

    The generated ``__init__`` sets forty-odd fields one by one; this copies
    them at once and makes the containers (:func:`factory_fields`), all but
    the device info, which the reader sets last. The result equals the
    ``InterfaceDef`` call once ``info`` is set.
    """
    net = _new_object(InterfaceDef)
    values = _INTERFACE_TEMPLATE.copy()
    values["type"] = kind
    values["source"] = []
    values["source_children"] = []
    values["host_ip"] = IPInfo()
    values["guest_ip"] = IPInfo()
    values["driver"] = {}
    values["host_offloads"] = {}
    values["guest_offloads"] = {}
    values["port_forwards"] = []
    values["filter_params"] = []
    net.__dict__ = values
    return net


_MISC_TAGS = frozenset({
    "backend", "portForward", "filterref", "script", "downscript", "backenddomain", "tune",
    "teaming", "link", "mtu", "coalesce", "bandwidth", "vlan", "port", "ip", "route",
})  # fmt: skip
"""The children :func:`_parse_misc` reads: an interface with none of them skips it."""


class Interface(DeviceModel):
    """An ``<interface>`` element."""

    TAG = "interface"
    XML_ORDER = {
        "": ("@type", "@managed", "@trustGuestRxFilters", "mac", "source", "vlan",
             "virtualport", "bandwidth", "port", "ip", "route", "portForward", "script",
             "downscript",
             "backenddomain", "target", "guest", "model", "driver", "backend", "filterref",
             "tune", "teaming", "link", "mtu", "coalesce", "boot", "alias", "rom", "acpi",
             "address"),
        "source": ("@network", "@portgroup", "@bridge", "@dev", "@mode", "@address", "@port"),
    }  # fmt: skip

    type = XMLProperty("./@type", doc="``network``, ``bridge``, ``direct``, ``user``, ...")
    mac_address = XMLProperty("./mac/@address", doc="The guest MAC address.")
    source_network = XMLProperty("./source/@network", doc="The libvirt network.")
    source_bridge = XMLProperty("./source/@bridge", doc="The host bridge.")
    source_dev = XMLProperty("./source/@dev", doc="The host device (``direct``, ``vdpa``).")
    source_mode = XMLProperty("./source/@mode", doc="The macvtap mode or vhost-user role.")
    target_dev = XMLProperty("./target/@dev", doc="The host-side device name.")
    model_type = XMLProperty("./model/@type", doc="The emulated NIC (``virtio``, ``e1000``...).")
    link_state = XMLProperty("./link/@state", doc="``up`` or ``down``.")
    mtu = XMLProperty("./mtu/@size", int, doc="The MTU.")
    boot_order = XMLProperty("./boot/@order", int, doc="Position in the boot order.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address = XMLChild(Address, doc="The device address.")

    def parse(self, ctx: DeviceContext | None = None) -> InterfaceDef:
        """``virDomainNetDefParseXML``."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> InterfaceDef:
        """:meth:`parse` of *node*, without a model around it."""
        # Most of the twenty-odd children asked for are absent: one pass finds them all.
        kids = first_children(node)
        kind = prop_enum(node, "type", TYPES)
        net = new_interface(kind or "user")
        # Most interfaces have no attribute but type=: the others are only looked for then.
        if len(node.attrib) != (kind is not None):
            net.trust_guest_rx_filters = prop_tristate(node, "trustGuestRxFilters")
        mac = kids.get("mac")
        if mac is not None:
            address = mac.get("address")
            if address is not None:
                net.mac = parse_mac(address)
            # Most <mac> elements have their address only.
            if len(mac.attrib) != (address is not None):
                net.mac_type = prop_enum(mac, "type", ("", "generated", "static"), nonzero=True)
                net.mac_check = prop_tristate(mac, "check")
        _parse_source(node, kids, net, ctx)
        virtualport = kids.get("virtualport")
        if virtualport is not None:
            if net.type not in ("network", "bridge", "direct", "hostdev"):
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"<virtualport> element unsupported for <interface type='{net.type}'>",
                )
            net.virtualport = parse_virtualport(
                virtualport,
                require_all=net.type != "network",
                uuid_factory=ctx.new_uuid,
            )
        if "target" in kids or "guest" in kids:
            _parse_target(kids, net, ctx)
        _parse_model_and_driver(kids, net)
        if not _MISC_TAGS.isdisjoint(kids):
            _parse_misc(node, kids, net)
        if INFO_CHILDREN.isdisjoint(kids):
            net.info = DeviceInfo()  # none of the children the device info reads
        else:
            net.info = DeviceInfo.parse(node, ctx, boot=True, rom=True, kids=kids)
        return net


def _parse_source(
    node: etree._Element, kids: dict[str, etree._Element], net: InterfaceDef, ctx: DeviceContext
) -> None:
    source = kids.get("source")
    if source is None:
        if net.type not in ("user", "ethernet", "hostdev"):
            fail(ErrorNumber.XML_ERROR, f"interface type='{net.type}' requires a 'source' element")
        if net.type == "hostdev":
            net.hostdev = parse_subsys(node, None)
        return
    kind = net.type
    if kind == "network":
        network = source.get("network")
        if network is None:
            prop_required(source, "network")  # libvirt's error
        net.source = [("network", network), ("portgroup", source.get("portgroup"))]
        # A port binding only exists while the domain runs.
        if not ctx.inactive:
            net.portid = prop(source, "portid")
    elif kind == "bridge":
        net.source = [("bridge", prop_required(source, "bridge"))]
    elif kind == "direct":
        dev = prop_required(source, "dev")
        mode = prop_enum(source, "mode", DIRECT_MODES) or "vepa"
        net.source = [("dev", dev), ("mode", mode)]
    elif kind in ("vdpa",):
        net.source = [("dev", prop_required(source, "dev"))]
    elif kind == "internal":
        net.source = [("name", prop_required(source, "name"))]
    elif kind in _SOCKET_TYPES:
        _parse_socket(source, net)
    elif kind == "vhostuser":
        _parse_vhostuser(source, net)
    elif kind == "hostdev":
        address = child(source, "address")
        net.hostdev = parse_subsys(node, prop(address, "type") if address is not None else None)
    if len(source):  # without children: no address or route, as the record has
        net.host_ip = parse_ip_info(source, "interface host IP")


def _parse_socket(source: etree._Element, net: InterfaceDef) -> None:
    # Only a listening server may leave the address out.
    address = prop(source, "address") if net.type == "server" else prop_required(source, "address")
    port = prop_int(source, "port", required=True)
    net.source = [("address", address), ("port", port)]
    if net.type == "udp":
        local = child(source, "local")
        if local is None:
            fail(ErrorNumber.XML_ERROR, "'<local>' element missing for 'udp' socket interface")
        local_address = prop_required(local, "address")
        local_port = prop_int(local, "port", required=True)
        net.source_children = [element("local", [("address", local_address), ("port", local_port)])]


def _parse_vhostuser(source: etree._Element, net: InterfaceDef) -> None:
    kind = prop_required(source, "type")
    if kind != "unix":
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            f"Type='{kind}' unsupported for <interface type='vhostuser'>",
        )
    path = prop_required(source, "path")
    mode = prop_enum(source, "mode", ("server", "client"), required=True)
    net.source = [("type", "unix"), ("path", path), ("mode", mode)]
    reconnect = child(source, "reconnect")
    if reconnect is None:
        return
    enabled = prop_tristate(reconnect, "enabled")
    if enabled is None:
        return
    if mode == "server":
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>",
        )
    timeout = prop_uint(reconnect, "timeout")
    if enabled and timeout is None:
        fail(ErrorNumber.XML_ERROR, "missing timeout for chardev with reconnect enabled")
    attrs: list[tuple[str, str | int | None]] = [("enabled", yesno(enabled))]
    if enabled:
        attrs.append(("timeout", timeout))
    net.source_children = [element("reconnect", attrs)]


def _parse_target(kids: dict[str, etree._Element], net: InterfaceDef, ctx: DeviceContext) -> None:
    target = kids.get("target")
    if target is not None:
        ifname = prop(target, "dev")
        net.managed_tap = prop_tristate(target, "managed")
        # On define, names libvirt generated for a previous run are forgotten.
        if (
            ifname is not None
            and ctx.inactive
            and net.managed_tap is not False
            and ifname.startswith(_GENERATED_PREFIXES)
        ):
            ifname = None
        net.ifname = ifname
    guest = kids.get("guest")
    if guest is not None:
        net.guest_dev = prop(guest, "dev")
        net.guest_actual = prop(guest, "actual")


def _parse_model_and_driver(kids: dict[str, etree._Element], net: InterfaceDef) -> None:
    model = kids.get("model")
    model_type = model.get("type") if model is not None else None
    if model_type:  # read through XPath string(): empty is absent
        # The virtio models (the usual) are valid names: no pattern to match them against.
        if model_type not in VIRTIO_MODELS and not _MODEL_CHARS.match(model_type):
            fail(ErrorNumber.INVALID_ARG, "Model name contains invalid characters")
        net.model = model_type
    driver = kids.get("driver")
    if driver is None or net.type == "hostdev":
        return
    net.virtio = VirtioOptions.parse(driver)
    if not net.is_virtio:
        return
    name = prop_enum(driver, "name", ("default", "qemu", "vhost"), nonzero=True)
    txmode = prop_enum(driver, "txmode", ("default", "iothread", "timer"), nonzero=True)
    for key, value in (("name", name), ("txmode", txmode)):
        if value is not None:
            net.driver[key] = value
    for key in ("ioeventfd", "event_idx"):
        switch = prop_switch(driver, key)
        if switch is not None:
            net.driver[key] = "on" if switch else "off"
    queues = prop_uint(driver, "queues")
    if queues is not None and queues > 1:
        net.driver["queues"] = str(queues)
    for key in ("rx_queue_size", "tx_queue_size"):
        size = prop_uint(driver, key)
        if size:
            net.driver[key] = str(size)
    for tag, names, store in (
        ("host", _HOST_OFFLOADS, net.host_offloads),
        ("guest", _GUEST_OFFLOADS, net.guest_offloads),
    ):
        holder = child(driver, tag)
        if holder is None:
            continue
        for key in names:
            switch = prop_switch(holder, key)
            if switch is not None:
                store[key] = "on" if switch else "off"


def _parse_misc(node: etree._Element, kids: dict[str, etree._Element], net: InterfaceDef) -> None:
    backend = kids.get("backend")
    if backend is not None:
        net.backend_type = prop_enum(backend, "type", ("default", "passt"), nonzero=True)
        net.backend_tap = prop(backend, "tap")
        if net.is_virtio:
            net.backend_vhost = prop(backend, "vhost")
        net.backend_logfile = prop(backend, "logFile")
    if "portForward" in kids:
        net.port_forwards = [_parse_port_forward(item) for item in children(node, "portForward")]
    filterref = kids.get("filterref")
    # Only interfaces on a host bridge or tap device can be filtered.
    if filterref is not None and net.type in ("ethernet", "network", "bridge"):
        net.filter, net.filter_params = parse_filterref(filterref)
    for tag in ("script", "downscript"):
        holder = kids.get(tag)
        if holder is not None:
            setattr(net, tag, prop(holder, "path"))
    backend_domain = kids.get("backenddomain")
    if backend_domain is not None:
        net.backend_domain = prop(backend_domain, "name")
    tune = kids.get("tune")
    sndbuf = text_of(child(tune, "sndbuf")) if tune is not None else None
    if sndbuf is not None:
        try:
            net.sndbuf = parse_uint(sndbuf)
        except ValueError:
            fail(ErrorNumber.XML_ERROR, "sndbuf must be a positive integer")
    teaming = kids.get("teaming")
    if teaming is not None:
        # virDomainNetTeamingInfoParseXML reads both through XPath string().
        kind = prop(teaming, "type") or None
        persistent = prop(teaming, "persistent") or None
        if kind is not None or persistent is not None:
            if kind not in ("persistent", "transient"):
                fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown teaming type '{kind or '(null)'}'")
            net.teaming = kind
            net.teaming_persistent = persistent
    link = kids.get("link")
    state = prop(link, "state") if link is not None else None
    if state is not None:
        if state not in ("up", "down"):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown interface link state '{state}'")
        net.link_state = state
    mtu = kids.get("mtu")
    size = prop(mtu, "size") if mtu is not None else None
    if size:  # virXPathUInt: an empty value counts as absent
        try:
            net.mtu = parse_uint(size)
        except ValueError:
            fail(ErrorNumber.XML_ERROR, "malformed mtu size")
    coalesce = kids.get("coalesce")
    if coalesce is not None:
        _parse_coalesce(coalesce, net)
    bandwidth = kids.get("bandwidth")
    if bandwidth is not None:
        net.bandwidth = parse_bandwidth(bandwidth, allow_floor=net.type == "network")
    vlan = kids.get("vlan")
    if vlan is not None:
        net.vlan = parse_vlan(vlan)
    port = kids.get("port")
    if port is not None:
        net.isolated = prop_tristate(port, "isolated")
    if "ip" in kids or "route" in kids:
        net.guest_ip = parse_ip_info(node)


def _parse_port_forward(node: etree._Element) -> OutNode:
    """``virDomainNetPortForwardParseXML``: the element as libvirt writes it back."""
    proto = prop_enum(node, "proto", ("tcp", "udp"), required=True)
    address = prop(node, "address")
    if address is not None:
        parsed = try_ip(address)
        if parsed is None:
            fail(ErrorNumber.XML_ERROR, f"Invalid address '{address}' in <portForward>")
        address = format_ip(parsed)
    ranges = []
    for item in children(node, "range"):
        start = prop_uint(item, "start", nonzero=True)
        end = prop_uint(item, "end", nonzero=True)
        to = prop_uint(item, "to", nonzero=True)
        exclude = prop_tristate(item, "exclude")
        if not start:
            continue
        bounds: list[tuple[str, str | int | None]] = [
            ("start", start),
            ("end", end or None),
            ("to", to or None),
            ("exclude", yesno(exclude)),
        ]
        ranges.append(element("range", bounds))
    forward: list[tuple[str, str | int | None]] = [
        ("proto", proto),
        ("address", address),
        ("dev", prop(node, "dev")),
    ]
    return element("portForward", forward, ranges)


def _parse_coalesce(coalesce: etree._Element, net: InterfaceDef) -> None:
    rx = child(coalesce, "rx")
    frames = child(rx, "frames") if rx is not None else None
    value = prop(frames, "max") if frames is not None else None
    if value is None:
        return
    try:
        net.coalesce_frames = parse_uint(value)
    except ValueError:
        fail(ErrorNumber.XML_DETAIL, f"cannot parse value '{value}' for coalesce parameter")


def assign_test_ifnames(interfaces: list[InterfaceDef], prefix: str = "testnet") -> None:
    """``testDomainGenerateIfnames``: name each interface without a target ``testnet<N>``."""
    # The names in use: those of the document, then those given here one by one.
    used: set[str | None] | None = None
    for net in interfaces:
        if net.ifname is not None:
            continue
        if used is None:
            used = {other.ifname for other in interfaces}
        number = 0
        name = f"{prefix}0"
        while name in used:
            number += 1
            name = f"{prefix}{number}"
        net.ifname = name
        used.add(name)
