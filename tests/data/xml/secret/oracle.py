"""Ask real libvirt 9.0 (python3-libvirt, its secret driver) about secret XML.

Run with the system interpreter that has python3-libvirt. libvirt's test
driver has no secrets, so this script starts a private, unprivileged
libvirtd in session mode (as ``nobody`` when run by root) with all its
directories in a temporary directory, talks to it through
``secret:///session?socket=...``, and stops it before exiting. The daemon
also exits on its own after two idle minutes should this script die.

Every document is defined with ``virSecretDefineXML``, described with
``virSecretGetXMLDesc`` and undefined again.

``dump DIR``
    Describe every ``DIR/<name>.input.xml``; print a JSON object name -> XML.
``record DIR``
    The same, written to ``DIR/<name>.xml`` (the golden files).
``run``
    Read a JSON list of ``{"xml": TEXT}`` from stdin and print a JSON list of
    outcomes: ``{"ok": true, "xml": ...}`` or ``{"ok": false, "code": N,
    "domain": N, "message": ...}``.
"""

import ctypes
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
_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
# libvirt prints every error to stderr unless told otherwise.
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)


def start_daemon(workdir):
    """A session libvirtd whose state lives under *workdir*; returns (process, socket)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": workdir}
    for name in ("RUNTIME", "CONFIG", "CACHE", "DATA", "STATE"):
        path = Path(workdir) / name.lower()
        path.mkdir()
        os.chmod(path, 0o777)
        env[f"XDG_{name}_{'DIR' if name == 'RUNTIME' else 'HOME'}"] = str(path)
    user = "nobody" if os.geteuid() == 0 else None
    proc = subprocess.Popen(
        [LIBVIRTD, "--timeout", "120"],
        env=env,
        user=user,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    sock = Path(env["XDG_RUNTIME_DIR"]) / "libvirt" / "libvirt-sock"
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        if sock.exists():
            try:
                conn = libvirt.open(f"secret:///session?socket={sock}")
            except libvirt.libvirtError:
                conn = None
            if conn is not None:
                return proc, conn
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the session libvirtd did not start")
        time.sleep(0.1)


def outcome(conn, text):
    try:
        obj = conn.secretDefineXML(text, 0)
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
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)
    workdir = tempfile.mkdtemp(prefix="virtcore-secret-oracle-")
    os.chmod(workdir, 0o777)
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
