"""Child elements found by name in one dict access while a document is read.

Reading a definition the way libvirt does asks every element for its
children by name over and over - ``<domain>`` alone is asked some fifty
times, mostly for sections it does not have - and each of those lookups
walks the children again. Within :func:`indexed_reading` the children of
every element asked are grouped by name once, on the first question, and
:func:`first_child`, :func:`all_children` and, for paths of plain names
(``"os/type"``), :func:`first_at` and :func:`all_at` answer from that
index; :func:`children_by_name` hands out an element's index itself, for a
reader that asks about many names at once.

Contract: the answers are exactly lxml's. Names are matched like
``iterchildren(name)``: a plain name finds elements of that name in no
namespace, ``{uri}name`` those of the namespace. Wildcards are not indexed
and walk the tree; an element without children answers from nothing at
all. A tree must not change while a block reads it (the index would not
see the change); once the block ends, its index is forgotten and the
functions walk the tree as lxml does.

The indexes live in one table shared by all threads, keyed by element, so
that a lookup of an indexed element costs no context lookup: a block adds
the elements it reads and removes them when it ends (an element without
children needs no index at all). Another thread asking about an element a
block is reading gets the answer that element's unchanged tree gives, which
is lxml's; an element two blocks index at once is indexed again, or walked,
once the first block ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextvars import ContextVar

from lxml import etree

__all__ = [
    "all_at",
    "all_children",
    "children_by_name",
    "first_at",
    "first_child",
    "group_by_name",
    "in_indexed_reading",
    "indexed_reading",
]

logger = logging.getLogger(__name__)

_Index = dict[str, list[etree._Element]]

_INDEXES: dict[etree._Element, _Index] = {}
"""The index of each element read by some block. The key keeps lxml's proxy alive, so
the element keeps its identity while it is indexed."""

_NO_CHILDREN: _Index = {}  # never written to

_OWNED: ContextVar[list[etree._Element] | None] = ContextVar(
    "virtcore_child_index_owner", default=None
)
"""The elements the current block added to :data:`_INDEXES` (None outside any block)."""


class indexed_reading:  # noqa: N801 - used like the function it replaces, in a with
    """Within the block, child lookups by name use a per-element index (see the module)."""

    __slots__ = ("_owned", "_token")

    def __init__(self) -> None:
        self._owned: list[etree._Element] = []

    def __enter__(self) -> None:
        self._token = _OWNED.set(self._owned)

    def __exit__(self, *exc_info: object) -> None:
        _OWNED.reset(self._token)
        pop = _INDEXES.pop
        for element in self._owned:
            pop(element, None)
        self._owned.clear()


def in_indexed_reading() -> bool:
    """Whether the caller is within an :class:`indexed_reading` block.

    A reader that opens a block of its own can use the enclosing one instead:
    the elements it indexes are then forgotten when that block ends.
    """
    return _OWNED.get() is not None


def group_by_name(elements: Iterable[etree._Element]) -> dict[str, list[etree._Element]]:
    """The children of *elements*, in document order, by name.

    Comments and processing instructions are left out; namespaced elements
    are keyed ``{uri}name``, which no plain name matches.
    """
    grouped: dict[str, list[etree._Element]] = {}
    for element in elements:
        for node in element:
            tag = node.tag
            if tag.__class__ is str:
                found = grouped.get(tag)
                if found is None:
                    grouped[tag] = [node]
                else:
                    found.append(node)
    return grouped


def _index_one(element: etree._Element) -> _Index | None:
    """The index of an element not indexed yet, made for the block; None outside any block."""
    owned = _OWNED.get()
    if owned is None:
        return None
    # group_by_name((element,)), written out: an index is made per element read.
    index: _Index = {}
    for node in element:
        tag = node.tag
        if tag.__class__ is str:
            found = index.get(tag)
            if found is None:
                index[tag] = [node]
            else:
                found.append(node)
    _INDEXES[element] = index
    owned.append(element)
    return index


def children_by_name(element: etree._Element) -> dict[str, list[etree._Element]]:
    """The child elements of *element* by name, as :func:`group_by_name` groups them.

    Within a block this is the element's index itself, made on the first
    question: one dict that answers "which sections are there" for a reader
    asking about many names at once. The caller must not change it (nor its
    lists); outside any block it is a new dict each time.
    """
    index = _INDEXES.get(element)
    if index is not None:
        return index
    if not len(element):
        return _NO_CHILDREN
    index = _index_one(element)
    if index is None:
        return group_by_name((element,))
    return index


def first_child(element: etree._Element, name: str) -> etree._Element | None:
    """The first child element called *name* (``next(element.iterchildren(name))``)."""
    index = _INDEXES.get(element)
    if index is None:
        if not len(element):
            return None
        index = _index_one(element)
        if index is None:
            return next(element.iterchildren(name), None)
    found = index.get(name)
    if found is not None:
        return found[0]
    if "*" in name:
        return next(element.iterchildren(name), None)
    return None


def all_children(element: etree._Element, name: str) -> list[etree._Element]:
    """Every child element called *name*, in document order (``list(iterchildren(name))``)."""
    index = _INDEXES.get(element)
    if index is None:
        if not len(element):
            return []
        index = _index_one(element)
        if index is None:
            return list(element.iterchildren(name))
    found = index.get(name)
    if found is not None:
        return found.copy()  # the caller's list: the index must not change with it
    if "*" in name:
        return list(element.iterchildren(name))
    return []


_UNKNOWN: tuple[str, ...] = ("",)  # a marker, compared by identity
_STEPS: dict[str, tuple[str, ...] | None] = {}


def _steps(path: str) -> tuple[str, ...] | None:
    """The names of a path of plain names (``"os/type"``), or None for any other path."""
    names = tuple(path.split("/"))
    plain = path[:1] not in ("", "{") and all(
        name and not any(c in name for c in "[.*@(:") for name in names
    )
    steps = names if plain else None
    if len(_STEPS) < 4096:  # the paths are literals of the readers: a bounded set
        _STEPS[path] = steps
    return steps


class _NotIndexed(Exception):
    """An element on the way has no index (outside any block): walk the tree instead."""


def _index_at(element: etree._Element) -> _Index:
    """The index of an element not in :data:`_INDEXES` (raises :class:`_NotIndexed`)."""
    if not len(element):
        return _NO_CHILDREN
    index = _index_one(element)
    if index is None:
        raise _NotIndexed
    return index


def first_at(element: etree._Element, path: str) -> etree._Element | None:
    """The first element *path* (``"os/type"``) selects, as ``next(iterfind(path))``."""
    steps = _STEPS.get(path, _UNKNOWN)
    if steps is _UNKNOWN:
        steps = _steps(path)
    if steps is not None:
        try:
            return _first(element, steps, 0)
        except _NotIndexed:
            pass
    return next(element.iterfind(path), None)


def _first(element: etree._Element, steps: tuple[str, ...], at: int) -> etree._Element | None:
    """The first match of ``steps[at:]`` below *element*, depth first as in document order."""
    index = _INDEXES.get(element)
    if index is None:
        index = _index_at(element)
    found = index.get(steps[at])
    if found is None:
        return None
    at += 1
    if at == len(steps):
        return found[0]
    for head in found:
        below = _first(head, steps, at)
        if below is not None:
            return below
    return None


def all_at(element: etree._Element, path: str) -> list[etree._Element]:
    """Every element *path* (``"cputune/vcpupin"``) selects, as ``list(iterfind(path))``."""
    steps = _STEPS.get(path, _UNKNOWN)
    if steps is _UNKNOWN:
        steps = _steps(path)
    if steps is None:
        return list(element.iterfind(path))
    indexes = _INDEXES
    found = [element]
    try:
        for name in steps:
            below: list[etree._Element] = []
            for head in found:
                index = indexes.get(head)
                if index is None:
                    index = _index_at(head)
                matches = index.get(name)
                if matches is not None:
                    below += matches
            if not below:
                return below
            found = below
    except _NotIndexed:
        return list(element.iterfind(path))
    return found
