"""Host calls the command line needs that :class:`~virtcore.connection.Connection` lacks.

virsh's ``freecell``, ``nodememstats``, ``nodecpustats``,
``domcapabilities`` and ``vcpuinfo --pretty`` use node-level libvirt APIs
(``virNodeGetCellsFreeMemory``, ``virNodeGetFreeMemory``,
``virNodeGetCPUStats``, ``virNodeGetMemoryStats``,
``virConnectGetDomainCapabilities``, ``virNodeGetCPUMap``,
``virNodeGetSecurityModel``) that the native connection does not expose as
methods yet. Each function here calls the connection's public method when it
has one and otherwise dispatches through the connection's driver seam with
the libvirt API name, so read-only, closed-connection and NO_SUPPORT rules
are the connection's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = [
    "domain_capabilities",
    "node_cells_free_memory",
    "node_cpu_map",
    "node_cpu_stats",
    "node_free_memory",
    "node_memory_stats",
    "node_security_model",
]


def _call(conn: Connection, public: str, method: str, api: str, *args: Any) -> Any:
    func = getattr(conn, public, None)
    if callable(func):
        return func(*args)
    return conn._invoke("hypervisor", method, api, *args)


def node_free_memory(conn: Connection) -> int:
    """Free host memory in bytes (``virNodeGetFreeMemory``)."""
    return int(_call(conn, "get_free_memory", "node_get_free_memory", "virNodeGetFreeMemory"))


def node_cells_free_memory(conn: Connection, start: int, count: int) -> list[int]:
    """Free memory in bytes of NUMA cells ``start`` .. ``start+count-1``."""
    # libvirt's public entry point validates these before reaching the driver.
    if start < 0:
        raise VirtError(
            code=ErrorNumber.INVALID_ARG,
            message="startCell in virNodeGetCellsFreeMemory must be zero or greater",
        )
    if count <= 0:
        raise VirtError(
            code=ErrorNumber.INVALID_ARG,
            message="maxCells in virNodeGetCellsFreeMemory must be greater than zero",
        )
    return [
        int(v)
        for v in _call(
            conn,
            "get_cells_free_memory",
            "node_get_cells_free_memory",
            "virNodeGetCellsFreeMemory",
            start,
            count,
        )
    ]


def node_cpu_stats(conn: Connection, cpu: int, flags: int = 0) -> dict[str, int]:
    """Host CPU time counters in ns, one CPU or all (-1) (``virNodeGetCPUStats``)."""
    return dict(
        _call(conn, "get_cpu_stats", "node_get_cpu_stats", "virNodeGetCPUStats", cpu, flags)
    )


def node_memory_stats(conn: Connection, cell: int, flags: int = 0) -> dict[str, int]:
    """Host memory figures in KiB, one cell or all (-1) (``virNodeGetMemoryStats``)."""
    return dict(
        _call(
            conn, "get_memory_stats", "node_get_memory_stats", "virNodeGetMemoryStats", cell, flags
        )
    )


def node_cpu_map(conn: Connection) -> tuple[int, bytes, int]:
    """Host CPU count, online map and online count (``virNodeGetCPUMap``)."""
    count, cpumap, online = _call(conn, "get_cpu_map", "node_get_cpu_map", "virNodeGetCPUMap", 0)
    return int(count), bytes(cpumap), int(online)


def node_security_model(conn: Connection) -> tuple[str, str]:
    """The host's security model and DOI (``virNodeGetSecurityModel``)."""
    model, doi = _call(
        conn, "get_security_model", "node_get_security_model", "virNodeGetSecurityModel"
    )
    return str(model or ""), str(doi or "")


def domain_capabilities(
    conn: Connection,
    *,
    emulatorbin: str | None,
    arch: str | None,
    machine: str | None,
    virttype: str | None,
    flags: int = 0,
) -> str:
    """Domain capabilities XML (``virConnectGetDomainCapabilities``)."""
    result = _call(
        conn,
        "get_domain_capabilities",
        "connect_get_domain_capabilities",
        "virConnectGetDomainCapabilities",
        emulatorbin,
        arch,
        machine,
        virttype,
        flags,
    )
    return str(result)
