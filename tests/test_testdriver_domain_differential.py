"""Differential tests of the domain calls: libvirt 9.0's test driver against virtcore's.

Snapshots, checkpoints, metadata, rename, memory and vCPU sizing, pinning,
IOThreads, scheduler, perf events, lifecycle actions, statistics, block
info, bulk statistics, guest queries, time, keys, screenshots and undefine
flags: each scenario is a list of operations run once through
python3-libvirt (the system interpreter runs
``tests/data/testdriver/domain_runner.py``, which builds on
``libvirt_runner.py`` there) and once through virtcore's native API in this
process. For every operation both sides record the outcome (a normalised
value, or the error's code, domain and message) and the events it caused:
lifecycle, metadata-change and device added/removed events. The records
must be identical.

Scenarios are the sections of ``tests/data/testdriver/domain_scenarios.txt``
plus those built here from flag lists. Notation (operations separated by new
lines or ``;``): ``conn OP ARGS`` for connection calls, ``dom NAME OP ARGS``
for domain calls, ``snap DOM/NAME OP ARGS`` and ``chk DOM/NAME OP ARGS`` for
snapshot and checkpoint calls (their handles come from the calls that
returned them). Arguments are integers, ``None``, ``""``, JSON lists or
objects written without blanks, ``$name`` references to :func:`references`,
or words.

Values that depend on the clock are normalised on both sides: snapshot and
checkpoint creation times are masked in documents, statistics counters
derived from the time of day are compared by their ratios, vCPU times are
dropped. Listings without ``TOPOLOGICAL`` are compared sorted (libvirt lists
them in hash order).

python3-libvirt must be importable by ``/usr/bin/python3``; without it these
tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1`` is set, which skips them.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import virtcore
from tests.libvirt_oracle import explain_difference, run_oracle
from virtcore.connection import Connection
from virtcore.errors import VirtError
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Domain, DomainCheckpoint, DomainSnapshot, Handle
from virtcore.registry import Registry

LIBVIRT_PYTHON = "/usr/bin/python3"
ALLOW_ENV = "VIRTCORE_ALLOW_NO_LIBVIRT"
SAFETY_TIMEOUT = 10.0
DATA = Path(__file__).parent / "data" / "testdriver"

Op = list[Any]

# -- the libvirt side -----------------------------------------------------------------------


# -- documents ------------------------------------------------------------------------------

U = "11111111-2222-3333-4444-5555555555"


def dom_xml(name: str, tail: str, body: str = "", head: str = "") -> str:
    """A test domain with UUID ``U + tail``; *head* goes before ``<memory>``."""
    return (
        f"<domain type='test'><name>{name}</name><uuid>{U}{tail}</uuid>{head}"
        f"<memory>4096</memory><os><type>hvm</type></os>{body}</domain>"
    )


DISKS = (
    "<devices><disk type='file'><source file='/a.img'/><target dev='hda'/></disk>"
    "<disk type='file' device='cdrom'><target dev='hdc'/></disk>"
    "<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"
    "<interface type='network'><mac address='52:54:00:00:00:02'/>"
    "<source network='default'/></interface></devices>"
)
EV = dom_xml("ev", "01", DISKS)
EV_VCPUS = dom_xml("ev", "01", head="<vcpu current='2'>4</vcpu>")
EV_CPUSET = dom_xml("ev", "01", head="<vcpu cpuset='1-3'>2</vcpu><iothreads>2</iothreads>")
EV_META = dom_xml(
    "ev",
    "01",
    head="<title>T1</title><description>D &amp; d</description><metadata>"
    "<app:foo xmlns:app='http://example.org/app' a='1'>text<app:b/>tail</app:foo><plain/>"
    "<q:x xmlns:q='urn:q'><q:y z='2'>v</q:y><q:w/></q:x></metadata>",
)
EV_BALLOON = dom_xml("ev", "01", "<devices><memballoon model='virtio'/></devices>")
EV_RESOURCES = dom_xml(
    "ev",
    "01",
    "<devices><disk type='file'><source file='/a'/><target dev='vda'/><iotune>"
    "<write_iops_sec_max>9</write_iops_sec_max><total_bytes_sec>3</total_bytes_sec>"
    "<read_bytes_sec>0</read_bytes_sec></iotune></disk><interface type='user'>"
    "<mac address='52:54:00:00:00:01'/><bandwidth><outbound burst='4' average='2' peak='3'/>"
    "<inbound burst='4' average='2' peak='3'/></bandwidth></interface></devices>",
    head="<memtune><swap_hard_limit unit='M'>3</swap_hard_limit><hard_limit>1500</hard_limit>"
    "<min_guarantee unit='G'>1</min_guarantee></memtune><blkiotune><device><path>/dev/b</path>"
    "<weight>7</weight><write_iops_sec>0</write_iops_sec></device><weight>300</weight><device>"
    "<path>/dev/z</path></device></blkiotune><vcpu placement='auto'>2</vcpu><numatune>"
    "<memory mode='interleave'/></numatune>",
)
EV_TUNED = dom_xml(
    "ev",
    "01",
    "<perf><event name='cpu_cycles' enabled='no'/><event name='cmt' enabled='yes'/></perf>"
    "<devices><disk type='file' snapshot='no'><source file='/b.img'/><target dev='vdb'/>"
    "</disk><disk type='file'><source file='/a.img'/><target dev='vda'/></disk></devices>",
    head="<vcpu cpuset='0,1,2,5'>3</vcpu><iothreads>3</iothreads>"
    "<iothreadids><iothread id='7'/></iothreadids>"
    "<cputune><emulatorpin cpuset='1'/><vcpupin vcpu='2' cpuset='3'/><shares>2048</shares>"
    "<iothreadpin iothread='7' cpuset='0-1'/><period>1000</period></cputune>",
)
TRANSIENT = dom_xml("tr", "02")
OTHER = dom_xml("other", "03")


def snap(name: str, extra: str = "") -> str:
    return f"<domainsnapshot><name>{name}</name>{extra}</domainsnapshot>"


def chk(name: str, extra: str = "") -> str:
    return f"<domaincheckpoint><name>{name}</name>{extra}</domaincheckpoint>"


INNER = (
    f"<domain type='test'><name>ev</name><uuid>{U}01</uuid><memory>4096</memory>"
    "<os><type>hvm</type></os></domain>"
)


def redefined(name: str, extra: str = "", state: str = "shutoff", dom: str = INNER) -> str:
    return snap(name, f"<state>{state}</state><creationTime>1000</creationTime>{extra}{dom}")


def references(root: Path) -> dict[str, Any]:
    """Documents and paths (in the scratch directory *root*) scenarios refer to as ``$name``."""
    refs: dict[str, Any] = {
        name: value
        for name, value in globals().items()
        if name.isupper() and isinstance(value, str)
    }
    refs.update(
        core=str(root / "core.dump"),
        image=str(root / "dom.save"),
        nodir=str(root / "nosuchdir" / "x"),
        missing=str(root / "missing.save"),
        S_A=snap("a"),
        S_B=snap("b"),
        S_C=snap("c"),
        S_D=snap("d"),
        S_DESC=snap("a", "<description>first &amp; best</description>"),
        S_UNNAMED="<domainsnapshot/>",
        S_MEM_EXT=snap("m", "<memory snapshot='external' file='/m.save'/>"),
        S_MEM_REL=snap("m", "<memory snapshot='external' file='m.save'/>"),
        S_MEM_MANUAL=snap("m", "<memory snapshot='manual'/>"),
        S_MEM_NOFILE=snap("m", "<memory snapshot='external'/>"),
        S_DISK_NO=snap("dn", "<disks><disk name='hda' snapshot='no'/></disks>"),
        S_DISK_EXT=snap("de", "<disks><disk name='hda' snapshot='external'/></disks>"),
        S_DISK_BAD=snap("db", "<disks><disk name='vdz'/></disks>"),
        S_DISK_TWICE=snap("dt", "<disks><disk name='hda'/><disk name='/a.img'/></disks>"),
        S_DISK_NONAME=snap("dx", "<disks><disk/></disks>"),
        S_BAD_XML="<domainsnapshot><name>z</name>",
        S_BAD_ROOT="<snapshot/>",
        R_1=redefined("r1"),
        R_2=redefined("r2", "<parent><name>r1</name></parent>"),
        R_1_DESC=redefined("r1", "<description>upd</description>"),
        R_1_RUNNING=redefined("r1", state="running"),
        R_CYCLE=redefined("r1", "<parent><name>r2</name></parent>"),
        R_SELF=redefined("q", "<parent><name>q</name></parent>"),
        R_ORPHAN=redefined("q", "<parent><name>zz</name></parent>"),
        R_NODOM=redefined("q", dom=""),
        R_NONAME="<domainsnapshot><state>shutoff</state><creationTime>1</creationTime>"
        "</domainsnapshot>",
        R_NOTIME=snap("q", "<state>shutoff</state>"),
        R_NOSTATE=snap("q", "<creationTime>1</creationTime>"),
        R_BADSTATE=redefined("q", state="nostate"),
        R_WRONGUUID=redefined("q", dom=INNER.replace(f"{U}01", f"{U}99")),
        C_1=chk("c1", "<description>hello</description>"),
        C_2=chk("c2"),
        C_3=chk("c3"),
        C_NO=chk("cn", "<disks><disk name='vda' checkpoint='no'/></disks>"),
        C_BADDISK=chk("cb", "<disks><disk name='vdz'/></disks>"),
        C_RO=chk("cr", "<disks><disk name='hdc' checkpoint='bitmap'/></disks>"),
        C_REDEF=chk("r", "<creationTime>5</creationTime>"),
        C_REDEF_NOTIME=chk("r"),
        C_BAD_XML="<domaincheckpoint><name>n</name>",
        C_BAD_ROOT="<checkpoint/>",
        M_FOO="<foo bar='1'><baz>x</baz></foo>",
        M_OWN_NS="<x:bar xmlns:x='http://zzz'/>",
        M_MIXED="<n a='1'>t<m/></n>",
        M_BAD="<foo",
        M_TWO="<a/><b/>",
        TITLE="My title",
        TITLE_NL="a\nb",
        DESC_NL="desc\nline2",
        URI="http://example.org/app",
        URI_B="http://example.org/b",
        URI_Q="urn:q",
    )
    return refs


# -- scenarios ------------------------------------------------------------------------------


def each(template: str, values: str | list[Any]) -> str:
    """One line of *template* per value; ``{}`` is the value. A string lists values by ``,``."""
    items = [v.strip() for v in values.split(",")] if isinstance(values, str) else values
    return "\n".join(template.replace("{}", str(v)) for v in items)


SNAP_LIST_FLAGS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1 | 4, 32 | 64, 96 | 128, 768, 2048]
REVERT_FLAGS = [0, 1, 2, 4, 5, 6, 3, 8]
STATS_FLAGS = [0, 1, 2, 4, 16, 64, 1 << 29, 1 << 30, 1 << 20]
STATS_GROUPS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]


def revert_matrix(start: str, target: str) -> str:
    """Revert from a domain in state *start* to snapshot *target* with each flag set."""
    prepare = {
        "off": "dom ev destroy 0",
        "run": "dom ev destroy 0\ndom ev create 0",
        "pau": "dom ev destroy 0\ndom ev create 0\ndom ev suspend",
    }[start]
    lines = []
    for flags in REVERT_FLAGS:
        lines += [prepare, f"snap ev/{target} revert {flags}", "dom ev state", "dom ev id"]
    return "\n".join(lines)


SNAPSHOT_TRIO = """
    conn define $EV_VCPUS 0
    dom ev snap_create $S_A 0
    dom ev create 0
    dom ev snap_create $S_B 0
    dom ev suspend
    dom ev snap_create $S_C 0
"""

GENERATED_SCENARIOS: dict[str, str] = {
    "snapshot_tree_and_listing_filters": """
        dom test snap_create $S_A 0 ; dom test snap_create $S_B 0 ; dom test snap_create $S_C 0
        snap test/a revert 0 ; dom test snap_create $S_D 0
    """ + each("dom test snap_list {}", SNAP_LIST_FLAGS) + "\n"
    + each("dom test snap_num {}", [0, 1, 4, 8, 16, 2048]) + "\n"
    + each("dom test snap_names {}", [0, 1, 1024]) + """
        dom test snap_topo 1024 ; dom test snap_topo 1025 ; snap test/a children 0
        snap test/a children 1 ; snap test/a children_topo 1025 ; snap test/a num_children 0
        snap test/a num_children 1 ; snap test/a children_names 0 ; snap test/a children_names 1
        snap test/a children 4 ; snap test/a children 8 ; snap test/a children 16
        snap test/a children 2048 ; snap test/d parent 0 ; snap test/a parent 0
        snap test/c parent 0
    """,
    "revert_from_shutoff": SNAPSHOT_TRIO + revert_matrix("off", "a") + "\n"
    + revert_matrix("off", "b") + "\n" + revert_matrix("off", "c"),
    "revert_from_running": SNAPSHOT_TRIO + revert_matrix("run", "a") + "\n"
    + revert_matrix("run", "b") + "\n" + revert_matrix("run", "c"),
    "revert_from_paused": SNAPSHOT_TRIO + revert_matrix("pau", "a") + "\n"
    + revert_matrix("pau", "b") + "\n" + revert_matrix("pau", "c"),
    "checkpoints_on_running_domain": """
        dom test chk_create $C_1 0 ; chk test/c1 xml 0 ; chk test/c1 xml 2 ; chk test/c1 xml 1
        chk test/c1 xml 4 ; chk test/c1 xml 8 ; dom test chk_create $C_1 0
        dom test chk_create $C_2 0 ; dom test chk_create $C_3 0 ; chk test/c3 parent 0
        chk test/c1 parent 0 ; chk test/c1 parent 1 ; dom test chk_lookup c2 0
        dom test chk_lookup x 0 ; dom test chk_lookup c1 1
    """ + each("dom test chk_list {}", [0, 1, 2, 4, 8, 16, 5]) + """
        dom test chk_topo 2 ; chk test/c1 children 0 ; chk test/c1 children 1
        chk test/c1 children_topo 3 ; chk test/c1 children 16
    """,
    "bulk_statistics": "conn define $EV 0\nconn create_xml $TRANSIENT 0\ndom tr suspend\n"
    + each("conn all_stats {} 0", STATS_GROUPS) + "\n"
    + each("conn all_stats 1 {}", STATS_FLAGS) + "\n"
    + each("conn all_stats {} 2147483648", [1, 2, 129, 0, 2049, 4096 | 1]) + """
        conn list_stats ["ev","test"] 0 0 ; conn list_stats ["ev"] 1 1
        conn list_stats ["tr"] 1 32 ; conn list_stats [] 1 0
    """,
    "keys_and_nmi": """
        conn define $EV 0 ; dom ev nmi 0 ; dom ev send_key 0 0 [1] 0 ; dom test nmi 0
        dom test nmi 1 ; dom test send_key 0 0 [1,2] 0 ; dom test send_key 0 0 [100000] 0
        dom test send_key 0 0 [] 0 ; dom test send_key 99 0 [1] 0 ; dom test send_key 0 0 [1] 1
    """ + "\n" + "\n".join(
        f"dom test send_key {codeset} 10 [{code}] 0"
        for codeset in range(10)
        for code in (0, 1, 0x5F, 0x60, 0x7E, 0x80, 0xFF, 0x109, 0x10A, 0x20C, 0xE001, 0xE07D)
    ),
    "checkpoint_listing_flags_on_a_tree": """
        dom test chk_create $C_1 0 ; dom test chk_create $C_2 0 ; dom test chk_create $C_3 0
        chk test/c2 delete 0 ; dom test chk_create $C_2 0
    """ + each("dom test chk_list {}", [0, 1, 4, 8, 12]) + """
        dom test chk_topo 2 ; chk test/c1 children 1 ; chk test/c1 children 4
        chk test/c1 children 8 ; chk test/c3 children 0
    """,
}  # fmt: skip


def read_scenarios(path: Path) -> dict[str, str]:
    """The ``[name]`` sections of a scenario file; ``#`` starts a comment line."""
    scenarios: dict[str, str] = {}
    name: str | None = None
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1]
            scenarios[name] = ""
        elif name is not None:
            scenarios[name] += line + "\n"
    return scenarios


# Fixed scenarios live in tests/data; those built from flag lists here.
SCENARIOS = {**read_scenarios(DATA / "domain_scenarios.txt"), **GENERATED_SCENARIOS}


# -- the virtcore side --------------------------------------------------------------------

# Operations that call one method on each side with the same arguments:
# op -> (libvirt-python method, virtcore method).
PLAIN: dict[str, dict[str, tuple[str, str]]] = {
    "dom": {
        "state": ("state", "state"), "create": ("createWithFlags", "create"),
        "destroy": ("destroyFlags", "destroy"), "suspend": ("suspend", "suspend"),
        "resume": ("resume", "resume"), "undefine": ("undefineFlags", "undefine"),
        "managed_save": ("managedSave", "managed_save"),
        "set_autostart": ("setAutostart", "set_autostart"),
        "get_autostart": ("autostart", "get_autostart"),
        "is_persistent": ("isPersistent", "is_persistent"),
        "snap_create": ("snapshotCreateXML", "snapshot_create_xml"),
        "snap_lookup": ("snapshotLookupByName", "snapshot_lookup_by_name"),
        "snap_current": ("snapshotCurrent", "snapshot_current"),
        "snap_num": ("snapshotNum", "snapshot_num"),
        "has_current": ("hasCurrentSnapshot", "has_current_snapshot"),
        "chk_create": ("checkpointCreateXML", "checkpoint_create_xml"),
        "chk_lookup": ("checkpointLookupByName", "checkpoint_lookup_by_name"),
        "meta": ("metadata", "metadata"), "set_meta": ("setMetadata", "set_metadata"),
        "rename": ("rename", "rename"), "set_mem": ("setMemoryFlags", "set_memory"),
        "set_max": ("setMaxMemory", "set_max_memory"), "max_memory": ("maxMemory", "max_memory"),
        "set_vcpus": ("setVcpusFlags", "set_vcpus"), "vcpus_flags": ("vcpusFlags", "vcpus_flags"),
        "max_vcpus": ("maxVcpus", "max_vcpus"), "io_add": ("addIOThread", "add_io_thread"),
        "io_del": ("delIOThread", "del_io_thread"),
        "io_params": ("setIOThreadParams", "set_io_thread_params"),
        "sched_type": ("schedulerType", "scheduler_type"),
        "sched_params": ("schedulerParameters", "scheduler_parameters"),
        "set_sched": ("setSchedulerParameters", "set_scheduler_parameters"),
        "set_perf": ("setPerfEvents", "set_perf_events"),
        "lifecycle": ("setLifecycleAction", "set_lifecycle_action"),
        "mem_stats": ("memoryStats", "memory_stats"), "block_info": ("blockInfo", "block_info"),
        "cpu_stats": ("getCPUStats", "get_cpu_stats"), "disk_errors": ("diskErrors", "disk_errors"),
        "hostname": ("hostname", "hostname"), "fsinfo": ("fsInfo", "fs_info"),
        "freeze": ("fsFreeze", "fs_freeze"), "thaw": ("fsThaw", "fs_thaw"),
        "fstrim": ("fSTrim", "fs_trim"), "control": ("controlInfo", "control_info"),
        "nmi": ("injectNMI", "inject_nmi"), "messages": ("messages", "messages"),
        "seclabel": ("securityLabel", "security_label"),
        "save": ("saveFlags", "save"), "core_dump": ("coreDump", "core_dump"),
        "core_fmt": ("coreDumpWithFormat", "core_dump_with_format"),
        "peek": ("memoryPeek", "memory_peek"),
        "signal": ("sendProcessSignal", "send_process_signal"),
        "password": ("setUserPassword", "set_user_password"),
        "stats_period": ("setMemoryStatsPeriod", "set_memory_stats_period"),
        "mem_params": ("memoryParameters", "memory_parameters"),
        "set_mem_params": ("setMemoryParameters", "set_memory_parameters"),
        "numa": ("numaParameters", "numa_parameters"),
        "set_numa": ("setNumaParameters", "set_numa_parameters"),
        "blkio": ("blkioParameters", "blkio_parameters"),
        "set_blkio": ("setBlkioParameters", "set_blkio_parameters"),
        "if_params": ("interfaceParameters", "interface_parameters"),
        "set_if": ("setInterfaceParameters", "set_interface_parameters"),
        "iotune": ("blockIoTune", "block_io_tune"),
        "set_iotune": ("setBlockIoTune", "set_block_io_tune"),
    },
    "snap": {
        "parent": ("getParent", "get_parent"), "num_children": ("numChildren", "num_children"),
        "is_current": ("isCurrent", "is_current"), "has_meta": ("hasMetadata", "has_metadata"),
        "delete": ("delete", "delete"),
    },
    "chk": {"parent": ("getParent", "get_parent"), "delete": ("delete", "delete")},
}  # fmt: skip
_MASK = re.compile(r"<creationTime>[0-9]+</creationTime>")


def _mask(text: str) -> str:
    return _MASK.sub("<creationTime>T</creationTime>", text)


def _ratios(values: tuple[int, ...]) -> list[int | None]:
    return [round(values[0] / v) if v else None for v in values[1:]]


def _names(items: list[Any], topo: bool = False) -> list[str]:
    out = [item.name for item in items]
    return out if topo else sorted(out)


def _stats(records: list[tuple[Domain, dict[str, Any]]]) -> list[list[Any]]:
    return sorted([dom.name, params] for dom, params in records)


def _addresses(found: list[Any]) -> list[Any]:
    return sorted([i.name, i.hwaddr, [list(a) for a in i.addrs]] for i in found)


def _screenshot(conn: Connection, name: str, screen: int, flags: int) -> list[Any]:
    stream = conn.new_stream()
    mime = conn.domain_lookup_by_name(name).screenshot(stream, screen, flags)
    data = b""
    while chunk := stream.recv(262144):
        data += chunk
    stream.finish()
    return [mime, data[:8].hex(), len(data) > 1000]


def _cpu_map(conn: Connection, flags: int) -> list[Any]:
    api = "virNodeGetCPUMap"
    count, cpumap, online = conn._invoke("hypervisor", "node_get_cpu_map", api, flags)
    return [count, [bool(cpumap[c // 8] & (1 << c % 8)) for c in range(count)], online]


def _table_call(dom: Domain, method: str, api: str, *args: Any) -> Any:
    """A table method the native API does not expose (libvirt's flag-less variants)."""
    return dom.connection._invoke("hypervisor", method, api, dom, *args, write=True)


Fn = Callable[..., Any]
CONN_OPS: dict[str, Fn] = {
    "define": lambda c, x, f: c.domain_define_xml(x, f),
    "create_xml": lambda c, x, f: c.domain_create_xml(x, f),
    "lookup": lambda c, n: c.domain_lookup_by_name(n),
    "list_all": lambda c, f: _names(c.list_all_domains(f)),
    "all_stats": lambda c, s, f: _stats(c.get_all_domain_stats(s, f)),
    "list_stats": lambda c, n, s, f: _stats(
        c.domain_list_get_stats([c.domain_lookup_by_name(x) for x in n], s, f)
    ),
    "cpu_map": _cpu_map,
    "screenshot": _screenshot,
    "img_xml": lambda c, p, f: c.save_image_get_xml_desc(p, f),
    "img_define": lambda c, p, x, f: c.save_image_define_xml(p, x, f),
}
DOM_OPS: dict[str, Fn] = {
    "info": lambda d: list(d.info())[:4],
    "id": lambda d: d.id,
    "xml": lambda d, f: _mask(d.xml_desc(f)),
    "snap_names": lambda d, f: sorted(d.snapshot_list_names(f)),
    "snap_list": lambda d, f: _names(d.list_all_snapshots(f)),
    "snap_topo": lambda d, f: _names(d.list_all_snapshots(f), True),
    "chk_list": lambda d, f: _names(d.list_all_checkpoints(f)),
    "chk_topo": lambda d, f: _names(d.list_all_checkpoints(f), True),
    "set_mem_live": lambda d, m: _table_call(d, "domain_set_memory", "virDomainSetMemory", m),
    "set_vcpus_live": lambda d, n: _table_call(d, "domain_set_vcpus", "virDomainSetVcpus", n),
    "vcpus": lambda d: [[[i.number, i.state, i.cpu] for i in d.vcpus()[0]], d.vcpus()[1]],
    "pin_info": lambda d, f: d.vcpu_pin_info(f),
    "pin_vcpu": lambda d, v, m, f: d.pin_vcpu(v, m, f),
    "emu_info": lambda d, f: d.emulator_pin_info(f),
    "pin_emu": lambda d, m, f: d.pin_emulator(m, f),
    "io_info": lambda d, f: d.io_thread_info(f),
    "io_pin": lambda d, i, m, f: d.pin_io_thread(i, m, f),
    "perf": lambda d, f: sorted(k for k, v in d.perf_events(f).items() if v),
    "block_stats": lambda d, p: _ratios(d.block_stats(p)),
    "iface_stats": lambda d, p: _ratios(d.interface_stats(p)),
    "ifaddr": lambda d, s, f: _addresses(d.interface_addresses(s, f)),
    "get_time": lambda d, f: d.get_time(f),
    "set_time": lambda d, s, n, f: d.set_time(s, n, f),
    "send_key": lambda d, c, h, k, f: d.send_key(c, h, k, f),
}
MOMENT_OPS: dict[str, Fn] = {
    "xml": lambda s, f: _mask(s.xml_desc(f)),
    "children": lambda s, f: _names(s.list_all_children(f)),
    "children_topo": lambda s, f: _names(s.list_all_children(f), True),
    "children_names": lambda s, f: sorted(s.list_children_names(f)),
    "revert": lambda s, f: s.domain.revert_to_snapshot(s, f),
}
TABLES = {"dom": DOM_OPS, "snap": MOMENT_OPS, "chk": MOMENT_OPS}


def _norm(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Domain):
        return {"name": value.name, "id": value.id}
    if isinstance(value, DomainSnapshot):
        return {"snap": value.name}
    if isinstance(value, DomainCheckpoint):
        return {"chk": value.name}
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


class VirtcoreRunner:
    """Runs scenario operations on virtcore the way ``domain_runner.py`` does on libvirt."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.conn: Connection | None = None
        self.events: list[list[Any]] = []
        self.handles: dict[tuple[str, str], Handle] = {}

    def _on_event(self, conn: Connection, dom: Handle, event: Event) -> None:
        assert isinstance(dom, Domain)
        tags = {0: "life", 23: "meta", 19: "dev+", 15: "dev-"}
        self.events.append([tags[event.event_id], dom.name, *event.args])

    def _attach(self, conn: Connection) -> None:
        self.conn = conn
        for event_id in (0, 23, 19, 15):
            conn.domain_event_register_any(event_id, self._on_event)

    def run(self, ops: list[Op]) -> list[Any]:
        """Results and events of each operation."""
        out: list[Any] = []
        self._attach(virtcore.open("test:///default", registry=self.registry))
        assert self.conn is not None
        try:
            for kind, key, op, *args in ops:
                try:
                    value = self._call(kind, key, op, args)
                    if isinstance(value, DomainSnapshot | DomainCheckpoint):
                        tag = "snap" if isinstance(value, DomainSnapshot) else "chk"
                        self.handles[tag, f"{value.domain.name}/{value.name}"] = value
                    elif isinstance(value, Domain):
                        self.handles["dom", value.name] = value
                    result = ["ok", _norm(value)]
                except VirtError as err:
                    result = ["err", int(err.code), int(err.domain), err.message]
                except LookupError:
                    result = ["nohandle"]
                assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
                out.append({"result": result, "events": self.events[:]})
                self.events.clear()
        finally:
            self.conn.close()
        return out

    def _call(self, kind: str, key: str, op: str, args: list[Any]) -> Any:
        assert self.conn is not None
        if kind == "conn":
            return CONN_OPS[op](self.conn, *args)
        if kind == "dom" and ("dom", key) not in self.handles:
            self.handles["dom", key] = self.conn.domain_lookup_by_name(key)
        if (kind, key) not in self.handles:
            raise LookupError(key)
        handle = self.handles[kind, key]
        if op in PLAIN.get(kind, {}):
            return getattr(handle, PLAIN[kind][op][1])(*args)
        return TABLES[kind][op](handle, *args)


# -- the operation language and the tests -------------------------------------------------------

_INT = re.compile(r"-?(0x[0-9a-f]+|[0-9]+)")


def _arg(word: str, refs: dict[str, Any]) -> Any:
    if _INT.fullmatch(word):
        return int(word, 0)
    if word == "None":
        return None
    if word == '""':
        return ""
    if word[0] in "[{":
        return json.loads(word)
    if word.startswith("$"):
        return refs[word[1:]]
    return word


def parse_ops(text: str, refs: dict[str, Any]) -> list[Op]:
    """Operations from the notation of the module docstring."""
    ops: list[Op] = []
    for line in text.strip().replace(";", "\n").splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "conn":
            kind, key, op, rest = "conn", "", words[1], words[2:]
        else:
            kind, key, op, rest = words[0], words[1], words[2], words[3:]
        ops.append([kind, key, op, *(_arg(w, refs) for w in rest)])
    return ops


@pytest.fixture(scope="module")
def all_scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Op]]:
    """Every scenario as operation lists."""
    refs = references(tmp_path_factory.mktemp("domain-differential"))
    return {name: parse_ops(text, refs) for name, text in SCENARIOS.items()}


@pytest.fixture(scope="module")
def reference(all_scenarios: dict[str, list[Op]]) -> dict[str, list[Any]]:
    """libvirt's results for every scenario (one subprocess for all)."""
    payload = {"plain": PLAIN, "scenarios": all_scenarios}
    results: dict[str, list[Any]] = run_oracle(DATA / "domain_runner.py", payload, timeout=300)
    return results


def test_there_are_at_least_sixty_scenarios() -> None:
    assert len(SCENARIOS) >= 60


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


# -- snapshots declared in a configuration file ----------------------------------------------

CONFIG_SNAPSHOTS = f"""<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>
  <memory>2097152</memory>
  <domain type='test'>
    <name>withsnaps</name><uuid>{U}77</uuid><memory>1024</memory><os><type>hvm</type></os>
    <devices><disk type='file'><source file='/x.img'/><target dev='vda'/></disk></devices>
    <test:domainsnapshot>
      <name>first</name><state>shutoff</state><creationTime>100</creationTime>
      <active>0</active>
      <domain type='test'><name>withsnaps</name><uuid>{U}77</uuid><memory>1024</memory>
        <os><type>hvm</type></os></domain>
    </test:domainsnapshot>
    <test:domainsnapshot file='second.xml'/>
  </domain>
</node>
"""
SECOND_SNAPSHOT = f"""<domainsnapshot>
  <name>second</name><state>running</state><parent><name>first</name></parent>
  <creationTime>200</creationTime><active>1</active>
  <domain type='test'><name>withsnaps</name><uuid>{U}77</uuid><memory>1024</memory>
    <os><type>hvm</type></os></domain>
</domainsnapshot>
"""
# libvirt 9.0 frees configuration snapshots twice when the connection closes, so the
# script reports before closing and leaves without cleaning up.
CONFIG_PROBE = r"""
import json, os, sys
import libvirt
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName("withsnaps")
first = dom.snapshotLookupByName("first")
second = dom.snapshotLookupByName("second")
print(json.dumps([
    sorted(dom.snapshotListNames(0)),
    dom.snapshotCurrent().getName(),
    [s.getName() for s in first.listAllChildren(0)],
    second.getParent().getName(),
    first.getXMLDesc(0),
    second.getXMLDesc(0),
    dom.XMLDesc(0),
]))
sys.stdout.flush()
os._exit(0)
"""


def test_configuration_file_snapshots_match_libvirt(
    tmp_path: Path, testdrv_registry: Registry, reference: dict[str, list[Any]]
) -> None:
    (tmp_path / "node.xml").write_text(CONFIG_SNAPSHOTS)
    (tmp_path / "second.xml").write_text(SECOND_SNAPSHOT)
    uri = f"test://{tmp_path}/node.xml"
    proc = subprocess.run(
        [LIBVIRT_PYTHON, "-c", CONFIG_PROBE, uri],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    expected = json.loads(proc.stdout)
    with virtcore.open(uri, registry=testdrv_registry) as conn:
        dom = conn.domain_lookup_by_name("withsnaps")
        first = dom.snapshot_lookup_by_name("first")
        second = dom.snapshot_lookup_by_name("second")
        got = [
            sorted(dom.snapshot_list_names()),
            dom.snapshot_current().name,
            [s.name for s in first.list_all_children()],
            second.get_parent().name,
            first.xml_desc(),
            second.xml_desc(),
            dom.xml_desc(),
        ]
    assert got == expected
