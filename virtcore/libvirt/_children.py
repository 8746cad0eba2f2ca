"""``virDomainSnapshot`` and ``virDomainCheckpoint``: objects named within one domain."""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.libvirt._base import Wrapped, status

if TYPE_CHECKING:
    from virtcore.libvirt._connect import virConnect
    from virtcore.libvirt._domain import virDomain

__all__ = ["virDomainCheckpoint", "virDomainSnapshot"]


class _DomainChild(Wrapped):
    """Shared by snapshots and checkpoints: the owning ``virDomain`` and the name."""

    __slots__ = ("_dom",)

    def __init__(self, dom: Wrapped, _obj: Any = None) -> None:
        self._dom: Any = dom
        self._bind(dom._conn, _obj)

    def connect(self) -> virConnect:
        """The connection of the owning domain."""
        conn: virConnect = self._dom._conn
        return conn

    def domain(self) -> virDomain:
        """The domain this object belongs to."""
        dom: virDomain = self._dom
        return dom

    def getConnect(self) -> virConnect:
        """The connection of the owning domain (libvirt's ``Get`` spelling)."""
        return self.connect()

    def getDomain(self) -> virDomain:
        """The domain this object belongs to (libvirt's ``Get`` spelling)."""
        return self.domain()

    def getName(self) -> str:
        """The object's name, unique within its domain."""
        name: str = self._o.name
        return name


class virDomainSnapshot(_DomainChild):
    """A domain snapshot (libvirt-python's ``virDomainSnapshot``)."""

    def delete(self, flags: int = 0) -> int:
        """Delete the snapshot (``virDomainSnapshotDelete``)."""
        return status(
            self._call("domain_snapshot_delete", "virDomainSnapshotDelete", flags, write=True)
        )

    def getParent(self, flags: int = 0) -> virDomainSnapshot:
        """Get the parent snapshot for @snapshot, if any (``virDomainSnapshotGetParent``)."""
        return virDomainSnapshot(
            self._dom,
            _obj=self._call("domain_snapshot_get_parent", "virDomainSnapshotGetParent", flags),
        )

    def getXMLDesc(self, flags: int = 0) -> str:
        """Provide an XML description of the domain snapshot, with a top-level element of
        <domainsnapshot> (``virDomainSnapshotGetXMLDesc``).
        """
        result: str = self._call(
            "domain_snapshot_get_xml_desc", "virDomainSnapshotGetXMLDesc", flags
        )
        return result

    def hasMetadata(self, flags: int = 0) -> int:
        """Determine if the given snapshot is associated with libvirt metadata that would prevent
        the deletion of the domain (``virDomainSnapshotHasMetadata``).
        """
        return status(
            self._call("domain_snapshot_has_metadata", "virDomainSnapshotHasMetadata", flags)
        )

    def isCurrent(self, flags: int = 0) -> int:
        """Determine if the given snapshot is the domain's current snapshot
        (``virDomainSnapshotIsCurrent``).
        """
        return status(self._call("domain_snapshot_is_current", "virDomainSnapshotIsCurrent", flags))

    def listChildrenNames(self, flags: int = 0) -> list[Any]:
        """Collect the list of child snapshot names for the given snapshot
        (``virDomainSnapshotListChildrenNames``).
        """
        return list(
            self._call(
                "domain_snapshot_list_children_names", "virDomainSnapshotListChildrenNames", flags
            )
        )

    def numChildren(self, flags: int = 0) -> int:
        """Provides the number of child snapshots for this domain snapshot
        (``virDomainSnapshotNumChildren``).
        """
        return status(
            self._call("domain_snapshot_num_children", "virDomainSnapshotNumChildren", flags)
        )

    def listAllChildren(self, flags: int = 0) -> list[virDomainSnapshot]:
        """List all child snapshots and returns a list of snapshot objects
        (``virDomainSnapshotListAllChildren``).
        """
        return [
            virDomainSnapshot(self._dom, _obj=o)
            for o in self._call(
                "domain_snapshot_list_all_children", "virDomainSnapshotListAllChildren", flags
            )
        ]


class virDomainCheckpoint(_DomainChild):
    """A domain checkpoint (libvirt-python's ``virDomainCheckpoint``)."""

    def delete(self, flags: int = 0) -> int:
        """Removes a checkpoint from the domain (``virDomainCheckpointDelete``)."""
        return status(
            self._call("domain_checkpoint_delete", "virDomainCheckpointDelete", flags, write=True)
        )

    def getParent(self, flags: int = 0) -> virDomainCheckpoint:
        """Get the parent checkpoint for @checkpoint, if any (``virDomainCheckpointGetParent``)."""
        return virDomainCheckpoint(
            self._dom,
            _obj=self._call("domain_checkpoint_get_parent", "virDomainCheckpointGetParent", flags),
        )

    def getXMLDesc(self, flags: int = 0) -> str:
        """Provide an XML description of the domain checkpoint
        (``virDomainCheckpointGetXMLDesc``).
        """
        result: str = self._call(
            "domain_checkpoint_get_xml_desc", "virDomainCheckpointGetXMLDesc", flags
        )
        return result

    def listAllChildren(self, flags: int = 0) -> list[virDomainCheckpoint]:
        """List all child checkpoints and returns a list of checkpoint objects
        (``virDomainCheckpointListAllChildren``).
        """
        return [
            virDomainCheckpoint(self._dom, _obj=o)
            for o in self._call(
                "domain_checkpoint_list_all_children", "virDomainCheckpointListAllChildren", flags
            )
        ]
