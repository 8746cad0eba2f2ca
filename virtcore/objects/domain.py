"""Domain handles: domains, their snapshots and checkpoints.

:class:`Domain` gathers the lifecycle and query calls defined here with the
configuration calls of :mod:`.domain_config` and the runtime calls of
:mod:`.domain_runtime`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from virtcore.objects.base import Handle, api_for_flags
from virtcore.objects.domain_config import DomainConfigCalls
from virtcore.objects.domain_runtime import DomainRuntimeCalls
from virtcore.results import DomainInfo, DomainStateInfo

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.objects.base import Stream

__all__ = ["Domain", "DomainCheckpoint", "DomainSnapshot"]

# NamedTuple._make without its length check: the hot query calls build results with it.
_new_tuple = tuple.__new__


class Domain(DomainConfigCalls, DomainRuntimeCalls):
    """A domain (guest). ``id`` is -1 while inactive, as of the lookup."""

    __slots__ = ("_id", "_name", "_uuid")

    def __init__(self, conn: Connection, name: str, uuid: str, id: int = -1) -> None:
        # Listings build thousands of handles: the base initializer is inlined.
        self._conn = conn
        self._name = name
        self._uuid = uuid
        self._id = id

    def _key(self) -> tuple[Any, ...]:
        return (self._uuid,)

    @property
    def name(self) -> str:
        """The domain's name."""
        return self._name

    @property
    def uuid(self) -> str:
        """The UUID in canonical text form."""
        return self._uuid

    @property
    def id(self) -> int:
        """The runtime id, or -1 when inactive (kept current by this handle's own calls)."""
        return self._id

    def set_id(self, id: int) -> None:
        """For drivers: record the id after this handle started (or stopped, -1) the domain.

        libvirt updates the handle a start or stop call was made through; other
        handles of the same domain keep the id they were looked up with.
        """
        self._id = id

    # lifecycle
    def create(self, flags: int = 0) -> None:
        """Start a defined domain (``virDomainCreateWithFlags``)."""
        api = "virDomainCreateWithFlags" if flags else "virDomainCreate"
        self._conn._invoke("hypervisor", "domain_create_with_flags", api, self, flags, write=True)

    def create_with_files(self, files: Sequence[int], flags: int = 0) -> None:
        """Start a defined domain, handing it the open file descriptors *files*
        (``virDomainCreateWithFiles``); drivers whose guests take none ignore them.
        """
        self._conn.domain_create_with_files(self, files, flags)

    def destroy(self, flags: int = 0) -> None:
        """Stop the domain immediately (``virDomainDestroyFlags``)."""
        api = "virDomainDestroyFlags" if flags else "virDomainDestroy"
        self._conn._invoke("hypervisor", "domain_destroy_flags", api, self, flags, write=True)

    def shutdown(self, flags: int = 0) -> None:
        """Ask the guest to shut down (``virDomainShutdownFlags``)."""
        self._call(
            "domain_shutdown_flags", api_for_flags(flags, "virDomainShutdown"), flags, write=True
        )

    def reboot(self, flags: int = 0) -> None:
        """Ask the guest to reboot (``virDomainReboot``)."""
        self._call("domain_reboot", "virDomainReboot", flags, write=True)

    def reset(self, flags: int = 0) -> None:
        """Reset the virtual hardware (``virDomainReset``)."""
        self._call("domain_reset", "virDomainReset", flags, write=True)

    def suspend(self) -> None:
        """Pause the domain's vCPUs (``virDomainSuspend``)."""
        self._conn._invoke("hypervisor", "domain_suspend", "virDomainSuspend", self, write=True)

    def resume(self) -> None:
        """Resume a paused domain (``virDomainResume``)."""
        self._conn._invoke("hypervisor", "domain_resume", "virDomainResume", self, write=True)

    def undefine(self, flags: int = 0) -> None:
        """Remove the persistent configuration (``virDomainUndefineFlags``)."""
        api = "virDomainUndefineFlags" if flags else "virDomainUndefine"
        self._conn._invoke("hypervisor", "domain_undefine_flags", api, self, flags, write=True)

    def save(self, path: str, dxml: str | None = None, flags: int = 0) -> None:
        """Save the running state to *path* and stop (``virDomainSaveFlags``)."""
        self._call("domain_save_flags", "virDomainSaveFlags", path, dxml, flags, write=True)

    def managed_save(self, flags: int = 0) -> None:
        """Save to the driver-managed image (``virDomainManagedSave``)."""
        self._call("domain_managed_save", "virDomainManagedSave", flags, write=True)

    def has_managed_save_image(self, flags: int = 0) -> bool:
        """Whether a managed save image exists (``virDomainHasManagedSaveImage``)."""
        return bool(
            self._call("domain_has_managed_save_image", "virDomainHasManagedSaveImage", flags)
        )

    def managed_save_remove(self, flags: int = 0) -> None:
        """Delete the managed save image (``virDomainManagedSaveRemove``)."""
        self._call("domain_managed_save_remove", "virDomainManagedSaveRemove", flags, write=True)

    # queries
    def xml_desc(self, flags: int = 0) -> str:
        """The domain XML (``virDomainGetXMLDesc``)."""
        result: str = self._conn._invoke(
            "hypervisor", "domain_get_xml_desc", "virDomainGetXMLDesc", self, flags
        )
        return result

    def info(self) -> DomainInfo:
        """State, memory, vCPUs and CPU time (``virDomainGetInfo``)."""
        return _new_tuple(
            DomainInfo,
            self._conn._invoke("hypervisor", "domain_get_info", "virDomainGetInfo", self),
        )

    def state(self, flags: int = 0) -> DomainStateInfo:
        """State and reason (``virDomainGetState``)."""
        return _new_tuple(
            DomainStateInfo,
            self._conn._invoke("hypervisor", "domain_get_state", "virDomainGetState", self, flags),
        )

    def is_active(self) -> bool:
        """Whether the domain is running or paused (``virDomainIsActive``)."""
        return bool(self._conn._invoke("hypervisor", "domain_is_active", "virDomainIsActive", self))

    def is_persistent(self) -> bool:
        """Whether the domain has a persistent configuration (``virDomainIsPersistent``)."""
        return bool(self._call("domain_is_persistent", "virDomainIsPersistent"))

    def is_updated(self) -> bool:
        """Whether the live config differs from the persistent one (``virDomainIsUpdated``)."""
        return bool(self._call("domain_is_updated", "virDomainIsUpdated"))

    def get_autostart(self) -> bool:
        """Whether the domain starts with the host (``virDomainGetAutostart``)."""
        return bool(self._call("domain_get_autostart", "virDomainGetAutostart"))

    def set_autostart(self, autostart: bool) -> None:
        """Mark or unmark for autostart (``virDomainSetAutostart``)."""
        self._call("domain_set_autostart", "virDomainSetAutostart", bool(autostart), write=True)

    def os_type(self) -> str:
        """The guest OS type, e.g. ``"hvm"`` (``virDomainGetOSType``)."""
        result: str = self._call("domain_get_os_type", "virDomainGetOSType")
        return result

    def max_memory(self) -> int:
        """Maximum memory in KiB (``virDomainGetMaxMemory``)."""
        result: int = self._call("domain_get_max_memory", "virDomainGetMaxMemory")
        return result

    def set_memory(self, memory: int, flags: int = 0) -> None:
        """Set current memory in KiB (``virDomainSetMemoryFlags``)."""
        self._call("domain_set_memory_flags", "virDomainSetMemoryFlags", memory, flags, write=True)

    def set_vcpus(self, nvcpus: int, flags: int = 0) -> None:
        """Set the vCPU count (``virDomainSetVcpusFlags``)."""
        self._call("domain_set_vcpus_flags", "virDomainSetVcpusFlags", nvcpus, flags, write=True)

    def open_console(self, dev_name: str | None, stream: Stream, flags: int = 0) -> None:
        """Bind *stream*, made by this domain's connection, to the console, serial or
        parallel port *dev_name*, the first console when ``None`` (``virDomainOpenConsole``).
        """
        self._conn.domain_open_console(self, dev_name, stream, flags)

    def attach_device(self, xml: str, flags: int = 0) -> None:
        """Attach a device (``virDomainAttachDeviceFlags``)."""
        self._call(
            "domain_attach_device_flags", "virDomainAttachDeviceFlags", xml, flags, write=True
        )

    def detach_device(self, xml: str, flags: int = 0) -> None:
        """Detach a device (``virDomainDetachDeviceFlags``)."""
        self._call(
            "domain_detach_device_flags", "virDomainDetachDeviceFlags", xml, flags, write=True
        )

    def snapshot_create_xml(self, xml: str, flags: int = 0) -> DomainSnapshot:
        """Create a snapshot (``virDomainSnapshotCreateXML``)."""
        result: DomainSnapshot = self._call(
            "domain_snapshot_create_xml", "virDomainSnapshotCreateXML", xml, flags, write=True
        )
        return result

    def snapshot_lookup_by_name(self, name: str, flags: int = 0) -> DomainSnapshot:
        """Find a snapshot (``virDomainSnapshotLookupByName``)."""
        result: DomainSnapshot = self._call(
            "domain_snapshot_lookup_by_name", "virDomainSnapshotLookupByName", name, flags
        )
        return result

    def list_all_snapshots(self, flags: int = 0) -> list[DomainSnapshot]:
        """Every snapshot (``virDomainListAllSnapshots``)."""
        return list(self._call("domain_list_all_snapshots", "virDomainListAllSnapshots", flags))


class _DomainChild(Handle):
    """Objects named within one domain (snapshots, checkpoints)."""

    __slots__ = ("_domain", "_name")

    def __init__(self, domain: Domain, name: str) -> None:
        super().__init__(domain.connection)
        self._domain = domain
        self._name = name

    def _key(self) -> tuple[Any, ...]:
        return (self._domain.uuid, self._name)

    @property
    def name(self) -> str:
        """The object's name, unique within its domain."""
        return self._name

    @property
    def domain(self) -> Domain:
        """The domain the object belongs to."""
        return self._domain


class DomainSnapshot(_DomainChild):
    """A snapshot of a domain."""

    __slots__ = ()

    def get_parent(self, flags: int = 0) -> DomainSnapshot:
        """The parent snapshot (``virDomainSnapshotGetParent``)."""
        result: DomainSnapshot = self._call(
            "domain_snapshot_get_parent", "virDomainSnapshotGetParent", flags
        )
        return result

    def list_all_children(self, flags: int = 0) -> list[DomainSnapshot]:
        """Children or, with ``DESCENDANTS``, descendants (``virDomainSnapshotListAllChildren``)."""
        return list(
            self._call(
                "domain_snapshot_list_all_children", "virDomainSnapshotListAllChildren", flags
            )
        )

    def num_children(self, flags: int = 0) -> int:
        """How many children match *flags* (``virDomainSnapshotNumChildren``)."""
        result: int = self._call(
            "domain_snapshot_num_children", "virDomainSnapshotNumChildren", flags
        )
        return result

    def list_children_names(self, flags: int = 0) -> list[str]:
        """Names of the matching children (``virDomainSnapshotListChildrenNames``)."""
        return list(
            self._call(
                "domain_snapshot_list_children_names",
                "virDomainSnapshotListChildrenNames",
                flags,
            )
        )

    def is_current(self, flags: int = 0) -> bool:
        """Whether this is the domain's current snapshot (``virDomainSnapshotIsCurrent``)."""
        return bool(self._call("domain_snapshot_is_current", "virDomainSnapshotIsCurrent", flags))

    def has_metadata(self, flags: int = 0) -> bool:
        """Whether libvirt keeps metadata for it (``virDomainSnapshotHasMetadata``)."""
        return bool(
            self._call("domain_snapshot_has_metadata", "virDomainSnapshotHasMetadata", flags)
        )

    def xml_desc(self, flags: int = 0) -> str:
        """Snapshot XML (``virDomainSnapshotGetXMLDesc``)."""
        result: str = self._call(
            "domain_snapshot_get_xml_desc", "virDomainSnapshotGetXMLDesc", flags
        )
        return result

    def delete(self, flags: int = 0) -> None:
        """Delete the snapshot (``virDomainSnapshotDelete``)."""
        self._call("domain_snapshot_delete", "virDomainSnapshotDelete", flags, write=True)

    def revert(self, flags: int = 0) -> None:
        """Revert the domain to this snapshot (``virDomainRevertToSnapshot``)."""
        self._call("domain_revert_to_snapshot", "virDomainRevertToSnapshot", flags, write=True)


class DomainCheckpoint(_DomainChild):
    """A checkpoint of a domain's disks."""

    __slots__ = ()

    def get_parent(self, flags: int = 0) -> DomainCheckpoint:
        """The parent checkpoint (``virDomainCheckpointGetParent``)."""
        result: DomainCheckpoint = self._call(
            "domain_checkpoint_get_parent", "virDomainCheckpointGetParent", flags
        )
        return result

    def list_all_children(self, flags: int = 0) -> list[DomainCheckpoint]:
        """Children or, with DESCENDANTS, descendants (``virDomainCheckpointListAllChildren``)."""
        return list(
            self._call(
                "domain_checkpoint_list_all_children",
                "virDomainCheckpointListAllChildren",
                flags,
            )
        )

    def xml_desc(self, flags: int = 0) -> str:
        """Checkpoint XML (``virDomainCheckpointGetXMLDesc``)."""
        result: str = self._call(
            "domain_checkpoint_get_xml_desc", "virDomainCheckpointGetXMLDesc", flags
        )
        return result

    def delete(self, flags: int = 0) -> None:
        """Delete the checkpoint (``virDomainCheckpointDelete``)."""
        self._call("domain_checkpoint_delete", "virDomainCheckpointDelete", flags, write=True)
