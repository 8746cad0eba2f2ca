"""XML plumbing for the test driver: hostile-input-safe parsing, libvirt-style output.

Parsing (:func:`parse_xml`, :func:`parse_xml_file`) never expands entities,
never touches the network or loads a DTD, keeps libxml2's default size limits
and refuses documents carrying a ``DOCTYPE`` (libvirt would expand internal
entities; virtcore rejects them with :class:`~virtcore.errors.XMLError`).
Syntax errors become ``VIR_ERR_XML_DETAIL`` with libvirt's three-line message::

    (domain_definition):1: expected '>'
    <domain type="test"><name>bad</name
    -----------------------------------^

Output goes through :class:`XMLWriter`, which formats the way libvirt's
``virBuffer`` code does: two-space indentation, single-quoted attributes,
``<x/>`` for empty elements, and libvirt's escaping. :meth:`XMLWriter.element`
writes any element tree in that style, which is how elements virtcore does not
model are carried through unchanged in content.

This module is deliberately free of driver knowledge so that the XML model
layer can replace it wholesale.
"""

from __future__ import annotations

import logging
import os
import re
import uuid as _uuid
from collections.abc import Iterable, Sequence

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, InvalidArgError, XMLDetailError, XMLError

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "XMLWriter",
    "attributes",
    "child",
    "child_text",
    "children",
    "elements",
    "escape",
    "format_element",
    "format_serialised",
    "local_name",
    "needs_escape",
    "parse_uuid",
    "parse_xml",
    "parse_xml_file",
    "require_uuid",
    "restore_element",
    "scaled_integer",
    "words",
]

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
"""Largest document accepted (libvirt's own RPC string limit is 4 MiB per string)."""

_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;"}
_ESCAPE_RE = re.compile(r"[<>&'\"]|[\x01-\x08\x0b\x0c\x0e-\x1f]")


def escape(text: str) -> str:
    """Escape *text* like libvirt's ``virBufferEscapeString`` (control characters dropped)."""
    if _ESCAPE_RE.search(text) is None:
        return text  # the common case: nothing to escape, no substitution pass
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(0), ""), text)


def needs_escape(text: str) -> bool:
    """Whether :func:`escape` would change *text* (one check for many values joined)."""
    return _ESCAPE_RE.search(text) is not None


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _detail_message(source: bytes, url: str, parser: etree.XMLParser, exc: Exception) -> str:
    """libvirt's ``catchXMLError`` text for the first fatal parser error."""
    entry = None
    for candidate in parser.error_log:
        if candidate.level_name == "FATAL":
            entry = candidate
            break
    if entry is not None:
        line, column, message = entry.line, entry.column, entry.message
    else:
        line, column = getattr(exc, "position", (1, 1))
        message = str(exc)
    lines = source.decode("utf-8", "replace").splitlines() or [""]
    context = lines[line - 1] if 0 < line <= len(lines) else ""
    # libvirt prints a NULL context line as "(null)" and walks the caret
    # along the context, copying tabs so the caret lines up.
    pointer = "".join("\t" if ch == "\t" else "-" for ch in context[: max(column - 1, 0)])
    return f"{url}:{line}: {message}\n{context or '(null)'}\n{pointer}^"


def parse_xml(
    text: str | bytes,
    url: str,
    *,
    domain: int = ErrorDomain.DOMAIN,
    root: str | None = None,
    root_error_domain: int = ErrorDomain.XML,
) -> etree._Element:
    """Parse *text* safely and return its root element.

    *url* names the document in syntax errors (``"(domain_definition)"``),
    *domain* is the error domain those errors carry. With *root*, a different
    root element raises ``XML error: expecting root element of 'X', not 'Y'``.
    """
    source = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(source) > MAX_DOCUMENT_BYTES:
        raise XMLError(f"document {url} is larger than {MAX_DOCUMENT_BYTES} bytes", domain=domain)
    parser = _new_parser()
    try:
        tree = etree.fromstring(source, parser)
    except etree.XMLSyntaxError as exc:
        message = _detail_message(source, url, parser, exc)
        raise XMLDetailError(message, domain=domain) from None
    docinfo = tree.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise XMLError("DOCTYPE declarations and entities are not allowed in " + url, domain=domain)
    if root is not None and local_name(tree) != root:
        raise XMLError(
            f"expecting root element of '{root}', not '{local_name(tree)}'",
            domain=root_error_domain,
        )
    return tree


def parse_xml_file(
    path: str, *, domain: int = ErrorDomain.TEST, root: str | None = None
) -> etree._Element:
    """Read and parse the file at *path*; errors name the file like libvirt's.

    A file that cannot be opened is "failed to parse xml document"; libxml2
    reads a directory as an empty document, and so does this function.
    """
    if os.path.isdir(path):
        raise XMLDetailError(f"{path}:1: Document is empty\n(null)\n^", domain=domain)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        logger.debug("cannot read %s: %s", path, exc)
        raise XMLError(f"failed to parse xml document '{path}'", domain=domain) from None
    return parse_xml(data, path, domain=domain, root=root)


def words(text: str) -> tuple[str, ...]:
    """The blank-separated words of *text* (compact spelling for long name tables)."""
    return tuple(text.split())


def local_name(elem: etree._Element) -> str:
    """An element's tag without its namespace (``""`` for comments and the like)."""
    tag: object = elem.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def elements(elem: etree._Element) -> list[etree._Element]:
    """Element children of *elem* in any namespace (no comments or processing instructions)."""
    return [sub for sub in elem if isinstance(sub.tag, str)]


def children(elem: etree._Element, name: str | None = None) -> list[etree._Element]:
    """Element children of *elem* in the default namespace, optionally by name."""
    if name is None:
        return [sub for sub in elem if isinstance(sub.tag, str) and not sub.tag.startswith("{")]
    if name.startswith("{"):
        return []
    # A comment's or processing instruction's tag is not a string: never equal to *name*.
    return [sub for sub in elem if sub.tag == name]


def attributes(elem: etree._Element) -> dict[str, str]:
    """An element's attributes as a plain ``str`` mapping, in document order."""
    return {_text_of(k): _text_of(v) for k, v in elem.attrib.items()}


def _text_of(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def child(elem: etree._Element, name: str) -> etree._Element | None:
    """The first child called *name*, or ``None``."""
    plain = _PLAIN_NAMES.get(name)
    if plain is None:
        plain = _PLAIN_NAMES[name] = _PLAIN_NAME_RE.fullmatch(name) is not None
    if plain:
        # lxml filters children by a bare tag name (un-namespaced elements only) in C,
        # without building a proxy for every sibling.
        return next(elem.iterchildren(name), None)
    if name.startswith("{"):
        return None
    for sub in elem:
        if sub.tag == name:
            return sub
    return None


_PLAIN_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN_NAMES: dict[str, bool] = {}


def child_text(elem: etree._Element, name: str) -> str | None:
    """Text of the first child called *name* (``""`` when empty), or ``None``."""
    sub = child(elem, name)
    if sub is None:
        return None
    return sub.text or ""


_UNIT_SCALE: dict[str, int] = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "k": 1024,
    "kib": 1024,
    "mb": 1000**2,
    "m": 1024**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "g": 1024**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "t": 1024**4,
    "tib": 1024**4,
    "pb": 1000**5,
    "p": 1024**5,
    "pib": 1024**5,
    "eb": 1000**6,
    "e": 1024**6,
    "eib": 1024**6,
}


def scaled_integer(elem: etree._Element, xpath_name: str, *, default_unit: str, domain: int) -> int:
    """The value of a ``<x unit='...'>N</x>`` element in bytes.

    Units and rounding follow libvirt's ``virDomainParseScaledValue``;
    *xpath_name* is used in the "Invalid value" message (``./memory[1]``).
    """
    raw = (elem.text or "").strip()
    if not re.fullmatch(r"[0-9]+", raw):
        raise XMLError(
            f"Invalid value '{elem.text or ''}' for element or attribute '{xpath_name}'",
            domain=ErrorDomain.XML,
        )
    unit = elem.get("unit")
    scale = _UNIT_SCALE.get((unit if unit is not None else default_unit).lower())
    if scale is None:
        raise InvalidArgError(f"unknown suffix '{unit}'", domain=ErrorDomain.NONE)
    value = int(raw) * scale
    if value >= 2**64:
        raise XMLError(f"value of '{xpath_name}' is too large", domain=domain)
    return value


_UUID_HEX_RE = re.compile(r"[0-9a-fA-F]{2}")
_CANONICAL_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_uuid(text: str) -> str | None:
    """Canonical form of a UUID the way libvirt's ``virUUIDParse`` reads it, or ``None``.

    Leading and trailing blanks are allowed and ``-`` may appear between any
    two bytes; anything else makes the text invalid.
    """
    if _CANONICAL_UUID_RE.fullmatch(text):
        return text  # the common case, already canonical
    body = text.strip(" \t\n\r")
    digits: list[str] = []
    pos = 0
    while len(digits) < 16:
        while pos < len(body) and body[pos] == "-":
            pos += 1
        pair = body[pos : pos + 2]
        if not _UUID_HEX_RE.fullmatch(pair):
            return None
        digits.append(pair)
        pos += 2
    if pos != len(body):
        return None
    return str(_uuid.UUID("".join(digits)))


def require_uuid(text: str, *, domain: int = ErrorDomain.DOMAIN) -> str:
    """:func:`parse_uuid` or libvirt's "malformed uuid element" error."""
    parsed = parse_uuid(text)
    if parsed is None:
        raise InternalError("malformed uuid element", domain=domain)
    return parsed


Attr = tuple[str, "str | int | None"]

# (serialised subtree, containers kept open, indentation) -> its formatted lines, joined.
_FORMATTED: dict[tuple[bytes, tuple[str, ...], int], str] = {}
_FORMATTED_LIMIT = 4096


class XMLWriter:
    """Builds a document line by line, formatted like libvirt's ``virBuffer`` output."""

    def __init__(self, indent: int = 0) -> None:
        self._lines: list[str] = []
        self._indent = indent

    @staticmethod
    def _attrs(attrs: Iterable[Attr]) -> str:
        return "".join(f" {k}='{escape(str(v))}'" for k, v in attrs if v is not None)

    def line(self, text: str) -> None:
        """Add one raw, already escaped line at the current indentation."""
        self._lines.append(" " * self._indent + text)

    def open(self, tag: str, attrs: Iterable[Attr] = ()) -> None:
        """Write ``<tag ...>`` and indent what follows."""
        self.line(f"<{tag}{self._attrs(attrs)}>")
        self._indent += 2

    def close(self, tag: str) -> None:
        """Dedent and write ``</tag>``."""
        self._indent -= 2
        self.line(f"</{tag}>")

    def empty(self, tag: str, attrs: Iterable[Attr] = ()) -> None:
        """Write ``<tag .../>``."""
        self.line(f"<{tag}{self._attrs(attrs)}/>")

    def text(self, tag: str, value: str | int, attrs: Iterable[Attr] = ()) -> None:
        """Write ``<tag ...>value</tag>``."""
        # The commonest write of all: no attribute pass and no escape pass when not needed.
        shown = value if type(value) is str else str(value)
        if _ESCAPE_RE.search(shown) is not None:
            shown = escape(shown)
        start = f"<{tag}{self._attrs(attrs)}>" if attrs else f"<{tag}>"
        self._lines.append(f"{' ' * self._indent}{start}{shown}</{tag}>")

    def lines(self, text: str) -> None:
        """Add *text*: lines already formatted and indented for the current position."""
        self._lines.append(text)

    def blank(self) -> None:
        """Write an empty line (libvirt puts some between capability sections)."""
        self._lines.append("")

    def element(self, elem: etree._Element, *, keep_open: Sequence[str] = ()) -> None:
        """Write *elem* and its subtree in libvirt's style.

        Whitespace-only text is dropped. Elements named in *keep_open* are
        written as ``<x>`` / ``</x>`` pairs even when empty, as libvirt does
        for some containers. Namespaces the subtree uses are declared on
        *elem*, so the output stands on its own.
        """
        # One entry of _lines holding several: getvalue() joins them all alike.
        self._lines.append(format_element(elem, self._indent, keep_open))

    def _element(
        self, elem: etree._Element, keep_open: Sequence[str], declare: dict[str, str]
    ) -> None:
        raw_tag = elem.tag
        # Un-namespaced names (nearly all) need no prefix lookup.
        tag = raw_tag if raw_tag[0] != "{" else _qualified(elem)
        parts = []
        for key, value in elem.items():
            name = _text_of(key)
            if name[0] == "{":
                name = _qualified_attr(elem, name)
            parts.append(f" {name}='{escape(_text_of(value))}'")
        attrs = "".join(parts)
        if declare:
            attrs += "".join(
                f" xmlns:{prefix}='{escape(uri)}'" if prefix else f" xmlns='{escape(uri)}'"
                for prefix, uri in declare.items()
            )
        kids = [sub for sub in elem if isinstance(sub.tag, str)]
        text = elem.text if elem.text is not None and elem.text.strip() else None
        if not kids:
            if text is not None:
                self.line(f"<{tag}{attrs}>{escape(text)}</{tag}>")
            elif keep_open and local_name(elem) in keep_open:
                self.line(f"<{tag}{attrs}>")
                self.line(f"</{tag}>")
            else:
                self.line(f"<{tag}{attrs}/>")
            return
        self.line(f"<{tag}{attrs}>")
        self._indent += 2
        if text is not None:
            self.line(escape(text.strip()))
        for sub in kids:
            self._element(sub, keep_open, {})
        self._indent -= 2
        self.line(f"</{tag}>")

    def getvalue(self) -> str:
        """The document, each line terminated by a newline."""
        return "\n".join(self._lines) + "\n" if self._lines else ""


def format_element(elem: etree._Element, indent: int = 0, keep_open: Sequence[str] = ()) -> str:
    """The lines :meth:`XMLWriter.element` writes for *elem* at *indent*, joined, no final newline.

    Domain documents repeat the same small subtrees (``<os>``, ``<clock>``,
    common devices) over and over: serialising in C gives a key under which
    the libvirt-style text, built once, is reused. Identical serialisations
    (tags, prefixes, namespaces, attributes, text) format identically.
    """
    opened = keep_open if type(keep_open) is tuple else tuple(keep_open)
    key = (etree.tostring(elem, with_tail=False), opened, indent)
    text = _FORMATTED.get(key)
    if text is None:
        sub = XMLWriter(indent)
        sub._element(elem, keep_open, _used_namespaces(elem))
        text = "\n".join(sub._lines)
        if len(_FORMATTED) >= _FORMATTED_LIMIT:
            _FORMATTED.clear()
        _FORMATTED[key] = text
    return text


def format_serialised(serialised: bytes, indent: int = 0) -> str:
    """:func:`format_element` for the element ``etree.tostring(elem, with_tail=False)`` gave.

    Kept serialisations format without building a tree whenever the same
    subtree was formatted before (the usual case: the key is the same).
    """
    text = _FORMATTED.get((serialised, (), indent))
    if text is None:
        text = format_element(restore_element(serialised), indent)
    return text


def restore_element(serialised: bytes) -> etree._Element:
    """The element ``etree.tostring(elem, with_tail=False)`` serialised, as a new tree.

    The text is this process's own serialisation of an already checked tree;
    it is still parsed without entities or network access.
    """
    return etree.fromstring(serialised, _new_parser())


def restore_text(text: str) -> etree._Element:
    """The element whose libvirt-style text (as :class:`XMLWriter` writes it) is *text*.

    The indentation is dropped: the tree holds no whitespace-only text.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True
    )
    return etree.fromstring(text.strip().encode(), parser)


def _qualified(elem: etree._Element) -> str:
    name = local_name(elem)
    return f"{elem.prefix}:{name}" if elem.prefix else name


def _qualified_attr(elem: etree._Element, key: str) -> str:
    if not key.startswith("{"):
        return key
    ns, _, name = key[1:].partition("}")
    for prefix, uri in elem.nsmap.items():
        if uri == ns and prefix:
            return f"{prefix}:{name}"
    if ns == "http://www.w3.org/XML/1998/namespace":
        return f"xml:{name}"
    return name


def _used_namespaces(elem: etree._Element) -> dict[str, str]:
    """prefix → URI of every namespace used by tags or attributes in *elem*'s subtree."""
    used: dict[str, str] = {}
    for node in elem.iter():
        tag: object = node.tag
        if not isinstance(tag, str):
            continue
        uris = [tag[1:].partition("}")[0]] if tag[0] == "{" else []
        for key in node.attrib:
            name = _text_of(key)
            if name[0] == "{":
                uris.append(name[1:].partition("}")[0])
        for uri in uris:
            if uri == "http://www.w3.org/XML/1998/namespace":
                continue
            for prefix, known in node.nsmap.items():
                if known == uri:
                    used[prefix or ""] = uri
                    break
    return used
