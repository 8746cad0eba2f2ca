"""The domain snapshot document (``<domainsnapshot>``), checked and written as libvirt 9.0 does.

:class:`DomainSnapshot` is a typed view of a live ``<domainsnapshot>`` tree
(name, description, state, parent, creation time, memory, disks, the
embedded domain); unknown content stays in the tree.

* :meth:`DomainSnapshot.definition` applies ``virDomainSnapshotDefParse``'s
  checks in libvirt's order with its exact errors (``redefine=True`` for
  ``VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE``, which requires name, state and
  creation time) and returns the values libvirt keeps (:class:`SnapshotDef`);
* :meth:`DomainSnapshot.create` is what libvirt 9.0's test driver does on
  ``snapshot-create``: the snapshot takes its state from the domain, its
  name and creation time from the clock (injectable), internal memory when
  the domain runs, every disk of the domain aligned to an internal snapshot,
  and a copy of the domain's inactive definition;
* :meth:`SnapshotDef.format` writes what ``snapshot-dumpxml`` prints;
  ``DomainSnapshotXMLFlags.SECURE`` passes ``SECURE`` on to the embedded
  domain, ``internal``/``current`` add the ``<active>`` element libvirt keeps
  in its own metadata files.

The embedded ``<domain>`` is formatted through
:class:`virtcore.xml.domain.Domain`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Self

from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.snapshot import DomainSnapshotXMLFlags
from virtcore.errors import VirtError
from virtcore.xml.builder import XMLChildList, XMLNode, XMLProperty
from virtcore.xml.domain import Domain
from virtcore.xml.format import DOMAIN_RULES, format_xml
from virtcore.xml.network_addr import error
from virtcore.xml.network_netdev import add_element, child_elements, prop_enum, raw_attr
from virtcore.xml.parse import parse_document
from virtcore.xml.storage_pool import VOLUME_FILE_FORMATS

__all__ = [
    "SNAPSHOT_LOCATIONS",
    "SNAPSHOT_STATES",
    "DomainSnapshot",
    "SnapshotDef",
    "SnapshotDisk",
    "SnapshotDiskDef",
    "align_snapshot_disks",
]

logger = logging.getLogger(__name__)

SNAPSHOT_LOCATIONS = ("default", "no", "internal", "external", "manual")
"""``virDomainSnapshotLocation`` names (``default`` is never accepted in documents)."""
SNAPSHOT_STATES = (
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
    "disk-snapshot",
)  # fmt: skip
"""``virDomainSnapshotState`` names (``nostate`` is refused)."""
_STORAGE_TYPES = ("none", "file", "block", "dir", "network", "volume", "nvme", "vhostuser")
_SNAP = ErrorDomain.DOMAIN_SNAPSHOT
_OFFLINE_STATES = ("shutoff", "disk-snapshot")


def _snap_error(code: int, detail: str) -> VirtError:
    return error(code, detail, _SNAP)


def _text(element: etree._Element, path: str) -> str | None:
    found = element.xpath(f"string({path})")
    return str(found) or None


@dataclass(frozen=True)
class SnapshotDiskDef:
    """One ``<disk>`` of a snapshot: its mode and, for external ones, the new image."""

    name: str
    snapshot: str | None = None
    type: str = "file"
    driver_type: str | None = None
    source_file: str | None = None

    def emit(self, parent: etree._Element) -> None:
        disk = add_element(parent, "disk", [("name", self.name), ("snapshot", self.snapshot)])
        if self.source_file is not None or self.driver_type is not None:
            disk.set("type", self.type)
            add_element(disk, "driver", [("type", self.driver_type)])
            if self.source_file is not None:
                add_element(disk, "source", [("file", self.source_file)])


@dataclass(frozen=True)
class SnapshotDef:
    """The values libvirt keeps for a snapshot (``virDomainSnapshotDef``)."""

    name: str | None
    description: str | None = None
    state: str | None = None
    parent_name: str | None = None
    creation_time: int = 0
    memory: str | None = None
    memory_file: str | None = None
    disks: tuple[SnapshotDiskDef, ...] = ()
    domain: str | None = field(default=None, repr=False)
    inactive_domain: str | None = field(default=None, repr=False)

    def to_element(
        self, flags: int = 0, *, internal: bool = False, current: bool = False
    ) -> etree._Element:
        """The canonical ``<domainsnapshot>`` tree (``virDomainSnapshotDefFormat``)."""
        root = add_element(None, "domainsnapshot")
        add_element(root, "name", text=self.name or "")
        if self.description is not None:
            add_element(root, "description", text=self.description)
        if self.state is not None:
            add_element(root, "state", text=self.state)
        if self.parent_name is not None:
            add_element(add_element(root, "parent"), "name", text=self.parent_name)
        if self.creation_time:
            add_element(root, "creationTime", text=str(self.creation_time))
        if self.memory is not None:
            add_element(root, "memory", [("snapshot", self.memory), ("file", self.memory_file)])
        if self.disks:
            disks = add_element(root, "disks")
            for disk in self.disks:
                disk.emit(disks)
        domain_flags = DomainXMLFlags.INACTIVE
        if flags & DomainSnapshotXMLFlags.SECURE:
            domain_flags |= DomainXMLFlags.SECURE
        for tag, text in (("domain", self.domain), ("inactiveDomain", self.inactive_domain)):
            if text is not None:
                formatted = Domain.parse(text).format(int(domain_flags))
                embedded = parse_document(formatted, url="(domain_definition)")
                embedded.tag = tag
                root.append(embedded)
        if internal:
            add_element(root, "active", text="1" if current else "0")
        return root

    def format(self, flags: int = 0, *, internal: bool = False, current: bool = False) -> str:
        """The document as ``virDomainSnapshotGetXMLDesc`` prints it."""
        element = self.to_element(flags, internal=internal, current=current)
        return format_xml(element, rules=DOMAIN_RULES)


class SnapshotDisk(XMLNode):
    """A ``<disk>`` of ``<disks>``: the domain disk (target or path) and how to snapshot it."""

    TAG = "disk"
    name = XMLProperty("./@name")
    snapshot = XMLProperty("./@snapshot")
    type = XMLProperty("./@type")
    driver_type = XMLProperty("./driver/@type")
    source_file = XMLProperty("./source/@file")


class DomainSnapshot(XMLNode):
    """A ``<domainsnapshot>`` document: a typed view over its live tree."""

    TAG = "domainsnapshot"
    PARSE_URL = "(domain_snapshot)"
    ERROR_DOMAIN = ErrorDomain.DOMAIN_SNAPSHOT
    SCHEMA = "domainsnapshot.rng"
    FORMAT_RULES = DOMAIN_RULES
    XML_ORDER = {
        "": ("name", "description", "state", "parent", "creationTime", "memory", "disks",
             "domain", "inactiveDomain", "cookie", "active"),
    }  # fmt: skip

    name = XMLProperty("./name")
    description = XMLProperty("./description")
    state = XMLProperty("./state")
    parent_name = XMLProperty("./parent/name")
    creation_time = XMLProperty("./creationTime", int)
    memory = XMLProperty("./memory/@snapshot")
    memory_file = XMLProperty("./memory/@file")
    disks = XMLChildList(SnapshotDisk, "./disks/disk")

    @classmethod
    def parse(cls, text: str | bytes, *, redefine: bool = False) -> Self:
        """Parse *text* and run libvirt's parse-time checks (raising its errors)."""
        snapshot = cls.from_xml(text)
        snapshot.definition(redefine=redefine)
        return snapshot

    def definition(self, *, redefine: bool = False) -> SnapshotDef:
        """``virDomainSnapshotDefParse``: libvirt's checks, in its order, and its values."""
        root = self.element
        name = _text(root, "./name")
        if name is None and redefine:
            raise _snap_error(ErrorNumber.XML_ERROR, "a redefined snapshot must have a name")
        description = _text(root, "./description")
        state = parent = domain = inactive = None
        creation = 0
        offline = False
        if redefine:
            creation_text = _text(root, "./creationTime")
            try:
                creation = int(creation_text or "")
            except ValueError:
                raise _snap_error(
                    ErrorNumber.INTERNAL_ERROR, "missing creationTime from existing snapshot"
                ) from None
            parent = _text(root, "./parent/name")
            state = _text(root, "./state")
            if state is None:
                raise _snap_error(ErrorNumber.XML_ERROR, "missing state from existing snapshot")
            if state not in SNAPSHOT_STATES[1:]:
                raise _snap_error(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"Invalid state '{state}' in domain snapshot XML",
                )
            offline = state in _OFFLINE_STATES
            domain = self._embedded("domain", need_type=True)
            inactive = self._embedded("inactiveDomain", need_type=False)
        memory, memory_file = self._memory(redefine, offline)
        disks = tuple(self._disk(node) for node in self.xpath("./disks/*"))
        return SnapshotDef(name, description, state, parent, creation, memory, memory_file,
                           disks, domain, inactive)  # fmt: skip

    def _embedded(self, tag: str, *, need_type: bool) -> str | None:
        found = child_elements(self.element, tag)
        if not found or (need_type and not found[0].get("type")):
            return None
        copy = etree.fromstring(etree.tostring(found[0]))
        copy.tag = "domain"
        text = etree.tostring(copy, encoding="unicode")
        Domain.parse(text)
        return text

    def _memory(self, redefine: bool, offline: bool) -> tuple[str | None, str | None]:
        nodes = child_elements(self.element, "memory")
        memory = None
        memory_file = None
        if nodes:
            memory_file = raw_attr(nodes[0], "file")
            memory = prop_enum(nodes[0], "snapshot", SNAPSHOT_LOCATIONS)
            if memory == "manual":
                raise _snap_error(
                    ErrorNumber.XML_ERROR, "'manual' memory snapshot mode not supported"
                )
        if memory is None:
            if memory_file is not None:
                memory = "external"
            elif redefine:
                memory = "no" if offline else "internal"
        if memory_file is not None and memory != "external":
            raise _snap_error(
                ErrorNumber.XML_ERROR, f"memory filename '{memory_file}' requires external snapshot"
            )
        if memory_file is None and memory == "external":
            raise _snap_error(ErrorNumber.XML_ERROR, "external memory snapshots require a filename")
        if offline and memory not in (None, "no"):
            raise _snap_error(
                ErrorNumber.XML_ERROR,
                "memory state cannot be saved with offline or disk-only snapshot",
            )
        if memory_file is not None and not memory_file.startswith("/"):
            raise _snap_error(
                ErrorNumber.XML_ERROR,
                f"memory snapshot file path ({memory_file}) must be absolute",
            )
        return memory, memory_file

    @staticmethod
    def _disk(node: etree._Element) -> SnapshotDiskDef:
        name = raw_attr(node, "name")
        if name is None:
            raise _snap_error(ErrorNumber.INTERNAL_ERROR, "missing name from disk snapshot element")
        mode = prop_enum(node, "snapshot", SNAPSHOT_LOCATIONS)
        kind = prop_enum(node, "type", _STORAGE_TYPES) or "file"
        if kind in ("volume", "dir"):
            raise _snap_error(ErrorNumber.XML_ERROR, f"unsupported disk snapshot type '{kind}'")
        sources = child_elements(node, "source")
        path = raw_attr(sources[0], "file") if sources else None
        drivers = child_elements(node, "driver")
        driver = raw_attr(drivers[0], "type") if drivers else None
        if driver and driver not in VOLUME_FILE_FORMATS[1:]:
            raise _snap_error(
                ErrorNumber.CONFIG_UNSUPPORTED, f"unknown disk snapshot driver '{driver}'"
            )
        if kind == "file" and path is not None and not path.startswith("/"):
            raise _snap_error(
                ErrorNumber.XML_ERROR, f"disk snapshot image path '{path}' must be absolute"
            )
        if mode is None and (path or driver):
            mode = "external"
        return SnapshotDiskDef(name, mode, kind, driver or None, path)

    def create(
        self,
        domain_xml: str,
        *,
        running: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> SnapshotDef:
        """Take the snapshot of a domain as libvirt 9.0's test driver does.

        *domain_xml* is the domain's definition and *running* its state;
        *clock* gives the creation time (and the name when there is none).
        """
        base = self.definition()
        now = int(clock())
        domain = Domain.parse(domain_xml)
        disks = _align_disks(base.disks, domain)
        return replace(
            base,
            name=base.name if base.name is not None else str(now),
            state="running" if running else "shutoff",
            creation_time=now,
            memory="internal" if running else "no",
            disks=disks,
            domain=domain.format(int(DomainXMLFlags.INACTIVE)),
        )

    def redefine(self, known_snapshots: Sequence[str] = ()) -> SnapshotDef:
        """Check a ``REDEFINE`` document as the test driver does before aligning disks."""
        snap = self.definition(redefine=True)
        if snap.parent_name is not None:
            if snap.parent_name == snap.name:
                raise error(
                    ErrorNumber.INVALID_ARG,
                    f"cannot set moment {snap.name} as its own parent",
                    ErrorDomain.DOMAIN,
                )
            if snap.parent_name not in known_snapshots:
                raise error(
                    ErrorNumber.INVALID_ARG,
                    f"parent {snap.parent_name} for moment {snap.name} not found",
                    ErrorDomain.DOMAIN,
                )
        if snap.domain is None:
            raise _snap_error(ErrorNumber.INTERNAL_ERROR, "missing domain in snapshot")
        disks = _align_disks(snap.disks, Domain.parse(snap.domain), external=snap.memory_file
                             is not None or snap.state == "disk-snapshot"
                             or any(d.snapshot == "external" for d in snap.disks))  # fmt: skip
        return replace(snap, disks=disks)

    def format(self, flags: int = 0) -> str:
        """The document with libvirt's checks applied, as libvirt writes it."""
        return self.definition().format(flags)

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)


def _align_disks(
    requested: tuple[SnapshotDiskDef, ...], domain: Domain, *, external: bool = False
) -> tuple[SnapshotDiskDef, ...]:
    """``virDomainSnapshotAlignDisks`` with uniform snapshots (the test driver's call)."""
    default = "external" if external else "internal"
    dom_disks = domain.xpath("./devices/disk")
    if len(requested) > len(dom_disks):
        raise _snap_error(
            ErrorNumber.CONFIG_UNSUPPORTED, "too many disk snapshot requests for domain"
        )
    if not dom_disks:
        return ()
    chosen: dict[str, SnapshotDiskDef] = {}
    for disk in requested:
        target = _find_disk(dom_disks, disk.name)
        if target is None:
            raise _snap_error(ErrorNumber.CONFIG_UNSUPPORTED, f"no disk named '{disk.name}'")
        if target in chosen:
            raise _snap_error(ErrorNumber.CONFIG_UNSUPPORTED, f"disk '{disk.name}' specified twice")
        mode = disk.snapshot
        if mode is None:
            mode = default
        elif mode != default and default == "internal":
            raise _snap_error(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"disk '{disk.name}' must use snapshot mode '{default}'",
            )
        if disk.source_file is not None and mode != "external":
            raise _snap_error(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"file '{disk.source_file}' for disk '{disk.name}' requires use of external "
                "snapshot mode",
            )
        chosen[target] = replace(disk, name=target, snapshot=mode)
    aligned = []
    for node in dom_disks:
        target = str(node.xpath("string(./target/@dev)"))
        if target in chosen:
            aligned.append(chosen[target])
            continue
        empty = not node.xpath("./source/@file|./source/@dev|./source/@name|./source/@dir")
        own = node.get("snapshot")
        aligned.append(SnapshotDiskDef(target, "no" if empty else own or default))
    return tuple(aligned)


def align_snapshot_disks(
    requested: tuple[SnapshotDiskDef, ...], domain: Domain, *, external: bool = False
) -> tuple[SnapshotDiskDef, ...]:
    """``virDomainSnapshotAlignDisks``: one entry per disk of *domain*, in its order.

    Disks not named take their own ``snapshot`` attribute (``no`` for an
    empty drive) or the default location (``external`` with *external*,
    else ``internal``, which every named disk must then use). Raises
    libvirt's errors (``no disk named 'x'``, ``disk 'x' specified twice``, ...).
    """
    return _align_disks(requested, domain, external=external)


def _find_disk(disks: list[etree._Element], name: str) -> str | None:
    """``virDomainDiskByName``: a disk by target, else by source path."""
    for node in disks:
        if str(node.xpath("string(./target/@dev)")) == name:
            return str(node.xpath("string(./target/@dev)"))
    for node in disks:
        if str(node.xpath("string(./source/@file|./source/@dev)")) == name:
            return str(node.xpath("string(./target/@dev)"))
    return None
