"""A storage scenario both real libvirt and virtcore run, written against libvirt-python's API.

The module imports nothing but the standard library so the libvirt oracle
(``oracle.py``, run by the system interpreter with python3-libvirt) and the
virtcore tests (through :mod:`virtcore.libvirt`) run the very same steps.

A step is a JSON list ``[op, *args]``; ``{root}`` in any string argument is
replaced by the side's own scratch directory. :func:`run_steps` returns one
outcome per step: ``{"ok": value}`` or ``{"err": [code, domain, message]}``,
with every document normalized by :func:`normalize` so that what legitimately
differs between two runs (the scratch directory, UUIDs, timestamps, file
owners, free space) does not count.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["STEPS", "normalize", "run_steps"]

_SIZES = re.compile(r"<(capacity|allocation|available) unit='bytes'>\d+</\1>")
_STAMP = re.compile(r"<(atime|mtime|ctime)>[0-9.]+</\1>")
_UUID = re.compile(r"<uuid>[0-9a-f-]{36}</uuid>")
_ID = re.compile(r"<(owner|group)>\d+</\1>")


def normalize(text: str, root: str) -> str:
    """*text* with the scratch directory, UUIDs, timestamps and owners made neutral."""
    text = text.replace(root, "ROOT")
    text = _STAMP.sub(r"<\1>T</\1>", text)
    text = _UUID.sub("<uuid>UUID</uuid>", text)
    text = _ID.sub(r"<\1>ID</\1>", text)
    if text.startswith("<pool"):
        text = _SIZES.sub(r"<\1 unit='bytes'>N</\1>", text)
    return text


def _pool_xml(name: str, extra: str = "") -> str:
    return (
        f"<pool type='dir'><name>{name}</name>"
        f"<target><path>{{root}}/{name}</path>{extra}</target></pool>"
    )


def _vol(name: str, capacity: str, fmt: str, extra: str = "") -> str:
    return (
        f"<volume><name>{name}</name><capacity>{capacity}</capacity>{extra}"
        f"<target><format type='{fmt}'/></target></volume>"
    )


_BACKED = (
    "<volume><name>top.qcow2</name><capacity>0</capacity>"
    "<target><format type='qcow2'/></target><backingStore>"
    "<path>{root}/p1/base.qcow2</path><format type='qcow2'/></backingStore></volume>"
)
_V3 = (
    "<volume><name>v3.qcow2</name><capacity unit='M'>3</capacity><target>"
    "<format type='qcow2'/><compat>1.1</compat><features><lazy_refcounts/></features>"
    "</target></volume>"
)
_RAW_BACKED = _vol("r.img", "1", "raw", "<backingStore><path>/x</path></backingStore>")
_MISSING_BACKING = _vol(
    "r.qcow2", "1", "qcow2", "<backingStore><path>/nonexistent</path></backingStore>"
)
_SPARSE_COPY = _vol("copy.img", "1", "raw", "<allocation>0</allocation>")
_MODE = (
    "<volume><name>mode.img</name><capacity unit='K'>64</capacity><allocation>0</allocation>"
    "<target><permissions><mode>0640</mode></permissions></target></volume>"
)

STEPS: list[list[Any]] = [
    ["define", _pool_xml("p1")],
    ["pool_xml", "p1", 0],
    ["start", "p1"],
    ["build", "p1", 12],
    ["build", "p1", 0],
    ["start", "p1"],
    ["pool_xml", "p1", 0],
    ["start", "p1"],
    ["undefine", "p1"],
    ["define", _pool_xml("p2").replace("/p2<", "/p1<")],
    ["vol_create", "p1", _vol("sparse.img", "1048576", "raw", "<allocation>0</allocation>"), 0],
    ["vol_create", "p1", _vol("full.img", "65536", "raw"), 0],
    ["vol_create", "p1", _MODE, 0],
    ["vol_create", "p1", _vol("base.qcow2", "1048576", "qcow2"), 0],
    ["vol_create", "p1", _V3, 0],
    ["vol_create", "p1", _BACKED, 0],
    ["vol_create", "p1", _vol("sub", "0", "dir"), 0],
    ["vol_create", "p1", _vol("sparse.img", "1", "raw"), 0],
    ["vol_create", "p1", _vol("x/y", "1", "raw"), 0],
    ["vol_create", "p1", _vol("..", "1", "raw"), 0],
    ["vol_create", "p1", _RAW_BACKED, 0],
    ["vol_create", "p1", _vol("r.img", "1", "raw"), 1],
    ["vol_create", "p1", _MISSING_BACKING, 0],
    ["vol_clone", "p1", _vol("clone.img", "1", "raw"), "base.qcow2", 0],
    ["vol_clone", "p1", _vol("clone.img", "1", "raw"), "base.qcow2", 0],
    ["vol_clone", "p1", _SPARSE_COPY, "sparse.img", 0],
    ["vol_info", "p1", "full.img"],
    ["vol_resize", "p1", "sparse.img", 1000, 0],
    ["vol_resize", "p1", "sparse.img", 2097152, 0],
    ["vol_resize", "p1", "full.img", 131072, 1],
    ["vol_resize", "p1", "base.qcow2", 100, 4],
    ["vol_resize", "p1", "base.qcow2", 4194304, 0],
    ["vol_resize", "p1", "base.qcow2", 8388608, 1],
    ["vol_wipe", "p1", "full.img", 9],
    ["vol_wipe", "p1", "full.img", 0],
    ["vol_xml", "p1", "full.img"],
    ["lookup_key", "nokey"],
    ["lookup_path", "/nopath"],
    ["lookup_vol", "p1", "nov"],
    ["lookup_pool", "nop"],
    ["lookup_key", "{root}/p1/full.img"],
    ["upload", "p1", "sparse.img", 1000, 0, "hello world"],
    ["download", "p1", "sparse.img", 995, 20, 0],
    ["download", "p1", "sparse.img", 2097140, 0, 0],
    ["sparse_pieces", "p1", "sparse.img"],
    ["download", "p1", "sparse.img", 0, 0, 2],
    ["vol_wipe", "p1", "sub", 0],
    ["vol_delete_flags", "p1", "full.img", 1],
    ["lookup_path", "{root}//p1/full.img"],
    ["vol_info_flags", "p1", "base.qcow2", 1],
    ["pool_state", "p1"],
    ["pool_call", "p1", "refresh", 1],
    ["pool_call", "p1", "listAllVolumes", 1],
    ["pool_call", "p1", "XMLDesc", 2],
    ["vol_call", "p1", "full.img", "XMLDesc", 1],
    ["vol_call", "p1", "full.img", "delete", 4],
    ["vol_call", "p1", "full.img", "wipe", 1],
    ["vol_call", "p1", "full.img", "resize", 1, 8],
    ["vol_call", "p1", "full.img", "infoFlags", 2],
    ["vol_create", "p1", _vol("f.img", "1", "raw"), 8],
    ["define_flags", _pool_xml("p3"), 2],
    ["vol_delete", "p1", "sub"],
    ["vol_delete", "p1", "copy.img"],
    ["list_vols", "p1"],
    ["refresh", "p1"],
    ["list_vols", "p1"],
    ["destroy", "p1"],
    ["vol_info", "p1", "full.img"],
    ["destroy", "p1"],
    ["pool_call", "p1", "delete", 1],
    ["pool_call", "p1", "create", 8],
    ["delete", "p1"],
    ["pool_xml", "p1", 0],
    ["undefine", "p1"],
    ["create_xml", _pool_xml("t1"), 6],
    ["create_xml", _pool_xml("t1"), 1],
    ["pool_xml", "t1", 0],
    ["autostart", "t1", 1],
    ["pool_state", "t1"],
    ["create_xml", _pool_xml("t2").replace("{root}/t2", "{root}/missing/t2"), 0],
    ["destroy", "t1"],
    ["lookup_pool", "t1"],
]  # fmt: skip
"""The scenario: pool lifecycle, every volume operation, and the errors on the way."""


def _sub(value: Any, root: str) -> Any:
    return value.replace("{root}", root) if isinstance(value, str) else value


def _step(lv: Any, conn: Any, op: str, args: list[Any], root: str) -> Any:
    def pool(name: str) -> Any:
        return conn.storagePoolLookupByName(name)

    def vol(pool_name: str, name: str) -> Any:
        return pool(pool_name).storageVolLookupByName(name)

    simple_pool_ops = {
        "start": lambda p: p.create(0),
        "destroy": lambda p: p.destroy(),
        "undefine": lambda p: p.undefine(),
        "refresh": lambda p: p.refresh(0),
        "delete": lambda p: p.delete(0),
    }
    if op == "define":
        return conn.storagePoolDefineXML(args[0], 0).XMLDesc(0)
    if op == "create_xml":
        return conn.storagePoolCreateXML(args[0], args[1]).name()
    if op in simple_pool_ops:
        return simple_pool_ops[op](pool(args[0]))
    if op == "build":
        return pool(args[0]).build(args[1])
    if op == "pool_xml":
        return pool(args[0]).XMLDesc(args[1])
    if op == "vol_create":
        return pool(args[0]).createXML(args[1], args[2]).XMLDesc(0)
    if op == "vol_clone":
        return pool(args[0]).createXMLFrom(args[1], vol(args[0], args[2]), args[3]).XMLDesc(0)
    if op == "vol_info":
        return list(vol(args[0], args[1]).info())
    if op == "vol_xml":
        return vol(args[0], args[1]).XMLDesc(0)
    if op == "vol_resize":
        target = vol(args[0], args[1])
        target.resize(args[2], args[3])
        return list(target.info())
    if op == "vol_wipe":
        return vol(args[0], args[1]).wipePattern(args[2], 0)
    if op == "vol_delete":
        return vol(args[0], args[1]).delete(0)
    if op == "upload":
        stream = conn.newStream(0)
        vol(args[0], args[1]).upload(stream, args[2], args[3], 0)
        stream.send(args[4].encode())
        return stream.finish()
    if op == "download":
        stream = conn.newStream(0)
        vol(args[0], args[1]).download(stream, args[2], args[3], args[4])
        data = b""
        while chunk := stream.recv(65536):
            data += chunk
        stream.finish()
        return data.hex() if len(data) <= 64 else len(data)
    if op == "sparse_pieces":
        stream = conn.newStream(0)
        vol(args[0], args[1]).download(stream, 0, 0, 1)
        pieces: list[Any] = []
        while True:
            got = stream.recvFlags(1 << 20, 1)
            if got == -3:
                pieces.append(["hole", stream.recvHole(0)])
                continue
            if not got:
                break
            if pieces and pieces[-1][0] == "data":
                pieces[-1][1] += len(got)
            else:
                pieces.append(["data", len(got)])
        stream.finish()
        return pieces
    if op == "pool_call":
        result = getattr(pool(args[0]), args[1])(*args[2:])
        return len(result) if isinstance(result, list) else result
    if op == "vol_call":
        result = getattr(vol(args[0], args[1]), args[2])(*args[3:])
        return list(result) if isinstance(result, tuple | list) else result
    if op == "define_flags":
        return conn.storagePoolDefineXML(args[0], args[1]).name()
    if op == "vol_delete_flags":
        return vol(args[0], args[1]).delete(args[2])
    if op == "vol_info_flags":
        return list(vol(args[0], args[1]).infoFlags(args[2]))
    if op == "autostart":
        return pool(args[0]).setAutostart(args[1])
    if op == "pool_state":
        target = pool(args[0])
        return [
            target.info()[0],
            target.isActive(),
            target.isPersistent(),
            target.autostart(),
            target.numOfVolumes() if target.isActive() else -1,
        ]
    if op == "list_vols":
        return sorted(pool(args[0]).listVolumes())
    if op == "lookup_key":
        return conn.storageVolLookupByKey(args[0]).name()
    if op == "lookup_path":
        return conn.storageVolLookupByPath(args[0]).name()
    if op == "lookup_vol":
        return vol(args[0], args[1]).name()
    if op == "lookup_pool":
        return pool(args[0]).name()
    raise ValueError(f"unknown step {op}")


def run_steps(lv: Any, conn: Any, root: str, steps: list[list[Any]]) -> list[dict[str, Any]]:
    """Run *steps* on *conn* (a libvirt-python style connection of module *lv*)."""
    out: list[dict[str, Any]] = []
    for op, *raw in steps:
        args = [_sub(a, root) for a in raw]
        try:
            value = _step(lv, conn, op, args, root)
        except lv.libvirtError as exc:
            message = normalize(str(exc.get_error_message()), root)
            out.append({"err": [exc.get_error_code(), exc.get_error_domain(), message]})
            continue
        if isinstance(value, str):
            value = normalize(value, root)
        out.append({"ok": value})
    return out
