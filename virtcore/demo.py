"""End-to-end demo of virtcore on an in-process driver (``python -m virtcore.demo``).

Opens the built-in test hypervisor's default host (no daemon), lists the
loaded backends, drives a guest through its lifecycle while printing the
events virtcore delivers, and shows libvirt-compatible errors and read-only
enforcement. Exits non-zero if anything does not behave as documented, so it
doubles as a smoke test.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence

import virtcore
from virtcore.enums import DomainEventID, DomainEventType, DomainState
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Handle
from virtcore.registry import default_registry

DOMAIN_XML = """<domain type='test'>
  <name>demo</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>"""


def _state_name(state: int) -> str:
    return DomainState(state).name.lower()


def run(uri: str = "test:///default") -> int:
    """Run the demo against *uri*; returns a process exit status."""
    print("== backends")
    for record in default_registry().plugins():
        status = "loaded" if record.loaded else f"error: {record.error}"
        print(f"  {record.name:10} {','.join(record.schemes) or '-':12} {status}")

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
        print(f"  type={conn.get_type()} hostname={conn.get_hostname()}")
        conn.domain_event_register_any(DomainEventID.LIFECYCLE, on_lifecycle)
        for dom in conn.list_all_domains():
            print(f"  domain {dom.name:8} id={dom.id:<3} {_state_name(dom.state().state)}")

        print("== lifecycle")
        dom = conn.domain_define_xml(DOMAIN_XML)
        show_events()
        dom.create()
        show_events()
        print(f"  started demo, id {dom.id}")
        for step in (dom.suspend, dom.resume, dom.destroy, dom.undefine):
            step()
            show_events()

        print("== errors")
        try:
            conn.domain_lookup_by_name("nosuch")
        except virtcore.NoDomainError as err:
            print(f"  lookup nosuch -> code {int(err.code)}: {err.message}")

    with virtcore.open_read_only(uri) as ro:
        try:
            ro.domain_lookup_by_name("test").destroy()
        except virtcore.OperationDeniedError as err:
            print(f"  read-only destroy -> code {int(err.code)}: {err.message}")

    expected = ["DEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED", "UNDEFINED"]
    got = [line.split(": ")[1].split(" ")[0] for line in seen]
    if got != expected:
        print(f"unexpected event sequence: {got}", file=sys.stderr)
        return 1
    print("== ok")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m virtcore.demo [URI]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    return run(args[0] if args else "test:///default")


if __name__ == "__main__":
    sys.exit(main())
