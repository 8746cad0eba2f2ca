# mypy: ignore-errors
"""Host interfaces: listing, defining, starting and the change transaction."""

import libvirt
from scriptlib import attempt, open_quiet

IFACE = """<interface type='ethernet' name='eth7'>
  <mac address='aa:bb:cc:dd:ee:07'/>
  <start mode='onboot'/>
</interface>"""


conn = open_quiet()
print("running", conn.listInterfaces(), conn.numOfInterfaces())
print("defined", conn.listDefinedInterfaces(), conn.numOfDefinedInterfaces())
print("all", sorted((i.name(), i.MACString(), i.isActive()) for i in conn.listAllInterfaces(0)))
eth1 = conn.interfaceLookupByName("eth1")
print("by mac", conn.interfaceLookupByMACString(eth1.MACString()).name())
print("xml", eth1.XMLDesc(0))
attempt("unknown", lambda: conn.interfaceLookupByName("eth9"))
attempt("unknown mac", lambda: conn.interfaceLookupByMACString("00:00:00:00:00:09"))
print("begin", conn.changeBegin(0))
attempt("begin twice", lambda: conn.changeBegin(0))
new = conn.interfaceDefineXML(IFACE, 0)
print("new", new.name(), new.MACString(), new.isActive())
print("create", new.create(0), new.isActive())
attempt("create again", lambda: new.create(0))
print("destroy", new.destroy(0), new.isActive())
print("rollback", conn.changeRollback(0))
attempt("after rollback", lambda: conn.interfaceLookupByName("eth7"))
attempt("rollback without begin", lambda: conn.changeRollback(0))
print("begin", conn.changeBegin(0))
kept = conn.interfaceDefineXML(IFACE, 0)
print("commit", conn.changeCommit(0))
print("kept", kept.name(), sorted(conn.listDefinedInterfaces()))
attempt("commit without begin", lambda: conn.changeCommit(0))
print("undefine", kept.undefine())
attempt("undefine again", kept.undefine)
attempt("define bad", lambda: conn.interfaceDefineXML("<interface type='ethernet'/>", 0))
active = libvirt.VIR_CONNECT_LIST_INTERFACES_ACTIVE
print("filter", [i.name() for i in conn.listAllInterfaces(active)])
conn.close()
