"""Statistics and the memory balloon of running QEMU guests.

* ``virDomainBlockStats``: ``query-blockstats`` of the disk named by target
  (``vda``) or source path; the empty path sums every disk. QEMU counts no
  errors per device, so ``errs`` is -1, as libvirt reports it.
* ``virDomainInterfaceStats``: the host side of the interface's tap device
  (``/proc/net/dev``), received and transmitted swapped to the guest's view,
  as libvirt does.
* ``virDomainMemoryStats``: the balloon's ``actual`` size (``query-balloon``),
  the guest's own counters when its balloon driver reports them
  (``guest-stats``), and QEMU's resident set size from ``/proc``.
* ``virDomainSetMemoryFlags``: the balloon target of a running guest
  (``balloon``) and/or ``<currentMemory>`` of the persistent definition;
  ``MEM_MAXIMUM`` changes ``<memory>`` of the persistent definition only.

Errors follow libvirt's qemu driver ("invalid path: ...", "cannot set memory
higher than max memory", ...).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from virtcore.driver import HypervisorDriver
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InvalidArgError,
    OperationFailedError,
    OperationInvalidError,
    VirtError,
)
from virtcore.objects import Domain
from virtcore_qemu.domobj import DomainObj
from virtcore_qemu.lifecycle import check_flags
from virtcore_qemu.qmp import QMPClient

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore_qemu.state import QemuDriver

__all__ = ["StatsCalls"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
_AFFECT_LIVE = 0x1
_AFFECT_CONFIG = 0x2
_MEM_MAXIMUM = 0x4

# guest-stats keys and libvirt-python's names for them.
_GUEST_STATS = (
    ("stat-swap-in", "swap_in"),
    ("stat-swap-out", "swap_out"),
    ("stat-major-faults", "major_fault"),
    ("stat-minor-faults", "minor_fault"),
    ("stat-free-memory", "unused"),
    ("stat-total-memory", "available"),
    ("stat-available-memory", "usable"),
    ("stat-disk-caches", "disk_caches"),
    ("stat-htlb-pgalloc", "hugetlb_pgalloc"),
    ("stat-htlb-pgfail", "hugetlb_pgfail"),
)
_BYTE_STATS = frozenset({"unused", "available", "usable", "disk_caches"})


class StatsCalls(HypervisorDriver):
    """Statistics and balloon methods of the QEMU hypervisor table."""

    driver: QemuDriver

    def _obj(self, dom: Domain) -> DomainObj:
        raise NotImplementedError  # provided by the table class

    def _live_monitor(self, obj: DomainObj) -> QMPClient:
        obj.check_active()
        client = obj.monitor
        if client is None or client.closed:
            raise OperationFailedError("domain is no longer running", domain=_QEMU)
        return client

    # -- block and interface ----------------------------------------------------------

    def domain_block_stats(
        self, conn: Connection, dom: Domain, path: str
    ) -> tuple[int, int, int, int, int]:
        """Read/write requests and bytes of one disk (or all, for an empty path)."""
        obj = self._obj(dom)
        monitor = self._live_monitor(obj)
        assert obj.live is not None
        wanted = None if not path else self._disk_source(obj, path)
        sources_by_qdev: dict[str, str] = {}
        for entry in monitor.execute("query-block") or []:
            inserted = entry.get("inserted") or {}
            source = str(inserted.get("file", ""))
            image = inserted.get("image") or {}
            sources_by_qdev[str(entry.get("qdev", ""))] = str(image.get("filename", source))
        totals = [0, 0, 0, 0]
        found = False
        for entry in monitor.execute("query-blockstats") or []:
            qdev = str(entry.get("qdev", ""))
            if wanted is not None and sources_by_qdev.get(qdev) != wanted:
                continue
            stats = entry.get("stats") or {}
            found = True
            for i, key in enumerate(("rd_operations", "rd_bytes", "wr_operations", "wr_bytes")):
                totals[i] += int(stats.get(key, 0))
        if wanted is not None and not found:
            raise OperationInvalidError(f"cannot find statistics for device '{path}'", domain=_QEMU)
        return totals[0], totals[1], totals[2], totals[3], -1

    def _disk_source(self, obj: DomainObj, path: str) -> str:
        """The source path QEMU knows for the disk named by target or source *path*."""
        assert obj.live is not None
        for disk in obj.live.devices.disks:
            source = disk.source_file or disk.source_dev
            if disk.type == "volume" and disk.source_pool and disk.source_volume:
                vol = obj.volumes.get((str(disk.source_pool), str(disk.source_volume)))
                source = vol.path if vol is not None else None
            if path in (disk.target_dev, source) and source:
                return str(source)
        raise InvalidArgError(f"invalid path: {path}", domain=_QEMU)

    def domain_interface_stats(
        self, conn: Connection, dom: Domain, device: str
    ) -> tuple[int, int, int, int, int, int, int, int]:
        """Traffic counters of an interface's tap device, from the guest's point of view."""
        obj = self._obj(dom)
        with obj.lock:
            obj.check_active()
            assert obj.live is not None
            ifname = None
            for net in obj.live.devices.interfaces:
                if device in (net.target_dev, net.mac_address) and net.target_dev:
                    ifname = str(net.target_dev)
                    break
        if ifname is None:
            raise InvalidArgError(
                f"invalid path, '{device}' is not a known interface", domain=_QEMU
            )
        counters = _proc_net_dev(ifname)
        rx_bytes, rx_packets, rx_errs, rx_drop = counters[0], counters[1], counters[2], counters[3]
        tx_bytes, tx_packets, tx_errs, tx_drop = (
            counters[8],
            counters[9],
            counters[10],
            counters[11],
        )
        # The host's transmit is the guest's receive.
        return (tx_bytes, tx_packets, tx_errs, tx_drop, rx_bytes, rx_packets, rx_errs, rx_drop)

    # -- memory -----------------------------------------------------------------------

    def domain_memory_stats(
        self, conn: Connection, dom: Domain, nr_stats: int, flags: int
    ) -> list[tuple[str, int]]:
        """Balloon size, the guest's counters when reported, and QEMU's RSS (KiB)."""
        check_flags(flags, 0, "qemuDomainMemoryStats")
        obj = self._obj(dom)
        monitor = self._live_monitor(obj)
        result: list[tuple[str, int]] = []
        try:
            balloon = monitor.execute("query-balloon") or {}
            result.append(("actual", int(balloon.get("actual", 0)) // 1024))
            result.extend(_guest_stats(monitor))
        except VirtError as exc:
            log.debug("no balloon statistics for '%s': %s", obj.name, exc)
        result.append(("rss", _rss_kib(obj.pid)))
        return result[: max(nr_stats, 0)]

    def domain_set_memory_flags(
        self, conn: Connection, dom: Domain, memory: int, flags: int
    ) -> None:
        """Set the balloon target (live) and/or the current or maximum memory (config)."""
        check_flags(flags, _AFFECT_LIVE | _AFFECT_CONFIG | _MEM_MAXIMUM, "qemuDomainSetMemoryFlags")
        obj = self._obj(dom)
        with obj.job():
            live = bool(flags & _AFFECT_LIVE) or (
                not flags & (_AFFECT_LIVE | _AFFECT_CONFIG) and obj.is_active()
            )
            config = bool(flags & _AFFECT_CONFIG) or (
                not flags & (_AFFECT_LIVE | _AFFECT_CONFIG) and not obj.is_active()
            )
            if live:
                obj.check_active()
            if config and not obj.persistent:
                raise OperationInvalidError(
                    "cannot change persistent config of a transient domain", domain=_QEMU
                )
            if flags & _MEM_MAXIMUM:
                self._set_max_memory(obj, memory, live=live)
                return
            for target in ([obj.live] if live else []) + ([obj.config] if config else []):
                assert target is not None
                if memory > int(target.definition().memory.total):
                    raise InvalidArgError("cannot set memory higher than max memory", domain=_QEMU)
            if live:
                self._balloon(obj, memory)
            if config:
                assert obj.config is not None
                obj.config.current_memory = memory
                self.driver.save_config(obj)

    def _set_max_memory(self, obj: DomainObj, memory: int, *, live: bool) -> None:
        if live:
            raise OperationInvalidError(
                "cannot resize the maximum memory on an active domain", domain=_QEMU
            )
        assert obj.config is not None
        obj.config.memory = memory
        if int(obj.config.definition().memory.current) > memory:
            obj.config.current_memory = memory
        self.driver.save_config(obj)

    def _balloon(self, obj: DomainObj, memory: int) -> None:
        assert obj.live is not None
        balloons = list(obj.live.devices.memballoons)
        if not balloons or all(b.model == "none" for b in balloons):
            raise OperationInvalidError(
                "Unable to change memory of active domain without the balloon device "
                "and guest OS balloon driver",
                domain=_QEMU,
            )
        monitor = self._live_monitor(obj)
        monitor.execute("balloon", {"value": memory * 1024})
        self.driver.save_status(obj)


def _guest_stats(monitor: QMPClient) -> list[tuple[str, int]]:
    """The guest's balloon statistics (``guest-stats``), when its driver reports them."""
    path = _balloon_path(monitor)
    if path is None:
        return []
    data: dict[str, Any] = monitor.execute("qom-get", {"path": path, "property": "guest-stats"})
    stats = data.get("stats") or {}
    out: list[tuple[str, int]] = []
    for key, name in _GUEST_STATS:
        value = int(stats.get(key, -1))
        # QEMU reports a counter the guest never filled in as -1 or as 2**64 - 1.
        if 0 <= value < 1 << 63:
            out.append((name, value // 1024 if name in _BYTE_STATS else value))
    out.append(("last_update", int(data.get("last-update", 0))))
    return out


def _balloon_path(monitor: QMPClient) -> str | None:
    for entry in monitor.execute("qom-list", {"path": "/machine/peripheral"}) or []:
        if str(entry.get("type", "")).startswith("child<virtio-balloon"):
            return f"/machine/peripheral/{entry['name']}"
    return None


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _proc_net_dev(ifname: str) -> list[int]:
    try:
        with open("/proc/net/dev", encoding="ascii") as fh:
            for line in fh:
                name, sep, rest = line.partition(":")
                if sep and name.strip() == ifname:
                    return [int(v) for v in rest.split()]
    except OSError:
        pass
    raise InvalidArgError(f"invalid path, '{ifname}' is not a known interface", domain=_QEMU)
