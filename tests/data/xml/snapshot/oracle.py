"""Ask real libvirt 9.0 (python3-libvirt, test:///default) what it makes of snapshot documents.

Run with the system interpreter that has python3-libvirt. Every case runs
on a fresh ``test:///default`` connection against its domain ``test``
(running, or shut off first when the case says ``"shutoff": true``) with
``virDomainSnapshotCreateXML(xml, flags)`` and reads the snapshot back
with ``virDomainSnapshotGetXMLDesc(xml_flags)``.

``dump DIR`` / ``record DIR``
    For every ``DIR/<name>.input.xml`` with its options in
    ``DIR/cases.json`` (name -> {"flags", "xml_flags", "shutoff"}) print a
    JSON object name -> outcome, or write the text of successful outcomes
    to ``DIR/<name>.xml`` and all outcomes to ``DIR/outcomes.json``.
``run``
    Read a JSON list of ``{"xml", "flags", "xml_flags", "shutoff"}`` from
    stdin and print the list of outcomes: ``{"ok": true, "xml": ...}`` or
    ``{"ok": false, "code": N, "domain": N, "message": ...}``.
"""

import ctypes
import json
import sys
from pathlib import Path

import libvirt

_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)


def outcome(case):
    conn = libvirt.open("test:///default")
    try:
        dom = conn.lookupByName("test")
        if case.get("shutoff"):
            dom.destroy()
        snap = dom.snapshotCreateXML(case["xml"], case.get("flags", 0))
        return {"ok": True, "xml": snap.getXMLDesc(case.get("xml_flags", 0))}
    except libvirt.libvirtError as exc:
        return {
            "ok": False,
            "code": exc.get_error_code(),
            "domain": exc.get_error_domain(),
            "message": exc.get_error_message(),
        }
    finally:
        conn.close()


def dump(directory):
    options = json.loads((directory / "cases.json").read_text())
    results = {}
    for source in sorted(directory.glob("*.input.xml")):
        name = source.name[: -len(".input.xml")]
        results[name] = outcome({"xml": source.read_text(), **options.get(name, {})})
    return results


def main(argv):
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)
    if argv[1] in ("dump", "record"):
        directory = Path(argv[2])
        results = dump(directory)
        if argv[1] == "record":
            for name, result in results.items():
                if result["ok"]:
                    (directory / f"{name}.xml").write_text(result["xml"])
            (directory / "outcomes.json").write_text(json.dumps(results, indent=1, sort_keys=True))
        else:
            json.dump(results, sys.stdout, indent=1, sort_keys=True)
    elif argv[1] == "run":
        json.dump([outcome(c) for c in json.load(sys.stdin)], sys.stdout)
    else:
        raise SystemExit(f"unknown mode {argv[1]!r}")


if __name__ == "__main__":
    main(sys.argv)
