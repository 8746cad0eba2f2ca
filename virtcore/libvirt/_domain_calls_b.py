"""``virDomain`` calls, second half (libvirt-python's order): one driver call each.

See :mod:`virtcore.libvirt._domain_calls_a` for the conventions.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802, N803, PLR0917

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.errors import VirtError
from virtcore.libvirt._base import Wrapped, native, route, status, through
from virtcore.libvirt._children import virDomainCheckpoint, virDomainSnapshot
from virtcore.libvirt._errors import _last, plain_error, raise_from

if TYPE_CHECKING:
    from virtcore.libvirt._stream import virStream
    from virtcore.objects import Domain

__all__ = ["DomainCallsB"]


class DomainCallsB(Wrapped):
    """``virDomain`` methods ``migrateGetMaxDowntime`` to ``FDAssociate``."""

    __slots__ = ()

    def migrateSetMaxSpeed(self, bandwidth: int, flags: int = 0) -> int:
        """The maximum bandwidth (in MiB/s) that will be used to do migration can be specified with
        the bandwidth parameter (``virDomainMigrateSetMaxSpeed``).
        """
        return status(
            self._call(
                "domain_migrate_set_max_speed",
                "virDomainMigrateSetMaxSpeed",
                bandwidth,
                flags,
                write=True,
            )
        )

    def migrateStartPostCopy(self, flags: int = 0) -> int:
        """Starts post-copy migration (``virDomainMigrateStartPostCopy``)."""
        return status(
            self._call(
                "domain_migrate_start_post_copy", "virDomainMigrateStartPostCopy", flags, write=True
            )
        )

    def migrateToURI(
        self, duri: str, flags: int = 0, dname: str | None = None, bandwidth: int = 0
    ) -> int:
        """Migrate the domain object from its current host to the destination host given by duri
        (``virDomainMigrateToURI``).
        """
        return status(
            self._call(
                "domain_migrate_to_uri",
                "virDomainMigrateToURI",
                duri,
                flags,
                dname,
                bandwidth,
                write=True,
            )
        )

    def migrateToURI2(
        self,
        dconnuri: str | None = None,
        miguri: str | None = None,
        dxml: str | None = None,
        flags: int = 0,
        dname: str | None = None,
        bandwidth: int = 0,
    ) -> int:
        """Migrate the domain object from its current host to the destination host given by
        @dconnuri (``virDomainMigrateToURI2``).
        """
        return status(
            self._call(
                "domain_migrate_to_uri2",
                "virDomainMigrateToURI2",
                dconnuri,
                miguri,
                dxml,
                flags,
                dname,
                bandwidth,
                write=True,
            )
        )

    def migrateToURI3(self, dconnuri: str | None, params: dict[str, Any], flags: int = 0) -> int:
        """Migrate the domain object from its current host to the destination host given by URI
        (``virDomainMigrateToURI3``).
        """
        return status(
            self._call(
                "domain_migrate_to_uri3",
                "virDomainMigrateToURI3",
                dconnuri,
                params,
                flags,
                write=True,
            )
        )

    def openChannel(self, name: str, st: virStream, flags: int = 0) -> int:
        """This opens the host interface associated with a channel device on a guest, if the host
        interface is supported (``virDomainOpenChannel``).
        """
        return status(
            self._call(
                "domain_open_channel", "virDomainOpenChannel", name, native(st), flags, write=True
            )
        )

    def openConsole(self, dev_name: str | None, st: virStream, flags: int = 0) -> int:
        """This opens the backend associated with a console, serial or parallel port device on a
        guest, if the backend is supported (``virDomainOpenConsole``).
        """
        dom: Domain = self._o
        api = "virDomainOpenConsole"
        return status(
            through(self._conn, api, dom.open_console, dev_name, native(st), flags, write=True)
        )

    def openGraphics(self, idx: int, fd: int, flags: int = 0) -> int:
        """This will attempt to connect the file descriptor @fd, to the graphics backend of @dom
        (``virDomainOpenGraphics``).
        """
        return status(
            self._call("domain_open_graphics", "virDomainOpenGraphics", idx, fd, flags, write=True)
        )

    def openGraphicsFD(self, idx: int, flags: int = 0) -> int:
        """This will create a socket pair connected to the graphics backend of @dom
        (``virDomainOpenGraphicsFD``).
        """
        return status(
            self._call("domain_open_graphics_fd", "virDomainOpenGraphicsFD", idx, flags, write=True)
        )

    def pMSuspendForDuration(self, target: int, duration: int, flags: int = 0) -> int:
        """Attempt to have the guest enter the given @target power management suspension level
        (``virDomainPMSuspendForDuration``).
        """
        return status(
            self._call(
                "domain_pm_suspend_for_duration",
                "virDomainPMSuspendForDuration",
                target,
                duration,
                flags,
                write=True,
            )
        )

    def pMWakeup(self, flags: int = 0) -> int:
        """``virDomainPMWakeup``."""
        return status(self._call("domain_pm_wakeup", "virDomainPMWakeup", flags, write=True))

    def reboot(self, flags: int = 0) -> int:
        """Reboot a domain, the domain object is still usable thereafter, but the domain OS is being
        stopped for a restart (``virDomainReboot``).
        """
        return status(self._call("domain_reboot", "virDomainReboot", flags, write=True))

    def rename(self, new_name: str, flags: int = 0) -> int:
        """Rename a domain (``virDomainRename``)."""
        return status(self._call("domain_rename", "virDomainRename", new_name, flags, write=True))

    def reset(self, flags: int = 0) -> int:
        """Reset a domain immediately without any guest OS shutdown (``virDomainReset``)."""
        return status(self._call("domain_reset", "virDomainReset", flags, write=True))

    def revertToSnapshot(self, snap: virDomainSnapshot | None, flags: int = 0) -> int:
        """Revert the domain to the given snapshot (``virDomainRevertToSnapshot``).

        The driver receives the snapshot as the handle, as libvirt's does.
        """
        if snap is None:
            raise plain_error("virDomainRevertToSnapshot() failed")
        return status(
            snap._call("domain_revert_to_snapshot", "virDomainRevertToSnapshot", flags, write=True)
        )

    def save(self, to: str) -> int:
        """This method will suspend a domain and save its memory contents to a file on disk
        (``virDomainSave``).
        """
        return status(
            self._call_either(
                ("domain_save", (to,)), ("domain_save_flags", (to, None, 0)), "virDomainSave"
            )
        )

    def saveFlags(self, to: str, dxml: str | None = None, flags: int = 0) -> int:
        """This method will suspend a domain and save its memory contents to a file on disk
        (``virDomainSaveFlags``).
        """
        return status(
            self._call("domain_save_flags", "virDomainSaveFlags", to, dxml, flags, write=True)
        )

    def saveParams(self, params: dict[str, Any], flags: int = 0) -> int:
        """This method will suspend a domain and save its memory contents to a file on disk
        (``virDomainSaveParams``).
        """
        return status(
            self._call("domain_save_params", "virDomainSaveParams", params, flags, write=True)
        )

    def schedulerType(self) -> tuple[Any, ...]:
        """Get the scheduler type (``virDomainGetSchedulerType``)."""
        return tuple(self._call("domain_get_scheduler_type", "virDomainGetSchedulerType"))

    def screenshot(self, stream: virStream, screen: int, flags: int = 0) -> str:
        """Take a screenshot of current domain console as a stream (``virDomainScreenshot``)."""
        result: str = self._call(
            "domain_screenshot", "virDomainScreenshot", native(stream), screen, flags, write=True
        )
        return result

    def securityLabelList(self) -> list[Any]:
        """Extract information about the domain security label
        (``virDomainGetSecurityLabelList``).
        """
        return list(self._call("domain_get_security_label_list", "virDomainGetSecurityLabelList"))

    def sendProcessSignal(self, pid_value: int, signum: int, flags: int = 0) -> int:
        """Send a signal to the designated process in the guest The signal numbers must be taken
        from the virDomainProcessSignal enum (``virDomainSendProcessSignal``).
        """
        return status(
            self._call(
                "domain_send_process_signal",
                "virDomainSendProcessSignal",
                pid_value,
                signum,
                flags,
                write=True,
            )
        )

    def setAutostart(self, autostart: int) -> int:
        """Configure the domain to be automatically started when the host machine boots
        (``virDomainSetAutostart``).
        """
        return status(
            self._call("domain_set_autostart", "virDomainSetAutostart", autostart, write=True)
        )

    def setBlockThreshold(self, dev: str, threshold: int, flags: int = 0) -> int:
        """``virDomainSetBlockThreshold``."""
        return status(
            self._call(
                "domain_set_block_threshold",
                "virDomainSetBlockThreshold",
                dev,
                threshold,
                flags,
                write=True,
            )
        )

    def setGuestVcpus(
        self, cpumap: tuple[bool, ...] | list[bool], state: int, flags: int = 0
    ) -> int:
        """Sets state of individual vcpus described by @cpumap via guest agent
        (``virDomainSetGuestVcpus``).
        """
        return status(
            self._call(
                "domain_set_guest_vcpus", "virDomainSetGuestVcpus", cpumap, state, flags, write=True
            )
        )

    def setIOThreadParams(self, iothread_val: int, params: dict[str, Any], flags: int = 0) -> int:
        """Dynamically allow changing the IOThread polling related parameters
        (``virDomainSetIOThreadParams``).
        """
        return status(
            self._call(
                "domain_set_iothread_params",
                "virDomainSetIOThreadParams",
                iothread_val,
                params,
                flags,
                write=True,
            )
        )

    def setLaunchSecurityState(self, params: dict[str, Any], flags: int = 0) -> int:
        """Set a launch security secret in the guest's memory
        (``virDomainSetLaunchSecurityState``).
        """
        return status(
            self._call(
                "domain_set_launch_security_state",
                "virDomainSetLaunchSecurityState",
                params,
                flags,
                write=True,
            )
        )

    def setLifecycleAction(self, type: int, action: int, flags: int = 0) -> int:
        """Changes the actions of lifecycle events for domain represented as
        <on_$type>$action</on_$type> in the domain XML (``virDomainSetLifecycleAction``).
        """
        return status(
            self._call(
                "domain_set_lifecycle_action",
                "virDomainSetLifecycleAction",
                type,
                action,
                flags,
                write=True,
            )
        )

    def setMemoryFlags(self, memory: int, flags: int = 0) -> int:
        """Dynamically change the target amount of physical memory allocated to a domain
        (``virDomainSetMemoryFlags``).
        """
        return status(
            self._call(
                "domain_set_memory_flags", "virDomainSetMemoryFlags", memory, flags, write=True
            )
        )

    def setMemoryStatsPeriod(self, period: int, flags: int = 0) -> int:
        """Dynamically change the domain memory balloon driver statistics collection period
        (``virDomainSetMemoryStatsPeriod``).
        """
        return status(
            self._call(
                "domain_set_memory_stats_period",
                "virDomainSetMemoryStatsPeriod",
                period,
                flags,
                write=True,
            )
        )

    def setMetadata(
        self, type: int, metadata: str | None, key: str | None, uri: str | None, flags: int = 0
    ) -> int:
        """Sets the appropriate domain element given by @type to the value of @metadata
        (``virDomainSetMetadata``).
        """
        return status(
            self._call(
                "domain_set_metadata",
                "virDomainSetMetadata",
                type,
                metadata,
                key,
                uri,
                flags,
                write=True,
            )
        )

    def setUserPassword(self, user: str, password: str, flags: int = 0) -> int:
        """Sets the @user password to the value specified by @password
        (``virDomainSetUserPassword``).
        """
        return status(
            self._call(
                "domain_set_user_password",
                "virDomainSetUserPassword",
                user,
                password,
                flags,
                write=True,
            )
        )

    def setVcpu(self, vcpumap: str, state: int, flags: int = 0) -> int:
        """Enables/disables individual vcpus described by @vcpumap in the hypervisor
        (``virDomainSetVcpu``).
        """
        return status(
            self._call("domain_set_vcpu", "virDomainSetVcpu", vcpumap, state, flags, write=True)
        )

    def setVcpusFlags(self, nvcpus: int, flags: int = 0) -> int:
        """Dynamically change the number of virtual CPUs used by the domain
        (``virDomainSetVcpusFlags``).
        """
        return status(
            self._call(
                "domain_set_vcpus_flags", "virDomainSetVcpusFlags", nvcpus, flags, write=True
            )
        )

    def shutdown(self) -> int:
        """Shutdown a domain, the domain object is still usable thereafter, but the domain OS is
        being stopped (``virDomainShutdown``).
        """
        return status(
            self._call_either(
                ("domain_shutdown", ()), ("domain_shutdown_flags", (0,)), "virDomainShutdown"
            )
        )

    def shutdownFlags(self, flags: int = 0) -> int:
        """Shutdown a domain, the domain object is still usable thereafter but the domain OS is
        being stopped (``virDomainShutdownFlags``).
        """
        return status(
            self._call("domain_shutdown_flags", "virDomainShutdownFlags", flags, write=True)
        )

    def snapshotCreateXML(self, xmlDesc: str, flags: int = 0) -> virDomainSnapshot:
        """Creates a new snapshot of a domain based on the snapshot xml contained in xmlDesc, with a
        top-level element <domainsnapshot> (``virDomainSnapshotCreateXML``).
        """
        return virDomainSnapshot(
            self,
            _obj=self._call(
                "domain_snapshot_create_xml",
                "virDomainSnapshotCreateXML",
                xmlDesc,
                flags,
                write=True,
            ),
        )

    def snapshotCurrent(self, flags: int = 0) -> virDomainSnapshot:
        """Get the current snapshot for a domain, if any (``virDomainSnapshotCurrent``)."""
        return virDomainSnapshot(
            self, _obj=self._call("domain_snapshot_current", "virDomainSnapshotCurrent", flags)
        )

    def snapshotListNames(self, flags: int = 0) -> list[Any]:
        """Collect the list of snapshot names for the given domain
        (``virDomainSnapshotListNames``).
        """
        return list(self._call("domain_snapshot_list_names", "virDomainSnapshotListNames", flags))

    def snapshotLookupByName(self, name: str, flags: int = 0) -> virDomainSnapshot:
        """Try to lookup a domain snapshot based on its name (``virDomainSnapshotLookupByName``)."""
        return virDomainSnapshot(
            self,
            _obj=self._call(
                "domain_snapshot_lookup_by_name", "virDomainSnapshotLookupByName", name, flags
            ),
        )

    def snapshotNum(self, flags: int = 0) -> int:
        """Provides the number of domain snapshots for this domain (``virDomainSnapshotNum``)."""
        return status(self._call("domain_snapshot_num", "virDomainSnapshotNum", flags))

    def startDirtyRateCalc(self, seconds: int, flags: int = 0) -> int:
        """Calculate the current domain's memory dirty rate in next @seconds
        (``virDomainStartDirtyRateCalc``).
        """
        return status(
            self._call(
                "domain_start_dirty_rate_calc",
                "virDomainStartDirtyRateCalc",
                seconds,
                flags,
                write=True,
            )
        )

    def undefine(self) -> int:
        """Undefine a domain (``virDomainUndefine``)."""
        _last.err = None  # Wrapped._write, inlined: a lifecycle call, as hot as destroy
        conn = self._conn
        plain = route(conn, "hypervisor", "domain_undefine", "domain_undefine_flags")
        if conn._pump is not None:
            if plain:
                return self._write("domain_undefine", "virDomainUndefine")
            return self._write("domain_undefine_flags", "virDomainUndefine", 0)
        try:
            if plain:
                result = self._c._invoke(
                    "hypervisor", "domain_undefine", "virDomainUndefine", self._o, write=True
                )
            else:
                result = self._c._invoke(
                    "hypervisor",
                    "domain_undefine_flags",
                    "virDomainUndefine",
                    self._o,
                    0,
                    write=True,
                )
        except VirtError as exc:
            raise raise_from(exc, "virDomainUndefine", conn) from None
        return 0 if result is None else int(result)

    def undefineFlags(self, flags: int = 0) -> int:
        """Undefine a domain (``virDomainUndefineFlags``)."""
        return status(
            self._call("domain_undefine_flags", "virDomainUndefineFlags", flags, write=True)
        )

    def updateDeviceFlags(self, xml: str, flags: int = 0) -> int:
        """Change a virtual device on a domain, using the flags parameter to control how the device
        is changed (``virDomainUpdateDeviceFlags``).
        """
        return status(
            self._call(
                "domain_update_device_flags", "virDomainUpdateDeviceFlags", xml, flags, write=True
            )
        )

    def vcpusFlags(self, flags: int = 0) -> int:
        """Query the number of virtual CPUs used by the domain (``virDomainGetVcpusFlags``)."""
        return status(self._call("domain_get_vcpus_flags", "virDomainGetVcpusFlags", flags))

    def listAllSnapshots(self, flags: int = 0) -> list[virDomainSnapshot]:
        """List all snapshots and returns a list of snapshot objects
        (``virDomainListAllSnapshots``).
        """
        return [
            virDomainSnapshot(self, _obj=o)
            for o in self._call("domain_list_all_snapshots", "virDomainListAllSnapshots", flags)
        ]

    def listAllCheckpoints(self, flags: int = 0) -> list[virDomainCheckpoint]:
        """List all checkpoints and returns a list of checkpoint objects
        (``virDomainListAllCheckpoints``).
        """
        return [
            virDomainCheckpoint(self, _obj=o)
            for o in self._call("domain_list_all_checkpoints", "virDomainListAllCheckpoints", flags)
        ]

    def createWithFiles(self, files: list[int], flags: int = 0) -> int:
        """Launch a defined domain (``virDomainCreateWithFiles``)."""
        dom: Domain = self._o
        api = "virDomainCreateWithFiles"
        return status(through(self._conn, api, dom.create_with_files, files, flags, write=True))

    def fsFreeze(self, mountpoints: list[str] | None = None, flags: int = 0) -> int:
        """Freeze specified filesystems within the guest (``virDomainFSFreeze``)."""
        return status(
            self._call("domain_fs_freeze", "virDomainFSFreeze", mountpoints, flags, write=True)
        )

    def fsThaw(self, mountpoints: list[str] | None = None, flags: int = 0) -> int:
        """Thaw specified filesystems within the guest (``virDomainFSThaw``)."""
        return status(
            self._call("domain_fs_thaw", "virDomainFSThaw", mountpoints, flags, write=True)
        )

    def FDAssociate(self, name: str, files: list[int], flags: int = 0) -> int:
        """Associate the array of FDs passed as @fds with the domain object under @name
        (``virDomainFDAssociate``).
        """
        return status(
            self._call(
                "domain_fd_associate", "virDomainFDAssociate", name, files, flags, write=True
            )
        )
