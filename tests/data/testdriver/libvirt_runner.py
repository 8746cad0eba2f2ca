"""Runs differential-test scenarios on python3-libvirt; executed by /usr/bin/python3.

Reads ``{scenario: [operation, ...]}`` as JSON on stdin and writes
``{scenario: [{"result": ..., "events": [...]}, ...]}`` as JSON on stdout. The
operations are those of tests/test_testdriver_differential.py, which runs the
same scenarios on virtcore. A scenario that does not start by opening a
connection runs on ``test:///default``; libvirt discards the default host when
the scenario's only connection closes, so every scenario starts afresh.

Events are delivered by libvirt's default event loop, run in this thread:
after each operation the loop is turned twice (a 1 ms timer keeps each turn
short), which dispatches everything the operation queued.
"""

import gc
import json
import sys

import libvirt

libvirt.registerErrorHandler(lambda *args: None, None)
libvirt.virEventRegisterDefaultImpl()
libvirt.virEventAddTimeout(1, lambda *args: None, None)


def norm(value):
    """JSON-able form of a return value, as the virtcore side normalises it."""
    if isinstance(value, libvirt.virDomain):
        return {"name": value.name(), "id": value.ID()}
    if isinstance(value, libvirt.virNetwork | libvirt.virStoragePool):
        return {"name": value.name(), "uuid": value.UUIDString()}
    if isinstance(value, libvirt.virInterface | libvirt.virNodeDevice | libvirt.virStorageVol):
        return {"name": value.name()}
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        return [norm(item) for item in value]
    return value


def names(objs):
    return sorted(obj.name() for obj in objs)


CONN_OPS = {
    "type": lambda c: c.getType(),
    "version": lambda c: c.getVersion(),
    "hostname": lambda c: c.getHostname(),
    "maxvcpus": lambda c: c.getMaxVcpus(None),
    "nodeinfo": lambda c: c.getInfo(),
    "secure": lambda c: c.isSecure(),
    "encrypted": lambda c: c.isEncrypted(),
    "alive": lambda c: c.isAlive(),
    "uri": lambda c: c.getURI(),
    "caps": lambda c: c.getCapabilities(),
    "sysinfo": lambda c, f: c.getSysinfo(f),
    "define": lambda c, x, f: c.defineXMLFlags(x, f),
    "create_xml": lambda c, x, f: c.createXML(x, f),
    "lookup": lambda c, n: c.lookupByName(n),
    "lookup_id": lambda c, i: c.lookupByID(i),
    "lookup_uuid": lambda c, u: c.lookupByUUIDString(u),
    "list_all": lambda c, f: names(c.listAllDomains(f)),
    "list_ids": lambda c: sorted(c.listDomainsID()),
    "list_defined": lambda c: sorted(c.listDefinedDomains()),
    "num_active": lambda c: c.numOfDomains(),
    "num_defined": lambda c: c.numOfDefinedDomains(),
    "restore": lambda c, p, x, f: c.restoreFlags(p, x, f),
    "nets": lambda c, f: names(c.listAllNetworks(f)),
    "pools": lambda c, f: names(c.listAllStoragePools(f)),
    "ifaces": lambda c, f: names(c.listAllInterfaces(f)),
    "nodedevs": lambda c, f: names(c.listAllDevices(f)),
    "net": lambda c, n: c.networkLookupByName(n),
    "pool": lambda c, n: c.storagePoolLookupByName(n),
    "iface": lambda c, n: c.interfaceLookupByName(n),
    "nodedev": lambda c, n: c.nodeDeviceLookupByName(n),
    "secret": lambda c, u: c.secretLookupByUUIDString(u),
    "nwfilter": lambda c, n: c.nwfilterLookupByName(n),
}
DOM_OPS = {
    "state": lambda d, *f: d.state(*f),
    "info": lambda d: d.info()[:4],
    "is_active": lambda d: d.isActive(),
    "is_persistent": lambda d: d.isPersistent(),
    "os_type": lambda d: d.OSType(),
    "max_memory": lambda d: d.maxMemory(),
    "get_autostart": lambda d: d.autostart(),
    "set_autostart": lambda d, v: d.setAutostart(v),
    "uuid": lambda d: d.UUIDString(),
    "xml": lambda d, f: d.XMLDesc(f),
    "create": lambda d, f: d.createWithFlags(f),
    "destroy": lambda d, f: d.destroyFlags(f),
    "shutdown": lambda d, f: d.shutdownFlags(f),
    "reboot": lambda d, f: d.reboot(f),
    "reset": lambda d, f: d.reset(f),
    "suspend": lambda d: d.suspend(),
    "resume": lambda d: d.resume(),
    "undefine": lambda d, f: d.undefineFlags(f),
    "save": lambda d, p, x, f: d.saveFlags(p, x, f),
    "managed_save": lambda d, f: d.managedSave(f),
    "has_ms": lambda d, f: d.hasManagedSaveImage(f),
    "ms_remove": lambda d, f: d.managedSaveRemove(f),
}
TABLES = {
    "dom": DOM_OPS,
    "net": {
        "xml": lambda n, f: n.XMLDesc(f),
        "active": lambda n: n.isActive(),
        "persistent": lambda n: n.isPersistent(),
        "autostart": lambda n: n.autostart(),
        "bridge": lambda n: n.bridgeName(),
        "uuid": lambda n: n.UUIDString(),
    },
    "pool": {
        "xml": lambda p, f: p.XMLDesc(f),
        "info": lambda p: p.info(),
        "active": lambda p: p.isActive(),
        "persistent": lambda p: p.isPersistent(),
        "autostart": lambda p: p.autostart(),
        "vols": lambda p: names(p.listAllVolumes(0)),
        "uuid": lambda p: p.UUIDString(),
        "vol": lambda p, n: p.storageVolLookupByName(n),
    },
    "vol": {
        "xml": lambda v, f: v.XMLDesc(f),
        "info": lambda v: v.info(),
        "path": lambda v: v.path(),
        "key": lambda v: v.key(),
    },
    "iface": {
        "xml": lambda i, f: i.XMLDesc(f),
        "active": lambda i: i.isActive(),
        "mac": lambda i: i.MACString(),
    },
    "dev": {
        "xml": lambda d, f: d.XMLDesc(f),
        "parent": lambda d: d.parent(),
        "caps": lambda d: d.listCaps(),
    },
}
# libvirt-python returns 0 where virtcore returns None.
VOID = {
    "create", "destroy", "shutdown", "reboot", "reset", "suspend", "resume", "undefine",
    "save", "managed_save", "ms_remove", "set_autostart", "restore",
}  # fmt: skip


def handle_key(value):
    """Where a returned object is kept for later operations, or None."""
    if isinstance(value, libvirt.virDomain):
        return ("dom", value.name())
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
    """One scenario: one connection at a time, the handles it returned, its events."""

    def __init__(self):
        self.conn = None
        self.callback = None
        self.handles = {}
        self.events = []

    def on_event(self, conn, dom, event, detail, opaque):
        self.events.append([dom.name(), event, detail])

    def attach(self, conn):
        self.conn = conn
        self.callback = conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self.on_event, None
        )

    def close(self):
        if self.conn is not None:
            self.conn.domainEventDeregisterAny(self.callback)
            self.conn.close()
        self.conn = self.callback = None
        self.handles.clear()

    def open_auth(self, uri, user, password):
        answers = {libvirt.VIR_CRED_AUTHNAME: user, libvirt.VIR_CRED_PASSPHRASE: password}

        def callback(creds, opaque):
            for cred in creds:
                cred[4] = answers[cred[0]]
            return 0

        creds = [libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE]
        return libvirt.openAuth(uri, [creds, callback, None], 0)

    def call(self, kind, key, op, args):
        if kind == "conn" and op in ("open", "open_auth"):
            self.close()
            conn = libvirt.open(args[0]) if op == "open" else self.open_auth(*args)
            self.attach(conn)
            return None
        if kind == "conn":
            return CONN_OPS[op](self.conn, *args)
        if kind == "dom" and ("dom", key) not in self.handles:
            self.handles["dom", key] = self.conn.lookupByName(key)
        return TABLES[kind][op](self.handles[kind, key], *args)

    def run(self, ops):
        out = []
        if not ops or ops[0][2] not in ("open", "open_auth"):
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
        # Drop the last handles now, so that libvirt releases the default host.
        gc.collect()
        return out


def main():
    scenarios = json.load(sys.stdin)
    json.dump({name: Runner().run(ops) for name, ops in scenarios.items()}, sys.stdout)


if __name__ == "__main__":
    main()
