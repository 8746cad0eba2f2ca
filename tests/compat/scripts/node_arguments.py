# mypy: ignore-errors
"""Host queries with arguments libvirt refuses, on open, read-only and closed connections.

libvirt-python refuses some arguments itself without calling libvirt
(``getCellsFreeMemory``: the exception then carries the error the thread
recorded last), answers 0 instead of raising for ``getFreeMemory``, and
libvirt checks the others before the driver is asked.
"""

import libvirt


def attempt(label, call):
    try:
        print(f"{label}: ok {call()!r}")
    except libvirt.libvirtError as e:
        print(f"{label}: error {e.get_error_code()} {e.get_error_domain()} {e}")


conn = libvirt.open("test:///default")
attempt("cpu stats -2", lambda: conn.getCPUStats(-2, 0))
attempt("cpu stats 100", lambda: conn.getCPUStats(100, 0))
attempt("memory stats -2", lambda: conn.getMemoryStats(-2, 0))
attempt("memory stats flags", lambda: conn.getMemoryStats(0, 1))
attempt("cells after a failure", lambda: conn.getCellsFreeMemory(-1, 1))
attempt("cells none", lambda: conn.getCellsFreeMemory(0, 0))
attempt("cells too many", lambda: conn.getCellsFreeMemory(1, 10000))
attempt("cells from 1", lambda: conn.getCellsFreeMemory(1, 5))
attempt("cells out of range", lambda: conn.getCellsFreeMemory(10, 5))
libvirt.virResetLastError()
attempt("cells with no error", lambda: conn.getCellsFreeMemory(-1, 1))
attempt("cpu map", lambda: conn.getCPUMap(0))
attempt("cpu map flags", lambda: conn.getCPUMap(1))
attempt("security model", conn.getSecurityModel)
attempt("domain caps", conn.getDomainCapabilities)
attempt("pool caps", lambda: conn.getStoragePoolCapabilities(0))
ro = libvirt.openReadOnly("test:///default")
attempt("read-only domain caps", ro.getDomainCapabilities)
attempt("read-only pool caps", ro.getStoragePoolCapabilities)
ro.close()
conn.close()
attempt("closed cpu stats", lambda: conn.getCPUStats(-2, 0))
attempt("closed memory stats", lambda: conn.getMemoryStats(-2, 0))
attempt("closed free memory", conn.getFreeMemory)
attempt("closed cells", lambda: conn.getCellsFreeMemory(0, 1))
attempt("closed cpu map", lambda: conn.getCPUMap(0))
attempt("closed security model", conn.getSecurityModel)
attempt("closed domain caps", conn.getDomainCapabilities)
attempt("closed pool caps", conn.getStoragePoolCapabilities)
