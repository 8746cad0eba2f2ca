"""Ask real libvirt 9.0 (python3-libvirt, test:///default) about network and storage documents.

Run with the system interpreter that has python3-libvirt; it serves the
goldens of tests/data/xml/network and tests/data/xml/storage. The kind of a
document comes from its file name: ``pool-*`` files are storage pools
(``virStoragePoolDefineXML``), ``vol-*`` files volumes created in the test
driver's ``default-pool`` (``virStorageVolCreateXML``), anything else a
network (``virNetworkDefineXML``). Every object is removed again after its
description is read, so cases do not see each other.

``dump DIR``
    Define every ``DIR/<name>.input.xml`` and print a JSON object
    name -> the XML libvirt describes the object with.
``record DIR``
    The same, written to ``DIR/<name>.xml`` (the golden files).
``run``
    Read a JSON list of ``{"kind": "network"|"pool"|"volume", "xml": TEXT}``
    from stdin and print a JSON list of outcomes: ``{"ok": true, "xml": ...}``
    or ``{"ok": false, "code": N, "domain": N, "message": ...}``.
"""

import ctypes
import json
import sys
from pathlib import Path

import libvirt

_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
# libvirt prints every error to stderr unless told otherwise.
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)


def kind_of(name):
    if name.startswith("pool-"):
        return "pool"
    if name.startswith("vol-"):
        return "volume"
    return "network"


def describe(conn, kind, text):
    if kind == "network":
        obj = conn.networkDefineXML(text)
        try:
            return obj.XMLDesc(0)
        finally:
            obj.undefine()
    if kind == "pool":
        obj = conn.storagePoolDefineXML(text, 0)
        try:
            return obj.XMLDesc(0)
        finally:
            obj.undefine()
    if kind == "volume":
        obj = conn.storagePoolLookupByName("default-pool").createXML(text, 0)
        try:
            return obj.XMLDesc(0)
        finally:
            obj.delete(0)
    raise SystemExit(f"unknown kind {kind!r}")


def outcome(conn, kind, text):
    try:
        return {"ok": True, "xml": describe(conn, kind, text)}
    except libvirt.libvirtError as exc:
        return {
            "ok": False,
            "code": exc.get_error_code(),
            "domain": exc.get_error_domain(),
            "message": exc.get_error_message(),
        }


def dump(conn, directory):
    results = {}
    for source in sorted(directory.glob("*.input.xml")):
        name = source.name[: -len(".input.xml")]
        results[name] = describe(conn, kind_of(name), source.read_text())
    return results


def main(argv):
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)
    conn = libvirt.open("test:///default")
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
            json.dump([outcome(conn, c["kind"], c["xml"]) for c in cases], sys.stdout)
        else:
            raise SystemExit(f"unknown mode {argv[1]!r}")
    finally:
        conn.close()


if __name__ == "__main__":
    main(sys.argv)
