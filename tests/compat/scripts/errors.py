# mypy: ignore-errors
"""Error reporting: the default stderr handler, a custom handler and the last-error API."""

import libvirt

conn = libvirt.open("test:///default")
print("no error yet", libvirt.virGetLastError())
try:
    conn.lookupByName("missing")
except libvirt.libvirtError as e:
    print("err", e.err)
    print("text", str(e), "level", e.get_error_level(), "str1", e.get_str1())
print("last", libvirt.virGetLastError())
print("code", libvirt.virGetLastErrorCode(), "domain", libvirt.virGetLastErrorDomain())
print("message", libvirt.virGetLastErrorMessage())
conn.getType()
print("after success", libvirt.virGetLastError())
seen = []
print("register", libvirt.registerErrorHandler(lambda ctx, err: seen.append((ctx, err)), "ctx"))
try:
    conn.networkLookupByName("nonet")
except libvirt.libvirtError as e:
    print("net err", e.err)
print("handler saw", seen)
libvirt.registerErrorHandler(None, None)
try:
    conn.storagePoolLookupByName("nopool")
except libvirt.libvirtError as e:
    print("pool err", e.get_error_code(), e.get_error_domain())
libvirt.virResetLastError()
print("own error", libvirt.libvirtError("custom").err, str(libvirt.libvirtError("custom")))
try:
    conn.lookupByName("test").migrateSetMaxDowntime(100, 0)
except libvirt.libvirtError as e:
    print("unsupported", e.err)
conn.close()
