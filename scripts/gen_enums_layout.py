"""Curation tables for ``gen_enums.py``: where each libvirt 9.0 enumeration goes and how it reads.

The recorded constants say *what* libvirt-python 9.0 exports; these tables say how
``virtcore.enums`` presents it: the module holding each C type (in class order), a one-line
description for its docstring, prefixes the common-prefix rule cannot find, bit-mask types not
named ``...Flags``, the canonical name of each aliased value, and the families that group the
typed-parameter names in ``params.py``. ``gen_enums.py`` refuses to generate while a recorded
type is unplaced or a table names a type the record lacks.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class TypeSpec(NamedTuple):
    """One C enumeration type and the sentence describing it."""

    c_type: str
    description: str


class ModuleSpec(NamedTuple):
    """One module of the package and the C types it holds, in order."""

    name: str
    summary: str
    types: tuple[TypeSpec, ...]
    generated: bool = True


T = TypeSpec

MODULES: Final[tuple[ModuleSpec, ...]] = (
    ModuleSpec(
        "connect",
        "Connection and host enumerations with libvirt 9.0's values: opening and authenticating "
        "connections, CPU comparison, host (node) queries and the ``virConnectListAll*`` filters.",
        (
            T("virConnectFlags", "flags for opening a connection (``virConnectOpenAuth``)."),
            T("virConnectCredentialType", "kinds of credential an auth callback is asked for."),
            T("virConnectCloseReason", "why a connection closed, as passed to close callbacks."),
            T("virConnectBaselineCPUFlags", "flags for ``virConnectBaselineCPU``."),
            T("virConnectCompareCPUFlags", "flags for ``virConnectCompareCPU``."),
            T("virCPUCompareResult", "result of comparing a CPU definition with the host CPU."),
            T("virConnectListAllDomainsFlags", "filters for ``virConnectListAllDomains``."),
            T(
                "virConnectGetAllDomainStatsFlags",
                "domain filters and behaviour flags for ``virConnectGetAllDomainStats``.",
            ),
            T("virConnectListAllNetworksFlags", "filters for ``virConnectListAllNetworks``."),
            T(
                "virConnectListAllStoragePoolsFlags",
                "filters for ``virConnectListAllStoragePools``.",
            ),
            T("virConnectListAllNodeDeviceFlags", "filters for ``virConnectListAllNodeDevices``."),
            T("virConnectListAllSecretsFlags", "filters for ``virConnectListAllSecrets``."),
            T("virConnectListAllInterfacesFlags", "filters for ``virConnectListAllInterfaces``."),
            T("virNodeSuspendTarget", "host suspend target for ``virNodeSuspendForDuration``."),
            T(
                "virNodeGetCPUStatsAllCPUs",
                "the ``cpuNum`` asking ``virNodeGetCPUStats`` for the total over all CPUs.",
            ),
            T(
                "virNodeGetMemoryStatsAllCells",
                "the ``cellNum`` asking ``virNodeGetMemoryStats`` for the total over all cells.",
            ),
            T("virNodeAllocPagesFlags", "flags for ``virNodeAllocPages``."),
        ),
    ),
    ModuleSpec(
        "domain",
        "Domain states, state reasons and the flags of the core domain lifecycle and "
        "configuration calls, with libvirt 9.0's values.",
        (
            T("virDomainState", "the run state of a domain."),
            T("virDomainNostateReason", "reason for ``DomainState.NOSTATE``."),
            T("virDomainRunningReason", "reason for ``DomainState.RUNNING``."),
            T("virDomainBlockedReason", "reason for ``DomainState.BLOCKED``."),
            T("virDomainPausedReason", "reason for ``DomainState.PAUSED``."),
            T("virDomainShutdownReason", "reason for ``DomainState.SHUTDOWN``."),
            T("virDomainShutoffReason", "reason for ``DomainState.SHUTOFF``."),
            T("virDomainCrashedReason", "reason for ``DomainState.CRASHED``."),
            T("virDomainPMSuspendedReason", "reason for ``DomainState.PMSUSPENDED``."),
            T("virDomainPMSuspendedDiskReason", "reason for a guest suspended to disk."),
            T("virDomainControlState", "state of the domain's control interface."),
            T("virDomainControlErrorReason", "why the control interface is in error."),
            T("virVcpuState", "state of one virtual CPU (``virDomainGetVcpus``)."),
            T(
                "virVcpuHostCpuState",
                "host CPU placeholders in vCPU information: offline or not reported.",
            ),
            T(
                "virDomainModificationImpact",
                "whether a change applies to the running domain, its persistent definition "
                "or both.",
            ),
            T("virDomainXMLFlags", "flags for ``virDomainGetXMLDesc``."),
            T("virDomainCreateFlags", "flags for starting a domain."),
            T("virDomainDefineFlags", "flags for ``virDomainDefineXMLFlags``."),
            T("virDomainUndefineFlagsValues", "what ``virDomainUndefineFlags`` also removes."),
            T("virDomainDestroyFlagsValues", "flags for ``virDomainDestroyFlags``."),
            T("virDomainShutdownFlagValues", "shutdown methods for ``virDomainShutdownFlags``."),
            T("virDomainRebootFlagValues", "reboot methods for ``virDomainReboot``."),
            T("virDomainSaveRestoreFlags", "flags for saving and restoring domain state."),
            T("virDomainSaveImageXMLFlags", "flags for ``virDomainSaveImageGetXMLDesc``."),
            T("virDomainCoreDumpFlags", "flags for ``virDomainCoreDump``."),
            T("virDomainCoreDumpFormat", "output format of ``virDomainCoreDumpWithFormat``."),
            T("virDomainMemoryModFlags", "flags for ``virDomainSetMemoryFlags``."),
            T("virDomainVcpuFlags", "flags for setting and querying the vCPU count."),
            T("virDomainDeviceModifyFlags", "flags for attaching, detaching and updating devices."),
            T("virDomainMetadataType", "which piece of metadata ``virDomainSetMetadata`` sets."),
            T("virDomainLifecycle", "guest lifecycle event whose action is configured."),
            T("virDomainLifecycleAction", "action taken on a guest lifecycle event."),
            T("virDomainNumatuneMemMode", "NUMA memory placement mode."),
            T("virDomainFDAssociateFlags", "flags for ``virDomainFDAssociate``."),
        ),
    ),
    ModuleSpec(
        "domain_events",
        "Domain event identifiers, lifecycle event types and details, and the values domain "
        "event callbacks receive, with libvirt 9.0's values.",
        (
            T("virDomainEventID", "domain event kinds for ``virConnectDomainEventRegisterAny``."),
            T("virDomainEventType", "lifecycle event type passed to the lifecycle callback."),
            T("virDomainEventDefinedDetailType", "detail for ``DomainEventType.DEFINED``."),
            T("virDomainEventUndefinedDetailType", "detail for ``DomainEventType.UNDEFINED``."),
            T("virDomainEventStartedDetailType", "detail for ``DomainEventType.STARTED``."),
            T("virDomainEventSuspendedDetailType", "detail for ``DomainEventType.SUSPENDED``."),
            T("virDomainEventResumedDetailType", "detail for ``DomainEventType.RESUMED``."),
            T("virDomainEventStoppedDetailType", "detail for ``DomainEventType.STOPPED``."),
            T("virDomainEventShutdownDetailType", "detail for ``DomainEventType.SHUTDOWN``."),
            T("virDomainEventPMSuspendedDetailType", "detail for ``DomainEventType.PMSUSPENDED``."),
            T("virDomainEventCrashedDetailType", "detail for ``DomainEventType.CRASHED``."),
            T("virDomainEventIOErrorAction", "action taken after a disk I/O error."),
            T("virDomainEventWatchdogAction", "action taken when the watchdog fires."),
            T("virDomainEventGraphicsPhase", "phase of a graphics client connection."),
            T("virDomainEventGraphicsAddressType", "address family of a graphics endpoint."),
            T("virConnectDomainEventBlockJobStatus", "outcome reported by block job events."),
            T("virConnectDomainEventDiskChangeReason", "why removable media changed."),
            T("virDomainEventTrayChangeReason", "whether a removable-media tray opened or closed."),
            T("virConnectDomainEventAgentLifecycleState", "connection state of the guest agent."),
            T("virConnectDomainEventAgentLifecycleReason", "why the guest agent state changed."),
            T("virDomainMemoryFailureRecipientType", "who received a hardware memory failure."),
            T("virDomainMemoryFailureActionType", "action taken on a hardware memory failure."),
            T("virDomainMemoryFailureFlags", "details of a hardware memory failure."),
        ),
    ),
    ModuleSpec(
        "domain_jobs",
        "Domain jobs, block jobs, migration, backup and dirty-rate measurement, with libvirt "
        "9.0's values.",
        (
            T("virDomainJobType", "kind of job running on a domain (``virDomainGetJobInfo``)."),
            T("virDomainJobOperation", "operation a job belongs to."),
            T("virDomainGetJobStatsFlags", "flags for ``virDomainGetJobStats``."),
            T("virDomainAbortJobFlagsValues", "flags for ``virDomainAbortJobFlags``."),
            T("virDomainBlockJobType", "kind of block job."),
            T("virDomainBlockJobAbortFlags", "flags for ``virDomainBlockJobAbort``."),
            T("virDomainBlockJobInfoFlags", "flags for ``virDomainGetBlockJobInfo``."),
            T("virDomainBlockJobSetSpeedFlags", "flags for ``virDomainBlockJobSetSpeed``."),
            T("virDomainBlockPullFlags", "flags for ``virDomainBlockPull``."),
            T("virDomainBlockRebaseFlags", "flags for ``virDomainBlockRebase``."),
            T("virDomainBlockCopyFlags", "flags for ``virDomainBlockCopy``."),
            T("virDomainBlockCommitFlags", "flags for ``virDomainBlockCommit``."),
            T("virDomainBlockResizeFlags", "flags for ``virDomainBlockResize``."),
            T("virDomainMigrateFlags", "flags for domain migration."),
            T(
                "virDomainMigrateMaxSpeedFlags",
                "flags for getting and setting the maximum migration speed.",
            ),
            T("virDomainBackupBeginFlags", "flags for ``virDomainBackupBegin``."),
            T("virDomainDirtyRateStatus", "state of a dirty-rate measurement."),
            T("virDomainDirtyRateCalcFlags", "mode of ``virDomainStartDirtyRateCalc``."),
        ),
    ),
    ModuleSpec(
        "domain_guest",
        "Domain statistics, guest-agent queries and guest I/O (consoles, channels, graphics, "
        "key codes, process signals), with libvirt 9.0's values.",
        (
            T("virDomainStatsTypes", "statistics groups for ``virConnectGetAllDomainStats``."),
            T("virDomainMemoryStatTags", "tags of ``virDomainMemoryStats`` records."),
            T("virDomainMemoryFlags", "address space read by ``virDomainMemoryPeek``."),
            T("virDomainDiskErrorCode", "disk error reported by ``virDomainGetDiskErrors``."),
            T("virDomainGuestInfoTypes", "information groups for ``virDomainGetGuestInfo``."),
            T(
                "virDomainInterfaceAddressesSource",
                "where ``virDomainInterfaceAddresses`` gets its data.",
            ),
            T("virDomainGetHostnameFlags", "where ``virDomainGetHostname`` gets the name."),
            T("virDomainSetTimeFlags", "flags for ``virDomainSetTime``."),
            T("virDomainSetUserPasswordFlags", "flags for ``virDomainSetUserPassword``."),
            T("virDomainAuthorizedSSHKeysSetFlags", "flags for ``virDomainAuthorizedSSHKeysSet``."),
            T(
                "virDomainAgentResponseTimeoutValues",
                "special timeouts for ``virDomainAgentSetResponseTimeout``.",
            ),
            T("virKeycodeSet", "key code set of ``virDomainSendKey``."),
            T("virDomainProcessSignal", "signal numbers for ``virDomainSendProcessSignal``."),
            T("virDomainConsoleFlags", "flags for ``virDomainOpenConsole``."),
            T("virDomainChannelFlags", "flags for ``virDomainOpenChannel``."),
            T("virDomainOpenGraphicsFlags", "flags for ``virDomainOpenGraphics``."),
            T("virDomainMessageType", "kinds of message returned by ``virDomainGetMessages``."),
        ),
    ),
    ModuleSpec(
        "snapshot",
        "Domain snapshot flags with libvirt 9.0's values.",
        (
            T("virDomainSnapshotCreateFlags", "flags for ``virDomainSnapshotCreateXML``."),
            T("virDomainSnapshotDeleteFlags", "flags for ``virDomainSnapshotDelete``."),
            T("virDomainSnapshotListFlags", "filters for listing snapshots."),
            T("virDomainSnapshotRevertFlags", "flags for ``virDomainRevertToSnapshot``."),
            T("virDomainSnapshotXMLFlags", "flags for ``virDomainSnapshotGetXMLDesc``."),
        ),
    ),
    ModuleSpec(
        "checkpoint",
        "Domain checkpoint flags with libvirt 9.0's values.",
        (
            T("virDomainCheckpointCreateFlags", "flags for ``virDomainCheckpointCreateXML``."),
            T("virDomainCheckpointDeleteFlags", "flags for ``virDomainCheckpointDelete``."),
            T("virDomainCheckpointListFlags", "filters for listing checkpoints."),
            T("virDomainCheckpointXMLFlags", "flags for ``virDomainCheckpointGetXMLDesc``."),
        ),
    ),
    ModuleSpec(
        "network",
        "Virtual network enumerations and flags with libvirt 9.0's values.",
        (
            T("virNetworkXMLFlags", "flags for ``virNetworkGetXMLDesc``."),
            T("virNetworkCreateFlags", "flags for ``virNetworkCreateXMLFlags``."),
            T("virNetworkDefineFlags", "flags for ``virNetworkDefineXMLFlags``."),
            T("virNetworkUpdateCommand", "kind of change made by ``virNetworkUpdate``."),
            T("virNetworkUpdateSection", "part of the definition ``virNetworkUpdate`` changes."),
            T("virNetworkUpdateFlags", "which definition ``virNetworkUpdate`` affects."),
            T("virNetworkEventID", "network event kinds for ``virConnectNetworkEventRegister``."),
            T("virNetworkEventLifecycleType", "network lifecycle event type."),
            T("virNetworkPortCreateFlags", "flags for ``virNetworkPortCreateXML``."),
            T("virIPAddrType", "address family of DHCP leases and interface addresses."),
        ),
    ),
    ModuleSpec(
        "storage",
        "Storage pool and volume enumerations and flags with libvirt 9.0's values.",
        (
            T("virStoragePoolState", "run state of a storage pool."),
            T("virStoragePoolBuildFlags", "flags for ``virStoragePoolBuild``."),
            T("virStoragePoolCreateFlags", "flags for starting a storage pool."),
            T("virStoragePoolDefineFlags", "flags for ``virStoragePoolDefineXML``."),
            T("virStoragePoolDeleteFlags", "flags for ``virStoragePoolDelete``."),
            T(
                "virStoragePoolEventID",
                "storage pool event kinds for ``virConnectStoragePoolEventRegisterAny``.",
            ),
            T("virStoragePoolEventLifecycleType", "storage pool lifecycle event type."),
            T("virStorageXMLFlags", "flags for ``virStoragePoolGetXMLDesc``."),
            T("virStorageVolType", "kind of storage volume."),
            T("virStorageVolCreateFlags", "flags for creating a storage volume."),
            T("virStorageVolDeleteFlags", "flags for ``virStorageVolDelete``."),
            T("virStorageVolDownloadFlags", "flags for ``virStorageVolDownload``."),
            T("virStorageVolUploadFlags", "flags for ``virStorageVolUpload``."),
            T("virStorageVolInfoFlags", "flags for ``virStorageVolGetInfoFlags``."),
            T("virStorageVolResizeFlags", "flags for ``virStorageVolResize``."),
            T("virStorageVolWipeAlgorithm", "pattern written by ``virStorageVolWipePattern``."),
        ),
    ),
    ModuleSpec(
        "nodedev",
        "Host device (node device) flags and events with libvirt 9.0's values.",
        (
            T("virNodeDeviceCreateXMLFlags", "flags for ``virNodeDeviceCreateXML``."),
            T("virNodeDeviceDefineXMLFlags", "flags for ``virNodeDeviceDefineXML``."),
            T(
                "virNodeDeviceEventID",
                "node device event kinds for ``virConnectNodeDeviceEventRegisterAny``.",
            ),
            T("virNodeDeviceEventLifecycleType", "node device lifecycle event type."),
        ),
    ),
    ModuleSpec(
        "secret",
        "Secret usage types, flags and events with libvirt 9.0's values.",
        (
            T("virSecretUsageType", "what a secret is used for."),
            T("virSecretDefineFlags", "flags for ``virSecretDefineXML``."),
            T("virSecretEventID", "secret event kinds for ``virConnectSecretEventRegisterAny``."),
            T("virSecretEventLifecycleType", "secret lifecycle event type."),
        ),
    ),
    ModuleSpec(
        "nwfilter",
        "Network filter flags with libvirt 9.0's values.",
        (
            T("virNWFilterDefineFlags", "flags for ``virNWFilterDefineXMLFlags``."),
            T("virNWFilterBindingCreateFlags", "flags for ``virNWFilterBindingCreateXML``."),
        ),
    ),
    ModuleSpec(
        "interface",
        "Host network interface flags with libvirt 9.0's values.",
        (
            T("virInterfaceXMLFlags", "flags for ``virInterfaceGetXMLDesc``."),
            T("virInterfaceDefineFlags", "flags for ``virInterfaceDefineXML``."),
        ),
    ),
    ModuleSpec(
        "stream",
        "Data stream flags and events with libvirt 9.0's values.",
        (
            T("virStreamFlags", "flags for ``virStreamNew``."),
            T("virStreamEventType", "conditions a stream event callback watches for."),
            T("virStreamRecvFlagsValues", "flags for ``virStreamRecvFlags``."),
        ),
    ),
    ModuleSpec(
        "event",
        "Event-loop handle conditions with libvirt 9.0's values.",
        (T("virEventHandleType", "file handle conditions watched by ``virEventAddHandle``."),),
    ),
    ModuleSpec(
        "typed_params",
        "Typed parameter value types and flags with libvirt 9.0's values. The parameter "
        "names themselves are strings, in :mod:`virtcore.enums.params`.",
        (
            T("virTypedParameterType", "type tag of a typed parameter's value."),
            T("virTypedParameterFlags", "flags for calls that exchange typed parameters."),
            T("virBlkioParameterType", "type tag of a block I/O tuning parameter."),
            T("virMemoryParameterType", "type tag of a memory tuning parameter."),
            T("virSchedParameterType", "type tag of a scheduler parameter."),
        ),
    ),
    ModuleSpec(
        "errors",
        "",
        (
            T("virErrorNumber", ""),
            T("virErrorDomain", ""),
            T("virErrorLevel", ""),
        ),
        generated=False,
    ),
)

#: Prefixes stripped from member names where the common-prefix rule does not apply.
#: Tried in order; a single-member type has no common prefix to compute.
PREFIX_OVERRIDES: Final[dict[str, tuple[str, ...]]] = {
    "virErrorNumber": ("VIR_ERR_", "VIR_"),
    "virDomainFDAssociateFlags": ("VIR_DOMAIN_FD_ASSOCIATE_",),
    "virDomainAbortJobFlagsValues": ("VIR_DOMAIN_ABORT_JOB_",),
    "virDomainBackupBeginFlags": ("VIR_DOMAIN_BACKUP_BEGIN_",),
    "virDomainBlockJobInfoFlags": ("VIR_DOMAIN_BLOCK_JOB_INFO_",),
    "virDomainBlockJobSetSpeedFlags": ("VIR_DOMAIN_BLOCK_JOB_SPEED_",),
    "virDomainBlockPullFlags": ("VIR_DOMAIN_BLOCK_PULL_",),
    "virDomainBlockResizeFlags": ("VIR_DOMAIN_BLOCK_RESIZE_",),
    "virDomainBlockedReason": ("VIR_DOMAIN_BLOCKED_",),
    "virDomainChannelFlags": ("VIR_DOMAIN_CHANNEL_",),
    "virDomainDefineFlags": ("VIR_DOMAIN_DEFINE_",),
    "virDomainMigrateMaxSpeedFlags": ("VIR_DOMAIN_MIGRATE_MAX_SPEED_",),
    "virDomainNostateReason": ("VIR_DOMAIN_NOSTATE_",),
    "virDomainOpenGraphicsFlags": ("VIR_DOMAIN_OPEN_GRAPHICS_",),
    "virDomainPMSuspendedDiskReason": ("VIR_DOMAIN_PMSUSPENDED_DISK_",),
    "virDomainPMSuspendedReason": ("VIR_DOMAIN_PMSUSPENDED_",),
    "virDomainSaveImageXMLFlags": ("VIR_DOMAIN_SAVE_IMAGE_XML_",),
    "virDomainSetTimeFlags": ("VIR_DOMAIN_TIME_",),
    "virDomainSetUserPasswordFlags": ("VIR_DOMAIN_PASSWORD_",),
    "virDomainSnapshotXMLFlags": ("VIR_DOMAIN_SNAPSHOT_XML_",),
    "virInterfaceDefineFlags": ("VIR_INTERFACE_DEFINE_",),
    "virInterfaceXMLFlags": ("VIR_INTERFACE_XML_",),
    "virNWFilterBindingCreateFlags": ("VIR_NWFILTER_BINDING_CREATE_",),
    "virNWFilterDefineFlags": ("VIR_NWFILTER_DEFINE_",),
    "virNetworkCreateFlags": ("VIR_NETWORK_CREATE_",),
    "virNetworkDefineFlags": ("VIR_NETWORK_DEFINE_",),
    "virNetworkEventID": ("VIR_NETWORK_EVENT_ID_",),
    "virNetworkXMLFlags": ("VIR_NETWORK_XML_",),
    "virNodeDeviceCreateXMLFlags": ("VIR_NODE_DEVICE_CREATE_XML_",),
    "virNodeDeviceDefineXMLFlags": ("VIR_NODE_DEVICE_DEFINE_XML_",),
    "virNodeGetCPUStatsAllCPUs": ("VIR_NODE_CPU_STATS_",),
    "virNodeGetMemoryStatsAllCells": ("VIR_NODE_MEMORY_STATS_",),
    "virSecretDefineFlags": ("VIR_SECRET_DEFINE_",),
    "virStoragePoolDefineFlags": ("VIR_STORAGE_POOL_DEFINE_",),
    "virStorageVolDownloadFlags": ("VIR_STORAGE_VOL_DOWNLOAD_",),
    "virStorageVolUploadFlags": ("VIR_STORAGE_VOL_UPLOAD_",),
    "virStorageXMLFlags": ("VIR_STORAGE_XML_",),
    "virStreamFlags": ("VIR_STREAM_",),
    "virStreamRecvFlagsValues": ("VIR_STREAM_RECV_",),
    "virTypedParameterFlags": ("VIR_TYPED_PARAM_",),
}

#: Types not named ``...Flags`` whose values are nevertheless OR-ed together as masks.
MASK_TYPES: Final = frozenset(
    {
        "virDomainModificationImpact",
        "virDomainStatsTypes",
        "virDomainGuestInfoTypes",
        "virDomainMessageType",
        "virEventHandleType",
        "virStreamEventType",
    }
)

#: For values with two names, the one the header declares first, which becomes the canonical
#: member (the record lists ties alphabetically, which the headers do not).
CANONICAL: Final[dict[str, str]] = {
    "virDomainMemoryStatTags": "VIR_DOMAIN_MEMORY_STAT_NR",
    "virDomainSnapshotListFlags": "VIR_DOMAIN_SNAPSHOT_LIST_ROOTS",
    "virDomainCheckpointListFlags": "VIR_DOMAIN_CHECKPOINT_LIST_ROOTS",
}

#: Extra docstring paragraphs for types with something surprising about them.
NOTES: Final[dict[str, str]] = {
    "virDomainMemoryStatTags": "``NR`` is the number of tags. ``LAST`` is an alias of ``NR``, "
    "present because libvirt-python 9.0 exports ``VIR_DOMAIN_MEMORY_STAT_LAST``.",
    "virDomainSnapshotListFlags": "``ROOTS`` and ``DESCENDANTS`` share a bit: listing a domain's "
    "snapshots it selects the roots, listing a snapshot's children it selects all descendants.",
    "virDomainCheckpointListFlags": "``ROOTS`` and ``DESCENDANTS`` share a bit: listing a "
    "domain's checkpoints it selects the roots, listing a checkpoint's children it selects all "
    "descendants.",
    "virDomainFDAssociateFlags": "Members keep ``SECLABEL_``: the type's prefix is "
    "``VIR_DOMAIN_FD_ASSOCIATE_``.",
    "virVcpuHostCpuState": "Used in place of a host CPU number, hence negative.",
}

#: Families of typed-parameter names, longest prefix first where prefixes nest.
PARAM_FAMILIES: Final[tuple[tuple[str, str], ...]] = (
    ("VIR_CONNECT_IDENTITY_", "Client identity attributes (``virConnectSetIdentity``)."),
    ("VIR_DOMAIN_BANDWIDTH_", "Interface bandwidth (``virDomainSetInterfaceParameters``)."),
    ("VIR_DOMAIN_BLKIO_", "Block I/O tuning (``virDomainSetBlkioParameters``)."),
    ("VIR_DOMAIN_BLOCK_COPY_", "Block copy parameters (``virDomainBlockCopy``)."),
    ("VIR_DOMAIN_BLOCK_IOTUNE_", "Disk I/O throttling (``virDomainSetBlockIoTune``)."),
    ("VIR_DOMAIN_BLOCK_STATS_", "Block device statistics (``virDomainBlockStatsFlags``)."),
    ("VIR_DOMAIN_CPU_STATS_", "Domain CPU statistics (``virDomainGetCPUStats``)."),
    ("VIR_DOMAIN_IOTHREAD_", "IOThread parameters (``virDomainSetIOThreadParams``)."),
    ("VIR_DOMAIN_JOB_", "Job statistics (``virDomainGetJobStats``)."),
    ("VIR_DOMAIN_LAUNCH_SECURITY_", "Launch security (``virDomainGetLaunchSecurityInfo``)."),
    ("VIR_DOMAIN_MEMORY_", "Memory tuning (``virDomainSetMemoryParameters``)."),
    ("VIR_DOMAIN_NUMA_", "NUMA tuning (``virDomainSetNumaParameters``)."),
    ("VIR_DOMAIN_SAVE_PARAM_", "Save and restore parameters (``virDomainSaveParams``)."),
    ("VIR_DOMAIN_SCHEDULER_", "Scheduler parameters (``virDomainSetSchedulerParameters``)."),
    ("VIR_DOMAIN_TUNABLE_", "Tunables reported by ``DomainEventID.TUNABLE`` events."),
    ("VIR_MIGRATE_PARAM_", "Migration parameters (``virDomainMigrate3``)."),
    ("VIR_NETWORK_PORT_BANDWIDTH_", "Network port bandwidth (``virNetworkPortSetParameters``)."),
    ("VIR_NODE_CPU_STATS_", "Host CPU statistics (``virNodeGetCPUStats``)."),
    ("VIR_NODE_MEMORY_SHARED_", "Host shared-memory tuning (``virNodeSetMemoryParameters``)."),
    ("VIR_NODE_MEMORY_STATS_", "Host memory statistics (``virNodeGetMemoryStats``)."),
    ("VIR_NODE_SEV_", "Host SEV capabilities (``virNodeGetSEVInfo``)."),
    ("VIR_PERF_PARAM_", "Perf events (``virDomainSetPerfEvents``)."),
)
