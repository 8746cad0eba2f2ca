"""Differential tests: the same scenarios on libvirt 9.0's test driver and on virtcore's.

Every scenario is a list of operations, run once through python3-libvirt (the
system interpreter runs ``tests/data/testdriver/libvirt_runner.py`` once for
all scenarios) and once through virtcore in this process. For each operation
both sides record the outcome - a normalised return value, or the error's
(code, domain, message) - and the lifecycle events it caused, as (domain name,
event type, detail). The two records must be identical.

Operations are written one per line: ``conn OP ARGS...`` for connection calls
and ``KIND NAME OP ARGS...`` for calls on the object ``NAME`` of ``KIND``
(``dom``, ``net``, ``pool``, ``vol`` as ``pool/volume``, ``iface``, ``dev``),
e.g. ``dom evdom create 0``. Arguments are integers, ``None``, ``""`` or words;
``$name`` stands for a document or path defined below.

Scenarios on ``test:///default`` start from a fresh default host: the single
connection a scenario opens is closed at its end, and both libvirt and
virtcore discard the default host when its last connection closes. Ids are
therefore comparable across the two runs. Hash-ordered listings are compared
sorted. Documents whose content libvirt randomises (generated UUIDs and MAC
addresses) give them explicitly.

python3-libvirt must be importable by ``/usr/bin/python3``; without it these
tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1`` is set, which skips them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import virtcore
from tests.libvirt_oracle import explain_difference, run_oracle
from virtcore.auth import Auth, Credential
from virtcore.connection import Connection
from virtcore.errors import VirtError
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Domain, Handle, Interface, Network, NodeDevice, StoragePool, StorageVol
from virtcore.registry import Registry

LIBVIRT_PYTHON = "/usr/bin/python3"
ALLOW_ENV = "VIRTCORE_ALLOW_NO_LIBVIRT"
SAFETY_TIMEOUT = 10.0
DATA = Path(__file__).parent / "data" / "testdriver"
RUNNER = DATA / "libvirt_runner.py"

Op = list[Any]

# -- documents ------------------------------------------------------------------

U = "11111111-2222-3333-4444-5555555555"


def dom_xml(name: str, uuid_tail: str, extra: str = "", memory: int = 1024) -> str:
    """A small test domain with a fixed UUID (``U`` + *uuid_tail*)."""
    return (
        f"<domain type='test'><name>{name}</name><uuid>{U}{uuid_tail}</uuid>"
        f"<memory>{memory}</memory><os><type>hvm</type></os>{extra}</domain>"
    )


EVDOM = dom_xml("evdom", "01")
EVDOM_BIG = dom_xml("evdom", "01", memory=4096)
RESTARTER = dom_xml(
    "restarter", "02", "<on_poweroff>restart</on_poweroff><on_reboot>destroy</on_reboot>"
)
HVM = "<os><type>hvm</type></os>"


def broken(body: str, head: str = "<domain type='test'><name>e</name>") -> str:
    """A domain document with *body* after the name (``HVM`` is the usual OS part)."""
    return f"{head}{body}</domain>"


def broken_devices(devices: str) -> str:
    return broken(f"<memory>1</memory>{HVM}<devices>{devices}</devices>")


BAD_DOCS = [
    '<domain type="test"><name>bad</name',
    "<domain type='test'>\n<name>bad</name>\n<memory>1\n</domain>",
    "",
    "<network><name>n</name></network>",
    broken(f"<memory>1024</memory>{HVM}", "<domain type='test'>"),
    broken(f"<memory>1024</memory>{HVM}", "<domain type='test'><name></name>"),
    broken(f"<memory>1024</memory>{HVM}", "<domain><name>e</name>"),
    broken(f"<memory>1024</memory>{HVM}", "<domain type='foo'><name>e</name>"),
    broken("<memory>1024</memory>"),
    broken(HVM),
    broken(f"<memory>abc</memory>{HVM}"),
    broken(f"<memory unit='xyz'>1</memory>{HVM}"),
    broken(f"<uuid>zzz</uuid><memory>1</memory>{HVM}"),
    broken("<memory>1</memory><os><type>foo</type></os>"),
    broken("<memory>1</memory><os><type arch='foo'>hvm</type></os>"),
    broken(f"<memory>1</memory>{HVM}", "<domain type='test'><name>a/b</name>"),
    broken(f"<memory>1</memory>{HVM}", "<domain type='test'><name>a\nb</name>"),
    broken(f"<title>a\nb</title><memory>1</memory>{HVM}"),
    broken(f"<memory>1</memory><vcpu>abc</vcpu>{HVM}"),
    broken(f"<memory>1</memory><vcpu current='3'>2</vcpu>{HVM}"),
    broken(f"<memory>1</memory>{HVM}<on_poweroff>zz</on_poweroff>"),
    broken(f"<memory>1</memory>{HVM}<clock offset='zz'/>"),
    broken(f"<memory>1</memory>{HVM}<features><foo/></features>"),
    broken("<memory>1</memory><os><type>hvm</type><boot dev='zz'/></os>"),
    broken_devices("<disk type='file'><source file='/x'/></disk>"),
    broken_devices("<disk><target dev='hdb'/></disk>"),
    broken_devices("<interface type='network'><source network='default'/>"
                   "<mac address='01:00:00:00:00:01'/></interface>"),
    broken_devices("<interface type='network'><mac address='zz'/></interface>"),
    broken_devices("<interface type='network'><mac address='zz'/><source network='n'/>"
                   "</interface>"),
    broken_devices("<disk><source file='/f'/><target dev='zzz' bus='scsi'/></disk>"),
    broken_devices("<disk device='floppy'><source file='/f'/><target dev='hdb'/></disk>"),
    broken_devices("<disk><source file='/f'/><target dev='fdb'/></disk>"),
]  # fmt: skip


# -- the operation language -----------------------------------------------------------

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


def parse_ops(text: str, refs: dict[str, Any]) -> list[Op]:
    """Operations from the one-per-line notation described in the module docstring."""
    ops: list[Op] = []
    for line in text.strip().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "conn":
            kind, name, op, args = "conn", "", words[1], words[2:]
        else:
            kind, name, op, args = words[0], words[1], words[2], words[3:]
        ops.append([kind, name, op, *(_arg(w, refs) for w in args)])
    return ops


def each(template: str, values: str | Sequence[object]) -> str:
    """One line of *template* per value; ``{}`` is the value. A string lists values by ``,``."""
    items = [v.strip() for v in values.split(",")] if isinstance(values, str) else values
    return "\n".join(template.replace("{}", str(v)) for v in items)


# -- scenarios ------------------------------------------------------------------------

LIST_FLAGS = [*(1 << bit for bit in range(17)), 0, 1 | 4, 2 | 4, 16 | 32]
INACTIVE_CALLS = (
    "destroy 0, destroy 1, destroy 2, reboot 0, reset 0, shutdown 0, shutdown 1, suspend, "
    "resume, save $save None 0, managed_save 0, ms_remove 0, has_ms 0, info"
)
FLAG_CALLS = (
    "reboot 1, reboot 16, reboot 64, reset 0, reset 1, shutdown 2, destroy 2, undefine 4, "
    "undefine 8, undefine 16, managed_save 8, ms_remove 1, save $save None 1, save $save <x/> 0"
)
# Domain documents in tests/data/testdriver/domains, by the name they define.
DOCUMENTS = ["devs", "rich", "kern", "xenguest", "bootorder", "disks", "nics"]
CONFIG_ERRORS = ["missing", "malformed", "badroot", "badcpu", "badref", "transoff", "noname",
                 "dir", "empty"]  # fmt: skip


def lifecycle_of(name: str, *calls: str) -> str:
    """Each call on domain *name*, then its state."""
    return "\n".join(f"dom {name} {call}\ndom {name} state" for call in calls)


SCENARIOS: dict[str, str] = {
    "connection_basics": each("conn {}", "type, version, hostname, maxvcpus, nodeinfo, secure, "
                              "encrypted, alive, uri"),
    "capabilities_and_sysinfo": "conn caps\nconn sysinfo 0\nconn sysinfo 1",
    "default_domain": "conn lookup test\n" + each("dom test {}", "state, info, is_active, "
    "is_persistent, os_type, max_memory, get_autostart, uuid") + "\n"
    + each("dom test xml {}", [0, 2, 1, 8, 4, 1024])
    + "\ndom test has_ms 0\ndom test has_ms 1\ndom test state 1",
    "default_listings": "conn list_ids\nconn list_defined\nconn num_active\nconn num_defined\n"
    "conn list_all 0",
    "list_all_filters": """
        conn define $EVDOM 0
        conn define $RESTARTER 0
        dom restarter create 0
        dom restarter suspend
        conn create_xml $TRANS 0
        conn define $doc_kern 0
        dom kern create 0
        dom kern managed_save 0
        dom evdom set_autostart 1
    """ + each("conn list_all {}", LIST_FLAGS)
    + "\nconn list_ids\nconn list_defined\nconn num_active\nconn num_defined",
    "lookup_errors": """
        conn lookup nosuch
        conn lookup ""
        """ + each("conn lookup_id {}", [99, 1, -1, 0]) + "\n" + each("conn lookup_uuid {}", [
        "00000000-0000-0000-0000-000000000000", "6695EB01F6A4830479AA97F2502E193F",
        "6695eb01-f6a4-8304-79aa-97f2502e193f", "zzz"]),
    "appendix_c_lifecycle": "conn define $EVDOM 0\n"
    + lifecycle_of("evdom", "create 0", "suspend", "resume", "reboot 0", "shutdown 0",
                   "create 0", "save $save None 0")
    + "\nconn restore $save None 0\nconn lookup evdom\ndom evdom state\n"
    + lifecycle_of("evdom", "managed_save 0", "has_ms 0", "create 0", "destroy 0",
                   "set_autostart 1", "get_autostart", "undefine 0")
    + "\nconn lookup evdom",
    "transient_lifecycle": """
        conn create_xml $EVDOM 0
        dom evdom state
        dom evdom is_persistent
        dom evdom set_autostart 1
        dom evdom get_autostart
        dom evdom managed_save 0
        dom evdom destroy 0
        conn lookup evdom
        conn create_xml $EVDOM 1
        conn create_xml $EVDOM 16
        conn create_xml $EVDOM 0
        conn create_xml $EVDOM 0
        dom evdom shutdown 0
        conn lookup evdom
    """,
    "undefine_running_domain": """
        conn define $EVDOM 0
        dom evdom create 0
        dom evdom undefine 0
        dom evdom state
        dom evdom is_persistent
        conn list_defined
        dom evdom destroy 0
        conn lookup evdom
    """,
    "undefine_transient_running_domain": """
        conn create_xml $EVDOM 0
        dom evdom undefine 0
        dom evdom state
        dom evdom destroy 0
    """,
    "redefine_updates_persistent_definition": """
        conn define $EVDOM 0
        conn define $EVDOM_BIG 0
        dom evdom xml 0
        dom evdom create 0
        conn define $EVDOM 0
        dom evdom xml 0
        dom evdom xml 2
        dom evdom info
        dom evdom destroy 0
        dom evdom xml 0
    """,
    "define_over_transient_makes_it_persistent": """
        conn create_xml $EVDOM 0
        conn define $EVDOM_BIG 0
        dom evdom is_persistent
        dom evdom xml 2
        dom evdom destroy 0
        dom evdom state
        dom evdom xml 0
    """,
    "create_xml_over_defined_domain": """
        conn define $EVDOM 0
        conn create_xml $EVDOM_BIG 0
        dom evdom is_persistent
        dom evdom info
        dom evdom xml 2
        dom evdom destroy 0
        dom evdom info
        conn create_xml $EVDOM_NO_UUID 0
    """,
    "define_name_and_uuid_clashes": """
        conn define $TEST_NEW_UUID 0
        conn define $EVDOM_TEST_UUID 0
        conn define $EVDOM 2
        conn define $EVDOM 1
        dom evdom undefine 0
    """,
    "define_xml_errors": each("conn define $bad{} 0", range(len(BAD_DOCS))),
    "create_xml_errors": each("conn create_xml $bad{} 0", range(6)),
    "domain_documents": "\n".join(
        f"conn define $doc_{name} 0\ndom {name} xml 0\ndom {name} create 0\ndom {name} xml 0\n"
        f"dom {name} xml 2\ndom {name} info"
        for name in DOCUMENTS
    ),
    "start_errors": """
        dom test create 0
        dom test create 1
        conn define $EVDOM 0
        dom evdom create 1
        dom evdom create 2
    """,
    "operations_on_inactive_domain": "conn define $EVDOM 0\n"
    + each("dom evdom {}", INACTIVE_CALLS),
    "suspend_resume_rules": each("dom test {}", [
        "resume", "suspend", "suspend", "state", "reboot 0", "state", "suspend", "shutdown 0",
        "state", "info"]),
    "lifecycle_actions": """
        conn define $RESTARTER 0
        dom restarter create 0
        dom restarter shutdown 0
        dom restarter state
        conn lookup restarter
        dom restarter reboot 0
        dom restarter state
        conn lookup restarter
    """,
    "flag_checks": each("dom test {}", FLAG_CALLS)
    + "\nconn restore $save None 1\nconn restore $save <x/> 0",
    "save_and_restore": """
        conn define $EVDOM 0
        dom evdom create 0
        dom evdom save $nosuchdir None 0
        dom evdom save $save None 0
        dom evdom state
        conn restore $save None 0
        conn lookup evdom
        dom evdom state
        conn restore $save None 0
        dom evdom destroy 0
        dom evdom xml 0
        conn restore $missing None 0
        conn restore $junk None 0
    """,
    "save_and_restore_transient": """
        conn create_xml $EVDOM 0
        dom evdom save $save None 0
        conn lookup evdom
        conn restore $save None 0
        conn lookup evdom
        dom evdom is_persistent
        dom evdom state
    """,
    "managed_save_flow": "conn define $EVDOM 0\n" + each("dom evdom {}", [
        "create 0", "managed_save 7", "has_ms 0"]) + "\nconn list_all 256\nconn list_all 512\n"
    + each("dom evdom {}", ["undefine 0", "create 0", "state", "has_ms 0", "managed_save 0",
                            "ms_remove 0", "has_ms 0", "create 0", "managed_save 0",
                            "undefine 1"]) + "\nconn lookup evdom",
    "autostart": """
        dom test get_autostart
        dom test set_autostart 1
        dom test get_autostart
        conn list_all 1024
        conn list_all 2048
        dom test set_autostart 0
        dom test get_autostart
    """,
    "stale_handles": "conn define $EVDOM 0\n" + each("dom evdom {}", [
        "undefine 0", "state", "info", "create 0", "is_active", "xml 0", "undefine 0"]),
    "ids_increase_with_every_start": """
        conn define $DOM_A 0
        conn define $DOM_B 0
        dom b create 0
        dom a create 0
        conn list_ids
        conn lookup a
        conn lookup b
        dom a destroy 0
        dom a create 0
        conn lookup a
        conn lookup_id 3
        conn lookup_id 4
        conn create_xml $DOM_C 0
        conn list_ids
    """,
    "networks": each("conn nets {}", [0, 1, 2, 64]) + "\nconn net default\n"
    + each("net default {}", ["active", "persistent", "autostart", "bridge", "uuid", "xml 0",
                              "xml 1"]) + "\nconn net nosuch",
    "storage_pools": each("conn pools {}", [0, 64, 128, 1 << 20]) + "\nconn pool default-pool\n"
    + each("pool default-pool {}", ["info", "active", "persistent", "autostart", "vols", "uuid",
                                    "xml 0", "xml 1", "vol nosuch"]) + "\nconn pool nosuch",
    "host_interfaces": each("conn ifaces {}", [0, 1, 2, 4]) + "\nconn iface eth1\n"
    + each("iface eth1 {}", ["xml 0", "xml 1", "active", "mac"]) + "\nconn iface nosuch",
    "node_devices": each("conn nodedevs {}", [0, 1, 1 << 5, 1 << 9, 1 << 10, 2, 1 << 22, 1 << 31])
    + "\n" + "\n".join(f"conn nodedev {d}\ndev {d} xml 0\ndev {d} parent\ndev {d} caps"
                       for d in ("computer", "scsi_host1", "scsi_host2", "scsi_host11"))
    + "\ndev computer xml 1\nconn nodedev nosuch",
    "config_file_host": "conn open $node\n" + each("conn {}", [
        "nodeinfo", "caps", "list_ids", "list_defined", "num_active", "uri", "list_all 0",
        "list_all 8", "list_all 256"]) + "\n" + "\n".join(
        f"conn lookup {d}\n" + each(f"dom {d} {{}}", ["state", "is_persistent", "has_ms 0",
                                                      "xml 0", "info"])
        for d in ("fromfile", "paused1", "off1", "trans1")
    ) + "\ndom paused1 resume\ndom off1 create 0\ndom off1 undefine 0\ndom trans1 destroy 0",
    "config_file_secondary_objects": "conn open $node\n"
    + each("conn {} 0", ["nets", "pools", "ifaces", "nodedevs"]) + "\n"
    + "\n".join(f"conn net {n}\nnet {n} xml 0\nnet {n} bridge" for n in ("net1", "net2", "net3"))
    + "\n" + "\n".join(f"conn pool {n}\npool {n} xml 0\npool {n} info\npool {n} vols"
                       for n in ("pool1", "lv"))
    + "\n" + "\n".join(f"pool pool1 vol {v}\n" + each(f"vol pool1/{v} {{}}",
                                                      ["xml 0", "info", "path", "key"])
                       for v in ("v1.img", "v2.img"))
    + "\n" + "\n".join(f"conn iface {n}\niface {n} xml 0" for n in ("eth2", "br0", "eth0.42",
                                                                      "bond0"))
    + "\n" + "\n".join(f"conn nodedev {n}\ndev {n} xml 0\ndev {n} caps\ndev {n} parent"
                       for n in ("computer", "pci_0000_00_02_0")),
    "config_file_errors": each("conn open $uri_{}", CONFIG_ERRORS)
    + "\nconn open test:///\nconn open test://\nconn open test:///defaultx\n"
    "conn open test:///default\nconn uri",
    "config_file_authentication": """
        conn open_auth $uri_auth alice pw
        conn open_auth $uri_auth alice wrong
        conn open_auth $uri_auth mallory pw
        conn open_auth $uri_auth bob ""
        conn open $uri_auth
    """,
}  # fmt: skip


def references(root: Path) -> dict[str, Any]:
    """Documents and paths scenarios refer to as ``$name``; copies the config files to *root*."""
    for src in (DATA / "config").iterdir():
        shutil.copy(src, root / src.name)
    refs: dict[str, Any] = {
        name: value
        for name, value in globals().items()
        if name.isupper() and isinstance(value, str)
    }
    refs.update({f"bad{i}": doc for i, doc in enumerate(BAD_DOCS)})
    refs.update({f"doc_{n}": (DATA / "domains" / f"{n}.xml").read_text() for n in DOCUMENTS})
    refs.update(
        TRANS=dom_xml("trans", "08"),
        DOM_A=dom_xml("a", "10"),
        DOM_B=dom_xml("b", "11"),
        DOM_C=dom_xml("c", "12"),
        EVDOM_NO_UUID=EVDOM.replace(f"<uuid>{U}01</uuid>", ""),
        TEST_NEW_UUID=dom_xml("test", "09"),
        EVDOM_TEST_UUID=EVDOM.replace(f"{U}01", "6695eb01-f6a4-8304-79aa-97f2502e193f"),
        save=str(root / "dom.save"),
        nosuchdir=str(root / "nosuchdir" / "x"),
        missing=str(root / "missing.img"),
        junk=str(root / "junk.img"),
        node=f"test://{root}/node.xml",
        uri_auth=f"test://{root}/auth.xml",
        uri_dir=f"test://{root}",
        uri_missing=f"test://{root}/missing.xml",
    )
    for name in CONFIG_ERRORS:
        refs.setdefault(f"uri_{name}", f"test://{root}/{name}.xml")
    return refs


# -- the libvirt side -----------------------------------------------------------------


def libvirt_results(all_scenarios: dict[str, list[Op]]) -> dict[str, list[Any]]:
    """Run every scenario through python3-libvirt; fail (or skip, if allowed) without it."""
    results: dict[str, list[Any]] = run_oracle(RUNNER, all_scenarios)
    return results


# -- the virtcore side ----------------------------------------------------------------


def _norm(value: Any) -> Any:
    if isinstance(value, Domain):
        return {"name": value.name, "id": value.id}
    if isinstance(value, Network | StoragePool):
        return {"name": value.name, "uuid": value.uuid}
    if isinstance(value, Interface | NodeDevice | StorageVol):
        return {"name": value.name}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def _names(objs: list[Any]) -> list[str]:
    return sorted(o.name for o in objs)


Fn = Callable[..., Any]
CONN_OPS: dict[str, Fn] = {
    "type": lambda c: c.get_type(), "version": lambda c: c.get_version(),
    "hostname": lambda c: c.get_hostname(), "maxvcpus": lambda c: c.get_max_vcpus(None),
    "nodeinfo": lambda c: c.get_info(), "secure": lambda c: c.is_secure(),
    "encrypted": lambda c: c.is_encrypted(), "alive": lambda c: c.is_alive(),
    "uri": lambda c: c.uri, "caps": lambda c: c.get_capabilities(),
    "sysinfo": lambda c, f: c.get_sysinfo(f),
    "define": lambda c, x, f: c.domain_define_xml(x, f),
    "create_xml": lambda c, x, f: c.domain_create_xml(x, f),
    "lookup": lambda c, n: c.domain_lookup_by_name(n),
    "lookup_id": lambda c, i: c.domain_lookup_by_id(i),
    "lookup_uuid": lambda c, u: c.domain_lookup_by_uuid(u),
    "list_all": lambda c, f: _names(c.list_all_domains(f)),
    "list_ids": lambda c: sorted(c.list_domains_ids()),
    "list_defined": lambda c: sorted(c.list_defined_domains()),
    "num_active": lambda c: c.num_of_domains(), "num_defined": lambda c: c.num_of_defined_domains(),
    "restore": lambda c, p, x, f: c.domain_restore(p, x, f),
    "nets": lambda c, f: _names(c.list_all_networks(f)),
    "pools": lambda c, f: _names(c.list_all_storage_pools(f)),
    "ifaces": lambda c, f: _names(c.list_all_interfaces(f)),
    "nodedevs": lambda c, f: _names(c.list_all_node_devices(f)),
    "net": lambda c, n: c.network_lookup_by_name(n),
    "pool": lambda c, n: c.storage_pool_lookup_by_name(n),
    "iface": lambda c, n: c.interface_lookup_by_name(n),
    "nodedev": lambda c, n: c.node_device_lookup_by_name(n),
    "secret": lambda c, u: c.secret_lookup_by_uuid(u),
    "nwfilter": lambda c, n: c.nwfilter_lookup_by_name(n),
}  # fmt: skip
TABLES: dict[str, dict[str, Fn]] = {
    "dom": {
        "state": lambda d, *f: d.state(*f), "info": lambda d: list(d.info())[:4],
        "is_active": lambda d: d.is_active(), "is_persistent": lambda d: d.is_persistent(),
        "os_type": lambda d: d.os_type(), "max_memory": lambda d: d.max_memory(),
        "get_autostart": lambda d: d.get_autostart(),
        "set_autostart": lambda d, v: d.set_autostart(v), "uuid": lambda d: d.uuid,
        "xml": lambda d, f: d.xml_desc(f), "create": lambda d, f: d.create(f),
        "destroy": lambda d, f: d.destroy(f), "shutdown": lambda d, f: d.shutdown(f),
        "reboot": lambda d, f: d.reboot(f), "reset": lambda d, f: d.reset(f),
        "suspend": lambda d: d.suspend(), "resume": lambda d: d.resume(),
        "undefine": lambda d, f: d.undefine(f), "save": lambda d, p, x, f: d.save(p, x, f),
        "managed_save": lambda d, f: d.managed_save(f),
        "has_ms": lambda d, f: d.has_managed_save_image(f),
        "ms_remove": lambda d, f: d.managed_save_remove(f),
    },
    "net": {
        "xml": lambda n, f: n.xml_desc(f), "active": lambda n: n.is_active(),
        "persistent": lambda n: n.is_persistent(), "autostart": lambda n: n.get_autostart(),
        "bridge": lambda n: n.bridge_name(), "uuid": lambda n: n.uuid,
    },
    "pool": {
        "xml": lambda p, f: p.xml_desc(f), "info": lambda p: p.info(),
        "active": lambda p: p.is_active(), "persistent": lambda p: p.is_persistent(),
        "autostart": lambda p: p.get_autostart(), "vols": lambda p: _names(p.list_all_volumes()),
        "uuid": lambda p: p.uuid, "vol": lambda p, n: p.vol_lookup_by_name(n),
    },
    "vol": {
        "xml": lambda v, f: v.xml_desc(f), "info": lambda v: v.info(),
        "path": lambda v: v.path(), "key": lambda v: v.key,
    },
    "iface": {
        "xml": lambda i, f: i.xml_desc(f), "active": lambda i: i.is_active(),
        "mac": lambda i: i.mac,
    },
    "dev": {
        "xml": lambda d, f: d.xml_desc(f), "parent": lambda d: d.parent(),
        "caps": lambda d: d.list_caps(),
    },
}  # fmt: skip


def _handle_key(value: Any) -> tuple[str, str] | None:
    if isinstance(value, StorageVol):
        return ("vol", f"{value.pool_name}/{value.name}")
    kinds = ((Domain, "dom"), (Network, "net"), (StoragePool, "pool"), (Interface, "iface"),
             (NodeDevice, "dev"))  # fmt: skip
    for cls, kind in kinds:
        if isinstance(value, cls):
            return (kind, value.name)
    return None


class VirtcoreRunner:
    """Runs scenario operations on virtcore the way libvirt_runner.py does on libvirt."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.conn: Connection | None = None
        self.events: list[list[Any]] = []
        self.handles: dict[tuple[str, str], Handle] = {}

    def _on_event(self, conn: Connection, dom: Handle, event: Event) -> None:
        assert isinstance(dom, Domain)
        self.events.append([dom.name, int(event.args[0]), int(event.args[1])])

    def _attach(self, conn: Connection) -> None:
        self.conn = conn
        conn.domain_event_register_any(0, self._on_event)

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.handles.clear()

    def _open_auth(self, uri: str, user: str, password: str) -> Connection:
        def answer(creds: list[Credential]) -> int:
            for cred in creds:
                cred.result = {2: user, 5: password}[int(cred.type)]
            return 0

        return virtcore.open_auth(uri, Auth([2, 5], answer), registry=self.registry)

    def _call(self, kind: str, key: str, op: str, args: list[Any]) -> Any:
        if kind == "conn" and op in ("open", "open_auth"):
            self._close()
            if op == "open":
                self._attach(virtcore.open(args[0], registry=self.registry))
            else:
                self._attach(self._open_auth(*args))
            return None
        if kind == "conn":
            return CONN_OPS[op](self.conn, *args)
        if kind == "dom" and ("dom", key) not in self.handles:
            assert self.conn is not None
            self.handles["dom", key] = self.conn.domain_lookup_by_name(key)
        return TABLES[kind][op](self.handles[kind, key], *args)

    def run(self, ops: list[Op]) -> list[Any]:
        """Results and events of each operation, like libvirt_runner.py's."""
        out: list[Any] = []
        if not ops or ops[0][2] not in ("open", "open_auth"):
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


# -- tests ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Documents and paths, with the configuration files in a scenario directory."""
    return references(tmp_path_factory.mktemp("testdriver-differential"))


@pytest.fixture(scope="module")
def all_scenarios(refs: dict[str, Any]) -> dict[str, list[Op]]:
    """Every scenario as operation lists."""
    return {name: parse_ops(text, refs) for name, text in SCENARIOS.items()}


@pytest.fixture(scope="module")
def reference(all_scenarios: dict[str, list[Op]]) -> dict[str, list[Any]]:
    """libvirt's results for every scenario (one subprocess for all)."""
    return libvirt_results(all_scenarios)


def test_there_are_at_least_thirty_scenarios() -> None:
    assert len(SCENARIOS) >= 30


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
            mine, theirs
        )


@pytest.mark.usefixtures("fresh_default_host")
def test_save_image_written_by_libvirt_restores_in_virtcore(
    tmp_path: Path, reference: dict[str, list[Any]], testdrv_registry: Registry
) -> None:
    image = tmp_path / "libvirt.save"
    script = (
        "import libvirt, sys\n"
        "c = libvirt.open('test:///default')\n"
        f"d = c.defineXML({EVDOM!r})\n"
        "d.create()\n"
        "sys.stdout.write(d.XMLDesc(0))\n"
        f"d.save({str(image)!r})\n"
    )
    proc = subprocess.run(
        [LIBVIRT_PYTHON, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    with virtcore.open("test:///default", registry=testdrv_registry) as conn:
        conn.domain_restore(str(image))
        dom = conn.domain_lookup_by_name("evdom")
        assert tuple(dom.state()) == (1, 3)
        assert dom.xml_desc() == proc.stdout
