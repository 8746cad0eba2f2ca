# mypy: ignore-errors
"""Read-only inventory of test:///default, the way monitoring tools walk a host."""

import libvirt

conn = libvirt.openReadOnly("test:///default")
print("type", conn.getType(), "version", conn.getVersion(), "uri", conn.getURI())
print("lib", conn.getLibVersion(), "alive", conn.isAlive(), "secure", conn.isSecure())
print("node", conn.getInfo())
print("free cells", conn.getCellsFreeMemory(0, 2), "max vcpus", conn.getMaxVcpus(None))
print("security model", conn.getSecurityModel())
print("ids", conn.listDomainsID(), "defined", conn.listDefinedDomains())
print("counts", conn.numOfDomains(), conn.numOfDefinedDomains())
for dom in conn.listAllDomains():
    state, reason = dom.state()
    info = dom.info()
    print(f"domain {dom.name()} id={dom.ID()} uuid={dom.UUIDString()} state={state}/{reason}")
    print("  info", info[0], info[1], info[2], info[3])
    print("  os", dom.OSType(), "maxmem", dom.maxMemory(), "active", dom.isActive())
    print("  persistent", dom.isPersistent(), "autostart", dom.autostart())
    print("  uuid bytes", dom.UUID().hex())
    print("  same by uuid", conn.lookupByUUIDString(dom.UUIDString()).name())
for net in conn.listAllNetworks():
    print("network", net.name(), net.UUIDString(), net.isActive(), net.bridgeName())
    print(net.XMLDesc(0))
for pool in conn.listAllStoragePools():
    info = pool.info()
    print("pool", pool.name(), info[0], info[1], info[2], info[3], pool.listVolumes())
for iface in conn.listAllInterfaces():
    print("interface", iface.name(), iface.MACString(), iface.isActive())
print("devices", sorted(d.name() for d in conn.listAllDevices(0)))
dev = conn.nodeDeviceLookupByName("scsi_host1")
print("device", dev.name(), dev.parent(), dev.listCaps(), dev.numOfCaps())
print("legacy", conn.listNetworks(), conn.listStoragePools(), conn.listInterfaces())
conn.close()
