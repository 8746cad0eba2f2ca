"""Named result types returned by the native API.

Each is a ``NamedTuple``, so it still unpacks and compares like the plain lists
and tuples libvirt-python returns (``state, reason = dom.state()``).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "DomainInfo",
    "DomainStateInfo",
    "NodeInfo",
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
