"""The network filter binding document (``<filterbinding>``), read, checked and written
as libvirt 9.0 does.

A binding ties a filter to one port of a running guest: the owning domain
(name and UUID), the port device, an optional link device, the port's MAC
address and the ``<filterref>`` with its parameters. :class:`FilterBinding`
is a typed view of a live ``<filterbinding>`` tree; unknown content stays in
the tree.

* :meth:`FilterBinding.parse` runs ``virNWFilterBindingDefParseString``'s
  checks in libvirt's order with its exact errors
  (``nwfilter-binding-create``);
* :meth:`FilterBinding.definition` returns the values libvirt keeps
  (:class:`FilterBindingDef`);
* :meth:`FilterBinding.format` writes the document as
  ``virsh nwfilter-binding-dumpxml`` prints it: owner, port device, link
  device when given, the canonical MAC address and the filter reference
  with its valid parameters sorted by name.

libvirt writes the filter name without escaping it; it is escaped here, so
that the output stays well-formed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import XMLChildList, XMLNode, XMLProperty
from virtcore.xml.format import format_xml
from virtcore.xml.network_addr import error, format_mac, format_uuid, parse_mac, parse_uuid
from virtcore.xml.network_netdev import add_element, xpath_string
from virtcore.xml.nwfilter import FilterParameter, format_filterref, parse_filterref_params

__all__ = ["FilterBinding", "FilterBindingDef"]

logger = logging.getLogger(__name__)

_NWF = ErrorDomain.NWFILTER


def _internal(detail: str) -> VirtError:
    return error(ErrorNumber.INTERNAL_ERROR, detail, _NWF)


@dataclass(frozen=True)
class FilterBindingDef:
    """The values libvirt keeps for a binding (``virNWFilterBindingDef``)."""

    owner_name: str
    owner_uuid: str
    portdev: str
    mac: str
    filter: str
    linkdev: str | None = None
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_element(self) -> etree._Element:
        """The canonical ``<filterbinding>`` tree (``virNWFilterBindingDefFormatBuf``)."""
        root = add_element(None, "filterbinding")
        owner = add_element(root, "owner")
        add_element(owner, "name", text=self.owner_name)
        add_element(owner, "uuid", text=self.owner_uuid)
        add_element(root, "portdev", [("name", self.portdev)])
        if self.linkdev is not None:
            add_element(root, "linkdev", [("name", self.linkdev)])
        add_element(root, "mac", [("address", self.mac)])
        format_filterref(root, self.filter, self.params)
        return root

    def format(self) -> str:
        """The document exactly as libvirt 9.0 prints it."""
        return format_xml(self.to_element())


class FilterBinding(XMLNode):
    """A ``<filterbinding>`` document: a view over its live tree.

    ``FilterBinding.parse(text)`` reads a binding as libvirt does (checks
    included); ``FilterBinding.from_xml(text)`` only parses. ``format()`` is
    libvirt's output, ``to_string()`` the tree as it stands.
    """

    TAG = "filterbinding"
    PARSE_URL = "(nwfilterbinding_definition)"
    ERROR_DOMAIN = ErrorDomain.NWFILTER
    SCHEMA = "nwfilterbinding.rng"
    XML_ORDER = {"": ("owner", "portdev", "linkdev", "mac", "filterref")}

    owner_name = XMLProperty("./owner/name")
    owner_uuid = XMLProperty("./owner/uuid")
    portdev = XMLProperty("./portdev/@name")
    linkdev = XMLProperty("./linkdev/@name")
    mac = XMLProperty("./mac/@address")
    filter = XMLProperty("./filterref/@filter")
    parameters = XMLChildList(FilterParameter, "./filterref/parameter")

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Read a binding from *text* as ``virNWFilterBindingCreateXML`` would."""
        binding = cls.from_xml(text, validate_schema=validate_schema)
        binding.check()
        return binding

    def check(self) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        self.definition()

    def definition(self) -> FilterBindingDef:
        """``virNWFilterBindingDefParseXML``: libvirt's checks, in order, and its values."""
        portdev = xpath_string(self, "./portdev/@name")
        if portdev is None:
            raise _internal("filter binding has no port dev name")
        linkdev = None
        if self.xpath("./linkdev"):
            linkdev = xpath_string(self, "./linkdev/@name")
            if linkdev is None:
                raise _internal("filter binding has no link dev name")
        owner_name = xpath_string(self, "./owner/name")
        if owner_name is None:
            raise _internal("filter binding has no owner name")
        uuid_text = xpath_string(self, "./owner/uuid")
        if uuid_text is None:
            raise _internal("filter binding has no owner UUID")
        uuid = parse_uuid(uuid_text)
        if uuid is None:
            raise _internal(f"Unable to parse UUID '{uuid_text}'")
        mac_text = xpath_string(self, "./mac/@address")
        if mac_text is None:
            raise _internal("filter binding has no MAC address")
        mac = parse_mac(mac_text)
        if mac is None:
            raise _internal(f"Unable to parse MAC '{mac_text}'")
        filter_name = xpath_string(self, "./filterref/@filter")
        if filter_name is None:
            raise _internal("filter binding has no filter reference")
        refs = self.xpath("./filterref")
        params = parse_filterref_params(refs[0]) if refs else ()
        return FilterBindingDef(
            owner_name=owner_name,
            owner_uuid=format_uuid(uuid),
            portdev=portdev,
            mac=format_mac(mac),
            filter=filter_name,
            linkdev=linkdev,
            params=params,
        )

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 prints it (``virNWFilterBindingGetXMLDesc``)."""
        del flags  # virNWFilterBindingGetXMLDesc accepts no flags
        return self.definition().format()

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)
