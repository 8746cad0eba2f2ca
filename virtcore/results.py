"""Named result types returned by the native API.

Each is a ``NamedTuple``, so it still unpacks and compares like the plain lists
and tuples libvirt-python returns (``state, reason = dom.state()``).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "DomainInfo",
    "DomainStateInfo",
    "HostCPUMap",
    "NodeInfo",
    "SecurityModel",
    "StoragePoolInfo",
    "StorageVolInfo",
]


class DomainInfo(NamedTuple):
    """``virDomainGetInfo``: state, max memory (KiB), memory (KiB), vCPUs, CPU time (ns)."""

    state: int
    max_memory: int
    memory: int
    nr_virt_cpu: int
    cpu_time: int


class DomainStateInfo(NamedTuple):
    """``virDomainGetState``: the state and the reason it was entered."""

    state: int
    reason: int


class HostCPUMap(NamedTuple):
    """``virNodeGetCPUMap``: host CPUs, which of them are online, how many are online."""

    cpus: int
    online_map: tuple[bool, ...]
    online: int


class SecurityModel(NamedTuple):
    """``virNodeGetSecurityModel``: the model name and its DOI (both empty when none is active)."""

    model: str
    doi: str


class NodeInfo(NamedTuple):
    """``virNodeGetInfo`` in libvirt-python's order (memory in MiB)."""

    model: str
    memory: int
    cpus: int
    mhz: int
    nodes: int
    sockets: int
    cores: int
    threads: int


class StoragePoolInfo(NamedTuple):
    """``virStoragePoolGetInfo``: state and sizes in bytes."""

    state: int
    capacity: int
    allocation: int
    available: int


class StorageVolInfo(NamedTuple):
    """``virStorageVolGetInfo``: volume type and sizes in bytes."""

    type: int
    capacity: int
    allocation: int


# -- domain statistics, guest queries and tuning (test driver domain calls) --------------


class DomainBlockInfo(NamedTuple):
    """``virDomainGetBlockInfo``: sizes of a disk's image in bytes."""

    capacity: int
    allocation: int
    physical: int


class DomainBlockStats(NamedTuple):
    """``virDomainBlockStats``: I/O counters of one disk."""

    rd_req: int
    rd_bytes: int
    wr_req: int
    wr_bytes: int
    errs: int


class DomainInterfaceStats(NamedTuple):
    """``virDomainInterfaceStats``: traffic counters of one interface."""

    rx_bytes: int
    rx_packets: int
    rx_errs: int
    rx_drop: int
    tx_bytes: int
    tx_packets: int
    tx_errs: int
    tx_drop: int


class VcpuInfo(NamedTuple):
    """One ``virVcpuInfo`` of ``virDomainGetVcpus``: number, state, CPU time (ns), host CPU."""

    number: int
    state: int
    cpu_time: int
    cpu: int


class DomainControlInfo(NamedTuple):
    """``virDomainGetControlInfo``: control state, its details and how long (ms) it lasted."""

    state: int
    details: int
    state_time: int


class DomainTime(NamedTuple):
    """``virDomainGetTime``: the guest clock."""

    seconds: int
    nseconds: int


class DomainFSInfo(NamedTuple):
    """One ``virDomainFSInfo``: a mounted guest file system and the disks behind it."""

    mountpoint: str
    name: str
    fstype: str
    dev_aliases: list[str]


class DomainIPAddress(NamedTuple):
    """One address of ``virDomainInterfaceAddresses`` (type 0 IPv4, 1 IPv6)."""

    type: int
    addr: str
    prefix: int


class DomainInterface(NamedTuple):
    """One guest interface of ``virDomainInterfaceAddresses``."""

    name: str | None
    hwaddr: str | None
    addrs: list[DomainIPAddress]


class IOThreadInfo(NamedTuple):
    """One ``virDomainIOThreadInfo``: an IOThread and the host CPUs it may run on."""

    iothread_id: int
    cpumap: tuple[bool, ...]


class SecurityLabel(NamedTuple):
    """``virDomainGetSecurityLabel``: the label and whether it is enforced."""

    label: str
    enforcing: bool


class DomainJobInfo(NamedTuple):
    """``virDomainGetJobInfo``: type, times (ms) and amounts of the domain's current job."""

    type: int
    time_elapsed: int
    time_remaining: int
    data_total: int
    data_processed: int
    data_remaining: int
    mem_total: int
    mem_processed: int
    mem_remaining: int
    file_total: int
    file_processed: int
    file_remaining: int


__all__ += [
    "DomainBlockInfo",
    "DomainBlockStats",
    "DomainControlInfo",
    "DomainFSInfo",
    "DomainIPAddress",
    "DomainInterface",
    "DomainInterfaceStats",
    "DomainJobInfo",
    "DomainTime",
    "IOThreadInfo",
    "SecurityLabel",
    "VcpuInfo",
]


class NetworkDHCPLease(NamedTuple):
    """One lease of ``virNetworkGetDHCPLeases``, in libvirt-python's dictionary keys.

    ``expirytime`` is seconds since the epoch; ``type`` a ``virIPAddrType``.
    """

    iface: str
    expirytime: int
    type: int
    mac: str
    iaid: str | None
    ipaddr: str
    prefix: int
    hostname: str | None
    clientid: str | None


__all__ += ["NetworkDHCPLease"]
