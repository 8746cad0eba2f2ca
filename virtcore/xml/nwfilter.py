"""The network filter document (``<filter>``), read, checked and written as libvirt 9.0 does.

:class:`Filter` is a typed view of a live ``<filter>`` tree: its name, chain
and chain priority, UUID, and the ordered entries - ``<rule>`` elements
(:mod:`virtcore.xml.nwfilter_rules`) and ``<filterref>`` references to other
filters with their ``<parameter>`` values. Unknown content stays in the tree.

* :meth:`Filter.parse` runs ``virNWFilterDefParseString``'s checks in
  libvirt's order with its exact errors, plus the driver's refusal of a
  filter that references itself, and gives a document without ``<uuid>`` a
  fresh one, as ``virNWFilterDefineXML`` does;
* :meth:`Filter.definition` returns the values libvirt keeps
  (:class:`FilterDef`);
* :meth:`Filter.format` writes the document as ``virsh nwfilter-dumpxml``
  prints it: the chain always named, its priority when not 0, rules with
  every attribute in canonical spelling, filter parameters sorted by name.

libvirt writes the filter name and referenced filter names without escaping
them (so a name containing ``&`` yields malformed XML); they are escaped
here, so that the output stays well-formed. A driver checks for loops
through other filters with :attr:`FilterDef.references`.
"""

from __future__ import annotations

import logging
import uuid as _uuid
from dataclasses import dataclass
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.builder import XMLChildList, XMLNode, XMLProperty
from virtcore.xml.format import format_xml
from virtcore.xml.network_addr import error, format_uuid, parse_uuid
from virtcore.xml.network_netdev import add_element, raw_attr, xpath_string
from virtcore.xml.nwfilter_rules import PROTOCOLS, RuleDef, parse_rule

__all__ = [
    "CHAIN_PREFIXES",
    "CHAIN_PRIORITIES",
    "Filter",
    "FilterDef",
    "FilterParameter",
    "FilterRef",
    "FilterRefDef",
    "FilterRule",
    "format_filterref",
    "parse_filterref_params",
]

logger = logging.getLogger(__name__)

_NWF = ErrorDomain.NWFILTER

CHAIN_PREFIXES = ("root", "mac", "vlan", "stp", "arp", "rarp", "ipv4", "ipv6")
"""``virNWFilterChainSuffix``: ``root`` exactly, or a name starting with another one."""
CHAIN_PRIORITIES = {
    "root": 0, "mac": -800, "vlan": -750, "ipv4": -700, "ipv6": -600, "arp": -500, "rarp": -400,
}  # fmt: skip
"""Default priority of a chain by its prefix (``stp`` has none: 0)."""
MIN_FILTER_PRIORITY, MAX_FILTER_PRIORITY = -1000, 1000
MAX_CHAIN_SUFFIX_SIZE = 12
VALID_CHAINNAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")
VALID_VARNAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
VALID_VARVALUE = VALID_VARNAME | frozenset(".:")


# -- filter references -----------------------------------------------------------------


def parse_filterref_params(node: etree._Element) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``virNWFilterParseParamAttributes``: valid parameters, repeated names as lists.

    Parameters with a missing or invalid name or value are silently left
    out, as in libvirt. The result is sorted by name, libvirt's output order.
    """
    values: dict[str, list[str]] = {}
    for child in node.iterchildren(etree.Element):
        if etree.QName(child).localname != "parameter":
            continue
        name, value = raw_attr(child, "name"), raw_attr(child, "value")
        if name is None or not set(name) <= VALID_VARNAME:
            continue
        if value is None or not value or not set(value) <= VALID_VARVALUE:
            continue
        values.setdefault(name, []).append(value)
    return tuple((name, tuple(values[name])) for name in sorted(values))


def format_filterref(
    parent: etree._Element | None,
    filter_name: str,
    params: tuple[tuple[str, tuple[str, ...]], ...],
) -> etree._Element:
    """``virNWFilterFormatParamAttributes``: ``<filterref>`` and its parameters."""
    ref = add_element(parent, "filterref", [("filter", filter_name)])
    for name, values in params:
        for value in values:
            add_element(ref, "parameter", [("name", name), ("value", value)])
    return ref


@dataclass(frozen=True)
class FilterRefDef:
    """A ``<filterref>`` as libvirt keeps it (``virNWFilterIncludeDef``)."""

    filter: str
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _parse_filterref(node: etree._Element) -> FilterRefDef:
    name = raw_attr(node, "filter")
    if name is None:
        # libvirt's message names the wrong attribute.
        raise error(ErrorNumber.INTERNAL_ERROR, "rule node requires action attribute", _NWF)
    return FilterRefDef(name, parse_filterref_params(node))


# -- the values libvirt keeps ----------------------------------------------------------


@dataclass(frozen=True)
class FilterDef:
    """The values libvirt keeps for a filter (``virNWFilterDef``).

    *entries* are the rules and filter references in document order;
    *uuid_specified* tells whether the document named its UUID.
    """

    name: str
    uuid: str
    uuid_specified: bool = True
    chain: str = "root"
    priority: int = 0
    entries: tuple[RuleDef | FilterRefDef, ...] = ()

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        """The rules, in order."""
        return tuple(e for e in self.entries if isinstance(e, RuleDef))

    @property
    def references(self) -> tuple[str, ...]:
        """The names of the filters referenced, in order."""
        return tuple(e.filter for e in self.entries if isinstance(e, FilterRefDef))

    def to_element(self) -> etree._Element:
        """The canonical ``<filter>`` tree (``virNWFilterDefFormat``)."""
        root = add_element(
            None,
            "filter",
            [("name", self.name), ("chain", self.chain),
             ("priority", str(self.priority) if self.priority else None)],
        )  # fmt: skip
        add_element(root, "uuid", text=self.uuid)
        for entry in self.entries:
            if isinstance(entry, RuleDef):
                entry.to_element(root)
            else:
                format_filterref(root, entry.filter, entry.params)
        return root

    def format(self) -> str:
        """The document exactly as libvirt 9.0 prints it."""
        return format_xml(self.to_element())


# -- the model -------------------------------------------------------------------------


class FilterParameter(XMLNode):
    """A ``<parameter name= value=>`` passed to a referenced filter."""

    TAG = "parameter"
    name = XMLProperty("./@name")
    value = XMLProperty("./@value")


class FilterRef(XMLNode):
    """A ``<filterref filter=>``: another filter included here, with parameters."""

    TAG = "filterref"
    filter = XMLProperty("./@filter")
    parameters = XMLChildList(FilterParameter, "./parameter")

    @property
    def params(self) -> dict[str, list[str]]:
        """The valid parameters as libvirt reads them: name -> values, sorted by name."""
        found = self._find()
        if found is None:
            return {}
        return {name: list(values) for name, values in parse_filterref_params(found)}


class FilterRule(XMLNode):
    """A ``<rule>``: action, direction, priority, state matching and its protocol element.

    The protocol element's attributes are read and written raw through
    :meth:`get` and :meth:`set`; :meth:`definition` gives libvirt's reading.
    """

    TAG = "rule"
    action = XMLProperty("./@action")
    direction = XMLProperty("./@direction")
    priority = XMLProperty("./@priority", int)
    statematch = XMLProperty("./@statematch")

    @property
    def protocol(self) -> str | None:
        """The protocol of the rule: the name of its first protocol element."""
        element = self._protocol_element()
        return None if element is None else etree.QName(element).localname

    def _protocol_element(self) -> etree._Element | None:
        found = self._find()
        if found is None:
            return None
        for child in found.iterchildren(etree.Element):
            if etree.QName(child).localname in PROTOCOLS:
                return child
        return None

    def set_protocol(self, protocol: str) -> None:
        """Replace any protocol element by an empty ``<protocol>`` element."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown nwfilter protocol {protocol!r}")
        rule = self.element
        for child in list(rule.iterchildren(etree.Element)):
            if etree.QName(child).localname in PROTOCOLS:
                rule.remove(child)
        etree.SubElement(rule, protocol)

    def get(self, attribute: str) -> str | None:
        """An attribute of the protocol element as written, None when absent."""
        return raw_attr(self._protocol_element(), attribute)

    def set(self, attribute: str, value: str | None) -> None:
        """Set (or with None remove) an attribute of the protocol element."""
        element = self._protocol_element()
        if element is None:
            raise ValueError("the rule has no protocol element")
        if value is None:
            if attribute in element.attrib:
                del element.attrib[attribute]
        else:
            element.set(attribute, value)

    def definition(self) -> RuleDef:
        """``virNWFilterRuleParse``: libvirt's checks and the rule it keeps."""
        return parse_rule(self.element)


class Filter(XMLNode):
    """A ``<filter>`` document: a view over its live tree.

    ``Filter.parse(text)`` defines a filter as libvirt does (checks included,
    UUID generated when missing); ``Filter.from_xml(text)`` only parses.
    ``format()`` is libvirt's output, ``to_string()`` the tree as it stands.
    """

    TAG = "filter"
    PARSE_URL = "(nwfilter_definition)"
    ERROR_DOMAIN = ErrorDomain.NWFILTER
    SCHEMA = "nwfilter.rng"
    XML_ORDER = {"": ("@name", "@chain", "@priority", "uuid", "rule", "filterref")}

    name = XMLProperty("./@name")
    chain = XMLProperty("./@chain")
    priority = XMLProperty("./@priority", int)
    uuid = XMLProperty("./uuid")
    rules = XMLChildList(FilterRule, "./rule")
    filterrefs = XMLChildList(FilterRef, "./filterref")

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Define a filter from *text* as ``virNWFilterDefineXML`` would.

        The checks run first; a document without ``<uuid>`` then receives a
        random one, so that the object keeps its identity from here on.
        """
        nwfilter = cls.from_xml(text, validate_schema=validate_schema)
        nwfilter.check()
        if xpath_string(nwfilter, "./uuid") is None:
            for empty in nwfilter.xpath("./uuid"):
                empty.getparent().remove(empty)
            nwfilter.uuid = format_uuid(_uuid.uuid4())
        return nwfilter

    def check(self) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        definition = self.definition()
        if definition.name in definition.references:
            raise error(ErrorNumber.OPERATION_FAILED, "filter would introduce a loop", _NWF)

    def definition(self) -> FilterDef:
        """``virNWFilterDefParseXML``: libvirt's checks, in its order, and the values it keeps.

        A document without a UUID gets a random one here; use :meth:`parse`
        to keep it in the tree.
        """
        name = xpath_string(self, "./@name")
        if name is None:
            raise error(ErrorNumber.INTERNAL_ERROR, "filter has no name", _NWF)
        priority_text = xpath_string(self, "./@priority")
        priority = None
        if priority_text is not None:
            priority = _parse_priority(priority_text)
        chain = xpath_string(self, "./@chain")
        chain_priority = 0
        if chain is not None:
            prefix = _allowed_chain(chain)
            chain_priority = priority if priority is not None else CHAIN_PRIORITIES.get(prefix, 0)
        uuid_text = xpath_string(self, "./uuid")
        if uuid_text is None:
            uuid = format_uuid(_uuid.uuid4())
        else:
            parsed = parse_uuid(uuid_text)
            if parsed is None:
                raise error(ErrorNumber.XML_ERROR, "malformed uuid element", _NWF)
            uuid = format_uuid(parsed)
        entries: list[RuleDef | FilterRefDef] = []
        for child in self.element.iterchildren(etree.Element):
            local = etree.QName(child).localname
            if local == "rule":
                entries.append(parse_rule(child))
            elif local == "filterref":
                entries.append(_parse_filterref(child))
        return FilterDef(
            name=name,
            uuid=uuid,
            uuid_specified=uuid_text is not None,
            chain=chain or "root",
            priority=chain_priority,
            entries=tuple(entries),
        )

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 prints it (``virNWFilterGetXMLDesc``)."""
        del flags  # virNWFilterGetXMLDesc accepts no flags
        return self.definition().format()

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)


def _parse_priority(text: str) -> int:
    try:
        value = units.parse_int(text)
    except ValueError:
        raise error(
            ErrorNumber.INVALID_ARG, f"Could not parse chain priority '{text}'", _NWF
        ) from None
    if not MIN_FILTER_PRIORITY <= value <= MAX_FILTER_PRIORITY:
        raise error(
            ErrorNumber.INVALID_ARG,
            f"Priority '{value}' is outside valid range of "
            f"[{MIN_FILTER_PRIORITY},{MAX_FILTER_PRIORITY}]",
            _NWF,
        )
    return value


def _allowed_chain(chain: str) -> str:
    """``virNWFilterIsAllowedChain``: the chain's prefix, or libvirt's error."""
    if len(chain.encode()) > MAX_CHAIN_SUFFIX_SIZE:
        raise error(
            ErrorNumber.INVALID_ARG,
            f"Name of chain is longer than {MAX_CHAIN_SUFFIX_SIZE} characters",
            _NWF,
        )
    if not set(chain) <= VALID_CHAINNAME:
        raise error(ErrorNumber.INVALID_ARG, "Chain name contains invalid characters", _NWF)
    if chain == "root":
        return chain
    if chain.startswith("root"):
        # libvirt refuses without saying why.
        raise VirtError(
            None,
            code=ErrorNumber.INTERNAL_ERROR,
            domain=ErrorDomain.NONE,
            message="An error occurred, but the cause is unknown",
        )
    for prefix in CHAIN_PREFIXES[1:]:
        if chain.startswith(prefix):
            return prefix
    raise error(
        ErrorNumber.INVALID_ARG,
        f"Invalid chain name '{chain}'. Please use a chain name called 'root' or any of the "
        "following prefixes: " + ", ".join(CHAIN_PREFIXES[1:]),
        _NWF,
    )
