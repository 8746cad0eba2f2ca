# mypy: ignore-errors
"""Host queries with arguments libvirt refuses, on open, read-only and closed connections.

libvirt-python refuses some arguments itself without calling libvirt
(``getCellsFreeMemory``: the exception then carries the error the thread
recorded last), answers 0 instead of raising for ``getFreeMemory``, and
libvirt checks the others before the driver is asked.
"""

import libvirt
from scriptlib import attempt_str

conn = libvirt.open("test:///default")
attempt_str("cpu stats -2", lambda: conn.getCPUStats(-2, 0))
attempt_str("cpu stats 100", lambda: conn.getCPUStats(100, 0))
attempt_str("memory stats -2", lambda: conn.getMemoryStats(-2, 0))
attempt_str("memory stats flags", lambda: conn.getMemoryStats(0, 1))
attempt_str("cells after a failure", lambda: conn.getCellsFreeMemory(-1, 1))
attempt_str("cells none", lambda: conn.getCellsFreeMemory(0, 0))
attempt_str("cells too many", lambda: conn.getCellsFreeMemory(1, 10000))
attempt_str("cells from 1", lambda: conn.getCellsFreeMemory(1, 5))
attempt_str("cells out of range", lambda: conn.getCellsFreeMemory(10, 5))
libvirt.virResetLastError()
attempt_str("cells with no error", lambda: conn.getCellsFreeMemory(-1, 1))
attempt_str("cpu map", lambda: conn.getCPUMap(0))
attempt_str("cpu map flags", lambda: conn.getCPUMap(1))
attempt_str("security model", conn.getSecurityModel)
attempt_str("domain caps", conn.getDomainCapabilities)
attempt_str("pool caps", lambda: conn.getStoragePoolCapabilities(0))
ro = libvirt.openReadOnly("test:///default")
attempt_str("read-only domain caps", ro.getDomainCapabilities)
attempt_str("read-only pool caps", ro.getStoragePoolCapabilities)
ro.close()
conn.close()
attempt_str("closed cpu stats", lambda: conn.getCPUStats(-2, 0))
attempt_str("closed memory stats", lambda: conn.getMemoryStats(-2, 0))
attempt_str("closed free memory", conn.getFreeMemory)
attempt_str("closed cells", lambda: conn.getCellsFreeMemory(0, 1))
attempt_str("closed cpu map", lambda: conn.getCPUMap(0))
attempt_str("closed security model", conn.getSecurityModel)
attempt_str("closed domain caps", conn.getDomainCapabilities)
attempt_str("closed pool caps", conn.getStoragePoolCapabilities)
