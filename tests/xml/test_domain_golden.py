"""virtcore prints what libvirt 9.0 printed for every recorded domain document.

For each golden (tests/data/xml/domain, see ``domain_goldens``) the input
is defined with :meth:`Domain.parse` and formatted with :meth:`Domain.format`;
the text must equal libvirt's byte for byte, with and without
``VIR_DOMAIN_XML_INACTIVE``. libvirt's own output must come back unchanged
(formatting is idempotent) and every formatted document must validate
against libvirt's RelaxNG schema. Between them the recorded documents use
every element libvirt writes at the top of a domain.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.xml.domain_goldens import NAMES, golden, identity_from, source
from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain import Domain
from virtcore.xml.domain.model import TOP_ORDER
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


def _top_level(text: str) -> set[str]:
    return {str(e.tag) for e in Domain.from_xml(text).element.iterchildren(etree.Element)}


def test_recorded_inputs_exercise_every_element_libvirt_writes_at_the_top() -> None:
    written = {name for name in TOP_ORDER if not name.startswith("@")}
    seen: set[str] = set()
    for name in NAMES:
        seen |= _top_level(source(name))
    assert written - seen == set()


def test_recorded_outputs_show_every_element_libvirt_writes_at_the_top() -> None:
    written = {name for name in TOP_ORDER if not name.startswith("@")}
    seen: set[str] = set()
    for name in NAMES:
        seen |= _top_level(golden(name))
    assert written - seen == set()


@pytest.mark.parametrize("name", NAMES)
def test_formatting_is_repeatable(name: str) -> None:
    domain = define(name)
    assert domain.format() == domain.format()


@pytest.mark.parametrize("name", NAMES)
def test_stored_definition_prints_the_same_after_a_round_trip(name: str) -> None:
    stored = define(name).to_string()
    assert Domain.parse(stored).format() == golden(name)


def test_unknown_top_level_elements_are_left_out_like_libvirt_does() -> None:
    printed = golden("domain-dropped-content")
    assert "unknownElement" not in printed
    assert "qemu:commandline" not in printed
    assert "runstate" not in printed
    assert define("domain-dropped-content").format() == printed


@pytest.mark.parametrize("name", NAMES)
def test_defined_domain_prints_its_inactive_form_either_way(name: str) -> None:
    assert golden(name) == golden(name, inactive=True)
