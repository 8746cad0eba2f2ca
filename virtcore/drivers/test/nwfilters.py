"""Network filters and filter bindings on a test host, as libvirt's nwfilter driver keeps them.

libvirt's test driver has no nwfilter driver; virtcore's test hosts have one
that stores definitions the way ``nwfilter_driver.c`` does, without building
any firewall rules:

* a filter has a name, a UUID, a chain (``root`` or a name starting with
  ``mac``, ``vlan``, ``stp``, ``arp``, ``rarp``, ``ipv4`` or ``ipv6``), a
  chain priority (defaulting by chain: ``ipv4`` -700, ``arp`` -500, ...; shown
  when not 0) and entries: ``<rule>``s (action, direction, priority 500 by
  default, one protocol element) and ``<filterref>``s with parameters;
* redefining needs the same name and UUID; a definition whose references
  lead back to itself is refused ("filter would introduce a loop");
* a filter referenced, directly or through other filters, by a binding or by
  an interface of a running domain is in use and cannot be undefined;
* a binding ties a port device to a filter, which (with everything it
  references) must exist; one binding per port device.

Rule details (the attributes of the protocol element) are kept as written,
in libvirt's attribute order; they are not validated. Errors carry error
domain ``VIR_FROM_NWFILTER`` (33).
"""

from __future__ import annotations

import re
import uuid as _uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from virtcore.driver import NWFilterDriver
from virtcore.drivers.test.netxml import parse_mac
from virtcore.drivers.test.secondary import HostExtension, SecondaryTable, uuid_or_invalid
from virtcore.drivers.test.xmlutil import (
    XMLWriter,
    attributes,
    child,
    child_text,
    children,
    parse_uuid,
    parse_xml,
    words,
)
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    InternalError,
    InvalidArgError,
    NoNWFilterBindingError,
    NoNWFilterError,
    OperationFailedError,
    OperationInvalidError,
    VirtError,
    XMLError,
)
from virtcore.objects import NWFilter, NWFilterBinding

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["NWFilterBindingDef", "NWFilterDef", "TestNWFilterDriver"]

_NWF = ErrorDomain.NWFILTER
_CHAIN_PRIORITIES = {"root": 0, "stp": -810, "mac": -800, "vlan": -750, "ipv4": -700,
                     "ipv6": -600, "arp": -500, "rarp": -400}  # fmt: skip
_ACTIONS = words("drop accept reject return continue")
_DIRECTIONS = words("in out inout")
_PROTOCOLS = words(
    "mac vlan stp arp rarp ip ipv6 tcp udp udplite esp ah sctp icmp igmp all tcp-ipv6 "
    "udp-ipv6 udplite-ipv6 esp-ipv6 ah-ipv6 sctp-ipv6 icmpv6 all-ipv6"
)
# The order libvirt's attribute tables give rule details (the union over protocols).
_DETAIL_ORDER = words(
    "match srcmacaddr srcmacmask dstmacaddr dstmacmask protocolid vlanid encap-protocol "
    "type flags root-priority root-priority-hi root-address root-address-mask root-cost "
    "root-cost-hi sender-priority sender-priority-hi sender-address sender-address-mask port "
    "port-hi msg-age msg-age-hi max-age max-age-hi hello-time hello-time-hi forward-delay "
    "forward-delay-hi hwtype protocoltype opcode arpsrcmacaddr arpdstmacaddr arpsrcipaddr "
    "arpsrcipmask arpdstipaddr arpdstipmask gratuitous srcipaddr srcipmask dstipaddr "
    "dstipmask srcipfrom srcipto dstipfrom dstipto protocol srcportstart srcportend "
    "dstportstart dstportend type code dscp connlimit-above state ipset ipsetflags comment"
)


def _check_flags(flags: int, supported: int, function: str) -> None:
    extra = (int(flags) & 0xFFFFFFFF) & ~supported
    if extra:
        text = f"unsupported flags ({extra:#x}) in function {function}"
        raise InvalidArgError(text, message=text, domain=_NWF)


@dataclass
class Rule:
    """A ``<rule>`` and its protocol element (kept as written, attributes reordered)."""

    action: str
    direction: str
    priority: int = 500
    statematch: bool = True
    detail: etree._Element | None = None

    def write(self, out: XMLWriter) -> None:
        """Write the rule element."""
        attrs: list[tuple[str, str | int | None]] = [
            ("action", self.action),
            ("direction", self.direction),
            ("priority", self.priority),
            ("statematch", None if self.statematch else "false"),
        ]
        if self.detail is None:
            out.empty("rule", attrs)
            return
        out.open("rule", attrs)
        given = attributes(self.detail)
        known = [k for k in _DETAIL_ORDER if k in given]
        ordered = known + [k for k in given if k not in known]
        out.empty(self.detail.tag, [(k, given[k]) for k in ordered])
        out.close("rule")


@dataclass
class FilterRef:
    """A ``<filterref>`` and its parameters (name, value) in document order."""

    filter: str
    params: list[tuple[str, str]] = field(default_factory=list)

    def write(self, out: XMLWriter) -> None:
        """Write the reference; parameters come sorted by name, as libvirt lists them."""
        if not self.params:
            out.empty("filterref", [("filter", self.filter)])
            return
        out.open("filterref", [("filter", self.filter)])
        for name, value in sorted(self.params, key=lambda p: p[0]):
            out.empty("parameter", [("name", name), ("value", value)])
        out.close("filterref")


def _parse_params(elem: etree._Element) -> list[tuple[str, str]]:
    params = []
    for param in children(elem, "parameter"):
        name, value = param.get("name"), param.get("value")
        if name is None or value is None:
            continue
        if not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise InternalError(f"filter parameter name '{name}' contains invalid characters",
                                domain=_NWF)  # fmt: skip
        params.append((name, value))
    return params


def _parse_rule(elem: etree._Element) -> Rule:
    action = elem.get("action")
    if action is None:
        raise InternalError("rule node requires action attribute", domain=_NWF)
    if action not in _ACTIONS:
        raise InternalError("unknown rule action attribute value", domain=_NWF)
    direction = elem.get("direction")
    if direction is None:
        raise InternalError("rule node requires direction attribute", domain=_NWF)
    if direction not in _DIRECTIONS:
        raise InternalError("unknown rule direction attribute value", domain=_NWF)
    rule = Rule(action, direction)
    prio = elem.get("priority")
    if prio is not None and re.fullmatch(r"\s*[+-]?[0-9]+", prio) and -1000 <= int(prio) <= 1000:
        rule.priority = int(prio)
    statematch = elem.get("statematch")
    rule.statematch = not (statematch is not None and statematch.lower() in ("0", "false"))
    for sub in children(elem):
        if sub.tag in _PROTOCOLS:
            rule.detail = etree.Element(sub.tag, attributes(sub))
            break
    return rule


@dataclass
class NWFilterDef:
    """A network filter definition (``virNWFilterDef``)."""

    name: str
    uuid: str
    chain: str = "root"
    priority: int = 0
    entries: list[Rule | FilterRef] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> NWFilterDef:
        """Parse a ``<filter>`` document (``virNWFilterDefParseXML``)."""
        root = parse_xml(text, "(nwfilter_definition)", domain=_NWF, root="filter")
        name = root.get("name")
        if name is None:
            raise InternalError("filter has no name", domain=_NWF)
        chain_priority: int | None = None
        raw = root.get("priority")
        if raw is not None:
            if not re.fullmatch(r"\s*[+-]?[0-9]+", raw):
                raise InvalidArgError(f"Could not parse chain priority '{raw}'", domain=_NWF)
            chain_priority = int(raw)
            if not -1000 <= chain_priority <= 1000:
                raise InvalidArgError(
                    f"Priority '{chain_priority}' is outside valid range of [-1000,1000]",
                    domain=_NWF,
                )
        chain = root.get("chain")
        priority = 0
        if chain is not None:
            prefix = _chain_prefix(chain)
            priority = chain_priority if chain_priority is not None else _CHAIN_PRIORITIES[prefix]
        uuid_text = child_text(root, "uuid")
        if uuid_text is None:
            uuid = str(_uuid.uuid4())
        else:
            parsed = parse_uuid(uuid_text)
            if parsed is None:
                raise XMLError("malformed uuid element", domain=_NWF)
            uuid = parsed
        entries: list[Rule | FilterRef] = []
        for sub in children(root):
            if sub.tag == "rule":
                entries.append(_parse_rule(sub))
            elif sub.tag == "filterref":
                ref = sub.get("filter")
                if ref is None:
                    raise InternalError("missing filter attribute in filterref node", domain=_NWF)
                entries.append(FilterRef(ref, _parse_params(sub)))
        return cls(name, uuid, chain or "root", priority, entries)

    @property
    def references(self) -> list[str]:
        """Names of the filters this one references."""
        return [e.filter for e in self.entries if isinstance(e, FilterRef)]

    def format(self) -> str:
        """The filter XML (``virNWFilterGetXMLDesc``)."""
        out = XMLWriter()
        attrs: list[tuple[str, str | int | None]] = [("name", self.name), ("chain", self.chain)]
        out.open("filter", [*attrs, ("priority", self.priority or None)])
        out.text("uuid", self.uuid)
        for entry in self.entries:
            entry.write(out)
        out.close("filter")
        return out.getvalue()


def _chain_prefix(chain: str) -> str:
    """The known chain a chain name belongs to (``virNWFilterIsAllowedChain``)."""
    if len(chain) > 12:
        raise InvalidArgError("Name of chain is longer than 12 characters", domain=_NWF)
    if not re.fullmatch(r"[A-Za-z0-9_.:-]*", chain):
        raise InvalidArgError("Chain name contains invalid characters", domain=_NWF)
    if chain == "root":
        return chain
    for prefix in ("mac", "vlan", "stp", "arp", "rarp", "ipv4", "ipv6"):
        if chain.startswith(prefix):
            return prefix
    raise InvalidArgError(
        f"Invalid chain name '{chain}'. Please use a chain name called 'root' or any of the "
        "following prefixes: mac, vlan, stp, arp, rarp, ipv4, ipv6",
        domain=_NWF,
    )


@dataclass
class NWFilterBindingDef:
    """A filter binding (``virNWFilterBindingDef``): a port device tied to a filter."""

    owner_name: str
    owner_uuid: str
    portdev: str
    mac: str
    filter: str
    linkdev: str | None = None
    params: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> NWFilterBindingDef:
        """Parse a ``<filterbinding>`` document (``virNWFilterBindingDefParseXML``)."""
        root = parse_xml(text, "(nwfilterbinding_definition)", domain=_NWF, root="filterbinding")
        owner = child(root, "owner")
        owner_name = child_text(owner, "name") if owner is not None else None
        if owner_name is None:
            raise XMLError("filter binding has no owner name", domain=_NWF)
        owner_uuid_text = child_text(owner, "uuid") if owner is not None else None
        if owner_uuid_text is None:
            raise XMLError("filter binding has no owner UUID", domain=_NWF)
        owner_uuid = parse_uuid(owner_uuid_text)
        if owner_uuid is None:
            raise XMLError(f"Unable to parse UUID '{owner_uuid_text}'", domain=_NWF)
        portdev = child(root, "portdev")
        if portdev is None or portdev.get("name") is None:
            raise XMLError("filter binding has no port dev name", domain=_NWF)
        linkdev = child(root, "linkdev")
        if linkdev is not None and linkdev.get("name") is None:
            raise XMLError("filter binding has no link dev name", domain=_NWF)
        mac_elem = child(root, "mac")
        mac_text = mac_elem.get("address") if mac_elem is not None else None
        if mac_text is None:
            raise XMLError("filter binding has no MAC address", domain=_NWF)
        mac = parse_mac(mac_text)
        if mac is None:
            raise XMLError(f"Unable to parse MAC '{mac_text}'", domain=_NWF)
        ref = child(root, "filterref")
        if ref is None or ref.get("filter") is None:
            raise XMLError("filter binding has no filter reference", domain=_NWF)
        return cls(
            owner_name,
            owner_uuid,
            portdev.get("name", ""),
            mac,
            ref.get("filter", ""),
            linkdev.get("name") if linkdev is not None else None,
            _parse_params(ref),
        )

    def format(self) -> str:
        """The binding XML (``virNWFilterBindingGetXMLDesc``)."""
        out = XMLWriter()
        out.open("filterbinding")
        out.open("owner")
        out.text("name", self.owner_name)
        out.text("uuid", self.owner_uuid)
        out.close("owner")
        out.empty("portdev", [("name", self.portdev)])
        if self.linkdev is not None:
            out.empty("linkdev", [("name", self.linkdev)])
        out.empty("mac", [("address", self.mac)])
        FilterRef(self.filter, self.params).write(out)
        out.close("filterbinding")
        return out.getvalue()


@dataclass
class _NWFilterHost:
    """A host's filters (by name) and bindings (by port device)."""

    filters: dict[str, NWFilterDef] = field(default_factory=dict)
    bindings: dict[str, NWFilterBindingDef] = field(default_factory=dict)


_HOSTS: HostExtension[_NWFilterHost] = HostExtension(_NWFilterHost)


class TestNWFilterDriver(SecondaryTable, NWFilterDriver):
    """Network filters and bindings of a test host (libvirt's nwfilter driver semantics)."""

    def event_source(self) -> None:
        """Network filters have no events."""
        return None

    def _host(self) -> _NWFilterHost:
        return _HOSTS.of(self.state)

    def _by_uuid(self, uuid: str) -> NWFilterDef:
        for d in self._host().filters.values():
            if d.uuid == uuid:
                return d
        raise NoNWFilterError(f"no nwfilter with matching uuid '{uuid}'", domain=_NWF)

    def _reachable(self, start: list[str], filters: dict[str, NWFilterDef]) -> set[str]:
        """Every filter name reachable through references from *start*."""
        seen: set[str] = set()
        todo = list(start)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            found = filters.get(name)
            if found is not None:
                todo.extend(found.references)
        return seen

    def _in_use(self, name: str) -> bool:
        host = self._host()
        roots = [b.filter for b in host.bindings.values()]
        for dom in self.state.domains():
            if dom.is_active():
                for nic in (d for d in dom.def_.devices if d.tag == "interface"):
                    ref = child(nic, "filterref")
                    if ref is not None and ref.get("filter"):
                        roots.append(ref.get("filter", ""))
        return name in self._reachable(roots, host.filters)

    def connect_num_of_nwfilters(self, conn: Connection) -> int:
        """Number of filters."""
        with self.state.lock:
            return len(self._host().filters)

    def connect_list_nwfilters(self, conn: Connection) -> list[str]:
        """Names of the filters."""
        with self.state.lock:
            return sorted(self._host().filters)

    def connect_list_all_nwfilters(self, conn: Connection, flags: int) -> list[NWFilter]:
        """Every filter, by name."""
        _check_flags(flags, 0, "nwfilterConnectListAllNWFilters")
        with self.state.lock:
            return [NWFilter(conn, d.name, d.uuid) for _, d in sorted(self._host().filters.items())]

    def nwfilter_lookup_by_name(self, conn: Connection, name: str) -> NWFilter:
        """The filter called *name*."""
        with self.state.lock:
            found = self._host().filters.get(name)
            if found is None:
                raise NoNWFilterError(f"no nwfilter with matching name '{name}'", domain=_NWF)
            return NWFilter(conn, found.name, found.uuid)

    def nwfilter_lookup_by_uuid(self, conn: Connection, uuid: str) -> NWFilter:
        """The filter with *uuid*."""
        canonical = uuid_or_invalid(uuid, _NWF, "virNWFilterLookupByUUIDString")
        with self.state.lock:
            found = self._by_uuid(canonical)
            return NWFilter(conn, found.name, found.uuid)

    def nwfilter_define_xml_flags(self, conn: Connection, xml: str, flags: int) -> NWFilter:
        """Define or redefine a filter (same name and UUID); loops are refused."""
        _check_flags(flags, 1, "nwfilterDefineXMLFlags")
        new = NWFilterDef.parse(xml)
        with self.state.lock:
            filters = self._host().filters
            same_uuid = next((d for d in filters.values() if d.uuid == new.uuid), None)
            if same_uuid is not None and same_uuid.name != new.name:
                raise OperationFailedError(
                    f"filter with same UUID but different name ('{same_uuid.name}') already exists",
                    domain=_NWF,
                )
            if same_uuid is None and new.name in filters:
                raise OperationFailedError(
                    f"filter '{new.name}' already exists with uuid {filters[new.name].uuid}",
                    domain=_NWF,
                )
            if new.name in self._reachable(new.references, {**filters, new.name: new}):
                raise OperationFailedError("filter would introduce a loop", domain=_NWF)
            filters[new.name] = new
            return NWFilter(conn, new.name, new.uuid)

    def nwfilter_define_xml(self, conn: Connection, xml: str) -> NWFilter:
        """Define or redefine a filter (``virNWFilterDefineXML``)."""
        return self.nwfilter_define_xml_flags(conn, xml, 0)

    def nwfilter_undefine(self, conn: Connection, nwfilter: NWFilter) -> None:
        """Delete a filter that nothing uses."""
        with self.state.lock:
            found = self._by_uuid(nwfilter.uuid)
            if self._in_use(found.name):
                raise OperationInvalidError("nwfilter is in use", domain=_NWF)
            del self._host().filters[found.name]

    def nwfilter_get_xml_desc(self, conn: Connection, nwfilter: NWFilter, flags: int) -> str:
        """The filter XML."""
        _check_flags(flags, 0, "nwfilterGetXMLDesc")
        with self.state.lock:
            return self._by_uuid(nwfilter.uuid).format()

    # -- bindings -------------------------------------------------------------------------

    def _binding(self, portdev: str) -> NWFilterBindingDef:
        found = self._host().bindings.get(portdev)
        if found is None:
            raise NoNWFilterBindingError(
                f"no nwfilter binding for port dev '{portdev}'", domain=_NWF
            )
        return found

    def connect_list_all_nwfilter_bindings(
        self, conn: Connection, flags: int
    ) -> list[NWFilterBinding]:
        """Every binding, by port device."""
        _check_flags(flags, 0, "nwfilterConnectListAllNWFilterBindings")
        with self.state.lock:
            return [
                NWFilterBinding(conn, b.portdev, b.filter)
                for _, b in sorted(self._host().bindings.items())
            ]

    def nwfilter_binding_lookup_by_port_dev(
        self, conn: Connection, portdev: str
    ) -> NWFilterBinding:
        """The binding of *portdev*."""
        with self.state.lock:
            found = self._binding(portdev)
            return NWFilterBinding(conn, found.portdev, found.filter)

    def nwfilter_binding_create_xml(
        self, conn: Connection, xml: str, flags: int
    ) -> NWFilterBinding:
        """Bind a port device to an existing filter."""
        _check_flags(flags, 1, "nwfilterBindingCreateXML")
        new = NWFilterBindingDef.parse(xml)
        with self.state.lock:
            host = self._host()
            if new.portdev in host.bindings:
                raise OperationFailedError(
                    f"filter binding for port '{new.portdev}' already exists", domain=_NWF
                )
            for name in sorted(self._reachable([new.filter], host.filters)):
                if name not in host.filters:
                    raise VirtError(
                        f"Could not find filter '{name}'",
                        code=ErrorNumber.NO_NWFILTER,
                        domain=_NWF,
                    )
            host.bindings[new.portdev] = new
            return NWFilterBinding(conn, new.portdev, new.filter)

    def nwfilter_binding_get_xml_desc(
        self, conn: Connection, binding: NWFilterBinding, flags: int
    ) -> str:
        """The binding XML."""
        _check_flags(flags, 0, "nwfilterBindingGetXMLDesc")
        with self.state.lock:
            return self._binding(binding.port_dev).format()

    def nwfilter_binding_delete(self, conn: Connection, binding: NWFilterBinding) -> None:
        """Remove the binding of a port device."""
        with self.state.lock:
            self._binding(binding.port_dev)
            del self._host().bindings[binding.port_dev]
