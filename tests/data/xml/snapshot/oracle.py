"""Ask real libvirt 9.0 (python3-libvirt, test:///default) what it makes of snapshot documents.

Run with the system interpreter that has python3-libvirt. Every case runs
on a fresh ``test:///default`` connection against its domain ``test``
(running, or shut off first when the case says ``"shutoff": true``) with
``virDomainSnapshotCreateXML(xml, flags)`` and reads the snapshot back
with ``virDomainSnapshotGetXMLDesc(xml_flags)``.

``dump DIR`` / ``record DIR``
    For every ``DIR/<name>.input.xml`` with its options in
    ``DIR/cases.json`` (name -> {"flags", "xml_flags", "shutoff"}) print a
    JSON object name -> outcome, or write the text of successful outcomes
    to ``DIR/<name>.xml`` and all outcomes to ``DIR/outcomes.json``.
``run``
    Read a JSON list of ``{"xml", "flags", "xml_flags", "shutoff"}`` from
    stdin and print the list of outcomes: ``{"ok": true, "xml": ...}`` or
    ``{"ok": false, "code": N, "domain": N, "message": ...}``.
"""

import sys
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import private_daemon  # found through the path set just above


def outcome(case):
    conn = libvirt.open("test:///default")
    try:
        dom = conn.lookupByName("test")
        if case.get("shutoff"):
            dom.destroy()
        snap = dom.snapshotCreateXML(case["xml"], case.get("flags", 0))
        return {"ok": True, "xml": snap.getXMLDesc(case.get("xml_flags", 0))}
    except libvirt.libvirtError as exc:
        return private_daemon.error_outcome(exc)
    finally:
        conn.close()


def main(argv):
    private_daemon.quiet_libvirt()
    private_daemon.serve_cases(argv, outcome)


if __name__ == "__main__":
    main(sys.argv)
