"""The storage pool capabilities document (``<storagepoolCapabilities>``).

``virConnectGetStoragePoolCapabilities`` (``virsh pool-capabilities``)
describes every pool type libvirt knows: whether the connection's storage
driver supports it, and the source and volume formats it accepts with
their defaults::

    <storagepoolCapabilities>
      <pool type='dir' supported='yes'>
        <volOptions>
          <defaultFormat type='raw'/>
          <enum name='targetFormatType'>
            <value>none</value>
            ...

:meth:`StoragePoolCapabilities.build` makes the document for a set of
supported pool types from :data:`~virtcore.xml.storage_pool.POOL_TYPES`,
and :meth:`StoragePoolCapabilities.format` writes it exactly as libvirt 9.0
does (``virStoragePoolCapsFormat``): every type in libvirt's order, the
options libvirt lists for it, empty elements written open. The model is also
a typed view for reading such a document (:attr:`~StoragePoolCapabilities.pools`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Self

from lxml import etree

from virtcore.xml.builder import YESNO, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.format import FormatRules, format_xml
from virtcore.xml.network_netdev import add_element
from virtcore.xml.storage_pool import POOL_TYPES, PoolTypeInfo

__all__ = ["POOL_CAPS_RULES", "PoolCapability", "StoragePoolCapabilities", "pool_capability"]

logger = logging.getLogger(__name__)

POOL_CAPS_RULES = FormatRules(open_empty=frozenset({"storagepoolCapabilities/pool", "enum"}))
"""A type without options, and an empty value list, are written open."""


def pool_capability(parent: etree._Element, pool_type: str, supported: bool) -> etree._Element:
    """Add the ``<pool>`` element libvirt writes for *pool_type* to *parent*."""
    info: PoolTypeInfo = POOL_TYPES[pool_type]
    element = add_element(
        parent, "pool", [("type", pool_type), ("supported", "yes" if supported else "no")]
    )
    if info.pool_formats:
        options = add_element(element, "poolOptions")
        add_element(options, "defaultFormat", [("type", info.default_pool_format)])
        values = add_element(options, "enum", [("name", "sourceFormatType")])
        for name in info.pool_formats:
            add_element(values, "value", text=name)
    if info.volume_formats:
        listed = info.listed_volume_formats
        options = add_element(element, "volOptions")
        add_element(options, "defaultFormat", [("type", info.default_volume_format)])
        values = add_element(options, "enum", [("name", "targetFormatType")])
        for name in info.volume_formats if listed is None else listed:
            add_element(values, "value", text=name)
    return element


class PoolCapability(XMLNode):
    """One ``<pool type='...' supported='yes|no'>`` entry and its format options."""

    TAG = "pool"
    type = XMLProperty("./@type")
    supported = XMLProperty("./@supported", YESNO)
    default_pool_format = XMLProperty("./poolOptions/defaultFormat/@type")
    default_volume_format = XMLProperty("./volOptions/defaultFormat/@type")

    @property
    def pool_formats(self) -> list[str]:
        """The source formats the type accepts (``sourceFormatType``)."""
        return [str(v) for v in self.xpath("./poolOptions/enum/value/text()")]

    @property
    def volume_formats(self) -> list[str]:
        """The volume formats listed for the type (``targetFormatType``)."""
        return [str(v) for v in self.xpath("./volOptions/enum/value/text()")]


class StoragePoolCapabilities(XMLNode):
    """A ``<storagepoolCapabilities>`` document."""

    TAG = "storagepoolCapabilities"
    SCHEMA = "storagepoolcaps.rng"
    FORMAT_RULES = POOL_CAPS_RULES

    pools = XMLChildList(PoolCapability, "./pool")

    @classmethod
    def build(cls, supported: Iterable[str]) -> Self:
        """The document for a storage driver supporting the pool types in *supported*."""
        wanted = set(supported)
        unknown = wanted - set(POOL_TYPES)
        if unknown:
            raise ValueError(f"unknown storage pool types: {sorted(unknown)}")
        caps = cls()
        for pool_type in POOL_TYPES:
            pool_capability(caps.element, pool_type, pool_type in wanted)
        return caps

    @property
    def supported_types(self) -> list[str]:
        """The pool types marked ``supported='yes'``, in document order."""
        return [p.type for p in self.pools if p.supported and p.type is not None]

    def format(self, flags: int = 0) -> str:
        """The document as libvirt 9.0 writes it, for the types this one marks supported."""
        root = add_element(None, self.TAG)
        supported = set(self.supported_types)
        for pool_type in POOL_TYPES:
            pool_capability(root, pool_type, pool_type in supported)
        return format_xml(root, rules=POOL_CAPS_RULES)

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)
