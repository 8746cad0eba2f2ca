"""Snapshot ``REDEFINE`` and ``CURRENT``: recording a snapshot's metadata without taking it.

libvirt 9.0's ``qemuSnapshotCreateXML`` with ``VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE``
(``qemuSnapshotRedefine``) takes a snapshot document as ``snapshot-dumpxml``
printed it - typically to restore metadata dropped with ``METADATA_ONLY`` or
carried to another host - and records it, touching no image:

* the flags, checked as libvirt's public API does: ``CURRENT`` needs
  ``REDEFINE``; ``REDEFINE`` excludes ``NO_METADATA`` and ``HALT``;
* the document, parsed as an existing snapshot (``a redefined snapshot must
  have a name``, ``missing creationTime from existing snapshot``, ``missing
  state from existing snapshot``, ...) and its name checked as for any
  snapshot (no ``/``, no leading ``.``);
* ``virDomainMomentCheckCycles``: ``cannot set moment s1 as its own
  parent``, ``parent p for moment s not found``, ``parent p would create
  cycle to s``;
* ``virDomainSnapshotRedefineValidate``: ``DISK_ONLY`` needs the
  ``disk-snapshot`` state, the embedded domain must have the guest's UUID,
  and a snapshot being replaced may change neither between online and
  offline states nor between disk-only and full-system; a replacement
  without ``<domain>`` inherits the old one's;
* the disks aligned against the snapshot's domain (``missing domain in
  snapshot`` without one), as at creation.

The snapshot replaces one of the same name (its children stay its children)
or is added; it becomes the current snapshot only with ``CURRENT`` - then the
previous current one's metadata loses its ``<active>`` marker. Nothing is
checked against the images (libvirt does not either).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from virtcore.enums.errors import ErrorDomain
from virtcore.enums.snapshot import DomainSnapshotCreateFlags as Create
from virtcore.errors import InternalError, InvalidArgError, XMLDetailError
from virtcore.xml.domain import Domain as DomainDef
from virtcore.xml.domain.common import format_uuid
from virtcore.xml.snapshot import DomainSnapshot as SnapshotDoc
from virtcore.xml.snapshot import SnapshotDef, align_snapshot_disks

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["check_create_flags", "check_name", "prepare_redefine"]

log = logging.getLogger(__name__)

_API = ErrorDomain.DOMAIN_SNAPSHOT
_CONF = ErrorDomain.DOMAIN_SNAPSHOT
_MOMENTS = ErrorDomain.DOMAIN
_QEMU = ErrorDomain.QEMU
_FLAG_NAMES = {
    Create.REDEFINE: "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE",
    Create.CURRENT: "VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT",
    Create.NO_METADATA: "VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA",
    Create.HALT: "VIR_DOMAIN_SNAPSHOT_CREATE_HALT",
}
_ONLINE = ("running", "paused")


def _api_error(text: str) -> InvalidArgError:
    # The public API layer reports these without the "invalid argument: " prefix.
    return InvalidArgError(text, message=text, domain=_API)


def check_create_flags(flags: int) -> None:
    """``virDomainSnapshotCreateXML``'s flag rules for ``REDEFINE`` and ``CURRENT``."""
    if flags & Create.CURRENT and not flags & Create.REDEFINE:
        raise _api_error(
            f"Flag '{_FLAG_NAMES[Create.REDEFINE]}' is required by flag "
            f"'{_FLAG_NAMES[Create.CURRENT]}'"
        )
    for other in (Create.NO_METADATA, Create.HALT):
        if flags & Create.REDEFINE and flags & other:
            raise _api_error(
                f"Flags '{_FLAG_NAMES[Create.REDEFINE]}' and '{_FLAG_NAMES[other]}' are "
                "mutually exclusive"
            )


def check_name(name: str, flags: int) -> None:
    """A snapshot's name names its metadata file: no ``/``, no leading ``.``."""
    if flags & Create.NO_METADATA:
        return
    if "/" in name:
        raise XMLDetailError(
            f"invalid snapshot name '{name}': name can't contain '/'", domain=_QEMU
        )
    if name.startswith("."):
        raise XMLDetailError(
            f"invalid snapshot name '{name}': name can't start with '.'", domain=_QEMU
        )


def _check_cycles(snapshots: Mapping[str, SnapshotDef], snap: SnapshotDef) -> None:
    """``virDomainMomentCheckCycles``."""
    parent = snap.parent_name
    if parent is None:
        return
    if parent == snap.name:
        raise InvalidArgError(f"cannot set moment {snap.name} as its own parent", domain=_MOMENTS)
    other = snapshots.get(parent)
    if other is None:
        raise InvalidArgError(f"parent {parent} for moment {snap.name} not found", domain=_MOMENTS)
    seen: set[str | None] = set()
    while other.parent_name is not None and other.name not in seen:
        seen.add(other.name)
        if other.parent_name == snap.name:
            raise InvalidArgError(
                f"parent {other.name} would create cycle to {snap.name}", domain=_MOMENTS
            )
        found = snapshots.get(other.parent_name)
        if found is None:
            log.warning("snapshots are inconsistent (missing '%s')", other.parent_name)
            break
        other = found


def _is_external(snap: SnapshotDef) -> bool:
    """``virDomainSnapshotDefIsExternal``: external memory or an external disk."""
    return snap.memory == "external" or any(d.snapshot == "external" for d in snap.disks)


def _validate(snap: SnapshotDef, uuid: str, other: SnapshotDef | None, flags: int) -> SnapshotDef:
    """``virDomainSnapshotRedefineValidate``; returns *snap* with its domain filled in."""
    external = snap.state == "disk-snapshot" or _is_external(snap)
    if flags & Create.DISK_ONLY and not external:
        raise InvalidArgError(
            f"disk-only flag for snapshot {snap.name} requires disk-snapshot state", domain=_CONF
        )
    if snap.domain is not None:
        embedded = format_uuid(DomainDef.parse(snap.domain).definition().uuid)
        if embedded != uuid:
            raise InvalidArgError(
                f"definition for snapshot {snap.name} must use uuid {uuid}", domain=_CONF
            )
    if other is not None:
        if (other.state in _ONLINE) != (snap.state in _ONLINE):
            raise InvalidArgError(
                f"cannot change between online and offline snapshot state in snapshot {snap.name}",
                domain=_CONF,
            )
        if (other.state == "disk-snapshot") != (snap.state == "disk-snapshot"):
            raise InvalidArgError(
                f"cannot change between disk only and full system in snapshot {snap.name}",
                domain=_CONF,
            )
        if snap.domain is None and other.domain is not None:
            snap = replace(snap, domain=other.domain)
    return snap


def prepare_redefine(
    snapshots: Mapping[str, SnapshotDef], uuid: str, xml: str, flags: int
) -> tuple[SnapshotDef, SnapshotDef | None]:
    """Check a ``REDEFINE`` document of a guest (*uuid*, its *snapshots*).

    Returns the snapshot to record and the one of the same name it replaces
    (None for a new one). Raises libvirt's errors in its order.
    """
    snap = SnapshotDoc.parse(xml, redefine=True).definition(redefine=True)
    assert snap.name is not None
    check_name(snap.name, flags)
    _check_cycles(snapshots, snap)
    other = snapshots.get(snap.name)
    snap = _validate(snap, uuid, other, flags)
    if snap.domain is None:
        raise InternalError("missing domain in snapshot", domain=_CONF)
    external = snap.state == "disk-snapshot" or _is_external(snap)
    disks = align_snapshot_disks(snap.disks, DomainDef.parse(snap.domain), external=external)
    return replace(snap, disks=disks), other
