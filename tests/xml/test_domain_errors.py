"""Documents libvirt refuses are refused by virtcore with libvirt's code, domain and words.

The cases (``domain_error_cases``) were recorded from libvirt 9.0's
``virDomainDefineXML``; a few tests below spell out the most common ones.
"""

from __future__ import annotations

import pytest

from tests.xml.domain_error_cases import ERROR_CASES, DomainErrorCase, document
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    VirtError,
    XMLDetailError,
    XMLError,
)
from virtcore.xml.domain import Domain


def refusal(text: str) -> VirtError:
    with pytest.raises(VirtError) as caught:
        Domain.parse(text)
    return caught.value


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.name for c in ERROR_CASES])
def test_refused_like_libvirt(case: DomainErrorCase) -> None:
    error = refusal(case.document)
    assert (int(error.code), int(error.domain), error.message) == (
        case.code,
        case.domain,
        case.message,
    )


def test_every_section_has_refusals() -> None:
    prefixes = {case.name.split("-")[0] for case in ERROR_CASES}
    for section in ("memory", "vcpu", "cputune", "cpu", "os", "feature", "clock", "timer"):
        assert section in prefixes


def test_missing_name_is_no_name_error() -> None:
    error = refusal("<domain type='test'><memory>1</memory><os><type>hvm</type></os></domain>")
    assert error.code == ErrorNumber.NO_NAME
    assert error.domain == ErrorDomain.DOMAIN
    assert error.message == "missing name information"


def test_bad_uuid_is_an_internal_error() -> None:
    error = refusal(
        "<domain type='test'><name>a</name><uuid>nope</uuid><memory>1</memory>"
        "<os><type>hvm</type></os></domain>"
    )
    assert isinstance(error, InternalError)
    assert error.message == "internal error: malformed uuid element"


def test_unknown_os_type_is_unsupported_configuration() -> None:
    error = refusal(document("<os><type>bogus</type></os>"))
    assert isinstance(error, ConfigUnsupportedError)
    assert error.message == "unsupported configuration: unknown OS type 'bogus'"


def test_bad_attribute_value_is_reported_by_the_xml_helpers() -> None:
    error = refusal(document("<os><type>hvm</type><boot dev='floppy'/></os>"))
    assert isinstance(error, XMLError)
    assert error.domain == ErrorDomain.XML
    assert error.message == (
        "XML error: Invalid value for attribute 'dev' in element 'boot': 'floppy'."
    )


def test_current_vcpus_above_maximum_is_refused() -> None:
    error = refusal(document("<vcpu current='3'>2</vcpu>"))
    assert error.message == (
        "unsupported configuration: maximum vCPU count must not be less than current vCPU count"
    )


def test_memory_overflow_is_reported_as_overflow() -> None:
    error = refusal(document("<memory unit='KiB'>9007199254740992</memory>"))
    assert error.code == ErrorNumber.OVERFLOW
    assert error.domain == ErrorDomain.NONE
    assert error.message == "numerical overflow: value too large: 9007199254740992KiB"


def test_hugepage_conflicts_are_xml_detail_errors() -> None:
    error = refusal(
        document("<memoryBacking><hugepages><page size='2'/><page size='4'/></hugepages>").replace(
            "</domain>", "</memoryBacking></domain>"
        )
    )
    assert isinstance(error, XMLDetailError)
    assert error.message == "two master hugepages detected: 4 and 2"


def test_syntax_errors_come_from_the_parser() -> None:
    error = refusal("<domain type='test'><name>x</name")
    assert error.code == ErrorNumber.XML_DETAIL
    assert error.message.startswith("(domain_definition):1:")


def test_wrong_root_element_is_refused() -> None:
    error = refusal("<network><name>x</name></network>")
    assert error.message == "XML error: expecting root element of 'domain', not 'network'"
