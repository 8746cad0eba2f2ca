"""``virDomain`` statistics and guest queries whose results libvirt-python reshapes.

Drivers return plain sequences (see :mod:`virtcore.results` for their
fields); libvirt-python's C binding turns them into dictionaries and lists of
its own shape, reproduced here exactly, key order included:

* ``getCPUStats`` - a list of dictionaries (one for the total, else one per
  host CPU); ``memoryStats`` - ``{"actual": ..., "rss": ...}``;
  ``jobStats`` - the statistics plus ``"type"``;
* ``interfaceAddresses`` - ``{name: {"addrs": [{"addr", "prefix", "type"}]
  or None, "hwaddr": mac}}``; ``fsInfo`` - ``[(mountpoint, name, type,
  [aliases])]``; ``getTime`` - ``{"seconds", "nseconds"}``;
  ``securityLabel`` - ``[label, enforcing as bool]``.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from virtcore.libvirt._base import Wrapped, status
from virtcore.libvirt._convert import (
    MEMORY_STAT_NR,
    STRING_OKAY,
    check_keycodes,
    time_args,
)
from virtcore.libvirt._errors import libvirtError

__all__ = ["DomainStatsCalls"]

_ALL_CPUS = 1 << 16
"""More host CPUs than any driver reports: asks for the statistics of all of them."""


class DomainStatsCalls(Wrapped):
    """``virDomain`` methods returning statistics and guest information."""

    __slots__ = ()

    def getCPUStats(self, total: bool, flags: int = 0) -> list[dict[str, Any]]:
        """Extracts CPU statistics for a running domain (``virDomainGetCPUStats``).

        With *total* true, one dictionary for the whole domain; otherwise one
        per host CPU, CPU 0 first.
        """
        start, count = (-1, 1) if total else (0, _ALL_CPUS)
        found = self._call(
            "domain_get_cpu_stats", "virDomainGetCPUStats", start, count, flags | STRING_OKAY
        )
        return list(found)

    def memoryStats(self) -> dict[str, int]:
        """Extracts memory statistics for a domain (``virDomainMemoryStats``)."""
        pairs = self._call("domain_memory_stats", "virDomainMemoryStats", MEMORY_STAT_NR, 0)
        return dict(pairs)

    def blockStatsFlags(self, path: str, flags: int = 0) -> dict[str, Any]:
        """Extracts block device statistics parameters of a running domain
        (``virDomainBlockStatsFlags``).
        """
        return dict(
            self._call(
                "domain_block_stats_flags", "virDomainBlockStatsFlags", path, flags | STRING_OKAY
            )
        )

    def jobStats(self, flags: int = 0) -> dict[str, Any]:
        """Statistics of the current (or last completed) job, with its ``"type"``
        (``virDomainGetJobStats``).
        """
        job_type, params = self._call("domain_get_job_stats", "virDomainGetJobStats", flags)
        stats = dict(params)
        stats["type"] = int(job_type)
        return stats

    def interfaceAddresses(self, source: int, flags: int = 0) -> dict[str, Any]:
        """Returns a dictionary of domain interfaces along with their MAC and IP addresses
        (``virDomainInterfaceAddresses``).
        """
        # Asking the guest agent (source 1) needs a read-write connection, as in libvirt.
        found = self._call(
            "domain_interface_addresses",
            "virDomainInterfaceAddresses",
            source,
            flags,
            write=source == 1,
        )
        out: dict[str, Any] = {}
        for name, hwaddr, addrs in found:
            listed = [
                {"addr": addr, "prefix": int(prefix), "type": int(kind)}
                for kind, addr, prefix in addrs
            ]
            # libvirt-python reports an interface without addresses as None, not [].
            out[name] = {"addrs": listed or None, "hwaddr": hwaddr}
        return out

    def fsInfo(self, flags: int = 0) -> list[tuple[str, str, str, list[str]]]:
        """Get a list of mapping information for each mounted file systems within the specified
        guest and the disks (``virDomainGetFSInfo``).
        """
        found = self._call("domain_get_fs_info", "virDomainGetFSInfo", flags, write=True)
        return [(mount, name, kind, list(aliases)) for mount, name, kind, aliases in found]

    def getTime(self, flags: int = 0) -> dict[str, int]:
        """Extract information about guest time (``virDomainGetTime``)."""
        seconds, nseconds = self._call("domain_get_time", "virDomainGetTime", flags, write=True)
        return {"seconds": int(seconds), "nseconds": int(nseconds)}

    def setTime(self, time: dict[str, int] | None = None, flags: int = 0) -> int:
        """Set guest time to ``{"seconds": s, "nseconds": ns}``, or with
        ``VIR_DOMAIN_TIME_SYNC`` and no time from the host clock (``virDomainSetTime``).
        """
        seconds, nseconds = time_args(time, flags)
        return status(
            self._call("domain_set_time", "virDomainSetTime", seconds, nseconds, flags, write=True)
        )

    def securityLabel(self) -> list[Any]:
        """``[label, enforcing]`` (``virDomainGetSecurityLabel``)."""
        label, enforcing = self._call("domain_get_security_label", "virDomainGetSecurityLabel")
        return [label, bool(enforcing)]

    def sendKey(
        self, codeset: int, holdtime: int, keycodes: list[int], nkeycodes: int, flags: int = 0
    ) -> int:
        """Send key(s) to the guest (``virDomainSendKey``).

        *keycodes* must be a list of exactly *nkeycodes* (at most 16) codes;
        otherwise the call fails before reaching the driver, as in libvirt-python.
        """
        codes = check_keycodes(keycodes, nkeycodes)
        if codes is None:
            # libvirt-python gives up without calling libvirt: the exception carries
            # whatever error the thread last recorded.
            raise libvirtError("virDomainSendKey() failed")
        return status(
            self._call(
                "domain_send_key",
                "virDomainSendKey",
                codeset,
                holdtime,
                codes,
                flags,
                write=True,
            )
        )
