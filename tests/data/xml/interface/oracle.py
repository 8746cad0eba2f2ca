"""Ask real libvirt 9.0 (python3-libvirt, test driver) about host interface and node device XML.

Run with the system interpreter that has python3-libvirt; it serves the
goldens of tests/data/xml/interface and tests/data/xml/nodedev. The kind
of a document comes from its directory (or the ``kind`` of a ``run`` case):

* ``interface``: defined with ``virInterfaceDefineXML`` on ``test:///default``
  and described with ``virInterfaceGetXMLDesc``, then undefined again;
* ``nodedev``: written into a custom test driver file
  (``<node><device>...</device></node>``) opened as ``test:///<file>``, the
  way libvirt's test driver loads host devices, and described with
  ``virNodeDeviceGetXMLDesc``.

``dump DIR``
    Describe every ``DIR/<name>.input.xml``; print a JSON object name -> XML.
``record DIR``
    The same, written to ``DIR/<name>.xml`` (the golden files).
``run``
    Read a JSON list of ``{"kind": ..., "xml": TEXT}`` from stdin and print a
    JSON list of outcomes: ``{"ok": true, "xml": ...}`` or ``{"ok": false,
    "code": N, "domain": N, "message": ...}``.
"""

import os
import sys
import tempfile
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import private_daemon  # found through the path set just above


def describe_interface(conn, text):
    obj = conn.interfaceDefineXML(text, 0)
    try:
        return obj.XMLDesc(0)
    finally:
        obj.undefine()


def main(argv):
    private_daemon.quiet_libvirt()
    conn = libvirt.open("test:///default")
    with tempfile.TemporaryDirectory() as workdir:
        os.chmod(workdir, 0o755)

        def outcome(case):
            if case["kind"] == "interface":
                return private_daemon.attempt(lambda: describe_interface(conn, case["xml"]))
            return private_daemon.attempt(
                lambda: private_daemon.describe_nodedev(case["xml"], workdir)
            )

        try:
            private_daemon.serve(argv, outcome, kind_of=lambda directory, _name: directory.name)
        finally:
            conn.close()


if __name__ == "__main__":
    main(sys.argv)
