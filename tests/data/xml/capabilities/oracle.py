"""Ask real libvirt 9.0 (python3-libvirt, test driver) for host capabilities documents.

Run with the system interpreter that has python3-libvirt. ``dump DIR``
prints a JSON object name -> capabilities text: ``testdriver-default``
from ``test:///default`` and ``testdriver-<name>`` for every
``DIR/<name>.input.xml`` test driver host file (``test:///<path>``);
``record DIR`` writes them to ``DIR/<name>.xml`` (the golden files).
"""

import ctypes
import json
import sys
from pathlib import Path

import libvirt

_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)


def capabilities(uri):
    conn = libvirt.open(uri)
    try:
        return conn.getCapabilities()
    finally:
        conn.close()


def dump(directory):
    results = {"testdriver-default": capabilities("test:///default")}
    for source in sorted(directory.glob("*.input.xml")):
        name = source.name[: -len(".input.xml")]
        results[f"testdriver-{name}"] = capabilities(f"test://{source.resolve()}")
    return results


def main(argv):
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)
    directory = Path(argv[2])
    results = dump(directory)
    if argv[1] == "record":
        for name, text in results.items():
            (directory / f"{name}.xml").write_text(text)
    else:
        json.dump(results, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv)
