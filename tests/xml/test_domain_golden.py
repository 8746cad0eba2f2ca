"""virtcore prints what libvirt 9.0 printed for every recorded domain document.

For each golden (tests/data/xml/domain, see ``domain_goldens``) the input
is defined with :meth:`Domain.parse` and formatted with :meth:`Domain.format`;
the text must equal libvirt's byte for byte, with and without
``VIR_DOMAIN_XML_INACTIVE``. libvirt's own output must come back unchanged
(formatting is idempotent) and every formatted document must validate
against libvirt's RelaxNG schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.xml.domain_goldens import NAMES, golden, identity_from, source
from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain import Domain
from virtcore.xml.parse import parse_document
from virtcore.xml.validate import validate


def define(name: str) -> Domain:
    return Domain.parse(
        source(name), uuid_factory=identity_from(source(name), golden(name)), test_ifnames=True
    )


def test_there_are_at_least_forty_recorded_documents() -> None:
    assert len(NAMES) >= 40


@pytest.mark.parametrize("name", NAMES)
def test_defined_document_prints_like_libvirt(name: str) -> None:
    assert define(name).format() == golden(name)


@pytest.mark.parametrize("name", NAMES)
def test_inactive_output_matches_libvirt(name: str) -> None:
    assert define(name).format(DomainXMLFlags.INACTIVE) == golden(name, inactive=True)


@pytest.mark.parametrize("name", NAMES)
def test_libvirt_output_is_a_fixed_point(name: str) -> None:
    printed = golden(name)
    assert Domain.parse(printed).format() == printed


@pytest.mark.parametrize("name", NAMES)
def test_formatted_document_validates_against_libvirt_schema(
    name: str, libvirt_schemas: Path
) -> None:
    validate(parse_document(define(name).format()), "domain.rng")
