# mypy: ignore-errors
"""Define, run and remove a guest, reporting state and failures like a provisioning tool."""

import libvirt

XML = """<domain type='test'>
  <name>web1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <memory unit='KiB'>524288</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
</domain>"""


def report(label, dom):
    state, reason = dom.state()
    print(f"{label}: state={state} reason={reason} active={dom.isActive()} id={dom.ID()}")


def attempt(label, call):
    try:
        result = call()
        print(f"{label}: ok {result}")
    except libvirt.libvirtError as e:
        print(f"{label}: error {e.get_error_code()} {e.get_error_domain()} {e.get_error_message()}")


libvirt.registerErrorHandler(lambda ctx, err: None, None)
conn = libvirt.open("test:///default")
dom = conn.defineXML(XML)
report("defined", dom)
print("create", dom.create())
report("created", dom)
attempt("create again", dom.create)
print("suspend", dom.suspend())
report("suspended", dom)
print("resume", dom.resume())
report("resumed", dom)
print("destroy", dom.destroy())
report("destroyed", dom)
attempt("destroy again", dom.destroy)
print("autostart", dom.setAutostart(1), dom.autostart())
print("createWithFlags", dom.createWithFlags(0))
print("shutdown", dom.shutdown())
report("shut down", dom)
attempt("lookup missing", lambda: conn.lookupByName("nosuch"))
attempt("lookup by id", lambda: conn.lookupByID(12345))
attempt("bad xml", lambda: conn.defineXML("<domain"))
print("undefine", dom.undefine())
attempt("lookup undefined", lambda: conn.lookupByName("web1"))
ro = libvirt.openReadOnly("test:///default")
attempt("read-only destroy", lambda: ro.lookupByName("test").destroy())
ro.close()
transient = conn.createXML(XML.replace("web1", "tmp1"), 0)
report("transient", transient)
print("transient persistent", transient.isPersistent())
print("destroy transient", transient.destroy())
attempt("lookup transient", lambda: conn.lookupByName("tmp1"))
conn.close()
attempt("closed connection", conn.getType)
