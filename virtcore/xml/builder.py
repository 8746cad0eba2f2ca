"""Typed, XPath-backed views of live XML trees: the base of every document model.

A document model is a subclass of :class:`XMLNode` whose attributes are
descriptors naming an XPath relative to the node's element::

    class OS(XMLNode):
        TAG = "os"
        type = XMLProperty("./type")
        arch = XMLProperty("./type/@arch")

    class Domain(XMLNode):
        TAG = "domain"
        PARSE_URL = "(domain_definition)"
        virt_type = XMLProperty("./@type")
        name = XMLProperty("./name")
        vcpus = XMLProperty("./vcpu", int)
        memory = XMLMemory("./memory")
        os = XMLChild(OS)
        disks = XMLChildList(Disk, "./devices/disk")

The node wraps an element of a *live* lxml tree; there is no copy of the data.
Reading a property evaluates its XPath, setting one edits the tree at once,
creating missing elements where libvirt would write them (see
:mod:`virtcore.xml.paths` for the canonical order) and ``None`` (or ``del``)
removes the node and any container left empty. Everything a model does not
describe - unknown elements and attributes, ``<metadata>``, foreign
namespaces such as ``qemu:commandline`` - is never touched, so it survives
any number of edits. :meth:`XMLNode.to_string` formats the tree exactly as
libvirt does (:mod:`virtcore.xml.format`).

Descriptors: :class:`XMLProperty` (a converted value; ``XMLProperty[int]`` to
the type checker), :class:`XMLScaled` and :class:`XMLMemory` (sizes with a
unit), :class:`XMLFlag` (presence), :class:`XMLChild` (one sub-object) and
:class:`XMLChildList` (repeated sub-objects, a live :class:`ChildList`).
Converters (:data:`STR`, :data:`INT`, :data:`UINT`, :data:`ULLONG`,
:data:`HEX`, :data:`YESNO`, :data:`ONOFF`, :class:`EnumConverter`) read values
the way libvirt does and report bad ones with libvirt's ``XMLError`` wording.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, Generic, Self, TypeVar, cast, overload

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import XMLError
from virtcore.xml import units
from virtcore.xml.converters import (
    HEX,
    INT,
    LLONG,
    ONOFF,
    STR,
    UINT,
    ULLONG,
    YESNO,
    BoolConverter,
    Converter,
    EnumConverter,
    IntConverter,
)
from virtcore.xml.node import NAMESPACES, XMLNode, _Descriptor, _string_value, register_namespace
from virtcore.xml.paths import Step, insert_element, parse_path, set_attribute, step_names

__all__ = [
    "HEX",
    "INT",
    "LLONG",
    "NAMESPACES",
    "ONOFF",
    "STR",
    "UINT",
    "ULLONG",
    "YESNO",
    "BoolConverter",
    "ChildList",
    "Converter",
    "EnumConverter",
    "IntConverter",
    "XMLChild",
    "XMLChildList",
    "XMLFlag",
    "XMLMemory",
    "XMLNode",
    "XMLProperty",
    "XMLScaled",
    "register_namespace",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
N = TypeVar("N", bound=XMLNode)


class XMLProperty(_Descriptor, Generic[T]):
    """A value at an XPath: element text or an attribute, converted both ways.

    ``XMLProperty(xpath)`` is a string, ``XMLProperty(xpath, int)`` an
    integer read like libvirt's ``virStrToLong_i`` and ``XMLProperty(xpath,
    conv)`` uses a :class:`~virtcore.xml.converters.Converter`. Reading
    returns *default* when the node is absent or empty (as libvirt's
    ``virXPathString`` sees them); a value the converter refuses raises
    ``XMLError`` with libvirt's wording. Assigning ``None`` or deleting
    removes the node.
    """

    @overload
    def __init__(
        self: XMLProperty[str], xpath: str, *, default: str | None = None, doc: str | None = None
    ) -> None: ...
    @overload
    def __init__(
        self: XMLProperty[str],
        xpath: str,
        conv: type[str],
        *,
        default: str | None = None,
        doc: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: XMLProperty[int],
        xpath: str,
        conv: type[int],
        *,
        default: int | None = None,
        doc: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self, xpath: str, conv: Converter[T], *, default: T | None = None, doc: str | None = None
    ) -> None: ...

    def __init__(
        self,
        xpath: str,
        conv: Converter[Any] | type[Any] | None = None,
        *,
        default: Any = None,
        doc: str | None = None,
    ) -> None:
        super().__init__(xpath, doc)
        converter: Converter[Any]
        if conv is None or conv is str:
            converter = STR
        elif conv is int:
            converter = INT
        elif isinstance(conv, Converter):
            converter = conv
        elif conv is bool:
            raise TypeError("use YESNO, ONOFF or XMLFlag for booleans")
        else:
            raise TypeError(f"not a converter: {conv!r}")
        self.conv: Converter[Any] = converter
        self.default = default

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: XMLNode, owner: type[Any]) -> T | None: ...
    def __get__(self, obj: XMLNode | None, owner: type[Any]) -> Self | T | None:
        if obj is None:
            return self
        found = obj._evaluate(self.xpath)
        if found is None or found is False:
            return cast("T | None", self.default)
        text = _string_value(found)
        if not text:
            return cast("T | None", self.default)
        try:
            return cast("T", self.conv.parse(text))
        except ValueError:
            raise XMLError(self._invalid(text, found), domain=ErrorDomain.XML) from None

    def _invalid(self, text: str, found: Any) -> str:
        # libvirt words bad attributes like virXMLPropInt, bad element text
        # like virParseScaledValue.
        if isinstance(found, etree._ElementUnicodeResult) and found.is_attribute:
            owner = found.getparent()
            element = etree.QName(owner).localname if owner is not None else "?"
            attribute = etree.QName(str(found.attrname)).localname
            expected = f" Expected {self.conv.expected}" if self.conv.expected else ""
            return (
                f"Invalid value for attribute '{attribute}' in element "
                f"'{element}': '{text}'.{expected}"
            )
        return f"Invalid value '{text}' for element or attribute '{self.xpath}'"

    def __set__(self, obj: XMLNode, value: T | None) -> None:
        if value is None:
            obj._remove(self.xpath)
        else:
            obj._write(self.xpath, self.conv.format(value), self.steps)

    def __delete__(self, obj: XMLNode) -> None:
        obj._remove(self.xpath)


class XMLScaled(XMLProperty[int]):
    """A size with a unit, in *unit* (rounded up), read like ``virParseScaledValue``.

    *default_unit* applies when the document names none; writing stores the
    number with ``unit`` = *unit*. *unit_xpath* locates the unit (by default
    the ``unit`` attribute of the value's element); *where* is the location
    libvirt names in errors (the XPath by default); *limit* is in bytes.
    """

    def __init__(
        self,
        xpath: str,
        *,
        unit: str = "bytes",
        default_unit: str | None = None,
        unit_xpath: str | None = None,
        limit: int = units.ULLONG_MAX,
        where: str | None = None,
        doc: str | None = None,
    ) -> None:
        super().__init__(xpath, IntConverter(units.parse_ullong), doc=doc)
        units.unit_multiplier(unit)  # refuses an unknown unit when the model is defined
        self.unit = unit
        self.scale = units.unit_multiplier(default_unit or unit)
        self.unit_xpath = unit_xpath or f"{xpath.rstrip('/')}/@unit"
        self.unit_steps = parse_path(self.unit_xpath)
        self.limit = limit
        self.where = where or xpath

    def _read(self, obj: XMLNode) -> tuple[str | None, str | None]:
        value = obj._evaluate(self.xpath)
        unit = obj._evaluate(self.unit_xpath)
        return (
            _string_value(value) if value is not None else None,
            _string_value(unit) if unit is not None else None,
        )

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: XMLNode, owner: type[Any]) -> int | None: ...
    def __get__(self, obj: XMLNode | None, owner: type[Any]) -> Self | int | None:
        if obj is None:
            return self
        value, unit = self._read(obj)
        size = units.parse_scaled(value, unit, where=self.where, scale=self.scale, limit=self.limit)
        return None if size is None else units.from_bytes(size, self.unit)

    def __set__(self, obj: XMLNode, value: int | None) -> None:
        super().__set__(obj, value)
        if value is not None:
            obj._write(self.unit_xpath, self.unit, self.unit_steps)


class XMLMemory(XMLScaled):
    """A memory size in KiB, read like libvirt's ``virDomainParseMemory``.

    Written as ``<memory unit='KiB'>N</memory>``; a size that does not fit
    raises ``numerical overflow: size value too large``.
    """

    def __init__(
        self, xpath: str, *, where: str | None = None, capped: bool = False, doc: str | None = None
    ) -> None:
        super().__init__(xpath, unit="KiB", where=where, doc=doc)
        self.capped = capped

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: XMLNode, owner: type[Any]) -> int | None: ...
    def __get__(self, obj: XMLNode | None, owner: type[Any]) -> Self | int | None:
        if obj is None:
            return self
        value, unit = self._read(obj)
        return units.parse_memory(
            value, unit, where=self.where, capped=self.capped, error_domain=obj.ERROR_DOMAIN
        )


class XMLFlag(_Descriptor):
    """Whether a node exists; ``True`` creates it (empty), ``False`` removes it."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: XMLNode, owner: type[Any]) -> bool: ...
    def __get__(self, obj: XMLNode | None, owner: type[Any]) -> Self | bool:
        if obj is None:
            return self
        return obj._evaluate(self.xpath) not in (None, False)

    def __set__(self, obj: XMLNode, value: bool) -> None:
        if not value:
            obj._remove(self.xpath)
        elif self.steps is not None and self.steps and self.steps[-1].attribute:
            obj._write(self.xpath, "", self.steps)
        else:
            obj._ensure(self.xpath)

    def __delete__(self, obj: XMLNode) -> None:
        obj._remove(self.xpath)


class XMLChild(_Descriptor, Generic[N]):
    """One sub-object (``<os>``, ``<cpu>``); *xpath* defaults to ``./TAG``.

    Reading always returns a model object: while its element is absent its
    properties read as absent, and setting one creates the element in place.
    Assigning a model object moves its element here (replacing the current
    one); assigning ``None`` removes it.
    """

    def __init__(self, cls: type[N], xpath: str | None = None, doc: str | None = None) -> None:
        super().__init__(xpath or f"./{cls.TAG}", doc)
        self.cls = cls

    def child_class(self) -> type[XMLNode]:
        return self.cls

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: XMLNode, owner: type[Any]) -> N: ...
    def __get__(self, obj: XMLNode | None, owner: type[Any]) -> Self | N:
        if obj is None:
            return self
        found = obj._evaluate(self.xpath)
        # The subclass wrap() picks for the element, anchored to the parent
        # so that it follows the tree (and can create its element later).
        cls = type(self.cls.wrap(found)) if isinstance(found, etree._Element) else self.cls
        return cls._anchored(obj, self.xpath)

    def __set__(self, obj: XMLNode, value: N | None) -> None:
        current = obj._evaluate(self.xpath)
        if value is not None and value._find() is current and current is not None:
            return
        if value is None:
            obj._remove(self.xpath)
            return
        element = value.element
        if isinstance(current, etree._Element):
            current.addprevious(element)
            parent = current.getparent()
            if parent is not None:
                parent.remove(current)
            return
        if self.steps is None or not self.steps:
            raise AttributeError(f"{self.xpath!r} cannot be assigned")
        container = obj._ensure_steps(self.steps[:-1])
        insert_element(container, element, obj._order_at(step_names(self.steps[:-1])))

    def __delete__(self, obj: XMLNode) -> None:
        obj._remove(self.xpath)


class XMLChildList(_Descriptor, Generic[N]):
    """Repeated sub-objects (``./devices/disk``), read as a live :class:`ChildList`."""

    def __init__(self, cls: type[N], xpath: str | None = None, doc: str | None = None) -> None:
        super().__init__(xpath or f"./{cls.TAG}", doc)
        if self.steps is None or not self.steps or self.steps[-1].attribute:
            raise ValueError(f"not a buildable element path: {self.xpath!r}")
        self.cls = cls

    def child_class(self) -> type[XMLNode]:
        return self.cls

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: XMLNode, owner: type[Any]) -> ChildList[N]: ...
    def __get__(self, obj: XMLNode | None, owner: type[Any]) -> Self | ChildList[N]:
        if obj is None:
            return self
        return ChildList(obj, self)


class ChildList(Sequence[N]):
    """The live list of an :class:`XMLChildList`: every call reads the tree anew."""

    def __init__(self, owner: XMLNode, desc: XMLChildList[N]) -> None:
        self._owner = owner
        self._desc = desc
        assert desc.steps is not None
        self._steps: tuple[Step, ...] = desc.steps

    def _elements(self) -> list[etree._Element]:
        return [e for e in self._owner.xpath(self._desc.xpath) if isinstance(e, etree._Element)]

    def __len__(self) -> int:
        return len(self._elements())

    @overload
    def __getitem__(self, index: int) -> N: ...
    @overload
    def __getitem__(self, index: slice) -> list[N]: ...
    def __getitem__(self, index: int | slice) -> N | list[N]:
        elements = self._elements()
        if isinstance(index, slice):
            return [self._desc.cls.wrap(e) for e in elements[index]]
        return self._desc.cls.wrap(elements[index])

    def __iter__(self) -> Iterator[N]:
        return (self._desc.cls.wrap(e) for e in self._elements())

    def __contains__(self, item: object) -> bool:
        return isinstance(item, XMLNode) and any(e is item._find() for e in self._elements())

    def index(self, item: Any, start: int = 0, stop: int | None = None) -> int:
        """Position of *item* (compared by element identity)."""
        target = item._find() if isinstance(item, XMLNode) else None
        for i, element in enumerate(self._elements()[start:stop], start):
            if element is target:
                return i
        raise ValueError(f"{item!r} is not in the list")

    def new(self) -> N:
        """A new, unattached item (a document of its own until inserted)."""
        return self._desc.cls()

    def append(self, item: N | None = None) -> N:
        """Add *item* (or a new one) after the existing items; returns it."""
        return self.insert(len(self), item)

    def insert(self, index: int, item: N | None = None) -> N:
        """Add *item* (or a new one) before position *index*; returns it."""
        item = item if item is not None else self.new()
        element = item.element
        elements = [e for e in self._elements() if e is not element]
        if index < 0:
            index = max(len(elements) + index, 0)
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
        last = self._steps[-1]
        order = self._owner._order_at(step_names(self._steps))
        for attr, value in last.attributes:
            set_attribute(element, self._owner._clark(attr), value, order)
        if 0 <= index < len(elements):
            elements[index].addprevious(element)
        else:
            container = self._owner._ensure_steps(self._steps[:-1])
            insert_element(container, element, self._owner._order_at(step_names(self._steps[:-1])))
        return self._desc.cls.wrap(element)

    def remove(self, item: N) -> None:
        """Detach *item*: it becomes a document of its own, still usable."""
        element = item._find()
        if element is None or not any(e is element for e in self._elements()):
            raise ValueError(f"{item!r} is not in the list")
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)
        self._owner._prune(parent)

    def pop(self, index: int = -1) -> N:
        """Remove and return the item at *index*."""
        item = self[index]
        self.remove(item)
        return item

    def move(self, item: N, index: int) -> None:
        """Move *item* to position *index* among the items."""
        element = item._find()
        if element is None or not any(e is element for e in self._elements()):
            raise ValueError(f"{item!r} is not in the list")
        self.insert(index, item)

    def clear(self) -> None:
        """Remove every item."""
        for item in list(self):
            self.remove(item)

    def __repr__(self) -> str:
        return f"<ChildList {self._desc.xpath} ({len(self)})>"
