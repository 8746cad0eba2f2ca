"""Live differential tests: the recorded libvirt behaviour still holds, and virtcore matches it.

The system interpreter runs tests/data/xml/libvirt_oracle.py against real
libvirt 9.0 (python3-libvirt, test:///default) once per kind of check:

* every golden document is defined again; libvirt's output must equal the
  golden file and virtcore's formatting of the same input;
* every malformed document of ``syntax_cases`` is defined; libvirt's message
  must equal the recorded one, which virtcore reproduces (test_parse.py);
* every ``<memory>`` of ``unit_cases`` and every invalid document of
  ``schema_cases`` likewise.

python3-libvirt must be importable by ``/usr/bin/python3``; without it these
tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1`` is set, which skips them.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.xml.oracle_support import oracle_json
from tests.xml.schema_cases import SCHEMA_CASES, SchemaCase
from tests.xml.syntax_cases import SYNTAX_CASES, SyntaxCase
from tests.xml.unit_cases import UNIT_CASES, UnitCase, memory_document
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml.format import format_xml
from virtcore.xml.parse import parse_document

ORACLE = Path(__file__).parent.parent / "data" / "xml" / "libvirt_oracle.py"
GOLDEN = Path(__file__).parent.parent / "data" / "xml" / "format"
SAFETY_TIMEOUT = 120.0
MEMORY = re.compile(r"<memory unit='KiB'>(\d+)</memory>")


def _oracle(*args: str, stdin: str | None = None) -> Any:
    return oracle_json(ORACLE, *args, stdin=stdin, timeout=SAFETY_TIMEOUT)


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return dict(_oracle("dump", str(GOLDEN)))


@pytest.fixture(scope="module")
def syntax_outcomes() -> dict[str, dict[str, Any]]:
    cases = [
        {"op": "define_bytes", "xml": base64.b64encode(c.document).decode()}
        if isinstance(c.document, bytes)
        else {"op": "define", "xml": c.document}
        for c in SYNTAX_CASES
    ]
    outcomes = _oracle("errors", stdin=json.dumps(cases))
    return {c.name: o for c, o in zip(SYNTAX_CASES, outcomes, strict=True)}


@pytest.fixture(scope="module")
def unit_outcomes() -> list[dict[str, Any]]:
    cases = [{"op": "define", "xml": memory_document(c)} for c in UNIT_CASES]
    return list(_oracle("errors", stdin=json.dumps(cases)))


@pytest.fixture(scope="module")
def schema_outcomes() -> dict[str, dict[str, Any]]:
    cases = [{"op": c.op, "xml": c.document} for c in SCHEMA_CASES]
    outcomes = _oracle("errors", stdin=json.dumps(cases))
    return {c.name: o for c, o in zip(SCHEMA_CASES, outcomes, strict=True)}


MANIFEST: dict[str, str] = json.loads((GOLDEN / "manifest.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_libvirt_still_writes_the_golden_file(dumps: dict[str, str], name: str) -> None:
    assert dumps[name] == (GOLDEN / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_virtcore_formats_like_live_libvirt(dumps: dict[str, str], name: str) -> None:
    source = GOLDEN / f"{name}.input.xml"
    text = source.read_text() if source.exists() else dumps[name]
    assert format_xml(parse_document(text)) == dumps[name]


@pytest.mark.parametrize("case", SYNTAX_CASES, ids=[c.name for c in SYNTAX_CASES])
def test_libvirt_reports_the_recorded_syntax_error(
    syntax_outcomes: dict[str, dict[str, Any]], case: SyntaxCase
) -> None:
    outcome = syntax_outcomes[case.name]
    assert not outcome["ok"]
    assert (outcome["code"], outcome["domain"]) == (ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN)
    if isinstance(case.message, bytes):
        assert base64.b64decode(outcome["message_b64"]) == case.message
    else:
        assert outcome["message"] == case.message


@pytest.mark.parametrize("index", range(len(UNIT_CASES)))
def test_libvirt_reads_memory_as_recorded(unit_outcomes: list[dict[str, Any]], index: int) -> None:
    case: UnitCase = UNIT_CASES[index]
    outcome = unit_outcomes[index]
    if case.error is None:
        assert outcome["ok"], outcome
        found = MEMORY.search(outcome["xml"])
        assert found is not None
        assert int(found.group(1)) == case.kib
    else:
        assert not outcome["ok"]
        assert (outcome["code"], outcome["domain"], outcome["message"]) == case.error


@pytest.mark.parametrize("case", SCHEMA_CASES, ids=[c.name for c in SCHEMA_CASES])
def test_libvirt_reports_the_recorded_schema_error(
    schema_outcomes: dict[str, dict[str, Any]], case: SchemaCase
) -> None:
    outcome = schema_outcomes[case.name]
    assert (outcome["code"], outcome["domain"]) == (ErrorNumber.XML_INVALID_SCHEMA, ErrorDomain.XML)
    assert outcome["message"] == case.message
