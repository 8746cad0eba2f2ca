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
``virNWFilterGetXMLDesc`` and undefined again.

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
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libvirt

LIBVIRTD = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
STARTUP_LIMIT = 30.0
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
            LIBVIRTD,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    sock = root / "run" / "libvirt" / "libvirt-sock"
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        if sock.exists():
            try:
                return proc, libvirt.open(f"nwfilter:///system?socket={sock}")
            except libvirt.libvirtError:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the private libvirtd did not start")
        time.sleep(0.1)


def outcome(conn, text):
    try:
        obj = conn.nwfilterDefineXML(text)
    except libvirt.libvirtError as exc:
        return {
            "ok": False,
            "code": exc.get_error_code(),
            "domain": exc.get_error_domain(),
            "message": exc.get_error_message(),
        }
    try:
        return {"ok": True, "xml": obj.XMLDesc(0)}
    finally:
        obj.undefine()


def dump(conn, directory):
    results = {}
    for source in sorted(directory.glob("*.input.xml")):
        name = source.name[: -len(".input.xml")]
        result = outcome(conn, source.read_text())
        if not result["ok"]:
            raise SystemExit(f"{name}: {result['message']}")
        results[name] = result["xml"]
    return results


def main(argv):
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    workdir = tempfile.mkdtemp(prefix="virtcore-nwfilter-oracle-")
    proc = None
    try:
        proc, conn = start_daemon(workdir)
        try:
            if argv[1] in ("dump", "record"):
                directory = Path(argv[2])
                results = dump(conn, directory)
                if argv[1] == "record":
                    for name, text in results.items():
                        (directory / f"{name}.xml").write_text(text)
                else:
                    json.dump(results, sys.stdout, indent=1, sort_keys=True)
            elif argv[1] == "run":
                cases = json.load(sys.stdin)
                json.dump([outcome(conn, c["xml"]) for c in cases], sys.stdout)
            else:
                raise SystemExit(f"unknown mode {argv[1]!r}")
        finally:
            conn.close()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=STARTUP_LIMIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
