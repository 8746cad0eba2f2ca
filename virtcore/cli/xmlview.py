"""Printing XML documents, whole or filtered with ``--xpath``, as virsh's ``*dumpxml`` do.

Without ``--xpath`` the document is printed as the library returned it.
With it, the document is reparsed without blank text and each node of the
XPath result is printed on its own (``--wrap`` puts them under one
``<nodes>`` element): elements re-indented with two spaces, attributes as
`` name="value"``, text as itself. An expression that does not evaluate to
a node set fails with libvirt's "Incorrect xpath" error; a syntax error
prints libxml2's diagnostic (message, expression, caret) on standard error
and, as in virsh, counts as an empty result.
"""

from __future__ import annotations

from lxml import etree

from virtcore.cli.context import CommandError, Ctx
from virtcore.errors import InternalError

__all__ = ["dump_xml", "elements", "parse_xml", "text_of"]


def parse_xml(text: str) -> etree._Element:
    """Parse a document the library produced (no entities, no network access)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(text.encode(), parser)


def elements(node: etree._Element, expr: str) -> list[etree._Element]:
    """The elements an XPath expression selects (other node kinds are dropped)."""
    found = node.xpath(expr)
    if not isinstance(found, list):
        return []
    return [item for item in found if isinstance(item, etree._Element)]


def text_of(node: etree._Element, expr: str) -> str:
    """The XPath ``string()`` value of *expr* (``""`` when nothing matches)."""
    return str(node.xpath(f"string({expr})"))


_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def _render(node: object) -> str:
    if isinstance(node, etree._Element):
        text = etree.tostring(node, pretty_print=True, with_tail=False, encoding="unicode")
        return text.rstrip("\n")
    if isinstance(node, etree._ElementUnicodeResult):
        if node.is_attribute:
            name = node.attrname
            label = name.decode() if isinstance(name, bytes) else str(name)
            return f' {label}="{str(node).translate(_ATTR_ESCAPES)}"'
        return str(node)
    return str(node)


def dump_xml(ctx: Ctx, xml: str, xpath: str | None, wrap: bool) -> None:
    """Print *xml*, or the nodes *xpath* selects from it."""
    if xpath is None:
        ctx.print(xml)
        return
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(xml.encode(), parser)
    try:
        found = root.getroottree().xpath(xpath)
    except etree.XPathEvalError as exc:
        column = exc.error_log[0].column if len(exc.error_log) else 0
        ctx.err.write(f"XPath error : {exc}\n{xpath}\n{' ' * column}^\n")
        found = []
    if not isinstance(found, list):
        raise CommandError(None, InternalError(f"Incorrect xpath '{xpath}'"))
    if wrap:
        holder = etree.Element("nodes")
        for node in found:
            if isinstance(node, etree._Element):
                holder.append(_copy(node))
            elif isinstance(node, etree._ElementUnicodeResult) and node.is_attribute:
                name = node.attrname
                holder.set(name.decode() if isinstance(name, bytes) else str(name), str(node))
            else:
                holder.text = (holder.text or "") + str(node)
        ctx.print(_render(holder) + "\n")
        return
    for node in found:
        ctx.print(_render(node) + "\n")


def _copy(node: etree._Element) -> etree._Element:
    clone = etree.fromstring(etree.tostring(node, with_tail=False))
    return clone
