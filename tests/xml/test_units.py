"""libvirt's number rules: C integers, unit suffixes, scaled sizes and memory."""

from __future__ import annotations

import pytest

from tests.xml.unit_cases import UNIT_CASES, UnitCase
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import InvalidArgError, VirtError, XMLError
from virtcore.xml import units


def case_id(case: UnitCase) -> str:
    return f"{case.value!r}-{case.unit!r}"


@pytest.mark.parametrize("case", UNIT_CASES, ids=[case_id(c) for c in UNIT_CASES])
def test_memory_reads_like_libvirt(case: UnitCase) -> None:
    if case.error is None:
        assert units.parse_memory(case.value, case.unit) == case.kib
        return
    with pytest.raises(VirtError) as info:
        units.parse_memory(case.value, case.unit)
    code, domain, message = case.error
    assert (info.value.code, info.value.domain, info.value.message) == (code, domain, message)


def test_absent_memory_is_none_unless_required() -> None:
    assert units.parse_memory(None, None) is None
    assert units.parse_memory("", "KiB") is None


def test_required_size_that_is_absent_names_the_location() -> None:
    with pytest.raises(XMLError) as info:
        units.parse_scaled(None, None, where="./capacity", scale=1, required=True)
    assert info.value.message == "XML error: missing element or attribute './capacity'"
    assert info.value.domain == ErrorDomain.XML


def test_unknown_suffix_is_invalid_argument_without_domain() -> None:
    with pytest.raises(InvalidArgError) as info:
        units.unit_multiplier("XB")
    assert info.value.message == "invalid argument: unknown suffix 'XB'"
    assert info.value.domain == ErrorDomain.NONE


def test_overflow_has_libvirts_code() -> None:
    with pytest.raises(VirtError) as info:
        units.scale_integer(8, "E", 1, units.LLONG_MAX)
    assert info.value.code == ErrorNumber.OVERFLOW
    assert info.value.message == "numerical overflow: value too large: 8E"


def test_scale_applies_only_without_suffix() -> None:
    assert units.scale_integer(3, None, 1024) == 3072
    assert units.scale_integer(3, "", 1024) == 3072
    assert units.scale_integer(3, "b", 1024) == 3


def test_zero_never_overflows() -> None:
    assert units.scale_integer(0, "E", 1, 1) == 0


@pytest.mark.parametrize(
    ("suffix", "multiplier"),
    [("k", 1024), ("MiB", 1024**2), ("gb", 1000**3), ("T", 1024**4), ("PB", 1000**5),
     ("eib", 1024**6), ("Bytes", 1)],
)  # fmt: skip
def test_unit_multipliers(suffix: str, multiplier: int) -> None:
    assert units.unit_multiplier(suffix) == multiplier


def test_from_bytes_rounds_up() -> None:
    assert units.from_bytes(1025, "KiB") == 2
    assert units.from_bytes(2048, "KiB") == 2


def test_size_argument_with_suffix() -> None:
    assert units.parse_size("512M") == 512 * 1024**2
    assert units.parse_size("10", scale=1024) == 10240


def test_size_argument_without_number_is_invalid() -> None:
    with pytest.raises(InvalidArgError):
        units.parse_size("M")


def test_memory_is_formatted_in_kib() -> None:
    assert (
        units.format_memory("currentMemory", 2048)
        == "<currentMemory unit='KiB'>2048</currentMemory>"
    )


# -- C integers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "base", "value"),
    [("42", 10, 42), ("  -7", 10, -7), ("+3", 10, 3), ("0x1f", 16, 31), ("1F", 16, 31),
     ("0x10", 0, 16), ("010", 0, 8), ("10", 0, 10)],
)  # fmt: skip
def test_c_integer_accepts_what_strtol_accepts(text: str, base: int, value: int) -> None:
    assert units.parse_llong(text, base) == value


@pytest.mark.parametrize("text", ["", " ", "5 ", "1_000", "0x10", "--1", "+", "1.0", "\u0661"])
def test_c_integer_refuses_what_strtol_leaves_unread(text: str) -> None:
    with pytest.raises(ValueError):
        units.parse_llong(text)


def test_int_range_is_checked() -> None:
    assert units.parse_int(str(units.INT_MAX)) == units.INT_MAX
    with pytest.raises(ValueError):
        units.parse_int(str(units.INT_MAX + 1))


def test_unsigned_readers_refuse_a_minus_sign() -> None:
    with pytest.raises(ValueError):
        units.parse_uint("-0")
    with pytest.raises(ValueError):
        units.parse_ullong("-1")


def test_ullong_range_is_checked() -> None:
    assert units.parse_ullong(str(units.ULLONG_MAX)) == units.ULLONG_MAX
    with pytest.raises(ValueError):
        units.parse_ullong(str(units.ULLONG_MAX + 1))
