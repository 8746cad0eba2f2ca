"""Statistics calls of the test driver: block, interface, memory and CPU figures, bulk stats.

The figures are libvirt 9.0's test driver's: counters derived from the
clock (microseconds since the epoch divided by fixed factors, "no
significance to these numbers, just enough to mix it up"), a fixed block
size of about 1 TiB, fixed CPU times, and memory statistics computed from
the balloon size when the domain has a memory balloon.

``virConnectGetAllDomainStats`` reports the ``state`` group for every
selected domain and the ``iothread`` group (polling parameters of the
IOThreads added through the API) for running ones; other groups are
accepted and report nothing, except that ``ENFORCE_STATS`` refuses them.

Job information is not part of libvirt's test driver; virtcore follows the
QEMU driver for it: a running domain has no job (``VIR_DOMAIN_JOB_NONE``),
aborting reports that no job is active, and inactive domains are refused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from virtcore.drivers.test.domaincommon import DomainTableBase, check_flags
from virtcore.drivers.test.runtime import GUEST_EPOCH
from virtcore.drivers.test.state import DomainObj
from virtcore.drivers.test.xmlutil import child
from virtcore.enums.connect import ConnectListAllDomainsFlags as ListFlags
from virtcore.enums.domain import DomainState
from virtcore.enums.domain_guest import DomainStatsTypes as Stats
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ArgumentUnsupportedError,
    InvalidArgError,
    OperationInvalidError,
    OperationUnsupportedError,
)

if TYPE_CHECKING:
    from lxml import etree

    from virtcore.connection import Connection
    from virtcore.drivers.test.domainxml import DomainDef
    from virtcore.objects import Domain

__all__ = ["StatsCalls", "find_disk", "find_net"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_DOM = ErrorDomain.DOMAIN
TOTAL_CPU_TIME = 48772617035
_BLOCK_INFO = (1099506450432, 1099511627776, 1099511627776)
_SUPPORTED_STATS = int(Stats.STATE | Stats.IOTHREAD)
_STATS_FILTERS = 0xFF
_STATS_FLAGS = _STATS_FILTERS | (1 << 29) | (1 << 30) | (1 << 31)
_MEMORY_STATS = (
    ("actual", 1, 1),
    ("swap_in", 0, 1),
    ("swap_out", 0, 1),
    ("major_fault", 0, 1),
    ("minor_fault", 0, 1),
    ("unused", 1, 2),
    ("available", 1, 1),
    ("usable", 1, 2),
    ("last_update", -1, 1),
    ("disk_caches", 1, 8),
    ("hugetlb_pgalloc", 0, 1),
    ("hugetlb_pgfail", 0, 1),
    ("rss", 1, 2),
)
_JOB_STATS_COMPLETED = 1
_JOB_STATS_KEEP_COMPLETED = 2


def disk_source(disk: etree._Element) -> str | None:
    """The path (or other name) of a disk's source, None for an empty drive."""
    source = child(disk, "source")
    if source is None:
        return None
    for attr in ("file", "dev", "dir", "name", "volume"):
        if source.get(attr):
            return source.get(attr)
    return None


def find_disk(definition: DomainDef, path: str) -> etree._Element | None:
    """``virDomainDiskByName``: a disk by target name or by source path."""
    disks = [d for d in definition.devices if d.tag == "disk"]
    for disk in disks:
        target = child(disk, "target")
        if target is not None and target.get("dev") == path:
            return disk
    for disk in disks:
        if disk_source(disk) == path:
            return disk
    return None


def _mac(text: str) -> str | None:
    parts = text.split(":")
    if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
        return None
    try:
        return ":".join(f"{int(p, 16):02x}" for p in parts)
    except ValueError:
        return None


def find_net(definition: DomainDef, device: str) -> etree._Element:
    """``virDomainNetFind``: an interface by MAC address or host-side name."""
    mac = _mac(device)
    for net in (d for d in definition.devices if d.tag == "interface"):
        if mac is not None:
            mac_elem = child(net, "mac")
            if mac_elem is not None and mac_elem.get("address") == mac:
                return net
            continue
        target = child(net, "target")
        if target is not None and target.get("dev") == device:
            return net
    raise InvalidArgError(f"'{device}' is not a known interface", domain=_DOM)


class StatsCalls(DomainTableBase):
    """Block, interface, memory, CPU and bulk statistics, block info and job info."""

    def domain_block_stats(
        self, conn: Connection, dom: Domain, path: str
    ) -> tuple[int, int, int, int, int]:
        """(read requests, bytes read, write requests, bytes written, errors) of a disk."""
        if not path:
            raise OperationUnsupportedError(
                "summary statistics are not supported yet", domain=_TEST
            )
        with self.state.lock:
            obj = self._active(dom)
            if find_disk(obj.def_, path) is None:
                raise InvalidArgError(f"invalid path: {path}", domain=_TEST)
        base = self._clock_ns() // 1000
        return base // 10, base // 20, base // 30, base // 40, base // 2_000_000

    def domain_interface_stats(
        self, conn: Connection, dom: Domain, device: str
    ) -> tuple[int, int, int, int, int, int, int, int]:
        """rx bytes, packets, errors, drops, then the same for tx, of an interface."""
        with self.state.lock:
            obj = self._active(dom)
            find_net(obj.def_, device)
        base = self._clock_ns() // 1000
        return (
            base // 10,
            base // 100,
            base // 1_000_000,
            base // 2_000_000,
            base // 20,
            base // 110,
            base // 3_000_000,
            base // 4_000_000,
        )

    def domain_memory_stats(
        self, conn: Connection, dom: Domain, nr_stats: int, flags: int
    ) -> list[tuple[str, int]]:
        """Up to *nr_stats* (name, value) memory statistics; none without a balloon."""
        check_flags(flags, 0, "testDomainMemoryStats")
        with self.state.lock:
            obj = self._active(dom)
            balloon = next((d for d in obj.def_.devices if d.tag == "memballoon"), None)
            if balloon is None or balloon.get("model") == "none":
                return []
            current = obj.def_.current_kib
        out = []
        for name, scale, divisor in _MEMORY_STATS[: max(nr_stats, 0)]:
            value = GUEST_EPOCH if scale < 0 else current * scale // divisor
            out.append((name, value))
        return out

    def domain_get_block_info(
        self, conn: Connection, dom: Domain, path: str, flags: int
    ) -> tuple[int, int, int]:
        """(capacity, allocation, physical) of a disk: fixed sizes of about 1 TiB."""
        check_flags(flags, 0, "testDomainGetBlockInfo")
        with self.state.lock:
            disk = find_disk(self._obj(dom).def_, path)
            if disk is None:
                raise InvalidArgError(f"invalid path {path} not assigned to domain", domain=_TEST)
            if disk_source(disk) is None:
                raise InvalidArgError(
                    f"disk '{path}' does not currently have a source assigned", domain=_TEST
                )
        return _BLOCK_INFO

    def domain_get_cpu_stats(
        self, conn: Connection, dom: Domain, start_cpu: int, ncpus: int, flags: int
    ) -> list[dict[str, int]]:
        """Total CPU time (*start_cpu* -1) or per-CPU times of the node's cores."""
        check_flags(flags, 0x4, "testDomainGetCPUStats")
        with self.state.lock:
            self._active(dom)
            total_cpus = self.state.node.cores
        if start_cpu == -1:
            return [
                {"cpu_time": TOTAL_CPU_TIME, "user_time": 5540000000, "system_time": 6460000000}
            ]
        if start_cpu >= total_cpus:
            raise InvalidArgError(
                f"start_cpu {start_cpu} larger than maximum of {total_cpus - 1}", domain=_TEST
            )
        percpu = TOTAL_CPU_TIME // total_cpus
        return [
            {"cpu_time": percpu + cpu, "vcpu_time": percpu + cpu - 1234567890}
            for cpu in range(start_cpu, min(total_cpus, start_cpu + ncpus))
        ]

    def domain_get_disk_errors(self, conn: Connection, dom: Domain, flags: int) -> dict[str, int]:
        """A made-up error code for every disk (``NO_SPACE`` and ``UNSPEC`` alternately)."""
        check_flags(flags, 0, "testDomainGetDiskErrors")
        with self.state.lock:
            obj = self._active(dom)
            disks = [d for d in obj.def_.devices if d.tag == "disk"]
            out = {}
            for index, disk in enumerate(disks):
                target = child(disk, "target")
                out[target.get("dev", "") if target is not None else ""] = index % 2 + 1
            return out

    # -- bulk statistics ----------------------------------------------------------------

    def connect_get_all_domain_stats(
        self, conn: Connection, doms: list[Domain] | None, stats: int, flags: int
    ) -> list[tuple[Domain, dict[str, Any]]]:
        """The requested statistics groups of *doms* (None: every domain) matching *flags*.

        Serves ``virConnectGetAllDomainStats`` and, with a list of domains,
        ``virDomainListGetStats``, exactly as libvirt's single driver entry does.
        """
        if doms is not None and not doms:
            raise InvalidArgError(
                "doms array in virDomainListGetStats must contain at least one domain",
                domain=_DOM,
            )
        with self.state.lock:
            objs = [self._obj(dom) for dom in doms] if doms is not None else None
            return self._all_stats(conn, objs, stats, flags)

    def _all_stats(
        self, conn: Connection, objs: list[DomainObj] | None, stats: int, flags: int
    ) -> list[tuple[Domain, dict[str, Any]]]:
        check_flags(flags, _STATS_FLAGS, "testConnectGetAllDomainStats")
        wanted = int(stats)
        if flags & (1 << 31):
            unsupported = wanted & ~_SUPPORTED_STATS
            if unsupported:
                raise ArgumentUnsupportedError(
                    f"Stats types bits {unsupported:#x} are not supported by this daemon",
                    domain=_TEST,
                )
        if not wanted:
            wanted = _SUPPORTED_STATS
        candidates = objs if objs is not None else list(self.state)
        out = []
        for obj in candidates:
            if not _stats_filter(obj, int(flags) & _STATS_FILTERS):
                continue
            record: dict[str, Any] = {}
            if wanted & Stats.STATE:
                record["state.state"] = int(obj.state)
                record["state.reason"] = int(obj.reason)
            if wanted & Stats.IOTHREAD and obj.is_active():
                threads = self._runtime(obj).iothreads
                if threads:
                    record["iothread.count"] = len(threads)
                    for thread in threads:
                        prefix = f"iothread.{thread.id}."
                        record[prefix + "poll-max-ns"] = thread.poll_max_ns
                        record[prefix + "poll-grow"] = thread.poll_grow
                        record[prefix + "poll-shrink"] = thread.poll_shrink
            out.append((self._handle(conn, obj), record))
        return out

    # -- jobs (QEMU driver semantics) -----------------------------------------------------

    def domain_get_job_info(self, conn: Connection, dom: Domain) -> tuple[int, ...]:
        """The 12 ``virDomainJobInfo`` fields: no job is ever running."""
        with self.state.lock:
            self._active(dom)
        return (0,) * 12

    def domain_get_job_stats(
        self, conn: Connection, dom: Domain, flags: int
    ) -> tuple[int, dict[str, Any]]:
        """(job type, statistics) of the current or last completed job: there is none."""
        check_flags(
            flags, _JOB_STATS_COMPLETED | _JOB_STATS_KEEP_COMPLETED, "testDomainGetJobStats"
        )
        with self.state.lock:
            obj = self._obj(dom)
            if not flags & _JOB_STATS_COMPLETED and not obj.is_active():
                raise OperationInvalidError("domain is not running", domain=_DOM)
        return 0, {}

    def domain_abort_job(self, conn: Connection, dom: Domain) -> None:
        """Nothing to abort: no job is ever active."""
        with self.state.lock:
            self._active(dom)
        raise OperationInvalidError("no job is active on the domain", domain=_TEST)


def _stats_filter(obj: DomainObj, flags: int) -> bool:
    """The state filters of ``virConnectGetAllDomainStats`` (a subset of the list filters)."""

    def pair(yes: int, no: int, value: bool) -> bool:
        if not flags & (yes | no):
            return True
        return bool((flags & yes and value) or (flags & no and not value))

    if not pair(ListFlags.ACTIVE, ListFlags.INACTIVE, obj.is_active()):
        return False
    if not pair(ListFlags.PERSISTENT, ListFlags.TRANSIENT, obj.persistent):
        return False
    states = ListFlags.RUNNING | ListFlags.PAUSED | ListFlags.SHUTOFF | ListFlags.OTHER
    if not flags & states:
        return True
    known = (DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF)
    return bool(
        (flags & ListFlags.RUNNING and obj.state == DomainState.RUNNING)
        or (flags & ListFlags.PAUSED and obj.state == DomainState.PAUSED)
        or (flags & ListFlags.SHUTOFF and obj.state == DomainState.SHUTOFF)
        or (flags & ListFlags.OTHER and obj.state not in known)
    )
