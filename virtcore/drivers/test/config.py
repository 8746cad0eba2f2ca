"""Building test hosts: the ``test:///default`` host and configuration-file hosts.

:func:`default_state` builds the host libvirt 9.0's test driver starts with
(the same objects, UUIDs, addresses and node description, and two NUMA cells
of eight CPUs each). :func:`load_state` reads a libvirt test driver
configuration file: a ``<node>`` root with optional ``<cpu>`` (``nodes``,
``sockets``, ``cores``, ``threads``, ``active``, ``mhz``, ``model``) and
``<memory>`` (KiB), then ``<domain>``, ``<network>``, ``<interface>``,
``<pool>`` (with nested ``<volume>``) and ``<device>`` elements, each inline
or as ``file='...'`` relative to the configuration file, and an optional
``<auth>`` list of users. Objects are loaded in that order with libvirt's
rules: domains start in their ``test:runstate`` (running by default, with
reason 0) and get ids in load order; networks, interfaces and pools are
active; pools report 100 GiB plus their volumes' allocation. Networks and
pools are added with the same rules (name/UUID clashes, pools sharing their
storage) as define applies.

:func:`format_capabilities` produces the capabilities document.
"""

from __future__ import annotations

import logging
import os
import re

from lxml import etree

from virtcore.drivers.test.domainxml import DomainDef
from virtcore.drivers.test.networks import add_network
from virtcore.drivers.test.objxml import (
    InterfaceDef,
    NetworkDef,
    NodeDeviceDef,
    PoolDef,
    VolumeDef,
)
from virtcore.drivers.test.state import AuthUser, CellInfo, NodeInfo, TestState
from virtcore.drivers.test.storage import add_pool
from virtcore.drivers.test.xmlutil import XMLWriter, child, children, parse_xml, parse_xml_file
from virtcore.enums.domain import DomainState
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, XMLError

__all__ = ["DEFAULT_CONFIG", "default_state", "format_capabilities", "load_state"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST

DEFAULT_CONFIG = """\
<node>
  <domain type='test'>
    <name>test</name>
    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
    <memory>8388608</memory>
    <currentMemory>2097152</currentMemory>
    <vcpu>2</vcpu>
    <os><type>hvm</type></os>
    <devices>
      <disk type='file' device='disk'>
        <source file='/guest/diskimage1'/>
        <target dev='vda' bus='virtio'/>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
      </disk>
      <interface type='network'>
        <mac address='aa:bb:cc:dd:ee:ff'/>
        <source network='default' bridge='virbr0'/>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x1' function='0x0'/>
      </interface>
      <memballoon model='virtio'>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x2' function='0x0'/>
      </memballoon>
    </devices>
  </domain>
  <network>
    <name>default</name>
    <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
    <bridge name='virbr0'/>
    <forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
    </ip>
  </network>
  <interface type='ethernet' name='eth1'>
    <start mode='onboot'/>
    <mac address='aa:bb:cc:dd:ee:ff'/>
    <mtu size='1492'/>
    <protocol family='ipv4'>
      <ip address='192.168.0.5' prefix='24'/>
      <route gateway='192.168.0.1'/>
    </protocol>
  </interface>
  <pool type='dir'>
    <name>default-pool</name>
    <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
    <target><path>/default-pool</path></target>
  </pool>
  <device>
    <name>computer</name>
    <capability type='system'>
      <hardware>
        <vendor>Libvirt</vendor>
        <version>Test driver</version>
        <serial>123456</serial>
        <uuid>11111111-2222-3333-4444-555555555555</uuid>
      </hardware>
      <firmware>
        <vendor>Libvirt</vendor>
        <version>Test Driver</version>
        <release_date>01/22/2007</release_date>
      </firmware>
    </capability>
  </device>
  <device>
    <name>scsi_host1</name>
    <parent>computer</parent>
    <capability type='scsi_host'>
      <host>1</host>
      <unique_id>0</unique_id>
      <capability type='fc_host'>
        <wwnn>2000000012341234</wwnn>
        <wwpn>1000000012341234</wwpn>
        <fabric_wwn>2000000043214321</fabric_wwn>
      </capability>
      <capability type='vport_ops'><max_vports>127</max_vports><vports>1</vports></capability>
    </capability>
  </device>
  <device>
    <name>scsi_host2</name>
    <parent>computer</parent>
    <capability type='scsi_host'>
      <host>2</host>
      <unique_id>1</unique_id>
      <capability type='fc_host'>
        <wwnn>2000000056785678</wwnn>
        <wwpn>1000000056785678</wwpn>
        <fabric_wwn>2000000087658765</fabric_wwn>
      </capability>
      <capability type='vport_ops'><max_vports>127</max_vports><vports>0</vports></capability>
    </capability>
  </device>
  <device>
    <name>scsi_host11</name>
    <parent>scsi_host1</parent>
    <capability type='scsi_host'>
      <host>11</host>
      <unique_id>10</unique_id>
      <capability type='fc_host'>
        <wwnn>2000000034563456</wwnn>
        <wwpn>1000000034563456</wwpn>
        <fabric_wwn>2000000043214321</fabric_wwn>
      </capability>
    </capability>
  </device>
</node>
"""
"""The default host, in the test driver's configuration file format."""

_PAGE_SIZES_KIB = (4, 8, 2048, 1024 * 1024)


def default_state() -> TestState:
    """A fresh ``test:///default`` host."""
    state = TestState(None)
    state.cells = [
        CellInfo(
            memory_kib=(i + 1) * 2048 * 1024,
            free_kib=(i + 1) * 1024 * 1024,
            cpus=list(range(i * 8, i * 8 + 8)),
        )
        for i in range(2)
    ]
    root = parse_xml(DEFAULT_CONFIG, "(test driver)", domain=_TEST, root="node")
    _load(state, root, None)
    state.capabilities = format_capabilities(state)
    logger.debug("built the test:///default host")
    return state


def load_state(path: str) -> TestState:
    """A host loaded from the configuration file at *path* (absolute)."""
    root = parse_xml_file(path, domain=_TEST)
    if root.tag != "node":
        raise XMLError(
            f"expecting root element of 'node', not '{root.tag}'", domain=ErrorDomain.XML
        )
    state = TestState(path)
    _load(state, root, path)
    state.capabilities = format_capabilities(state)
    logger.debug("loaded test host from %s", path)
    return state


# -- loading ------------------------------------------------------------------


def _resolve(elem: etree._Element, config_path: str | None) -> etree._Element:
    """*elem*, or the root of the file its ``file`` attribute names."""
    ref = elem.get("file")
    if ref is None:
        return elem
    if not os.path.isabs(ref):
        base = os.path.dirname(config_path) if config_path else "."
        ref = f"{base}/{ref}"
    return parse_xml_file(ref, domain=_TEST)


# libvirt's virXPathLong: leading blanks and a sign are fine, anything after the digits is not.
_LONG_RE = re.compile(r"\s*[+-]?[0-9]+")


def _node_long(root: etree._Element, path: tuple[str, ...], what: str) -> int | None:
    elem: etree._Element | None = root
    for name in path:
        elem = child(elem, name) if elem is not None else None
    if elem is None or not (elem.text or ""):
        return None
    if not _LONG_RE.fullmatch(elem.text or ""):
        raise XMLError(f"invalid node {what} value", domain=_TEST)
    return int((elem.text or "").strip())


def _load_node(state: TestState, root: etree._Element) -> None:
    info = NodeInfo()
    for tag in ("nodes", "sockets", "cores", "threads"):
        value = _node_long(root, ("cpu", tag), f"cpu {tag}")
        if value is not None:
            setattr(info, tag, value)
    info.cpus = info.cores * info.threads * info.sockets * info.nodes
    active = _node_long(root, ("cpu", "active"), "cpu active")
    if active is not None and active < info.cpus:
        info.cpus = active
    mhz = _node_long(root, ("cpu", "mhz"), "cpu mhz")
    if mhz is not None:
        info.mhz = mhz
    cpu = child(root, "cpu")
    model = child(cpu, "model") if cpu is not None else None
    if model is not None and model.text:
        if len(model.text) >= 32:  # virNodeInfo.model is a 32-byte C string
            raise InternalError(f"Model {model.text} too big for destination", domain=_TEST)
        info.model = model.text
    memory = _node_long(root, ("memory",), "memory")
    if memory is not None:
        info.memory_kib = memory
    state.node = info


def _load(state: TestState, root: etree._Element, config_path: str | None) -> None:
    _load_node(state, root)
    for elem in children(root, "domain"):
        _load_domain(state, _resolve(elem, config_path))
    for elem in children(root, "network"):
        network = add_network(state, NetworkDef.from_element(_resolve(elem, config_path)))
        network.active = True
    for elem in children(root, "interface"):
        state.add_interface(InterfaceDef.from_element(_resolve(elem, config_path)))
    for elem in children(root, "pool"):
        pool_elem = _resolve(elem, config_path)
        pool = add_pool(state, PoolDef.from_element(pool_elem))
        pool.persistent = pool.active = True
        for vol_elem in children(pool_elem, "volume"):
            vol = VolumeDef.from_element(_resolve(vol_elem, config_path), pool.def_)
            state.add_volume(pool, vol)
    for elem in children(root, "device"):
        state.add_nodedev(NodeDeviceDef.from_element(_resolve(elem, config_path)))
    auth = child(root, "auth")
    for user in children(auth, "user") if auth is not None else []:
        name = (user.text or "").strip()
        if not name:
            raise XMLError("missing username in /node/auth/user field", domain=_TEST)
        state.auth_users.append(AuthUser(name, user.get("password")))


def _load_domain(state: TestState, elem: etree._Element) -> None:
    if elem.tag != "domain":
        raise XMLError(
            f"expecting root element of 'domain', not '{elem.tag}'", domain=ErrorDomain.XML
        )
    definition = DomainDef.from_element(elem)
    obj, _ = state.add_domain(definition)
    ns = definition.namespace
    obj.persistent = not ns.transient
    obj.has_managed_save = ns.has_managed_save
    if ns.runstate != DomainState.SHUTOFF:
        state.start_domain(obj)
    else:
        state.stop_domain(obj, 0)
    # Loaded domains keep their configured state with reason 0 (unknown).
    obj.set_state(ns.runstate, 0)
    obj.has_managed_save = ns.has_managed_save


# -- capabilities -------------------------------------------------------------


def format_capabilities(state: TestState) -> str:
    """The capabilities XML of *state* (``virConnectGetCapabilities``)."""
    out = XMLWriter()
    out.open("capabilities")
    out.blank()
    out.open("host")
    out.open("cpu")
    out.text("arch", "i686")
    out.open("features")
    out.empty("pae")
    out.empty("nonpae")
    out.close("features")
    for size in _PAGE_SIZES_KIB:
        out.empty("pages", [("unit", "KiB"), ("size", size)])
    out.close("cpu")
    out.empty("power_management")
    out.empty("iommu", [("support", "no")])
    out.open("topology")
    out.open("cells", [("num", len(state.cells))])
    for index, cell in enumerate(state.cells):
        _format_cell(out, index, cell)
    out.close("cells")
    out.close("topology")
    out.open("secmodel")
    out.text("model", "testSecurity")
    out.text("doi", "")
    out.close("secmodel")
    out.close("host")
    out.blank()
    for os_type in ("hvm", "xen"):
        out.open("guest")
        out.text("os_type", os_type)
        out.open("arch", [("name", "i686")])
        out.text("wordsize", 32)
        out.text("emulator", "/usr/bin/test-hv")
        out.empty("domain", [("type", "test")])
        out.close("arch")
        out.open("features")
        out.empty("pae")
        out.empty("nonpae")
        out.close("features")
        out.close("guest")
        out.blank()
    out.close("capabilities")
    return out.getvalue()


def _format_cell(out: XMLWriter, index: int, cell: CellInfo) -> None:
    out.open("cell", [("id", index)])
    out.text("memory", cell.memory_kib, [("unit", "KiB")])
    # The first page size is the cell's base page: 4 KiB on cell 0, 8 KiB on
    # the others, holding all of the cell's memory; huge pages are empty.
    base = _PAGE_SIZES_KIB[1] if index == 1 else _PAGE_SIZES_KIB[0]
    out.text("pages", cell.memory_kib // base, [("unit", "KiB"), ("size", base)])
    for size in _PAGE_SIZES_KIB[2:]:
        out.text("pages", 0, [("unit", "KiB"), ("size", size)])
    out.open("cpus", [("num", len(cell.cpus))])
    for cpu in cell.cpus:
        out.empty(
            "cpu",
            [
                ("id", cpu),
                ("socket_id", cpu // 8),
                ("die_id", 0),
                ("core_id", cpu % 8),
                ("siblings", cpu),
            ],
        )
    out.close("cpus")
    out.close("cell")
