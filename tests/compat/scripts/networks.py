# mypy: ignore-errors
"""Virtual networks, write side: define, start, update, autostart, stop, undefine."""

import libvirt
from scriptlib import attempt, open_quiet

NET = """<network>
  <name>lab</name>
  <uuid>22222222-3333-4444-5555-666666666601</uuid>
  <bridge name='virbr9'/>
  <forward mode='nat'/>
  <ip address='10.9.0.1' netmask='255.255.255.0'>
    <dhcp><range start='10.9.0.100' end='10.9.0.200'/></dhcp>
  </ip>
</network>"""
HOST = "<host mac='52:54:00:aa:bb:cc' name='printer' ip='10.9.0.50'/>"


conn = open_quiet()
net = conn.networkDefineXML(NET)
print("defined", net.name(), net.UUIDString(), net.isActive(), net.isPersistent())
print("lists", conn.listNetworks(), conn.listDefinedNetworks())
print("counts", conn.numOfNetworks(), conn.numOfDefinedNetworks())
attempt("define again", lambda: conn.networkDefineXML(NET).name())
attempt("define bad", lambda: conn.networkDefineXML("<network><name>x</name>"))
print("bridge", net.bridgeName(), "autostart", net.autostart())
print("set autostart", net.setAutostart(1), net.autostart())
print("create", net.create(), net.isActive())
attempt("create again", net.create)
cmd = libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST
section = libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST
both = libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
print("update", net.update(cmd, section, -1, HOST, both))
print("host in xml", "printer" in net.XMLDesc(0))
attempt("update duplicate", lambda: net.update(cmd, section, -1, HOST, both))
delete = libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE
print("update delete", net.update(delete, section, -1, HOST, both))
attempt("inactive xml", lambda: "printer" in net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
print("by uuid", conn.networkLookupByUUIDString(net.UUIDString()).name())
print("by uuid bytes", conn.networkLookupByUUID(net.UUID()).name())
active = libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE
print("all active", sorted(n.name() for n in conn.listAllNetworks(active)))
print("destroy", net.destroy(), net.isActive())
attempt("destroy again", net.destroy)
print("undefine", net.undefine())
attempt("lookup", lambda: conn.networkLookupByName("lab"))
transient = conn.networkCreateXML(NET.replace("lab", "tmp").replace("01</uuid>", "02</uuid>"))
print("transient", transient.name(), transient.isActive(), transient.isPersistent())
attempt("autostart transient", lambda: transient.setAutostart(1))
print("destroy transient", transient.destroy())
attempt("gone", lambda: conn.networkLookupByName("tmp"))
flags = conn.networkCreateXMLFlags(NET.replace("lab", "fl").replace("01</uuid>", "03</uuid>"), 0)
print("created with flags", flags.name(), flags.destroy())
attempt("create bad flags", lambda: conn.networkCreateXMLFlags(NET, 7))
print("define flags", conn.networkDefineXMLFlags(NET, 0).name())
attempt("define unknown flags", lambda: conn.networkDefineXMLFlags(NET, 8))
conn.close()
