# mypy: ignore-errors
"""Lifecycle events through libvirt's default event loop, run in a thread of its own."""

import threading
import time

import libvirt

XML = """<domain type='test'><name>ev1</name><memory>65536</memory>
<os><type>hvm</type></os></domain>"""

libvirt.virEventRegisterDefaultImpl()
libvirt.registerErrorHandler(lambda ctx, err: None, None)
events = []
lock = threading.Lock()


def loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def lifecycle(conn, dom, event, detail, opaque):
    with lock:
        events.append(f"{opaque} {dom.name()} event={event} detail={detail}")


threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open("test:///default")
cid = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, "any")
print("callback id", cid)
dom = conn.defineXML(XML)
dom.create()
dom.suspend()
dom.resume()
dom.destroy()
dom.undefine()
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    with lock:
        if len(events) >= 6:
            break
    time.sleep(0.01)
with lock:
    for line in events:
        print(line)
conn.domainEventDeregisterAny(cid)
try:
    conn.domainEventDeregisterAny(cid)
except libvirt.libvirtError as e:
    print("deregister twice", e.get_error_code(), e.get_error_message())
conn.close()
