"""``virDomain`` calls, first half (libvirt-python's order): one driver call each.

Every method maps to the hypervisor table method named after libvirt's driver
field (see :mod:`virtcore.libvirt._base` for the calling convention). Calls
from before libvirt had flags (``attachDevice``, ``create``, ``destroy``, ...)
go to their own driver method, or to the flags variant with the flags
libvirt's drivers apply for them when the driver only has that.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802, N803, PLR0917

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from virtcore.libvirt._base import AFFECT_LIVE, Wrapped, native, route, status
from virtcore.libvirt._children import virDomainCheckpoint

if TYPE_CHECKING:
    from virtcore.libvirt._connect import virConnect

__all__ = ["DomainCallsA"]


class DomainCallsA(Wrapped):
    """``virDomain`` methods ``OSType`` to ``migrateGetCompressionCache``."""

    __slots__ = ()

    def OSType(self) -> str:
        """Get the type of domain operating system (``virDomainGetOSType``)."""
        result: str = self._call("domain_get_os_type", "virDomainGetOSType")
        return result

    def XMLDesc(self, flags: int = 0) -> str:
        """Provide an XML description of the domain (``virDomainGetXMLDesc``)."""
        result: str = self._call("domain_get_xml_desc", "virDomainGetXMLDesc", flags)
        return result

    def abortJob(self) -> int:
        """Requests that the current background job be aborted at the soonest opportunity
        (``virDomainAbortJob``).
        """
        return status(self._call("domain_abort_job", "virDomainAbortJob", write=True))

    def abortJobFlags(self, flags: int = 0) -> int:
        """Requests that the current background job be aborted at the soonest opportunity
        (``virDomainAbortJobFlags``).
        """
        return status(
            self._call("domain_abort_job_flags", "virDomainAbortJobFlags", flags, write=True)
        )

    def addIOThread(self, iothread_id: int, flags: int = 0) -> int:
        """Dynamically add an IOThread to the domain (``virDomainAddIOThread``)."""
        return status(
            self._call(
                "domain_add_iothread", "virDomainAddIOThread", iothread_id, flags, write=True
            )
        )

    def agentSetResponseTimeout(self, timeout: int, flags: int = 0) -> int:
        """Set how long to wait for a response from guest agent commands
        (``virDomainAgentSetResponseTimeout``).
        """
        return status(
            self._call(
                "domain_agent_set_response_timeout",
                "virDomainAgentSetResponseTimeout",
                timeout,
                flags,
                write=True,
            )
        )

    def attachDevice(self, xml: str) -> int:
        """Create a virtual device attachment to backend (``virDomainAttachDevice``)."""
        return status(
            self._call_either(
                ("domain_attach_device", (xml,)),
                ("domain_attach_device_flags", (xml, AFFECT_LIVE)),
                "virDomainAttachDevice",
            )
        )

    def attachDeviceFlags(self, xml: str, flags: int = 0) -> int:
        """Attach a virtual device to a domain, using the flags parameter to control how the device
        is attached (``virDomainAttachDeviceFlags``).
        """
        return status(
            self._call(
                "domain_attach_device_flags", "virDomainAttachDeviceFlags", xml, flags, write=True
            )
        )

    def authorizedSSHKeysGet(self, user: str, flags: int = 0) -> list[Any]:
        """Fetch list of public SSH authorized keys for given user in domain
        (``virDomainAuthorizedSSHKeysGet``).
        """
        return list(
            self._call(
                "domain_authorized_ssh_keys_get",
                "virDomainAuthorizedSSHKeysGet",
                user,
                flags,
                write=True,
            )
        )

    def authorizedSSHKeysSet(self, user: str, keys: list[str] | None = None, flags: int = 0) -> int:
        """Manipulate set of public SSH authorized keys for given user in domain
        (``virDomainAuthorizedSSHKeysSet``).
        """
        return status(
            self._call(
                "domain_authorized_ssh_keys_set",
                "virDomainAuthorizedSSHKeysSet",
                user,
                keys,
                flags,
                write=True,
            )
        )

    def autostart(self) -> int:
        """Extract the autostart flag for a domain (``virDomainGetAutostart``)."""
        return status(self._call("domain_get_autostart", "virDomainGetAutostart"))

    def backupBegin(self, backupXML: str | None, checkpointXML: str | None, flags: int = 0) -> int:
        """Start a point-in-time backup job for the specified disks of a running domain
        (``virDomainBackupBegin``).
        """
        return status(
            self._call(
                "domain_backup_begin",
                "virDomainBackupBegin",
                backupXML,
                checkpointXML,
                flags,
                write=True,
            )
        )

    def backupGetXMLDesc(self, flags: int = 0) -> str:
        """Queries the configuration of the active backup job (``virDomainBackupGetXMLDesc``)."""
        result: str = self._call("domain_backup_get_xml_desc", "virDomainBackupGetXMLDesc", flags)
        return result

    def blockCommit(
        self, disk: str, base: str | None, top: str | None, bandwidth: int = 0, flags: int = 0
    ) -> int:
        """Commit changes that were made to temporary top-level files within a disk image backing
        file chain into a lower-level base file (``virDomainBlockCommit``).
        """
        return status(
            self._call(
                "domain_block_commit",
                "virDomainBlockCommit",
                disk,
                base,
                top,
                bandwidth,
                flags,
                write=True,
            )
        )

    def blockCopy(
        self, disk: str, destxml: str, params: dict[str, Any] | None = None, flags: int = 0
    ) -> int:
        """Copy the guest-visible contents of a disk image to a new file described by destxml
        (``virDomainBlockCopy``).
        """
        return status(
            self._call(
                "domain_block_copy", "virDomainBlockCopy", disk, destxml, params, flags, write=True
            )
        )

    def blockInfo(self, path: str, flags: int = 0) -> list[Any]:
        """Extract information about a domain block device size (``virDomainGetBlockInfo``)."""
        return list(self._call("domain_get_block_info", "virDomainGetBlockInfo", path, flags))

    def blockJobAbort(self, disk: str, flags: int = 0) -> int:
        """Cancel the active block job on the given disk (``virDomainBlockJobAbort``)."""
        return status(
            self._call("domain_block_job_abort", "virDomainBlockJobAbort", disk, flags, write=True)
        )

    def blockJobInfo(self, path: str, flags: int = 0) -> dict[str, Any]:
        """Get progress information for a block job (``virDomainGetBlockJobInfo``)."""
        return dict(
            self._call("domain_get_block_job_info", "virDomainGetBlockJobInfo", path, flags)
        )

    def blockJobSetSpeed(self, disk: str, bandwidth: int, flags: int = 0) -> int:
        """Set the maximum allowable bandwidth that a block job may consume
        (``virDomainBlockJobSetSpeed``).
        """
        return status(
            self._call(
                "domain_block_job_set_speed",
                "virDomainBlockJobSetSpeed",
                disk,
                bandwidth,
                flags,
                write=True,
            )
        )

    def blockPeek(self, disk: str, offset: int, size: int, flags: int = 0) -> bytes:
        """Read the contents of domain's disk device (``virDomainBlockPeek``)."""
        return bytes(
            self._call(
                "domain_block_peek", "virDomainBlockPeek", disk, offset, size, flags, write=True
            )
        )

    def blockPull(self, disk: str, bandwidth: int = 0, flags: int = 0) -> int:
        """Populate a disk image with data from its backing image (``virDomainBlockPull``)."""
        return status(
            self._call(
                "domain_block_pull", "virDomainBlockPull", disk, bandwidth, flags, write=True
            )
        )

    def blockRebase(self, disk: str, base: str | None, bandwidth: int = 0, flags: int = 0) -> int:
        """``virDomainBlockRebase``."""
        return status(
            self._call(
                "domain_block_rebase",
                "virDomainBlockRebase",
                disk,
                base,
                bandwidth,
                flags,
                write=True,
            )
        )

    def blockResize(self, disk: str, size: int, flags: int = 0) -> int:
        """Resize a block device of domain while the domain is running
        (``virDomainBlockResize``).
        """
        return status(
            self._call("domain_block_resize", "virDomainBlockResize", disk, size, flags, write=True)
        )

    def blockStats(self, path: str) -> tuple[Any, ...]:
        """Extracts block device statistics for a domain (``virDomainBlockStats``)."""
        return tuple(self._call("domain_block_stats", "virDomainBlockStats", path))

    def checkpointCreateXML(self, xmlDesc: str, flags: int = 0) -> virDomainCheckpoint:
        """Create a new checkpoint using @xmlDesc, with a top-level <domaincheckpoint> element, on a
        running @domain (``virDomainCheckpointCreateXML``).
        """
        return virDomainCheckpoint(
            self,
            _obj=self._call(
                "domain_checkpoint_create_xml",
                "virDomainCheckpointCreateXML",
                xmlDesc,
                flags,
                write=True,
            ),
        )

    def checkpointLookupByName(self, name: str, flags: int = 0) -> virDomainCheckpoint:
        """Try to lookup a domain checkpoint based on its name
        (``virDomainCheckpointLookupByName``).
        """
        return virDomainCheckpoint(
            self,
            _obj=self._call(
                "domain_checkpoint_lookup_by_name", "virDomainCheckpointLookupByName", name, flags
            ),
        )

    def controlInfo(self, flags: int = 0) -> list[Any]:
        """Extract details about current state of control interface to a domain
        (``virDomainGetControlInfo``).
        """
        return list(self._call("domain_get_control_info", "virDomainGetControlInfo", flags))

    def coreDump(self, to: str, flags: int = 0) -> int:
        """This method will dump the core of a domain on a given file for analysis
        (``virDomainCoreDump``).
        """
        return status(self._call("domain_core_dump", "virDomainCoreDump", to, flags, write=True))

    def coreDumpWithFormat(self, to: str, dumpformat: int, flags: int = 0) -> int:
        """This method will dump the core of a domain on a given file for analysis
        (``virDomainCoreDumpWithFormat``).
        """
        return status(
            self._call(
                "domain_core_dump_with_format",
                "virDomainCoreDumpWithFormat",
                to,
                dumpformat,
                flags,
                write=True,
            )
        )

    def create(self) -> int:
        """Launch a defined domain (``virDomainCreate``)."""
        if route(self._conn, "hypervisor", "domain_create", "domain_create_with_flags"):
            return self._write("domain_create", "virDomainCreate")
        return self._write("domain_create_with_flags", "virDomainCreate", 0)

    def createWithFlags(self, flags: int = 0) -> int:
        """Launch a defined domain (``virDomainCreateWithFlags``)."""
        return status(
            self._call("domain_create_with_flags", "virDomainCreateWithFlags", flags, write=True)
        )

    def delIOThread(self, iothread_id: int, flags: int = 0) -> int:
        """Dynamically delete an IOThread from the domain (``virDomainDelIOThread``)."""
        return status(
            self._call(
                "domain_del_iothread", "virDomainDelIOThread", iothread_id, flags, write=True
            )
        )

    def destroyFlags(self, flags: int = 0) -> int:
        """Destroy the domain object (``virDomainDestroyFlags``)."""
        return status(
            self._call("domain_destroy_flags", "virDomainDestroyFlags", flags, write=True)
        )

    def detachDevice(self, xml: str) -> int:
        """This is an equivalent of virDomainDetachDeviceFlags() when called with @flags parameter
        set to VIR_DOMAIN_AFFECT_LIVE (``virDomainDetachDevice``).
        """
        return status(
            self._call_either(
                ("domain_detach_device", (xml,)),
                ("domain_detach_device_flags", (xml, AFFECT_LIVE)),
                "virDomainDetachDevice",
            )
        )

    def detachDeviceAlias(self, alias: str, flags: int = 0) -> int:
        """Detach a virtual device from a domain, using the alias to specify the device
        (``virDomainDetachDeviceAlias``).
        """
        return status(
            self._call(
                "domain_detach_device_alias", "virDomainDetachDeviceAlias", alias, flags, write=True
            )
        )

    def detachDeviceFlags(self, xml: str, flags: int = 0) -> int:
        """Detach a virtual device from a domain, using the flags parameter to control how the
        device is detached (``virDomainDetachDeviceFlags``).
        """
        return status(
            self._call(
                "domain_detach_device_flags", "virDomainDetachDeviceFlags", xml, flags, write=True
            )
        )

    def diskErrors(self, flags: int = 0) -> dict[str, Any]:
        """Extract errors on disk devices (``virDomainGetDiskErrors``)."""
        return dict(self._call("domain_get_disk_errors", "virDomainGetDiskErrors", flags))

    def fSTrim(self, mountPoint: str | None, minimum: int, flags: int = 0) -> int:
        """Calls FITRIM within the guest (hence guest agent may be required depending on hypervisor
        used) (``virDomainFSTrim``).
        """
        return status(
            self._call("domain_fs_trim", "virDomainFSTrim", mountPoint, minimum, flags, write=True)
        )

    def guestInfo(self, types: int = 0, flags: int = 0) -> dict[str, Any]:
        """Get aggregated info from guest agent (``virDomainGetGuestInfo``)."""
        return dict(
            self._call("domain_get_guest_info", "virDomainGetGuestInfo", types, flags, write=True)
        )

    def guestVcpus(self, flags: int = 0) -> dict[str, Any]:
        """Returns a dictionary containing information regarding guest vcpus
        (``virDomainGetGuestVcpus``).
        """
        return dict(
            self._call("domain_get_guest_vcpus", "virDomainGetGuestVcpus", flags, write=True)
        )

    def hasCurrentSnapshot(self, flags: int = 0) -> int:
        """Determine if the domain has a current snapshot (``virDomainHasCurrentSnapshot``)."""
        return status(
            self._call("domain_has_current_snapshot", "virDomainHasCurrentSnapshot", flags)
        )

    def hasManagedSaveImage(self, flags: int = 0) -> int:
        """Check if a domain has a managed save image as created by virDomainManagedSave()
        (``virDomainHasManagedSaveImage``).
        """
        return status(
            self._call("domain_has_managed_save_image", "virDomainHasManagedSaveImage", flags)
        )

    def hostname(self, flags: int = 0) -> str:
        """Get the hostname for that domain (``virDomainGetHostname``)."""
        result: str = self._call("domain_get_hostname", "virDomainGetHostname", flags)
        return result

    def injectNMI(self, flags: int = 0) -> int:
        """Send NMI to the guest (``virDomainInjectNMI``)."""
        return status(self._call("domain_inject_nmi", "virDomainInjectNMI", flags, write=True))

    def interfaceStats(self, path: str) -> tuple[Any, ...]:
        """Extracts interface device statistics for a domain (``virDomainInterfaceStats``)."""
        return tuple(self._call("domain_interface_stats", "virDomainInterfaceStats", path))

    def isPersistent(self) -> int:
        """Determine if the domain has a persistent configuration which means it will still exist
        after shutting down (``virDomainIsPersistent``).
        """
        return status(self._call("domain_is_persistent", "virDomainIsPersistent"))

    def isUpdated(self) -> int:
        """Determine if the domain has been updated (``virDomainIsUpdated``)."""
        return status(self._call("domain_is_updated", "virDomainIsUpdated"))

    def jobInfo(self) -> list[Any]:
        """Extract information about an active job being processed for a domain
        (``virDomainGetJobInfo``).
        """
        return list(self._call("domain_get_job_info", "virDomainGetJobInfo"))

    def managedSave(self, flags: int = 0) -> int:
        """This method will suspend a domain and save its memory contents to a file on disk
        (``virDomainManagedSave``).
        """
        return status(self._call("domain_managed_save", "virDomainManagedSave", flags, write=True))

    def managedSaveDefineXML(self, dxml: str | None, flags: int = 0) -> int:
        """This updates the definition of a domain stored in a saved state file
        (``virDomainManagedSaveDefineXML``).
        """
        return status(
            self._call(
                "domain_managed_save_define_xml",
                "virDomainManagedSaveDefineXML",
                dxml,
                flags,
                write=True,
            )
        )

    def managedSaveGetXMLDesc(self, flags: int = 0) -> str:
        """This method will extract the XML description of the managed save state file of a domain
        (``virDomainManagedSaveGetXMLDesc``).
        """
        result: str = self._call(
            "domain_managed_save_get_xml_desc", "virDomainManagedSaveGetXMLDesc", flags
        )
        return result

    def managedSaveRemove(self, flags: int = 0) -> int:
        """Remove any managed save image for this domain (``virDomainManagedSaveRemove``)."""
        return status(
            self._call(
                "domain_managed_save_remove", "virDomainManagedSaveRemove", flags, write=True
            )
        )

    def maxMemory(self) -> Any:
        """Retrieve the maximum amount of physical memory allocated to a domain
        (``virDomainGetMaxMemory``).
        """
        return self._call("domain_get_max_memory", "virDomainGetMaxMemory")

    def maxVcpus(self) -> int:
        """Provides the maximum number of virtual CPUs supported for the guest VM
        (``virDomainGetMaxVcpus``).
        """
        return status(self._call("domain_get_max_vcpus", "virDomainGetMaxVcpus"))

    def memoryPeek(self, start: int, size: int, flags: int = 0) -> bytes:
        """Read the contents of domain's memory (``virDomainMemoryPeek``)."""
        return bytes(
            self._call("domain_memory_peek", "virDomainMemoryPeek", start, size, flags, write=True)
        )

    def messages(self, flags: int = 0) -> list[Any]:
        """Fetch list of messages reported against domain (``virDomainGetMessages``)."""
        return list(self._call("domain_get_messages", "virDomainGetMessages", flags))

    def metadata(self, type: int, uri: str | None, flags: int = 0) -> str:
        """Retrieves the appropriate domain element given by @type (``virDomainGetMetadata``)."""
        result: str = self._call("domain_get_metadata", "virDomainGetMetadata", type, uri, flags)
        return result

    def migrate(
        self,
        dconn: virConnect,
        flags: int = 0,
        dname: str | None = None,
        uri: str | None = None,
        bandwidth: int = 0,
    ) -> Self:
        """Migrate the domain object from its current host to the destination host given by dconn (a
        connection to the destination host) (``virDomainMigrate``).
        """
        return type(self)(
            dconn,
            _obj=self._call(
                "domain_migrate",
                "virDomainMigrate",
                native(dconn),
                flags,
                dname,
                uri,
                bandwidth,
                write=True,
            ),
        )

    def migrate2(
        self,
        dconn: virConnect,
        dxml: str | None = None,
        flags: int = 0,
        dname: str | None = None,
        uri: str | None = None,
        bandwidth: int = 0,
    ) -> Self:
        """Migrate the domain object from its current host to the destination host given by dconn (a
        connection to the destination host) (``virDomainMigrate2``).
        """
        return type(self)(
            dconn,
            _obj=self._call(
                "domain_migrate2",
                "virDomainMigrate2",
                native(dconn),
                dxml,
                flags,
                dname,
                uri,
                bandwidth,
                write=True,
            ),
        )

    def migrate3(self, dconn: virConnect, params: dict[str, Any], flags: int = 0) -> Self:
        """Migrate the domain object from its current host to the destination host given by dconn (a
        connection to the destination host) (``virDomainMigrate3``).
        """
        return type(self)(
            dconn,
            _obj=self._call(
                "domain_migrate3", "virDomainMigrate3", native(dconn), params, flags, write=True
            ),
        )

    def migrateGetCompressionCache(self, flags: int = 0) -> Any:
        """Get current size of the cache (in bytes) used for compressing repeatedly transferred
        memory pages during live migration (``virDomainMigrateGetCompressionCache``).
        """
        return self._call(
            "domain_migrate_get_compression_cache", "virDomainMigrateGetCompressionCache", flags
        )

    def migrateGetMaxDowntime(self, flags: int = 0) -> Any:
        """Get the current value of the maximum downtime (in milliseconds) allowed during a
        migration of a guest (``virDomainMigrateGetMaxDowntime``).
        """
        return self._call(
            "domain_migrate_get_max_downtime", "virDomainMigrateGetMaxDowntime", flags
        )

    def migrateGetMaxSpeed(self, flags: int = 0) -> int:
        """Get currently configured maximum migration speed for a domain
        (``virDomainMigrateGetMaxSpeed``).
        """
        return status(
            self._call("domain_migrate_get_max_speed", "virDomainMigrateGetMaxSpeed", flags)
        )

    def migrateSetCompressionCache(self, cacheSize: int, flags: int = 0) -> int:
        """Sets size of the cache (in bytes) used for compressing repeatedly transferred memory
        pages during live migration (``virDomainMigrateSetCompressionCache``).
        """
        return status(
            self._call(
                "domain_migrate_set_compression_cache",
                "virDomainMigrateSetCompressionCache",
                cacheSize,
                flags,
                write=True,
            )
        )

    def migrateSetMaxDowntime(self, downtime: int, flags: int = 0) -> int:
        """Sets maximum tolerable time for which the domain is allowed to be paused at the end of
        live migration (``virDomainMigrateSetMaxDowntime``).
        """
        return status(
            self._call(
                "domain_migrate_set_max_downtime",
                "virDomainMigrateSetMaxDowntime",
                downtime,
                flags,
                write=True,
            )
        )
