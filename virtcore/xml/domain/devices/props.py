"""libvirt's attribute and text readers for device elements, and its parse errors.

The readers reproduce ``virXMLPropString``/``virXMLPropEnum``/
``virXMLPropInt``/... (``src/util/virxml.c``): their errors are
``VIR_ERR_XML_ERROR`` in the XML error domain, e.g. ``XML error: Invalid
value for attribute 'model' in element 'watchdog': 'x'.`` :func:`fail`
raises any of libvirt's errors; :func:`first_children` and the ``child``/
``children`` look-ups find a device's child elements (through
:mod:`virtcore.xml.childindex`). Re-exported by
:mod:`virtcore.xml.domain.devices.support`, where the device models take
them from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import NoReturn

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.childindex import all_children, first_child

__all__ = [
    "as_c_int",
    "child",
    "children",
    "fail",
    "fail_unknown",
    "first_children",
    "parse_ui_wrapping",
    "parse_uuid",
    "prop",
    "prop_enum",
    "prop_int",
    "prop_required",
    "prop_switch",
    "prop_tristate",
    "prop_uint",
    "prop_ullong",
    "sanitize_path",
    "text_of",
]

logger = logging.getLogger(__name__)


# -- errors ----------------------------------------------------------------------------


def fail(code: int, detail: str, domain: int = ErrorDomain.DOMAIN) -> NoReturn:
    """Raise libvirt's error *code* with *detail* (``virReportError``)."""
    raise VirtError.from_code(code, detail, domain=domain)


def fail_unknown() -> NoReturn:
    """What a libvirt API reports when a parser fails without saying why."""
    raise VirtError(
        None,
        code=ErrorNumber.INTERNAL_ERROR,
        domain=ErrorDomain.NONE,
        message="An error occurred, but the cause is unknown",
    )


def _xml_fail(detail: str) -> NoReturn:
    fail(ErrorNumber.XML_ERROR, detail, ErrorDomain.XML)


# -- the virXMLProp* readers -------------------------------------------------------------


def _name(node: etree._Element) -> str:
    return etree.QName(node).localname


def prop(node: etree._Element, name: str) -> str | None:
    """``virXMLPropString``: the attribute's value (possibly empty) or None."""
    return node.get(name)


def prop_required(node: etree._Element, name: str) -> str:
    """``virXMLPropStringRequired``."""
    value = prop(node, name)
    if value is None:
        _xml_fail(f"Missing required attribute '{name}' in element '{_name(node)}'")
    return value


def prop_enum(
    node: etree._Element,
    name: str,
    values: Sequence[str],
    *,
    required: bool = False,
    nonzero: bool = False,
) -> str | None:
    """``virXMLPropEnum``: one of *values*; with *nonzero* the first one is refused too."""
    value = node.get(name)
    if value is None:
        if required:
            _xml_fail(f"Missing required attribute '{name}' in element '{_name(node)}'")
        return None
    if value not in values or (nonzero and value == values[0]):
        _xml_fail(f"Invalid value for attribute '{name}' in element '{_name(node)}': '{value}'.")
    return value


_TRISTATE_BOOL = ("default", "yes", "no")
_TRISTATE_SWITCH = ("default", "on", "off")


def prop_tristate(node: etree._Element, name: str, *, required: bool = False) -> bool | None:
    """``virXMLPropTristateBool``: ``yes``/``no`` as True/False, absent as None."""
    value = prop_enum(node, name, _TRISTATE_BOOL, required=required, nonzero=True)
    return None if value is None else value == "yes"


def prop_switch(node: etree._Element, name: str, *, required: bool = False) -> bool | None:
    """``virXMLPropTristateSwitch``: ``on``/``off`` as True/False, absent as None."""
    value = prop_enum(node, name, _TRISTATE_SWITCH, required=required, nonzero=True)
    return None if value is None else value == "on"


_Reader = tuple[Callable[[str, int], int], str]
_INT: _Reader = (units.parse_int, "integer value")
_UINT: _Reader = (units.parse_uint, "non-negative integer value")
_ULLONG: _Reader = (units.parse_ullong, "non-negative integer value")
_PLAIN_DIGITS = 9
"""Up to this many decimal digits fit every reader's range (below ``INT_MAX``)."""


def _prop_number(
    node: etree._Element,
    name: str,
    kind: _Reader,
    *,
    base: int,
    required: bool,
    nonzero: bool,
    nonnegative: bool = False,
) -> int | None:
    value = node.get(name)
    if value is None:
        if required:
            _xml_fail(f"Missing required {_where(node, name)}")
        return None
    if base == 10 and len(value) <= _PLAIN_DIGITS and value.isascii() and value.isdigit():
        # A few plain decimal digits (the usual): what the C readers make of them.
        number = int(value)
    else:
        reader, expected = kind
        try:
            number = reader(value, base)
        except ValueError:
            _xml_fail(f"Invalid value for {_where(node, name)}: '{value}'. Expected {expected}")
        if nonnegative and number < 0:
            _xml_fail(
                f"Invalid value for {_where(node, name)}: '{value}'. Expected non-negative value"
            )
    if nonzero and number == 0:
        _xml_fail(f"Invalid value for {_where(node, name)}: Zero is not permitted")
    return number


def _where(node: etree._Element, name: str) -> str:
    return f"attribute '{name}' in element '{_name(node)}'"


def prop_int(
    node: etree._Element,
    name: str,
    *,
    base: int = 10,
    required: bool = False,
    nonzero: bool = False,
    nonnegative: bool = False,
) -> int | None:
    """``virXMLPropInt``."""
    return _prop_number(
        node,
        name,
        _INT,
        base=base,
        required=required,
        nonzero=nonzero,
        nonnegative=nonnegative,
    )


def prop_uint(
    node: etree._Element,
    name: str,
    *,
    base: int = 10,
    required: bool = False,
    nonzero: bool = False,
) -> int | None:
    """``virXMLPropUInt``."""
    return _prop_number(node, name, _UINT, base=base, required=required, nonzero=nonzero)


def prop_ullong(
    node: etree._Element,
    name: str,
    *,
    base: int = 10,
    required: bool = False,
    nonzero: bool = False,
) -> int | None:
    """``virXMLPropULongLong``."""
    return _prop_number(node, name, _ULLONG, base=base, required=required, nonzero=nonzero)


def text_of(node: etree._Element | None) -> str | None:
    """An element's text content as ``virXPathString`` reads it (None when empty)."""
    if node is None:
        return None
    if len(node) == 0:
        # No child nodes at all (comments count): the text is the whole string value.
        return node.text or None
    text = str(node.xpath("string()"))
    return text or None


def first_children(node: etree._Element) -> dict[str, etree._Element]:
    """The first child element of each name, read in one pass over *node*'s children.

    A reader that asks one element for many children, most of them absent,
    looks them up here instead of asking :func:`child` each time: the
    answer for a plain name is ``child(node, name)``'s. The first element
    of a name wins; comments and processing instructions are skipped, and
    elements in a namespace are kept under ``{uri}name``, a key no plain
    name matches.
    """
    found: dict[str, etree._Element] = {}
    for item in node:
        tag = item.tag
        if tag.__class__ is str and tag not in found:
            found[tag] = item
    return found


# The device readers ask for children hundreds of times per domain: no wrapper call.
child = first_child
"""The first child element *name* (``virXPathNode("./name")``); a plain name is in no
namespace."""
children = all_children
"""Every child element *name* (``virXPathNodeSet("./name")``), in document order."""


def parse_ui_wrapping(text: str) -> int:
    """``virStrToLong_ui``: like an unsigned int, but ``-N`` wraps around (``-1`` is UINT_MAX)."""
    value, negative = units.parse_c_integer(text, 10)
    if negative:
        if -value > units.UINT_MAX:
            raise ValueError(text)
        return value & units.UINT_MAX
    if value > units.UINT_MAX:
        raise ValueError(text)
    return value


def sanitize_path(path: str) -> str:
    """``virFileSanitizePath``: repeated and trailing slashes removed (URIs left alone)."""
    scheme = path.find("://")
    if scheme >= 0 and path.find("/") > scheme:
        return path
    prefix = ""
    rest = path
    # A leading "//" is valid POSIX and kept; "///" is just "/".
    if path.startswith("//") and not path.startswith("///"):
        prefix, rest = "//", path[2:]
    out: list[str] = []
    i = 0
    while i < len(rest):
        if rest[i] != "/":
            out.append(rest[i])
            i += 1
            continue
        while i < len(rest) and rest[i] == "/":
            i += 1
        if (out or prefix) and i == len(rest):
            break
        out.append("/")
    return prefix + "".join(out)


_ASCII_SPACE = " \t\n\v\f\r"


def parse_uuid(text: str) -> str | None:
    """``virUUIDParse``: the canonical form of *text*, or None when it is no UUID.

    As libvirt, ``-`` and spaces may separate any two hex digit pairs and
    blanks may surround the 32 digits.
    """
    cur = text.lstrip(_ASCII_SPACE)
    digits: list[str] = []
    i = 0
    while len(digits) < 32:
        if i >= len(cur):
            return None
        if cur[i] in "- ":
            i += 1
            continue
        pair = cur[i : i + 2]
        if len(pair) < 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
            return None
        digits.extend(pair.lower())
        i += 2
    if cur[i:].strip(_ASCII_SPACE):
        return None
    flat = "".join(digits)
    return f"{flat[:8]}-{flat[8:12]}-{flat[12:16]}-{flat[16:20]}-{flat[20:]}"


def as_c_int(value: int) -> int:
    """An unsigned int stored into a C ``int`` (two's complement)."""
    return value - (1 << 32) if value > units.INT_MAX else value
