"""The parser configuration, and syntax errors reported exactly as libvirt 9.0 reports them.

libvirt 9.0 parses with libxml2 2.9 and turns the first fatal parser error
into ``VIR_ERR_XML_DETAIL``: ``url:line: message``, the source line at the
parser's position and a caret line under it (``catchXMLError`` in libvirt's
``virxml.c``). virtcore parses with the libxml2 bundled with lxml, a newer
release, which agrees on almost every error but not all. This module finds
the error the older parser would have reported first and words it the old
way:

* decoding: the old parser takes any input as UTF-8 and checks it lazily,
  reporting ``Input is not proper UTF-8, indicate encoding !`` with the next
  four bytes, or ``Char 0x... out of allowed range`` for surrogates and
  non-characters; where it compares raw bytes it reports the structural error
  instead, and it takes a broken sequence in the last four bytes for a
  truncated buffer;
* its depth limit (257 levels, the root counting as one) and wording;
* an unknown encoding named in the XML declaration (it asks iconv);
* a misplaced ``]]>``, which it locates at the start of the text run;
* a few messages worded differently by the newer library.

:func:`new_parser` is the single parser configuration: no entity
substitution, no DTD, no network, and every external resource answered with
an empty document. It runs in libxml2's "huge" mode so that the old depth
limit, enforced here, is the one that applies (the size of the input is
bounded by the caller).

The module is internal to :mod:`virtcore.xml.parse`; it raises nothing and
returns :class:`SyntaxReport` values.
"""

from __future__ import annotations

import codecs
import ctypes
import ctypes.util
import functools
import logging
import re
from typing import Any, NamedTuple

from lxml import etree

__all__ = [
    "MAX_DEPTH",
    "SyntaxReport",
    "encoding_known",
    "find_error",
    "first_fatal",
    "new_parser",
]

logger = logging.getLogger(__name__)

MAX_DEPTH = 257
"""Deepest element nesting libvirt 9.0 accepts, the root element counting as 1."""


class SyntaxReport(NamedTuple):
    """A syntax error as libvirt words it, located in the input."""

    offset: int
    """Byte offset of the parser position libvirt shows with its caret."""
    message: str
    """libxml2's message without its final newline."""
    line: int
    """The line number libvirt prints (usually the line of *offset*)."""
    column: int
    """1-based column of *offset* in characters."""
    context: str
    """The source line libvirt shows (``(null)`` when empty)."""
    pointer: str
    """libvirt's caret line."""

    def text(self, url: str | None) -> str:
        """The complete ``VIR_ERR_XML_DETAIL`` message for a document named *url*."""
        where = f"{url}:{self.line}: " if url is not None else f"at line {self.line}: "
        return f"{where}{self.message}\n{self.context}\n{self.pointer}"


# -- the parser -----------------------------------------------------------------------


class _NoExternalResources(etree.Resolver):
    """Answers every request for an external resource with an empty document."""

    # lxml calls resolve(url, pubid, context); the stubs omit the context.
    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        logger.debug("refusing to load external resource %r", system_url)
        return self.resolve_string("", context, base_url=None)


def new_parser(*, recover: bool = False) -> etree.XMLParser:
    """The parser every document goes through (see the module docstring)."""
    parser = etree.XMLParser(
        encoding="UTF-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_blank_text=True,
        remove_comments=False,
        remove_pis=False,
        strip_cdata=True,
        collect_ids=False,
        recover=recover,
    )
    parser.resolvers.add(_NoExternalResources())
    return parser


def first_fatal(data: bytes) -> etree._LogEntry | None:
    """The first fatal error parsing *data* raises, or None when it parses."""
    parser = new_parser()
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return next((e for e in parser.error_log if e.level == etree.ErrorLevels.FATAL), None)
    return None


# -- finding the error libvirt reports ------------------------------------------------


def find_error(
    data: bytes,
    fatal: etree._LogEntry | None,
    tree: etree._Element | None,
    *,
    recovered: bool = False,
) -> SyntaxReport | None:
    """The error libvirt would report for *data*, given lxml's outcome.

    *fatal* is the first fatal error lxml reported (None when it parsed the
    document), *tree* the document it built, if any, and *recovered* whether
    that took recovery mode because of errors libvirt does not consider fatal.
    """
    if (
        fatal is None
        and not recovered
        and data.isascii()
        and not data.startswith(b"<?")
        and (len(data) < _SHALLOW_SIZE or data.count(b"<") < MAX_DEPTH)
    ):
        # The usual document: parsed, plain ASCII (nothing to decode, no byte order
        # mark), no XML declaration (no encoding named), too short or with too few tags
        # to nest too deep.
        return None
    error: tuple[int, str] | None = None
    report_line: int | None = None
    if fatal is not None:
        offset = _offset_of(data, fatal.line, fatal.column)
        error = (offset, _legacy_wording(fatal.message, data, offset))
        if fatal.message == _MISPLACED_CDATA_END:
            # The old parser reports this at the start of the text run it was
            # scanning, with the line number of the offending "]]>".
            error = (_text_run_start(data, offset), fatal.message)
            report_line = fatal.line
    elif recovered:
        error = _epilog_error(data)
    limit = error[0] if error is not None else len(data) + 1

    # The old parser checks the declared encoding as it reads the XML
    # declaration, before anything else.
    bad_encoding = _unsupported_encoding(data)
    if bad_encoding is not None and bad_encoding[1] <= limit:
        error = (bad_encoding[1], f"Unsupported encoding {bad_encoding[0]}")
        limit = error[0]
        report_line = None

    # Byte sequences it rejects by its own decoding rules.
    legacy = _first_undecodable(data)
    if legacy is not None and (
        legacy[0] < limit
        # Outside the root element the old parser looks at raw bytes and
        # reports the structural error instead.
        or (legacy[0] == limit and error is not None and error[1] not in _RAW_CHECKS)
    ):
        error = _legacy_error(data, *legacy)
        limit = error[0]
        report_line = None

    # Its nesting limit (this parser runs in "huge" mode, with a far higher one).
    # Every element takes a "<": a document with fewer cannot nest too deep.
    deep_possible = data.count(b"<") >= MAX_DEPTH
    if error is not None or (tree is not None and deep_possible and _TOO_DEEP(tree)):
        deep = _too_deep_offset(data, limit)
        if deep is not None:
            error = (deep, _DEPTH_MESSAGE)
            report_line = None

    if error is None:
        return None
    return _report(data, error[0], error[1], report_line)


def _report(data: bytes, offset: int, message: str, line: int | None) -> SyntaxReport:
    if line is None:
        line = data.count(b"\n", 0, offset) + 1
    context, pointer = _context_lines(data, offset)
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return SyntaxReport(offset, message, line, column, context, pointer)


def _context_lines(data: bytes, offset: int) -> tuple[str, str]:
    """The source line around *offset* and libvirt's caret line under it."""
    end = len(data)

    def at(i: int) -> int:
        return data[i] if i < end else 0

    cur = offset
    # Walk back over line ends, then to the start of the line, exactly as
    # libvirt does (an error just after a newline shows the previous line).
    while cur > 0 and at(cur) in (0x0A, 0x0D):
        cur -= 1
    while cur > 0 and at(cur) not in (0x0A, 0x0D):
        cur -= 1
    if at(cur) in (0x0A, 0x0D):
        cur += 1
    column = offset - cur
    stop = cur
    while at(stop) not in (0, 0x0A, 0x0D):
        stop += 1
    context = data[cur:stop]
    pointer = "".join("\t" if b == 0x09 else "-" for b in context[:column]) + "^"
    # libvirt prints an empty context through "%s" of a NULL string; bytes
    # that are no UTF-8 are carried as surrogate escapes, like os.fsdecode.
    shown = context.decode("utf-8", "surrogateescape") if context else "(null)"
    return shown, pointer


def _offset_of(data: bytes, line: int, column: int) -> int:
    """Byte offset of libxml2's (line, column) position; columns count characters."""
    start = 0
    for _ in range(max(line, 1) - 1):
        nl = data.find(b"\n", start)
        if nl < 0:
            return len(data)
        start = nl + 1
    pos = start
    for _ in range(max(column, 1) - 1):
        if pos >= len(data) or data[pos] == 0x0A:
            break
        pos += _sequence_length(data, pos)
    return min(pos, len(data))


def _sequence_length(data: bytes, pos: int) -> int:
    lead = data[pos]
    size = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    for i in range(1, size):
        if pos + i >= len(data) or data[pos + i] & 0xC0 != 0x80:
            return i
    return size


# -- structure: depth, text runs, what follows the root ---------------------------------

_SHALLOW_SIZE = 7 * MAX_DEPTH + 4
"""The size of the shortest well-formed document nesting deeper than :data:`MAX_DEPTH`
levels: a start and an end tag (``<a>``, ``</a>``) for each of the first
:data:`MAX_DEPTH` levels, an empty tag (``<a/>``) for the one below."""
_DEPTH_MESSAGE = f"Excessive depth in document: {MAX_DEPTH - 1} use XML_PARSE_HUGE option"
_TOO_DEEP = etree.XPath("/*" + "/*" * MAX_DEPTH)

# Markup that changes the nesting depth, and markup that may hide tags.
_MARKUP = re.compile(
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>"
    rb"|</[^>]*>|<[^\s/>!?](?:[^>\"']|\"[^\"]*\"|'[^']*')*>",
    re.DOTALL,
)


def _too_deep_offset(data: bytes, limit: int) -> int | None:
    """Offset of the first start tag nested deeper than :data:`MAX_DEPTH`, before *limit*."""
    depth = 0
    for markup in _MARKUP.finditer(data, 0, limit):
        tag = markup.group()
        if tag.startswith((b"<!", b"<?")):
            continue
        if tag.startswith(b"</"):
            depth -= 1
            continue
        if depth >= MAX_DEPTH:
            return markup.start()
        if not tag.endswith(b"/>"):
            depth += 1
    return None


_MISPLACED_CDATA_END = "Sequence ']]>' not allowed in content"
_REFERENCE = re.compile(rb"&[^;<&]*;")


def _text_run_start(data: bytes, offset: int) -> int:
    """Where the old parser's fast character-data loop started before *offset*.

    That loop only updates the parser position at markup and references, and
    hands over to a slower per-character loop at the first non-ASCII byte or
    carriage return, which does keep the position current.
    """
    start = 0
    for markup in _MARKUP.finditer(data, 0, offset):
        start = markup.end()
    for reference in _REFERENCE.finditer(data, start, offset):
        start = reference.end()
    if any(byte >= 0x80 or byte == 0x0D for byte in data[start:offset]):
        return offset
    return start


def _epilog_error(data: bytes) -> tuple[int, str] | None:
    """The first error in what follows the root element, if anything is wrong there.

    After a recoverable error (an undefined namespace prefix) lxml's libxml2
    stops checking the end of the document; the old one does not.
    """
    depth = 0
    root_end = None
    for markup in _MARKUP.finditer(data):
        tag = markup.group()
        if tag.startswith((b"<!", b"<?")):
            continue
        depth += -1 if tag.startswith(b"</") else 0 if tag.endswith(b"/>") else 1
        if depth == 0:
            root_end = markup.end()
            break
    if root_end is None:  # pragma: no cover - the recovered parse found a root
        return None
    probe = b"<r/>" + data[root_end:]
    fatal = first_fatal(probe)
    if fatal is None:
        return None
    offset = root_end + _offset_of(probe, fatal.line, fatal.column) - 4
    return offset, _legacy_wording(fatal.message, data, offset)


# -- wording ----------------------------------------------------------------------------

_REWORDED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Excessive depth in document: (\d+), use XML_PARSE_HUGE option"),
     r"Excessive depth in document: \1 use XML_PARSE_HUGE option"),
    (re.compile(r"^Unsupported encoding: (.*)"), r"Unsupported encoding \1"),
)  # fmt: skip

# Errors the parser raises on raw bytes, outside the root element.
_RAW_CHECKS = frozenset(
    {"Extra content at the end of the document", "Start tag expected, '<' not found",
     "Document is empty"}
)  # fmt: skip

_COMMENT_CHAR = re.compile(r"^xmlParseComment: invalid xmlChar value \d+$")
_UTF_FAMILY = frozenset({"UTF8", "UTF16"})


def _legacy_wording(message: str, data: bytes, offset: int) -> str:
    """The old library's wording of a message from the new one."""
    if _COMMENT_CHAR.match(message):
        # The old comment parser switches to a per-character loop at the
        # first byte outside printable ASCII; when the bad character is the
        # second one of that loop it reports the first one's value instead.
        start = data.rfind(b"<!--", 0, offset)
        if start >= 0:
            for pos in range(start + 4, offset):
                if not (data[pos] in (0x09, 0x0A) or 0x20 <= data[pos] <= 0x7F):
                    if pos + _sequence_length(data, pos) == offset:
                        char = data[pos:offset].decode("utf-8", "replace")
                        return f"xmlParseComment: invalid xmlChar value {ord(char[0])}"
                    break
    if message == "Blank needed here":
        declaration = _XML_DECL.match(data)
        if declaration is not None and declaration.end() == offset:
            encoding = re.sub(rb"[-_]", b"", declaration.group(3)).upper().decode("ascii")
            if encoding in _UTF_FAMILY:
                # The old parser only wants a blank after other encodings.
                return "parsing XML declaration: '?>' expected"
    for pattern, replacement in _REWORDED:
        if pattern.match(message):
            return pattern.sub(replacement, message, count=1)
    return message


# -- decoding ---------------------------------------------------------------------------

# A character every context that decodes accepts (names, text, attribute
# values, comments) and every context that compares raw bytes refuses.
_STAND_IN = "\u00e9".encode()
_NONCHARACTER = re.compile("[\ufffe\uffff]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _legacy_error(data: bytes, offset: int, size: int, message: str) -> tuple[int, str]:
    """What the old parser reports for the undecodable sequence at *offset*.

    Where it compares raw bytes (between attributes, after ``=``, in an end
    tag) it never decodes and reports the structural error; a decodable
    stand-in character placed there shows which case applies. In the last
    four bytes it takes a broken sequence for a truncated buffer and behaves
    as if the input ended there.
    """
    if not message.startswith("Char ") and len(data) - offset < 4:
        fatal = first_fatal(data[:offset])
        if fatal is None:  # pragma: no cover - a cut-off document never parses
            return offset, message
        if fatal.message.startswith("Premature end of data in tag"):
            return offset, "internal error: detected an error in element content\n"
        cut = _offset_of(data, fatal.line, fatal.column)
        return cut, _legacy_wording(fatal.message, data, cut)
    probe = data[:offset] + _STAND_IN + data[offset + size :]
    fatal = first_fatal(probe)
    if (
        fatal is not None
        and _offset_of(probe, fatal.line, fatal.column) == offset
        # Comments are always decoded character by character.
        and "omment" not in fatal.message
    ):
        return offset, _legacy_wording(fatal.message, data, offset)
    return offset, message


def _is_xml_char(value: int) -> bool:
    return (
        value in (0x9, 0xA, 0xD)
        or 0x20 <= value <= 0xD7FF
        or 0xE000 <= value <= 0xFFFD
        or 0x10000 <= value <= 0x10FFFF
    )


def _first_undecodable(data: bytes) -> tuple[int, int, str] | None:
    """(offset, length, message) of the first multi-byte sequence the old decoder refuses.

    That decoder accepts any well-formed 2, 3 or 4 byte sequence that is not
    overlong, then rejects values outside XML's character range (surrogates,
    U+FFFE, U+FFFF, above U+10FFFF) as "Char 0x... out of allowed range";
    anything else is "Input is not proper UTF-8".
    """
    if data.isascii():  # the usual document: nothing to decode
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # Well-formed UTF-8: only the two non-characters can still offend.
        found = _NONCHARACTER.search(text)
        if found is None:
            return None
        offset = len(text[: found.start()].encode("utf-8"))
        return offset, 3, f"Char 0x{ord(found.group()):X} out of allowed range"
    pos = 0
    end = len(data)
    while True:
        found_byte = _NON_ASCII.search(data, pos)
        if found_byte is None:
            return None
        pos = found_byte.start()
        value = _decode_legacy(data, pos)
        if value is None:
            shown = " ".join(f"0x{data[pos + i] if pos + i < end else 0:02X}" for i in range(4))
            return pos, 1, f"Input is not proper UTF-8, indicate encoding !\nBytes: {shown}"
        code, size = value
        if not _is_xml_char(code):
            return pos, size, f"Char 0x{code:X} out of allowed range"
        pos += size


def _decode_legacy(data: bytes, pos: int) -> tuple[int, int] | None:
    end = len(data)

    def cont(i: int) -> int | None:
        if pos + i >= end or data[pos + i] & 0xC0 != 0x80:
            return None
        return data[pos + i] & 0x3F

    lead = data[pos]
    if lead & 0x40 == 0 or lead == 0xC0:
        return None
    c1 = cont(1)
    if c1 is None:
        return None
    if lead & 0xE0 != 0xE0:
        code = ((lead & 0x1F) << 6) | c1
        return (code, 2) if code >= 0x80 else None
    c2 = cont(2)
    if c2 is None:
        return None
    if lead & 0xF0 != 0xF0:
        code = ((lead & 0x0F) << 12) | (c1 << 6) | c2
        return (code, 3) if code >= 0x800 else None
    c3 = cont(3)
    if c3 is None or lead & 0xF8 != 0xF0:
        return None
    code = ((lead & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3
    return (code, 4) if code >= 0x10000 else None


# -- declared encodings -----------------------------------------------------------------

_XML_DECL = re.compile(
    rb"^(?:\xef\xbb\xbf)?<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(['\"])[^'\"<>]*\1"
    rb"[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(['\"])([A-Za-z][A-Za-z0-9._-]*)\2"
)

# Encodings libxml2 handles itself, whatever iconv knows.
_BUILTIN_ENCODINGS = frozenset(
    {"UTF-8", "UTF8", "UTF-16", "UTF16", "UTF-16LE", "UTF-16BE", "ISO-8859-1",
     "ISO-LATIN-1", "ISO LATIN 1", "ASCII", "US-ASCII", "HTML", "UCS-2", "UCS2",
     "UCS-4", "UCS4", "ISO-10646-UCS-2", "ISO-10646-UCS-4"}
)  # fmt: skip

# Python codecs that are no character sets libxml2 could find.
_PSEUDO_CODECS = frozenset(
    {"idna", "punycode", "utf-8-sig", "raw-unicode-escape", "unicode-escape", "undefined",
     "mbcs", "oem", "cp65001"}
)  # fmt: skip


def _unsupported_encoding(data: bytes) -> tuple[str, int] | None:
    """(name, offset after it) when the XML declaration names an unknown encoding."""
    match = _XML_DECL.match(data)
    if match is None:
        return None
    name = match.group(3).decode("ascii")
    if encoding_known(name):
        return None
    return name, match.end()


@functools.lru_cache(maxsize=64)
def encoding_known(name: str) -> bool:
    """Whether libvirt's libxml2 accepts *name* in an XML declaration.

    libxml2 knows a few encodings itself and asks iconv (then ICU, which
    ignores case and punctuation) for the rest; the C library's iconv is
    asked the same way. Without one, Python's codec registry stands in.
    """
    if name.upper() in _BUILTIN_ENCODINGS:
        return True
    if _iconv() is None:
        try:
            info = codecs.lookup(name)
        except LookupError:
            return False
        return bool(getattr(info, "_is_text_encoding", True)) and info.name not in _PSEUDO_CODECS
    return _iconv_knows(name) or _iconv_knows(re.sub(r"[-_. ]", "", name))


@functools.cache
def _iconv() -> tuple[Any, Any] | None:
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:  # pragma: no cover - platform dependent
        return None
    try:
        libc = ctypes.CDLL(libc_name)
        iconv_open = libc.iconv_open
        iconv_close = libc.iconv_close
    except (OSError, AttributeError):  # pragma: no cover - platform dependent
        return None
    iconv_open.restype = ctypes.c_void_p
    iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    iconv_close.argtypes = [ctypes.c_void_p]
    return iconv_open, iconv_close


def _iconv_knows(name: str) -> bool:
    funcs = _iconv()
    if funcs is None:  # pragma: no cover - platform dependent
        return False
    iconv_open, iconv_close = funcs
    handle = iconv_open(name.encode("ascii"), b"UTF-8")
    if handle is None or handle == ctypes.c_void_p(-1).value:
        return False
    iconv_close(handle)
    return True
