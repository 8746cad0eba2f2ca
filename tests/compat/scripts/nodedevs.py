# mypy: ignore-errors
"""Node devices: the tree, capabilities, and creating and destroying a vHBA."""

import libvirt
from scriptlib import attempt, open_quiet

VHBA = """<device>
  <parent>scsi_host1</parent>
  <capability type='scsi_host'>
    <capability type='fc_host'>
      <wwnn>2000000012341234</wwnn>
      <wwpn>1000000012341234</wwpn>
    </capability>
  </capability>
</device>"""


conn = open_quiet()
print("count", conn.numOfDevices(None, 0), conn.numOfDevices("scsi_host", 0))
print("names", sorted(conn.listDevices(None, 0)), sorted(conn.listDevices("scsi_host", 0)))
attempt("unknown cap", lambda: conn.listDevices("nonsense", 0))
for dev in sorted(conn.listAllDevices(0), key=lambda d: d.name()):
    print("device", dev.name(), dev.parent(), dev.listCaps(), dev.numOfCaps())
# libvirt lists in hash-table order, which changes from run to run.
cap = libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_FC_HOST
print("fc hosts", sorted(d.name() for d in conn.listAllDevices(cap)))
attempt("active filter", lambda: conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE))
host = conn.nodeDeviceLookupByName("scsi_host11")
print("xml", host.XMLDesc(0))
attempt("missing", lambda: conn.nodeDeviceLookupByName("pci_0000_00_99_0"))
vhba = conn.nodeDeviceCreateXML(VHBA, 0)
print("created", vhba.name(), vhba.parent(), vhba.listCaps())
print("now", sorted(conn.listDevices("fc_host", 0)))
attempt("create bad", lambda: conn.nodeDeviceCreateXML("<device>", 0))
print("destroy", vhba.destroy())
attempt("destroy again", vhba.destroy)
attempt("destroy non-vhba", host.destroy)
print("after", sorted(conn.listDevices(None, 0)))
conn.close()
