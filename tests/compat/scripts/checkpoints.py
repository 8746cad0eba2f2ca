# mypy: ignore-errors
"""Checkpoints for incremental backup: a chain, its walk, XML, deletion and refusals."""

import libvirt
from scriptlib import attempt, open_quiet


def cp_xml(name):
    return f"<domaincheckpoint><name>{name}</name></domaincheckpoint>"


conn = open_quiet()
dom = conn.lookupByName("test")
print("none", dom.listAllCheckpoints())
full = dom.checkpointCreateXML(cp_xml("full"))
print("created", type(full).__name__, full.getName(), full.getDomain().name())
inc1 = dom.checkpointCreateXML(cp_xml("inc1"))
inc2 = dom.checkpointCreateXML(cp_xml("inc2"))
print("all", sorted(c.getName() for c in dom.listAllCheckpoints()))
flags = libvirt.VIR_DOMAIN_CHECKPOINT_LIST_ROOTS
print("roots", [c.getName() for c in dom.listAllCheckpoints(flags)])
print(
    "leaves",
    [c.getName() for c in dom.listAllCheckpoints(libvirt.VIR_DOMAIN_CHECKPOINT_LIST_LEAVES)],
)
print("parent", inc2.getParent().getName(), inc1.getParent().getName())
attempt("parent of root", lambda: full.getParent().getName())
print("children", [c.getName() for c in full.listAllChildren()])
desc = libvirt.VIR_DOMAIN_CHECKPOINT_LIST_DESCENDANTS
print("descendants", sorted(c.getName() for c in full.listAllChildren(desc)))
print("lookup", dom.checkpointLookupByName("inc1").getName())
attempt("lookup missing", lambda: dom.checkpointLookupByName("gone"))
attempt("duplicate", lambda: dom.checkpointCreateXML(cp_xml("full")))
attempt("bad xml", lambda: dom.checkpointCreateXML("<domaincheckpoint><name>x"))
xml = inc1.getXMLDesc()
print("xml", "<name>inc1</name>" in xml, "<parent>" in xml, "<disks>" in xml)
attempt("snapshot while checkpoints exist", lambda: dom.snapshotCreateXML("<domainsnapshot/>"))
print("delete middle", inc1.delete())
print("reparented", inc2.getParent().getName())
print("delete with children", full.delete(libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN))
print("left", dom.listAllCheckpoints())
attempt("deleted", inc2.getXMLDesc)
conn.close()
