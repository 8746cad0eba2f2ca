"""Runs the domain-call differential scenarios on python3-libvirt; executed by /usr/bin/python3.

Reads ``{"plain": {kind: {op: [libvirt_python_method, native_method]}}, "scenarios":
{name: [operation, ...]}}`` as JSON on stdin and writes ``{name: [{"result": ...,
"events": [...]}, ...]}`` on stdout. The operations and the normalisation of their
results are those of tests/test_testdriver_domain_differential.py, which runs the
same scenarios on virtcore; "plain" operations call the named libvirt-python method
with the operation's arguments. Builds on libvirt_runner.py (connections, event loop,
lifecycle events) and adds snapshot and checkpoint handles and the metadata-change
and device events.
"""

import gc
import json
import re
import sys

import libvirt
import libvirt_runner as base

MASK = re.compile(r"<creationTime>[0-9]+</creationTime>")
VOID = {
    "delete", "revert", "set_meta", "rename", "set_mem", "set_mem_live", "set_max", "set_vcpus",
    "set_vcpus_live", "pin_vcpu", "pin_emu", "io_add", "io_del", "io_pin", "io_params",
    "set_sched", "set_perf", "lifecycle", "fstrim", "set_time", "nmi", "send_key", "core_dump",
    "core_fmt", "signal", "password", "stats_period", "img_define", "set_mem_params", "set_numa",
    "set_blkio", "set_if", "set_iotune",
} | base.VOID  # fmt: skip


def mask(text):
    return MASK.sub("<creationTime>T</creationTime>", text)


def ratios(values):
    return [round(values[0] / v) if v else None for v in values[1:]]


def norm(value):
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, libvirt.virDomainSnapshot):
        return {"snap": value.getName()}
    if isinstance(value, libvirt.virDomainCheckpoint):
        return {"chk": value.getName()}
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [norm(v) for v in value]
    return base.norm(value)


def names(items, topo=False):
    out = [i.getName() for i in items]
    return out if topo else sorted(out)


def stats(records):
    return sorted([r[0].name(), r[1]] for r in records)


def addresses(found):
    return sorted(
        [k, v["hwaddr"], [[a["type"], a["addr"], a["prefix"]] for a in v["addrs"]]]
        for k, v in found.items()
    )


def screenshot(conn, name, screen, flags):
    stream = conn.newStream(0)
    mime = conn.lookupByName(name).screenshot(stream, screen, flags)
    data = b""
    while chunk := stream.recv(262144):
        data += chunk
    stream.finish()
    return [mime, data[:8].hex(), len(data) > 1000]


CONN = {
    "define": lambda c, x, f: c.defineXMLFlags(x, f),
    "create_xml": lambda c, x, f: c.createXML(x, f),
    "lookup": lambda c, n: c.lookupByName(n),
    "list_all": lambda c, f: sorted(d.name() for d in c.listAllDomains(f)),
    "all_stats": lambda c, s, f: stats(c.getAllDomainStats(s, f)),
    "list_stats": lambda c, n, s, f: stats(
        c.domainListGetStats([c.lookupByName(x) for x in n], s, f)
    ),
    "cpu_map": lambda c, f: c.getCPUMap(f),
    "screenshot": screenshot,
    "img_xml": lambda c, p, f: c.saveImageGetXMLDesc(p, f),
    "img_define": lambda c, p, x, f: c.saveImageDefineXML(p, x, f),
}
DOM = {
    "info": lambda d: d.info()[:4],
    "id": lambda d: d.ID(),
    "xml": lambda d, f: mask(d.XMLDesc(f)),
    "snap_names": lambda d, f: sorted(d.snapshotListNames(f)),
    "snap_list": lambda d, f: names(d.listAllSnapshots(f)),
    "snap_topo": lambda d, f: names(d.listAllSnapshots(f), True),
    "chk_list": lambda d, f: names(d.listAllCheckpoints(f)),
    "chk_topo": lambda d, f: names(d.listAllCheckpoints(f), True),
    "set_mem_live": lambda d, m: d.setMemory(m),
    "set_vcpus_live": lambda d, n: d.setVcpus(n),
    "vcpus": lambda d: [[[i[0], i[1], i[3]] for i in d.vcpus()[0]], d.vcpus()[1]],
    "pin_info": lambda d, f: d.vcpuPinInfo(f),
    "pin_vcpu": lambda d, v, m, f: d.pinVcpuFlags(v, tuple(m), f),
    "emu_info": lambda d, f: d.emulatorPinInfo(f),
    "pin_emu": lambda d, m, f: d.pinEmulator(tuple(m), f),
    "io_info": lambda d, f: d.ioThreadInfo(f),
    "io_pin": lambda d, i, m, f: d.pinIOThread(i, tuple(m), f),
    "perf": lambda d, f: sorted(k for k, v in d.perfEvents(f).items() if v),
    "block_stats": lambda d, p: ratios(d.blockStats(p)),
    "iface_stats": lambda d, p: ratios(d.interfaceStats(p)),
    "ifaddr": lambda d, s, f: addresses(d.interfaceAddresses(s, f)),
    "get_time": lambda d, f: [d.getTime(f)["seconds"], d.getTime(f)["nseconds"]],
    "set_time": lambda d, s, n, f: d.setTime({"seconds": s, "nseconds": n}, f),
    "send_key": lambda d, c, h, k, f: d.sendKey(c, h, k, len(k), f),
}
MOMENT = {
    "xml": lambda s, f: mask(s.getXMLDesc(f)),
    "children": lambda s, f: names(s.listAllChildren(f)),
    "children_topo": lambda s, f: names(s.listAllChildren(f), True),
    "children_names": lambda s, f: sorted(s.listChildrenNames(f)),
    "revert": lambda s, f: s.getDomain().revertToSnapshot(s, f),
}
TABLES = {"dom": DOM, "snap": MOMENT, "chk": MOMENT}


class Runner(base.Runner):
    """One scenario, with snapshot and checkpoint handles and more event kinds."""

    def __init__(self, plain):
        super().__init__()
        self.plain = plain
        self.extra = []

    def attach(self, conn):
        super().attach(conn)
        self.extra = [
            conn.domainEventRegisterAny(None, 23, self.on_meta, None),
            conn.domainEventRegisterAny(None, 19, self.on_device("dev+"), None),
            conn.domainEventRegisterAny(None, 15, self.on_device("dev-"), None),
        ]

    def on_event(self, conn, dom, event, detail, opaque):
        self.events.append(["life", dom.name(), event, detail])

    def on_meta(self, conn, dom, mtype, nsuri, opaque):
        self.events.append(["meta", dom.name(), mtype, nsuri])

    def on_device(self, tag):
        return lambda conn, dom, alias, opaque: self.events.append([tag, dom.name(), alias])

    def close(self):
        if self.conn is not None:
            for callback in self.extra:
                self.conn.domainEventDeregisterAny(callback)
        super().close()

    def call(self, kind, key, op, args):
        if kind == "conn" and op not in ("open", "open_auth"):
            return CONN[op](self.conn, *args)
        if kind == "conn":
            return super().call(kind, key, op, args)
        if kind == "dom" and ("dom", key) not in self.handles:
            self.handles["dom", key] = self.conn.lookupByName(key)
        if (kind, key) not in self.handles:
            raise LookupError(key)
        handle = self.handles[kind, key]
        if op in self.plain.get(kind, {}):
            return getattr(handle, self.plain[kind][op][0])(*args)
        return TABLES[kind][op](handle, *args)

    def run(self, ops):
        out = []
        if not ops or ops[0][2] not in ("open", "open_auth"):
            self.attach(libvirt.open("test:///default"))
        for kind, key, op, *args in ops:
            try:
                value = self.call(kind, key, op, args)
                if isinstance(value, libvirt.virDomainSnapshot | libvirt.virDomainCheckpoint):
                    tag = "snap" if isinstance(value, libvirt.virDomainSnapshot) else "chk"
                    self.handles[tag, value.getDomain().name() + "/" + value.getName()] = value
                elif isinstance(value, libvirt.virDomain):
                    self.handles["dom", value.name()] = value
                result = ["ok", None if value == 0 and op in VOID else norm(value)]
            except libvirt.libvirtError as err:
                result = ["err", err.get_error_code(), err.get_error_domain(), str(err)]
            except LookupError:
                result = ["nohandle"]
            for _ in range(2):
                libvirt.virEventRunDefaultImpl()
            out.append({"result": result, "events": self.events[:]})
            self.events.clear()
        self.close()
        gc.collect()
        return out


def main():
    request = json.load(sys.stdin)
    plain = request["plain"]
    results = {name: Runner(plain).run(ops) for name, ops in request["scenarios"].items()}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
