# mypy: ignore-errors
"""Snapshots: create a tree, walk it, revert, delete, and the errors a backup tool sees."""

import libvirt
from scriptlib import attempt, open_quiet


def snap_xml(name, description=""):
    return (
        f"<domainsnapshot><name>{name}</name><description>{description}</description>"
        "</domainsnapshot>"
    )


conn = open_quiet()
dom = conn.lookupByName("test")
print("none yet", dom.snapshotNum(), dom.snapshotListNames(), dom.hasCurrentSnapshot())
attempt("current without any", dom.snapshotCurrent)
first = dom.snapshotCreateXML(snap_xml("first", "before upgrade"))
print("created", type(first).__name__, first.getName(), first.getDomain().name())
print("is current", first.isCurrent(), "metadata", first.hasMetadata())
dom.setMemory(1048576)
second = dom.snapshotCreateXML(snap_xml("second"))
third = dom.snapshotCreateXML(snap_xml("third"))
print("names", sorted(dom.snapshotListNames()), "num", dom.snapshotNum())
print("all", sorted(s.getName() for s in dom.listAllSnapshots()))
print("roots", [s.getName() for s in dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ROOTS)])
print("leaves", sorted(dom.snapshotListNames(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_LEAVES)))
print("current", dom.snapshotCurrent().getName(), dom.hasCurrentSnapshot())
print("parent of third", third.getParent().getName())
attempt("parent of first", lambda: first.getParent().getName())
print("children of first", first.numChildren(), first.listChildrenNames())
print("descendants", first.numChildren(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS))
print("all children", [s.getName() for s in second.listAllChildren()])
print("lookup", dom.snapshotLookupByName("second").getName())
attempt("lookup missing", lambda: dom.snapshotLookupByName("nosuch"))
attempt("duplicate", lambda: dom.snapshotCreateXML(snap_xml("first")))
attempt("bad xml", lambda: dom.snapshotCreateXML("<domainsnapshot>"))
xml = first.getXMLDesc()
print("xml has name", "<name>first</name>" in xml, "description" in xml, "<domain" in xml)
print("revert", dom.revertToSnapshot(first))
print("after revert", *dom.state(), dom.info()[2], dom.snapshotCurrent().getName())
print("revert paused", dom.revertToSnapshot(second, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED))
print("state", *dom.state())
print("delete children", second.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY))
print("left", sorted(dom.snapshotListNames()))
attempt("metadata only", lambda: first.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY))
print("delete", first.delete())
attempt("deleted lookup", lambda: dom.snapshotLookupByName("first").getName())
print("left", sorted(dom.snapshotListNames()))
attempt("delete twice", first.delete)
print("delete rest", second.delete(), dom.snapshotNum())
conn.close()
