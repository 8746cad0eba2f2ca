"""Ask real libvirt (python3-libvirt, test:///default) what it does with XML documents.

Run with the system interpreter that has python3-libvirt. Two modes:

``dump DIR [--write]``
    For every ``<name>.input.xml`` listed in ``DIR/manifest.json`` (name ->
    kind: domain, network, pool, volume, interface) define the document and
    collect the object's XML description; the kind ``capabilities`` collects
    the host capabilities. Prints a JSON object name -> XML text, or with
    ``--write`` stores each text as ``DIR/<name>.xml`` (the golden files).

``errors``
    Reads a JSON list of cases from stdin, each ``{"op": OP, "xml": TEXT}``
    where OP is ``define`` (``virDomainDefineXML``), ``define_validate`` (with
    ``VIR_DOMAIN_DEFINE_VALIDATE``), ``net_define_validate`` (a network, with
    ``VIR_NETWORK_DEFINE_VALIDATE``) or ``define_bytes`` (TEXT is base64 and
    goes to the C API unchanged, as ``virsh define`` passes a file). Prints a
    JSON list of outcomes: ``{"ok": true, "xml": ...}`` or ``{"ok": false,
    "code": N, "domain": N, "message": ...}`` (``message_b64`` for bytes).
"""

import base64
import ctypes
import json
import sys
from pathlib import Path

import libvirt

_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
# libvirt prints every error to stderr unless told otherwise; the handler of
# python3-libvirt would choke on messages that are no UTF-8.
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)


def dump(directory):
    conn = libvirt.open("test:///default")
    manifest = json.loads((directory / "manifest.json").read_text())
    results = {}
    for name, kind in sorted(manifest.items()):
        if kind == "capabilities":
            results[name] = conn.getCapabilities()
            continue
        text = (directory / f"{name}.input.xml").read_text()
        if kind == "domain":
            obj = conn.defineXML(text)
        elif kind == "network":
            obj = conn.networkDefineXML(text)
        elif kind == "pool":
            obj = conn.storagePoolDefineXML(text, 0)
        elif kind == "volume":
            obj = conn.storagePoolLookupByName("default-pool").createXML(text, 0)
        elif kind == "interface":
            obj = conn.interfaceDefineXML(text, 0)
        else:
            raise SystemExit(f"unknown kind {kind!r} for {name}")
        results[name] = obj.XMLDesc(0)
    conn.close()
    return results


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("domain", ctypes.c_int), ("message", ctypes.c_char_p)]


def _c_api():
    lib = ctypes.CDLL("libvirt.so.0")
    lib.virConnectOpen.restype = ctypes.c_void_p
    lib.virConnectOpen.argtypes = [ctypes.c_char_p]
    lib.virDomainDefineXML.restype = ctypes.c_void_p
    lib.virDomainDefineXML.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.virDomainUndefine.argtypes = [ctypes.c_void_p]
    lib.virDomainFree.argtypes = [ctypes.c_void_p]
    lib.virGetLastError.restype = ctypes.POINTER(_Error)
    lib.virConnectClose.argtypes = [ctypes.c_void_p]
    lib.virSetErrorFunc.argtypes = [ctypes.c_void_p, _ERROR_FUNC]
    return lib


def errors(cases):
    conn = libvirt.open("test:///default")
    lib = _c_api()
    cconn = None
    out = []
    for case in cases:
        op, text = case["op"], case["xml"]
        if op == "define_bytes":
            if cconn is None:
                cconn = lib.virConnectOpen(b"test:///default")
            dom = lib.virDomainDefineXML(cconn, base64.b64decode(text))
            if dom:
                lib.virDomainUndefine(dom)
                lib.virDomainFree(dom)
                out.append({"ok": True})
            else:
                err = lib.virGetLastError().contents
                out.append(
                    {
                        "ok": False,
                        "code": err.code,
                        "domain": err.domain,
                        "message_b64": base64.b64encode(err.message).decode(),
                    }
                )
            continue
        try:
            if op == "net_define_validate":
                obj = conn.networkDefineXMLFlags(text, libvirt.VIR_NETWORK_DEFINE_VALIDATE)
            else:
                flags = libvirt.VIR_DOMAIN_DEFINE_VALIDATE if op == "define_validate" else 0
                obj = conn.defineXMLFlags(text, flags)
        except libvirt.libvirtError as exc:
            out.append(
                {
                    "ok": False,
                    "code": exc.get_error_code(),
                    "domain": exc.get_error_domain(),
                    "message": exc.get_error_message(),
                }
            )
            continue
        out.append({"ok": True, "xml": obj.XMLDesc(0)})
        obj.undefine()
    if cconn is not None:
        lib.virConnectClose(cconn)
    conn.close()
    return out


def main(argv):
    _c_api().virSetErrorFunc(None, _QUIET)
    if argv[1] == "dump":
        directory = Path(argv[2])
        results = dump(directory)
        if "--write" in argv[3:]:
            for name, text in results.items():
                (directory / f"{name}.xml").write_text(text)
            return
        json.dump(results, sys.stdout, indent=1, sort_keys=True)
    elif argv[1] == "errors":
        json.dump(errors(json.load(sys.stdin)), sys.stdout)
    else:
        raise SystemExit(f"unknown mode {argv[1]!r}")


if __name__ == "__main__":
    main(sys.argv)
