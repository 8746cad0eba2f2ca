"""The model base class: a typed view of one element of a live lxml tree.

:class:`XMLNode` holds what every document model shares - its element (or,
for a sub-object whose element may not exist yet, its parent and XPath), the
namespaces its XPaths may use, the canonical order in which libvirt writes
child elements and attributes, and the editing primitives the descriptors of
:mod:`virtcore.xml.builder` are built on: evaluate an XPath, create the
elements it names at their canonical place, set text or attributes, remove a
node and the containers it leaves empty. Everything else in the tree is left
as it is.

Models are written with the descriptors of :mod:`virtcore.xml.builder`,
which re-exports this class; see docs/xml-models.md.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.xml.format import FormatRules, format_xml
from virtcore.xml.parse import parse_document
from virtcore.xml.paths import Step, clark, insert_element, parse_path, set_attribute, step_names
from virtcore.xml.validate import validate

__all__ = ["NAMESPACES", "XMLNode", "register_namespace"]

logger = logging.getLogger(__name__)

NAMESPACES: dict[str, str] = {
    "qemu": "http://libvirt.org/schemas/domain/qemu/1.0",
    "lxc": "http://libvirt.org/schemas/domain/lxc/1.0",
    "test": "http://libvirt.org/schemas/domain/test/1.0",
    "bhyve": "http://libvirt.org/schemas/domain/bhyve/1.0",
    "vmware": "http://libvirt.org/schemas/domain/vmware/1.0",
    "xen": "http://libvirt.org/schemas/domain/xen/1.0",
    "dnsmasq": "http://libvirt.org/schemas/network/dnsmasq/1.0",
    "fs": "http://libvirt.org/schemas/storagepool/fs/1.0",
    "rbd": "http://libvirt.org/schemas/storagepool/rbd/1.0",
}
"""Prefixes every model may use in its XPaths (libvirt's extension namespaces)."""


def register_namespace(prefix: str, uri: str) -> None:
    """Make *prefix* usable in the XPaths of every model (for new elements too)."""
    NAMESPACES[prefix] = uri
    _xpath_cache.clear()
    _class_xpaths.clear()


_xpath_cache: dict[tuple[str, tuple[tuple[str, str], ...]], etree.XPath] = {}
# Per model class and expression: reading a property must not rebuild and sort the
# namespace map each time (register_namespace empties it).
_class_xpaths: dict[tuple[type, str], etree.XPath] = {}


def _compiled(expr: str, namespaces: Mapping[str, str]) -> etree.XPath:
    key = (expr, tuple(sorted(namespaces.items())))
    found = _xpath_cache.get(key)
    if found is None:
        found = _xpath_cache[key] = etree.XPath(expr, namespaces=dict(namespaces))
    return found


def _string_value(node: Any) -> str:
    if isinstance(node, etree._Element):
        if len(node) == 0:  # no child nodes at all: the string value is the text
            return node.text or ""
        return str(node.xpath("string()"))
    return str(node)


# -- nodes ----------------------------------------------------------------------------


class XMLNode:
    """A typed view of one element of a live lxml tree.

    ``Model()`` starts a new document with an empty ``TAG`` element,
    ``Model(element)`` wraps an existing element and :meth:`from_xml` parses
    untrusted text. Class attributes describe the document:

    * ``TAG`` - the element's name (``"domain"``, ``"qemu:commandline"``);
    * ``NSMAP`` - extra prefixes for this model's XPaths (see :data:`NAMESPACES`);
    * ``XML_ORDER`` - canonical order per relative path (``""`` for the node's
      own element, ``"devices"``, ``"os/type"``), names of child elements and
      ``@attributes``; where absent, the order of the descriptor declarations;
    * ``KEEP_EMPTY`` - relative paths of containers never removed when empty;
    * ``FORMAT_RULES``, ``PARSE_URL``, ``ERROR_DOMAIN``, ``SCHEMA`` - how the
      document is written (by default as :func:`~virtcore.xml.format.format_xml`
      chooses), named in syntax errors, and validated.
    """

    TAG: ClassVar[str] = ""
    NSMAP: ClassVar[Mapping[str, str]] = {}
    XML_ORDER: ClassVar[Mapping[str, Sequence[str]]] = {}
    KEEP_EMPTY: ClassVar[frozenset[str]] = frozenset()
    FORMAT_RULES: ClassVar[FormatRules | None] = None
    PARSE_URL: ClassVar[str | None] = None
    ERROR_DOMAIN: ClassVar[int] = ErrorDomain.DOMAIN
    SCHEMA: ClassVar[str | None] = None

    _descriptors: ClassVar[tuple[_Descriptor, ...]] = ()
    _orders: ClassVar[dict[tuple[str, ...], tuple[str, ...]]]

    _element: etree._Element | None
    _parent: XMLNode | None
    _path: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = tuple(v for v in vars(cls).values() if isinstance(v, _Descriptor))
        inherited = tuple(d for d in cls._descriptors if d.name not in vars(cls))
        cls._descriptors = inherited + own
        cls._orders = {}

    def __init__(self, element: etree._Element | None = None) -> None:
        if element is None:
            if not self.TAG:
                raise TypeError(f"{type(self).__name__} has no TAG to create an element from")
            element = etree.Element(self._clark(self.TAG), nsmap=self._nsmap_for(self.TAG))
        self._element = element
        self._parent = None
        self._path = "."

    @classmethod
    def wrap(cls, element: etree._Element) -> Self:
        """The model object for *element*; override to pick a subclass per element."""
        return cls(element)

    @classmethod
    def _anchored(cls, parent: XMLNode, path: str) -> Self:
        node = cls.__new__(cls)
        node._element = None
        node._parent = parent
        node._path = path
        return node

    @classmethod
    def from_xml(
        cls, text: str | bytes, *, url: str | None = None, validate_schema: bool = False
    ) -> Self:
        """Parse untrusted *text* (:func:`~virtcore.xml.parse.parse_document`) into a model.

        The root element must be ``TAG``; with *validate_schema* the document
        is checked against ``SCHEMA`` as libvirt's ``VALIDATE`` flags do.
        """
        tree = parse_document(
            text,
            url=url if url is not None else cls.PARSE_URL,
            error_domain=cls.ERROR_DOMAIN,
            root=cls.TAG.rsplit(":", 1)[-1],
        )
        if validate_schema:
            if cls.SCHEMA is None:
                raise TypeError(f"{cls.__name__} names no SCHEMA")
            validate(tree, cls.SCHEMA)
        return cls.wrap(tree)

    # -- the element ------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """Whether the element is present (a sub-object's may not be yet)."""
        return self._find() is not None

    @property
    def element(self) -> etree._Element:
        """The wrapped element, created in its parent first if it is missing."""
        found = self._find()
        if found is None:
            assert self._parent is not None
            found = self._parent._ensure(self._path)
        return found

    def _find(self) -> etree._Element | None:
        if self._parent is None:
            return self._element
        base = self._parent._find()
        if base is None:
            return None
        found = self._parent._evaluate(self._path, base)
        return found if isinstance(found, etree._Element) else None

    def to_string(self) -> str:
        """The element and its content as libvirt writes them (``FORMAT_RULES``)."""
        found = self._find()
        return format_xml(
            found if found is not None else type(self)().element, rules=self.FORMAT_RULES
        )

    def copy(self) -> Self:
        """A deep copy of this node as the root of a new document (empty if absent)."""
        found = self._find()
        return self.wrap(copy.deepcopy(found)) if found is not None else type(self)()

    def xpath(self, expr: str) -> list[Any]:
        """Evaluate *expr* relative to the element, with this model's prefixes."""
        found = self._find()
        if found is None:
            return []
        result = self._xpath(expr)(found)
        return list(result) if isinstance(result, list) else [result]

    def __repr__(self) -> str:
        state = "" if self.exists else " (absent)"
        return f"<{type(self).__name__} {self.TAG or '?'}{state}>"

    # -- namespaces and order ---------------------------------------------------------

    @classmethod
    def _namespaces(cls) -> dict[str, str]:
        return {**NAMESPACES, **cls.NSMAP}

    @classmethod
    def _xpath(cls, expr: str) -> etree.XPath:
        """*expr* compiled with this model's prefixes, once per class."""
        key = (cls, expr)
        found = _class_xpaths.get(key)
        if found is None:
            found = _class_xpaths[key] = _compiled(expr, cls._namespaces())
        return found

    @classmethod
    def _clark(cls, name: str) -> str:
        try:
            return clark(name, cls._namespaces())
        except KeyError:
            raise ValueError(f"{cls.__name__}: unknown namespace prefix in {name!r}") from None

    @classmethod
    def _nsmap_for(cls, name: str) -> dict[str, str] | None:
        if ":" not in name:
            return None
        prefix = name.split(":", 1)[0]
        return {prefix: cls._namespaces()[prefix]}

    @classmethod
    def _order(cls, path: tuple[str, ...]) -> tuple[str, ...]:
        """Canonical order (Clark notation) of the children of the element at *path*."""
        cached = cls._orders.get(path)
        if cached is not None:
            return cached
        explicit = cls.XML_ORDER.get("/".join(path))
        names: list[str] = []
        if explicit is not None:
            names = [cls._clark(name) for name in explicit]
        else:
            for desc in cls._descriptors:
                full = desc.names()
                child = desc.child_class()
                if child is not None and path[: len(full)] == full:
                    # Below a sub-object's element its own model knows the order.
                    entries: Sequence[str] = child._order(path[len(full) :])
                elif len(full) > len(path) and full[: len(path)] == path:
                    entries = (cls._clark(full[len(path)]),)
                else:
                    continue
                names.extend(e for e in entries if e not in names)
        result = tuple(names)
        cls._orders[path] = result
        return result

    def _order_at(self, path: tuple[str, ...]) -> tuple[str, ...]:
        """The canonical order at *path* below this node's element.

        A sub-object asks the model that holds it, which may know more (its
        own descriptors reaching into the sub-object's element).
        """
        if self._parent is not None:
            anchor = parse_path(self._path)
            if anchor is not None:
                return self._parent._order_at(step_names(anchor) + path)
        return self._order(path)

    # -- evaluating and building paths ------------------------------------------------

    def _evaluate(self, xpath: str, base: etree._Element | None = None) -> Any:
        """The first node *xpath* selects (or its value, for non node-set results)."""
        if base is None:
            base = self._find()
            if base is None:
                return None
        result = self._xpath(xpath)(base)
        if isinstance(result, list):
            return result[0] if result else None
        return result

    def _ensure(self, xpath: str) -> etree._Element:
        """The element *xpath* selects, creating it (and what leads to it) if missing."""
        steps = parse_path(xpath)
        if steps is None or (steps and steps[-1].attribute):
            raise ValueError(f"{type(self).__name__}: cannot create elements for {xpath!r}")
        return self._ensure_steps(steps)

    def _ensure_steps(self, steps: Sequence[Step]) -> etree._Element:
        current = self.element
        names: list[str] = []
        for step in steps:
            found = self._xpath("./" + step.text)(current)
            if isinstance(found, list) and found and isinstance(found[0], etree._Element):
                current = found[0]
            else:
                current = self._create(current, step, tuple(names))
            names.append(step.name)
        return current

    def _create(self, parent: etree._Element, step: Step, path: tuple[str, ...]) -> etree._Element:
        if step.index is not None:
            existing = self._xpath("./" + step.name)(parent)
            if not isinstance(existing, list) or len(existing) != step.index - 1:
                raise ValueError(f"{type(self).__name__}: cannot create {step.text!r}")
        element = etree.Element(self._clark(step.name), nsmap=self._scope_nsmap(parent, step))
        order = self._order_at((*path, step.name))
        for attr, value in step.attributes:
            set_attribute(element, self._clark(attr), value, order)
        insert_element(parent, element, self._order_at(path))
        return element

    def _scope_nsmap(self, parent: etree._Element, step: Step) -> dict[str, str] | None:
        wanted = self._nsmap_for(step.name)
        if wanted is None:
            return None
        prefix, uri = next(iter(wanted.items()))
        return None if parent.nsmap.get(prefix) == uri else wanted

    def _relative_names(self, element: etree._Element) -> tuple[str, ...]:
        root = self._find()
        names: list[str] = []
        while element is not root and element is not None:
            qname = etree.QName(element)
            prefix = element.prefix
            names.append(f"{prefix}:{qname.localname}" if prefix else qname.localname)
            parent = element.getparent()
            if parent is None:
                break
            element = parent
        return tuple(reversed(names))

    def _prune(self, element: etree._Element | None) -> None:
        """Remove *element* and its ancestors while empty, up to this node's element."""
        root = self._find()
        while element is not None and element is not root:
            if len(element) or element.attrib or (element.text or "").strip():
                return
            if "/".join(self._relative_names(element)) in self.KEEP_EMPTY:
                return
            parent = element.getparent()
            if parent is None:
                return
            parent.remove(element)
            element = parent

    def _remove(self, xpath: str) -> None:
        """Remove the first node *xpath* selects, then containers left empty."""
        found = self._evaluate(xpath)
        if isinstance(found, etree._Element):
            parent = found.getparent()
            if parent is not None:
                parent.remove(found)
                self._prune(parent)
        elif isinstance(found, etree._ElementUnicodeResult) and found.is_attribute:
            owner = found.getparent()
            if owner is not None and found.attrname is not None:
                del owner.attrib[found.attrname]
                self._prune(owner)

    def _write(self, xpath: str, text: str, steps: tuple[Step, ...] | None) -> None:
        """Set the text or attribute *xpath* selects, creating what is missing."""
        if steps is None:
            raise AttributeError(f"{type(self).__name__}: {xpath!r} cannot be written")
        if steps and steps[-1].attribute:
            owner = self._ensure_steps(steps[:-1])
            order = self._order_at(step_names(steps[:-1]))
            set_attribute(owner, self._clark(steps[-1].name), text, order)
            return
        target = self._ensure_steps(steps)
        for child in list(target):
            if isinstance(child, etree._Comment | etree._ProcessingInstruction):
                # Comments and processing instructions would split the text.
                target.remove(child)
        target.text = text


# -- the descriptor interface -------------------------------------------------------


class _Descriptor:
    """What every descriptor shares: an XPath and its place in the canonical order."""

    name: str = ""

    def __init__(self, xpath: str, doc: str | None = None) -> None:
        self.xpath = xpath
        self.steps = parse_path(xpath)
        self.__doc__ = doc

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def names(self) -> tuple[str, ...]:
        return step_names(self.steps) if self.steps is not None else ()

    def child_class(self) -> type[XMLNode] | None:
        return None
