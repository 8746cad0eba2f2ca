"""Addresses in libvirt's network and storage documents: IP, MAC, UUID and PCI.

libvirt reads these values with a handful of C helpers whose exact rules show
in what it accepts and how it writes the value back:

* **IP addresses** (``virSocketAddrParse``) go through ``getaddrinfo()`` with
  ``AI_NUMERICHOST``, so IPv4 accepts the ``inet_aton`` shorthands (``10.1``
  is ``10.0.0.1``, ``0x7f.1`` is ``127.0.0.1``, ``010.0.0.1`` is octal) and
  IPv6 is read by ``inet_pton``. They are written back by
  ``inet_ntop``/``getnameinfo``: dotted quads, and IPv6 compressed with the
  embedded-IPv4 forms glibc uses (``::0.2.0.3``, ``::ffff:1.2.3.4``).
  :func:`parse_ip` and :func:`format_ip` reproduce both directions; an
  unreadable address raises libvirt's ``Cannot parse socket address`` error.
  IPv6 zone indexes (``fe80::1%eth0``) depend on the host's interfaces and
  are refused.
* **MAC addresses** (``virMacAddrParse``): six groups of one or two hex digits
  separated by colons, written back as lower-case, two digits per byte.
* **UUIDs** (``virUUIDParse``): 32 hex digits, dashes and spaces allowed
  between digit pairs, blanks around; written in the canonical 8-4-4-4-12 form.
* **Ranges and prefixes**: :func:`ip_prefix` is ``virSocketAddrGetIPPrefix``
  (explicit prefix, netmask bits or the classful default) and
  :func:`check_range` is ``virSocketAddrGetRange`` with its exact errors.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid as _uuid

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError

__all__ = [
    "IPAddress",
    "check_range",
    "error",
    "format_ip",
    "format_mac",
    "format_uuid",
    "ip_prefix",
    "is_multicast_mac",
    "mask_by_prefix",
    "netmask_bits",
    "parse_ip",
    "parse_mac",
    "parse_uuid",
    "try_ip",
]

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
"""A parsed socket address (libvirt's ``virSocketAddr`` without a port)."""

_C_SPACE = " \t\n\v\f\r"


def error(code: int, detail: str | None, domain: int) -> VirtError:
    """The libvirt error for *code* (most specific class) with *detail* in *domain*."""
    return VirtError.from_code(code, detail, domain=domain)


# -- IP addresses ----------------------------------------------------------------------


def _aton_part(text: str) -> int | None:
    """One ``inet_aton`` component: decimal, ``0x`` hex or ``0`` octal."""
    if not text or not text[0].isdigit():
        return None
    if text[0] == "0" and len(text) > 1 and text[1] in "xX":
        digits, base = text[2:], 16
        if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
            return None
    elif text[0] == "0":
        digits, base = text, 8
        if not all(c in "01234567" for c in digits):
            return None
    else:
        digits, base = text, 10
        if not digits.isdigit() or not digits.isascii():
            return None
    value = int(digits, base)
    return value if value <= 0xFFFFFFFF else None


def _parse_ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if len(parts) > 4:
        return None
    values = [_aton_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    numbers = [v for v in values if v is not None]
    *head, last = numbers
    if any(v > 0xFF for v in head):
        return None
    if last >= 1 << (8 * (4 - len(head))):
        return None
    value = last
    for i, byte in enumerate(head):
        value |= byte << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def try_ip(text: str | None, family: int | None = None) -> IPAddress | None:
    """*text* read as ``virSocketAddrParse`` reads it, or None when it is no address.

    *family* (4 or 6) restricts the accepted family as libvirt's ``AF_INET``
    and ``AF_INET6`` hints do.
    """
    if text is None or "\0" in text:
        return None
    found: IPAddress | None = None
    if ":" in text:
        if "%" not in text and not text.startswith(tuple(_C_SPACE)):
            try:
                found = ipaddress.IPv6Address(text)
            except ValueError:
                found = None
    else:
        found = _parse_ipv4(text)
    if found is not None and family is not None and found.version != family:
        return None
    return found


def parse_ip(text: str, family: int | None = None) -> IPAddress:
    """*text* as an address, or libvirt's ``virSocketAddrParse`` error (domain NONE)."""
    found = try_ip(text, family)
    if found is not None:
        return found
    other = try_ip(text)
    reason = (
        "Address family for hostname not supported"
        if other is not None
        else "Name or service not known"
    )
    raise error(
        ErrorNumber.SYSTEM_ERROR,
        f"Cannot parse socket address '{text}': {reason}",
        ErrorDomain.NONE,
    )


def format_ip(address: IPAddress) -> str:
    """*address* as glibc's ``inet_ntop`` writes it."""
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    packed = address.packed
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    # The longest run of two or more zero words is written "::" (the first
    # of equal runs), as glibc does.
    best_start, best_len, start = -1, 0, -1
    for i, word in enumerate([*words, 1]):
        if word == 0 and i < 8:
            if start < 0:
                start = i
        elif start >= 0:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = -1
    if best_len < 2:
        best_start = -1
    out: list[str] = []
    i = 0
    while i < 8:
        if i == best_start:
            out.append(":" if i == 0 else "")
            i += best_len
            if i == 8:
                out.append("")
            continue
        if i == 6 and best_start == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
            out.append(str(ipaddress.IPv4Address(packed[12:])))
            break
        out.append(f"{words[i]:x}")
        i += 1
    return ":".join(out)


def netmask_bits(netmask: IPAddress) -> int:
    """``virSocketAddrGetNumNetmaskBits``: leading one bits, -1 when not contiguous."""
    value = int(netmask)
    width = netmask.max_prefixlen
    ones = 0
    while ones < width and value & (1 << (width - 1 - ones)):
        ones += 1
    rest = value & ((1 << (width - ones)) - 1)
    return ones if rest == 0 else -1


def ip_prefix(address: IPAddress | None, netmask: IPAddress | None, prefix: int) -> int:
    """``virSocketAddrGetIPPrefix``: the prefix, the netmask's bits or the classful default."""
    if prefix > 0:
        return prefix
    if netmask is not None:
        return netmask_bits(netmask)
    if address is not None and int(address) == 0:
        # The wildcard address (a default route's destination) has prefix 0.
        return 0
    if isinstance(address, ipaddress.IPv4Address):
        octet = int(address) >> 24
        if octet & 0x80 == 0:
            return 8
        if octet & 0xC0 == 0x80:
            return 16
        if octet & 0xE0 == 0xC0:
            return 24
        return -1
    if isinstance(address, ipaddress.IPv6Address):
        return 64
    return 0


def mask_by_prefix(address: IPAddress, prefix: int) -> IPAddress | None:
    """``virSocketAddrMaskByPrefix``: the network part, None for an impossible prefix."""
    width = address.max_prefixlen
    if prefix < 0 or prefix > width:
        return None
    mask = ((1 << prefix) - 1) << (width - prefix)
    if isinstance(address, ipaddress.IPv4Address):
        return ipaddress.IPv4Address(int(address) & mask)
    return ipaddress.IPv6Address(int(address) & mask)


def check_range(
    start: IPAddress,
    end: IPAddress,
    network: IPAddress | None = None,
    prefix: int = 0,
) -> int:
    """``virSocketAddrGetRange``: the size of *start*..*end*, or libvirt's error.

    With *network* the range must lie within ``network/prefix`` (and, for
    IPv4, avoid its network and broadcast addresses). Errors are internal
    errors without an error domain, worded as libvirt words them.
    """
    first, last = format_ip(start), format_ip(end)

    def fail(detail: str) -> VirtError:
        return error(ErrorNumber.INTERNAL_ERROR, detail, ErrorDomain.NONE)

    if start.version != end.version:
        raise fail(f"mismatch of address family in range {first} - {last}")
    if network is not None:
        net = format_ip(network)
        if start.version != network.version:
            raise fail(f"mismatch of address family in range {first} - {last} for network {net}")
        if prefix < 0 or prefix > network.max_prefixlen:
            raise fail(
                f"bad prefix {prefix} for network {net} when  checking range {first} - {last}"
            )
        base = mask_by_prefix(network, prefix)
        if base != mask_by_prefix(start, prefix) or base != mask_by_prefix(end, prefix):
            raise fail(f"range {first} - {last} is not entirely within network {net}/{prefix}")
        if isinstance(start, ipaddress.IPv4Address) and base is not None:
            broadcast = ipaddress.IPv4Address(int(base) | ((1 << (32 - prefix)) - 1))
            if start == base:
                raise fail(
                    f"start of range {first} - {last} in network {net}/{prefix} "
                    "is the network address"
                )
            if end == broadcast:
                raise fail(
                    f"end of range {first} - {last} in network {net}/{prefix} "
                    "is the broadcast address"
                )
    if isinstance(start, ipaddress.IPv4Address):
        a, b = start.packed, end.packed
        if a[:2] != b[:2]:
            raise fail(f"range {first} - {last} is too large (> 65535)")
        size = (b[2] - a[2]) * 256 + (b[3] - a[3])
        if size < 0:
            raise fail(f"range {first} - {last} is reversed ")
        return size + 1
    a6, b6 = start.packed, end.packed
    if a6[:14] != b6[:14]:
        raise fail(f"range {first} - {last} is too large (> 65535)")
    size = int.from_bytes(b6[14:], "big") - int.from_bytes(a6[14:], "big")
    if size < 0:
        raise fail(f"range {first} - {last} start larger than end")
    return size + 1


# -- MAC addresses ---------------------------------------------------------------------

_HEX = "0123456789abcdefABCDEF"


def parse_mac(text: str) -> bytes | None:
    """``virMacAddrParse``: the six bytes of *text*, or None when it is no MAC address."""
    pos = 0
    out = bytearray()
    for index in range(6):
        if pos >= len(text) or text[pos] not in _HEX:
            return None
        end = pos
        while end < len(text) and text[end] in _HEX:
            end += 1
        if end - pos > 2:
            return None
        out.append(int(text[pos:end], 16))
        if index == 5:
            # strtoul stops at the first non-digit: a blank, a control
            # character or the end of the string may follow.
            return bytes(out) if end == len(text) or text[end] <= " " else None
        if end >= len(text) or text[end] != ":":
            return None
        pos = end + 1
    return None  # pragma: no cover - the loop always returns


def format_mac(mac: bytes) -> str:
    """``virMacAddrFormat``: lower-case, two digits per byte."""
    return ":".join(f"{b:02x}" for b in mac)


def is_multicast_mac(mac: bytes) -> bool:
    """Whether the group bit of the first byte is set."""
    return bool(mac[0] & 1)


# -- UUIDs -----------------------------------------------------------------------------

_UUID_CHAR = re.compile(r"[0-9a-fA-F]")


def parse_uuid(text: str) -> _uuid.UUID | None:
    """``virUUIDParse``: the UUID in *text*, or None when it is malformed."""
    pos = 0
    while pos < len(text) and text[pos] in _C_SPACE:
        pos += 1
    digits: list[str] = []
    while len(digits) < 16:
        if pos >= len(text):
            return None
        char = text[pos]
        if char in "- ":
            pos += 1
            continue
        if pos + 1 >= len(text):
            return None
        pair = text[pos : pos + 2]
        if not (_UUID_CHAR.fullmatch(pair[0]) and _UUID_CHAR.fullmatch(pair[1])):
            return None
        digits.append(pair)
        pos += 2
    if any(c not in _C_SPACE for c in text[pos:]):
        return None
    return _uuid.UUID("".join(digits))


def format_uuid(value: _uuid.UUID) -> str:
    """The canonical lower-case 8-4-4-4-12 form."""
    return str(value)
