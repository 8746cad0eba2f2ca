"""Safe parsing of untrusted XML documents, with libvirt's error reporting.

Every XML document virtcore accepts goes through :func:`parse_document` (or
:func:`parse_file`). The contract:

* **Hostile input is refused, never expanded.** The parser never substitutes
  entities, never loads a DTD or any other external resource and never
  touches the network. A document carrying a ``<!DOCTYPE>`` - and therefore
  any entity declaration: "billion laughs", external ``SYSTEM`` entities,
  parameter entities - is rejected with :class:`~virtcore.errors.XMLError`
  before the parser sees it. Documents larger than *max_size* bytes (default
  10 MiB, the size above which ``virsh`` refuses to read an XML file) are
  refused unread, and nesting deeper than libvirt's limit fails as in libvirt.
* **The input is read the way libvirt reads it.** Text is UTF-8 whatever its
  XML declaration says (libvirt parses API strings as UTF-8 and only checks
  that a declared encoding is one it knows), and the document ends at the
  first NUL byte, as a C string does. Only fatal parser errors count, so an
  undefined namespace prefix is accepted as libvirt accepts it.
* **Syntax errors read exactly like libvirt 9.0's.** A malformed document
  raises :class:`XMLParseError` (``VIR_ERR_XML_DETAIL``, in the caller's
  error domain) whose message is libvirt's three-line form: ``url:line:``
  and the parser's message, the offending source line, and a caret line::

      (domain_definition):1: expected '>'
      <domain type="test"><name>bad</name
      -----------------------------------^

  :mod:`virtcore.xml.syntax` reproduces libvirt's libxml2 where it differs
  from the one lxml bundles.

Whitespace-only text between elements is dropped while parsing, as libvirt's
parser does; comments and processing instructions stay in the tree so that
opaque content such as ``<metadata>`` survives untouched; CDATA sections
become ordinary text.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any, NoReturn

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import XMLDetailError, XMLError
from virtcore.xml.syntax import MAX_DEPTH, find_error, new_parser

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_SIZE",
    "XMLParseError",
    "expect_root",
    "local_name",
    "parse_document",
    "parse_file",
]

logger = logging.getLogger(__name__)

MAX_DOCUMENT_SIZE = 10 * 1024 * 1024
"""Default size limit in bytes (``virsh`` refuses larger XML files)."""


class XMLParseError(XMLDetailError):
    """A syntax error in a document (``VIR_ERR_XML_DETAIL``).

    The message is libvirt's; :attr:`line` and :attr:`column` (1-based, the
    column counted in characters) locate the error for programs.
    """

    line: int
    column: int

    def __init__(self, detail: str, *, line: int, column: int, domain: int) -> None:
        super().__init__(detail, domain=domain)
        self.line = line
        self.column = column


def local_name(element: etree._Element) -> str:
    """The tag of *element* without its namespace (``{uri}name`` -> ``name``)."""
    return etree.QName(element).localname


def expect_root(element: etree._Element, name: str) -> None:
    """Check the root element's name the way libvirt's ``virXMLParse`` does.

    Only the local name counts (a namespaced ``<x:domain>`` passes for
    ``domain``). A mismatch raises ``XMLError`` from the XML utility domain:
    ``XML error: expecting root element of 'domain', not 'network'``.
    """
    if element.tag == name:  # no namespace: the local name is the tag
        return
    actual = local_name(element)
    if actual != name:
        raise XMLError(
            f"expecting root element of '{name}', not '{actual}'", domain=ErrorDomain.XML
        )


def parse_document(
    text: str | bytes,
    *,
    url: str | None = "(domain_definition)",
    error_domain: int = ErrorDomain.DOMAIN,
    root: str | None = None,
    max_size: int = MAX_DOCUMENT_SIZE,
    max_depth: int = MAX_DEPTH,
) -> etree._Element:
    """Parse an untrusted document and return its root element.

    *url* names the document in syntax errors; libvirt uses
    ``(domain_definition)``, ``(network_definition)``,
    ``(storage_pool_definition)`` and so on for API strings and the file name
    for files. With ``url=None`` errors read ``at line N: ...`` as libvirt's
    do for unnamed documents. *error_domain* is the error domain syntax errors
    carry (the caller's subsystem, libvirt's ``domcode``). *root*, when given,
    is checked with :func:`expect_root`. *max_depth* (the root counting as 1)
    may lower, never raise, libvirt's nesting limit of :data:`MAX_DEPTH`.

    Raises :class:`XMLParseError` for malformed input, :class:`XMLError` for a
    DOCTYPE, an oversized or overly deep document or a wrong root element.
    """
    if not 1 <= max_depth <= MAX_DEPTH:
        raise ValueError(f"max_depth must be between 1 and {MAX_DEPTH}")
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    name = url if url is not None else "document"
    if len(data) > max_size:
        raise XMLError(
            f"document {name} is too large: {len(data)} bytes, at most {max_size} allowed",
            domain=error_domain,
        )
    nul = data.find(b"\0")
    if nul >= 0:
        data = data[:nul]
    # Refuse a DOCTYPE before the parser sees it: libxml2 reads an external
    # subset from local files even when told not to load DTDs. A document that
    # starts with its root element has no prolog, so no DOCTYPE, to look at.
    prolog = not _starts_with_root(data)
    if prolog and _has_doctype(data):
        _refuse_doctype(name, error_domain)
    tree = _parse_bytes(data, url, error_domain)
    if prolog and _docinfo_has_doctype(tree.getroottree().docinfo):  # pragma: no cover
        _refuse_doctype(name, error_domain)  # caught above
    if max_depth < MAX_DEPTH and etree.XPath("/*" + "/*" * max_depth)(tree):
        raise XMLError(
            f"document {name} nests elements deeper than {max_depth} levels", domain=error_domain
        )
    if root is not None:
        expect_root(tree, root)
    return tree


def parse_file(
    path: str | Path,
    *,
    error_domain: int = ErrorDomain.DOMAIN,
    root: str | None = None,
    max_size: int = MAX_DOCUMENT_SIZE,
) -> etree._Element:
    """Read and parse the file at *path*; syntax errors are named after the file."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_size + 1)
    except OSError as exc:
        logger.debug("cannot read %s: %s", path, exc)
        raise XMLError(f"failed to parse xml document '{path}'", domain=error_domain) from None
    return parse_document(
        data, url=str(path), error_domain=error_domain, root=root, max_size=max_size
    )


# Whitespace, comments and processing instructions may precede a DOCTYPE.
_PROLOG_ITEM = re.compile(rb"[ \t\r\n]+|<!--.*?-->|<\?.*?\?>", re.DOTALL)
_BOM = b"\xef\xbb\xbf"


def _starts_with_root(data: bytes) -> bool:
    """Whether *data* opens with its root element's tag (no BOM, XML declaration, ...)."""
    return data[:1] == b"<" and data[1:2] not in (b"!", b"?")


def _has_doctype(data: bytes) -> bool:
    if _starts_with_root(data):
        return False  # nothing precedes the root element
    pos = len(_BOM) if data.startswith(_BOM) else 0
    while (item := _PROLOG_ITEM.match(data, pos)) is not None:
        pos = item.end()
    return data.startswith(b"<!DOCTYPE", pos)


def _docinfo_has_doctype(docinfo: Any) -> bool:
    # DocInfo is only partly covered by the type stubs.
    return bool(docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD)


def _refuse_doctype(name: str, error_domain: int) -> NoReturn:
    logger.debug("refusing document %s with a DOCTYPE declaration", name)
    raise XMLError(
        f"DOCTYPE and entity declarations are not allowed in {name}", domain=error_domain
    )


_IDLE = threading.local()
"""Each thread's parser while no parse uses it: making a parser costs about a seventh of
parsing a typical domain."""


def _parse_bytes(data: bytes, url: str | None, error_domain: int) -> etree._Element:
    """Parse *data*, raising the syntax error libvirt 9.0 would report first."""
    # A parser of this thread's, taken while in use: a parse within a parse (none is
    # known) makes a parser of its own. lxml clears a parser's error log at each parse.
    parser = getattr(_IDLE, "parser", None)
    if parser is None:
        parser = new_parser()
    else:
        _IDLE.parser = None
    tree: etree._Element | None = None
    fatal: etree._LogEntry | None = None
    recovered = False
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        fatal = next((e for e in parser.error_log if e.level == etree.ErrorLevels.FATAL), None)
        if fatal is None:
            # Only errors libvirt does not treat as fatal (an undefined
            # namespace prefix, say): the document stands.
            tree = etree.fromstring(data, new_parser(recover=True))
            recovered = True
    finally:
        _IDLE.parser = parser
    report = find_error(data, fatal, tree, recovered=recovered)
    if report is not None:
        logger.debug("syntax error in %s at line %d: %s", url, report.line, report.message)
        raise XMLParseError(
            report.text(url), line=report.line, column=report.column, domain=error_domain
        )
    if tree is None:  # pragma: no cover - lxml either builds a tree or reports an error
        raise XMLError(f"failed to parse xml document '{url}'", domain=error_domain)
    return tree
