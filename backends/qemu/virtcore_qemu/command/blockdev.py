"""A disk's ``-blockdev`` nodes: its image, the images of its backing chain, copy-on-read.

Each image of a disk's chain (the disk's own source, then every
``<backingStore>`` down to the terminating empty one) is opened by two nodes,
as libvirt 9.0 writes them (``qemuBlockStorageSourceGetBackendProps`` and
``...GetBlockdevFormatProps``): the storage node ``libvirt-N-storage``
(``file``, ``host_device``, ``host_cdrom``, ``nbd``, ``iscsi``) and the format
node ``libvirt-N-format`` on top of it. Nodes are written from the bottom of
the chain up so that each format node can name its ``backing`` node; an
explicitly terminated chain (``<backingStore/>``) gives the last image of a
format with backing files ``"backing":null`` so QEMU does not open the
backing file named in its header. Backing images are read-only.

Node numbers are the ``index`` attributes a running guest's definition
carries on each image's ``<source>`` or ``<backingStore>``
(:func:`virtcore_qemu.chain.fill_live_chains` writes libvirt's). Without
them they are handed out the way libvirt prepares disks: the last disk of
the document first, each chain from its top down, so the first disk's image
has the highest numbers. With ``copy_on_read='on'`` a ``copy-on-read`` filter
node ``libvirt-CoR-<target>`` sits on top and the front-end reads through it.

Sources libvirt resolves with host state this package does not have (storage
pool volumes are resolved by the driver into ``CommandContext.volumes``;
secrets, TLS and protocols other than NBD and iSCSI) are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, unsupported
from virtcore_qemu.command.escape import json_arg

__all__ = ["Image", "chain", "disk_cache", "node_numbers", "write_blockdevs"]

logger = logging.getLogger(__name__)

# (direct, no-flush, write-cache) per cache mode.
_CACHE = {
    "none": (True, False, True),
    "writethrough": (False, False, False),
    "writeback": (False, False, True),
    "directsync": (True, False, False),
    "unsafe": (False, True, True),
}
_BACKING_FORMATS = frozenset({"qcow2", "qcow", "qed", "vmdk", "cow"})
_DEFAULT_PORTS = {"nbd": "10809", "iscsi": "3260"}


@dataclass(frozen=True)
class Image:
    """One image of a disk's chain: where its storage comes from and its format."""

    element: etree._Element
    """The ``<disk>`` (top image) or ``<backingStore>`` element."""
    kind: str
    fmt: str | None
    terminated: bool
    """Whether the chain ends right below this image (an empty ``<backingStore/>``)."""


def disk_cache(disk: etree._Element) -> tuple[bool, bool, bool] | None:
    """(direct, no-flush, write-cache) of the disk's cache mode; ``None`` for the default."""
    driver = disk.find("driver")
    mode = driver.get("cache") if driver is not None else None
    if mode in (None, "default"):
        return None
    flags = _CACHE.get(mode)
    if flags is None:
        raise unsupported(f"disk cache mode '{mode}' is not supported")
    return flags


def _has_media(element: etree._Element) -> bool:
    source = element.find("source")
    if source is None:
        return False
    kind = element.get("type") or "file"
    if kind == "network":
        return True
    attribute = {"file": "file", "block": "dev", "dir": "dir"}.get(kind)
    if kind == "volume":
        return bool(source.get("pool") and source.get("volume"))
    return bool(attribute and source.get(attribute))


def chain(disk: etree._Element) -> list[Image]:
    """The images of *disk* from the top down (empty for a drive without media)."""
    if not _has_media(disk):
        return []
    driver = disk.find("driver")
    images: list[Image] = []
    element = disk
    fmt = driver.get("type") if driver is not None else None
    while True:
        below = element.find("backingStore")
        terminated = below is not None and not _has_media(below)
        images.append(Image(element, element.get("type") or "file", fmt, terminated))
        if below is None or terminated:
            return images
        element = below
        format_node = element.find("format")
        fmt = format_node.get("type") if format_node is not None else None


def _storage(build: Build, disk: etree._Element, image: Image) -> tuple[dict[str, Any], str | None]:
    """The storage node's driver-specific properties, and the format a volume names."""
    source = image.element.find("source")
    assert source is not None
    if image.kind == "file":
        return {"driver": "file", "filename": source.get("file")}, None
    if image.kind == "block":
        driver = "host_cdrom" if disk.get("device") == "cdrom" else "host_device"
        return {"driver": driver, "filename": source.get("dev")}, None
    if image.kind == "volume":
        key = (source.get("pool") or "", source.get("volume") or "")
        volume = build.ctx.volumes.get(key)
        if volume is None:
            raise unsupported(f"volume '{key[1]}' of pool '{key[0]}' has not been resolved")
        driver = {"file": "file", "block": "host_device"}.get(volume.disk_type, "")
        if not driver:
            raise unsupported(f"volumes of type '{volume.disk_type}' are not supported")
        return {"driver": driver, "filename": volume.path}, volume.format
    if image.kind == "network":
        return _network(source), None
    raise unsupported(f"disk type '{image.kind}' is not supported")


def _network(source: etree._Element) -> dict[str, Any]:
    protocol = source.get("protocol") or ""
    hosts = source.findall("host")
    if protocol not in _DEFAULT_PORTS:
        raise unsupported(f"network disk protocol '{protocol}' is not supported")
    if len(hosts) != 1:
        raise unsupported(f"protocol '{protocol}' accepts only one host")
    host = hosts[0]
    transport = host.get("transport") or "tcp"
    port = host.get("port") or _DEFAULT_PORTS[protocol]
    name = source.get("name")
    if protocol == "nbd":
        if transport == "unix":
            server: dict[str, Any] = {"type": "unix", "path": host.get("socket")}
        elif transport == "tcp":
            server = {"type": "inet", "host": host.get("name"), "port": port}
        else:
            raise unsupported(f"transport '{transport}' is not supported for nbd")
        return {"driver": "nbd", "server": server, "export": name}
    if transport != "tcp":
        raise unsupported(f"transport '{transport}' is not supported for iscsi")
    target, _, lun = (name or "").partition("/")
    if not target:
        raise unsupported("missing iSCSI target name")
    if lun and not lun.isdigit():
        raise unsupported(f"cannot parse iSCSI LUN '{lun}'")
    initiator = source.find("initiator/iqn")
    return {
        "driver": "iscsi",
        "portal": f"{host.get('name')}:{port}",
        "target": target,
        "lun": int(lun or "0"),
        "transport": "tcp",
        "initiator-name": initiator.get("name") if initiator is not None else None,
    }


def _index(element: etree._Element) -> int | None:
    """The ``index`` a running guest's definition gives the image of *element*.

    The top image's number is on the disk's ``<source>``, a backing image's
    on its ``<backingStore>``.
    """
    holder = element.find("source") if element.tag == "disk" else element
    text = holder.get("index") if holder is not None else None
    return int(text) if text is not None and text.isdigit() and int(text) > 0 else None


def _node_numbers(build: Build) -> Iterator[tuple[etree._Element, int]]:
    """(disk, number of its top image) in document order (see module doc)."""
    disks = build.devices.findall("disk")
    numbers: dict[int, int] = {}
    counter = 0
    for position in range(len(disks) - 1, -1, -1):
        numbers[position] = counter + 1
        counter += max(1, len(chain(disks[position])))
    for position, disk in enumerate(disks):
        given = _index(disk) if chain(disk) else None
        yield disk, numbers[position] if given is None else given


def _image_numbers(images: list[Image], first: int) -> list[int]:
    """The node number of each image of a chain whose top image is numbered *first*.

    When the top image carries *first* as its index, the chain is numbered
    as the running guest's definition says (libvirt numbers every disk's
    given images before the images it detects, so a chain's numbers need not
    follow each other); otherwise the images follow the top one.
    """
    if _index(images[0].element) != first:
        return [first + depth for depth in range(len(images))]
    numbers = [first]
    for image in images[1:]:
        given = _index(image.element)
        numbers.append(numbers[-1] + 1 if given is None else given)
    return numbers


def write_blockdevs(build: Build, disk: etree._Element, first: int) -> str | None:
    """Append the nodes of *disk*'s chain (top image numbered *first*); the node to attach."""
    images = chain(disk)
    if not images:
        return None
    driver = disk.find("driver")
    cache = disk_cache(disk)
    cache_props = None if cache is None else {"direct": cache[0], "no-flush": cache[1]}
    io = driver.get("io") if driver is not None else None
    discard = driver.get("discard") if driver is not None else None
    zeroes = driver.get("detect_zeroes") if driver is not None else None
    if zeroes == "unmap" and discard != "unmap":
        # QEMU can only unmap zeroes it may discard.
        zeroes = "on"
    numbers = _image_numbers(images, first)
    for depth in range(len(images) - 1, -1, -1):
        image = images[depth]
        number = numbers[depth]
        storage_name = f"libvirt-{number}-storage"
        props, volume_format = _storage(build, disk, image)
        if io in ("threads", "native", "io_uring") and props["driver"] in (
            "file",
            "host_device",
            "host_cdrom",
        ):
            props["aio"] = io
        props.update(
            {
                "node-name": storage_name,
                "cache": cache_props,
                "auto-read-only": True,
                "discard": "unmap",
            }
        )
        build.add("-blockdev", json_arg(props))
        top = depth == 0
        fmt = image.fmt or volume_format or "raw"
        format_props: dict[str, Any] = {
            "node-name": f"libvirt-{number}-format",
            "read-only": not top or disk.find("readonly") is not None,
            "discard": discard if discard in ("unmap", "ignore") else None,
            # Backing images are never written: zero detection is the top's.
            "detect-zeroes": zeroes if top and zeroes in ("on", "unmap") else None,
            "cache": cache_props,
            "driver": fmt,
            "file": storage_name,
        }
        if depth + 1 < len(images):
            format_props["backing"] = f"libvirt-{numbers[depth + 1]}-format"
        elif image.terminated and fmt in _BACKING_FORMATS:
            format_props["backing"] = None
            build.add("-blockdev", json_arg(format_props, keep_null=("backing",)))
            continue
        build.add("-blockdev", json_arg(format_props))
    top_node = f"libvirt-{first}-format"
    if driver is not None and driver.get("copy_on_read") == "on":
        target = disk.find("target")
        dev = target.get("dev") if target is not None else ""
        cor = f"libvirt-CoR-{dev}"
        build.add(
            "-blockdev",
            json_arg(
                {"driver": "copy-on-read", "node-name": cor, "file": top_node, "discard": "unmap"}
            ),
        )
        return cor
    return top_node


def node_numbers(build: Build) -> list[tuple[etree._Element, int]]:
    """Every disk with the node number of its top image."""
    return list(_node_numbers(build))
