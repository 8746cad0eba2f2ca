"""The domain checkpoint document (``<domaincheckpoint>``), checked and written as libvirt 9.0 does.

:class:`DomainCheckpoint` is a typed view of a live ``<domaincheckpoint>``
tree (name, description, parent, creation time, disks, the embedded
domain); unknown content stays in the tree.

* :meth:`DomainCheckpoint.parse` reads a document the way
  ``virDomainCheckpointDefParseString`` does: the root must be
  ``<domaincheckpoint>`` and the document always validates against
  ``domaincheckpoint.rng`` (libvirt never parses checkpoints unvalidated);
* :meth:`DomainCheckpoint.definition` applies the remaining checks in
  libvirt's order with its exact errors (``redefine=True`` for
  ``VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE``, which requires a name and a
  creation time) and returns the values libvirt keeps (:class:`CheckpointDef`);
* :meth:`DomainCheckpoint.create` is what libvirt 9.0's test driver does on
  ``checkpoint-create``: name and creation time from the clock (injectable;
  a given creation time or parent is ignored), the current checkpoint as
  parent, every disk of the domain aligned (``virDomainCheckpointAlignDisks``)
  and a copy of the domain's inactive definition;
* :meth:`CheckpointDef.format` writes what ``checkpoint-dumpxml`` prints:
  ``DomainCheckpointXMLFlags.SECURE`` passes ``SECURE`` on to the embedded
  domain and ``NO_DOMAIN`` leaves it out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Self

from lxml import etree

from virtcore.enums.checkpoint import DomainCheckpointXMLFlags
from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import XMLChildList, XMLNode, XMLProperty
from virtcore.xml.domain import Domain
from virtcore.xml.format import DOMAIN_RULES, format_xml
from virtcore.xml.network_addr import error
from virtcore.xml.network_netdev import add_element, child_elements, prop_enum, raw_attr
from virtcore.xml.parse import parse_document

__all__ = [
    "CHECKPOINT_TYPES",
    "CheckpointDef",
    "CheckpointDisk",
    "CheckpointDiskDef",
    "DomainCheckpoint",
]

logger = logging.getLogger(__name__)

CHECKPOINT_TYPES = ("default", "no", "bitmap")
"""``virDomainCheckpointType`` names (``default`` is refused by the schema)."""
_CKPT = ErrorDomain.DOMAIN_CHECKPOINT


def _ckpt_error(code: int, detail: str) -> VirtError:
    return error(code, detail, _CKPT)


def _text(element: etree._Element, path: str) -> str | None:
    found = element.xpath(f"string({path})")
    return str(found) or None


@dataclass(frozen=True)
class CheckpointDiskDef:
    """One ``<disk>`` of a checkpoint: whether it gets a bitmap, and its name."""

    name: str
    checkpoint: str | None = None
    bitmap: str | None = None

    def emit(self, parent: etree._Element) -> None:
        """Append this disk as ``virDomainCheckpointDiskDefFormat`` writes it."""
        add_element(
            parent,
            "disk",
            [("name", self.name), ("checkpoint", self.checkpoint), ("bitmap", self.bitmap)],
        )


@dataclass(frozen=True)
class CheckpointDef:
    """The values libvirt keeps for a checkpoint (``virDomainCheckpointDef``)."""

    name: str | None
    description: str | None = None
    parent_name: str | None = None
    creation_time: int = 0
    disks: tuple[CheckpointDiskDef, ...] = ()
    domain: str | None = field(default=None, repr=False)

    def to_element(self, flags: int = 0) -> etree._Element:
        """The canonical ``<domaincheckpoint>`` tree (``virDomainCheckpointDefFormat``)."""
        root = add_element(None, "domaincheckpoint")
        add_element(root, "name", text=self.name or "")
        if self.description is not None:
            add_element(root, "description", text=self.description)
        if self.parent_name is not None:
            add_element(add_element(root, "parent"), "name", text=self.parent_name)
        if self.creation_time:
            add_element(root, "creationTime", text=str(self.creation_time))
        if self.disks:
            disks = add_element(root, "disks")
            for disk in self.disks:
                disk.emit(disks)
        if self.domain is not None and not flags & DomainCheckpointXMLFlags.NO_DOMAIN:
            domain_flags = DomainXMLFlags.INACTIVE
            if flags & DomainCheckpointXMLFlags.SECURE:
                domain_flags |= DomainXMLFlags.SECURE
            formatted = Domain.parse(self.domain).format(int(domain_flags))
            root.append(parse_document(formatted, url="(domain_definition)"))
        return root

    def format(self, flags: int = 0) -> str:
        """The document as ``virDomainCheckpointGetXMLDesc`` prints it."""
        return format_xml(self.to_element(flags), rules=DOMAIN_RULES)


class CheckpointDisk(XMLNode):
    """A ``<disk>`` of ``<disks>``: the domain disk (target or path) and its bitmap."""

    TAG = "disk"
    name = XMLProperty("./@name")
    checkpoint = XMLProperty("./@checkpoint")
    bitmap = XMLProperty("./@bitmap")


class DomainCheckpoint(XMLNode):
    """A ``<domaincheckpoint>`` document: a typed view over its live tree."""

    TAG = "domaincheckpoint"
    PARSE_URL = "(domain_checkpoint)"
    ERROR_DOMAIN = ErrorDomain.DOMAIN_CHECKPOINT
    SCHEMA = "domaincheckpoint.rng"
    FORMAT_RULES = DOMAIN_RULES
    XML_ORDER = {"": ("name", "description", "parent", "creationTime", "disks", "domain")}

    name = XMLProperty("./name")
    description = XMLProperty("./description")
    parent_name = XMLProperty("./parent/name")
    creation_time = XMLProperty("./creationTime", int)
    disks = XMLChildList(CheckpointDisk, "./disks/disk")

    @classmethod
    def parse(cls, text: str | bytes, *, redefine: bool = False) -> Self:
        """Parse and validate *text*, then run libvirt's checks (raising its errors)."""
        checkpoint = cls.from_xml(text, validate_schema=True)
        checkpoint.definition(redefine=redefine)
        return checkpoint

    def definition(self, *, redefine: bool = False) -> CheckpointDef:
        """``virDomainCheckpointDefParse``: libvirt's checks, in its order, and its values."""
        root = self.element
        name = _text(root, "./name")
        if name is None and redefine:
            raise _ckpt_error(ErrorNumber.XML_ERROR, "a redefined checkpoint must have a name")
        description = _text(root, "./description")
        parent = domain = None
        creation = 0
        if redefine:
            parent = _text(root, "./parent/name")
            try:
                creation = int(_text(root, "./creationTime") or "")
            except ValueError:
                raise _ckpt_error(
                    ErrorNumber.INTERNAL_ERROR, "missing creationTime from existing checkpoint"
                ) from None
            domain = self._embedded()
        disks = tuple(self._disk(node) for node in self.xpath("./disks/disk"))
        return CheckpointDef(name, description, parent, creation, disks, domain)

    def _embedded(self) -> str | None:
        found = child_elements(self.element, "domain")
        if not found:
            return None
        text = etree.tostring(found[0], encoding="unicode")
        Domain.parse(text)
        return text

    @staticmethod
    def _disk(node: etree._Element) -> CheckpointDiskDef:
        name = raw_attr(node, "name")
        if name is None:
            raise _ckpt_error(
                ErrorNumber.INTERNAL_ERROR, "missing name from disk checkpoint element"
            )
        mode = prop_enum(node, "checkpoint", CHECKPOINT_TYPES)
        return CheckpointDiskDef(name, mode, raw_attr(node, "bitmap"))

    def create(
        self,
        domain_xml: str,
        *,
        current: str | None = None,
        known_checkpoints: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> CheckpointDef:
        """Take the checkpoint of a domain as libvirt 9.0's test driver does.

        *domain_xml* is the domain's definition, *current* the name of its
        current checkpoint (the new one's parent) and *known_checkpoints*
        the names already taken; *clock* gives the creation time (and the
        name when there is none).
        """
        base = self.definition()
        now = int(clock())
        name = base.name if base.name is not None else str(now)
        if name in known_checkpoints:
            raise error(
                ErrorNumber.OPERATION_FAILED,
                f"domain moment {name} already exists",
                ErrorDomain.DOMAIN,
            )
        domain = Domain.parse(domain_xml)
        return replace(
            base,
            name=name,
            parent_name=current,
            creation_time=now,
            disks=align_disks(base.disks, domain, name),
            domain=domain.format(int(DomainXMLFlags.INACTIVE)),
        )

    def redefine(self, known_checkpoints: Sequence[str] = ()) -> CheckpointDef:
        """Check a ``REDEFINE`` document as the test driver does.

        Its parent must be one of *known_checkpoints*; when it embeds its
        domain, its disks are aligned to that domain's.
        """
        ckpt = self.definition(redefine=True)
        if ckpt.parent_name is not None:
            if ckpt.parent_name == ckpt.name:
                raise error(
                    ErrorNumber.INVALID_ARG,
                    f"cannot set moment {ckpt.name} as its own parent",
                    ErrorDomain.DOMAIN,
                )
            if ckpt.parent_name not in known_checkpoints:
                raise error(
                    ErrorNumber.INVALID_ARG,
                    f"parent {ckpt.parent_name} for moment {ckpt.name} not found",
                    ErrorDomain.DOMAIN,
                )
        if ckpt.domain is None:
            return ckpt
        # With its domain, a redefined checkpoint gets its disks aligned like a new one.
        aligned = align_disks(ckpt.disks, Domain.parse(ckpt.domain), ckpt.name or "")
        return replace(ckpt, disks=aligned)

    def format(self, flags: int = 0) -> str:
        """The document with libvirt's checks applied, as libvirt writes it."""
        return self.definition().format(flags)

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)


def align_disks(
    requested: tuple[CheckpointDiskDef, ...], domain: Domain, checkpoint_name: str
) -> tuple[CheckpointDiskDef, ...]:
    """``virDomainCheckpointAlignDisks``: one entry per domain disk, in domain order.

    Disks the document names default to a bitmap named after the checkpoint;
    the others get one only when the document names no disk at all (and
    never when empty or read-only).
    """
    dom_disks = domain.xpath("./devices/disk")
    if len(requested) > len(dom_disks):
        raise _ckpt_error(
            ErrorNumber.CONFIG_UNSUPPORTED, "too many disk checkpoint requests for domain"
        )
    chosen: dict[str, CheckpointDiskDef] = {}
    for disk in requested:
        node = _find_disk(dom_disks, disk.name)
        if node is None:
            raise _ckpt_error(ErrorNumber.CONFIG_UNSUPPORTED, f"no disk named '{disk.name}'")
        target = str(node.xpath("string(./target/@dev)"))
        if target in chosen:
            raise _ckpt_error(ErrorNumber.CONFIG_UNSUPPORTED, f"disk '{disk.name}' specified twice")
        mode = disk.checkpoint if disk.checkpoint not in (None, "default") else "bitmap"
        if mode == "bitmap" and _empty_or_readonly(node):
            raise _ckpt_error(
                ErrorNumber.CONFIG_UNSUPPORTED, f"disk '{disk.name}' is empty or readonly"
            )
        bitmap = (disk.bitmap or checkpoint_name) if mode == "bitmap" else None
        chosen[target] = CheckpointDiskDef(target, mode, bitmap)
    default = "no" if requested else "bitmap"
    aligned = []
    for node in dom_disks:
        target = str(node.xpath("string(./target/@dev)"))
        if target in chosen:
            aligned.append(chosen[target])
        elif default == "bitmap" and not _empty_or_readonly(node):
            aligned.append(CheckpointDiskDef(target, "bitmap", checkpoint_name))
        else:
            aligned.append(CheckpointDiskDef(target, "no"))
    return tuple(aligned)


def _empty_or_readonly(disk: etree._Element) -> bool:
    empty = not disk.xpath("./source/@file|./source/@dev|./source/@name|./source/@dir")
    return empty or bool(disk.xpath("./readonly"))


def _find_disk(disks: list[etree._Element], name: str) -> etree._Element | None:
    """``virDomainDiskByName``: a disk by target, else by source path."""
    for node in disks:
        if str(node.xpath("string(./target/@dev)")) == name:
            return node
    for node in disks:
        if str(node.xpath("string(./source/@file|./source/@dev)")) == name:
            return node
    return None
