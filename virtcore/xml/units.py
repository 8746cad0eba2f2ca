"""libvirt's numbers: C-style integer parsing, scaled integers and memory sizes.

Sizes in libvirt XML carry a unit, ``<memory unit='GiB'>4</memory>``, and
every reader applies the same rules (``virScaleInteger`` and
``virParseScaledValue``), reproduced here with libvirt 9.0's codes, error
domains and wording:

========================  ===============================================
suffix (any letter case)  multiplier
========================  ===============================================
(none)                    the call site's default (KiB for memory)
``b``, ``byte``, ``bytes``  1
``k``, ``KiB``            1024 (likewise ``M``/``MiB`` ... ``E``/``EiB``)
``KB``                    1000 (likewise ``MB`` ... ``EB``)
========================  ===============================================

* an unknown suffix raises :class:`~virtcore.errors.InvalidArgError`
  ``invalid argument: unknown suffix 'XB'`` (error domain NONE);
* a product above the limit raises ``VIR_ERR_OVERFLOW``
  ``numerical overflow: value too large: 8E`` (error domain NONE);
* a number that is not a plain non-negative decimal raises ``XMLError``
  ``XML error: Invalid value 'abc' for element or attribute './memory[1]'``
  (error domain XML). Leading blanks and a ``+`` sign are accepted, trailing
  characters are not, exactly as C's ``strtoull``.

Memory is kept in KiB, rounded up (:func:`parse_memory`), and written back as
``<memory unit='KiB'>N</memory>`` (:func:`format_memory`).

The C integer readers (:func:`parse_c_integer` and friends) are shared with
:mod:`virtcore.xml.builder`, so every integer in a document is read the way
libvirt's ``virStrToLong_*`` family reads it.
"""

from __future__ import annotations

import re

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import InvalidArgError, VirtError, XMLError

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "LLONG_MAX",
    "LLONG_MIN",
    "UINT_MAX",
    "ULLONG_MAX",
    "format_memory",
    "from_bytes",
    "memory_max_value",
    "parse_c_integer",
    "parse_int",
    "parse_llong",
    "parse_memory",
    "parse_scaled",
    "parse_size",
    "parse_uint",
    "parse_ullong",
    "scale_integer",
    "unit_multiplier",
]

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1
ULLONG_MAX = 2**64 - 1

# C's isspace() in the "C" locale.
_C_SPACE = " \t\n\v\f\r"
_NUMBER = re.compile(r"([+-]?)(0[xX](?=[0-9a-fA-F]))?([0-9a-zA-Z]+)")


# -- C integers ------------------------------------------------------------------------


def parse_c_integer(text: str, base: int = 10) -> tuple[int, bool]:
    """Read *text* entirely as C's ``strtoll`` family would, without a range check.

    Returns the value (sign applied) and whether a minus sign was present.
    Leading blanks, a sign and, for base 16 (or 0), a ``0x`` prefix are
    accepted; base 0 picks 16 for ``0x``, 8 for a leading ``0`` and 10
    otherwise. Anything left unread raises ``ValueError``.
    """
    stripped = text.lstrip(_C_SPACE)
    match = _NUMBER.fullmatch(stripped)
    if match is None:
        raise ValueError(f"not an integer: {text!r}")
    sign, prefix, digits = match.groups()
    if prefix and base not in (0, 16):
        raise ValueError(f"not an integer: {text!r}")
    if base == 0:
        base = 16 if prefix else 8 if len(digits) > 1 and digits[0] == "0" else 10
    try:
        value = int(digits, base)
    except ValueError:
        raise ValueError(f"not an integer: {text!r}") from None
    return (-value if sign == "-" else value), sign == "-"


def parse_int(text: str, base: int = 10) -> int:
    """``virStrToLong_i``: a C ``int``."""
    value, _ = parse_c_integer(text, base)
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"out of range: {text!r}")
    return value


def parse_uint(text: str, base: int = 10) -> int:
    """``virStrToLong_uip``: a C ``unsigned int``, no minus sign allowed."""
    value, negative = parse_c_integer(text, base)
    if negative or value > UINT_MAX:
        raise ValueError(f"out of range: {text!r}")
    return value


def parse_llong(text: str, base: int = 10) -> int:
    """``virStrToLong_ll``: a C ``long long``."""
    value, _ = parse_c_integer(text, base)
    if not LLONG_MIN <= value <= LLONG_MAX:
        raise ValueError(f"out of range: {text!r}")
    return value


def parse_ullong(text: str, base: int = 10) -> int:
    """``virStrToLong_ullp``: a C ``unsigned long long``, no minus sign allowed."""
    value, negative = parse_c_integer(text, base)
    if negative or value > ULLONG_MAX:
        raise ValueError(f"out of range: {text!r}")
    return value


# -- scaling ---------------------------------------------------------------------------

_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def unit_multiplier(suffix: str) -> int:
    """The multiplier libvirt gives a unit suffix (``"KiB"`` -> 1024, ``"MB"`` -> 10**6).

    Raises :class:`~virtcore.errors.InvalidArgError` (``unknown suffix``) for
    anything else; the empty suffix is not a unit here.
    """
    lowered = suffix.lower()
    if lowered in ("b", "byte", "bytes"):
        return 1
    if len(suffix) == 1 or lowered[1:] == "ib":
        base = 1024
    elif len(suffix) == 2 and lowered[1] == "b":
        base = 1000
    else:
        raise InvalidArgError(f"unknown suffix '{suffix}'", domain=ErrorDomain.NONE)
    power = _POWERS.get(lowered[0])
    if power is None:
        raise InvalidArgError(f"unknown suffix '{suffix}'", domain=ErrorDomain.NONE)
    return int(base**power)


def scale_integer(value: int, suffix: str | None, scale: int, limit: int = ULLONG_MAX) -> int:
    """``virScaleInteger``: *value* times the multiplier of *suffix*.

    An empty or missing suffix uses *scale*, the call site's default unit in
    bytes. A product above *limit* raises ``VIR_ERR_OVERFLOW``
    ``value too large: <value><suffix>``.
    """
    if scale <= 0:
        raise ValueError(f"invalid scale {scale}")
    if not suffix:
        suffix = ""
    else:
        scale = unit_multiplier(suffix)
    if value and value > limit // scale:
        raise VirtError.from_code(
            ErrorNumber.OVERFLOW, f"value too large: {value}{suffix}", domain=ErrorDomain.NONE
        )
    return value * scale


def parse_scaled(
    value: str | None,
    unit: str | None,
    *,
    where: str,
    scale: int,
    limit: int = ULLONG_MAX,
    required: bool = False,
) -> int | None:
    """``virParseScaledValue``: the size in bytes of a number and its unit.

    *value* and *unit* are the texts read from the document (None or empty
    when absent), *where* the location libvirt names in errors (its XPath,
    e.g. ``./memory[1]``), *scale* the default unit in bytes. An absent value
    is None, or ``XML error: missing element or attribute '<where>'`` when
    *required*.
    """
    if not value:
        if not required:
            return None
        raise XMLError(f"missing element or attribute '{where}'", domain=ErrorDomain.XML)
    try:
        number = parse_ullong(value)
    except ValueError:
        raise XMLError(
            f"Invalid value '{value}' for element or attribute '{where}'", domain=ErrorDomain.XML
        ) from None
    return scale_integer(number, unit, scale, limit)


def parse_size(text: str, *, scale: int = 1, limit: int = ULLONG_MAX) -> int:
    """A size written as a number with an optional suffix (``"512M"``, ``"10 GiB"``).

    This is how ``virsh`` reads sizes on its command line: the number is
    read like ``strtoull`` and whatever follows it is the unit.
    """
    stripped = text.lstrip(_C_SPACE)
    match = re.match(r"\+?[0-9]+", stripped)
    if match is None:
        raise InvalidArgError(f"invalid size '{text}'", domain=ErrorDomain.NONE)
    number = int(match.group().lstrip("+"))
    if number > ULLONG_MAX:
        raise InvalidArgError(f"invalid size '{text}'", domain=ErrorDomain.NONE)
    return scale_integer(number, stripped[match.end() :], scale, limit)


def from_bytes(value: int, unit: str) -> int:
    """*value* bytes expressed in *unit*, rounded up (``from_bytes(1025, "KiB") == 2``)."""
    multiplier = unit_multiplier(unit)
    return -(-value // multiplier)


# -- memory ----------------------------------------------------------------------------


def memory_max_value(capped: bool = False) -> int:
    """``virMemoryMaxValue``: the largest memory size in bytes (``LLONG_MAX`` on 64-bit hosts).

    The *capped* variant exists for 32-bit hosts, where it is ``ULONG_MAX``
    KiB; on 64-bit hosts both are the same.
    """
    return LLONG_MAX


def parse_memory(
    value: str | None,
    unit: str | None,
    *,
    where: str = "./memory[1]",
    capped: bool = False,
    required: bool = False,
    error_domain: int = ErrorDomain.DOMAIN,
) -> int | None:
    """``virDomainParseMemory``: a memory size in KiB, rounded up; KiB by default.

    A size that does not fit raises ``VIR_ERR_OVERFLOW`` ``size value too
    large`` in *error_domain* (the caller's subsystem).
    """
    limit = memory_max_value(capped)
    size = parse_scaled(value, unit, where=where, scale=1024, limit=limit, required=required)
    if size is None:
        return None
    kib = -(-size // 1024)
    if kib >= -(-limit // 1024):
        raise VirtError.from_code(ErrorNumber.OVERFLOW, "size value too large", domain=error_domain)
    return kib


def format_memory(tag: str, kib: int) -> str:
    """A memory element as libvirt writes it: ``<memory unit='KiB'>1024</memory>``."""
    return f"<{tag} unit='KiB'>{kib}</{tag}>"
