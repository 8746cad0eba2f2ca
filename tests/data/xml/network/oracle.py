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

import sys
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import private_daemon  # found through the path set just above


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


def main(argv):
    private_daemon.quiet_libvirt()
    conn = libvirt.open("test:///default")
    try:
        private_daemon.serve(
            argv,
            lambda case: private_daemon.attempt(lambda: describe(conn, case["kind"], case["xml"])),
            kind_of=lambda _directory, name: kind_of(name),
        )
    finally:
        conn.close()


if __name__ == "__main__":
    main(sys.argv)
