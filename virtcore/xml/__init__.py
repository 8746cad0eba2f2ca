"""virtcore's XML layer: libvirt's document dialects, read and written as libvirt does.

Core modules (the document models - domain, network, storage, ... - build on
them):

* :mod:`virtcore.xml.parse` - safe parsing of untrusted documents, syntax
  errors worded exactly as libvirt 9.0 words them (with
  :mod:`virtcore.xml.syntax`);
* :mod:`virtcore.xml.units` - libvirt's integer, scaled size and memory rules;
* :mod:`virtcore.xml.builder` - typed, XPath-backed models over live trees
  (:class:`~virtcore.xml.builder.XMLNode` and its descriptors, in
  :mod:`virtcore.xml.node`, :mod:`virtcore.xml.paths` and
  :mod:`virtcore.xml.converters`);
* :mod:`virtcore.xml.format` - libvirt's exact output formatting;
* :mod:`virtcore.xml.validate` - RelaxNG validation against libvirt's schemas.

docs/xml-models.md explains how to write a document model.
"""

from virtcore.xml.format import FormatRules, format_xml
from virtcore.xml.parse import XMLParseError, expect_root, parse_document, parse_file
from virtcore.xml.validate import XMLSchemaValidationError, validate

__all__ = [
    "FormatRules",
    "XMLParseError",
    "XMLSchemaValidationError",
    "expect_root",
    "format_xml",
    "parse_document",
    "parse_file",
    "validate",
]
