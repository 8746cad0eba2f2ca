"""Output formatting shared by the ``virtcore`` commands: virsh's tables, sizes and JSON.

virsh prints listings through one table writer and sizes through one
"pretty capacity" helper; scripts parse both, so they are reproduced exactly:

* :class:`Table` - a header row, a dashed rule and left-aligned columns
  separated by three spaces, each line starting with one space. The last
  column is never padded; the rule is as wide as every column plus three
  characters per column. ``-q`` drops the header and the rule, and the
  columns are then only as wide as their cells. Cells are measured in terminal columns (wide
  East Asian characters count twice) and control characters are escaped as
  ``\\xNN`` so a hostile object name cannot garble the terminal.
* :func:`pretty_capacity` - ``100.00 GiB``-style sizes with binary units.
* :func:`to_json` - the ``--json`` documents: sorted keys off, two-space
  indentation, one trailing newline; field names are documented in
  ``docs/cli.md`` and are part of the command line's stable interface.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Sequence
from typing import Any

__all__ = [
    "Table",
    "c_float",
    "display_width",
    "escape_cell",
    "pretty_capacity",
    "to_json",
    "yes_no",
]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def pretty_capacity(value: int, precision: int = 2) -> str:
    """*value* bytes as virsh prints sizes: ``"0.00 B"``, ``"100.00 GiB"``."""
    scaled = float(value)
    unit = _UNITS[0]
    for unit in _UNITS:
        if scaled < 1024 or unit == _UNITS[-1]:
            break
        scaled /= 1024
    return f"{scaled:.{precision}f} {unit}"


def c_float(value: float, precision: int) -> str:
    """Format like C's ``%.Nf``, including glibc's ``-nan``/``nan``/``inf`` spellings."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value:.{precision}f}"


def yes_no(flag: bool) -> str:
    """virsh's rendering of booleans in listings and info output."""
    return "yes" if flag else "no"


def display_width(text: str) -> int:
    """How many terminal columns *text* occupies (wide characters count twice)."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def escape_cell(text: str) -> str:
    """Replace control characters by ``\\xNN`` so table cells stay on one line."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char == " " else f"\\x{ord(char):02x}" for char in text
    )


class Table:
    """A listing in virsh's table layout.

    ``Table("Id", "Name", "State")`` then :meth:`add` one row per object and
    :meth:`render`. Cells are converted with ``str``.
    """

    def __init__(self, *headers: str) -> None:
        self.headers = tuple(headers)
        self.rows: list[tuple[str, ...]] = []

    def add(self, *cells: object) -> None:
        """Append a row; it must have one cell per header."""
        if len(cells) != len(self.headers):
            raise ValueError(f"row has {len(cells)} cells, table has {len(self.headers)} columns")
        self.rows.append(tuple(escape_cell(str(cell)) for cell in cells))

    def render(self, *, header: bool = True) -> str:
        """The table as text, each line ending in a newline."""
        # Without the header (``-q``) only the rows decide the widths, as in virsh.
        widths = [display_width(h) if header else 0 for h in self.headers]
        for row in self.rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], display_width(cell))
        lines: list[str] = []
        if header:
            lines.append(self._line(self.headers, widths))
            lines.append("-" * (sum(widths) + 3 * len(widths)))
        lines.extend(self._line(row, widths) for row in self.rows)
        return "".join(line + "\n" for line in lines)

    @staticmethod
    def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            if i == len(cells) - 1:
                parts.append(cell)
            else:
                parts.append(cell + " " * (widths[i] - display_width(cell)))
        return " " + "   ".join(parts)


def to_json(document: Any) -> str:
    """A ``--json`` document: indented, key order preserved, newline-terminated."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def tree_lines(names: Sequence[str], parents: Sequence[str | None]) -> str:
    """virsh's ``--tree`` drawing of items with parents, roots in list order.

    Every item whose parent is ``None`` (or not in the list) starts a tree;
    children are drawn under ``+-`` with ``|`` rails, and a blank line (carrying
    the rail indentation) closes each last leaf, exactly as virsh draws them.
    """
    known = set(names)
    effective = [p if p in known else None for p in parents]
    out: list[str] = []

    def draw(index: int, last: int, root: bool, indent: str) -> str:
        name = names[index]
        out.append(f"{indent}{'' if root else '+- '}{name}\n")
        if not root:
            indent += (" " if index == last else "|") + " "
        children = [i for i, parent in enumerate(effective) if parent == name]
        next_last = children[-1] if children else -1
        if children:
            out.append(f"{indent}  |\n")
        indent += "  "
        for child in children:
            indent = draw(child, next_last, False, indent)
        indent = indent[:-2]
        if next_last == -1 and index == last:
            out.append(f"{indent}\n")
        if not root:
            indent = indent[:-2]
        return indent

    for i, parent in enumerate(effective):
        if parent is None:
            draw(i, i, True, "")
    return "".join(out)
