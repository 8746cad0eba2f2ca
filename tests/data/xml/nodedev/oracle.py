"""Ask real libvirt 9.0 (python3-libvirt, test driver) about node device XML.

Run with the system interpreter that has python3-libvirt; it serves the
goldens of tests/data/xml/nodedev. libvirt's test driver reads host devices
from a custom driver file, so each document is written into one
(``<node><device>...</device></node>``), opened as ``test:///<file>`` and
described with ``virNodeDeviceGetXMLDesc``; refused documents make the
connection fail with libvirt's parse error.

``dump DIR``
    Describe every ``DIR/<name>.input.xml``; print a JSON object name -> XML.
``record DIR``
    The same, written to ``DIR/<name>.xml`` (the golden files).
``run``
    Read a JSON list of ``{"xml": TEXT}`` from stdin and print a JSON list of
    outcomes: ``{"ok": true, "xml": ...}`` or ``{"ok": false, "code": N,
    "domain": N, "message": ...}``.
"""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import private_daemon  # found through the path set just above


def main(argv):
    private_daemon.quiet_libvirt()
    with tempfile.TemporaryDirectory() as workdir:
        os.chmod(workdir, 0o755)
        private_daemon.serve(
            argv,
            lambda case: private_daemon.attempt(
                lambda: private_daemon.describe_nodedev(case["xml"], workdir)
            ),
        )


if __name__ == "__main__":
    main(sys.argv)
