"""Documents libvirt's schemas reject, and libvirt 9.0's message for each.

Recorded from python3-libvirt 9.0 on ``test:///default`` with the
``VALIDATE`` define flag (``define_validate``: a domain,
``net_define_validate``: a network); ``test_libvirt_differential.py`` checks
them against the live library again. All carry ``VIR_ERR_XML_INVALID_SCHEMA``
(92) in the XML utility error domain (5).
"""

from __future__ import annotations

from typing import NamedTuple

DOMAIN_SCHEMA_PREFIX = (
    "XML document failed to validate against schema: Unable to validate doc against "
    "/usr/share/libvirt/schemas/domain.rng\n"
)
NETWORK_SCHEMA_PREFIX = (
    "XML document failed to validate against schema: Unable to validate doc against "
    "/usr/share/libvirt/schemas/network.rng\n"
)


class SchemaCase(NamedTuple):
    """An invalid document, how it is defined, and libvirt's message."""

    name: str
    op: str
    document: str
    message: str


SCHEMA_CASES: tuple[SchemaCase, ...] = (
    SchemaCase(
        "extra-element",
        "define_validate",
        "<domain type='test'><name>v</name><memory>1024</memory>"
        "<os><type>hvm</type></os><bogus/></domain>",
        DOMAIN_SCHEMA_PREFIX + "Element domain has extra content: bogus\n",
    ),
    SchemaCase(
        "bad-unit-attribute",
        "define_validate",
        "<domain type='test'>\n  <name>v</name>\n  <memory unit='XB'>1024</memory>\n"
        "  <os>\n    <type>hvm</type>\n  </os>\n</domain>",
        DOMAIN_SCHEMA_PREFIX + "Invalid attribute unit for element memory\n"
        "Extra element memory in interleave\n"
        "Invalid sequence in interleave\n"
        "Element domain failed to validate content\n",
    ),
    SchemaCase(
        "bad-device-attribute",
        "define_validate",
        "<domain type='test'>\n  <name>v</name>\n  <memory>1024</memory>\n  <os>\n"
        "    <type>hvm</type>\n  </os>\n  <devices>\n"
        "    <disk type='file' device='floppy' bogus='1'>\n      <target dev='fda'/>\n"
        "    </disk>\n  </devices>\n</domain>",
        DOMAIN_SCHEMA_PREFIX
        + "Extra element devices in interleave\nElement domain failed to validate content\n",
    ),
    SchemaCase(
        "missing-type-attribute",
        "define_validate",
        "<domain><name>v</name><memory>1024</memory></domain>",
        DOMAIN_SCHEMA_PREFIX + "Element domain failed to validate content\n",
    ),
    SchemaCase(
        "non-numeric-memory",
        "define_validate",
        "<domain type='test'><name>v</name><memory>abc</memory><os><type>hvm</type></os></domain>",
        DOMAIN_SCHEMA_PREFIX + "Type unsignedLong doesn't allow value 'abc'\n"
        "Extra element memory in interleave\n"
        "Invalid sequence in interleave\n"
        "Element domain failed to validate content\n",
    ),
    SchemaCase(
        "bad-enumeration",
        "define_validate",
        "<domain type='test'><name>v</name><memory>1024</memory><os><type>hvm</type></os>"
        "<on_crash>bad</on_crash></domain>",
        DOMAIN_SCHEMA_PREFIX + "Extra element on_crash in interleave\n"
        "Invalid sequence in interleave\n"
        "Element domain failed to validate content\n",
    ),
    SchemaCase(
        "network-extra-element",
        "net_define_validate",
        "<network><name>n</name><bogus/></network>",
        NETWORK_SCHEMA_PREFIX + "Element network has extra content: bogus\n",
    ),
)
