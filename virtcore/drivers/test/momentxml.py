"""Snapshot and checkpoint XML: parsing, disk alignment and libvirt's formatting.

:class:`SnapshotDef` follows ``src/conf/snapshot_conf.c`` of libvirt 9.0 and
:class:`CheckpointDef` ``src/conf/checkpoint_conf.c``: the same elements,
defaults, checks and messages (error domains ``VIR_FROM_DOMAIN_SNAPSHOT`` and
``VIR_FROM_DOMAIN_CHECKPOINT``), and the same output, including the embedded
``<domain>`` written in its inactive form.

Without ``REDEFINE`` a new moment is named after its creation time (seconds
since the epoch) unless the document names it, and the state, parent and
creation time given in the document are ignored. Checkpoint documents are
not validated against libvirt's RelaxNG schema (libvirt always validates
them); documents the schema would refuse for unknown elements are accepted.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.domainxml import DomainDef
from virtcore.drivers.test.moments import MomentDef
from virtcore.drivers.test.xmlutil import XMLWriter, child, elements, parse_xml, words
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, InternalError, XMLError

__all__ = [
    "SNAPSHOT_STATES",
    "CheckpointDef",
    "CheckpointDisk",
    "SnapshotDef",
    "SnapshotDisk",
    "format_domain",
]

_SNAP = ErrorDomain.DOMAIN_SNAPSHOT
_CHK = ErrorDomain.DOMAIN_CHECKPOINT

SNAPSHOT_STATES = (
    "nostate",
    "running",
    "blocked",
    "paused",
    "shutdown",
    "shutoff",
    "crashed",
    "pmsuspended",
    "disk-snapshot",
)
"""``virDomainSnapshotState``: the domain states plus ``disk-snapshot``."""

_LOCATIONS = ("no", "internal", "external", "manual")
_STORAGE_TYPES = ("file", "block", "dir", "network", "volume", "nvme", "vhostuser", "vhostvdpa")
_FORMATS = words("raw dir bochs cloop dmg iso vpc vdi fat vhd ploop cow qcow qcow2 qed vmdk")


def format_domain(out: XMLWriter, dom: DomainDef) -> None:
    """Write *dom*'s inactive XML one level below the current element."""
    for line in dom.format(None).rstrip("\n").split("\n"):
        out.line(line)


def _text(root: etree._Element, path: str) -> str | None:
    found = root.find(path)
    if found is None or not found.text:
        return None
    return found.text


def _enum_attr(elem: etree._Element, name: str, allowed: tuple[str, ...]) -> str | None:
    value = elem.get(name)
    if value is None:
        return None
    if value not in allowed:
        raise XMLError(
            f"Invalid value for attribute '{name}' in element '{elem.tag}': '{value}'.",
            domain=ErrorDomain.XML,
        )
    return value


def _creation_time(root: etree._Element, what: str, domain: ErrorDomain) -> int:
    raw = (_text(root, "creationTime") or "").strip()
    try:
        return int(raw)
    except ValueError:
        raise InternalError(f"missing creationTime from existing {what}", domain=domain) from None


def _embedded_domain(root: etree._Element) -> DomainDef | None:
    dom = child(root, "domain")
    if dom is None or dom.get("type") is None:
        return None
    return DomainDef.from_element(dom)


@dataclass
class SnapshotDisk:
    """One ``<disk>`` of a snapshot: where (and whether) that disk is snapshotted."""

    name: str
    snapshot: str | None = None
    type: str = "file"
    path: str | None = None
    driver: str | None = None


@dataclass
class SnapshotDef(MomentDef):
    """A domain snapshot definition (``virDomainSnapshotDef``)."""

    state: str | None = None
    memory: str | None = None
    memory_file: str | None = None
    disks: list[SnapshotDisk] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str, *, redefine: bool, now: int) -> SnapshotDef:
        """Parse a ``<domainsnapshot>`` document (``virDomainSnapshotDefParseString``)."""
        root = parse_xml(text, "(domain_snapshot)", domain=_SNAP, root="domainsnapshot")
        return cls.from_element(root, redefine=redefine, now=now)

    @classmethod
    def from_internal(cls, root: etree._Element) -> tuple[SnapshotDef, bool]:
        """A snapshot stored with its ``<active>`` marker, and whether it is the current one.

        This is how libvirt reads the snapshots of a test driver configuration
        file (``VIR_DOMAIN_SNAPSHOT_PARSE_INTERNAL``, redefinition rules).
        """
        if etree.QName(root).localname != "domainsnapshot":
            raise XMLError("domainsnapshot", domain=_SNAP)
        snap = cls.from_element(root, redefine=True, now=0)
        active = (_text(root, "active") or "").strip()
        try:
            current = int(active) != 0
        except ValueError:
            raise InternalError("Could not find 'active' element", domain=_SNAP) from None
        return snap, current

    @classmethod
    def from_element(cls, root: etree._Element, *, redefine: bool, now: int) -> SnapshotDef:
        """Build a snapshot definition from a parsed ``<domainsnapshot>`` element."""
        name = _text(root, "name")
        if name is None and redefine:
            raise XMLError("a redefined snapshot must have a name", domain=_SNAP)
        snap = cls(name=name or "", description=_text(root, "description"), creation_time=now)
        offline = False
        if redefine:
            snap.creation_time = _creation_time(root, "snapshot", _SNAP)
            snap.parent_name = _text(root, "parent/name")
            state = _text(root, "state")
            if state is None:
                raise XMLError("missing state from existing snapshot", domain=_SNAP)
            if state not in SNAPSHOT_STATES[1:]:
                raise ConfigUnsupportedError(
                    f"Invalid state '{state}' in domain snapshot XML", domain=_SNAP
                )
            snap.state = state
            offline = state in ("shutoff", "disk-snapshot")
            snap.dom = _embedded_domain(root)
        elif name is None:
            snap.name = str(now)
        snap._parse_memory(root, redefine=redefine, offline=offline)
        disks = child(root, "disks")
        for node in elements(disks) if disks is not None else []:
            snap.disks.append(_parse_snapshot_disk(node))
        return snap

    def _parse_memory(self, root: etree._Element, *, redefine: bool, offline: bool) -> None:
        memory = child(root, "memory")
        if memory is not None:
            self.memory_file = memory.get("file")
            self.memory = _enum_attr(memory, "snapshot", _LOCATIONS)
            if self.memory == "manual":
                raise XMLError("'manual' memory snapshot mode not supported", domain=_SNAP)
        if self.memory is None:
            if self.memory_file is not None:
                self.memory = "external"
            elif redefine:
                self.memory = "no" if offline else "internal"
        if self.memory_file is not None and self.memory != "external":
            raise XMLError(
                f"memory filename '{self.memory_file}' requires external snapshot", domain=_SNAP
            )
        if self.memory_file is None and self.memory == "external":
            raise XMLError("external memory snapshots require a filename", domain=_SNAP)
        if offline and self.memory not in (None, "no"):
            raise XMLError(
                "memory state cannot be saved with offline or disk-only snapshot", domain=_SNAP
            )
        if self.memory_file is not None and not os.path.isabs(self.memory_file):
            raise XMLError(
                f"memory snapshot file path ({self.memory_file}) must be absolute", domain=_SNAP
            )

    @property
    def is_external(self) -> bool:
        """Whether the memory or any disk is snapshotted to an external file."""
        return self.memory == "external" or any(d.snapshot == "external" for d in self.disks)

    def align_disks(self, domdef: DomainDef | None, default: str, uniform: bool) -> None:
        """Give every disk of the domain an entry (``virDomainSnapshotAlignDisks``)."""
        if domdef is None:
            raise InternalError("missing domain in snapshot", domain=_SNAP)
        targets = _disk_targets(domdef)
        if len(self.disks) > len(targets):
            raise ConfigUnsupportedError("too many disk snapshot requests for domain", domain=_SNAP)
        require_match = uniform and default == "internal"
        if not targets:
            return
        given: dict[str, SnapshotDisk] = {}
        for disk in self.disks:
            target = _find_disk(targets, disk.name)
            if target is None:
                raise ConfigUnsupportedError(f"no disk named '{disk.name}'", domain=_SNAP)
            dev, source, mode = target
            if dev in given:
                raise ConfigUnsupportedError(f"disk '{disk.name}' specified twice", domain=_SNAP)
            given[dev] = disk
            if disk.snapshot is None:
                disk.snapshot = (
                    mode if mode is not None and (not require_match or mode == "no") else default
                )
            elif (
                require_match
                and disk.snapshot != default
                and not (disk.snapshot == "no" and mode == "no")
            ):
                raise ConfigUnsupportedError(
                    f"disk '{disk.name}' must use snapshot mode '{default}'", domain=_SNAP
                )
            if disk.path is not None and disk.snapshot != "external":
                raise ConfigUnsupportedError(
                    f"file '{disk.path}' for disk '{disk.name}' requires use of external "
                    "snapshot mode",
                    domain=_SNAP,
                )
            disk.name = dev
        aligned = []
        for dev, source, mode in targets:
            if dev in given:
                aligned.append(given[dev])
                continue
            snapshot = "no" if source is None else mode
            aligned.append(SnapshotDisk(dev, snapshot or default))
        self.disks = aligned
        self._assign_external_names(targets)

    def _assign_external_names(self, targets: list[tuple[str, str | None, str | None]]) -> None:
        for index, disk in enumerate(self.disks):
            if disk.snapshot != "external" or disk.path is not None:
                continue
            if disk.type != "file":
                raise ConfigUnsupportedError(
                    f"cannot generate external snapshot name for disk '{disk.name}' on a "
                    f"'{disk.type}' device",
                    domain=_SNAP,
                )
            origin = targets[index][1]
            if origin is None:
                raise ConfigUnsupportedError(
                    f"cannot generate external snapshot name for disk '{disk.name}' without source",
                    domain=_SNAP,
                )
            try:
                regular = stat.S_ISREG(os.stat(origin).st_mode)
            except OSError:
                regular = False
            if not regular:
                raise ConfigUnsupportedError(
                    f"source for disk '{disk.name}' is not a regular file; refusing to generate "
                    "external snapshot name",
                    domain=_SNAP,
                )
            stem, dot, suffix = origin.rpartition(".")
            base = stem if dot and "/" not in suffix else origin
            disk.path = f"{base}.{self.name}"
            for earlier in self.disks[:index]:
                if earlier.path == disk.path:
                    raise ConfigUnsupportedError(
                        f"cannot generate external snapshot name for disk '{disk.name}': "
                        f"collision with disk '{earlier.name}'",
                        domain=_SNAP,
                    )

    def format(self, domain_uuid: str) -> str:
        """The document ``virDomainSnapshotGetXMLDesc`` returns."""
        out = XMLWriter()
        out.open("domainsnapshot")
        out.text("name", self.name)
        if self.description is not None:
            out.text("description", self.description)
        if self.state is not None:
            out.text("state", self.state)
        if self.parent_name is not None:
            out.open("parent")
            out.text("name", self.parent_name)
            out.close("parent")
        if self.creation_time:
            out.text("creationTime", self.creation_time)
        if self.memory is not None:
            out.empty("memory", [("snapshot", self.memory), ("file", self.memory_file)])
        if self.disks:
            out.open("disks")
            for disk in self.disks:
                attrs = [("name", disk.name), ("snapshot", disk.snapshot)]
                if disk.path is None and disk.driver is None:
                    out.empty("disk", attrs)
                    continue
                out.open("disk", [*attrs, ("type", disk.type)])
                if disk.driver is not None:
                    out.empty("driver", [("type", disk.driver)])
                if disk.path is not None:
                    out.empty("source", [("file" if disk.type == "file" else "dev", disk.path)])
                out.close("disk")
            out.close("disks")
        if self.dom is not None:
            format_domain(out, self.dom)
        else:
            out.open("domain")
            out.text("uuid", domain_uuid)
            out.close("domain")
        out.close("domainsnapshot")
        return out.getvalue()


def _parse_snapshot_disk(node: etree._Element) -> SnapshotDisk:
    name = node.get("name")
    if name is None:
        raise InternalError("missing name from disk snapshot element", domain=_SNAP)
    disk = SnapshotDisk(name, _enum_attr(node, "snapshot", _LOCATIONS))
    disk.type = _enum_attr(node, "type", _STORAGE_TYPES) or "file"
    if disk.type in ("volume", "dir"):
        raise XMLError(f"unsupported disk snapshot type '{disk.type}'", domain=_SNAP)
    source = child(node, "source")
    if source is not None:
        disk.path = source.get("file") or source.get("dev")
    driver = child(node, "driver")
    if driver is not None and driver.get("type") is not None:
        disk.driver = driver.get("type")
        if disk.driver not in _FORMATS:
            raise ConfigUnsupportedError(
                f"unknown disk snapshot driver '{disk.driver}'", domain=_SNAP
            )
    if disk.path is not None and not os.path.isabs(disk.path):
        raise XMLError(f"disk snapshot image path '{disk.path}' must be absolute", domain=_SNAP)
    if disk.snapshot is None and (disk.path is not None or disk.driver is not None):
        disk.snapshot = "external"
    return disk


def _disk_targets(dom: DomainDef) -> list[tuple[str, str | None, str | None]]:
    """(target, source path or None when empty, ``snapshot`` attribute) of each disk."""
    out = []
    for dev in dom.devices:
        if dev.tag != "disk":
            continue
        target = child(dev, "target")
        source = child(dev, "source")
        path = None
        if source is not None:
            path = source.get("file") or source.get("dev") or source.get("dir")
            path = path or source.get("name") or source.get("volume")
        out.append((target.get("dev", "") if target is not None else "", path, dev.get("snapshot")))
    return out


def _find_disk(
    targets: list[tuple[str, str | None, str | None]], name: str
) -> tuple[str, str | None, str | None] | None:
    for entry in targets:
        if entry[0] == name:
            return entry
    for entry in targets:
        if entry[1] is not None and entry[1] == name:
            return entry
    return None


@dataclass
class CheckpointDisk:
    """One ``<disk>`` of a checkpoint."""

    name: str
    checkpoint: str | None = "bitmap"
    bitmap: str | None = None


@dataclass
class CheckpointDef(MomentDef):
    """A domain checkpoint definition (``virDomainCheckpointDef``)."""

    disks: list[CheckpointDisk] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str, *, redefine: bool, now: int) -> CheckpointDef:
        """Parse a ``<domaincheckpoint>`` document (``virDomainCheckpointDefParseString``)."""
        root = parse_xml(text, "(domain_checkpoint)", domain=_CHK, root="domaincheckpoint")
        name = _text(root, "name")
        if name is None and redefine:
            raise XMLError("a redefined checkpoint must have a name", domain=_CHK)
        chk = cls(name=name or str(now), description=_text(root, "description"), creation_time=now)
        if redefine:
            chk.creation_time = _creation_time(root, "checkpoint", _CHK)
            chk.parent_name = _text(root, "parent/name")
            chk.dom = _embedded_domain(root)
        disks = child(root, "disks")
        for node in elements(disks) if disks is not None else []:
            kind = node.get("checkpoint")
            chk.disks.append(
                CheckpointDisk(node.get("name", ""), kind or "bitmap", node.get("bitmap"))
            )
        return chk

    def align_disks(self) -> None:
        """Give every disk of the domain an entry (``virDomainCheckpointAlignDisks``)."""
        if self.dom is None:
            raise InternalError("missing domain in checkpoint", domain=_CHK)
        targets = [(dev, path, _disk_readonly(self.dom, dev)) for dev, path, _ in
                   _disk_targets(self.dom)]  # fmt: skip
        if len(self.disks) > len(targets):
            raise ConfigUnsupportedError(
                "too many disk checkpoint requests for domain", domain=_CHK
            )
        if not targets:
            raise ConfigUnsupportedError(
                "domain must have at least one disk to perform checkpoints", domain=_CHK
            )
        default = "no" if self.disks else "bitmap"
        given: dict[str, CheckpointDisk] = {}
        for disk in self.disks:
            match = next((t for t in targets if disk.name in (t[0], t[1])), None)
            if match is None:
                raise ConfigUnsupportedError(f"no disk named '{disk.name}'", domain=_CHK)
            dev, path, readonly = match
            if dev in given:
                raise ConfigUnsupportedError(f"disk '{disk.name}' specified twice", domain=_CHK)
            given[dev] = disk
            if (path is None or readonly) and disk.checkpoint != "no":
                raise ConfigUnsupportedError(
                    f"disk '{disk.name}' is empty or readonly", domain=_CHK
                )
            disk.name = dev
        aligned = []
        for dev, path, readonly in targets:
            if dev in given:
                aligned.append(given[dev])
            else:
                kind = "no" if path is None or readonly else default
                aligned.append(CheckpointDisk(dev, kind))
        self.disks = aligned
        self.assign_bitmap_names()

    def assign_bitmap_names(self) -> None:
        """Name each bitmap without a name after the checkpoint."""
        for disk in self.disks:
            if disk.checkpoint == "bitmap" and disk.bitmap is None:
                disk.bitmap = self.name

    def format(self, *, no_domain: bool = False) -> str:
        """The document ``virDomainCheckpointGetXMLDesc`` returns."""
        out = XMLWriter()
        out.open("domaincheckpoint")
        out.text("name", self.name)
        if self.description is not None:
            out.text("description", self.description)
        if self.parent_name is not None:
            out.open("parent")
            out.text("name", self.parent_name)
            out.close("parent")
        if self.creation_time:
            out.text("creationTime", self.creation_time)
        if self.disks:
            out.open("disks")
            for disk in self.disks:
                out.empty(
                    "disk",
                    [("name", disk.name), ("checkpoint", disk.checkpoint), ("bitmap", disk.bitmap)],
                )
            out.close("disks")
        if self.dom is not None and not no_domain:
            format_domain(out, self.dom)
        out.close("domaincheckpoint")
        return out.getvalue()


def _disk_readonly(dom: DomainDef, target_dev: str) -> bool:
    for dev in dom.devices:
        target = child(dev, "target")
        if dev.tag == "disk" and target is not None and target.get("dev") == target_dev:
            return child(dev, "readonly") is not None or dev.get("device") == "cdrom"
    return False
