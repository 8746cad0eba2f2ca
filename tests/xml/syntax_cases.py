"""Malformed documents and the exact message libvirt 9.0 reports for each.

Every expected message was recorded from python3-libvirt 9.0
(``virDomainDefineXML`` on ``test:///default``, or the C API with the raw
bytes for the byte cases, as ``virsh define`` passes a file);
``test_libvirt_differential.py`` checks them against the live library again.
All carry ``VIR_ERR_XML_DETAIL`` (35) in the domain error domain (20).
"""

from __future__ import annotations

from typing import NamedTuple


class SyntaxCase(NamedTuple):
    """A malformed document and libvirt's message for it."""

    name: str
    document: str | bytes
    message: str | bytes


_DEEP_DOCUMENT = (
    '<domain type="test"><name>a</name><metadata><m:x xmlns:m="urn:m">'
    + "<y>" * 255
    + "</y>" * 255
    + "</m:x></metadata></domain>"
)

SYNTAX_CASES: tuple[SyntaxCase, ...] = (
    SyntaxCase(
        "unclosed-end-tag",
        '<domain type="test"><name>bad</name',
        (
            "(domain_definition):1: expected '>'\n"
            '<domain type="test"><name>bad</name\n'
            "-----------------------------------^"
        ),
    ),
    SyntaxCase(
        "unclosed-end-tag-newline",
        '<domain type="test"><name>bad</name\n',
        ("(domain_definition):2: expected '>'\n(null)\n^"),
    ),
    SyntaxCase(
        "tag-mismatch",
        '<domain type="test">\n  <name>bad</nam>\n</domain>',
        (
            "(domain_definition):2: Opening and ending tag mismatch: name line 2 and nam\n"
            "  <name>bad</nam>\n"
            "-----------------^"
        ),
    ),
    SyntaxCase(
        "tag-mismatch-tab",
        '<domain type="test">\n\t<name>a</nome>\n</domain>',
        (
            "(domain_definition):2: Opening and ending tag mismatch: name line 2 and nome\n"
            "\t<name>a</nome>\n"
            "\t--------------^"
        ),
    ),
    SyntaxCase(
        "tag-mismatch-multibyte",
        '<domain type="test"><name>éé</nam></domain>',
        (
            "(domain_definition):1: Opening and ending tag mismatch: name line 1 and nam\n"
            '<domain type="test"><name>éé</nam></domain>\n'
            "------------------------------------^"
        ),
    ),
    SyntaxCase(
        "bare-ampersand",
        '<domain type="test"><name>a&b</name></domain>',
        (
            "(domain_definition):1: EntityRef: expecting ';'\n"
            '<domain type="test"><name>a&b</name></domain>\n'
            "-----------------------------^"
        ),
    ),
    SyntaxCase(
        "premature-end",
        '<domain type="test"><name>a</name>',
        (
            "(domain_definition):1: Premature end of data in tag domain line 1\n"
            '<domain type="test"><name>a</name>\n'
            "----------------------------------^"
        ),
    ),
    SyntaxCase(
        "unquoted-attribute",
        '<domain type="test"><name x=1>a</name></domain>',
        (
            "(domain_definition):1: AttValue: \" or ' expected\n"
            '<domain type="test"><name x=1>a</name></domain>\n'
            "----------------------------^"
        ),
    ),
    SyntaxCase(
        "empty-document",
        "",
        ("(domain_definition):1: Document is empty\n(null)\n^"),
    ),
    SyntaxCase(
        "blank-document",
        "   ",
        ("(domain_definition):1: Start tag expected, '<' not found\n   \n---^"),
    ),
    SyntaxCase(
        "text-only",
        "hello",
        ("(domain_definition):1: Start tag expected, '<' not found\nhello\n^"),
    ),
    SyntaxCase(
        "extra-content",
        '<domain type="test"><name>a</name></domain><extra/>',
        (
            "(domain_definition):1: Extra content at the end of the document\n"
            '<domain type="test"><name>a</name></domain><extra/>\n' + "-" * 43 + "^"
        ),
    ),
    SyntaxCase(
        "duplicate-attribute",
        '<domain type="test" type="x"><name>a</name></domain>',
        (
            "(domain_definition):1: Attribute type redefined\n"
            '<domain type="test" type="x"><name>a</name></domain>\n'
            "----------------------------^"
        ),
    ),
    SyntaxCase(
        "double-hyphen-comment",
        '<domain type="test"><name>a</name><!-- c -- d --></domain>',
        (
            "(domain_definition):1: Double hyphen within comment: <!-- c \n"
            '<domain type="test"><name>a</name><!-- c -- d --></domain>\n' + "-" * 41 + "^"
        ),
    ),
    SyntaxCase(
        "undefined-entity",
        '<domain type="test"><name>&unknown;</name></domain>',
        (
            "(domain_definition):1: Entity 'unknown' not defined\n"
            '<domain type="test"><name>&unknown;</name></domain>\n'
            "-----------------------------------^"
        ),
    ),
    SyntaxCase(
        "nul-char-reference",
        '<domain type="test"><name>&#0;</name></domain>',
        (
            "(domain_definition):1: xmlParseCharRef: invalid xmlChar value 0\n"
            '<domain type="test"><name>&#0;</name></domain>\n'
            "------------------------------^"
        ),
    ),
    SyntaxCase(
        "lt-in-attribute",
        '<domain type="test"\n   foo="bar\n   ><name>a</name></domain>',
        (
            "(domain_definition):3: Unescaped '<' not allowed in attributes values\n"
            "   ><name>a</name></domain>\n"
            "----^"
        ),
    ),
    SyntaxCase(
        "cdata-unfinished",
        '<domain type="test"><name>a</name><![CDATA[ x',
        (
            "(domain_definition):1: CData section not finished\n"
            "\n"
            '<domain type="test"><name>a</name><![CDATA[ x\n' + "-" * 45 + "^"
        ),
    ),
    SyntaxCase(
        "cdata-unfinished-quoted",
        '<domain type="test"><name>a</name><description><![CDATA[abc</description></domain>',
        (
            "(domain_definition):1: CData section not finished\n"
            "abc</description></domai\n"
            '<domain type="test"><name>a</name><description><![CDATA[abc</description></domain>\n'
            + "-" * 82
            + "^"
        ),
    ),
    SyntaxCase(
        "unsupported-encoding",
        '<?xml version="1.0" encoding="bogus-enc"?><domain type="test"><name>a</name></domain>',
        (
            "(domain_definition):1: Unsupported encoding bogus-enc\n"
            '<?xml version="1.0" encoding="bogus-enc"?>'
            '<domain type="test"><name>a</name></domain>\n' + "-" * 40 + "^"
        ),
    ),
    SyntaxCase(
        "xml-declaration-unfinished",
        '<?xml version="1.0" encoding="UTF-8"&?>\n<domain type="test"/>',
        (
            "(domain_definition):1: parsing XML declaration: '?>' expected\n"
            '<?xml version="1.0" encoding="UTF-8"&?>\n'
            "------------------------------------^"
        ),
    ),
    SyntaxCase(
        "misplaced-cdata-end",
        '<domain type="test">\n  <description>one\ntwo ]]> three</description>\n</domain>',
        (
            "(domain_definition):3: Sequence ']]>' not allowed in content\n"
            "  <description>one\n"
            "---------------^"
        ),
    ),
    SyntaxCase(
        "trailing-garbage-after-namespace-error",
        '<domain type="test"><x:name>a</x:name></domain>\n]]>',
        ("(domain_definition):2: Extra content at the end of the document\n]]>\n^"),
    ),
    SyntaxCase(
        "invalid-utf8-in-text",
        b'<domain type="test"><name>a\xff</name></domain>',
        (
            b"(domain_definition):1: Input is not proper UTF-8, indicate encoding !\n"
            b"Bytes: 0xFF 0x3C 0x2F 0x6E\n"
            b'<domain type="test"><name>a\xff</name></domain>\n'
            b"---------------------------^"
        ),
    ),
    SyntaxCase(
        "latin1-despite-declaration",
        b'<?xml version="1.0" encoding="ISO-8859-1"?>'
        b'<domain type="test"><name>caf\xe9</name></domain>',
        (
            b"(domain_definition):1: Input is not proper UTF-8, indicate encoding !\n"
            b"Bytes: 0xE9 0x3C 0x2F 0x6E\n"
            b'<?xml version="1.0" encoding="ISO-8859-1"?>'
            b'<domain type="test"><name>caf\xe9</name></domain>\n' + b"-" * 72 + b"^"
        ),
    ),
    SyntaxCase(
        "invalid-utf8-second-line",
        b'<domain type="test">\n  <name>x\xffy</name>\n</domain>\n',
        (
            b"(domain_definition):2: Input is not proper UTF-8, indicate encoding !\n"
            b"Bytes: 0xFF 0x79 0x3C 0x2F\n"
            b"  <name>x\xffy</name>\n"
            b"---------^"
        ),
    ),
    SyntaxCase(
        "surrogate",
        b'<domain type="test"><name>a\xed\xa0\x80b</name></domain>',
        (
            b"(domain_definition):1: Char 0xD800 out of allowed range\n"
            b'<domain type="test"><name>a\xed\xa0\x80b</name></domain>\n'
            b"---------------------------^"
        ),
    ),
    SyntaxCase(
        "noncharacter",
        b'<domain type="test"><name>a\xef\xbf\xbeb</name></domain>',
        (
            b"(domain_definition):1: Char 0xFFFE out of allowed range\n"
            b'<domain type="test"><name>a\xef\xbf\xbeb</name></domain>\n'
            b"---------------------------^"
        ),
    ),
    SyntaxCase(
        "invalid-utf8-between-attributes",
        b"<domain type='test'\xc0><name>a</name></domain>",
        (
            b"(domain_definition):1: attributes construct error\n"
            b"<domain type='test'\xc0><name>a</name></domain>\n"
            b"-------------------^"
        ),
    ),
    SyntaxCase(
        "invalid-utf8-at-end",
        b'<domain type="test"><name>n</name><description>ab\xe2',
        (
            b"(domain_definition):1: internal error: detected an error in element content\n"
            b"\n"
            b'<domain type="test"><name>n</name><description>ab\xe2\n' + b"-" * 49 + b"^"
        ),
    ),
    SyntaxCase(
        "invalid-utf8-after-root",
        b'<domain type="test"><name>n</name></domain>\n\xff',
        (b"(domain_definition):2: Extra content at the end of the document\n\xff\n^"),
    ),
    SyntaxCase(
        "too-deep",
        _DEEP_DOCUMENT,
        "(domain_definition):1: Excessive depth in document: 256 use XML_PARSE_HUGE option\n"
        + _DEEP_DOCUMENT
        + "\n"
        + "-" * 827
        + "^",
    ),
)
