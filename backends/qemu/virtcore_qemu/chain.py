"""Backing chains of a running domain's disks, detected from the images as libvirt does.

When a guest starts, libvirt 9.0 numbers every disk's storage sources and
reads each image's backing chain from the image headers
(``qemuProcessPrepareDomainStorage``, then ``qemuDomainDetermineDiskChain``
and ``virStorageSourceGetMetadata``); the live XML then shows::

    <source file='/images/top.qcow2' index='1'/>
    <backingStore type='file' index='2'>
      <format type='qcow2'/>
      <source file='/images/base.qcow2'/>
      <backingStore/>
    </backingStore>

Contract:

* :func:`detect_chain` completes one disk's chain below its last known
  layer, using ``qemu-img info --backing-chain --output=json`` (one process
  per chain); a chain already ending in ``<backingStore/>`` is left alone.
  Only local images (``file`` and ``block``) are read; below another kind
  the chain stays open, as libvirt leaves what it cannot traverse. Detected
  layers are read-only, marked ``detected`` (the inactive XML omits them;
  in the tree the mark is :data:`~virtcore.xml.domain.devices.source.DETECTED_MARK`)
  and terminated by an empty ``<backingStore/>`` (not marked: libvirt prints
  it in the inactive XML too).
* Errors are libvirt's: a missing image ``Cannot access storage file 'P'
  (as uid:U, gid:G): No such file or directory`` or ``Cannot access backing
  file 'B' of storage file 'P' ...`` (``VIR_ERR_SYSTEM_ERROR``), a loop or a
  chain deeper than :data:`MAX_DEPTH` ``backing store for P is
  self-referential or too deeply nested`` (``VIR_ERR_INTERNAL_ERROR``), a
  backing image whose format the metadata does not name and which itself
  has a backing file ``format of backing image ... was not specified``
  (``VIR_ERR_OPERATION_INVALID``), and a whole chain of more than 200
  layers ``backing chains more than 200 layers deep are not supported for
  disk 'vda'`` (``VIR_ERR_OPERATION_UNSUPPORTED``).
* :func:`fill_live_chains` does it for every disk of a live definition about
  to start and writes the result into its tree, with libvirt's numbering:
  first every disk's given layers (the disks in reverse document order, each
  chain from its top down; a drive without media takes a number too), then
  the detected layers (again the last disk first). A drive without media
  loses its ``<driver type>``, as in libvirt's live XML.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InternalError,
    OperationInvalidError,
    OperationUnsupportedError,
    SystemCallError,
)
from virtcore.xml.domain.devices.disk import Disk
from virtcore.xml.domain.devices.source import (
    DETECTED_MARK,
    StorageSource,
    backing_store_element,
)
from virtcore.xml.domain.devices.support import DeviceContext

if TYPE_CHECKING:
    from virtcore.xml.domain import Domain as DomainDef

__all__ = [
    "MAX_DEPTH",
    "MAX_LAYERS",
    "QEMU_IMG",
    "chain_layers",
    "complete_disk_chain",
    "detect_chain",
    "fill_live_chains",
    "next_index",
]

log = logging.getLogger(__name__)

QEMU_IMG = "/usr/bin/qemu-img"
#: ``QEMU_DOMAIN_STORAGE_SOURCE_CHAIN_MAX_DEPTH``: layers read below the last known one.
MAX_DEPTH = 200
#: ``qemuDomainStorageSourceValidateDepth``: layers a whole chain may have.
MAX_LAYERS = 200
_LOCAL = ("file", "block")
_TIMEOUT = 60.0


def _live_context() -> DeviceContext:
    """How a running domain's disk is read (its status XML: numbers kept)."""
    return DeviceContext(os_type="hvm", arch="x86_64", virt_type="qemu", inactive=False)


def chain_layers(source: StorageSource) -> Iterator[StorageSource]:
    """The layers of a chain from *source* down, without the terminator."""
    layer: StorageSource | None = source
    while layer is not None and layer.type != "none":
        yield layer
        layer = layer.backing


def _has_media(source: StorageSource) -> bool:
    if source.type == "network":
        return bool(source.protocol)
    if source.type in ("file", "block", "dir"):
        return bool(source.path)
    return True


def _access_error(path: str, top: str, code: int) -> SystemCallError:
    """``virStorageSourceReportBrokenChain``."""
    ids = f"(as uid:{os.getuid()}, gid:{os.getgid()})"
    reason = os.strerror(code)
    if path == top:
        text = f"Cannot access storage file '{path}' {ids}: {reason}"
    else:
        text = f"Cannot access backing file '{path}' of storage file '{top}' {ids}: {reason}"
    return SystemCallError(text, domain=ErrorDomain.STORAGE)


def _too_deep(path: str) -> InternalError:
    return InternalError(
        f"backing store for {path} is self-referential or too deeply nested",
        domain=ErrorDomain.STORAGE,
    )


def _qemu_img_info(path: str, fmt: str | None, *, chain: bool, qemu_img: str) -> Any:
    """``qemu-img info`` of *path* as JSON; ``None`` when qemu-img refused the chain."""
    argv = [qemu_img, "info", "--output=json", "-U"]
    if chain:
        argv.append("--backing-chain")
    if fmt:
        argv += ["-f", fmt]
    argv.append(path)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    if done.returncode != 0:
        log.debug("%s failed: %s", " ".join(argv), done.stderr.strip())
        return None
    return json.loads(done.stdout)


def _backing_kind(name: str) -> str | None:
    """The storage type of a backing name; None for one libvirt would not traverse here."""
    # json:{...}, nbd://host/x, nbd:host:port: a protocol prefix before the first slash.
    if ":" in name.split("/", 1)[0]:
        return None
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return "file"
    return "block" if (mode & 0o170000) == 0o060000 else "file"


class _Reader:
    """Image headers read through qemu-img, each image once."""

    def __init__(self, qemu_img: str) -> None:
        self.qemu_img = qemu_img
        self.cache: dict[tuple[str, str | None], dict[str, Any]] = {}

    def load_chain(self, path: str, fmt: str | None) -> None:
        """Read the whole chain below *path* in one process when qemu-img can."""
        entries = _qemu_img_info(path, fmt, chain=True, qemu_img=self.qemu_img)
        if not isinstance(entries, list):
            return
        for entry in entries:
            name = str(entry.get("filename", ""))
            key = (name, fmt)
            self.cache.setdefault(key, entry)
            fmt = entry.get("backing-filename-format")

    def info(self, path: str, fmt: str | None, top: str) -> dict[str, Any]:
        key = (path, fmt)
        if key not in self.cache:
            if not os.path.exists(path):
                raise _access_error(path, top, errno.ENOENT)
            if not os.access(path, os.R_OK):
                raise _access_error(path, top, errno.EACCES)
            found = _qemu_img_info(path, fmt, chain=False, qemu_img=self.qemu_img)
            if not isinstance(found, dict):
                raise InternalError(
                    f"failed to read the header of '{path}'", domain=ErrorDomain.STORAGE
                )
            self.cache[key] = found
        return self.cache[key]


def detect_chain(
    source: StorageSource,
    *,
    disk: str = "",
    qemu_img: str = QEMU_IMG,
    max_depth: int = MAX_DEPTH,
    number: Callable[[], int] | None = None,
) -> list[StorageSource]:
    """Complete the backing chain of *source* (a disk's source); returns the layers added.

    *disk* names the disk (its target) in the depth error; *number* gives
    each detected layer its ``index``. Raises libvirt's errors (see the
    module documentation).
    """
    last = source
    while last.backing is not None and last.backing.type != "none":
        last = last.backing
    if last.backing is not None or not _has_media(source):
        _validate_depth(source, disk)
        return []
    if last.type not in _LOCAL or not last.path:
        return []
    top = last.path
    if last.format is None:
        last.format = "raw"  # virStorageSourceGetMetadata: no format is raw
    reader = _Reader(qemu_img)
    if os.path.exists(top):
        reader.load_chain(top, last.format)
    added: list[StorageSource] = []
    layer = last
    parent: tuple[str, str] | None = None  # (path, backing name as written) above *layer*
    depth = 1
    while True:
        if depth > max_depth:
            raise _too_deep(layer.path or "")
        assert layer.path is not None
        info = reader.info(layer.path, layer.format, top)
        if layer.format is None:
            # A probed format: a probed image may not lead any further.
            layer.format = str(info.get("format") or "raw")
            if info.get("backing-filename") and parent is not None:
                raise OperationInvalidError(
                    f"format of backing image '{parent[1]}' of image '{parent[0]}' was not "
                    "specified in the image metadata (See "
                    "https://libvirt.org/kbase/backing_chains.html for troubleshooting)",
                    domain=ErrorDomain.STORAGE,
                )
        backing_name = info.get("full-backing-filename") or info.get("backing-filename")
        if not backing_name:
            # libvirt prints this terminator even in the inactive XML: not "detected".
            layer.backing = StorageSource(type="none")
            break
        kind = _backing_kind(str(backing_name))
        if kind is None:
            break
        below = StorageSource(
            type=kind,
            path=str(backing_name),
            format=info.get("backing-filename-format"),
            readonly=True,
            detected=True,
        )
        layer.backing = below
        added.append(below)
        parent = (layer.path, str(info.get("backing-filename") or backing_name))
        layer = below
        depth += 1
    if number is not None:
        for item in added:
            item.index = number()
    _validate_depth(source, disk)
    return added


def _validate_depth(source: StorageSource, disk: str) -> None:
    """``qemuDomainStorageSourceValidateDepth``."""
    if sum(1 for _ in chain_layers(source)) > MAX_LAYERS:
        raise OperationUnsupportedError(
            f"backing chains more than {MAX_LAYERS} layers deep are not supported "
            f"for disk '{disk}'",
            domain=ErrorDomain.QEMU,
        )


def next_index(domain: DomainDef) -> int:
    """The number libvirt gives the next storage source of a running *domain*."""
    used = [0]
    for disk in domain.element.iterfind("devices/disk"):
        for node in disk.iter("source", "backingStore"):
            text = node.get("index")
            if text is not None and text.isdigit():
                used.append(int(text))
    return max(used) + 1


def fill_live_chains(domain: DomainDef, *, qemu_img: str = QEMU_IMG) -> None:
    """Number and complete every disk's chain of *domain* (about to start) in its tree."""
    nodes = list(domain.element.iterfind("devices/disk"))
    sources = [Disk(node).parse(_live_context()).src for node in nodes]
    counter = 0

    def number() -> int:
        nonlocal counter
        counter += 1
        return counter

    # qemuProcessPrepareDomainStorage: the given layers, the last disk first.
    for src in reversed(sources):
        for layer in chain_layers(src):
            layer.index = number()
    for node, src in reversed(list(zip(nodes, sources, strict=True))):
        target = str(node.xpath("string(./target/@dev)"))
        detect_chain(src, disk=target, qemu_img=qemu_img, number=number)
    for node, src in zip(nodes, sources, strict=True):
        _write_chain(node, src)
        if src.type in ("file", "block", "dir") and not src.path:
            _forget_empty_format(node)


def _forget_empty_format(node: etree._Element) -> None:
    """A drive without media has no format while the guest runs.

    libvirt's live XML of an empty cdrom shows ``<driver name='qemu'/>``
    even when its definition says ``type='raw'`` (the inactive XML keeps it).
    """
    driver = node.find("driver")
    if driver is not None and "type" in driver.attrib:
        del driver.attrib["type"]


def complete_disk_chain(
    domain: DomainDef, node: etree._Element, *, qemu_img: str = QEMU_IMG
) -> None:
    """Read the chain of the running *domain*'s disk *node* below its known layers.

    New layers are numbered after every number *domain* uses (a disk whose
    chain changed while the guest runs, as after an external snapshot).
    """
    src = Disk(node).parse(_live_context()).src
    first = next_index(domain)
    counter = iter(range(first, first + MAX_DEPTH + 1))
    target = str(node.xpath("string(./target/@dev)"))
    detect_chain(src, disk=target, qemu_img=qemu_img, number=lambda: next(counter))
    _write_chain(node, src)


def _write_chain(node: etree._Element, src: StorageSource) -> None:
    """Put *src*'s index and backing chain into the ``<disk>`` element *node*."""
    source = node.find("source")
    if source is None:
        return
    if src.index:
        source.set("index", str(src.index))
    old = node.find("backingStore")
    new = backing_store_element(src, 0)
    if old is not None:
        node.remove(old)
    if new is not None:
        source.addnext(new)
        # Printing drops what the model does not know: mark detected layers in the tree
        # so that the inactive XML keeps leaving them out after the tree is read again.
        element: etree._Element | None = new
        layer = src.backing
        while element is not None and layer is not None and layer.type != "none":
            if layer.detected:
                element.set(DETECTED_MARK, "yes")
            element, layer = element.find("backingStore"), layer.backing
    log.debug("disk chain: %s", " -> ".join(str(layer.path) for layer in chain_layers(src)))
