"""The domain document (``<domain>``): typed model, libvirt's checks and libvirt's output.

* :class:`Domain` - the model: typed properties over the live tree, plus
  :meth:`Domain.parse` (libvirt's define-time checks and errors) and
  :meth:`Domain.format` (exactly what libvirt 9.0 prints);
* :func:`parse_domain` / :func:`format_domain` - the same as functions;
* :class:`Definition` - the checked definition with its effective values
  (:func:`read_definition` makes one from a ``<domain>`` element);
* the section views (:class:`OS`, :class:`CPU`, :class:`Features`,
  :class:`Clock`, :class:`MemoryBacking`, ...) used by :class:`Domain`.

A driver defines and prints a domain like this::

    from virtcore.enums.domain import DomainXMLFlags
    from virtcore.xml.domain import Domain

    domain = Domain.parse(xml_text)          # libvirt's errors, UUID and MACs stored
    domain.name, domain.uuid, domain.memory  # typed reads from the tree
    domain.definition().vcpus.current        # effective values
    text = domain.format()                   # virDomainGetXMLDesc(0)
    inactive = domain.format(DomainXMLFlags.INACTIVE)

Parsing is untrusted-input safe (no entities, no network, size and depth
limits) and refuses what libvirt 9.0 refuses with libvirt's error code,
error domain and message. Formatting writes libvirt's element order, its
defaults (``<vcpu placement='static'>``, the ``i686`` architecture, boot
from ``hd``, ``<clock offset='utc'/>``, the lifecycle actions) and its
spellings (sizes in KiB, CPU sets as ranges). Devices live in
:mod:`virtcore.xml.domain.devices`; the domain model hands ``<devices>``
to that package.
"""

from __future__ import annotations

from virtcore.xml.domain.checks import Definition, UUIDFactory, new_uuid, read_definition
from virtcore.xml.domain.clock import Clock, Timer
from virtcore.xml.domain.cpu import CPU, CPUFeature, NumaCell, NumaDistance
from virtcore.xml.domain.features import Features, HyperV, KVMFeatures
from virtcore.xml.domain.memory import HugePage, MemoryBacking, MemTune
from virtcore.xml.domain.misc import (
    KeyWrap,
    LaunchSecurity,
    PowerManagement,
    SecLabel,
    SysInfo,
    SysInfoEntry,
)
from virtcore.xml.domain.model import Domain
from virtcore.xml.domain.os import OS, BootDevice, IDMap, InitEnv, Loader
from virtcore.xml.domain.tuning import BlkioDevice, BlkioTune, CPUTune, MemNode, NumaTune, Resource
from virtcore.xml.domain.vcpu import DefaultIOThread, IOThreadID, VcpuInfo

__all__ = [
    "CPU",
    "OS",
    "BlkioDevice",
    "BlkioTune",
    "BootDevice",
    "CPUFeature",
    "CPUTune",
    "Clock",
    "DefaultIOThread",
    "Definition",
    "Domain",
    "Features",
    "HugePage",
    "HyperV",
    "IDMap",
    "IOThreadID",
    "InitEnv",
    "KVMFeatures",
    "KeyWrap",
    "LaunchSecurity",
    "Loader",
    "MemNode",
    "MemTune",
    "MemoryBacking",
    "NumaCell",
    "NumaDistance",
    "NumaTune",
    "PowerManagement",
    "Resource",
    "SecLabel",
    "SysInfo",
    "SysInfoEntry",
    "Timer",
    "UUIDFactory",
    "VcpuInfo",
    "format_domain",
    "new_uuid",
    "parse_domain",
    "read_definition",
]


def parse_domain(text: str | bytes, *, uuid_factory: UUIDFactory = new_uuid) -> Domain:
    """:meth:`Domain.parse`: a checked domain document (libvirt's define)."""
    return Domain.parse(text, uuid_factory=uuid_factory)


def format_domain(
    text: str | bytes, flags: int = 0, *, uuid_factory: UUIDFactory = new_uuid
) -> str:
    """Define *text* and return what libvirt prints for it (define + dumpxml)."""
    return Domain.parse(text, uuid_factory=uuid_factory).format(flags)
