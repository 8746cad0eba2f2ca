# mypy: ignore-errors
"""Starting domains with file descriptors, and node device state calls the test driver lacks."""

import libvirt
from scriptlib import attempt_str

NEW = """<domain type='test'><name>withfds</name>
<uuid>12345678-1234-1234-1234-123456789abc</uuid>
<memory>4096</memory><os><type>hvm</type></os></domain>"""


conn = libvirt.open("test:///default")
dom = conn.lookupByName("test")
attempt_str("running", lambda: dom.createWithFiles([3], 0))
attempt_str("destroy", dom.destroy)
for flags in (1, 2, 4, 8, 16):
    attempt_str(f"flags {flags}", lambda flags=flags: dom.createWithFiles([3], flags))
attempt_str("start", lambda: dom.createWithFiles([3, 4, -1], 0))
print("state", [int(v) for v in dom.state()], "id", dom.ID())
attempt_str("xml flags 1", lambda: conn.createXMLWithFiles(NEW, [5], 1))
created = conn.createXMLWithFiles(NEW, [5], 0)
print("created", created.name(), created.ID(), [int(v) for v in created.state()])
attempt_str("again", lambda: conn.createXMLWithFiles(NEW, [5], 0))
ro = libvirt.openReadOnly("test:///default")
attempt_str("read-only start", lambda: ro.lookupByName("test").createWithFiles([], 0))
attempt_str("read-only create", lambda: ro.createXMLWithFiles(NEW, [], 0))
device = conn.nodeDeviceLookupByName("computer")
attempt_str("device active", device.isActive)
attempt_str("device persistent", device.isPersistent)
attempt_str("device autostart", device.autostart)
attempt_str("device set autostart", lambda: device.setAutostart(1))
attempt_str(
    "read-only device set autostart", lambda: ro.nodeDeviceLookupByName("computer").setAutostart(1)
)
ro.close()
conn.close()
