"""Lifecycle differential test: the same scenario on real libvirt 9.0 and on virtcore.

A private libvirtd (qemu:///system in its own mount namespace, see
qemu_libvirt_oracle.py) and ``qemu:///embed`` each run one TCG guest through
the same steps - start, pause, resume, wrong-state calls, paused start,
destroy, undefine; save, restore (paused or not) and managed save; internal
snapshots taken, reverted and deleted in every state; external disk-only
snapshots of a running and a shut-off guest, and their deletion (overlays
merged back into their bases, mixed with internal ones) - and must agree on
every step's outcome (state and reason, or error code, error domain and
message) and on the whole sequence of lifecycle events.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from qemu_libvirt_oracle import shared_qemu_oracle

from virtcore.connection import Connection
from virtcore.errors import VirtError
from virtcore.objects import Domain

NAME = "lifecycle-oracle"
QEMU_IMG = "/usr/bin/qemu-img"
GUEST = (
    f"<domain type='qemu'><name>{NAME}</name>"
    "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
    "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
    "<serial type='pty'/></devices></domain>"
)
LIFECYCLE_STEPS = [
    "create",
    "suspend",
    "suspend",
    "resume",
    "resume",
    "create",
    "destroy",
    "destroy",
    "suspend",
    "create_paused",
    "shutdown",
    "resume",
    "shutdown",
    "destroy",
    "undefine",
]
SAVE_STEPS = [
    "create",
    "save",
    "restore",
    "suspend",
    "save",
    "restore",
    "resume",
    "save",
    "restore_paused",
    "destroy",
    "managed_save",
    "create",
    "managed_save",
    "create",
    "managed_save",
    "create_force",
    "destroy",
    "undefine",
]
SNAPSHOT_STEPS = [
    "create",
    "snapshot:s1",
    "suspend",
    "snapshot:s2",
    "resume",
    "revert:s2",
    "revert:s1",
    "destroy",
    "revert:s1",
    "destroy",
    "snapshot:s3",
    "create",
    "revert:s3",
    "delete:s3",
    "delete:s2",
    "delete:s1",
    "lookup:nope",
    "current",
    "undefine",
]
DISK_ONLY_STEPS = [
    "create",
    "disksnap:s1",
    "dump_disk",
    "dump_snap:s1",
    "disksnap:s2",
    "dump_disk",
    "revert:s1",
    "quiesce:q",
    "suspend",
    "disksnap:s3",
    "resume",
    "current",
    "destroy",
    "disksnap:off",
    "dump_disk",
    "dump_snap:off",
    "create",
    "delete_meta:off",
    "current",
    "destroy",
    "undefine",
    "undefine_snapshots",
]
DISK_DELETE_STEPS = [
    "create",
    "disksnap:a",
    "disksnap:b",
    "disksnap:c",
    "delete_children:a",
    "delete:b",
    "dump_disk",
    "delete:c",
    "dump_disk",
    "current",
    "destroy",
    "disksnap:d",
    "disksnap:e",
    "delete:d",
    "dump_disk",
    "dump_snap:e",
    "delete:e",
    "dump_disk",
    "create",
    "delete:a",
    "dump_disk",
    "lookup:a",
    "destroy",
    "undefine",
]
DISK_MIXED_STEPS = [
    "create",
    "disksnap_halt:h",
    "create",
    "snapshot:i",
    "disksnap:e",
    "delete:e",
    "delete:i",
    "delete_meta:i",
    "delete:h",
    "disksnap:f",
    "snapshot:g",
    "delete:f",
    "delete_children:g",
    "current",
    "destroy",
    "undefine_snapshots",
]
SCENARIOS = {
    "lifecycle": LIFECYCLE_STEPS,
    "save": SAVE_STEPS,
    "snapshot": SNAPSHOT_STEPS,
    "disk-only": DISK_ONLY_STEPS,
    "disk-delete": DISK_DELETE_STEPS,
    "disk-mixed": DISK_MIXED_STEPS,
}
#: Scenarios whose guest has a qcow2 disk.
DISK_SCENARIOS = ("snapshot", "disk-only", "disk-delete", "disk-mixed")

LIBVIRT_RUNNER = r"""
import json, sys, threading, time
import libvirt

libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
def section(xml, tag):
    text = xml[xml.index(f"<{tag}"):xml.index(f"</{tag}>") + len(tag) + 3]
    return text.replace(spec["workdir"], "WORKDIR")
spec = json.load(sys.stdin)
try:
    old = conn.lookupByName(spec["name"])
    if old.isActive():
        old.destroy()
    old.undefine()
except libvirt.libvirtError:
    pass
events = []
conn.domainEventRegisterAny(None, 0, lambda c, d, e, det, o: events.append([e, det]), None)
dom = conn.defineXML(spec["xml"])
calls = {
    "create": lambda: dom.createWithFlags(0),
    "create_paused": lambda: dom.createWithFlags(1),
    "suspend": dom.suspend,
    "resume": dom.resume,
    "destroy": dom.destroy,
    "shutdown": dom.shutdown,
    "undefine": dom.undefine,
    "save": lambda: dom.save(spec["image"]),
    "restore": lambda: conn.restore(spec["image"]),
    "restore_paused": lambda: conn.restoreFlags(spec["image"], None, 4),
    "managed_save": lambda: dom.managedSave(0),
    "create_force": lambda: dom.createWithFlags(8),
    "undefine_snapshots": lambda: dom.undefineFlags(2),
}
def snapshot_step(step):
    kind, _, name = step.partition(":")
    doc = f"<domainsnapshot><name>{name}</name></domainsnapshot>"
    if kind == "snapshot":
        dom.snapshotCreateXML(doc)
    elif kind == "disksnap":
        dom.snapshotCreateXML(doc, 16)
    elif kind == "disksnap_halt":
        dom.snapshotCreateXML(doc, 16 | 8)
    elif kind == "quiesce":
        dom.snapshotCreateXML(doc, 16 | 64)
    elif kind == "delete_meta":
        dom.snapshotLookupByName(name).delete(2)
    elif kind == "delete_children":
        dom.snapshotLookupByName(name).delete(1)
    elif kind == "dump_disk":
        return section(dom.XMLDesc(2), "disk")
    elif kind == "dump_snap":
        return section(dom.snapshotLookupByName(name).getXMLDesc(), "disks")
    elif kind == "revert":
        dom.revertToSnapshot(dom.snapshotLookupByName(name))
    elif kind == "delete":
        dom.snapshotLookupByName(name).delete()
    elif kind == "lookup":
        dom.snapshotLookupByName(name)
    elif kind == "current":
        dom.snapshotCurrent()

steps = []
for step in spec["steps"]:
    error = out = None
    try:
        if step in calls:
            calls[step]()
        else:
            out = snapshot_step(step)
    except libvirt.libvirtError as exc:
        error = [exc.get_error_code(), exc.get_error_domain(), exc.get_error_message()]
    try:
        state = list(dom.state())
    except libvirt.libvirtError:
        state = None
    steps.append({"step": step, "error": error, "state": state, "out": out})
time.sleep(1.0)
print(json.dumps({"steps": steps, "events": events}))
"""


def run_libvirt(uri: str, xml: str, steps: list[str], image: Path) -> dict[str, Any]:
    """The scenario on real libvirt, through python3-libvirt."""
    spec = {
        "name": NAME,
        "xml": xml,
        "steps": steps,
        "image": str(image),
        "workdir": str(image.parent),
    }
    proc = subprocess.run(
        ["/usr/bin/python3", "-c", LIBVIRT_RUNNER, uri],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run_virtcore(conn: Connection, xml: str, steps: list[str], image: Path) -> dict[str, Any]:
    """The scenario on virtcore."""
    events: list[list[int]] = []
    conn.domain_event_register_any(0, lambda c, d, e: events.append(list(e.args)))
    dom = conn.domain_define_xml(xml)
    calls: dict[str, Callable[[Domain], None]] = {
        "create": lambda d: d.create(0),
        "create_paused": lambda d: d.create(1),
        "suspend": lambda d: d.suspend(),
        "resume": lambda d: d.resume(),
        "destroy": lambda d: d.destroy(),
        "shutdown": lambda d: d.shutdown(),
        "undefine": lambda d: d.undefine(),
        "save": lambda d: d.save(str(image)),
        "restore": lambda d: conn.domain_restore(str(image)),
        "restore_paused": lambda d: conn.domain_restore(str(image), flags=4),
        "managed_save": lambda d: d.managed_save(),
        "create_force": lambda d: d.create(8),
        "undefine_snapshots": lambda d: d.undefine(2),
    }
    results = []
    for step in steps:
        error = out = None
        try:
            if step in calls:
                calls[step](dom)
            else:
                out = _snapshot_step(dom, step)
        except VirtError as exc:
            error = [int(exc.code), int(exc.domain), exc.message]
        try:
            state: list[int] | None = list(dom.state())
        except VirtError:
            state = None
        if out is not None:
            out = out.replace(str(image.parent), "WORKDIR")
        results.append({"step": step, "error": error, "state": state, "out": out})
    deadline = time.monotonic() + 5
    while not conn.flush_events() and time.monotonic() < deadline:
        pass
    return {"steps": results, "events": events}


def _section(xml: str, tag: str) -> str:
    """The first ``<tag>`` element of *xml*, as text."""
    return xml[xml.index(f"<{tag}") : xml.index(f"</{tag}>") + len(tag) + 3]


def _snapshot_step(dom: Domain, step: str) -> str | None:
    """Run one snapshot step; the dump steps return the XML they read."""
    kind, _, name = step.partition(":")
    doc = f"<domainsnapshot><name>{name}</name></domainsnapshot>"
    if kind == "snapshot":
        dom.snapshot_create_xml(doc)
    elif kind == "disksnap":
        dom.snapshot_create_xml(doc, flags=16)
    elif kind == "disksnap_halt":
        dom.snapshot_create_xml(doc, flags=16 | 8)
    elif kind == "quiesce":
        dom.snapshot_create_xml(doc, flags=16 | 64)
    elif kind == "delete_meta":
        dom.snapshot_lookup_by_name(name).delete(2)
    elif kind == "delete_children":
        dom.snapshot_lookup_by_name(name).delete(1)
    elif kind == "dump_disk":
        return _section(dom.xml_desc(2), "disk")
    elif kind == "dump_snap":
        return _section(dom.snapshot_lookup_by_name(name).xml_desc(), "disks")
    elif kind == "revert":
        dom.snapshot_lookup_by_name(name).revert()
    elif kind == "delete":
        dom.snapshot_lookup_by_name(name).delete()
    elif kind == "lookup":
        dom.snapshot_lookup_by_name(name)
    elif kind == "current":
        dom.snapshot_current()
    return None


def guest_xml(scenario: str, workdir: Path) -> str:
    """The scenario's guest; the snapshot scenarios' have a fresh qcow2 disk in *workdir*."""
    if scenario not in DISK_SCENARIOS:
        return GUEST
    image = workdir / "disk.qcow2"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(image), "16M"], check=True)
    disk = (
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk>"
    )
    return GUEST.replace("<serial", disk + "<serial")


_libvirt_results: dict[str, dict[str, Any]] = {}


def libvirt_result(tmp_path_factory: pytest.TempPathFactory, scenario: str) -> dict[str, Any]:
    """What libvirt did in *scenario* (run once per test session)."""
    if scenario not in _libvirt_results:
        oracle = shared_qemu_oracle(tmp_path_factory)
        workdir = tmp_path_factory.mktemp(f"libvirt-{scenario}")
        xml = guest_xml(scenario, workdir)
        _libvirt_results[scenario] = run_libvirt(
            oracle.uri, xml, SCENARIOS[scenario], workdir / "image.save"
        )
    return _libvirt_results[scenario]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_step_ends_like_libvirt(
    tmp_path_factory: pytest.TempPathFactory, scenario: str, conn: Connection, embed_root: Path
) -> None:
    expected = libvirt_result(tmp_path_factory, scenario)
    xml = guest_xml(scenario, embed_root)
    ours = run_virtcore(conn, xml, SCENARIOS[scenario], embed_root / "image.save")
    assert ours["steps"] == expected["steps"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_lifecycle_events_match_libvirt(
    tmp_path_factory: pytest.TempPathFactory, scenario: str, conn: Connection, embed_root: Path
) -> None:
    expected = libvirt_result(tmp_path_factory, scenario)
    xml = guest_xml(scenario, embed_root)
    ours = run_virtcore(conn, xml, SCENARIOS[scenario], embed_root / "image.save")
    assert ours["events"] == expected["events"]
