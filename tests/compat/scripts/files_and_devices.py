# mypy: ignore-errors
"""Starting domains with file descriptors, and node device state calls the test driver lacks."""

import libvirt

NEW = """<domain type='test'><name>withfds</name>
<uuid>12345678-1234-1234-1234-123456789abc</uuid>
<memory>4096</memory><os><type>hvm</type></os></domain>"""


def attempt(label, call):
    try:
        print(f"{label}: ok {call()!r}")
    except libvirt.libvirtError as e:
        print(f"{label}: error {e.get_error_code()} {e.get_error_domain()} {e}")


conn = libvirt.open("test:///default")
dom = conn.lookupByName("test")
attempt("running", lambda: dom.createWithFiles([3], 0))
attempt("destroy", dom.destroy)
for flags in (1, 2, 4, 8, 16):
    attempt(f"flags {flags}", lambda flags=flags: dom.createWithFiles([3], flags))
attempt("start", lambda: dom.createWithFiles([3, 4, -1], 0))
print("state", [int(v) for v in dom.state()], "id", dom.ID())
attempt("xml flags 1", lambda: conn.createXMLWithFiles(NEW, [5], 1))
created = conn.createXMLWithFiles(NEW, [5], 0)
print("created", created.name(), created.ID(), [int(v) for v in created.state()])
attempt("again", lambda: conn.createXMLWithFiles(NEW, [5], 0))
ro = libvirt.openReadOnly("test:///default")
attempt("read-only start", lambda: ro.lookupByName("test").createWithFiles([], 0))
attempt("read-only create", lambda: ro.createXMLWithFiles(NEW, [], 0))
device = conn.nodeDeviceLookupByName("computer")
attempt("device active", device.isActive)
attempt("device persistent", device.isPersistent)
attempt("device autostart", device.autostart)
attempt("device set autostart", lambda: device.setAutostart(1))
attempt(
    "read-only device set autostart", lambda: ro.nodeDeviceLookupByName("computer").setAutostart(1)
)
ro.close()
conn.close()
