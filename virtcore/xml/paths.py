"""The small XPath subset the document models create, and where new nodes go.

Reading a model property evaluates its XPath with lxml, so any expression
works. Writing one may have to create the nodes it names, which needs a
path simple enough to build: a sequence of steps separated by ``/``, each an
element name (optionally ``prefix:name``) with optional predicates, and
optionally a final attribute step::

    ./os/type/@arch
    ./devices/disk[@device='cdrom']/target/@dev
    ./os/boot[2]/@dev
    ./qemu:commandline/qemu:arg[@value='-s']

A predicate is a 1-based index or ``@attr='value'`` tests joined with
``and``; creating a step with attribute tests sets those attributes on the
new element. :func:`parse_path` turns such an expression into
:class:`Step` values (or None when it is not buildable).

Placement follows a *canonical order*, a sequence naming child elements and
(with a leading ``@``) attributes in the order libvirt writes them:
:func:`insert_element` puts a new element after the last existing sibling
that comes no later in that order (so a new ``<disk>`` lands after the
existing disks) or else before the first one that comes later, and
:func:`set_attribute` keeps attributes in that order. Nodes the order does
not name keep their place; new unnamed ones go last.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

__all__ = ["Step", "clark", "insert_element", "parse_path", "set_attribute", "step_names"]

_NAME = r"[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?"
_STEP = re.compile(rf"(@)?({_NAME})((?:\[[^\]]*\])*)$")
_PREDICATE = re.compile(r"\[([^\]]*)\]")
_ATTR_TEST = re.compile(rf"@({_NAME})\s*=\s*(?:'([^']*)'|\"([^\"]*)\")$")


@dataclass(frozen=True)
class Step:
    """One step of a buildable path."""

    name: str
    """The element or attribute name as written (``qemu:arg``, ``dev``)."""
    attribute: bool = False
    """Whether this is the final ``@name`` step."""
    index: int | None = None
    """The ``[n]`` predicate, if any."""
    attributes: tuple[tuple[str, str], ...] = ()
    """The ``[@a='v']`` tests, set on a newly created element."""
    text: str = ""
    """The step as written, to evaluate it with lxml."""


@functools.lru_cache(maxsize=4096)  # models ask for the same few paths again and again
def parse_path(xpath: str) -> tuple[Step, ...] | None:
    """The steps of a buildable *xpath*, or None when it cannot be created.

    ``.`` and a leading ``./`` are dropped, so ``"."`` is the empty path.
    """
    path = xpath.strip()
    if path.startswith("./"):
        path = path[2:]
    if path in ("", "."):
        return ()
    steps: list[Step] = []
    parts = path.split("/")
    for position, part in enumerate(parts):
        match = _STEP.match(part)
        if match is None:
            return None
        is_attr = bool(match.group(1))
        if is_attr and (position != len(parts) - 1 or match.group(3)):
            return None
        index: int | None = None
        attrs: list[tuple[str, str]] = []
        for predicate in _PREDICATE.findall(match.group(3)):
            for test in re.split(r"\s+and\s+", predicate.strip()):
                if test.isdigit():
                    index = int(test)
                    continue
                attr = _ATTR_TEST.match(test)
                if attr is None:
                    return None
                attrs.append((attr.group(1), attr.group(2) if attr.group(2) is not None
                              else attr.group(3)))  # fmt: skip
        steps.append(Step(match.group(2), is_attr, index, tuple(attrs), part))
    return tuple(steps)


def step_names(steps: Sequence[Step]) -> tuple[str, ...]:
    """The names along *steps*, attributes marked with ``@`` (``("os", "type", "@arch")``)."""
    return tuple(("@" + s.name) if s.attribute else s.name for s in steps)


def clark(name: str, namespaces: Mapping[str, str]) -> str:
    """``prefix:local`` -> ``{uri}local`` with *namespaces*; other names unchanged.

    A leading ``@`` is kept. An unknown prefix raises ``KeyError``.
    """
    marker = ""
    if name.startswith("@"):
        marker, name = "@", name[1:]
    if ":" in name:
        prefix, local = name.split(":", 1)
        if prefix == "xml":
            return f"{marker}{{http://www.w3.org/XML/1998/namespace}}{local}"
        return f"{marker}{{{namespaces[prefix]}}}{local}"
    return marker + name


def insert_element(parent: etree._Element, child: etree._Element, order: Sequence[str]) -> None:
    """Insert *child* into *parent* at its canonical place (*order* in Clark notation)."""
    rank = _ranks(order)
    mine = rank.get(child.tag) if isinstance(child.tag, str) else None
    if mine is None:
        parent.append(child)
        return
    after: etree._Element | None = None
    before: etree._Element | None = None
    for sibling in parent:
        if sibling is child or not isinstance(sibling.tag, str):
            continue
        theirs = rank.get(sibling.tag)
        if theirs is None:
            continue
        if theirs <= mine:
            after = sibling
        elif before is None:
            before = sibling
    if after is not None:
        after.addnext(child)
    elif before is not None:
        before.addprevious(child)
    else:
        parent.append(child)


@functools.lru_cache(maxsize=1024)
def _element_ranks(order: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(order) if not name.startswith("@")}


_RANKS_BY_IDENTITY: dict[int, tuple[tuple[str, ...], dict[str, int]]] = {}
"""Rank tables of the order tuples seen, by identity: the models hand out the same tuple
for a path each time, and hashing a long tuple for the cache above costs more than the
insertion itself. Each entry holds its tuple, so the identity stays that tuple's."""


def _ranks(order: Sequence[str]) -> dict[str, int]:
    if type(order) is not tuple:
        return _element_ranks(tuple(order))
    found = _RANKS_BY_IDENTITY.get(id(order))
    if found is not None and found[0] is order:
        return found[1]
    ranks = _element_ranks(order)
    if len(_RANKS_BY_IDENTITY) < 1024:
        _RANKS_BY_IDENTITY[id(order)] = (order, ranks)
    return ranks


def set_attribute(element: etree._Element, name: str, value: str, order: Sequence[str]) -> None:
    """Set attribute *name* (Clark notation) keeping the canonical attribute *order*."""
    if name in element.attrib:
        element.set(name, value)
        return
    rank = {entry[1:]: i for i, entry in enumerate(order) if entry.startswith("@")}
    items = [(str(key), str(val)) for key, val in element.attrib.items()]
    mine = rank.get(name)
    position = len(items)
    if mine is not None:
        position = 0
        for i, (existing, _) in enumerate(items):
            theirs = rank.get(existing)
            if theirs is not None and theirs <= mine:
                position = i + 1
            elif theirs is None and position == i:
                # Unknown attributes stay glued to what precedes them.
                position = i + 1
    items.insert(position, (name, value))
    element.attrib.clear()
    for key, val in items:
        element.set(key, val)
