"""Domain handle calls about a domain's runtime: moments, statistics, guest, power.

Snapshots and checkpoints taken of the domain, statistics (block,
interface, memory, CPU, jobs), guest agent style queries (host name,
addresses, file systems, time), input (keys, NMI), screenshots and power
management. Each method is one libvirt API, named in its docstring; those
that talk to the guest agent or read guest memory need a read-write
connection, as in libvirt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from virtcore.objects.base import Handle
from virtcore.results import (
    DomainBlockInfo,
    DomainBlockStats,
    DomainControlInfo,
    DomainFSInfo,
    DomainInterface,
    DomainInterfaceStats,
    DomainIPAddress,
    DomainJobInfo,
    DomainTime,
    SecurityLabel,
)

if TYPE_CHECKING:
    from virtcore.objects.base import Stream
    from virtcore.objects.domain import DomainCheckpoint, DomainSnapshot

__all__ = ["DomainRuntimeCalls"]

_MEMORY_STAT_NR = 13


class DomainRuntimeCalls(Handle):
    """Runtime calls of :class:`~virtcore.objects.Domain`."""

    __slots__ = ()

    # -- snapshots ------------------------------------------------------------------------

    def snapshot_num(self, flags: int = 0) -> int:
        """How many snapshots match *flags* (``virDomainSnapshotNum``)."""
        result: int = self._call("domain_snapshot_num", "virDomainSnapshotNum", flags)
        return result

    def snapshot_list_names(self, flags: int = 0) -> list[str]:
        """Names of the matching snapshots (``virDomainSnapshotListNames``)."""
        return list(self._call("domain_snapshot_list_names", "virDomainSnapshotListNames", flags))

    def snapshot_current(self, flags: int = 0) -> DomainSnapshot:
        """The current snapshot (``virDomainSnapshotCurrent``)."""
        result: DomainSnapshot = self._call(
            "domain_snapshot_current", "virDomainSnapshotCurrent", flags
        )
        return result

    def has_current_snapshot(self, flags: int = 0) -> bool:
        """Whether there is a current snapshot (``virDomainHasCurrentSnapshot``)."""
        return bool(self._call("domain_has_current_snapshot", "virDomainHasCurrentSnapshot", flags))

    def revert_to_snapshot(self, snapshot: DomainSnapshot, flags: int = 0) -> None:
        """Revert to *snapshot* (``virDomainRevertToSnapshot``)."""
        snapshot.revert(flags)

    # -- checkpoints ----------------------------------------------------------------------

    def checkpoint_create_xml(self, xml: str, flags: int = 0) -> DomainCheckpoint:
        """Create a checkpoint (``virDomainCheckpointCreateXML``)."""
        result: DomainCheckpoint = self._call(
            "domain_checkpoint_create_xml", "virDomainCheckpointCreateXML", xml, flags, write=True
        )
        return result

    def checkpoint_lookup_by_name(self, name: str, flags: int = 0) -> DomainCheckpoint:
        """Find a checkpoint (``virDomainCheckpointLookupByName``)."""
        result: DomainCheckpoint = self._call(
            "domain_checkpoint_lookup_by_name", "virDomainCheckpointLookupByName", name, flags
        )
        return result

    def list_all_checkpoints(self, flags: int = 0) -> list[DomainCheckpoint]:
        """Every matching checkpoint (``virDomainListAllCheckpoints``)."""
        return list(self._call("domain_list_all_checkpoints", "virDomainListAllCheckpoints", flags))

    # -- statistics -----------------------------------------------------------------------

    def block_stats(self, path: str) -> DomainBlockStats:
        """I/O counters of a disk (``virDomainBlockStats``)."""
        return DomainBlockStats(*self._call("domain_block_stats", "virDomainBlockStats", path))

    def interface_stats(self, device: str) -> DomainInterfaceStats:
        """Traffic counters of an interface (``virDomainInterfaceStats``)."""
        return DomainInterfaceStats(
            *self._call("domain_interface_stats", "virDomainInterfaceStats", device)
        )

    def memory_stats(self, flags: int = 0) -> dict[str, int]:
        """Memory statistics by libvirt-python's names (``virDomainMemoryStats``)."""
        pairs = self._call("domain_memory_stats", "virDomainMemoryStats", _MEMORY_STAT_NR, flags)
        return dict(pairs)

    def block_info(self, path: str, flags: int = 0) -> DomainBlockInfo:
        """Capacity, allocation and physical size of a disk (``virDomainGetBlockInfo``)."""
        return DomainBlockInfo(
            *self._call("domain_get_block_info", "virDomainGetBlockInfo", path, flags)
        )

    def get_cpu_stats(self, total: bool, flags: int = 0) -> list[dict[str, int]]:
        """Total (one record) or per host CPU statistics (``virDomainGetCPUStats``)."""
        start, count = (-1, 1) if total else (0, 1 << 16)
        return list(self._call("domain_get_cpu_stats", "virDomainGetCPUStats", start, count, flags))

    def disk_errors(self, flags: int = 0) -> dict[str, int]:
        """Errors reported per disk target (``virDomainGetDiskErrors``)."""
        return dict(self._call("domain_get_disk_errors", "virDomainGetDiskErrors", flags))

    def job_info(self) -> DomainJobInfo:
        """The current job's progress (``virDomainGetJobInfo``)."""
        return DomainJobInfo(*self._call("domain_get_job_info", "virDomainGetJobInfo"))

    def job_stats(self, flags: int = 0) -> dict[str, Any]:
        """Statistics of the current or last job, with its ``type`` (``virDomainGetJobStats``)."""
        job_type, params = self._call("domain_get_job_stats", "virDomainGetJobStats", flags)
        return {"type": job_type, **params}

    def abort_job(self) -> None:
        """Abort the current job (``virDomainAbortJob``)."""
        self._call("domain_abort_job", "virDomainAbortJob", write=True)

    # -- guest ----------------------------------------------------------------------------

    def hostname(self, flags: int = 0) -> str:
        """The guest's host name (``virDomainGetHostname``)."""
        result: str = self._call("domain_get_hostname", "virDomainGetHostname", flags, write=True)
        return result

    def interface_addresses(self, source: int = 0, flags: int = 0) -> list[DomainInterface]:
        """The guest's interfaces and addresses (``virDomainInterfaceAddresses``)."""
        # Asking the guest agent (source 1) needs a read-write connection, as in libvirt.
        found = self._call(
            "domain_interface_addresses",
            "virDomainInterfaceAddresses",
            source,
            flags,
            write=source == 1,
        )
        return [
            DomainInterface(name, hwaddr, [DomainIPAddress(*addr) for addr in addrs])
            for name, hwaddr, addrs in found
        ]

    def fs_info(self, flags: int = 0) -> list[DomainFSInfo]:
        """The guest's mounted file systems (``virDomainGetFSInfo``)."""
        found = self._call("domain_get_fs_info", "virDomainGetFSInfo", flags, write=True)
        return [
            DomainFSInfo(mount, name, kind, list(aliases)) for mount, name, kind, aliases in found
        ]

    def fs_freeze(self, mountpoints: Sequence[str] | None = None, flags: int = 0) -> int:
        """Freeze guest file systems; returns how many were frozen (``virDomainFSFreeze``)."""
        points = list(mountpoints) if mountpoints else None
        result: int = self._call("domain_fs_freeze", "virDomainFSFreeze", points, flags, write=True)
        return result

    def fs_thaw(self, mountpoints: Sequence[str] | None = None, flags: int = 0) -> int:
        """Thaw guest file systems; returns how many were thawed (``virDomainFSThaw``)."""
        points = list(mountpoints) if mountpoints else None
        result: int = self._call("domain_fs_thaw", "virDomainFSThaw", points, flags, write=True)
        return result

    def fs_trim(self, mountpoint: str | None = None, minimum: int = 0, flags: int = 0) -> None:
        """Discard unused blocks of a guest file system (``virDomainFSTrim``)."""
        self._call("domain_fs_trim", "virDomainFSTrim", mountpoint, minimum, flags, write=True)

    def get_time(self, flags: int = 0) -> DomainTime:
        """The guest clock (``virDomainGetTime``)."""
        return DomainTime(*self._call("domain_get_time", "virDomainGetTime", flags, write=True))

    def set_time(self, seconds: int, nseconds: int = 0, flags: int = 0) -> None:
        """Set the guest clock (``virDomainSetTime``)."""
        self._call("domain_set_time", "virDomainSetTime", seconds, nseconds, flags, write=True)

    def control_info(self, flags: int = 0) -> DomainControlInfo:
        """State of the domain's control interface (``virDomainGetControlInfo``)."""
        return DomainControlInfo(
            *self._call("domain_get_control_info", "virDomainGetControlInfo", flags)
        )

    def inject_nmi(self, flags: int = 0) -> None:
        """Send a non-maskable interrupt (``virDomainInjectNMI``)."""
        self._call("domain_inject_nmi", "virDomainInjectNMI", flags, write=True)

    def send_key(
        self, codeset: int, holdtime: int, keycodes: Sequence[int], flags: int = 0
    ) -> None:
        """Press keys of *codeset* for *holdtime* ms (``virDomainSendKey``)."""
        self._call(
            "domain_send_key",
            "virDomainSendKey",
            codeset,
            holdtime,
            list(keycodes),
            flags,
            write=True,
        )

    def screenshot(self, stream: Stream, screen: int = 0, flags: int = 0) -> str:
        """Bind *stream* to a screenshot; returns its MIME type (``virDomainScreenshot``)."""
        result: str = self._call(
            "domain_screenshot", "virDomainScreenshot", stream, screen, flags, write=True
        )
        return result

    def messages(self, flags: int = 0) -> list[str]:
        """Deprecation and tainting messages (``virDomainGetMessages``)."""
        return list(self._call("domain_get_messages", "virDomainGetMessages", flags))

    def security_label(self) -> SecurityLabel:
        """The security label (``virDomainGetSecurityLabel``)."""
        label, enforcing = self._call("domain_get_security_label", "virDomainGetSecurityLabel")
        return SecurityLabel(label, bool(enforcing))

    def memory_peek(self, start: int, size: int, flags: int) -> bytes:
        """Read guest memory (``virDomainMemoryPeek``; flags VIRTUAL or PHYSICAL)."""
        result: bytes = self._call(
            "domain_memory_peek", "virDomainMemoryPeek", start, size, flags, write=True
        )
        return result

    def send_process_signal(self, pid: int, signum: int, flags: int = 0) -> None:
        """Signal a guest process (``virDomainSendProcessSignal``)."""
        self._call(
            "domain_send_process_signal",
            "virDomainSendProcessSignal",
            pid,
            signum,
            flags,
            write=True,
        )

    def set_user_password(self, user: str, password: str, flags: int = 0) -> None:
        """Set a guest user's password (``virDomainSetUserPassword``)."""
        self._call(
            "domain_set_user_password",
            "virDomainSetUserPassword",
            user,
            password,
            flags,
            write=True,
        )

    def launch_security_info(self, flags: int = 0) -> dict[str, Any]:
        """Launch security parameters (``virDomainGetLaunchSecurityInfo``)."""
        return dict(
            self._call(
                "domain_get_launch_security_info",
                "virDomainGetLaunchSecurityInfo",
                flags,
                write=True,
            )
        )

    def set_memory_stats_period(self, period: int, flags: int = 0) -> None:
        """Set the balloon statistics period in seconds (``virDomainSetMemoryStatsPeriod``)."""
        self._call(
            "domain_set_memory_stats_period",
            "virDomainSetMemoryStatsPeriod",
            period,
            flags,
            write=True,
        )

    def core_dump(self, to: str, flags: int = 0) -> None:
        """Dump the guest's memory to *to* (``virDomainCoreDump``)."""
        self._call("domain_core_dump", "virDomainCoreDump", to, flags, write=True)

    def core_dump_with_format(self, to: str, dumpformat: int, flags: int = 0) -> None:
        """Dump the guest's memory in *dumpformat* (``virDomainCoreDumpWithFormat``)."""
        self._call(
            "domain_core_dump_with_format",
            "virDomainCoreDumpWithFormat",
            to,
            dumpformat,
            flags,
            write=True,
        )

    # -- power management ---------------------------------------------------------------------

    def pm_suspend_for_duration(self, target: int, duration: int = 0, flags: int = 0) -> None:
        """Suspend the guest to memory, disk or both (``virDomainPMSuspendForDuration``)."""
        self._call(
            "domain_pm_suspend_for_duration",
            "virDomainPMSuspendForDuration",
            target,
            duration,
            flags,
            write=True,
        )

    def pm_wakeup(self, flags: int = 0) -> None:
        """Wake a suspended guest (``virDomainPMWakeup``)."""
        self._call("domain_pm_wakeup", "virDomainPMWakeup", flags, write=True)
