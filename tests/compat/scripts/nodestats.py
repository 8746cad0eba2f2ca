# mypy: ignore-errors
"""Host statistics: CPU times for every cpuNum form, free memory per cell, unsupported calls."""

import libvirt

conn = libvirt.open("test:///default")
for cpu in (libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0, 3, 64):
    print("cpu stats", cpu, conn.getCPUStats(cpu))
print("keys in order", list(conn.getCPUStats(-1)))
for cpu, flags in ((-2, 0), (0, 1)):
    try:
        conn.getCPUStats(cpu, flags)
    except libvirt.libvirtError as e:
        print("cpu stats refused", cpu, flags, e.get_error_code(), e.get_error_domain(), str(e))
print("free", conn.getFreeMemory(), "cells", conn.getCellsFreeMemory(0, 10))
for call in (lambda: conn.getMemoryStats(-1), conn.getDomainCapabilities):
    try:
        call()
    except libvirt.libvirtError as e:
        print("unsupported", e.get_error_code(), e.get_error_domain(), str(e))
ro = libvirt.openReadOnly("test:///default")
print("read-only cpu stats", ro.getCPUStats(-1))
ro.close()
conn.close()
