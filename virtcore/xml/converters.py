"""Converters between XML text and Python values, with libvirt's reading rules.

A :class:`Converter` turns the text of an element or attribute into a value
(:meth:`Converter.parse`, raising ``ValueError`` for text it refuses) and a
value back into text (:meth:`Converter.format`). :attr:`Converter.expected`
completes libvirt's error message for refused attribute values, e.g.
``Invalid value for attribute 'index' in element 'controller': 'x'.
Expected integer value``.

Integers are read as libvirt's ``virStrToLong_*`` functions read them (C
``strtol`` rules: leading blanks and a sign allowed, nothing after the
digits); booleans as libvirt's ``virTristateBool``/``virTristateSwitch``
(exact, lower-case words); enumerations by their exact string values.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Generic, TypeVar

from virtcore.xml import units

__all__ = [
    "HEX",
    "INT",
    "LLONG",
    "ONOFF",
    "STR",
    "UINT",
    "ULLONG",
    "YESNO",
    "BoolConverter",
    "Converter",
    "EnumConverter",
    "IntConverter",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


class Converter(Generic[T]):
    """Reads and writes one kind of value; subclasses override both methods."""

    expected: str = ""
    """What a valid value is, for error messages (``"integer value"``), or empty."""

    def parse(self, text: str) -> T:
        """The value *text* stands for; ``ValueError`` when it stands for none."""
        raise NotImplementedError

    def format(self, value: T) -> str:
        """The text for *value*."""
        raise NotImplementedError


class _StrConverter(Converter[str]):
    def parse(self, text: str) -> str:
        return text

    def format(self, value: str) -> str:
        return str(value)


class IntConverter(Converter[int]):
    """An integer read with one of the :mod:`virtcore.xml.units` readers.

    *base* is passed to the reader; values are written in decimal, or with
    *prefix* in *base* 16 and zero-padded to *width* digits
    (``IntConverter(units.parse_uint, base=16, prefix="0x", width=4)`` writes
    ``0x0000``, as libvirt writes PCI domains).
    """

    def __init__(
        self,
        reader: Callable[[str, int], int],
        *,
        base: int = 10,
        prefix: str = "",
        width: int = 0,
        expected: str = "integer value",
    ) -> None:
        self.reader = reader
        self.base = base
        self.prefix = prefix
        self.width = width
        self.expected = expected

    def parse(self, text: str) -> int:
        return self.reader(text, self.base)

    def format(self, value: int) -> str:
        if self.base == 16:
            return f"{self.prefix}{value:0{self.width}x}"
        return f"{self.prefix}{value:0{self.width}d}"


class BoolConverter(Converter[bool]):
    """A boolean spelt with two exact words (``yes``/``no``, ``on``/``off``)."""

    def __init__(self, true: str, false: str) -> None:
        self.true = true
        self.false = false

    def parse(self, text: str) -> bool:
        if text == self.true:
            return True
        if text == self.false:
            return False
        raise ValueError(f"expected {self.true!r} or {self.false!r}, got {text!r}")

    def format(self, value: bool) -> str:
        return self.true if value else self.false


class EnumConverter(Converter[E]):
    """A member of an :class:`enum.Enum` whose values are the XML strings."""

    def __init__(self, enum_type: type[E]) -> None:
        self.enum_type = enum_type

    def parse(self, text: str) -> E:
        return self.enum_type(text)

    def format(self, value: E) -> str:
        return str(value.value)


STR: Converter[str] = _StrConverter()
"""Text as it is."""
INT = IntConverter(units.parse_int)
"""A C ``int`` (``virStrToLong_i``)."""
UINT = IntConverter(units.parse_uint, expected="non-negative integer value")
"""A C ``unsigned int``; no minus sign (``virStrToLong_uip``)."""
LLONG = IntConverter(units.parse_llong, expected="long long integer value")
"""A C ``long long`` (``virStrToLong_ll``)."""
ULLONG = IntConverter(units.parse_ullong, expected="non-negative integer value")
"""A C ``unsigned long long``; no minus sign (``virStrToLong_ullp``)."""
HEX = IntConverter(units.parse_uint, base=16, prefix="0x", expected="non-negative integer value")
"""An unsigned hexadecimal number written ``0x1f``."""
YESNO = BoolConverter("yes", "no")
"""``yes``/``no`` (libvirt's ``virTristateBool``)."""
ONOFF = BoolConverter("on", "off")
"""``on``/``off`` (libvirt's ``virTristateSwitch``)."""
