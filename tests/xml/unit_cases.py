"""Memory sizes and what libvirt 9.0 makes of them.

Each case is the text and ``unit`` attribute of ``<memory>`` in a domain
defined on ``test:///default``, with the size libvirt keeps (KiB) or the
error it raises as (code, error domain, message). Recorded from
python3-libvirt 9.0; ``test_libvirt_differential.py`` checks them again.
"""

from __future__ import annotations

from typing import NamedTuple


class UnitCase(NamedTuple):
    """One ``<memory>`` element and libvirt's verdict."""

    value: str
    unit: str | None
    kib: int | None
    error: tuple[int, int, str] | None = None


def _too_large(text: str) -> tuple[int, int, str]:
    return (82, 0, f"numerical overflow: value too large: {text}")


def _suffix(unit: str) -> tuple[int, int, str]:
    return (8, 0, f"invalid argument: unknown suffix '{unit}'")


def _invalid(value: str) -> tuple[int, int, str]:
    return (27, 5, f"XML error: Invalid value '{value}' for element or attribute './memory[1]'")


_SIZE_TOO_LARGE = (82, 20, "numerical overflow: size value too large")

UNIT_CASES: tuple[UnitCase, ...] = (
    UnitCase("1", None, 1),
    UnitCase("1", "", 1),
    UnitCase("1", "b", 1),
    UnitCase("1025", "b", 2),
    UnitCase("1", "byte", 1),
    UnitCase("1", "bytes", 1),
    UnitCase("1", "B", 1),
    UnitCase("1", "k", 1),
    UnitCase("1", "KiB", 1),
    UnitCase("1", "kib", 1),
    UnitCase("1", "KIB", 1),
    UnitCase("1", "kiB", 1),
    UnitCase("1", "KB", 1),
    UnitCase("1", "Kb", 1),
    UnitCase("1", "M", 1024),
    UnitCase("1", "MiB", 1024),
    UnitCase("1", "MB", 977),
    UnitCase("1", "G", 1048576),
    UnitCase("1", "GiB", 1048576),
    UnitCase("1", "GB", 976563),
    UnitCase("1", "T", 1073741824),
    UnitCase("1", "TB", 976562500),
    UnitCase("1", "P", 1099511627776),
    UnitCase("1", "PB", 976562500000),
    UnitCase("1", "E", 1125899906842624),
    UnitCase("1", "EB", 976562500000000),
    UnitCase("7", "E", 7881299347898368),
    UnitCase("9", "EB", 8789062500000000),
    UnitCase(" 5", None, 5),
    UnitCase("\t7", None, 7),
    UnitCase("+5", None, 5),
    UnitCase("00012", None, 12),
    UnitCase("9223372036854774784", "b", 9007199254740991),
    UnitCase("9007199254740991", "KiB", 9007199254740991),
    UnitCase("8", "E", None, _too_large("8E")),
    UnitCase("9007199254740992", "KiB", None, _too_large("9007199254740992KiB")),
    UnitCase("18446744073709551615", None, None, _too_large("18446744073709551615")),
    UnitCase("9223372036854775807", "b", None, _SIZE_TOO_LARGE),
    UnitCase("9223372036854774785", "b", None, _SIZE_TOO_LARGE),
    UnitCase("1", "XB", None, _suffix("XB")),
    UnitCase("1", "KiBs", None, _suffix("KiBs")),
    UnitCase("1", "Ki", None, _suffix("Ki")),
    UnitCase("1", "z", None, _suffix("z")),
    UnitCase("1", "bit", None, _suffix("bit")),
    UnitCase("18446744073709551616", None, None, _invalid("18446744073709551616")),
    UnitCase("-1", None, None, _invalid("-1")),
    UnitCase("5 ", None, None, _invalid("5 ")),
    UnitCase("0x10", None, None, _invalid("0x10")),
    UnitCase("abc", None, None, _invalid("abc")),
    UnitCase("1.5", None, None, _invalid("1.5")),
    UnitCase("1e3", None, None, _invalid("1e3")),
)


def memory_document(case: UnitCase) -> str:
    """A test-driver domain whose ``<memory>`` is *case*."""
    unit = f" unit='{case.unit}'" if case.unit is not None else ""
    return (
        f"<domain type='test'><name>units</name><memory{unit}>{case.value}</memory>"
        "<os><type>hvm</type></os></domain>"
    )
