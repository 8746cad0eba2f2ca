"""The output tree of the domain formatter, and its writer.

libvirt prints a domain by writing its definition piece by piece; virtcore
first builds the elements to print and then writes them. Building lxml
elements for that costs more than everything else of the printing, so the
domain's output code builds :class:`OutNode` trees instead: plain Python
objects holding a tag, ordered attributes, child nodes and text, with the
few element operations the output code uses (``set``/``get``, ``append``/
``insert``/``extend``, ``len``, iteration, indexing).

:func:`serialize` writes such a tree exactly as
:func:`virtcore.xml.format.format_xml` writes the equivalent lxml tree
(:meth:`OutNode.to_lxml`) with the same rules: libvirt's single quotes,
two-space indentation, escaping and the per-document quirks of
:class:`~virtcore.xml.format.FormatRules` (elements written open or paired
when empty, blank lines between children).

Input elements written back verbatim are kept as :class:`Embedded` nodes.
Those at a *native* path (``<metadata>``) are written by libxml2's
conventions through :func:`virtcore.xml.format.format_native`; any other
embedded element (an unknown device copied as it was read) or a node mixing
text and children sends the whole tree to the general formatter, which then
decides the text as it always did.

Node and attribute names are plain local names (the output code never
creates namespaced ones) and attribute values strings or integers, whose
``format`` is their ``str``.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Iterable, Iterator

from lxml import etree

from virtcore.xml.format import FormatRules, escape, format_native, format_xml

__all__ = [
    "AttrValue",
    "CompiledRules",
    "Embedded",
    "FormatFallback",
    "OutNode",
    "compiled_rules",
    "needs_escaping",
    "serialize",
    "write_children",
]

logger = logging.getLogger(__name__)


AttrValue = str | int | None
"""An attribute value as the output code gives it: None leaves the attribute out."""


class OutNode:
    """An element to print: tag, attributes in order, children and text.

    The attributes are kept as given - (name, value) pairs, None values
    meaning absent, numbers written in decimal - until something asks for
    them by name; :attr:`attrs` then turns them into a mapping once. Setting
    an attribute that is already there replaces its value in place, as lxml
    does, so the attribute order is that of the first setting. The list of
    pairs is never changed in place (setting goes through the mapping), so
    a node may keep the very list it was made with.
    """

    __slots__ = ("_attrs", "children", "pairs", "tag", "text")

    def __init__(
        self,
        tag: str,
        pairs: list[tuple[str, AttrValue]] | None = None,
        children: list[OutNode] | None = None,
        text: str | None = None,
    ) -> None:
        self.tag = tag
        self.pairs: list[tuple[str, AttrValue]] | None = [] if pairs is None else pairs
        """The attributes as given (owned by the node), or None once :attr:`attrs` took over."""
        self._attrs: dict[str, str] | None = None
        self.children: list[OutNode] = [] if children is None else children
        self.text = text

    def __repr__(self) -> str:
        return f"<OutNode {self.tag} {self.attrs!r} {len(self.children)} children>"

    @property
    def attrs(self) -> dict[str, str]:
        """The attributes by name, in order (the node's own mapping)."""
        attrs = self._attrs
        if attrs is None:
            attrs = {}
            for key, value in self.pairs or ():
                if value is not None:
                    attrs[key] = value if type(value) is str else str(value)
            self._attrs = attrs
            self.pairs = None
        return attrs

    attrib = attrs
    """lxml's name of :attr:`attrs`."""

    def has_attributes(self) -> bool:
        """Whether any attribute is set."""
        pairs = self.pairs
        if pairs is None:
            return bool(self._attrs)
        return any(value is not None for _, value in pairs)

    def set(self, key: str, value: str) -> None:
        """Set attribute *key* (kept in its place when already set)."""
        self.attrs[key] = value

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of attribute *key*, or *default*."""
        return self.attrs.get(key, default)

    def items(self) -> list[tuple[str, str]]:
        """The attributes as (name, value) pairs, in order."""
        return list(self.attrs.items())

    def append(self, child: OutNode) -> None:
        """Add *child* as the last child."""
        self.children.append(child)

    def insert(self, index: int, child: OutNode) -> None:
        """Add *child* before position *index*."""
        self.children.insert(index, child)

    def extend(self, children: Iterable[OutNode]) -> None:
        """Add *children* at the end, in order."""
        self.children.extend(children)

    def __len__(self) -> int:
        return len(self.children)

    def __iter__(self) -> Iterator[OutNode]:
        return iter(self.children)

    def __getitem__(self, index: int) -> OutNode:
        return self.children[index]

    def find(self, path: str) -> OutNode | None:
        """The first descendant at *path*, child names separated by ``/`` (as lxml's
        ``find`` with a plain path)."""
        level: list[OutNode] = [self]
        for name in path.split("/"):
            level = [child for node in level for child in node.children if child.tag == name]
        return level[0] if level else None

    def to_lxml(self) -> etree._Element:
        """The equivalent lxml tree (embedded elements copied)."""
        node = etree.Element(self.tag)
        for key, value in self.attrs.items():
            node.set(key, value)
        if self.text is not None:
            node.text = self.text
        for child in self.children:
            node.append(child.to_lxml())
        return node


class Embedded(OutNode):
    """An input element printed back as it is (``<metadata>``, an unknown device).

    The element is not changed by printing; :meth:`to_lxml` gives a copy.
    """

    __slots__ = ("source",)

    def __init__(self, source: etree._Element) -> None:
        super().__init__(etree.QName(source).localname)
        self.source = source

    def to_lxml(self) -> etree._Element:
        return copy.deepcopy(self.source)


class FormatFallback(Exception):
    """The tree needs the general formatter (:func:`write_children` cannot write it)."""


_Table = dict[str, tuple[tuple[str, ...], ...]]


class CompiledRules:
    """:class:`FormatRules` as look-ups by the last name of each path (see
    :func:`compiled_rules`)."""

    def __init__(self, rules: FormatRules) -> None:
        self.native = self._table(rules.native)
        self.open_empty = self._table(rules.open_empty)
        self.paired = self._table(rules.paired)
        self.spaced = self._table(rules.spaced)
        self.quirky = frozenset(self.native.keys() | self.open_empty.keys() | self.paired.keys())
        """Names of the elements some rule may apply to."""

    @staticmethod
    def _table(entries: frozenset[str]) -> _Table:
        table: dict[str, list[tuple[str, ...]]] = {}
        for entry in sorted(entries):
            wanted = tuple(entry.split("/"))
            table.setdefault(wanted[-1], []).append(wanted)
        return {name: tuple(paths) for name, paths in table.items()}


def _matches(table: _Table, path: list[str]) -> bool:
    entries = table.get(path[-1])
    if entries is None:
        return False
    for wanted in entries:
        size = len(wanted)
        if size <= len(path) and tuple(path[-size:]) == wanted:
            return True
    return False


@functools.lru_cache(maxsize=32)
def compiled_rules(rules: FormatRules) -> CompiledRules:
    """*rules* in the form :func:`write_children` takes (made once per rules)."""
    return CompiledRules(rules)


# Characters escape() drops.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")


# The ASCII characters escape() keeps as they are, and NUL (the quotes).
_KEPT_ASCII = bytes(c for c in range(128) if c == 0 or not _CONTROL.match(chr(c)))


def needs_escaping(values: str) -> bool:
    """Whether :func:`~virtcore.xml.format.escape` changes *values* (NUL quotes aside)."""
    if "&" in values or "<" in values or ">" in values or '"' in values or "'" in values:
        return True
    if values.isascii():
        # Deleting the characters kept leaves those dropped: one pass in C.
        return bool(values.encode("ascii").translate(None, _KEPT_ASCII))
    # Control characters are not printable; neither are tabs, newlines, non-ASCII spaces.
    return not values.replace("\x00", "").isprintable() and _CONTROL.search(values) is not None


def serialize(root: OutNode, rules: FormatRules) -> str:
    """*root* as :func:`~virtcore.xml.format.format_xml` writes ``root.to_lxml()``."""
    compiled = compiled_rules(rules)
    try:
        if type(root) is Embedded or _matches(compiled.native, [root.tag]):
            raise FormatFallback
        # Values are written as they are, attribute values quoted by NUL (which no
        # XML text holds, and lxml refuses too), and checked all at once afterwards:
        # the rare document with something to escape is written again.
        values: list[str] = []
        out: list[str] = []
        _quoted(root, "", [root.tag], out, values, rules=compiled)
        if not needs_escaping("".join(values)):
            out.append("\n")
            return "".join(out).replace("\x00", "'")
        out = []
        _element(root, "", [root.tag], out, rules=compiled)
    except FormatFallback:
        return format_xml(root.to_lxml(), rules=rules)
    out.append("\n")
    return "".join(out)


def _quoted(
    node: OutNode,
    indent: str,
    path: list[str],
    out: list[str],
    values: list[str],
    *,
    rules: CompiledRules,
) -> None:
    """Write *node* (its name ends *path*) at *indent* as :func:`_element` does, attribute
    values in NUL quotes and every value collected in *values* (the usual case, made tight:
    each node's attributes are rendered once, in one pass)."""
    tag = node.tag
    pairs = node.pairs
    if pairs is None:
        pairs = node.attrs.items()  # type: ignore[assignment]
    attrs = ""
    if pairs:
        for key, value in pairs:
            if value is not None:
                attrs += f" {key}=\x00{value}\x00"
        values.append(attrs)
    children = node.children
    text = node.text
    if not children:
        open_empty = tag in rules.open_empty and _matches(rules.open_empty, path)
        if text and not (open_empty and not text.strip()):
            values.append(text)
            out.append(f"<{tag}{attrs}>{text}</{tag}>")
        elif open_empty:
            out.append(f"<{tag}{attrs}>\n{indent}</{tag}>")
        elif tag in rules.paired and _matches(rules.paired, path):
            out.append(f"<{tag}{attrs}></{tag}>")
        else:
            out.append(f"<{tag}{attrs}/>")
        return
    if text and text.strip():
        raise FormatFallback  # mixed content
    gap = "\n\n" if tag in rules.spaced and _matches(rules.spaced, path) else "\n"
    out.append(f"<{tag}{attrs}>{gap}")
    write_children(children, indent + "  ", path, out, values, rules, gap)
    out.append(f"{indent}</{tag}>")


def write_children(  # noqa: PLR0917 - the serializer's state, passed down as _quoted passes it
    children: Iterable[OutNode],
    inner: str,
    path: list[str],
    out: list[str],
    values: list[str],
    rules: CompiledRules,
    gap: str = "\n",
) -> None:
    """Write *children* of the element *path* names at indent *inner*, each followed by
    *gap*, as :func:`serialize` writes them: attribute values in NUL quotes, every value
    collected in *values* for one check at the end (see :func:`needs_escaping`).

    Raises :class:`FormatFallback` for what only the general formatter writes.
    """
    write = out.append
    native = rules.native
    # Leaves without a quirk, most of the elements, are written right here.
    quirky = rules.quirky
    for child in children:
        name = child.tag
        if child.children or name in quirky or type(child) is Embedded:
            path.append(name)
            if name in native and _matches(native, path):
                source = child.source if type(child) is Embedded else child.to_lxml()
                if source.getparent() is not None:
                    source = copy.deepcopy(source)
                write(inner + format_native(source, len(path) - 1) + gap)
            elif type(child) is Embedded:
                raise FormatFallback
            else:
                write(inner)
                _quoted(child, inner, path, out, values, rules=rules)
                write(gap)
            path.pop()
            continue
        pairs = child.pairs
        if pairs is None:
            pairs = child.attrs.items()  # type: ignore[assignment]
        attrs = ""
        if pairs:
            for key, value in pairs:
                if value is not None:
                    attrs += f" {key}=\x00{value}\x00"
            values.append(attrs)
        text = child.text
        if text:
            values.append(text)
            write(f"{inner}<{name}{attrs}>{text}</{name}>{gap}")
        else:
            write(f"{inner}<{name}{attrs}/>{gap}")


def _start(node: OutNode) -> str:
    """``<tag`` and the attributes, escaped and quoted. Values are strings or numbers, whose
    ``format`` is their ``str``."""
    pairs = node.pairs
    if pairs is None:
        pairs = list(node.attrs.items())
    elif not pairs:
        return "<" + node.tag
    attrs = ""
    for key, value in pairs:
        if value is not None:
            attrs += f" {key}='{escape(f'{value}')}'"
    return "<" + node.tag + attrs


def _element(
    node: OutNode,
    indent: str,
    path: list[str],
    out: list[str],
    *,
    rules: CompiledRules,
) -> None:
    """Write *node* (its name ends *path*) at *indent*, without a newline after it, every
    value escaped (the rare document :func:`_quoted` found something to escape in)."""
    tag = node.tag
    start = _start(node)
    children = node.children
    text = node.text
    if not children:
        open_empty = tag in rules.open_empty and _matches(rules.open_empty, path)
        if text and not (open_empty and not text.strip()):
            out.append(f"{start}>{escape(text)}</{tag}>")
        elif open_empty:
            out.append(f"{start}>\n{indent}</{tag}>")
        elif tag in rules.paired and _matches(rules.paired, path):
            out.append(f"{start}></{tag}>")
        else:
            out.append(start + "/>")
        return
    if text and text.strip():
        raise FormatFallback  # mixed content
    gap = "\n\n" if tag in rules.spaced and _matches(rules.spaced, path) else "\n"
    out.append(start + ">" + gap)
    inner = indent + "  "
    native = rules.native
    quirky = rules.quirky
    for child in children:
        name = child.tag
        if child.children or name in quirky or type(child) is Embedded:
            path.append(name)
            if name in native and _matches(native, path):
                source = child.source if type(child) is Embedded else child.to_lxml()
                if source.getparent() is not None:
                    source = copy.deepcopy(source)
                out.append(inner + format_native(source, len(path) - 1) + gap)
            elif type(child) is Embedded:
                raise FormatFallback
            else:
                out.append(inner)
                _element(child, inner, path, out, rules=rules)
                out.append(gap)
            path.pop()
            continue
        start = _start(child)
        text = child.text
        if not text:
            out.append(f"{inner}{start}/>{gap}")
            continue
        out.append(f"{inner}{start}>{escape(text)}</{name}>{gap}")
    out.append(f"{indent}</{tag}>")
