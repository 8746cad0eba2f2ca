# mypy: ignore-errors
"""Titles, descriptions, namespaced metadata and renaming, as inventory tools use them."""

import libvirt
from scriptlib import attempt, open_quiet

NS = "http://example.org/inventory/1"
TITLE = libvirt.VIR_DOMAIN_METADATA_TITLE
DESCRIPTION = libvirt.VIR_DOMAIN_METADATA_DESCRIPTION
ELEMENT = libvirt.VIR_DOMAIN_METADATA_ELEMENT
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


conn = open_quiet()
dom = conn.lookupByName("test")
attempt("no title", lambda: dom.metadata(TITLE, None))
print("set title", dom.setMetadata(TITLE, "Web server", None, None, LIVE))
print("title", dom.metadata(TITLE, None, LIVE))
attempt("title in config", lambda: dom.metadata(TITLE, None, CONFIG))
print("set both", dom.setMetadata(DESCRIPTION, "Serves\nthe site", None, None, LIVE | CONFIG))
print("description", repr(dom.metadata(DESCRIPTION, None, CONFIG)))
xml = "<owner><team>ops</team></owner>"
print("element", dom.setMetadata(ELEMENT, xml, "inv", NS, LIVE))
print("read element", dom.metadata(ELEMENT, NS, LIVE))
attempt("other namespace", lambda: dom.metadata(ELEMENT, "http://example.org/none", LIVE))
attempt("element without uri", lambda: dom.setMetadata(ELEMENT, xml, "inv", None, LIVE))
attempt("bad element", lambda: dom.setMetadata(ELEMENT, "<open>", "inv", NS, LIVE))
print("in xml", "Web server" in dom.XMLDesc(), "inv:owner" in dom.XMLDesc())
print("remove", dom.setMetadata(ELEMENT, None, None, NS, LIVE))
attempt("removed", lambda: dom.metadata(ELEMENT, NS, LIVE))
print("clear title", dom.setMetadata(TITLE, "", None, None, LIVE))
attempt("cleared", lambda: dom.metadata(TITLE, None, LIVE))
attempt("bad type", lambda: dom.metadata(7, None))
attempt("rename running", lambda: dom.rename("web"))
dom.destroy()
print("rename", dom.rename("web", 0))
print("old name handle", dom.name())
print("lookup new", conn.lookupByName("web").UUIDString() == dom.UUIDString())
attempt("lookup old", lambda: conn.lookupByName("test"))
conn.defineXML(
    "<domain type='test'><name>other</name><memory>1024</memory><os><type>hvm</type></os></domain>"
)
attempt("rename to taken", lambda: conn.lookupByName("web").rename("other"))
attempt("rename to empty", lambda: conn.lookupByName("web").rename(""))
print("defined", sorted(conn.listDefinedDomains()))
conn.close()
