"""What the oracle scripts that need a private libvirtd share (system interpreter only).

libvirt's test driver has no secrets and no network filters, so
secret/oracle.py and nwfilter/oracle.py each start a libvirtd of their own,
with all its state in a temporary directory. How each daemon is started
differs (an unprivileged session daemon, a privileged one in a mount
namespace); the rest is here:

* :func:`connect_when_ready` waits for the daemon's socket and connects;
* :func:`outcome` defines a document, describes it and undefines it again;
* :func:`main` runs the modes both scripts offer and always stops the
  daemon and removes its directory:

``dump DIR``
    Describe every ``DIR/<name>.input.xml``; print a JSON object name -> XML.
``record DIR``
    The same, written to ``DIR/<name>.xml`` (the golden files).
``run``
    Read a JSON list of ``{"xml": TEXT}`` from stdin and print a JSON list of
    outcomes: ``{"ok": true, "xml": ...}`` or ``{"ok": false, "code": N,
    "domain": N, "message": ...}``.
"""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libvirt

LIBVIRTD = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
STARTUP_LIMIT = 30.0


def connect_when_ready(proc, sock, uri, what):
    """The connection to *uri* once the daemon *proc* listens on *sock*.

    Gives up (killing the daemon) when it exits or has not answered within
    :data:`STARTUP_LIMIT` seconds; *what* names it in the message.
    """
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        if sock.exists():
            try:
                return libvirt.open(uri)
            except libvirt.libvirtError:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"{what} did not start")
        time.sleep(0.1)


def outcome(define, text):
    """libvirt's answer to *text*: ``define(text)`` then ``XMLDesc(0)``, or its error."""
    try:
        obj = define(text)
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


def dump(define, directory):
    """Every ``<name>.input.xml`` of *directory* as libvirt describes it; name -> XML."""
    results = {}
    for source in sorted(directory.glob("*.input.xml")):
        name = source.name[: -len(".input.xml")]
        result = outcome(define, source.read_text())
        if not result["ok"]:
            raise SystemExit(f"{name}: {result['message']}")
        results[name] = result["xml"]
    return results


def stop(proc):
    """Stop the daemon *proc*, killing it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=STARTUP_LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv, *, start_daemon, define, prefix, prepare=None):
    """Run mode ``argv[1]`` against a daemon from ``start_daemon(workdir)``.

    ``start_daemon`` returns (process, connection); ``define(conn, text)``
    defines a document; ``prepare(workdir)``, if given, readies the
    temporary directory (named after *prefix*) before the daemon starts.
    """
    workdir = tempfile.mkdtemp(prefix=prefix)
    if prepare is not None:
        prepare(workdir)
    proc = None
    try:
        proc, conn = start_daemon(workdir)
        try:

            def defined(text):
                return define(conn, text)

            if argv[1] in ("dump", "record"):
                directory = Path(argv[2])
                results = dump(defined, directory)
                if argv[1] == "record":
                    for name, text in results.items():
                        (directory / f"{name}.xml").write_text(text)
                else:
                    json.dump(results, sys.stdout, indent=1, sort_keys=True)
            elif argv[1] == "run":
                cases = json.load(sys.stdin)
                json.dump([outcome(defined, c["xml"]) for c in cases], sys.stdout)
            else:
                raise SystemExit(f"unknown mode {argv[1]!r}")
        finally:
            conn.close()
    finally:
        if proc is not None:
            stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)
