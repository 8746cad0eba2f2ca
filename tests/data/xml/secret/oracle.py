"""Ask real libvirt 9.0 (python3-libvirt, its secret driver) about secret XML.

Run with the system interpreter that has python3-libvirt. libvirt's test
driver has no secrets, so this script starts a private, unprivileged
libvirtd in session mode (as ``nobody`` when run by root) with all its
directories in a temporary directory, talks to it through
``secret:///session?socket=...``, and stops it before exiting. The daemon
also exits on its own after two idle minutes should this script die.

Every document is defined with ``virSecretDefineXML``, described with
``virSecretGetXMLDesc`` and undefined again (the modes and the daemon's
teardown are those of ../private_daemon.py).

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import private_daemon  # found through the path set just above


def start_daemon(workdir):
    """A session libvirtd whose state lives under *workdir*; returns (process, connection)."""
    return private_daemon.session_daemon(workdir, "secret")


def main(argv):
    private_daemon.quiet_libvirt()
    private_daemon.main(
        argv,
        start_daemon=start_daemon,
        define=lambda conn, text: conn.secretDefineXML(text, 0),
        prefix="virtcore-secret-oracle-",
        # The daemon runs as nobody: it must reach its directories.
        prepare=lambda workdir: os.chmod(workdir, 0o777),
    )


if __name__ == "__main__":
    main(sys.argv)
