"""Ask real libvirt 9.0 (python3-libvirt, its nwfilter driver) about network filter XML.

Run with the system interpreter that has python3-libvirt, as root.
libvirt's test driver has no network filters and the nwfilter driver only
runs in a privileged daemon, so this script starts a private libvirtd
that loads the nwfilter driver alone, inside its own mount namespace
(``unshare -m``) where /etc/libvirt, /run and /var are temporary
directories: it neither sees nor touches the host's libvirt state, and
defining a filter instantiates nothing. The script talks to it through
``nwfilter:///system?socket=...`` and stops it before exiting; the daemon
also exits on its own after two idle minutes should this script die.

Every document is defined with ``virNWFilterDefineXML``, described with
``virNWFilterGetXMLDesc`` and undefined again (the modes and the daemon's
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

import glob
import os
import subprocess
import sys
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import private_daemon  # found through the path set just above

_NAMESPACE_SCRIPT = (
    'mount --bind "$1/etc" /etc/libvirt && mount --bind "$1/run" /run && '
    'mount --bind "$1/var" /var && exec env LIBVIRT_DRIVER_DIR="$1/drivers" '
    '"$2" --timeout 120'
)


def _driver_module():
    found = glob.glob("/usr/lib*/*/libvirt/connection-driver/libvirt_driver_nwfilter.so")
    found += glob.glob("/usr/lib*/libvirt/connection-driver/libvirt_driver_nwfilter.so")
    if not found:
        raise SystemExit("libvirt's nwfilter driver module is not installed")
    return found[0]


def start_daemon(workdir):
    """A privileged libvirtd confined to a mount namespace; returns (process, connection)."""
    if os.geteuid() != 0:
        raise SystemExit("the nwfilter oracle needs root (a privileged nwfilter driver)")
    if not Path("/etc/libvirt").is_dir():
        raise SystemExit("/etc/libvirt is missing (libvirt-daemon is not installed)")
    root = Path(workdir)
    for sub in ("etc", "run", "var", "drivers"):
        (root / sub).mkdir()
    os.symlink(_driver_module(), root / "drivers" / "libvirt_driver_nwfilter.so")
    proc = subprocess.Popen(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            _NAMESPACE_SCRIPT,
            "sh",
            str(root),
            private_daemon.LIBVIRTD,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    sock = root / "run" / "libvirt" / "libvirt-sock"
    conn = private_daemon.connect_when_ready(
        proc, sock, f"nwfilter:///system?socket={sock}", "the private libvirtd"
    )
    return proc, conn


def main(argv):
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    private_daemon.main(
        argv,
        start_daemon=start_daemon,
        define=lambda conn, text: conn.nwfilterDefineXML(text),
        prefix="virtcore-nwfilter-oracle-",
    )


if __name__ == "__main__":
    main(sys.argv)
