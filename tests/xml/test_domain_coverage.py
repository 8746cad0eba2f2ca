"""Every modelled property of the domain views is exercised by the recorded documents.

For each view class, the elements it describes are collected from all golden
inputs (tests/data/xml/domain) and every descriptor is read on them; a
property that never yields a value means the corpus does not exercise it
(or its XPath is wrong), and this test names it.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from tests.xml.domain_goldens import NAMES, source
from virtcore.xml.builder import ChildList, XMLFlag, XMLNode
from virtcore.xml.domain import (
    CPU,
    OS,
    BlkioDevice,
    BlkioTune,
    BootDevice,
    Clock,
    CPUFeature,
    CPUTune,
    DefaultIOThread,
    Domain,
    Features,
    HugePage,
    HyperV,
    IDMap,
    InitEnv,
    IOThreadID,
    KeyWrap,
    KVMFeatures,
    LaunchSecurity,
    Loader,
    MemNode,
    MemoryBacking,
    MemTune,
    NumaCell,
    NumaDistance,
    NumaTune,
    PowerManagement,
    Resource,
    SecLabel,
    SysInfo,
    SysInfoEntry,
    Timer,
    VcpuInfo,
)
from virtcore.xml.domain.os import IDMapEntry, InitArg
from virtcore.xml.domain.tuning import VcpuPin
from virtcore.xml.node import _Descriptor

VIEWS: tuple[tuple[type[XMLNode], str], ...] = (
    (Domain, "."),
    (OS, "./os"),
    (Loader, "./os/loader"),
    (BootDevice, "./os/boot"),
    (InitEnv, "./os/initenv"),
    (InitArg, "./os/initarg"),
    (IDMap, "./idmap"),
    (IDMapEntry, "./idmap/uid"),
    (CPU, "./cpu"),
    (CPUFeature, "./cpu/feature"),
    (NumaCell, "./cpu/numa/cell"),
    (NumaDistance, "./cpu/numa/cell/distances/sibling"),
    (Features, "./features"),
    (HyperV, "./features/hyperv"),
    (KVMFeatures, "./features/kvm"),
    (Clock, "./clock"),
    (Timer, "./clock/timer"),
    (MemoryBacking, "./memoryBacking"),
    (HugePage, "./memoryBacking/hugepages/page"),
    (MemTune, "./memtune"),
    (BlkioTune, "./blkiotune"),
    (BlkioDevice, "./blkiotune/device"),
    (CPUTune, "./cputune"),
    (VcpuPin, "./cputune/vcpupin"),
    (NumaTune, "./numatune"),
    (MemNode, "./numatune/memnode"),
    (Resource, "./resource"),
    (SysInfo, "./sysinfo"),
    (SysInfoEntry, "./sysinfo//entry"),
    (SecLabel, "./seclabel"),
    (KeyWrap, "./keywrap"),
    (LaunchSecurity, "./launchSecurity"),
    (PowerManagement, "./pm"),
    (VcpuInfo, "./vcpus/vcpu"),
    (IOThreadID, "./iothreadids/iothread"),
    (DefaultIOThread, "./defaultiothread"),
)


def _has_value(descriptor: _Descriptor, value: Any) -> bool:
    if isinstance(value, XMLNode):
        return value.exists
    if isinstance(descriptor, XMLFlag):
        return bool(value)
    if isinstance(value, ChildList):
        return len(value) > 0
    return value is not None


def _elements(path: str) -> list[etree._Element]:
    found: list[etree._Element] = []
    for name in NAMES:
        root = Domain.from_xml(source(name)).element
        result = root.xpath(path)
        assert isinstance(result, list)
        found.extend(e for e in result if isinstance(e, etree._Element))
    return found


@pytest.mark.parametrize("view, path", VIEWS, ids=[v.__name__ for v, _ in VIEWS])
def test_every_property_has_a_value_in_some_document(view: type[XMLNode], path: str) -> None:
    elements = _elements(path)
    assert elements, f"no document has {path}"
    unexercised = []
    for descriptor in view._descriptors:
        assert isinstance(descriptor, _Descriptor)
        if not any(_has_value(descriptor, getattr(view(e), descriptor.name)) for e in elements):
            unexercised.append(descriptor.name)
    assert unexercised == []
