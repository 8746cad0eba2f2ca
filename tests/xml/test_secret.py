"""Secret documents: virtcore defines and prints them exactly as libvirt 9.0 does.

The goldens of tests/data/xml/secret were recorded from libvirt 9.0's secret
driver (``secret-define`` then ``secret-dumpxml`` on a session daemon) by its
oracle.py; errors.json holds the documents libvirt refuses with its exact
error. Inputs without a UUID get a random one, so their UUID is not compared.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.parse import XMLParseError
from virtcore.xml.secret import Secret, SecretDef
from virtcore.xml.validate import XMLSchemaValidationError, validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "secret"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())
UUID_ELEMENT = re.compile(r"<uuid>[0-9a-f-]{36}</uuid>")


def _schema_valid(text: str) -> bool:
    try:
        validate(etree.fromstring(text.encode()), "secret.rng")
    except XMLSchemaValidationError:
        return False
    return True


def _comparable(text: str, name: str) -> str:
    """*text* with the UUID masked when the input let libvirt generate it."""
    if Secret.from_xml((DATA / f"{name}.input.xml").read_text()).uuid:
        return text
    return UUID_ELEMENT.sub("<uuid/>", text)


def test_there_are_at_least_forty_golden_documents() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_format_prints_what_libvirt_prints(name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    golden = (DATA / f"{name}.xml").read_text()
    assert _comparable(Secret.parse(text).format(), name) == _comparable(golden, name)


@pytest.mark.parametrize("name", CASES)
def test_formatting_twice_changes_nothing(name: str) -> None:
    golden = (DATA / f"{name}.xml").read_text()
    assert Secret.parse(golden).format() == golden


@pytest.mark.parametrize("name", CASES)
def test_output_of_a_schema_valid_document_is_schema_valid(
    libvirt_schemas: Path, name: str
) -> None:
    if _schema_valid((DATA / f"{name}.input.xml").read_text()):
        assert _schema_valid((DATA / f"{name}.xml").read_text())


def test_most_goldens_are_schema_valid(libvirt_schemas: Path) -> None:
    valid = [name for name in CASES if _schema_valid((DATA / f"{name}.xml").read_text())]
    assert len(valid) >= len(CASES) - 2


@pytest.mark.parametrize("index", range(len(ERRORS)), ids=[c["name"] for c in ERRORS])
def test_refused_documents_get_libvirts_error(index: int) -> None:
    case = ERRORS[index]
    with pytest.raises(VirtError) as caught:
        Secret.parse(case["xml"])
    assert (int(caught.value.code), int(caught.value.domain), caught.value.message) == (
        case["code"],
        case["domain"],
        case["message"],
    )


def test_syntax_errors_name_the_secret_definition() -> None:
    with pytest.raises(XMLParseError, match=r"^\(definition_of_secret\):1: "):
        Secret.parse("<secret><uuid>")


def test_parse_gives_a_document_without_uuid_a_fresh_one() -> None:
    secret = Secret.parse("<secret/>")
    assert secret.uuid is not None
    assert str(uuid.UUID(secret.uuid)) == secret.uuid


def test_the_generated_uuid_is_kept_across_formats() -> None:
    secret = Secret.parse("<secret><uuid></uuid></secret>")
    assert secret.format() == secret.format()
    assert secret.element.xpath("count(./uuid)") == 1


def test_each_document_without_uuid_gets_its_own() -> None:
    assert Secret.parse("<secret/>").uuid != Secret.parse("<secret/>").uuid


def test_definition_holds_the_values_libvirt_keeps() -> None:
    secret = Secret.parse((DATA / "usage-vtpm.input.xml").read_text())
    assert secret.definition() == SecretDef(
        uuid="33333333-2222-3333-4444-555555555559",
        ephemeral=False,
        private=True,
        description="vTPM state",
        usage_type="vtpm",
        usage_id="VTPM_example",
    )


def test_uuid_is_canonicalised_in_the_definition() -> None:
    secret = Secret.parse("<secret><uuid>ABCDEF0123456789ABCDEF0123456789</uuid></secret>")
    assert secret.definition().uuid == "abcdef01-2345-6789-abcd-ef0123456789"


def test_properties_read_the_live_tree() -> None:
    secret = Secret.parse((DATA / "usage-volume.input.xml").read_text())
    assert (secret.ephemeral, secret.private, secret.usage_type) == (False, True, "volume")
    assert secret.usage_volume == "/var/lib/libvirt/images/puppyname.img"
    assert secret.usage_id == "/var/lib/libvirt/images/puppyname.img"


def test_usage_id_follows_the_usage_type() -> None:
    secret = Secret.parse((DATA / "usage-volume-extra-name.input.xml").read_text())
    assert (secret.usage_name, secret.usage_id) == ("ignored", "/dev/sdb")


def test_usage_id_is_none_without_usage() -> None:
    assert Secret.parse("<secret/>").usage_id is None


def test_setting_properties_changes_the_output() -> None:
    secret = Secret.parse("<secret><uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid></secret>")
    secret.private = True
    secret.description = "db & co"
    secret.usage_type = "iscsi"
    secret.usage_target = "iqn.2013-07.com.example:storage"
    assert secret.format() == (
        "<secret ephemeral='no' private='yes'>\n"
        "  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>\n"
        "  <description>db &amp; co</description>\n"
        "  <usage type='iscsi'>\n"
        "    <target>iqn.2013-07.com.example:storage</target>\n"
        "  </usage>\n"
        "</secret>\n"
    )


def test_new_elements_land_in_libvirts_order() -> None:
    secret = Secret.from_xml("<secret><usage type='tls'><name>n</name></usage></secret>")
    secret.description = "d"
    secret.uuid = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"
    secret.ephemeral = True
    assert [etree.QName(c).localname for c in secret.element] == ["uuid", "description", "usage"]
    assert list(secret.element.attrib) == ["ephemeral"]


def test_unknown_content_survives_in_the_tree_but_not_in_the_output() -> None:
    secret = Secret.parse((DATA / "unknown-elements-dropped.input.xml").read_text())
    assert "<foo bar='1'/>" in secret.to_string()
    assert "foo" not in secret.format()


def test_an_invalid_flag_read_through_the_property_is_an_xml_error() -> None:
    secret = Secret.from_xml("<secret ephemeral='maybe'/>")
    with pytest.raises(VirtError) as caught:
        _ = secret.ephemeral
    assert caught.value.code == ErrorNumber.XML_ERROR


def test_usage_type_errors_come_from_the_secret_domain() -> None:
    with pytest.raises(VirtError) as caught:
        Secret.parse("<secret><usage type='bogus'/></secret>")
    assert (caught.value.code, caught.value.domain) == (
        ErrorNumber.CONFIG_UNSUPPORTED,
        ErrorDomain.SECRET,
    )


def test_schema_validation_on_parse_refuses_unknown_elements(libvirt_schemas: Path) -> None:
    with pytest.raises(XMLSchemaValidationError):
        Secret.parse("<secret><bogus/></secret>", validate_schema=True)


def test_to_libvirt_xml_is_format() -> None:
    secret = Secret.parse((DATA / "full.input.xml").read_text())
    assert secret.to_libvirt_xml() == secret.format()
