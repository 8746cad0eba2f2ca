"""End-to-end demo of virtcore with a real guest (``python -m virtcore.demo [URI]``).

By default it embeds the QEMU driver in this process
(``qemu:///embed?root=<temporary directory>``, no daemon): it creates a
storage pool and a qcow2 volume through the host storage driver, defines a
guest whose disk is that volume, boots it in a real QEMU (TCG, so no
``/dev/kvm`` is needed), suspends, resumes and destroys it while printing the
events virtcore delivers, and shows libvirt-compatible errors and read-only
enforcement. Given a ``test:///...`` URI it runs the same lifecycle on the
built-in test hypervisor instead. Exits non-zero if anything does not behave
as documented, so it doubles as a smoke test.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import virtcore
from virtcore.enums import DomainEventID, DomainEventType, DomainState
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Domain, Handle
from virtcore.registry import default_registry

TEST_DOMAIN_XML = """<domain type='test'>
  <name>demo</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>"""

POOL_XML = """<pool type='dir'>
  <name>demo-pool</name>
  <target><path>{path}</path></target>
</pool>"""

VOLUME_XML = """<volume>
  <name>demo.qcow2</name>
  <capacity unit='MiB'>64</capacity>
  <target><format type='qcow2'/></target>
</volume>"""

QEMU_DOMAIN_XML = """<domain type='qemu'>
  <name>demo</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='demo-pool' volume='demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>"""

#: The lifecycle events each driver emits for the demo's steps, as libvirt's do:
#: libvirt's qemu driver reports the vCPUs starting (RESUMED) before STARTED, and
#: QEMU's SHUTDOWN (host-initiated) before STOPPED when the guest is destroyed.
EXPECTED_EVENTS = {
    "QEMU": ["DEFINED", "RESUMED", "STARTED", "SUSPENDED", "RESUMED", "SHUTDOWN", "STOPPED",
             "UNDEFINED"],
    "TEST": ["DEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED", "UNDEFINED"],
}  # fmt: skip


def _state_name(state: int) -> str:
    return DomainState(state).name.lower()


def _qemu_guest(conn: virtcore.Connection, root: Path) -> str:
    """Create the demo's pool and volume; return the guest's XML."""
    print("== storage")
    pool = conn.storage_pool_define_xml(POOL_XML.format(path=root / "images"))
    pool.build()
    pool.create()
    vol = pool.vol_create_xml(VOLUME_XML)
    info = vol.info()
    print(f"  pool {pool.name} active, volume {vol.name} ({info.capacity // 2**20} MiB qcow2)")
    print(f"  path {vol.path()}")
    return QEMU_DOMAIN_XML


def _cleanup_storage(conn: virtcore.Connection) -> None:
    pool = conn.storage_pool_lookup_by_name("demo-pool")
    for vol in pool.list_all_volumes():
        vol.delete()
    pool.destroy()
    pool.delete()
    pool.undefine()
    print("  volume deleted, pool removed")


def _show_guest(dom: Domain) -> None:
    info = dom.info()
    print(f"  started {dom.name}, id {dom.id}, {_state_name(info.state)}, vcpus={info.nr_virt_cpu}")
    for line in dom.xml_desc().splitlines():
        text = line.strip()
        if text.startswith(("<address type='pci'", "<source path=", "<source pool=")):
            print(f"    {text}")


def run(uri: str | None = None) -> int:
    """Run the demo against *uri* (default: a fresh embedded QEMU root)."""
    print("== backends")
    for record in default_registry().plugins():
        status = "loaded" if record.loaded else f"error: {record.error}"
        print(f"  {record.name:10} {','.join(record.schemes) or '-':12} {status}")

    root: Path | None = None
    if uri is None:
        root = Path(tempfile.mkdtemp(prefix="virtcore-demo-"))
        uri = f"qemu:///embed?root={root}"
    try:
        return _run(uri, root)
    finally:
        if root is not None:
            from virtcore.hosts import shutdown_hosts

            shutdown_hosts()
            shutil.rmtree(root, ignore_errors=True)


def _run(uri: str, root: Path | None) -> int:
    seen: list[str] = []
    delivered = threading.Event()

    def on_lifecycle(conn: virtcore.Connection, dom: Handle, event: Event) -> None:
        kind, detail = event.args[0], event.args[1]
        line = f"{getattr(dom, 'name', '?')}: {DomainEventType(kind).name} (detail {detail})"
        seen.append(line)
        delivered.set()

    shown = 0

    def show_events() -> None:
        # Events arrive on virtcore's event thread; print them in order from here.
        nonlocal shown
        EventDispatcher.default().flush(10)
        for line in seen[shown:]:
            print(f"  event  {line}")
        shown = len(seen)

    print(f"== open {uri}")
    with virtcore.open(uri) as conn:
        driver_type = conn.get_type()
        print(f"  type={driver_type} hostname={conn.get_hostname()}")
        conn.domain_event_register_any(DomainEventID.LIFECYCLE, on_lifecycle)
        for existing in conn.list_all_domains():
            state = _state_name(existing.state().state)
            print(f"  domain {existing.name:8} id={existing.id:<3} {state}")

        xml = _qemu_guest(conn, root) if root is not None else TEST_DOMAIN_XML

        print("== lifecycle")
        dom = conn.domain_define_xml(xml)
        show_events()
        dom.create()
        show_events()
        _show_guest(dom)
        for step in (dom.suspend, dom.resume, dom.destroy, dom.undefine):
            step()
            show_events()
        if root is not None:
            _cleanup_storage(conn)

        print("== errors")
        try:
            conn.domain_lookup_by_name("nosuch")
        except virtcore.NoDomainError as err:
            print(f"  lookup nosuch -> code {int(err.code)}: {err.message}")

        with virtcore.open_read_only(uri) as ro:
            try:
                ro.domain_define_xml(xml)
            except virtcore.OperationDeniedError as err:
                print(f"  read-only define -> code {int(err.code)}: {err.message}")

    got = [line.split(": ")[1].split(" ")[0] for line in seen]
    if got != EXPECTED_EVENTS.get(driver_type):
        print(f"unexpected event sequence: {got}", file=sys.stderr)
        return 1
    print("== ok")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m virtcore.demo [URI]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    return run(args[0] if args else None)


if __name__ == "__main__":
    sys.exit(main())
