"""Ask real libvirt 9.0 (python3-libvirt, test:///default) what it makes of checkpoint documents.

Run with the system interpreter that has python3-libvirt. Every case runs
on a fresh ``test:///default`` connection against its domain ``test``, or
against the domain of ``DIR/domain-two-disks.xml`` (defined and started)
when the case says ``"domain": "two-disks"``. A case may first create the
checkpoints listed in ``"before"`` (names, in order), then calls
``virDomainCheckpointCreateXML(xml, flags)`` and reads the checkpoint back
with ``virDomainCheckpointGetXMLDesc(xml_flags)``.

``dump DIR`` / ``record DIR``
    For every ``DIR/<name>.input.xml`` with its options in
    ``DIR/cases.json`` (name -> {"flags", "xml_flags", "domain", "before"})
    print a JSON object name -> outcome, or write the text of successful
    outcomes to ``DIR/<name>.xml`` and all outcomes to ``DIR/outcomes.json``.
``run DIR``
    Read a JSON list of case objects with an ``"xml"`` key from stdin and
    print the list of outcomes: ``{"ok": true, "xml": ...}`` or
    ``{"ok": false, "code": N, "domain": N, "message": ...}``.
"""

import sys
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import private_daemon  # found through the path set just above


def outcome(case, directory):
    conn = libvirt.open("test:///default")
    try:
        if case.get("domain"):
            xml = (directory / f"domain-{case['domain']}.xml").read_text()
            dom = conn.defineXML(xml)
            dom.create()
        else:
            dom = conn.lookupByName("test")
        for name in case.get("before", []):
            dom.checkpointCreateXML(f"<domaincheckpoint><name>{name}</name></domaincheckpoint>")
        cp = dom.checkpointCreateXML(case["xml"], case.get("flags", 0))
        return {"ok": True, "xml": cp.getXMLDesc(case.get("xml_flags", 0))}
    except libvirt.libvirtError as exc:
        return private_daemon.error_outcome(exc)
    finally:
        conn.close()


def main(argv):
    private_daemon.quiet_libvirt()
    directory = Path(argv[2])
    private_daemon.serve_cases(argv, lambda case: outcome(case, directory))


if __name__ == "__main__":
    main(sys.argv)
