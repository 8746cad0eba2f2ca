"""Writing element trees byte for byte as libvirt 9.0 writes its documents.

libvirt formats documents itself, through its ``virBuffer`` helpers, and the
result has a fixed shape that :func:`format_xml` reproduces for any element
tree:

* no ``<?xml?>`` declaration; two spaces of indentation per level; the text
  ends with a newline (the string the API returns; ``virsh dumpxml`` prints
  one more);
* attributes in single quotes, in tree order, followed by the namespace
  declarations the libvirt-formatted part of the document uses, all on the
  root element (``<domain type='kvm' xmlns:qemu='...'>``);
* an element with only text stays on one line, an empty one is ``<x/>``;
* text and attribute values escaped as ``virBufferEscapeString`` does:
  ``&`` ``<`` ``>`` ``"`` ``'`` become entities, other control characters
  than tab, newline and carriage return are dropped, everything else
  (newlines included) is written as is;
* comments and processing instructions are dropped: libvirt writes what it
  understood, not what it read.

Some content libvirt does not format itself but copies as an opaque node and
writes with libxml2's serializer (``xmlNodeDump``), chiefly ``<metadata>``.
Such *native* subtrees use libxml2's conventions: double quotes, namespace
declarations before attributes, every namespace the copy needs declared on
its root, attribute values with ``&#10;``-style references for tab, newline
and carriage return and ``&#xE9;``-style ones for non-ASCII characters,
comments and processing instructions kept, and indentation only inside
elements without text (and never deeper than 60 spaces).

Which subtrees are native, which elements libvirt writes open even when
empty (``<devices>\\n  </devices>``, where blank text does not count) or as
``<x></x>``, and which separate their children with blank lines
(``<capabilities>``) are per-document quirks given as
:class:`FormatRules`; :data:`RULES_FOR_ROOT` holds those of the documents
known to need them and applies by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "CAPABILITIES_RULES",
    "DOMAIN_RULES",
    "METADATA_RULES",
    "NETWORK_RULES",
    "POOL_RULES",
    "RULES_FOR_ROOT",
    "FormatRules",
    "escape",
    "format_native",
    "format_xml",
]

_XML_NS = "http://www.w3.org/XML/1998/namespace"


@dataclass(frozen=True)
class FormatRules:
    """Per-document formatting quirks, as element paths.

    Each entry is a path of local names, matched against the end of an
    element's path from the formatted root: ``"metadata"`` matches every
    ``<metadata>``, ``"domain/devices"`` only ``<devices>`` directly below
    ``<domain>``.
    """

    native: frozenset[str] = field(default_factory=frozenset)
    """Subtrees written by libxml2's serializer (opaque copies)."""
    open_empty: frozenset[str] = field(default_factory=frozenset)
    """Elements written ``<x>`` newline ``</x>`` when empty."""
    spaced: frozenset[str] = field(default_factory=frozenset)
    """Elements whose children are each followed by a blank line (and the start tag)."""
    paired: frozenset[str] = field(default_factory=frozenset)
    """Elements written ``<x></x>`` rather than ``<x/>`` when empty."""

    def __post_init__(self) -> None:
        for name in ("native", "open_empty", "spaced", "paired"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))

    @staticmethod
    def _matches(entries: frozenset[str], path: tuple[str, ...]) -> bool:
        for entry in entries:
            wanted = tuple(entry.split("/"))
            if len(wanted) <= len(path) and path[-len(wanted) :] == wanted:
                return True
        return False

    def is_native(self, path: tuple[str, ...]) -> bool:
        """Whether the element at *path* starts a native subtree."""
        return self._matches(self.native, path)

    def is_open_empty(self, path: tuple[str, ...]) -> bool:
        """Whether the element at *path* is written open when empty."""
        return self._matches(self.open_empty, path)

    def is_spaced(self, path: tuple[str, ...]) -> bool:
        """Whether the children of the element at *path* are separated by blank lines."""
        return self._matches(self.spaced, path)

    def is_paired(self, path: tuple[str, ...]) -> bool:
        """Whether the element at *path* is written ``<x></x>`` when empty."""
        return self._matches(self.paired, path)


METADATA_RULES = FormatRules(native=frozenset({"metadata"}))
"""Documents whose ``<metadata>`` is an opaque copy (snapshots, ...)."""
DOMAIN_RULES = FormatRules(native=frozenset({"metadata"}), open_empty=frozenset({"domain/devices"}))
"""Domain documents (also inside snapshots and checkpoints)."""
NETWORK_RULES = FormatRules(
    native=frozenset({"metadata"}),
    open_empty=frozenset({"network/ip", "network/portgroup", "bandwidth"}),
)
"""Network documents: libvirt 9.0 writes ``<ip>``, ``<portgroup>`` and ``<bandwidth>``
open even when empty."""
CAPABILITIES_RULES = FormatRules(
    spaced=frozenset({"capabilities"}),
    paired=frozenset({"secmodel/doi"}),
    open_empty=frozenset({"topology/cells"}),
)
"""The host capabilities document: blank lines between sections, ``<doi></doi>``,
``<cells num='0'>`` written open."""
POOL_RULES = FormatRules(open_empty=frozenset({"pool/source"}))
"""Storage pool documents."""

RULES_FOR_ROOT: dict[str, FormatRules] = {
    "domain": DOMAIN_RULES,
    "domainsnapshot": DOMAIN_RULES,
    "domaincheckpoint": DOMAIN_RULES,
    "network": NETWORK_RULES,
    "pool": POOL_RULES,
    "capabilities": CAPABILITIES_RULES,
}
"""The rules :func:`format_xml` applies by default, by root element name."""

# virBufferEscapeString: five entities, C0 controls other than \t \n \r dropped.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_ESCAPE_RE = re.compile("[&<>\"']|[\x01-\x08\x0b\x0c\x0e-\x1f]")
# libxml2's serializer (no output encoding): text and attribute values.
_NATIVE_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_NATIVE_TEXT_RE = re.compile("[&<>\r]")
_NATIVE_ATTR = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\n": "&#10;", "\r": "&#13;", "\t": "&#9;",
}  # fmt: skip
_NATIVE_ATTR_RE = re.compile('[&<>"\n\r\t]|[^\x00-\x7f]')
_MAX_NATIVE_INDENT = 30


def escape(text: str) -> str:
    """Escape *text* as libvirt's ``virBufferEscapeString`` does."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(), ""), text)


def _native_text(text: str) -> str:
    return _NATIVE_TEXT_RE.sub(lambda m: _NATIVE_TEXT[m.group()], text)


def _native_attr(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        char = match.group()
        return _NATIVE_ATTR.get(char) or f"&#x{ord(char):X};"

    return _NATIVE_ATTR_RE.sub(one, text)


def format_xml(element: etree._Element | OutNode, *, rules: FormatRules | None = None) -> str:
    """*element* and its content as libvirt writes them, ending with a newline.

    Without *rules*, those of :data:`RULES_FOR_ROOT` for the element's name
    apply (none for other elements). *element* may also be an output tree
    of the domain formatter (:class:`~virtcore.xml.domain.outnode.OutNode`),
    written as its lxml equivalent would be.
    """
    if not isinstance(element, etree._Element):
        # Imported here: the domain package imports this module.
        from virtcore.xml.domain.outnode import serialize

        if rules is None:
            rules = RULES_FOR_ROOT.get(element.tag, FormatRules())
        return serialize(element, rules)
    if rules is None:
        rules = RULES_FOR_ROOT.get(etree.QName(element).localname, FormatRules())
    writer = _Writer(rules)
    return writer.document(element)


def format_native(element: etree._Element, level: int) -> str:
    """*element*, a native subtree at depth *level*, as libxml2 writes it (no newline after).

    *element* is the opaque copy libvirt keeps, detached or below a parent
    declaring no namespace (as the elements :func:`format_xml` writes it in).
    """
    writer = _Writer(FormatRules())
    writer.native(element, level, {}, is_root=True)
    return "".join(writer.out)


def _split_tag(tag: str) -> tuple[str | None, str]:
    """(namespace, local name) of a Clark-notation tag."""
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return uri, local
    return None, tag


def _qname(element: etree._Element) -> str:
    local = _split_tag(str(element.tag))[1]
    prefix = element.prefix
    return f"{prefix}:{local}" if prefix else local


def _attr_qname(element: etree._Element, key: str) -> str:
    if not key.startswith("{"):
        return key
    uri, local = key[1:].split("}", 1)
    if uri == _XML_NS:
        return f"xml:{local}"
    for prefix, candidate in element.nsmap.items():
        if candidate == uri and prefix is not None:
            return f"{prefix}:{local}"
    return local  # pragma: no cover - lxml always declares attribute namespaces


def _attributes(element: etree._Element) -> list[tuple[str, str]]:
    return [(str(key), str(value)) for key, value in element.attrib.items()]


def _is_element(node: etree._Element) -> bool:
    return isinstance(node.tag, str)


def _used_namespaces(element: etree._Element) -> Iterator[tuple[str | None, str]]:
    """(prefix, uri) of *element*'s name and attributes."""
    namespace = _split_tag(str(element.tag))[0]
    if namespace is not None:
        yield element.prefix, namespace
    for raw in element.attrib:
        key = str(raw)
        if key.startswith("{"):
            uri = key[1:].split("}", 1)[0]
            if uri != _XML_NS:
                prefix = _attr_qname(element, key).split(":", 1)[0]
                yield prefix, uri


class _Writer:
    def __init__(self, rules: FormatRules) -> None:
        self.rules = rules
        self.out: list[str] = []

    # -- libvirt's own formatting ---------------------------------------------------

    def document(self, root: etree._Element) -> str:
        path = (etree.QName(root).localname,)
        if self.rules.is_native(path):
            parent = root.getparent()
            self.native(root, 0, parent.nsmap if parent is not None else {}, is_root=True)
        else:
            self.element(root, 0, path, {}, self._root_namespaces(root, path))
        self.out.append("\n")
        return "".join(self.out)

    def _root_namespaces(self, root: etree._Element, path: tuple[str, ...]) -> dict[str, str]:
        """Prefixed namespaces the libvirt-formatted part uses, in first-use order."""
        found: dict[str, str] = {}
        stack = [(root, path)]
        while stack:
            element, where = stack.pop()
            for prefix, uri in _used_namespaces(element):
                if prefix is not None:
                    found.setdefault(prefix, uri)
            children = [c for c in element if _is_element(c)]
            for child in reversed(children):
                child_path = (*where, etree.QName(child).localname)
                if not self.rules.is_native(child_path):
                    stack.append((child, child_path))
        return found

    def element(
        self,
        element: etree._Element,
        level: int,
        path: tuple[str, ...],
        scope: dict[str | None, str],
        declare: dict[str, str],
    ) -> None:
        indent = "  " * level
        scope = dict(scope)
        scope.update(declare)
        head = [f"<{_qname(element)}"]
        head.extend(f" {_attr_qname(element, k)}='{escape(v)}'" for k, v in _attributes(element))
        default = etree.QName(element).namespace if element.prefix is None else None
        if (default or scope.get(None)) and scope.get(None) != default:
            head.append(f" xmlns='{escape(default or '')}'")
            scope[None] = default or ""
        head.extend(f" xmlns:{p}='{escape(u)}'" for p, u in declare.items())
        start = "".join(head)
        children = [c for c in element if _is_element(c)]
        if not children:
            text = str(element.xpath("string()"))
            open_empty = self.rules.is_open_empty(path)
            if text and not (open_empty and not text.strip()):
                self.out.append(f"{start}>{escape(text)}</{_qname(element)}>")
            elif open_empty:
                self.out.append(f"{start}>\n{indent}</{_qname(element)}>")
            elif self.rules.is_paired(path):
                self.out.append(f"{start}></{_qname(element)}>")
            else:
                self.out.append(f"{start}/>")
            return
        if (element.text or "").strip() or any((c.tail or "").strip() for c in element):
            self.out.append(f"{start}>")
            self.inline(element)
            self.out.append(f"</{_qname(element)}>")
            return
        spaced = self.rules.is_spaced(path)
        gap = "\n\n" if spaced else "\n"
        self.out.append(f"{start}>{gap}")
        for child in children:
            child_path = (*path, etree.QName(child).localname)
            self.out.append("  " * (level + 1))
            if self.rules.is_native(child_path):
                self.native(child, level + 1, element.nsmap, is_root=True)
            else:
                self.element(child, level + 1, child_path, scope, {})
            self.out.append(gap)
        self.out.append(f"{indent}</{_qname(element)}>")

    def inline(self, element: etree._Element) -> None:
        """Mixed content, which libvirt never writes itself: kept on one line."""
        self.out.append(escape(element.text or ""))
        for child in element:
            if _is_element(child):
                attrs = "".join(
                    f" {_attr_qname(child, k)}='{escape(v)}'" for k, v in _attributes(child)
                )
                if len(child) or child.text:
                    self.out.append(f"<{_qname(child)}{attrs}>")
                    self.inline(child)
                    self.out.append(f"</{_qname(child)}>")
                else:
                    self.out.append(f"<{_qname(child)}{attrs}/>")
            self.out.append(escape(child.tail or ""))

    # -- libxml2's serializer -------------------------------------------------------

    def native(
        self,
        element: etree._Element,
        level: int,
        inherited: Mapping[str | None, str],
        *,
        is_root: bool = False,
        formatting: bool = True,
    ) -> None:
        """*element* as libxml2 writes it; *inherited* is the parent's namespace scope."""
        nsmap = element.nsmap
        declared = {p: u for p, u in nsmap.items() if inherited.get(p) != u}
        if is_root:
            declared.update(self._reconciled(element, declared))
        head = [f"<{_qname(element)}"]
        for prefix, uri in declared.items():
            quote = "'" if '"' in uri else '"'
            name = f"xmlns:{prefix}" if prefix else "xmlns"
            head.append(f" {name}={quote}{uri}{quote}")
        head.extend(
            f' {_attr_qname(element, k)}="{_native_attr(v)}"' for k, v in _attributes(element)
        )
        self.out.append("".join(head))
        if not len(element) and not element.text:
            self.out.append("/>")
            return
        self.out.append(">")
        has_text = bool(element.text) or any(c.tail for c in element)
        formatting = formatting and not has_text
        if formatting:
            self.out.append("\n")
        else:
            self.out.append(_native_text(element.text or ""))
        for child in element:
            if formatting:
                self.out.append("  " * min(level + 1, _MAX_NATIVE_INDENT))
            self.native_node(child, level + 1, nsmap, formatting)
            self.out.append("\n" if formatting else _native_text(child.tail or ""))
        if formatting:
            self.out.append("  " * min(level, _MAX_NATIVE_INDENT))
        self.out.append(f"</{_qname(element)}>")

    def native_node(
        self,
        node: etree._Element,
        level: int,
        inherited: Mapping[str | None, str],
        formatting: bool,
    ) -> None:
        if isinstance(node, etree._Comment):
            self.out.append(f"<!--{node.text or ''}-->")
        elif isinstance(node, etree._ProcessingInstruction):
            body = f" {node.text}" if node.text else ""
            self.out.append(f"<?{node.target!s}{body}?>")
        elif _is_element(node):
            self.native(node, level, inherited, formatting=formatting)

    @staticmethod
    def _reconciled(
        root: etree._Element, declared: Mapping[str | None, str]
    ) -> dict[str | None, str]:
        """Namespaces declared outside the subtree but used in it.

        libvirt keeps such subtrees as copies (``xmlCopyNode``), which
        declare what they use from outside on their root, in order of use.
        """
        parent = root.getparent()
        outside = parent.nsmap if parent is not None else {}
        missing: dict[str | None, str] = {}
        for element in root.iter(etree.Element):
            for prefix, uri in _used_namespaces(element):
                if declared.get(prefix) == uri or prefix in missing:
                    continue
                if outside.get(prefix) == uri:
                    missing[prefix] = uri
        return missing
