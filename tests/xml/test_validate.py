"""RelaxNG validation with libvirt's schemas and libvirt's messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.xml.schema_cases import SCHEMA_CASES, SchemaCase
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import InternalError
from virtcore.xml.parse import parse_document
from virtcore.xml.validate import (
    SCHEMA_DIR_ENV,
    SchemaIssue,
    XMLSchemaValidationError,
    load_schema,
    schema_for_root,
    validate,
)

GOLDEN = Path(__file__).parent.parent / "data" / "xml" / "format"

SMALL_SCHEMA = """<grammar xmlns="http://relaxng.org/ns/structure/1.0">
  <start><element name="thing"><attribute name="size"><text/></attribute></element></start>
</grammar>
"""


def validation_error(document: str, schema: str | None = None) -> XMLSchemaValidationError:
    with pytest.raises(XMLSchemaValidationError) as info:
        validate(parse_document(document), schema)
    return info.value


@pytest.mark.usefixtures("libvirt_schemas")
@pytest.mark.parametrize(
    "name", ["domain-devices", "network-isolated", "pool-dir", "interface-bridge"]
)
def test_documents_libvirt_wrote_are_valid(name: str) -> None:
    validate(parse_document((GOLDEN / f"{name}.xml").read_text()))


@pytest.mark.usefixtures("libvirt_schemas")
@pytest.mark.parametrize("case", SCHEMA_CASES, ids=[c.name for c in SCHEMA_CASES])
def test_invalid_document_gets_libvirts_exact_message(case: SchemaCase) -> None:
    error = validation_error(case.document)
    assert error.message == case.message


@pytest.mark.usefixtures("libvirt_schemas")
def test_schema_error_has_libvirts_code_and_domain() -> None:
    error = validation_error(SCHEMA_CASES[0].document)
    assert error.code == ErrorNumber.XML_INVALID_SCHEMA
    assert error.domain == ErrorDomain.XML


@pytest.mark.usefixtures("libvirt_schemas")
def test_issues_locate_the_offending_node() -> None:
    document = "<domain type='test'>\n  <name>v</name>\n  <memory>1</memory>\n  <bogus/>\n</domain>"
    error = validation_error(document)
    assert (
        SchemaIssue("Element domain has extra content: bogus", 4, "/domain/bogus") in error.issues
    )


def test_schema_is_picked_by_root_element() -> None:
    assert schema_for_root("pool") == "storagepool.rng"
    assert schema_for_root("device") == "nodedev.rng"


def test_unknown_document_type_is_an_error() -> None:
    with pytest.raises(InternalError) as info:
        validate(parse_document("<gadget/>"))
    assert "no schema is known for documents of type 'gadget'" in info.value.message


def test_missing_schema_directory_is_an_error_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(InternalError) as info:
        validate(parse_document("<domain type='test'/>"))
    assert f"RelaxNG schema directory '{tmp_path / 'absent'}' does not exist" in info.value.message


def test_missing_schema_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    with pytest.raises(InternalError) as info:
        validate(parse_document("<domain type='test'/>"))
    assert info.value.message.startswith(
        f"internal error: Unable to parse RelaxNG schema '{tmp_path / 'domain.rng'}'"
    )


def test_broken_schema_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rng"
    broken.write_text("<grammar xmlns='http://relaxng.org/ns/structure/1.0'><start/></grammar>")
    with pytest.raises(InternalError) as info:
        load_schema(str(broken))
    assert "Unable to parse RelaxNG schema" in info.value.message


def test_schema_from_the_configured_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "thing.rng").write_text(SMALL_SCHEMA)
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    validate(parse_document("<thing size='1'/>"), "thing.rng")
    error = validation_error("<thing/>", "thing.rng")
    assert error.message.startswith(
        "XML document failed to validate against schema: Unable to validate doc against "
        f"{tmp_path / 'thing.rng'}\n"
    )


def test_compiled_schema_is_reused_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "thing.rng"
    path.write_text(SMALL_SCHEMA)
    first = load_schema(str(path)).relaxng
    assert load_schema(str(path)).relaxng is first
    path.write_text(SMALL_SCHEMA.replace("size", "width"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_schema(str(path)).relaxng is not first
