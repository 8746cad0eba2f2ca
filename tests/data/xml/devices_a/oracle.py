"""Ask real libvirt what it makes of domain documents: every dumpxml variant, or the error.

Run with the system interpreter that has python3-libvirt (test:///default).

``oracle.py``
    reads a JSON object name -> domain XML text on stdin and prints a JSON
    object name -> outcome;
``oracle.py record DIR``
    does the same for every DIR/cases/<name>.xml and stores the outcomes as
    DIR/golden.json, the recorded answers the tests compare with;
``oracle.py record-snippets DIR``
    defines a small domain around each device snippet of DIR/snippets.txt
    (separated by lines ``=====``, see :func:`snippet_domain`) and stores
    what libvirt made of its ``<devices>`` (``defined:0``, or the error) as
    DIR/snippets.json, in the order of the snippets.

Each document is defined (``virDomainDefineXML``). An outcome is
``{"error": [code, domain, message]}`` or ``{"xml": {KEY: TEXT}}``: the
``dumpxml`` of the defined domain for the flags 0, SECURE (1) and
MIGRATABLE (8) (KEY ``defined:FLAGS``; libvirt formats a domain that is not
running as with INACTIVE anyway) and of the domain once started
(``running:0`` and ``running:2``).

Uses the quiet error handler of tests/data/xml/libvirt_oracle.py.
"""

import json
import re
import sys
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import libvirt_oracle

DEFINED_FLAGS = (0, 1, 8)
RUNNING_FLAGS = (0, 2)


def run(cases):
    conn = libvirt.open("test:///default")
    out = {}
    for name, text in sorted(cases.items()):
        try:
            dom = conn.defineXML(text)
        except libvirt.libvirtError as exc:
            out[name] = {
                "error": [exc.get_error_code(), exc.get_error_domain(), exc.get_error_message()]
            }
            continue
        texts = {f"defined:{flags}": dom.XMLDesc(flags) for flags in DEFINED_FLAGS}
        try:
            dom.create()
        except libvirt.libvirtError:
            pass
        else:
            texts.update({f"running:{flags}": dom.XMLDesc(flags) for flags in RUNNING_FLAGS})
            dom.destroy()
        dom.undefine()
        out[name] = {"xml": texts}
    conn.close()
    return out


SNIPPET_HEAD = (
    "<domain type='test'><name>snippet</name><memory>4194304</memory>"
    "<os><type>hvm</type></os><devices>"
)
SNIPPET_TAIL = "</devices></domain>"
DEVICES = re.compile(r"^  <devices(?:/>|>\n.*?^  </devices>)\n", re.S | re.M)


def snippet_domain(snippet):
    """The domain document a device snippet is defined in."""
    return SNIPPET_HEAD + snippet + SNIPPET_TAIL


def record_snippets(directory):
    snippets = (directory / "snippets.txt").read_text().split("\n=====\n")
    conn = libvirt.open("test:///default")
    out = []
    for snippet in snippets:
        try:
            dom = conn.defineXML(snippet_domain(snippet.strip()))
        except libvirt.libvirtError as exc:
            out.append(
                {"error": [exc.get_error_code(), exc.get_error_domain(), exc.get_error_message()]}
            )
            continue
        out.append({"devices": DEVICES.search(dom.XMLDesc(0)).group(0)})
        dom.undefine()
    conn.close()
    (directory / "snippets.json").write_text(json.dumps(out, indent=0) + "\n")


def main(argv):
    libvirt_oracle._c_api().virSetErrorFunc(None, libvirt_oracle._QUIET)
    if len(argv) > 2 and argv[1] == "record-snippets":
        record_snippets(Path(argv[2]))
        return
    if len(argv) > 2 and argv[1] == "record":
        directory = Path(argv[2])
        cases = {p.stem: p.read_text() for p in sorted((directory / "cases").glob("*.xml"))}
        golden = run(cases)
        (directory / "golden.json").write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    json.dump(run(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
