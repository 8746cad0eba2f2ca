"""Ask real libvirt what it makes of domain documents, with every dumpxml flag variant.

Run with the system interpreter that has python3-libvirt (test:///default).

``devices_oracle.py``
    reads a JSON object name -> domain XML text on stdin and prints a JSON
    object name -> outcome;
``devices_oracle.py record DIR``
    does the same for every DIR/cases/<name>.xml and stores the outcomes as
    DIR/golden.json (the recorded answers the tests compare with).

Each document is defined (``virDomainDefineXML``). An outcome is
``{"error": [code, domain, message]}`` or ``{"xml": {KEY: TEXT}}`` with the
``dumpxml`` of the defined domain (KEY ``defined:FLAGS`` for the flags 0,
SECURE (1) and MIGRATABLE (8); libvirt formats a domain that is not running
as with INACTIVE anyway) and of the same domain started (``running:FLAGS``
for 0, 1, INACTIVE (2) and 8).

Extends tests/data/xml/libvirt_oracle.py (same interpreter, same quiet error
handler) with the flag variants the device models must reproduce.
"""

import json
import sys
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import libvirt_oracle

DEFINED_FLAGS = (0, 1, 8)
RUNNING_FLAGS = (0, 1, 2, 8)


def run(cases):
    conn = libvirt.open("test:///default")
    out = {}
    for name, text in sorted(cases.items()):
        try:
            dom = conn.defineXMLFlags(text, 0)
        except libvirt.libvirtError as exc:
            out[name] = {
                "error": [exc.get_error_code(), exc.get_error_domain(), exc.get_error_message()]
            }
            continue
        xml = {f"defined:{flags}": dom.XMLDesc(flags) for flags in DEFINED_FLAGS}
        dom.create()
        xml.update({f"running:{flags}": dom.XMLDesc(flags) for flags in RUNNING_FLAGS})
        dom.destroy()
        dom.undefine()
        out[name] = {"xml": xml}
    conn.close()
    return out


def main(argv):
    libvirt_oracle._c_api().virSetErrorFunc(None, libvirt_oracle._QUIET)
    if len(argv) > 2 and argv[1] == "record":
        directory = Path(argv[2])
        cases = {p.stem: p.read_text() for p in sorted((directory / "cases").glob("*.xml"))}
        outcomes = run(cases)
        (directory / "golden.json").write_text(
            json.dumps(outcomes, indent=1, sort_keys=True) + "\n"
        )
        return
    json.dump(run(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
