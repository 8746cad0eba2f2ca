"""Virtual CPUs and IOThreads: ``<vcpu>``, ``<vcpus>``, ``<iothreads>``, ``<iothreadids>``.

Views (:class:`VcpuInfo`, :class:`IOThreadID`, :class:`DefaultIOThread`)
give typed access to the live tree; :func:`read_vcpus` and
:func:`read_iothreads` read these parts as libvirt 9.0 does, with its
checks and errors, and the ``emit_*`` functions write libvirt's form:

* ``<vcpu placement='static|auto' cpuset=... current=...>N</vcpu>`` - the
  placement is always written, ``cpuset`` only for static placement,
  ``current`` only when some vCPUs are offline;
* ``<vcpus>`` lists every vCPU once any is described individually; a vCPU
  without ``hotpluggable`` is hot-pluggable exactly when it is offline;
* IOThread ids missing from ``<iothreadids>`` are filled in from 1 upwards
  and ``<iothreadids>`` is only written when some id was given explicitly
  or carries a thread pool setting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.xml import units
from virtcore.xml.builder import INT, UINT, YESNO, XMLNode, XMLProperty
from virtcore.xml.childindex import children_by_name
from virtcore.xml.domain.common import (
    Grouped,
    attr_bool,
    attr_enum,
    attr_uint,
    children,
    format_bitmap,
    group_children,
    invalid_attr,
    parse_cpuset,
    read_uint,
    string_value,
    sub,
    unsupported,
    xml_error,
    yes_no,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "DefaultIOThread",
    "IOThreadID",
    "IOThreadInfo",
    "VcpuInfo",
    "Vcpus",
    "emit_iothreads",
    "emit_vcpus",
    "read_iothreads",
    "read_vcpus",
]

logger = logging.getLogger(__name__)

PLACEMENTS = ("static", "auto")


# -- views -----------------------------------------------------------------------------


class VcpuInfo(XMLNode):
    """One ``<vcpus><vcpu id= enabled= hotpluggable= order=/>``."""

    TAG = "vcpu"

    id = XMLProperty("./@id", UINT)
    enabled = XMLProperty("./@enabled", YESNO)
    hotpluggable = XMLProperty("./@hotpluggable", YESNO)
    order = XMLProperty("./@order", UINT)


class IOThreadID(XMLNode):
    """One ``<iothreadids><iothread id= thread_pool_min= thread_pool_max=/>``."""

    TAG = "iothread"

    id = XMLProperty("./@id", UINT)
    thread_pool_min = XMLProperty("./@thread_pool_min", INT)
    thread_pool_max = XMLProperty("./@thread_pool_max", INT)


class DefaultIOThread(XMLNode):
    """``<defaultiothread thread_pool_min= thread_pool_max=/>``."""

    TAG = "defaultiothread"

    thread_pool_min = XMLProperty("./@thread_pool_min", INT)
    thread_pool_max = XMLProperty("./@thread_pool_max", INT)


# -- vCPUs -----------------------------------------------------------------------------


@dataclass
class Vcpu:
    """One vCPU as libvirt holds it."""

    online: bool = True
    hotpluggable: bool | None = None
    order: int = 0
    pin: frozenset[int] | None = None
    sched: tuple[str, int | None] | None = None


@dataclass
class Vcpus:
    """The ``<vcpu>``/``<vcpus>`` part of a domain."""

    placement: str = "static"
    placement_given: bool = False
    cpumask: frozenset[int] | None = None
    vcpus: list[Vcpu] = field(default_factory=list)
    individual: bool = False

    @property
    def maximum(self) -> int:
        """The maximum number of vCPUs."""
        return len(self.vcpus)

    @property
    def current(self) -> int:
        """The number of online vCPUs."""
        return sum(1 for vcpu in self.vcpus if vcpu.online)


def read_vcpus(root: etree._Element, index: Grouped | None = None) -> Vcpus:
    """``virDomainVcpuParse`` and ``virDomainDefParseVcpus``: the vCPU counts and masks.

    *index* is :func:`~virtcore.xml.childindex.children_by_name` of *root*, when known.
    """
    if index is None:
        index = children_by_name(root)
    found = index.get("vcpu")
    maximum = 1
    current: int | None = None
    placement: str | None = None
    cpumask: frozenset[int] | None = None
    if found is not None:
        vcpu = found[0]
        try:
            maximum = read_uint(string_value(vcpu))
        except ValueError:
            raise xml_error("maximum vcpus count must be an integer") from None
        if vcpu.get("current") is not None:
            current = attr_uint(vcpu, "current")
        placement = vcpu.get("placement")
        if placement is not None and placement not in PLACEMENTS:
            placement = attr_enum(vcpu, "placement", PLACEMENTS)  # raises libvirt's error
        cpuset = vcpu.get("cpuset") if placement != "auto" else None
        if cpuset is not None:
            cpumask = parse_cpuset(cpuset)
    if current is None:
        current = maximum
    if maximum < current:
        raise unsupported("maximum vCPU count must not be less than current vCPU count")
    # The record made once its parts are known (a placement written is kept as given).
    info = Vcpus(
        placement or "static",
        placement is not None,
        cpumask,
        [Vcpu(i < current) for i in range(maximum)],
    )
    if "vcpus" in index:
        _read_individual(root, info)
    return info


def _read_individual(root: etree._Element, info: Vcpus) -> None:
    entries = children(root, "vcpus/vcpu")
    if not entries:
        return
    info.individual = True
    for vcpu in info.vcpus:
        vcpu.online = False
    for entry in entries:
        ident = attr_uint(entry, "id", required=True)
        assert ident is not None
        if ident >= info.maximum:
            raise xml_error(f"vcpu id '{ident}' is out of range of maximum vcpu count")
        target = info.vcpus[ident]
        target.online = bool(attr_bool(entry, "enabled", required=True))
        target.hotpluggable = attr_bool(entry, "hotpluggable")
        target.order = attr_uint(entry, "order") or 0


def finish_vcpus(info: Vcpus) -> None:
    """Post-parse: every individually described vCPU gets its hotplug flag."""
    if not info.individual:
        return
    for index, vcpu in enumerate(info.vcpus):
        if vcpu.hotpluggable is None:
            vcpu.hotpluggable = not vcpu.online
        elif not vcpu.online and not vcpu.hotpluggable:
            raise unsupported(f"vcpu '{index}' is both offline and not hotpluggable")


def emit_vcpus(info: Vcpus, out: OutNode) -> None:
    """``<vcpu>`` and, for individually described vCPUs, ``<vcpus>``."""
    cpuset = None
    if info.cpumask is not None and info.placement == "static":
        cpuset = format_bitmap(info.cpumask)
    current = None  # written only when some vCPUs are offline
    for vcpu in info.vcpus:
        if not vcpu.online:
            current = info.current
            break
    sub(
        out,
        "vcpu",
        [("placement", info.placement), ("cpuset", cpuset), ("current", current)],
        info.maximum,
    )
    if not info.individual:
        return
    vcpus = sub(out, "vcpus")
    for index, vcpu in enumerate(info.vcpus):
        sub(
            vcpus,
            "vcpu",
            [
                ("id", index),
                ("enabled", "yes" if vcpu.online else "no"),
                ("hotpluggable", yes_no(vcpu.hotpluggable)),
                ("order", vcpu.order or None),
            ],
        )


# -- IOThreads -------------------------------------------------------------------------


@dataclass
class IOThread:
    """One IOThread as libvirt holds it."""

    id: int
    autofill: bool = False
    pool_min: int = -1
    pool_max: int = -1
    pin: frozenset[int] | None = None
    sched: tuple[str, int | None] | None = None


@dataclass
class IOThreadInfo:
    """The ``<iothreads>``, ``<iothreadids>`` and ``<defaultiothread>`` part."""

    threads: list[IOThread] = field(default_factory=list)
    default: tuple[int, int] | None = None

    def find(self, ident: int) -> IOThread | None:
        """The IOThread with id *ident*, if any."""
        return next((t for t in self.threads if t.id == ident), None)


def _pool_value(element: etree._Element, name: str) -> int:
    value = element.get(name)
    if value is None:
        return -1
    try:
        number = units.parse_int(value)
    except ValueError:
        raise invalid_attr(element, name, value, "integer value") from None
    if number < 0:
        raise invalid_attr(element, name, value, "non-negative value")
    return number


def _check_pool(pool_min: int, pool_max: int) -> None:
    if pool_max == 0:
        raise unsupported("thread_pool_max must be a positive integer")
    if pool_min >= 0 and pool_min > pool_max:
        raise unsupported("thread_pool_min must be smaller or equal to thread_pool_max")


def read_iothreads(root: etree._Element) -> IOThreadInfo:
    """``virDomainDefParseIOThreads``: the IOThread count, ids and thread pools."""
    info = IOThreadInfo()
    count = 0
    index = children_by_name(root)
    found = index.get("iothreads")
    text = string_value(found[0]) if found is not None else ""
    if text:
        try:
            count = read_uint(text)
        except ValueError:
            raise xml_error(f"invalid iothreads count '{text}'") from None
    found = index.get("defaultiothread")
    if found is not None:
        default = found[0]
        info.default = (
            _pool_value(default, "thread_pool_min"),
            _pool_value(default, "thread_pool_max"),
        )
    ids = index.get("iothreadids")
    for entry in group_children(ids).get("iothread", ()) if ids is not None else ():
        ident = attr_uint(entry, "id", required=True, nonzero=True)
        assert ident is not None
        thread = IOThread(ident, pool_min=_pool_value(entry, "thread_pool_min"))
        thread.pool_max = _pool_value(entry, "thread_pool_max")
        if info.find(ident) is not None:
            raise xml_error(f"duplicate iothread id '{ident}' found")
        info.threads.append(thread)
    if len(info.threads) >= count:
        return info
    used = {t.id for t in info.threads}
    candidate = 1
    while len(info.threads) < count:
        if candidate not in used:
            info.threads.append(IOThread(candidate, autofill=True))
        candidate += 1
    return info


def validate_iothreads(info: IOThreadInfo) -> None:
    """The thread pool sizes of the IOThreads, then of the default IOThread."""
    for thread in info.threads:
        _check_pool(thread.pool_min, thread.pool_max)
    if info.default is not None:
        _check_pool(*info.default)


def emit_iothreads(info: IOThreadInfo, out: OutNode) -> None:
    """``<iothreads>``, ``<iothreadids>`` and ``<defaultiothread>``."""
    threads = info.threads
    if threads:
        sub(out, "iothreads", text=len(threads))
        if any(not t.autofill or t.pool_min >= 0 or t.pool_max >= 0 for t in threads):
            ids = sub(out, "iothreadids")
            for thread in threads:
                sub(
                    ids,
                    "iothread",
                    [
                        ("id", thread.id),
                        ("thread_pool_min", thread.pool_min if thread.pool_min >= 0 else None),
                        ("thread_pool_max", thread.pool_max if thread.pool_max >= 0 else None),
                    ],
                )
    if info.default is not None and (info.default[0] >= 0 or info.default[1] >= 0):
        low, high = info.default
        sub(
            out,
            "defaultiothread",
            [
                ("thread_pool_min", low if low >= 0 else None),
                ("thread_pool_max", high if high >= 0 else None),
            ],
        )
