"""Output helpers: virsh's tables, sizes, numbers and trees."""

from __future__ import annotations

import math

from virtcore.cli.format import (
    Table,
    c_float,
    display_width,
    escape_cell,
    pretty_capacity,
    tree_lines,
)


def test_table_layout_matches_virsh() -> None:
    table = Table("Id", "Name", "State")
    table.add("1", "test", "running")
    assert table.render() == (" Id   Name   State\n----------------------\n 1    test   running\n")


def test_table_last_column_is_not_padded_but_keeps_separator() -> None:
    table = Table("A", "B")
    table.add("x", "")
    assert table.render().splitlines()[-1] == " x   "


def test_table_without_header_sizes_columns_by_cells() -> None:
    table = Table("Id", "Name")
    table.add("1", "test")
    assert table.render(header=False) == " 1   test\n"


def test_empty_table_still_has_header_and_rule() -> None:
    assert Table("Name", "Path").render() == " Name   Path\n--------------\n"


def test_table_measures_wide_characters_as_two_columns() -> None:
    table = Table("N", "X")
    table.add("日本", "1")
    assert table.render().splitlines()[2] == " 日本   1"
    assert display_width("日本") == 4


def test_control_characters_are_escaped_in_cells() -> None:
    assert escape_cell("a\x1bb") == "a\\x1bb"


def test_pretty_capacity_uses_binary_units() -> None:
    assert pretty_capacity(0) == "0.00 B"
    assert pretty_capacity(1023) == "1023.00 B"
    assert pretty_capacity(1024) == "1.00 KiB"
    assert pretty_capacity(100 * 1024**3) == "100.00 GiB"
    assert pretty_capacity(1099506450432, 3) == "1023.995 GiB"
    assert pretty_capacity(2**63) == "8.00 EiB"


def test_c_float_spells_nan_like_glibc() -> None:
    assert c_float(-math.nan, 1) == "-nan"
    assert c_float(math.inf, 1) == "inf"
    assert c_float(12.345, 1) == "12.3"


def test_tree_draws_rails_like_virsh() -> None:
    names = ["computer", "scsi_host1", "scsi_host11", "scsi_host2"]
    parents = [None, "computer", "scsi_host1", "computer"]
    assert tree_lines(names, parents) == (
        "computer\n"
        "  |\n"
        "  +- scsi_host1\n"
        "  |   |\n"
        "  |   +- scsi_host11\n"
        "  |     \n"
        "  +- scsi_host2\n"
        "    \n"
    )


def test_tree_follows_a_chain() -> None:
    assert tree_lines(["c", "a", "b"], ["b", None, "a"]) == (
        "a\n  |\n  +- b\n      |\n      +- c\n        \n"
    )


def test_tree_root_without_children_is_followed_by_a_blank_line() -> None:
    assert tree_lines(["a", "b"], [None, None]) == "a\n\nb\n\n"
