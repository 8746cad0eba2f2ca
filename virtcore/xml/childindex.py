"""Child elements found by name in one dict access while a document is read.

Reading a definition the way libvirt does asks every element for its
children by name over and over - ``<domain>`` alone is asked some fifty
times, mostly for sections it does not have - and each of those lookups
walks the children again. Within :func:`indexed_reading` the children of
every element asked are grouped by name once, on the first question, and
:func:`first_child`, :func:`all_children` and, for paths of plain names
(``"os/type"``), :func:`first_at` and :func:`all_at` answer from that
index.

Contract: the tree must not change inside the block (the index would not
see it); outside any block the functions walk the tree as lxml does. Names
are matched exactly like ``iterchildren(name)``: a plain name finds
elements of that name in no namespace, ``{uri}name`` those of the
namespace. Wildcards are not indexed and walk the tree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from lxml import etree

__all__ = ["all_at", "all_children", "first_at", "first_child", "indexed_reading"]

logger = logging.getLogger(__name__)

_Index = dict[str, list[etree._Element]]
_INDEXES: ContextVar[dict[etree._Element, _Index] | None] = ContextVar(
    "virtcore_child_indexes", default=None
)


@contextmanager
def indexed_reading() -> Iterator[None]:
    """Within the block, child lookups by name use a per-element index (see the module)."""
    token = _INDEXES.set({})
    try:
        yield
    finally:
        _INDEXES.reset(token)


def _index(element: etree._Element, indexes: dict[etree._Element, _Index]) -> _Index:
    index: _Index = {}
    for node in element:
        tag = node.tag
        if isinstance(tag, str):
            found = index.get(tag)
            if found is None:
                index[tag] = [node]
            else:
                found.append(node)
    # The key keeps lxml's proxy alive, so the element keeps its identity.
    indexes[element] = index
    return index


def first_child(element: etree._Element, name: str) -> etree._Element | None:
    """The first child element called *name* (``next(element.iterchildren(name))``)."""
    indexes = _INDEXES.get()
    if indexes is not None and "*" not in name:
        index = indexes.get(element)
        if index is None:
            index = _index(element, indexes)
        found = index.get(name)
        return found[0] if found else None
    return next(element.iterchildren(name), None)


def all_children(element: etree._Element, name: str) -> list[etree._Element]:
    """Every child element called *name*, in document order (``list(iterchildren(name))``)."""
    indexes = _INDEXES.get()
    if indexes is not None and "*" not in name:
        index = indexes.get(element)
        if index is None:
            index = _index(element, indexes)
        return list(index.get(name, ()))
    return list(element.iterchildren(name))


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


def first_at(element: etree._Element, path: str) -> etree._Element | None:
    """The first element *path* (``"os/type"``) selects, as ``next(iterfind(path))``."""
    indexes = _INDEXES.get()
    steps = _STEPS.get(path, _UNKNOWN)
    if steps is _UNKNOWN:
        steps = _steps(path)
    if indexes is None or steps is None:
        return next(element.iterfind(path), None)
    return _first(element, steps, 0, indexes)


def _first(
    element: etree._Element,
    steps: tuple[str, ...],
    at: int,
    indexes: dict[etree._Element, _Index],
) -> etree._Element | None:
    index = indexes.get(element)
    if index is None:
        index = _index(element, indexes)
    found = index.get(steps[at])
    if not found:
        return None
    if at + 1 == len(steps):
        return found[0]
    for head in found:
        below = _first(head, steps, at + 1, indexes)
        if below is not None:
            return below
    return None


def all_at(element: etree._Element, path: str) -> list[etree._Element]:
    """Every element *path* (``"cputune/vcpupin"``) selects, as ``list(iterfind(path))``."""
    indexes = _INDEXES.get()
    steps = _STEPS.get(path, _UNKNOWN)
    if steps is _UNKNOWN:
        steps = _steps(path)
    if indexes is None or steps is None:
        return list(element.iterfind(path))
    found = [element]
    for name in steps:
        below: list[etree._Element] = []
        for head in found:
            index = indexes.get(head)
            if index is None:
                index = _index(head, indexes)
            below.extend(index.get(name, ()))
        if not below:
            return below
        found = below
    return found
