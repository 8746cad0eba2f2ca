"""Ask real libvirt 9.0 (python3-libvirt, test:///default) what it makes of checkpoint documents.

Run with the system interpreter that has python3-libvirt. Every case runs
on a fresh ``test:///default`` connection against its domain ``test``, or
against the domain of ``DIR/domain-two-disks.xml`` (defined and started)
when the case says ``"domain": "two-disks"``. A case may first create the
checkpoints listed in ``"before"`` (names, in order), then calls
``virDomainCheckpointCreateXML(xml, flags)`` and reads the checkpoint back
with ``virDomainCheckpointGetXMLDesc(xml_flags)``.

``dump DIR`` / ``record DIR``
    For every ``DIR/<name>.input.xml`` with its options in
    ``DIR/cases.json`` (name -> {"flags", "xml_flags", "domain", "before"})
    print a JSON object name -> outcome, or write the text of successful
    outcomes to ``DIR/<name>.xml`` and all outcomes to ``DIR/outcomes.json``.
``run DIR``
    Read a JSON list of case objects with an ``"xml"`` key from stdin and
    print the list of outcomes: ``{"ok": true, "xml": ...}`` or
    ``{"ok": false, "code": N, "domain": N, "message": ...}``.
"""

import ctypes
import json
import sys
from pathlib import Path

import libvirt

_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)


def outcome(case, directory):
    conn = libvirt.open("test:///default")
    try:
        if case.get("domain"):
            xml = (directory / f"domain-{case['domain']}.xml").read_text()
            dom = conn.defineXML(xml)
            dom.create()
        else:
            dom = conn.lookupByName("test")
        for name in case.get("before", []):
            dom.checkpointCreateXML(f"<domaincheckpoint><name>{name}</name></domaincheckpoint>")
        cp = dom.checkpointCreateXML(case["xml"], case.get("flags", 0))
        return {"ok": True, "xml": cp.getXMLDesc(case.get("xml_flags", 0))}
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
        results[name] = outcome({"xml": source.read_text(), **options.get(name, {})}, directory)
    return results


def main(argv):
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)
    directory = Path(argv[2])
    if argv[1] in ("dump", "record"):
        results = dump(directory)
        if argv[1] == "record":
            for name, result in results.items():
                if result["ok"]:
                    (directory / f"{name}.xml").write_text(result["xml"])
            (directory / "outcomes.json").write_text(json.dumps(results, indent=1, sort_keys=True))
        else:
            json.dump(results, sys.stdout, indent=1, sort_keys=True)
    elif argv[1] == "run":
        json.dump([outcome(c, directory) for c in json.load(sys.stdin)], sys.stdout)
    else:
        raise SystemExit(f"unknown mode {argv[1]!r}")


if __name__ == "__main__":
    main(sys.argv)
