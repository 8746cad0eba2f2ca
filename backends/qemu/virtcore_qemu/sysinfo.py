"""The host's SMBIOS tables as libvirt's ``<sysinfo type='smbios'>``, without dmidecode.

libvirt 9.0 reads the host's SMBIOS through ``dmidecode`` once at start
(``virSysinfoRead``) and answers ``virConnectGetSysinfo`` with
``virSysinfoFormat``; when nothing could be read it reports
``VIR_ERR_CONFIG_UNSUPPORTED`` "Host SMBIOS information is not available".

Here the raw table the kernel exports (``/sys/firmware/dmi/tables/DMI``) is
decoded directly, giving the values dmidecode prints and libvirt keeps:

* type 0 (``<bios>``): vendor, version, date, and ``release`` from the
  BIOS major/minor revision bytes when they are set;
* type 1 (``<system>``): manufacturer, product, version, serial, uuid
  (dmidecode's upper-case text, the first three fields little-endian from
  SMBIOS 2.6 on), sku, family;
* type 2 (``<baseBoard>``, one per board): manufacturer, product, version,
  serial, asset, location;
* type 3 (``<chassis>``): manufacturer, version, serial, asset, sku;
* type 11 (``<oemStrings>``).

A string field whose index is 0 reads "Not Specified", as in dmidecode.
Known difference: the ``<processor>`` and ``<memory_device>`` sections, which
libvirt copies from dmidecode's decoded processor and DIMM descriptions, are
not produced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError

__all__ = ["DMI_TABLE", "SMBIOSStructure", "host_sysinfo_xml", "parse_table", "sysinfo_xml"]

log = logging.getLogger(__name__)

DMI_TABLE = Path("/sys/firmware/dmi/tables/DMI")
ENTRY_POINT = Path("/sys/firmware/dmi/tables/smbios_entry_point")
_NOT_SPECIFIED = "Not Specified"
_END_OF_TABLE = 127


@dataclass
class SMBIOSStructure:
    """One structure of the table: its type, formatted area and strings."""

    type: int
    data: bytes
    strings: list[str] = field(default_factory=list)

    def string(self, offset: int) -> str | None:
        """The string whose index is at *offset*; None when the structure is too short."""
        if offset >= len(self.data):
            return None
        index = self.data[offset]
        if index == 0:
            return _NOT_SPECIFIED
        if index > len(self.strings):
            return "<BAD INDEX>"
        return self.strings[index - 1].strip()


def parse_table(raw: bytes) -> list[SMBIOSStructure]:
    """Split the raw SMBIOS table into structures (up to the end-of-table marker)."""
    structures: list[SMBIOSStructure] = []
    pos = 0
    while pos + 4 <= len(raw):
        kind, length = raw[pos], raw[pos + 1]
        if length < 4 or pos + length > len(raw):
            break
        data = raw[pos : pos + length]
        end = raw.find(b"\0\0", pos + length)
        if end < 0:
            break
        area = raw[pos + length : end]
        strings = [s.decode("latin-1") for s in area.split(b"\0")] if area else []
        structures.append(SMBIOSStructure(kind, data, strings))
        pos = end + 2
        if kind == _END_OF_TABLE:
            break
    return structures


def _version(entry_point: bytes) -> tuple[int, int]:
    """(major, minor) SMBIOS version of the entry point; (2, 0) when unknown."""
    if entry_point.startswith(b"_SM3_") and len(entry_point) >= 9:
        return entry_point[7], entry_point[8]
    if entry_point.startswith(b"_SM_") and len(entry_point) >= 8:
        return entry_point[6], entry_point[7]
    return 2, 0


def _uuid(data: bytes, version: tuple[int, int]) -> str | None:
    if len(data) < 0x18:
        return None
    raw = data[0x08:0x18]
    if all(b == 0xFF for b in raw) or all(b == 0 for b in raw):
        return None
    if version >= (2, 6):
        raw = raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:]
    text = raw.hex().upper()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _entries(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if value is not None]


def _bios(s: SMBIOSStructure) -> list[tuple[str, str]]:
    release = None
    if len(s.data) >= 0x16 and s.data[0x14] != 0xFF and s.data[0x15] != 0xFF:
        release = f"{s.data[0x14]}.{s.data[0x15]}"
    pairs = [("vendor", s.string(0x04)), ("version", s.string(0x05)), ("date", s.string(0x08))]
    return _entries([*pairs, ("release", release)])


def _system(s: SMBIOSStructure, version: tuple[int, int]) -> list[tuple[str, str]]:
    return _entries(
        [
            ("manufacturer", s.string(0x04)),
            ("product", s.string(0x05)),
            ("version", s.string(0x06)),
            ("serial", s.string(0x07)),
            ("uuid", _uuid(s.data, version)),
            ("sku", s.string(0x19)),
            ("family", s.string(0x1A)),
        ]
    )


def _board(s: SMBIOSStructure) -> list[tuple[str, str]]:
    return _entries(
        [
            ("manufacturer", s.string(0x04)),
            ("product", s.string(0x05)),
            ("version", s.string(0x06)),
            ("serial", s.string(0x07)),
            ("asset", s.string(0x08)),
            ("location", s.string(0x0A)),
        ]
    )


def _chassis(s: SMBIOSStructure) -> list[tuple[str, str]]:
    sku = None
    if len(s.data) > 0x15:
        count, size = s.data[0x13], s.data[0x14]
        sku_offset = 0x15 + count * size
        sku = s.string(sku_offset)
    return _entries(
        [
            ("manufacturer", s.string(0x04)),
            ("version", s.string(0x06)),
            ("serial", s.string(0x07)),
            ("asset", s.string(0x08)),
            ("sku", sku),
        ]
    )


def _section(tag: str, entries: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    if not entries:
        return []
    lines = [f"{indent}<{tag}>"]
    for name, value in entries:
        lines.append(f"{indent}  <entry name='{name}'>{escape(value)}</entry>")
    lines.append(f"{indent}</{tag}>")
    return lines


def sysinfo_xml(table: bytes, entry_point: bytes = b"") -> str | None:
    """``virSysinfoFormat`` of a raw table; None when it describes nothing libvirt shows."""
    version = _version(entry_point)
    structures = parse_table(table)
    lines: list[str] = []
    by_type: dict[int, list[SMBIOSStructure]] = {}
    for s in structures:
        by_type.setdefault(s.type, []).append(s)
    if 0 in by_type:
        lines += _section("bios", _bios(by_type[0][0]))
    if 1 in by_type:
        lines += _section("system", _system(by_type[1][0], version))
    for board in by_type.get(2, []):
        lines += _section("baseBoard", _board(board))
    if 3 in by_type:
        lines += _section("chassis", _chassis(by_type[3][0]))
    oem = [text for s in by_type.get(11, []) for text in s.strings]
    if oem:
        lines.append("  <oemStrings>")
        lines += [f"    <entry>{escape(text)}</entry>" for text in oem]
        lines.append("  </oemStrings>")
    if not lines:
        return None
    return "\n".join(["<sysinfo type='smbios'>", *lines, "</sysinfo>", ""])


def host_sysinfo_xml(table: Path = DMI_TABLE, entry_point: Path = ENTRY_POINT) -> str:
    """This host's ``<sysinfo>``; libvirt's error when its SMBIOS cannot be read."""
    try:
        raw = table.read_bytes()
    except OSError as exc:
        log.debug("no SMBIOS table at %s: %s", table, exc)
        raw = b""
    try:
        point = entry_point.read_bytes()
    except OSError:
        point = b""
    text = sysinfo_xml(raw, point) if raw else None
    if text is None:
        raise ConfigUnsupportedError(
            "Host SMBIOS information is not available", domain=ErrorDomain.QEMU
        )
    return text
