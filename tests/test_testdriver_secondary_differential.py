"""Differential tests: networks, storage, interfaces and node devices against libvirt 9.0.

The same scenarios run on libvirt 9.0's test driver (python3-libvirt, through
the runner script :data:`LIBVIRT_RUNNER`, executed once by ``/usr/bin/python3``
for all scenarios) and on virtcore's. For every operation both sides record
the outcome - a normalised return value, or the error's (code, domain,
message) - and the network, storage pool and node device events it caused:
``["net", name, type, detail]``, ``["pool", name, type, detail]``,
``["refresh", name]`` and ``["dev", name, type, detail]``. The records must
be identical.

Operations are written one per line: ``conn OP ARGS...`` for connection calls
and ``KIND NAME OP ARGS...`` for calls on the object ``NAME`` of ``KIND``
(``net``, ``pool``, ``vol`` as ``pool/volume``, ``iface``, ``dev``), which an
earlier operation returned or which is looked up by name. Arguments are
integers, ``None``, ``""``, words, inline documents (``<host ip='...'/>``,
spaces allowed) or ``$name`` for a document or path of :func:`references`.

Scenarios on ``test:///default`` start from a fresh default host (each
scenario's only connection is closed at its end, and both libvirt and virtcore
then discard the default host). Hash-ordered listings are compared sorted and
documents give their UUIDs, so that nothing random is compared. What libvirt's
test driver lacks (secrets, network filters, ports, leases, volume streams)
is covered by tests/test_testdriver_networks.py, _storage.py and _hostobjs.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import virtcore
from tests.libvirt_oracle import explain_difference, run_oracle
from virtcore.connection import Connection
from virtcore.errors import VirtError
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Handle, Interface, Network, NodeDevice, StoragePool, StorageVol
from virtcore.registry import Registry

LIBVIRT_PYTHON = "/usr/bin/python3"
ALLOW_ENV = "VIRTCORE_ALLOW_NO_LIBVIRT"
SAFETY_TIMEOUT = 10.0

Op = list[Any]

LIBVIRT_RUNNER = r"""
import gc, json, sys
import libvirt

libvirt.registerErrorHandler(lambda *args: None, None)
libvirt.virEventRegisterDefaultImpl()
libvirt.virEventAddTimeout(1, lambda *args: None, None)

def names(objs):
    return sorted(o.name() for o in objs)

def norm(value):
    if isinstance(value, (libvirt.virNetwork, libvirt.virStoragePool)):
        return {"name": value.name(), "uuid": value.UUIDString()}
    if isinstance(value, (libvirt.virInterface, libvirt.virNodeDevice, libvirt.virStorageVol)):
        return {"name": value.name()}
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    return value

CONN = {
    "net_define": lambda c, x, f: c.networkDefineXMLFlags(x, f),
    "net_create_xml": lambda c, x, f: c.networkCreateXMLFlags(x, f),
    "net": lambda c, n: c.networkLookupByName(n),
    "net_uuid": lambda c, u: c.networkLookupByUUIDString(u),
    "nets": lambda c, f: names(c.listAllNetworks(f)),
    "net_lists": lambda c: [sorted(c.listNetworks()), sorted(c.listDefinedNetworks()),
                            c.numOfNetworks(), c.numOfDefinedNetworks()],
    "pool_define": lambda c, x, f: c.storagePoolDefineXML(x, f),
    "pool_create_xml": lambda c, x, f: c.storagePoolCreateXML(x, f),
    "pool": lambda c, n: c.storagePoolLookupByName(n),
    "pool_uuid": lambda c, u: c.storagePoolLookupByUUIDString(u),
    "pools": lambda c, f: names(c.listAllStoragePools(f)),
    "pool_lists": lambda c: [sorted(c.listStoragePools()), sorted(c.listDefinedStoragePools()),
                             c.numOfStoragePools(), c.numOfDefinedStoragePools()],
    "vol_key": lambda c, k: c.storageVolLookupByKey(k),
    "vol_path": lambda c, p: c.storageVolLookupByPath(p),
    "find_sources": lambda c, t, s, f: c.findStoragePoolSources(t, s, f),
    "iface_define": lambda c, x, f: c.interfaceDefineXML(x, f),
    "iface": lambda c, n: c.interfaceLookupByName(n),
    "iface_mac": lambda c, m: c.interfaceLookupByMACString(m),
    "ifaces": lambda c, f: names(c.listAllInterfaces(f)),
    "iface_lists": lambda c: [sorted(c.listInterfaces()), sorted(c.listDefinedInterfaces()),
                              c.numOfInterfaces(), c.numOfDefinedInterfaces()],
    "begin": lambda c, f: c.changeBegin(f),
    "commit": lambda c, f: c.changeCommit(f),
    "rollback": lambda c, f: c.changeRollback(f),
    "dev": lambda c, n: c.nodeDeviceLookupByName(n),
    "devs": lambda c, f: names(c.listAllDevices(f)),
    "dev_list": lambda c, cap, f: sorted(c.listDevices(cap, f)),
    "dev_num": lambda c, cap, f: c.numOfDevices(cap, f),
    "dev_create": lambda c, x, f: c.nodeDeviceCreateXML(x, f),
}
TABLES = {
    "net": {
        "xml": lambda n, f: n.XMLDesc(f), "active": lambda n: n.isActive(),
        "persistent": lambda n: n.isPersistent(), "autostart": lambda n: n.autostart(),
        "set_autostart": lambda n, v: n.setAutostart(v), "bridge": lambda n: n.bridgeName(),
        "create": lambda n: n.create(), "destroy": lambda n: n.destroy(),
        "undefine": lambda n: n.undefine(), "uuid": lambda n: n.UUIDString(),
        "update": lambda n, c, s, i, x, f: n.update(c, s, i, x, f),
    },
    "pool": {
        "xml": lambda p, f: p.XMLDesc(f), "info": lambda p: p.info(),
        "active": lambda p: p.isActive(), "persistent": lambda p: p.isPersistent(),
        "autostart": lambda p: p.autostart(), "set_autostart": lambda p, v: p.setAutostart(v),
        "create": lambda p, f: p.create(f), "build": lambda p, f: p.build(f),
        "destroy": lambda p: p.destroy(), "delete": lambda p, f: p.delete(f),
        "undefine": lambda p: p.undefine(), "refresh": lambda p, f: p.refresh(f),
        "vols": lambda p: names(p.listAllVolumes(0)),
        "vol_names": lambda p: sorted(p.listVolumes()),
        "num_vols": lambda p: p.numOfVolumes(), "vol": lambda p, n: p.storageVolLookupByName(n),
        "vol_create": lambda p, x, f: p.createXML(x, f), "uuid": lambda p: p.UUIDString(),
        "vol_clone": lambda p, x, v, f: p.createXMLFrom(x, p.storageVolLookupByName(v), f),
    },
    "vol": {
        "xml": lambda v, f: v.XMLDesc(f), "info": lambda v: v.info(), "path": lambda v: v.path(),
        "key": lambda v: v.key(), "delete": lambda v, f: v.delete(f),
        "pool": lambda v: v.storagePoolLookupByVolume(),
    },
    "iface": {
        "xml": lambda i, f: i.XMLDesc(f), "active": lambda i: i.isActive(),
        "mac": lambda i: i.MACString(), "create": lambda i, f: i.create(f),
        "destroy": lambda i, f: i.destroy(f), "undefine": lambda i: i.undefine(),
    },
    "dev": {
        "xml": lambda d, f: d.XMLDesc(f), "parent": lambda d: d.parent(),
        "caps": lambda d: d.listCaps(), "num_caps": lambda d: d.numOfCaps(),
        "destroy": lambda d: d.destroy(),
    },
}
VOID = {"create", "destroy", "undefine", "set_autostart", "update", "build", "delete",
        "refresh", "begin", "commit", "rollback"}


def handle_key(value):
    if isinstance(value, libvirt.virNetwork):
        return ("net", value.name())
    if isinstance(value, libvirt.virStoragePool):
        return ("pool", value.name())
    if isinstance(value, libvirt.virStorageVol):
        return ("vol", value.storagePoolLookupByVolume().name() + "/" + value.name())
    if isinstance(value, libvirt.virInterface):
        return ("iface", value.name())
    if isinstance(value, libvirt.virNodeDevice):
        return ("dev", value.name())
    return None


class Runner:
    def __init__(self):
        self.conn, self.handles, self.events, self.ids = None, {}, [], []

    def attach(self, conn):
        self.conn = conn
        ev = self.events
        self.ids = [
            ("net", conn.networkEventRegisterAny(
                None, 0, lambda c, n, t, d, o: ev.append(["net", n.name(), t, d]), None)),
            ("pool", conn.storagePoolEventRegisterAny(
                None, 0, lambda c, p, t, d, o: ev.append(["pool", p.name(), t, d]), None)),
            ("pool", conn.storagePoolEventRegisterAny(
                None, 1, lambda c, p, o: ev.append(["refresh", p.name()]), None)),
            ("dev", conn.nodeDeviceEventRegisterAny(
                None, 0, lambda c, d, t, x, o: ev.append(["dev", d.name(), t, x]), None)),
        ]

    def close(self):
        if self.conn is not None:
            for kind, cid in self.ids:
                {"net": self.conn.networkEventDeregisterAny,
                 "pool": self.conn.storagePoolEventDeregisterAny,
                 "dev": self.conn.nodeDeviceEventDeregisterAny}[kind](cid)
            self.conn.close()
        self.conn, self.ids = None, []
        self.handles.clear()

    def call(self, kind, key, op, args):
        if kind == "conn" and op == "open":
            self.close()
            self.attach(libvirt.open(args[0]))
            return None
        if kind == "conn":
            return CONN[op](self.conn, *args)
        if (kind, key) not in self.handles:
            self.handles[kind, key] = self.lookup(kind, key)
        return TABLES[kind][op](self.handles[kind, key], *args)

    def lookup(self, kind, key):
        # An object no operation returned yet, found by name.
        c = self.conn
        if kind == "vol":
            pool, _, vol = key.partition("/")
            return c.storagePoolLookupByName(pool).storageVolLookupByName(vol)
        return {"net": c.networkLookupByName, "pool": c.storagePoolLookupByName,
                "iface": c.interfaceLookupByName, "dev": c.nodeDeviceLookupByName}[kind](key)

    def run(self, ops):
        out = []
        if not ops or ops[0][2] != "open":
            self.attach(libvirt.open("test:///default"))
        for kind, key, op, *args in ops:
            try:
                value = self.call(kind, key, op, args)
                where = handle_key(value)
                if where is not None:
                    self.handles[where] = value
                result = ["ok", None if op in VOID else norm(value)]
            except libvirt.libvirtError as err:
                result = ["err", err.get_error_code(), err.get_error_domain(), str(err)]
            if self.conn is not None:
                for _ in range(2):
                    libvirt.virEventRunDefaultImpl()
            out.append({"result": result, "events": self.events[:]})
            self.events.clear()
        value = None
        self.close()
        gc.collect()
        return out


json.dump({n: Runner().run(ops) for n, ops in json.load(sys.stdin).items()}, sys.stdout)
"""

# -- documents --------------------------------------------------------------------------------

U = "11111111-2222-3333-4444-5555555555"


def net_xml(name: str, tail: str, body: str = "") -> str:
    """A network document with a fixed UUID (``U`` + *tail*)."""
    return f"<network><name>{name}</name><uuid>{U}{tail}</uuid>{body}</network>"


def pool_xml(name: str, tail: str, kind: str = "dir", body: str = "") -> str:
    """A pool document with a fixed UUID; *body* defaults to a target under /pools."""
    body = body or f"<target><path>/pools/{name}</path></target>"
    return f"<pool type='{kind}'><name>{name}</name><uuid>{U}{tail}</uuid>{body}</pool>"


def vol_xml(name: str, capacity: str = "1024", extra: str = "") -> str:
    """A volume document."""
    return f"<volume><name>{name}</name><capacity>{capacity}</capacity>{extra}</volume>"


NAT = "<forward mode='nat'/><bridge name='virbr7'/><ip address='10.7.0.1' prefix='24'>{}</ip>"
N1 = net_xml("n1", "01")
N1_NAT = net_xml("n1", "01", NAT.format("<dhcp><range start='10.7.0.2' end='10.7.0.9'/></dhcp>"))
N1_NEW_UUID = net_xml("n1", "02")
N2_N1_UUID = net_xml("n2", "01")
N_BRIDGE = net_xml("br", "03", "<forward mode='bridge'><interface dev='eth1'/></forward>")
N_ISOLATED = net_xml("iso", "04", "<ip address='10.8.0.1' netmask='255.255.255.0'/>")
N_V6 = net_xml(
    "six",
    "05",
    "<ip family='ipv6' address='fd00::1' prefix='64'><dhcp>"
    "<range start='fd00::10' end='fd00::20'/></dhcp></ip>",
)
N_RICH = net_xml(
    "rich",
    "10",
    "<metadata><app:foo xmlns:app='http://app/'>bar</app:foo></metadata>"
    "<forward mode='route' dev='eth0'/>"
    "<bridge name='br5' stp='off' delay='5' macTableManager='libvirt' zone='trusted'/>"
    "<mtu size='9000'/><mac address='52:54:00:AB:CD:EF'/>"
    "<domain name='example.com' localOnly='yes'/>"
    "<dns enable='yes' forwardPlainNames='no'><forwarder addr='8.8.8.8'/>"
    "<forwarder domain='x.com' addr='1.1.1.1'/><txt name='t' value='v'/>"
    "<host ip='10.0.0.5'><hostname>a</hostname><hostname>b</hostname></host>"
    "<srv service='http' protocol='tcp' domain='d' target='t' port='80' priority='1'"
    " weight='2'/></dns>"
    "<ip address='10.0.0.1' prefix='24' localPtr='yes'><tftp root='/srv/tftp'/><dhcp>"
    "<range start='10.0.0.10' end='10.0.0.20'><lease expiry='1' unit='hours'/></range>"
    "<host mac='00:11:22:33:44:55' name='h' ip='10.0.0.11'><lease expiry='0'/></host>"
    "<bootp file='pxe.0' server='10.0.0.2'/></dhcp></ip>"
    "<ip family='ipv6' address='2001:db8::1' prefix='64'><dhcp>"
    "<range start='2001:db8::10' end='2001:db8::20'/><host id='0:1:2' name='six'"
    " ip='2001:db8::11'/></dhcp></ip>"
    "<route address='192.168.5.0' prefix='24' gateway='10.0.0.2'/>"
    "<portgroup name='pg' default='yes'><vlan><tag id='42'/></vlan></portgroup>"
    "<portgroup name='pg2' trustGuestRxFilters='yes'/>",
)
N_MODES = {
    "nat2": "<forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.10'/>"
    "<port start='1024' end='65535'/></nat></forward><bridge name='virbr9'/>"
    "<ip address='10.1.0.1' netmask='255.255.0.0'/>",
    "hd": "<forward mode='hostdev' managed='yes'><pf dev='eth3'/></forward>",
    "op": "<forward mode='open'/><ip address='10.2.0.1' prefix='24'/>",
    "vepa": "<forward mode='vepa'><interface dev='eth4'/><interface dev='eth5'/></forward>",
    "pt": "<forward mode='passthrough' dev='eth6'/>",
    "nobr": "<bridge stp='off'/><mac address='52:54:00:00:00:09'/>",
}
BAD_NETS = [
    "<network><name>b</name",
    "<net><name>b</name></net>",
    "<network></network>",
    "<network><name></name></network>",
    "<network><name>a/b</name></network>",
    "<network><name>b</name><uuid>zz</uuid></network>",
    "<network><name>b</name><forward mode='nat'/></network>",
    "<network><name>b</name><forward mode='zz'/></network>",
    "<network><name>b</name><ip address='zz'/></network>",
    "<network><name>b</name><ip prefix='24'/></network>",
    "<network><name>b</name><ip address='10.0.0.1' prefix='40'/></network>",
    "<network><name>b</name><ip address='10.0.0.1' prefix='24'><dhcp>"
    "<range start='10.0.1.1' end='10.0.1.5'/></dhcp></ip></network>",
    "<network><name>b</name><ip address='10.0.0.1' prefix='24'><dhcp>"
    "<range start='10.0.0.9' end='10.0.0.5'/></dhcp></ip></network>",
    "<network><name>b</name><ip address='10.0.0.1' prefix='24'><dhcp>"
    "<host mac='00:11:22:33:44:55'/></dhcp></ip></network>",
    "<network><name>b</name><bridge name='x'/><forward mode='passthrough'>"
    "<interface dev='e'/></forward></network>",
    "<network><name>b</name><dns><txt name='a b' value='x'/></dns></network>",
    "<network><name>b</name><mac address='01:00:00:00:00:01'/></network>",
    "<network><name>b</name><ip address='10.0.0.1' prefix='24'/>"
    "<route address='1.0.0.0' prefix='8' gateway='9.9.9.9'/></network>",
    "<network><name>b</name><bridge delay='x'/></network>",
    "<network><name>b</name><mtu size='big'/></network>",
    "<network ipv6='maybe'><name>b</name></network>",
    "<network><name>b</name><forward mode='nat'/><ip address='10.0.0.1' family='ipv6'/></network>",
    "<network><name>b</name><portgroup/></network>",
]

D = f"<network><name>d</name><uuid>{U}77</uuid>"
BAD_DNS_IP = [
    D + "<dns enable='no'><host ip='10.0.0.5'><hostname>a</hostname></host></dns></network>",
    D + "<dns enable='no' forwardPlainNames='yes'/></network>",
    D + "<dns enable='maybe'/></network>",
    D + "<dns><forwarder/></dns></network>",
    D + "<dns><forwarder addr='zz'/></dns></network>",
    D + "<dns><host ip='10.0.0.5'/></dns></network>",
    D + "<dns><host><hostname>a</hostname></host></dns></network>",
    D + "<dns><srv protocol='tcp'/></dns></network>",
    D + "<dns><srv service='s' protocol='tcp' port='80'/></dns></network>",
    D + "<dns><srv service='s' protocol='t.cp'/></dns></network>",
    D + "<ip address='fd00::1' family='ipv6'><tftp root='/x'/></ip></network>",
    D + "<ip address='fd00::1' family='ipv6' netmask='255.0.0.0'/></network>",
    D + "<ip address='fd00::1' family='ipv4'/></network>",
    D + "<ip address='10.0.0.1' prefix='8' netmask='255.0.0.0'/></network>",
    D + "<ip address='10.0.0.1' family='ipx'/></network>",
    D + "<ip address='10.0.0.1' prefix='24'><dhcp><bootp/></dhcp></ip></network>",
    D + "<ip address='10.0.0.1' prefix='24'><dhcp>"
    "<range start='10.0.0.2' end='10.0.0.3'><lease expiry='1'/></range></dhcp></ip></network>",
    D + "<ip address='10.0.0.1' prefix='24'><dhcp>"
    "<host mac='00:11:22:33:44:55' ip='10.0.0.2' name='-x'/></dhcp></ip></network>",
    D + "<ip address='10.0.0.1' prefix='24'><dhcp>"
    "<host id='zz' name='a' ip='10.0.0.2'/></dhcp></ip></network>",
]

UPD_HOST = "<host mac='00:16:3e:77:e2:ed' name='foo.example.com' ip='192.168.122.10'/>"
UPD_HOST2 = "<host mac='00:16:3e:77:e2:ee' name='bar' ip='192.168.122.11'/>"
UPD_HOST2_MOD = "<host mac='00:16:3E:77:E2:EE' name='bar2' ip='192.168.122.12'/>"
UPD_HOST_DEL = "<host mac='00:16:3e:77:e2:ee'/>"
UPD_HOST_MISSING = "<host mac='00:16:3e:77:e2:ef'/>"
UPD_HOST_CFG = "<host mac='00:16:3e:77:e2:01' ip='192.168.122.20'/>"
UPD_HOST_BOTH = "<host mac='00:16:3e:77:e2:02' ip='192.168.122.21'/>"
UPD_RANGE = "<range start='192.168.122.100' end='192.168.122.110'/>"
UPD_RANGE_OUT = "<range start='10.0.0.1' end='10.0.0.5'/>"
UPD_BAD = "<srv"
UPD_RANGE_ORIG = "<range start='192.168.122.2' end='192.168.122.254'/>"

POOL_BODIES = {
    "logical": "<source><name>vg</name><device path='/dev/sda'/></source>"
    "<target><path>/dev/x</path></target>",
    "disk": "<source><device path='/dev/sdb'/></source><target><path>/dev</path></target>",
    "netfs": "<source><host name='h'/><dir path='/e'/></source><target><path>/mnt</path></target>",
    "rbd": "<source><name>r</name><host name='m' port='6789'/></source>",
    "iscsi": "<source><host name='h'/><device path='iqn.x'/></source>"
    "<target><path>/dev/disk/by-path</path></target>",
    "fs": "<source><device path='/dev/sdc'/><format type='ext4'/></source>"
    "<target><path>/fs//</path><permissions><mode>0711</mode></permissions></target>",
    "gluster": "<source><host name='h'/><name>g</name></source>",
    "zfs": "<source><name>z</name></source>",
    "mpath": "<target><path>/dev/mapper</path></target>",
    "scsi": "<source><adapter type='scsi_host' name='host0'/></source>"
    "<target><path>/dev/disk/by-id</path></target>",
    "sheepdog": "<source><name>s</name><host name='h'/></source>",
    "vstorage": "<source><name>v</name></source><target><path>/vs</path></target>",
    "iscsi-direct": "<source><host name='h'/><device path='iqn.1'/><initiator>"
    "<iqn name='iqn.2'/></initiator></source>",
}
BAD_POOLS = [
    "<pool type='dir'><name>b</name",
    "<pool><name>b</name><target><path>/b</path></target></pool>",
    "<pool type='zz'><name>b</name><target><path>/b</path></target></pool>",
    "<pool type='dir'><target><path>/b</path></target></pool>",
    "<pool type='dir'><name>b</name></pool>",
    "<pool type='dir'><name>b</name><uuid>zz</uuid><target><path>/b</path></target></pool>",
    "<pool type='dir'><name>a/b</name><target><path>/b</path></target></pool>",
    "<pool type='netfs'><name>b</name><target><path>/b</path></target></pool>",
    "<pool type='netfs'><name>b</name><source><host name='h'/></source>"
    "<target><path>/b</path></target></pool>",
    "<pool type='disk'><name>b</name><target><path>/b</path></target></pool>",
    "<pool type='scsi'><name>b</name><target><path>/b</path></target></pool>",
    "<pool type='rbd'><name>b</name></pool>",
    "<pool type='netfs'><name>b</name><source><host name='h'/><dir path='/d'/>"
    "<format type='zz'/></source><target><path>/b</path></target></pool>",
    "<volume><name>b</name></volume>",
]
BAD_VOLS = [
    "<volume><name>a</name><capacity>abc</capacity></volume>",
    "<volume><name>a</name><capacity unit='zz'>1</capacity></volume>",
    "<volume><name>a</name><capacity>1</capacity><allocation>x</allocation></volume>",
    "<volume type='zzz'><name>a</name><capacity>1</capacity></volume>",
    "<volume><name>a</name><capacity>1</capacity><target><format type='zz'/></target></volume>",
    "<volume><name></name><capacity>1</capacity></volume>",
    "<volume><name>a</name><capacity>-5</capacity></volume>",
    "<volume><name>a</name></volume>",
    "<volume><capacity>5</capacity></volume>",
    "<volume><name>nc</name",
    "<vol><name>nc</name></vol>",
]
VOL_RICH = (
    "<volume type='file'><name>rich</name><key>ignored</key><capacity unit='KiB'>1</capacity>"
    "<allocation unit='k'>1</allocation><target><path>/ignored</path><format type='qcow2'/>"
    "<permissions><mode>0600</mode></permissions><compat>1.1</compat>"
    "<features><lazy_refcounts/></features></target>"
    "<backingStore><path>/b</path><format type='qcow2'/></backingStore></volume>"
)
FC_POOL = pool_xml(
    "fc",
    "40",
    "scsi",
    "<source><adapter type='fc_host' parent='scsi_host1' wwnn='20000000c9831b4b'"
    " wwpn='10000000c9831b4b'/></source><target><path>/dev/disk/by-path</path></target>",
)

IFACE_ETH2 = "<interface type='ethernet' name='eth2'><mac address='AA:bb:cc:dd:ee:01'/></interface>"
IFACE_ETH3 = "<interface type='ethernet' name='eth3'><mac address='aa:bb:cc:dd:ee:01'/></interface>"
IFACE_BR = (
    "<interface type='bridge' name='br0'><start mode='onboot'/><protocol family='ipv4'>"
    "<dhcp/></protocol><bridge stp='off' delay='0.01'><interface type='ethernet' name='eth9'>"
    "<mac address='00:11:22:33:44:55'/></interface></bridge></interface>"
)
IFACE_BOND = (
    "<interface type='bond' name='bond0'><start mode='none'/><bond mode='active-backup'>"
    "<miimon freq='100' updelay='10' carrier='ioctl'/><interface type='ethernet' name='eth7'>"
    "<mac address='ab:bb:cc:dd:ee:01'/></interface></bond></interface>"
)
IFACE_VLAN = (
    "<interface type='vlan' name='eth0.42'><start mode='hotplug'/><vlan tag='42'>"
    "<interface name='eth0'/></vlan></interface>"
)
IFACE_ETH1_EMPTY = "<interface type='ethernet' name='eth1'/>"
BAD_IFACES = [
    "<interface",
    "<interface type='ethernet'/>",
    "<interface name='x'/>",
    "<interface type='foo' name='x'/>",
    "<iface type='ethernet' name='x'/>",
]

FC_CAP = (
    "<capability type='scsi_host'><capability type='fc_host'><wwnn>2000000012345678</wwnn>"
    "<wwpn>1000000012345678</wwpn></capability></capability>"
)
DEV_VHBA = f"<device><parent>scsi_host1</parent>{FC_CAP}</device>"
DEV_VHBA2 = DEV_VHBA.replace("scsi_host1<", "scsi_host2<")
BAD_DEVS = [
    f"<device><parent>nosuch</parent>{FC_CAP}</device>",
    DEV_VHBA.replace("scsi_host1<", "computer<"),
    DEV_VHBA.replace("scsi_host1<", "scsi_host11<"),
    "<device><parent>scsi_host1</parent><capability type='scsi_host'>"
    "<capability type='fc_host'><wwnn>2000000012345678</wwnn></capability></capability></device>",
    "<device><parent>scsi_host1</parent><capability type='scsi_host'/></device>",
    "<device><capability type='system'/></device>",
    "<device><name>foo</name></device>",
    "<dev><name>foo</name></dev>",
    "<device><capability type='zz'/></device>",
    "<device>",
]

CONFIG = """<node>
  <network><name>cn1</name><uuid>bbbbbbbb-2222-3333-4444-555555555501</uuid>
    <bridge name='br1'/><ip address='10.9.0.1' netmask='255.255.255.0'/></network>
  <network><name>cn2</name><uuid>bbbbbbbb-2222-3333-4444-555555555502</uuid>
    <forward mode='nat' dev='eth0'><nat><port start='1024' end='65535'/></nat></forward>
    <bridge name='virbr5' stp='off' delay='2'/><mac address='52:54:00:AB:CD:EF'/>
    <ip address='192.168.5.1' prefix='24'><dhcp><range start='192.168.5.2' end='192.168.5.9'/>
      <host mac='52:54:00:00:00:01' name='h1' ip='192.168.5.3'/></dhcp></ip></network>
  <interface type='ethernet' name='eth5'><mac address='aa:bb:cc:dd:ee:05'/></interface>
  <pool type='dir'><name>cp1</name><uuid>cccccccc-2222-3333-4444-555555555501</uuid>
    <target><path>/cp1</path></target>
    <volume><name>v1.img</name><capacity unit='KiB'>100</capacity>
      <allocation unit='KiB'>50</allocation></volume>
    <volume><name>v2.img</name><key>mykey</key><capacity>2048</capacity>
      <target><path>/other/v2.img</path><format type='qcow2'/></target></volume>
  </pool>
  <pool type='netfs'><name>cnfs</name><uuid>cccccccc-2222-3333-4444-555555555502</uuid>
    <source><host name='srv'/><dir path='/exp'/></source><target><path>/mnt/nfs</path></target>
    <volume><name>n.img</name><capacity>10</capacity></volume></pool>
  <device><name>computer</name><capability type='system'><hardware><vendor>X</vendor>
    <uuid>11111111-2222-3333-4444-555555555555</uuid></hardware></capability></device>
  <device><name>scsi_host11</name><parent>computer</parent><capability type='scsi_host'>
    <host>11</host><capability type='fc_host'><wwnn>2000000034563456</wwnn>
    <wwpn>1000000034563456</wwpn></capability></capability></device>
</node>
"""


def references(root: Path) -> dict[str, Any]:
    """Documents scenarios refer to as ``$name``; writes the configuration file to *root*."""
    (root / "secondary.xml").write_text(CONFIG)
    refs: dict[str, Any] = {
        name: value
        for name, value in globals().items()
        if name.isupper() and isinstance(value, str)
    }
    refs.update({f"badnet{i}": doc for i, doc in enumerate(BAD_NETS)})
    refs.update({f"badpool{i}": doc for i, doc in enumerate(BAD_POOLS)})
    refs.update({f"badvol{i}": doc for i, doc in enumerate(BAD_VOLS)})
    refs.update({f"badiface{i}": doc for i, doc in enumerate(BAD_IFACES)})
    refs.update({f"baddev{i}": doc for i, doc in enumerate(BAD_DEVS)})
    refs.update({f"mode_{n}": net_xml(n, f"2{i}", b) for i, (n, b) in enumerate(N_MODES.items())})
    refs.update(
        {
            f"ptype_{t}": pool_xml(f"p{i}", f"6{i}", t, b)
            for i, (t, b) in enumerate(POOL_BODIES.items())
        }
    )
    refs["config"] = f"test://{root}/secondary.xml"
    return refs


# -- the operation language ---------------------------------------------------------------

_INT = re.compile(r"-?(0x[0-9a-f]+|[0-9]+)")


def _arg(word: str, refs: dict[str, Any]) -> Any:
    if _INT.fullmatch(word):
        return int(word, 0)
    if word == "None":
        return None
    if word == '""':
        return ""
    if word.startswith("$"):
        return refs[word[1:]]
    return word


def _join_inline_xml(words: list[str]) -> list[str]:
    """Words, with an inline document (from ``<`` to a word ending in ``>``) as one word."""
    out: list[str] = []
    for word in words:
        if out and out[-1].startswith("<") and not out[-1].endswith(">"):
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def parse_ops(text: str, refs: dict[str, Any]) -> list[Op]:
    """Operations from the one-per-line notation described in the module docstring."""
    ops: list[Op] = []
    for line in text.strip().splitlines():
        words = _join_inline_xml(line.split())
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "conn":
            kind, name, op, args = "conn", "", words[1], words[2:]
        else:
            kind, name, op, args = words[0], words[1], words[2], words[3:]
        ops.append([kind, name, op, *(_arg(w, refs) for w in args)])
    return ops


def each(template: str, values: str | list[Any] | range) -> str:
    """One line of *template* per value; ``{}`` is the value. A string lists values by ``,``."""
    items = [v.strip() for v in values.split(",")] if isinstance(values, str) else values
    return "\n".join(template.replace("{}", str(v)) for v in items)


# -- scenarios --------------------------------------------------------------------------------

NET_LIST_FLAGS = [0, 1, 2, 4, 8, 16, 32, 1 | 4, 2 | 8, 16 | 1, 32 | 2, 64]
POOL_LIST_FLAGS = [0, 1, 2, 4, 8, 16, 32, 5, 1 << 6, 1 << 8, 1 << 9, 0x240, 1 << 14, 1 << 20]
DEV_FLAGS = [0, 1, 1 << 5, 1 << 9, 1 << 10, 2, 1 << 22, 1 << 31]
SECTIONS = ", ".join(f"update 1 {s} -1 <x/> 0" for s in (1, 2, 3, 6, 8, 99))
POOL_TYPES = list(POOL_BODIES)


def net_calls(name: str, *calls: str) -> str:
    """Each call on network *name*."""
    return "\n".join(f"net {name} {call}" for call in calls)


# fmt: off
SCENARIOS: dict[str, str] = {
    # -- networks ----------------------------------------------------------------------
    "net_lifecycle": "conn net_define $N1 0\n"
    + net_calls("n1", "xml 0", "active", "persistent", "autostart", "create", "active",
                "create", "undefine", "destroy", "active", "set_autostart 1", "autostart",
                "undefine", "undefine", "xml 0")
    + "\nconn net n1\nconn net_lists",
    "net_destroy_when_inactive": "conn net_define $N1 0\n"
    + net_calls("n1", "destroy", "destroy", "active", "persistent"),
    "net_transient": """
        conn net_create_xml $N1_NAT 0
        net n1 persistent
        net n1 active
        net n1 set_autostart 1
        net n1 autostart
        net n1 xml 0
        conn net_create_xml $N1_NAT 0
        conn net_define $N1_NAT 0
        net n1 persistent
        net n1 destroy
        conn net n1
        net n1 active
        net n1 undefine
        conn net_create_xml $N1_NAT 0
        net n1 destroy
        conn net n1
    """,
    "net_create_xml_over_defined": """
        conn net_define $N1 0
        conn net_create_xml $N1_NAT 0
        net n1 xml 0
        net n1 persistent
        net n1 destroy
        net n1 xml 0
        net n1 persistent
    """,
    "net_define_over_running": """
        conn net_define $N1 0
        net n1 create
        conn net_define $N1_NAT 0
        net n1 xml 0
        net n1 bridge
        net n1 destroy
        net n1 xml 0
        net n1 create
        net n1 xml 0
    """,
    "net_name_and_uuid_clashes": """
        conn net_define $N1 0
        conn net_define $N1_NEW_UUID 0
        conn net_define $N2_N1_UUID 0
        conn net_create_xml $N1_NEW_UUID 0
        conn net_create_xml $N2_N1_UUID 0
        conn net_lists
    """,
    "net_define_errors": each("conn net_define $badnet{} 0", range(len(BAD_NETS))),
    "net_create_errors": each("conn net_create_xml $badnet{} 0", range(0, len(BAD_NETS), 3)),
    "net_flags": """
        conn net_define $N1 1
        conn net_define $N1 2
        conn net_create_xml $N_ISOLATED 1
        conn net_create_xml $N_ISOLATED 2
        net n1 xml 1
        net n1 xml 2
        net n1 update 3 4 -1 $UPD_HOST 4
    """,
    "net_bridge_names": "conn net default\nnet default bridge\nconn net_define $N1 0\n"
    + "net n1 bridge\nconn net_define $N_BRIDGE 0\nnet br bridge\nnet br xml 0",
    "net_lookups": """
        conn net default
        net default uuid
        conn net_uuid dd8fe884-6c02-601e-7551-cca97df1c5df
        conn net_uuid DD8FE8846C02601E7551CCA97DF1C5DF
        conn net_uuid 00000000-0000-0000-0000-000000000000
        conn net_uuid zzz
        conn net nosuch
        conn net ""
    """,
    "net_listings": """
        conn net_define $N1 0
        conn net_create_xml $N_ISOLATED 0
        conn net_define $N_BRIDGE 0
        net br set_autostart 1
        net default destroy
    """
    + each("conn nets {}", NET_LIST_FLAGS)
    + "\nconn net_lists",
    "net_rich_document": "conn net_define $N_RICH 0\nnet rich xml 0\nnet rich bridge",
    "net_forward_modes": "\n".join(
        f"conn net_define $mode_{n} 0\nnet {n} xml 0\nnet {n} bridge" for n in N_MODES
    ),
    "net_ipv6_document": "conn net_define $N_V6 0\nnet six xml 0\n"
    + "net six update 3 4 -1 <host name='v6' ip='fd00::11'/> 2\nnet six xml 0\n"
    + "net six update 3 4 -1 <host mac='00:11:22:33:44:55' ip='fd00::12'/> 2\n"
    + "net six update 3 4 -1 <host id='0:1' ip='fd00::13'/> 2\nnet six xml 0",
    "net_update_dhcp_hosts": "\n".join(
        f"net default update {call}\nnet default xml 0"
        for call in (
            "3 4 -1 $UPD_HOST 0",
            "3 4 -1 $UPD_HOST 0",
            "4 4 -1 $UPD_HOST2 0",
            "1 4 -1 $UPD_HOST2_MOD 0",
            "1 4 -1 $UPD_HOST_MISSING 0",
            "2 4 -1 $UPD_HOST_DEL 0",
            "2 4 -1 $UPD_HOST_MISSING 0",
            "2 4 -1 <host/> 0",
            "3 4 -1 <host ip='192.168.122.50'/> 0",
            "3 4 -1 <host mac='zz' ip='192.168.122.50'/> 0",
            "3 4 -1 <host mac='01:00:00:00:00:01' ip='192.168.122.50'/> 0",
            "3 4 -1 <host mac='00:00:00:00:00:09' ip='fd00::1'/> 0",
            "3 4 5 $UPD_HOST 0",
            "3 4 0 $UPD_HOST_CFG 0",
        )
    ),
    "net_update_live_and_config": "conn net default\n"
    + "\n".join(
        f"net default update {call}\nnet default xml 0"
        for call in ("3 4 -1 $UPD_HOST 0", "3 4 -1 $UPD_HOST_CFG 2", "3 4 -1 $UPD_HOST_BOTH 3")
    )
    + "\nnet default destroy\nnet default xml 0\n"
    + "\n".join(
        f"net default update {call}\nnet default xml 0"
        for call in ("3 5 -1 $UPD_RANGE 0", "3 5 -1 $UPD_RANGE 0", "3 5 -1 $UPD_RANGE 1",
                     "3 11 -1 <txt name='t1' value='v1'/> 0")
    )
    + "\nnet default create\nnet default xml 0",
    "net_update_dhcp_ranges": "\n".join(
        f"net default update {call}\nnet default xml 0"
        for call in (
            "3 5 -1 $UPD_RANGE 0",
            "3 5 -1 $UPD_RANGE 0",
            "4 5 -1 <range start='192.168.122.120' end='192.168.122.130'/> 0",
            "3 5 -1 $UPD_RANGE_OUT 0",
            "1 5 -1 $UPD_RANGE 0",
            "2 5 -1 $UPD_RANGE 0",
            "2 5 -1 $UPD_RANGE 0",
            "2 5 -1 $UPD_RANGE_ORIG 0",
            "3 5 -1 <range start='192.168.122.9' end='192.168.122.3'/> 0",
            "3 5 -1 <range end='192.168.122.3'/> 0",
            "9 5 -1 $UPD_RANGE 0",
        )
    ),
    "net_update_unsupported": each("net default {}", SECTIONS)
    + "\n"
    + each("net default update {} 0", ["9 4 -1 $UPD_HOST", "0 4 -1 $UPD_HOST",
                                       "3 4 -1 $UPD_BAD", "3 4 -1 $UPD_RANGE",
                                       "3 13 -1 <x/>"]),
    "net_update_dns": "\n".join(
        f"net default update {call}\nnet default xml 0"
        for call in (
            "3 10 -1 <host ip='192.168.122.5'><hostname>h1</hostname></host> 0",
            "3 10 -1 <host ip='192.168.122.5'><hostname>h9</hostname></host> 0",
            "4 10 -1 <host ip='192.168.122.6'><hostname>h1</hostname></host> 0",
            "1 10 -1 <host ip='192.168.122.6'><hostname>h1</hostname></host> 0",
            "2 10 -1 <host><hostname>h1</hostname></host> 0",
            "2 10 -1 <host ip='192.168.122.6'/> 0",
            "2 10 -1 <host ip='192.168.122.7'/> 0",
            "3 10 -1 <host ip='192.168.122.8'/> 0",
            "3 11 -1 <txt name='t1' value='v1'/> 0",
            "3 11 -1 <txt name='t1' value='v2'/> 0",
            "4 11 -1 <txt name='t0' value='v0'/> 0",
            "3 11 -1 <txt name='a b' value='v'/> 0",
            "2 11 -1 <txt name='t1'/> 0",
            "2 11 -1 <txt name='t9'/> 0",
            "3 12 -1 <srv service='s' protocol='tcp'/> 0",
            "3 12 -1 <srv service='s' protocol='tcp'/> 0",
            "3 12 -1 <srv service='s' protocol='udp' target='x' port='53'/> 0",
            "2 12 -1 <srv service='s'/> 0",
            "2 12 -1 <srv service='s' protocol='udp'/> 0",
            "3 12 -1 <srv service='s' protocol='tcp' port='53'/> 0",
            "1 12 -1 <srv service='s' protocol='tcp'/> 0",
        )
    ),
    "net_update_portgroups": "\n".join(
        f"net default update {call}\nnet default xml 0"
        for call in (
            "3 9 -1 <portgroup name='pg1' default='yes'/> 0",
            "3 9 -1 <portgroup name='pg1'/> 0",
            "4 9 -1 <portgroup name='pg2' default='yes'/> 0",
            "4 9 -1 <portgroup name='pg2'><vlan><tag id='7'/></vlan></portgroup> 0",
            "1 9 -1 <portgroup name='pg2' default='yes'/> 0",
            "1 9 -1 <portgroup name='pg1' trustGuestRxFilters='yes'/> 0",
            "1 9 -1 <portgroup name='pg9'/> 0",
            "2 9 -1 <portgroup name='pg1'/> 0",
            "2 9 -1 <portgroup name='pg1'/> 0",
            "3 9 -1 <portgroup/> 0",
        )
    ),
    "net_update_forward_interfaces": "conn net_define $N_BRIDGE 0\n"
    + "\n".join(
        f"net br update {call}\nnet br xml 0"
        for call in (
            "3 7 -1 <interface dev='eth2'/> 0",
            "3 7 -1 <interface dev='eth2'/> 0",
            "4 7 -1 <interface dev='eth0'/> 0",
            "1 7 -1 <interface dev='eth0'/> 0",
            "2 7 -1 <interface dev='eth1'/> 0",
            "2 7 -1 <interface dev='eth1'/> 0",
            "3 7 -1 <interface/> 0",
            "3 7 -1 <pf dev='x'/> 0",
        )
    ),
    "net_update_state_rules": """
        conn net_create_xml $N_ISOLATED 0
        net iso update 3 9 -1 <portgroup name='p'/> 2
        net iso update 3 9 -1 <portgroup name='p'/> 0
        net iso xml 0
        net iso destroy
        conn net_define $N_ISOLATED 0
        net iso update 3 9 -1 <portgroup name='q'/> 1
        net iso update 3 9 -1 <portgroup name='q'/> 0
        net iso update 3 4 -1 <host mac='00:11:22:33:44:55' ip='10.8.0.9'/> 2
        net iso update 3 5 -1 <range start='10.8.0.20' end='10.8.0.30'/> 2
        net iso xml 0
        net iso update 3 4 -1 <host mac='00:11:22:33:44:56' ip='10.8.0.19'/> 0
        net iso xml 0
    """,
    # -- storage pools -------------------------------------------------------------------
    "pool_lifecycle": "conn pool_define $pool_p1 0\n"
    + "\n".join(
        f"pool p1 {call}\npool p1 info"
        for call in ("build 0", "delete 0", "create 0", "refresh 0", "destroy", "undefine")
    )
    + "\nconn pool p1",
    "pool_state_rules": "conn pool_define $pool_p1 0\n"
    + each("pool p1 {}", ["refresh 0", "destroy", "vol_names", "num_vols", "vols",
                          "vol x", "create 0", "create 0", "build 0", "delete 0", "undefine",
                          "destroy", "undefine"]),
    "pool_flags": "conn pool_define $pool_p1 1\nconn pool_define $pool_p1 2\n"
    + "conn pool_create_xml $pool_p2 1\n"
    + each("pool p1 {}", ["build 1", "build 4", "create 1", "delete 1", "refresh 1",
                          "xml 1"]),
    "pool_transient": """
        conn pool_create_xml $pool_p1 0
        pool p1 persistent
        pool p1 autostart
        pool p1 set_autostart 1
        conn pool_create_xml $pool_p1 0
        conn pool_define $pool_p1 0
        pool p1 persistent
        pool p1 set_autostart 1
        pool p1 autostart
        pool p1 destroy
        conn pool p1
        conn pool_create_xml $pool_p1 0
        pool p1 persistent
        pool p1 autostart
        pool p1 destroy
        conn pool p1
    """,
    "pool_define_errors": each("conn pool_define $badpool{} 0", range(len(BAD_POOLS)))
    + "\n" + each("conn pool_create_xml $badpool{} 0", range(0, len(BAD_POOLS), 4)),
    "pool_types": "\n".join(
        f"conn pool_define $ptype_{t} 0\npool p{i} xml 0\npool p{i} create 0\n"
        f"pool p{i} vol_create $VOL_RICH 0\npool p{i} vol_create $VOL_QCOW 0\n"
        f"pool p{i} vol_create $VOL_PLAIN 0\npool p{i} vols\n"
        + each(f"vol p{i}/{{}} xml 0", ["rich", "q", "v"])
        + "\n" + each(f"vol p{i}/{{}} info", ["rich", "v"])
        for i, t in enumerate(POOL_TYPES)
    ),
    "pool_clashes": """
        conn pool_define $pool_p1 0
        conn pool_define $pool_p1_other_uuid 0
        conn pool_define $pool_p9_p1_uuid 0
        conn pool_define $pool_same_target 0
        conn pool_create_xml $pool_same_target 0
        conn pool_define $pool_p1_new_target 0
        pool p1 xml 0
        conn pool_lists
    """,
    "pool_redefine_keeps_volumes": """
        conn pool default-pool
        pool default-pool vol_create $VOL_PLAIN 0
        pool default-pool info
        conn pool_define $pool_default_again 0
        pool default-pool info
        pool default-pool xml 0
        pool default-pool destroy
        pool default-pool xml 0
        conn pool_define $pool_default_moved 0
        pool default-pool xml 0
        pool default-pool create 0
        pool default-pool vols
        vol default-pool/v path
        pool default-pool info
    """,
    "pool_listings": """
        conn pool_define $pool_p1 0
        conn pool_create_xml $pool_p2 0
        conn pool_define $ptype_netfs 0
        pool p1 set_autostart 1
        conn pool_define $ptype_logical 0
        pool p0 create 0
    """
    + each("conn pools {}", POOL_LIST_FLAGS)
    + "\nconn pool_lists",
    "pool_lookups": """
        conn pool default-pool
        pool default-pool uuid
        conn pool_uuid dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566
        conn pool_uuid DFE224CB28FB8DD0C4B264EB3F0F4566
        conn pool_uuid 00000000-0000-0000-0000-000000000000
        conn pool_uuid zzz
        conn pool nosuch
    """,
    "pool_find_sources": each(
        "conn find_sources {}",
        ["logical None 0", "netfs $NETFS_SRC 0", "netfs None 0", "dir None 0", "foo None 0",
         "logical None 1", "disk None 0"],
    ),
    "pool_fc_host_vhba": """
        conn pool_create_xml $FC_POOL 0
        conn dev scsi_host12
        dev scsi_host12 xml 0
        pool fc xml 0
        pool fc destroy
        conn dev scsi_host12
        conn pool fc
        conn pool_define $FC_POOL 0
        pool fc create 0
        conn dev scsi_host12
        pool fc destroy
    """,
    # -- volumes -------------------------------------------------------------------------
    "vol_lifecycle": """
        conn pool default-pool
        pool default-pool vol_create $VOL_PLAIN 0
        pool default-pool vol_create $VOL_PLAIN 0
        vol default-pool/v xml 0
        vol default-pool/v info
        vol default-pool/v path
        vol default-pool/v key
        vol default-pool/v pool
        pool default-pool info
        pool default-pool vol_create $VOL_CUSTOM 0
        vol default-pool/c xml 0
        pool default-pool info
        pool default-pool vols
        pool default-pool vol_names
        pool default-pool num_vols
        vol default-pool/c delete 0
        vol default-pool/c delete 0
        vol default-pool/c xml 0
        pool default-pool info
        pool default-pool vol c
    """,
    "vol_errors": "conn pool default-pool\n"
    + each("pool default-pool vol_create $badvol{} 0", range(len(BAD_VOLS)))
    + "\npool default-pool vol_create $VOL_PLAIN 1\n"
    + "pool default-pool vol_create $VOL_PLAIN 0\n"
    + each("vol default-pool/v {}", ["delete 1", "delete 2", "xml 1"]),
    "vol_space": """
        conn pool default-pool
        pool default-pool vol_create $VOL_HUGE 0
        pool default-pool vol_create $VOL_HUGE_SPARSE 0
        pool default-pool info
        pool default-pool vol_create $VOL_HALF 0
        pool default-pool vol_create $VOL_HALF2 0
        pool default-pool info
        vol default-pool/half delete 0
        pool default-pool info
    """,
    "vol_clone": """
        conn pool default-pool
        pool default-pool vol_create $VOL_PLAIN 0
        pool default-pool vol_clone $VOL_CLONE v 0
        vol default-pool/clone xml 0
        pool default-pool vol_clone $VOL_CLONE v 0
        pool default-pool vol_clone $VOL_CLONE2 nosuch 0
        pool default-pool vol_clone $VOL_CLONE2 v 1
        pool default-pool vol_clone $VOL_HUGE v 0
        pool default-pool info
    """,
    "vol_lookups": """
        conn pool_define $pool_p1 0
        pool p1 create 0
        pool p1 vol_create $VOL_PLAIN 0
        conn vol_key /pools/p1/v
        conn vol_path /pools/p1/v
        conn vol_key /pools/p1/nosuch
        conn vol_path /nosuch
        conn vol_key ""
        pool p1 destroy
        conn vol_key /pools/p1/v
        vol p1/v info
        vol p1/v xml 0
        vol p1/v path
        vol p1/v delete 0
        vol p1/v pool
        pool p1 create 0
        pool p1 vols
        vol p1/v info
    """,
    "vol_in_config_file": "conn open $config\n"
    + each("conn pool {}", ["cp1", "cnfs"])
    + "\n" + each("pool cp1 {}", ["xml 0", "info", "vols"])
    + "\n" + each("pool cnfs {}", ["xml 0", "info", "vols"])
    + "\npool cp1 vol v1.img\npool cp1 vol v2.img\npool cnfs vol n.img\n"
    + each("vol cp1/v2.img {}", ["xml 0", "info", "key", "path"])
    + "\n" + each("vol cnfs/n.img {}", ["xml 0", "info"])
    + "\nconn vol_key mykey\nconn vol_path /other/v2.img\nconn vol_key /cp1/v1.img\n"
    + "pool cp1 vol_create $VOL_PLAIN 0\npool cp1 info\nconn pool_lists",
    # -- networks in configuration files ---------------------------------------------------
    "net_in_config_file": "conn open $config\nconn net_lists\n"
    + "\n".join(f"conn net {n}\nnet {n} xml 0\nnet {n} persistent\nnet {n} bridge"
                for n in ("cn1", "cn2"))
    + "\nnet cn2 update 3 4 -1 <host mac='52:54:00:00:00:02' ip='192.168.5.4'/> 0\n"
    + "net cn2 xml 0\nnet cn1 destroy\nnet cn1 undefine\nconn net_lists",
    # -- host interfaces -------------------------------------------------------------------
    "iface_lifecycle": "conn iface_define $IFACE_ETH2 0\n"
    + each("iface eth2 {}", ["mac", "active", "xml 0", "create 0", "active", "create 0",
                             "destroy 0", "destroy 0", "create 1", "destroy 1", "undefine",
                             "active", "xml 0"])
    + "\nconn iface eth2\nconn iface_lists",
    "iface_redefine": """
        conn iface eth1
        conn iface_define $IFACE_ETH1_EMPTY 0
        iface eth1 xml 0
        iface eth1 active
        iface eth1 mac
        conn iface_define $IFACE_ETH2 1
        conn iface_define $IFACE_ETH2 2
        iface eth1 xml 1
        conn iface_lists
    """,
    "iface_mac_lookups": """
        conn iface_define $IFACE_ETH2 0
        conn iface_mac aa:bb:cc:dd:ee:01
        iface eth2 mac
        conn iface_mac AA:BB:CC:DD:EE:01
        iface eth2 mac
        conn iface_mac aa:bb:cc:dd:ee:ff
        conn iface_mac 00:00:00:00:00:00
        conn iface_define $IFACE_ETH3 0
        conn iface_mac aa:bb:cc:dd:ee:01
    """,
    "iface_transactions": """
        conn rollback 0
        conn commit 0
        conn begin 1
        conn begin 0
        conn begin 0
        conn iface_define $IFACE_ETH2 0
        iface eth2 create 0
        iface eth1 destroy 0
        conn iface_lists
        conn rollback 0
        conn iface_lists
        conn iface eth2
        iface eth1 active
        conn begin 0
        conn iface_define $IFACE_ETH2 0
        conn commit 0
        conn iface_lists
        conn commit 1
        conn rollback 1
    """,
    "iface_documents": "\n".join(
        f"conn iface_define ${doc} 0\niface {name} xml 0\niface {name} mac"
        for doc, name in (("IFACE_BR", "br0"), ("IFACE_BOND", "bond0"), ("IFACE_VLAN", "eth0.42"))
    )
    + "\n" + each("conn iface_define $badiface{} 0", range(len(BAD_IFACES))),
    "iface_listings": "conn iface_define $IFACE_ETH2 0\nconn iface_define $IFACE_BR 0\n"
    + "iface br0 create 0\n" + each("conn ifaces {}", [0, 1, 2, 3, 4]) + "\nconn iface_lists",
    # -- node devices ------------------------------------------------------------------------
    "nodedev_vhba": """
        conn dev_create $DEV_VHBA 0
        dev scsi_host12 xml 0
        dev scsi_host12 parent
        dev scsi_host12 caps
        dev scsi_host12 num_caps
        conn dev_create $DEV_VHBA2 0
        conn dev_list None 0
        dev scsi_host12 destroy
        dev scsi_host12 destroy
        conn dev_list None 0
    """,
    "nodedev_create_errors": each("conn dev_create $baddev{} 0", range(len(BAD_DEVS))),
    "nodedev_destroy_rules": each("conn dev {}", ["computer", "scsi_host2", "scsi_host11"])
    + "\n" + each("dev {} destroy", ["computer", "scsi_host2", "scsi_host11"])
    + "\nconn dev_list None 0\nconn dev_create $DEV_VHBA 0\nconn dev_list None 0",
    "nodedev_listings": each("conn devs {}", DEV_FLAGS)
    + "\n" + each("conn dev_list {} 0", ["system", "scsi_host", "fc_host", "vports", "pci", "zz"])
    + "\n" + each("conn dev_num {} 0", ["None", "scsi_host", "fc_host"])
    + "\nconn dev_list None 1\nconn dev_num None 1\n"
    + "\n".join(f"conn dev {d}\ndev {d} num_caps\ndev {d} caps" for d in
                ("computer", "scsi_host1")),
    "nodedev_in_config_file": "conn open $config\n" + each("conn devs {}", [0, 1 << 5])
    + "\nconn dev_create $DEV_VHBA 0\nconn dev_create $DEV_VHBA_11 0\n"
    + "conn dev_create $DEV_VHBA_ANY 0\ndev scsi_host11 destroy\nconn dev_list None 0",
    # -- more network documents and updates -------------------------------------------------
    "net_update_without_ip": "conn net_define $N1 0\n" + each("net n1 update {} 2", [
        "3 4 -1 <host mac='00:11:22:33:44:55' ip='10.0.0.2'/>",
        "3 5 -1 <range start='10.0.0.2' end='10.0.0.3'/>",
        "3 10 -1 <host ip='10.0.0.5'><hostname>a</hostname></host>",
        "3 9 -1 <portgroup name='p'/>"]) + "\nnet n1 xml 0",
    "net_update_second_ip": "conn net_define $N_TWO_IPS 0\n" + each("net two update {} 2", [
        "3 5 1 <range start='10.6.0.2' end='10.6.0.3'/>",
        "3 4 1 <host mac='00:11:22:33:44:55' ip='10.6.0.9'/>",
        "3 4 -1 <host mac='00:11:22:33:44:55' ip='10.5.0.9'/>",
        "3 5 2 <range start='fd01::2' end='fd01::3'/>",
        "3 4 2 <host name='v6' ip='fd01::9'/>",
        "2 5 -1 <range start='10.5.0.2' end='10.5.0.3'/>",
        "3 5 1 <range start='10.6.0.2' end='10.6.0.3'/>",
        "3 5 0 <range start='fd01::2' end='fd01::3'/>"]) + "\nnet two xml 0",
    "net_dns_and_ip_rules": each("conn net_define $baddns{} 0", range(len(BAD_DNS_IP))),
    "net_portgroup_details": "conn net_define $N1 0\n"
    + "net n1 update 3 9 -1 $PG_DETAILED 0\nnet n1 xml 0",
    "iface_in_config_file": "conn open $config\nconn iface_lists\nconn iface eth5\n"
    + "iface eth5 xml 0\niface eth5 mac\nconn begin 0\niface eth5 undefine\n"
    + "conn iface_lists\nconn rollback 0\nconn iface_lists",
}
# fmt: on

EXTRA_REFS = {
    "N_TWO_IPS": net_xml(
        "two",
        "06",
        "<ip address='10.5.0.1' prefix='24'><dhcp><range start='10.5.0.2' end='10.5.0.3'/>"
        "</dhcp></ip><ip address='10.6.0.1' prefix='24'/>"
        "<ip family='ipv6' address='fd01::1' prefix='64'/>",
    ),
    "PG_DETAILED": "<portgroup name='pg3'><virtualport type='openvswitch'/>"
    "<bandwidth><inbound average='1000' peak='5000' burst='1024'/>"
    "<outbound average='128'/></bandwidth><vlan trunk='yes'><tag id='42'/>"
    "<tag id='47' nativeMode='untagged'/></vlan></portgroup>",
    "DEV_VHBA_11": DEV_VHBA.replace("scsi_host1<", "scsi_host11<"),
    "DEV_VHBA_ANY": f"<device>{FC_CAP}</device>",
    **{f"baddns{i}": doc for i, doc in enumerate(BAD_DNS_IP)},
    "pool_p1": pool_xml("p1", "a1"),
    "pool_p2": pool_xml("p2", "a2"),
    "pool_p1_other_uuid": pool_xml("p1", "a3"),
    "pool_p9_p1_uuid": pool_xml("p9", "a1"),
    "pool_same_target": pool_xml("p4", "a4", "dir", "<target><path>/pools/p1</path></target>"),
    "pool_p1_new_target": pool_xml("p1", "a1", "dir", "<target><path>/elsewhere</path></target>"),
    "pool_default_again": "<pool type='dir'><name>default-pool</name>"
    "<uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid><target><path>/default-pool</path>"
    "</target></pool>",
    "pool_default_moved": "<pool type='dir'><name>default-pool</name>"
    "<uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid><target><path>/moved/</path>"
    "</target></pool>",
    "VOL_PLAIN": vol_xml("v"),
    "VOL_QCOW": vol_xml("q", extra="<target><format type='qcow2'/></target>"),
    "VOL_CUSTOM": "<volume type='block'><name>c</name><key>k</key>"
    "<capacity unit='M'>10</capacity><allocation>0</allocation>"
    "<target><path>/x/y</path><format type='vmdk'/></target></volume>",
    "VOL_HUGE": "<volume><name>huge</name><capacity unit='T'>200</capacity></volume>",
    "VOL_HUGE_SPARSE": "<volume><name>sparse</name><capacity unit='T'>200</capacity>"
    "<allocation>0</allocation></volume>",
    "VOL_HALF": "<volume><name>half</name><capacity unit='G'>60</capacity></volume>",
    "VOL_HALF2": "<volume><name>half2</name><capacity unit='G'>60</capacity></volume>",
    "VOL_CLONE": vol_xml("clone", "5"),
    "VOL_CLONE2": vol_xml("clone2", "5"),
    "NETFS_SRC": "<source><host name='nfs.example.com'/></source>",
}


# -- the virtcore side ----------------------------------------------------------------------


def _norm(value: Any) -> Any:
    if isinstance(value, Network | StoragePool):
        return {"name": value.name, "uuid": value.uuid}
    if isinstance(value, Interface | NodeDevice | StorageVol):
        return {"name": value.name}
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def _names(objs: list[Any]) -> list[str]:
    return sorted(o.name for o in objs)


Fn = Callable[..., Any]
# fmt: off
CONN_OPS: dict[str, Fn] = {
    "net_define": lambda c, x, f: c.network_define_xml(x, f),
    "net_create_xml": lambda c, x, f: c.network_create_xml(x, f),
    "net": lambda c, n: c.network_lookup_by_name(n),
    "net_uuid": lambda c, u: c.network_lookup_by_uuid(u),
    "nets": lambda c, f: _names(c.list_all_networks(f)),
    "net_lists": lambda c: [sorted(c.list_networks()), sorted(c.list_defined_networks()),
                            c.num_of_networks(), c.num_of_defined_networks()],
    "pool_define": lambda c, x, f: c.storage_pool_define_xml(x, f),
    "pool_create_xml": lambda c, x, f: c.storage_pool_create_xml(x, f),
    "pool": lambda c, n: c.storage_pool_lookup_by_name(n),
    "pool_uuid": lambda c, u: c.storage_pool_lookup_by_uuid(u),
    "pools": lambda c, f: _names(c.list_all_storage_pools(f)),
    "pool_lists": lambda c: [sorted(c.list_storage_pools()),
                             sorted(c.list_defined_storage_pools()),
                             c.num_of_storage_pools(), c.num_of_defined_storage_pools()],
    "vol_key": lambda c, k: c.storage_vol_lookup_by_key(k),
    "vol_path": lambda c, p: c.storage_vol_lookup_by_path(p),
    "find_sources": lambda c, t, s, f: c.find_storage_pool_sources(t, s, f),
    "iface_define": lambda c, x, f: c.interface_define_xml(x, f),
    "iface": lambda c, n: c.interface_lookup_by_name(n),
    "iface_mac": lambda c, m: c.interface_lookup_by_mac_string(m),
    "ifaces": lambda c, f: _names(c.list_all_interfaces(f)),
    "iface_lists": lambda c: [sorted(c.list_interfaces()), sorted(c.list_defined_interfaces()),
                              c.num_of_interfaces(), c.num_of_defined_interfaces()],
    "begin": lambda c, f: c.change_begin(f),
    "commit": lambda c, f: c.change_commit(f),
    "rollback": lambda c, f: c.change_rollback(f),
    "dev": lambda c, n: c.node_device_lookup_by_name(n),
    "devs": lambda c, f: _names(c.list_all_node_devices(f)),
    "dev_list": lambda c, cap, f: sorted(c.list_devices(cap, f)),
    "dev_num": lambda c, cap, f: c.num_of_devices(cap, f),
    "dev_create": lambda c, x, f: c.node_device_create_xml(x, f),
}
TABLES: dict[str, dict[str, Fn]] = {
    "net": {
        "xml": lambda n, f: n.xml_desc(f), "active": lambda n: n.is_active(),
        "persistent": lambda n: n.is_persistent(), "autostart": lambda n: n.get_autostart(),
        "set_autostart": lambda n, v: n.set_autostart(v), "bridge": lambda n: n.bridge_name(),
        "create": lambda n: n.create(), "destroy": lambda n: n.destroy(),
        "undefine": lambda n: n.undefine(), "uuid": lambda n: n.uuid,
        "update": lambda n, c, s, i, x, f: n.update(c, s, i, x, f),
    },
    "pool": {
        "xml": lambda p, f: p.xml_desc(f), "info": lambda p: list(p.info()),
        "active": lambda p: p.is_active(), "persistent": lambda p: p.is_persistent(),
        "autostart": lambda p: p.get_autostart(), "set_autostart": lambda p, v: p.set_autostart(v),
        "create": lambda p, f: p.create(f), "build": lambda p, f: p.build(f),
        "destroy": lambda p: p.destroy(), "delete": lambda p, f: p.delete(f),
        "undefine": lambda p: p.undefine(), "refresh": lambda p, f: p.refresh(f),
        "vols": lambda p: _names(p.list_all_volumes()),
        "vol_names": lambda p: sorted(p.list_volumes()),
        "num_vols": lambda p: p.num_of_volumes(), "vol": lambda p, n: p.vol_lookup_by_name(n),
        "vol_create": lambda p, x, f: p.vol_create_xml(x, f), "uuid": lambda p: p.uuid,
        "vol_clone": lambda p, x, v, f: p.vol_create_xml_from(x, p.vol_lookup_by_name(v), f),
    },
    "vol": {
        "xml": lambda v, f: v.xml_desc(f), "info": lambda v: list(v.info()),
        "path": lambda v: v.path(), "key": lambda v: v.key, "delete": lambda v, f: v.delete(f),
        "pool": lambda v: v.storage_pool_lookup_by_volume(),
    },
    "iface": {
        "xml": lambda i, f: i.xml_desc(f), "active": lambda i: i.is_active(),
        "mac": lambda i: i.mac, "create": lambda i, f: i.create(f),
        "destroy": lambda i, f: i.destroy(f), "undefine": lambda i: i.undefine(),
    },
    "dev": {
        "xml": lambda d, f: d.xml_desc(f), "parent": lambda d: d.parent(),
        "caps": lambda d: d.list_caps(), "num_caps": lambda d: d.num_of_caps(),
        "destroy": lambda d: d.destroy(),
    },
}
# fmt: on


def _handle_key(value: Any) -> tuple[str, str] | None:
    if isinstance(value, StorageVol):
        return ("vol", f"{value.pool_name}/{value.name}")
    kinds = ((Network, "net"), (StoragePool, "pool"), (Interface, "iface"), (NodeDevice, "dev"))
    for cls, kind in kinds:
        if isinstance(value, cls):
            return (kind, value.name)
    return None


class VirtcoreRunner:
    """Runs scenario operations on virtcore the way :data:`LIBVIRT_RUNNER` does on libvirt."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.conn: Connection | None = None
        self.events: list[list[Any]] = []
        self.handles: dict[tuple[str, str], Handle] = {}

    def _on_event(self, kind: str) -> Callable[[Connection, Handle, Event], None]:
        def record(conn: Connection, obj: Handle, event: Event) -> None:
            name = getattr(obj, "name", "")
            if event.event_id == 1:
                self.events.append(["refresh", name])
            else:
                self.events.append([kind, name, int(event.args[0]), int(event.args[1])])

        return record

    def _attach(self, conn: Connection) -> None:
        self.conn = conn
        conn.network_event_register_any(0, self._on_event("net"))
        conn.storage_pool_event_register_any(0, self._on_event("pool"))
        conn.storage_pool_event_register_any(1, self._on_event("pool"))
        conn.node_device_event_register_any(0, self._on_event("dev"))

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.handles.clear()

    def _call(self, kind: str, key: str, op: str, args: list[Any]) -> Any:
        if kind == "conn" and op == "open":
            self._close()
            self._attach(virtcore.open(args[0], registry=self.registry))
            return None
        if kind == "conn":
            return CONN_OPS[op](self.conn, *args)
        if (kind, key) not in self.handles:
            self.handles[kind, key] = self._lookup(kind, key)
        return TABLES[kind][op](self.handles[kind, key], *args)

    def _lookup(self, kind: str, key: str) -> Handle:
        """An object no operation returned yet, found by name."""
        c = self.conn
        assert c is not None
        if kind == "vol":
            pool, _, vol = key.partition("/")
            return c.storage_pool_lookup_by_name(pool).vol_lookup_by_name(vol)
        lookups: dict[str, Callable[[str], Handle]] = {
            "net": c.network_lookup_by_name,
            "pool": c.storage_pool_lookup_by_name,
            "iface": c.interface_lookup_by_name,
            "dev": c.node_device_lookup_by_name,
        }
        return lookups[kind](key)

    def run(self, ops: list[Op]) -> list[Any]:
        """Results and events of each operation, like the libvirt runner's."""
        out: list[Any] = []
        if not ops or ops[0][2] != "open":
            self._attach(virtcore.open("test:///default", registry=self.registry))
        try:
            for kind, key, op, *args in ops:
                try:
                    value = self._call(kind, key, op, args)
                    where = _handle_key(value)
                    if where is not None:
                        self.handles[where] = value
                    result = ["ok", _norm(value)]
                except VirtError as err:
                    result = ["err", int(err.code), int(err.domain), err.message]
                assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
                out.append({"result": result, "events": self.events[:]})
                self.events.clear()
        finally:
            self._close()
        return out


def libvirt_results(all_scenarios: dict[str, list[Op]], runner: Path) -> dict[str, list[Any]]:
    """Every scenario run through python3-libvirt; fails (or skips, if allowed) without it."""
    results: dict[str, list[Any]] = run_oracle(runner, all_scenarios)
    return results


# -- tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the configuration file and the libvirt runner script live."""
    return tmp_path_factory.mktemp("secondary-differential")


@pytest.fixture(scope="module")
def all_scenarios(workdir: Path) -> dict[str, list[Op]]:
    """Every scenario as operation lists."""
    refs = references(workdir)
    refs.update(EXTRA_REFS)
    return {name: parse_ops(text, refs) for name, text in SCENARIOS.items()}


@pytest.fixture(scope="module")
def reference(all_scenarios: dict[str, list[Op]], workdir: Path) -> dict[str, list[Any]]:
    """libvirt's results for every scenario (one subprocess for all)."""
    runner = workdir / "secondary_runner.py"
    runner.write_text(LIBVIRT_RUNNER)
    return libvirt_results(all_scenarios, runner)


def test_there_are_at_least_fifty_scenarios() -> None:
    assert len(SCENARIOS) >= 50


@pytest.mark.usefixtures("fresh_default_host")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_libvirt(
    name: str,
    all_scenarios: dict[str, list[Op]],
    reference: dict[str, list[Any]],
    testdrv_registry: Registry,
) -> None:
    ops = all_scenarios[name]
    got = VirtcoreRunner(testdrv_registry).run(ops)
    expected = reference[name]
    assert len(got) == len(expected)
    for index, (op, mine, theirs) in enumerate(zip(ops, got, expected, strict=True)):
        assert mine == theirs, f"operation {index} {op[:3]} differs:\n" + explain_difference(
            mine, theirs, with_events=True
        )
