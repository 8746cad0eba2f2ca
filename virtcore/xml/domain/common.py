"""Shared readers and writers of the domain document: libvirt's value rules and errors.

Every part of ``<domain>`` reads its attributes the way libvirt 9.0's
``virXMLProp*`` helpers do and reports bad values in their words:

* enumerations and booleans - ``XML error: Invalid value for attribute 'dev'
  in element 'boot': 'floppy'.`` (``VIR_ERR_XML_ERROR``, error domain XML);
* integers - the same, followed by ``Expected integer value`` or ``Expected
  non-negative integer value``;
* a missing required attribute - ``XML error: Missing required attribute
  'name' in element 'feature'``.

CPU and NUMA node sets are libvirt bitmaps (``virBitmapParse`` and
``virBitmapFormat``: ``0-3,^2,8`` reads as {0, 1, 3, 8} and is written
``0-1,3,8``) and UUIDs are read like ``virUUIDParse``. The output helpers
build the new element tree the formatter writes (:func:`sub`), leaving out
attributes whose value is ``None``.

Error constructors (:func:`xml_error`, :func:`unsupported`, :func:`internal`)
carry the domain error domain (``VIR_FROM_DOMAIN``), as libvirt's domain
configuration code does.

Most documents have few sections and plain values, and the readers are
built for that: a section's element is looked up once and its absence ends
the reading, a section with many possible children groups them by name in
one pass (:func:`group_children`), and numbers and sizes written the usual
way (decimal digits, a common unit) are read directly (:func:`read_uint`,
:func:`memory_kib`) while anything else - and every error - goes through
:mod:`virtcore.xml.units`, so results and errors stay libvirt's.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Final, TypeVar

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, InternalError, InvalidArgError, XMLError
from virtcore.xml import units
from virtcore.xml.childindex import all_at, all_children, first_at, first_child, group_by_name
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "BITMAP_LIMIT",
    "CPUMASK_LEN",
    "ON_OFF",
    "YES_NO",
    "attr_bool",
    "attr_enum",
    "attr_int",
    "attr_switch",
    "attr_uint",
    "attr_ullong",
    "child",
    "children",
    "default_record",
    "format_bitmap",
    "format_uuid",
    "fresh_record",
    "group_children",
    "internal",
    "memory_kib",
    "parse_bitmap",
    "parse_cpuset",
    "parse_uint_wrapping",
    "parse_ullong_wrapping",
    "parse_uuid",
    "read_uint",
    "read_ullong",
    "string_value",
    "sub",
    "text_of",
    "unsupported",
    "xml_error",
]

Grouped = dict[str, list[etree._Element]]
"""Child elements by name (:func:`group_children`)."""

logger = logging.getLogger(__name__)

DOM: Final = ErrorDomain.DOMAIN
YES_NO: Final = ("yes", "no")
ON_OFF: Final = ("on", "off")
CPUMASK_LEN: Final = 16384
"""``VIR_DOMAIN_CPUMASK_LEN``: the size of libvirt's CPU and node masks."""
BITMAP_LIMIT: Final = CPUMASK_LEN
"""Highest bit number + 1 a bitmap may name."""


# -- errors ---------------------------------------------------------------------------


def xml_error(detail: str, domain: int = DOM) -> XMLError:
    """``VIR_ERR_XML_ERROR`` ("XML error: ...") from the domain configuration code."""
    return XMLError(detail, domain=domain)


def unsupported(detail: str) -> ConfigUnsupportedError:
    """``VIR_ERR_CONFIG_UNSUPPORTED`` ("unsupported configuration: ...")."""
    return ConfigUnsupportedError(detail, domain=DOM)


def internal(detail: str) -> InternalError:
    """``VIR_ERR_INTERNAL_ERROR`` ("internal error: ...")."""
    return InternalError(detail, domain=DOM)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def invalid_attr(element: etree._Element, name: str, value: str, expected: str = "") -> XMLError:
    """The ``virXMLProp*`` error for a value that cannot be read."""
    suffix = f" Expected {expected}" if expected else ""
    return XMLError(
        f"Invalid value for attribute '{name}' in element '{_local(element)}': '{value}'.{suffix}",
        domain=ErrorDomain.XML,
    )


def missing_attr(element: etree._Element, name: str) -> XMLError:
    """The ``virXMLProp*`` error for a required attribute that is absent."""
    return XMLError(
        f"Missing required attribute '{name}' in element '{_local(element)}'",
        domain=ErrorDomain.XML,
    )


def zero_attr(element: etree._Element, name: str) -> XMLError:
    """The ``virXMLProp*`` error for a zero where libvirt wants a positive number."""
    return XMLError(
        f"Invalid value for attribute '{name}' in element '{_local(element)}': "
        "Zero is not permitted",
        domain=ErrorDomain.XML,
    )


# -- tree access ----------------------------------------------------------------------


def child(element: etree._Element | None, tag: str) -> etree._Element | None:
    """The first child element named *tag*, or None.

    A path (``"os/type"``) selects like libvirt's XPath ``./os/type[1]``:
    the first match below any of several ``<os>`` elements.
    """
    if element is None:
        return None
    if "/" in tag:
        return first_at(element, tag)
    return first_child(element, tag)


def children(element: etree._Element | None, tag: str) -> list[etree._Element]:
    """Every child element named *tag*, in document order.

    A path (``"cputune/vcpupin"``) selects like libvirt's XPath: the matches
    below all elements of the first steps, in document order.
    """
    if element is None:
        return []
    if "/" in tag:
        return all_at(element, tag)
    return all_children(element, tag)


def group_children(elements: Iterable[etree._Element]) -> Grouped:
    """The child elements of all *elements*, by name, in document order.

    One pass over a section's children answers every question about them:
    ``group_children(children(root, "os")).get("boot")`` is what
    ``children(root, "os/boot")`` selects (below every ``<os>``, like
    libvirt's XPath), its first item what ``child(root, "os/boot")`` does,
    and a name missing from the mapping is a child no element has. Names
    are matched like :func:`child`: comments and processing instructions
    are left out, namespaced elements are keyed ``{uri}name``.
    """
    return group_by_name(elements)


def string_value(element: etree._Element) -> str:
    """The text content of *element* as XPath ``string()`` reads it (comments excluded)."""
    if len(element) == 0:
        return element.text or ""
    return "".join(str(text) for text in element.itertext())


def text_of(element: etree._Element | None, tag: str | None = None) -> str | None:
    """Text content of *element* (or its first *tag* child) as ``virXPathString`` reads it.

    None when the element is absent or its content is empty.
    """
    if tag is not None:
        if element is None:
            return None
        element = first_at(element, tag) if "/" in tag else first_child(element, tag)
    if element is None:
        return None
    if not len(element):
        return element.text or None
    return string_value(element) or None


# -- attribute readers (virXMLProp*) ------------------------------------------------


def _raw(element: etree._Element, name: str, required: bool) -> str | None:
    value = element.get(name)
    if value is None and required:
        raise missing_attr(element, name)
    return value


def attr_enum(
    element: etree._Element,
    name: str,
    values: Collection[str],
    *,
    required: bool = False,
) -> str | None:
    """An attribute that must be one of *values* (``virXMLPropEnum``)."""
    value = _raw(element, name, required)
    if value is not None and value not in values:
        raise invalid_attr(element, name, value)
    return value


def attr_bool(
    element: etree._Element,
    name: str,
    *,
    required: bool = False,
    words: Sequence[str] = YES_NO,
) -> bool | None:
    """A ``yes``/``no`` attribute (``virXMLPropTristateBool``); None when absent."""
    value = _raw(element, name, required)
    if value is None:
        return None
    if value == words[0]:
        return True
    if value == words[1]:
        return False
    raise invalid_attr(element, name, value)


def attr_switch(element: etree._Element, name: str, *, required: bool = False) -> bool | None:
    """An ``on``/``off`` attribute (``virXMLPropTristateSwitch``); None when absent."""
    return attr_bool(element, name, required=required, words=ON_OFF)


def attr_uint(
    element: etree._Element,
    name: str,
    *,
    required: bool = False,
    nonzero: bool = False,
    base: int = 10,
) -> int | None:
    """An ``unsigned int`` attribute (``virXMLPropUInt``), no minus sign allowed."""
    value = _raw(element, name, required)
    if value is None:
        return None
    try:
        number = units.parse_uint(value, base)
    except ValueError:
        raise invalid_attr(element, name, value, "non-negative integer value") from None
    if nonzero and number == 0:
        raise zero_attr(element, name)
    return number


def attr_int(element: etree._Element, name: str, *, required: bool = False) -> int | None:
    """An ``int`` attribute (``virXMLPropInt``)."""
    value = _raw(element, name, required)
    if value is None:
        return None
    try:
        return units.parse_int(value)
    except ValueError:
        raise invalid_attr(element, name, value, "integer value") from None


def attr_ullong(element: etree._Element, name: str, *, required: bool = False) -> int | None:
    """An ``unsigned long long`` attribute (``virXMLPropULongLong``)."""
    value = _raw(element, name, required)
    if value is None:
        return None
    try:
        return units.parse_ullong(value)
    except ValueError:
        raise invalid_attr(element, name, value, "non-negative integer value") from None


_DIGITS: Final = len(str(units.ULLONG_MAX))
"""The longest plain decimal read directly; longer ones (leading zeros, or beyond what
``int`` reads at once) are left to :mod:`virtcore.xml.units`."""


def read_uint(text: str) -> int:
    """:func:`~virtcore.xml.units.parse_uint` (``virStrToLong_uip``), plain decimals at once."""
    if len(text) <= _DIGITS and text.isdigit() and text.isascii():
        value = int(text)
        if value <= units.UINT_MAX:
            return value
    return units.parse_uint(text)


def read_ullong(text: str) -> int:
    """:func:`~virtcore.xml.units.parse_ullong` (``virStrToLong_ullp``), plain decimals at once."""
    if len(text) <= _DIGITS and text.isdigit() and text.isascii():
        value = int(text)
        if value <= units.ULLONG_MAX:
            return value
    return units.parse_ullong(text)


# The unit spellings people write, with their multipliers (units.unit_multiplier's).
_MULTIPLIERS: Final = {
    **{f"{p}iB": 1024**i for i, p in enumerate("KMGTPE", 1)},
    **{p: 1024**i for i, p in enumerate("KMGTPE", 1)},
    **{p.lower(): 1024**i for i, p in enumerate("KMGTPE", 1)},
    **{f"{p}B": 1000**i for i, p in enumerate("KMGTPE", 1)},
    "b": 1,
    "B": 1,
    "bytes": 1,
}
# Per capping: the largest size in bytes, and the first size in KiB too large.
_MEMORY_LIMITS: Final = {
    capped: (units.memory_max_value(capped), -(-units.memory_max_value(capped) // 1024))
    for capped in (False, True)
}


def memory_kib(
    value: str | None, unit: str | None, *, where: str, capped: bool = False
) -> int | None:
    """:func:`~virtcore.xml.units.parse_memory`: a size in KiB, rounded up (None when empty).

    The usual spelling - decimal digits and a common unit, or none - is read
    here at once; anything else, and every error, is left to
    :func:`~virtcore.xml.units.parse_memory`.
    """
    if value and len(value) <= _DIGITS and value.isdigit() and value.isascii():
        multiplier = 1024 if not unit else _MULTIPLIERS.get(unit)
        if multiplier is not None:
            size = int(value) * multiplier
            limit, kib_limit = _MEMORY_LIMITS[capped]
            if size <= limit:
                kib = -(-size // 1024)
                if kib < kib_limit:
                    return kib
    return units.parse_memory(value, unit, where=where, capped=capped)


def parse_uint_wrapping(text: str) -> int:
    """``virStrToLong_ui``: an ``unsigned int`` where ``-n`` wraps around (``-1`` is UINT_MAX)."""
    value, negative = units.parse_c_integer(text)
    if negative:
        if -value > units.UINT_MAX:
            raise ValueError(f"out of range: {text!r}")
        return value & units.UINT_MAX
    if value > units.UINT_MAX:
        raise ValueError(f"out of range: {text!r}")
    return value


def parse_ullong_wrapping(text: str) -> int:
    """``virStrToLong_ull``: an ``unsigned long long`` where ``-n`` wraps around."""
    value, negative = units.parse_c_integer(text)
    if abs(value) > units.ULLONG_MAX:
        raise ValueError(f"out of range: {text!r}")
    return value & units.ULLONG_MAX if negative else value


# -- bitmaps ---------------------------------------------------------------------------

_SPACES = " \t\n\v\f\r"


def _bitmap_error(text: str) -> InvalidArgError:
    return InvalidArgError(f"Failed to parse bitmap '{text}'", domain=ErrorDomain.NONE)


def _read_number(text: str, pos: int, source: str) -> tuple[int, int]:
    """A C ``strtol`` number at *pos* (leading blanks and a sign allowed)."""
    end = pos
    while end < len(text) and text[end] in _SPACES:
        end += 1
    start = end
    if end < len(text) and text[end] in "+-":
        end += 1
    digits = end
    while end < len(text) and text[end].isdigit() and text[end].isascii():
        end += 1
    if end == digits:
        raise _bitmap_error(source)
    value = int(text[start:end])
    if not units.INT_MIN <= value <= units.INT_MAX:
        raise _bitmap_error(source)
    return value, end


def parse_bitmap(text: str) -> frozenset[int]:
    """The bit numbers of a libvirt bitmap string (``virBitmapParseUnlimited``).

    ``"0-3,^2, 8"`` is {0, 1, 3, 8}. Malformed text raises
    :class:`~virtcore.errors.InvalidArgError` ``Failed to parse bitmap '...'``
    (error domain NONE), as libvirt does.
    """
    bits: set[int] = set()
    pos = 0
    length = len(text)
    while pos < length and text[pos] in _SPACES:
        pos += 1
    if pos == length:
        raise _bitmap_error(text)
    while pos < length:
        negate = False
        if text[pos] == "^":
            negate = True
            pos += 1
        if pos >= length or not (text[pos].isdigit() and text[pos].isascii()):
            raise _bitmap_error(text)
        start, pos = _read_number(text, pos, text)
        if start >= BITMAP_LIMIT:
            raise _bitmap_error(text)
        while pos < length and text[pos] in _SPACES:
            pos += 1
        if pos == length or text[pos] == ",":
            if negate:
                bits.discard(start)
            else:
                bits.add(start)
        elif text[pos] == "-":
            if negate:
                raise _bitmap_error(text)
            last, pos = _read_number(text, pos + 1, text)
            if last < start or last >= BITMAP_LIMIT:
                raise _bitmap_error(text)
            bits.update(range(start, last + 1))
            while pos < length and text[pos] in _SPACES:
                pos += 1
        if pos == length:
            break
        if text[pos] != ",":
            raise _bitmap_error(text)
        pos += 1
        while pos < length and text[pos] in _SPACES:
            pos += 1
    return frozenset(bits)


def parse_cpuset(text: str, what: str = "cpuset") -> frozenset[int]:
    """A CPU or node set that must name at least one (``Invalid value of 'cpuset'``)."""
    bits = parse_bitmap(text)
    if not bits:
        raise unsupported(f"Invalid value of '{what}': {text}")
    return bits


def format_bitmap(bits: Iterable[int]) -> str:
    """``virBitmapFormat``: ascending bit numbers, runs written ``a-b`` (``"0-1,3,8"``)."""
    ordered = sorted(set(bits))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


# -- UUIDs -----------------------------------------------------------------------------


_CANONICAL_UUID = re.compile(
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def parse_uuid(text: str) -> bytes | None:
    """The 16 bytes of a UUID read like ``virUUIDParse``, or None when malformed.

    Leading and trailing blanks are allowed, as are dashes and blanks between
    byte pairs; upper- and lower-case hex digits are accepted.
    """
    if _CANONICAL_UUID.fullmatch(text) is not None:  # the usual spelling, read at once
        return bytes.fromhex(text.replace("-", ""))
    pos = 0
    length = len(text)
    while pos < length and text[pos] in _SPACES:
        pos += 1
    out = bytearray()
    hexdigits = "0123456789abcdefABCDEF"
    while len(out) < 16:
        if pos >= length:
            return None
        char = text[pos]
        if char in "- ":
            pos += 1
            continue
        if char not in hexdigits or pos + 1 >= length or text[pos + 1] not in hexdigits:
            return None
        out.append(int(text[pos : pos + 2], 16))
        pos += 2
    if text[pos:].strip(_SPACES):
        return None
    return bytes(out)


def format_uuid(raw: bytes) -> str:
    """The canonical lower-case text of a 16-byte UUID (``virUUIDFormat``)."""
    digits = raw.hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


# -- output ----------------------------------------------------------------------------

AttrValue = str | int | None


# Elements are made by the thousand: the slots are filled without an __init__ call.
_new_node = OutNode.__new__


def sub(
    parent: OutNode,
    tag: str,
    attrs: Iterable[tuple[str, AttrValue]] = (),
    text: str | int | None = None,
) -> OutNode:
    """Append ``<tag>`` to *parent* with *attrs* in order (None values left out).

    A list given as *attrs* becomes the node's own, uncopied: the output code
    writes them out as literals, which nothing changes afterwards.
    """
    node = _new_node(OutNode)
    node.tag = tag
    node.pairs = attrs if attrs.__class__ is list else list(attrs)
    node._attrs = None
    node.children = []
    node.text = None if text is None else str(text)
    parent.children.append(node)
    return node


def yes_no(value: bool | None) -> str | None:
    """``"yes"``/``"no"`` for a tristate, None when unset."""
    return None if value is None else ("yes" if value else "no")


def on_off(value: bool | None) -> str | None:
    """``"on"``/``"off"`` for a tristate, None when unset."""
    return None if value is None else ("on" if value else "off")


_Record = TypeVar("_Record")
_MAKERS: dict[type, Callable[[], Any]] = {}
_FULL_MAKERS: dict[type, Callable[[], Any]] = {}


def fresh_record(cls: type[_Record]) -> _Record:
    """A dataclass record of *cls* at its defaults, made without the generated ``__init__``.

    The readers make several records per document: fields with plain defaults
    are read from the class, where dataclasses keep them, until set; only the
    fields with a default factory are made here. Every field of *cls* must
    have a default.
    """
    maker = _MAKERS.get(cls)
    if maker is None:
        maker = _MAKERS[cls] = _record_maker(cls, every_field=False)
    record: _Record = maker()
    return record


def default_record(cls: type[_Record]) -> _Record:
    """A dataclass record of *cls* at its defaults, holding every field as ``__init__`` does.

    Like :func:`fresh_record`, without the generated ``__init__`` and its
    arguments, but each field is in the instance dictionary, where the output
    code looks first: the plain defaults are copied from one dictionary made
    per class, the mutable ones made anew. Every field of *cls* must have a
    default.
    """
    maker = _FULL_MAKERS.get(cls)
    if maker is None:
        maker = _FULL_MAKERS[cls] = _record_maker(cls, every_field=True)
    record: _Record = maker()
    return record


def _record_maker(cls: type, *, every_field: bool) -> Callable[[], Any]:
    """A function making records of *cls* at their defaults, written out per class.

    As dataclasses write ``__init__``: empty lists and dicts are made by
    literals, other factories called; each field name is a dataclass field,
    so an identifier. With *every_field* the record's dictionary starts as a
    copy of the plain defaults, in field order; without, it holds only the
    fields made by factories.
    """
    template: dict[str, Any] = {}
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "template": template}
    made: list[tuple[str, str]] = []
    for number, spec in enumerate(dataclasses.fields(cls)):
        factory = spec.default_factory
        if factory is dataclasses.MISSING:
            if spec.default is dataclasses.MISSING:
                raise TypeError(f"{cls.__name__}.{spec.name} has no default")
            template[spec.name] = spec.default
            continue
        template[spec.name] = None  # its place in the field order
        if factory is list:
            made.append((spec.name, "[]"))
        elif factory is dict:
            made.append((spec.name, "{}"))
        else:
            made.append((spec.name, f"factory{number}()"))
            namespace[f"factory{number}"] = factory
    lines = ["def make():", "    record = new(cls)"]
    if every_field:
        lines.append("    values = template.copy()")
        lines += [f"    values[{name!r}] = {value}" for name, value in made]
        lines.append("    record.__dict__ = values")
    else:
        lines += [f"    record.{name} = {value}" for name, value in made]
    lines.append("    return record")
    exec("\n".join(lines), namespace)  # the code above names fields only
    maker: Callable[[], Any] = namespace["make"]
    return maker
