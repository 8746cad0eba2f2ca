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

import ctypes
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import libvirt

_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
# libvirt prints every error to stderr unless told otherwise.
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def describe(text, workdir):
    body = _DECL.sub("", text)
    path = Path(workdir) / "node.xml"
    path.write_text(f"<node>\n{body}\n</node>\n")
    conn = libvirt.open(f"test://{path}")
    try:
        names = conn.listDevices(None, 0)
        if not names:
            return ""
        return conn.nodeDeviceLookupByName(names[0]).XMLDesc(0)
    finally:
        conn.close()


def outcome(text, workdir):
    try:
        return {"ok": True, "xml": describe(text, workdir)}
    except libvirt.libvirtError as exc:
        return {
            "ok": False,
            "code": exc.get_error_code(),
            "domain": exc.get_error_domain(),
            "message": exc.get_error_message(),
        }


def dump(directory, workdir):
    results = {}
    for source in sorted(directory.glob("*.input.xml")):
        name = source.name[: -len(".input.xml")]
        result = outcome(source.read_text(), workdir)
        if not result["ok"]:
            raise SystemExit(f"{name}: {result['message']}")
        results[name] = result["xml"]
    return results


def main(argv):
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)
    with tempfile.TemporaryDirectory() as workdir:
        os.chmod(workdir, 0o755)
        if argv[1] in ("dump", "record"):
            directory = Path(argv[2])
            results = dump(directory, workdir)
            if argv[1] == "record":
                for name, text in results.items():
                    (directory / f"{name}.xml").write_text(text)
            else:
                json.dump(results, sys.stdout, indent=1, sort_keys=True)
        elif argv[1] == "run":
            cases = json.load(sys.stdin)
            json.dump([outcome(c["xml"], workdir) for c in cases], sys.stdout)
        else:
            raise SystemExit(f"unknown mode {argv[1]!r}")


if __name__ == "__main__":
    main(sys.argv)
