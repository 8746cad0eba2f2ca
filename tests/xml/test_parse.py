"""Parsing untrusted documents: hostile input is refused, errors read like libvirt's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.xml.syntax_cases import SYNTAX_CASES, SyntaxCase
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import XMLDetailError, XMLError
from virtcore.xml.parse import (
    MAX_DEPTH,
    MAX_DOCUMENT_SIZE,
    XMLParseError,
    expect_root,
    parse_document,
    parse_file,
)
from virtcore.xml.syntax import new_parser

HVM = "<os><type>hvm</type></os>"
SECRET = "top-secret-content-1f6c"


def parse_error(document: str | bytes, **kwargs: Any) -> XMLError:
    with pytest.raises(XMLError) as info:
        parse_document(document, **kwargs)
    return info.value


# -- libvirt's syntax error messages ------------------------------------------------


@pytest.mark.parametrize("case", SYNTAX_CASES, ids=[c.name for c in SYNTAX_CASES])
def test_malformed_document_gets_libvirts_exact_message(case: SyntaxCase) -> None:
    error = parse_error(case.document)
    message = error.message
    if isinstance(case.message, bytes):
        message_bytes = message.encode("utf-8", "surrogateescape")
        assert message_bytes == case.message
    else:
        assert message == case.message


@pytest.mark.parametrize("case", SYNTAX_CASES, ids=[c.name for c in SYNTAX_CASES])
def test_malformed_document_is_xml_detail_in_the_callers_domain(case: SyntaxCase) -> None:
    error = parse_error(case.document)
    assert isinstance(error, XMLParseError)
    assert isinstance(error, XMLDetailError)
    assert error.code == ErrorNumber.XML_DETAIL
    assert error.domain == ErrorDomain.DOMAIN


def test_syntax_error_carries_line_and_character_column() -> None:
    error = parse_error("<domain>\n  <name>éé</nam>\n</domain>")
    assert isinstance(error, XMLParseError)
    assert (error.line, error.column) == (2, 17)


def test_url_and_error_domain_come_from_the_caller() -> None:
    error = parse_error(
        "<network><name>n</nam></network>",
        url="(network_definition)",
        error_domain=ErrorDomain.NETWORK,
    )
    assert error.message.startswith("(network_definition):1: Opening and ending tag mismatch")
    assert error.domain == ErrorDomain.NETWORK


def test_unnamed_document_errors_say_at_line() -> None:
    error = parse_error("<a><b></a>", url=None)
    assert error.message.startswith("at line 1: Opening and ending tag mismatch: b line 1 and a")


# -- what is accepted --------------------------------------------------------------


def test_well_formed_document_returns_its_root_element() -> None:
    root = parse_document("<domain type='test'><name>ok</name></domain>")
    assert root.tag == "domain"
    assert root.findtext("name") == "ok"


def test_undefined_namespace_prefix_is_accepted_like_libvirt() -> None:
    root = parse_document("<domain><x:name>a</x:name></domain>")
    assert len(root) == 1


def test_declared_encoding_is_ignored_and_input_read_as_utf8() -> None:
    document = '<?xml version="1.0" encoding="ISO-8859-1"?><d>café</d>'.encode()
    assert parse_document(document).text == "café"


def test_utf16_declaration_on_utf8_text_is_accepted() -> None:
    assert parse_document('<?xml version="1.0" encoding="UTF-16"?><d>x</d>').text == "x"


def test_encoding_known_to_iconv_is_accepted() -> None:
    assert parse_document('<?xml version="1.0" encoding="koi8-r"?><d>x</d>').text == "x"


def test_utf8_byte_order_mark_is_accepted() -> None:
    assert parse_document(b"\xef\xbb\xbf<d>x</d>").text == "x"


def test_document_ends_at_first_nul_as_a_c_string_does() -> None:
    error = parse_error("<domain><name>a\0</name></domain>")
    assert error.message.startswith(
        "(domain_definition):1: Premature end of data in tag name line 1"
    )


def test_blank_text_between_elements_is_dropped() -> None:
    root = parse_document("<a>\n  <b/>\n  <c> </c>\n</a>")
    assert root.text is None
    assert root[0].tail is None
    assert root[1].text == " "


def test_comments_and_processing_instructions_are_kept() -> None:
    root = parse_document("<a><!-- note --><?pi data?><b/></a>")
    assert [type(node) for node in root] == [etree._Comment, etree._ProcessingInstruction,
                                             etree._Element]  # fmt: skip


def test_cdata_becomes_plain_text() -> None:
    assert parse_document("<a><![CDATA[x<y]]></a>").text == "x<y"


def test_nesting_at_libvirts_limit_is_accepted() -> None:
    document = "<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH
    assert parse_document(document).tag == "a"


def test_one_level_beyond_libvirts_limit_is_refused() -> None:
    depth = MAX_DEPTH + 1
    error = parse_error("<a>" * depth + "</a>" * depth)
    assert "Excessive depth in document: 256 use XML_PARSE_HUGE option" in error.message


def test_lower_depth_limit_is_enforced_on_request() -> None:
    error = parse_error("<a><b><c/></b></a>", max_depth=2)
    assert error.code == ErrorNumber.XML_ERROR
    assert "deeper than 2 levels" in error.message


def test_depth_limit_cannot_be_raised() -> None:
    with pytest.raises(ValueError):
        parse_document("<a/>", max_depth=MAX_DEPTH + 1)


# -- hostile input ------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<domain><name>&lol9;</name></domain>"
)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def hostile_documents(secret: Path) -> dict[str, str]:
    uri = secret.as_uri()
    return {
        "billion-laughs": BILLION_LAUGHS,
        "external-entity": (
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{uri}">]><domain><name>&x;</name></domain>'
        ),
        "external-subset": f'<!DOCTYPE domain SYSTEM "{uri}"><domain><name>n</name></domain>',
        "parameter-entity": (
            f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{uri}"> %p;]><domain><name>n</name></domain>'
        ),
        "internal-subset": "<!DOCTYPE d [<!ELEMENT d ANY>]><domain><name>n</name></domain>",
        "doctype-after-comment": "<!-- hi --><!DOCTYPE domain><domain/>",
        "device-file-subset": '<!DOCTYPE domain SYSTEM "/dev/zero"><domain/>',
    }


@pytest.mark.parametrize(
    "kind",
    ["billion-laughs", "external-entity", "external-subset", "parameter-entity",
     "internal-subset", "doctype-after-comment", "device-file-subset"],
)  # fmt: skip
def test_doctype_and_entity_declarations_are_refused(secret_file: Path, kind: str) -> None:
    document = hostile_documents(secret_file)[kind]
    error = parse_error(document)
    assert type(error) is XMLError
    assert error.code == ErrorNumber.XML_ERROR
    assert error.domain == ErrorDomain.DOMAIN
    assert "DOCTYPE and entity declarations are not allowed" in error.message
    assert SECRET not in error.message
    assert "lollol" not in error.message


@pytest.mark.parametrize("kind", ["external-entity", "external-subset", "parameter-entity"])
def test_parser_itself_never_loads_external_resources(secret_file: Path, kind: str) -> None:
    # Defence in depth: even a DOCTYPE that got past the check loads nothing.
    document = hostile_documents(secret_file)[kind].encode()
    root = etree.fromstring(document, new_parser())
    assert SECRET not in str(root.xpath("string()"))


def test_parser_never_substitutes_entities() -> None:
    document = b'<!DOCTYPE d [<!ENTITY e "expanded">]><d>&e;</d>'
    root = etree.fromstring(document, new_parser())
    assert root.text is None
    assert isinstance(root[0], etree._Entity)


def test_oversized_document_is_refused_before_parsing() -> None:
    document = b"<d>" + b"x" * (11 * 1024 * 1024) + b"</d>"
    error = parse_error(document)
    assert type(error) is XMLError
    assert error.code == ErrorNumber.XML_ERROR
    assert f"at most {MAX_DOCUMENT_SIZE} allowed" in error.message


def test_size_limit_is_configurable() -> None:
    error = parse_error("<d>0123456789</d>", max_size=10)
    assert "is too large: 17 bytes" in error.message


def test_ten_thousand_levels_of_nesting_are_refused() -> None:
    error = parse_error("<a>" * 10000 + "</a>" * 10000)
    assert isinstance(error, XMLParseError)
    assert "Excessive depth in document" in error.message


def test_non_utf8_bytes_are_refused_with_libvirts_message() -> None:
    error = parse_error(b"<domain><name>\xfe\xff</name></domain>")
    assert isinstance(error, XMLParseError)
    assert "Input is not proper UTF-8, indicate encoding !\nBytes: 0xFE 0xFF" in error.message


def test_encoding_declaration_mismatch_is_refused() -> None:
    # Latin-1 bytes under a UTF-8 declaration.
    error = parse_error(b'<?xml version="1.0" encoding="UTF-8"?><d>caf\xe9</d>')
    assert isinstance(error, XMLParseError)
    assert "Input is not proper UTF-8" in error.message


def test_unknown_declared_encoding_is_refused() -> None:
    error = parse_error('<?xml version="1.0" encoding="no-such-charset"?><d/>')
    assert "Unsupported encoding no-such-charset" in error.message


# -- the root element and files -----------------------------------------------------


def test_wrong_root_element_gets_libvirts_message() -> None:
    error = parse_error("<network><name>n</name></network>", root="domain")
    assert error.message == "XML error: expecting root element of 'domain', not 'network'"
    assert error.code == ErrorNumber.XML_ERROR
    assert error.domain == ErrorDomain.XML


def test_root_check_ignores_the_namespace() -> None:
    expect_root(parse_document('<x:domain xmlns:x="urn:x"/>'), "domain")


def test_parse_file_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text('<domain type="test"><name>bad</name\n')
    with pytest.raises(XMLParseError) as info:
        parse_file(path)
    assert info.value.message == f"{path}:2: expected '>'\n(null)\n^"


def test_parse_file_reports_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.xml"
    with pytest.raises(XMLError) as info:
        parse_file(missing)
    assert info.value.message == f"XML error: failed to parse xml document '{missing}'"
