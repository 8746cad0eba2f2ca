"""Ask real libvirt 9.0 (python3-libvirt, test:///default) what it makes of domain documents.

Run with the system interpreter that has python3-libvirt; it never imports
virtcore. Modes:

``record DIR``
    Defines every ``DIR/<name>.input.xml`` and writes what libvirt prints
    for it: ``<name>.xml`` (``virDomainGetXMLDesc(0)``) and
    ``<name>.inactive.xml`` (``VIR_DOMAIN_XML_INACTIVE``) - the golden files.

``define``
    Reads a JSON list of ``{"xml": TEXT, "flags": [N, ...]}`` from stdin,
    defines each document and prints a JSON list of outcomes:
    ``{"ok": true, "xml": {"N": TEXT, ...}}`` (one text per XMLDesc flag
    value) or ``{"ok": false, "code": N, "domain": N, "message": TEXT}``.
    Each domain is undefined again, so cases do not interfere.
"""

import json
import sys
from pathlib import Path
from typing import Any

import libvirt  # type: ignore[import-not-found]

INACTIVE = 2


def _quiet(_ctx: object, _err: object) -> None:
    # libvirt prints every error to stderr unless a handler takes it.
    return None


def define(conn: Any, text: str, flags: list[int]) -> dict[str, Any]:
    try:
        dom = conn.defineXML(text)
    except libvirt.libvirtError as exc:
        return {
            "ok": False,
            "code": exc.get_error_code(),
            "domain": exc.get_error_domain(),
            "message": exc.get_error_message(),
        }
    try:
        return {"ok": True, "xml": {str(f): dom.XMLDesc(f) for f in flags}}
    finally:
        dom.undefine()


def record(directory: Path) -> None:
    conn = libvirt.open("test:///default")
    for source in sorted(directory.glob("*.input.xml")):
        name = source.name[: -len(".input.xml")]
        outcome = define(conn, source.read_text(), [0, INACTIVE])
        if not outcome["ok"]:
            raise SystemExit(f"{name}: libvirt refuses it: {outcome['message']}")
        (directory / f"{name}.xml").write_text(outcome["xml"]["0"])
        (directory / f"{name}.inactive.xml").write_text(outcome["xml"][str(INACTIVE)])
    conn.close()


def batch(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    conn = libvirt.open("test:///default")
    out = [define(conn, case["xml"], case.get("flags", [0])) for case in cases]
    conn.close()
    return out


def main(argv: list[str]) -> None:
    libvirt.registerErrorHandler(_quiet, None)
    if argv[1] == "record":
        record(Path(argv[2]))
    elif argv[1] == "define":
        json.dump(batch(json.load(sys.stdin)), sys.stdout)
    else:
        raise SystemExit(f"unknown mode {argv[1]!r}")


if __name__ == "__main__":
    main(sys.argv)
